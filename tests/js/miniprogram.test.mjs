// The shared cases in the Mini Program simulator (WeChat and Douyin), against
// pkg/miniprogram_dist laid out as "Build npm" lays it out, plus what only
// Mini Programs need: the module comes from the .wasm.br through
// WXWebAssembly, and the bundle leans on none of the globals they lack.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { brotliDecompressSync } from 'node:zlib';
import { createFixtures } from './fixtures.mjs';
import { findMissingGlobals } from './support/bundle-globals.mjs';
import { MiniProgramSim, WASM_PATH, buildCodePackage, startMiniProgram } from './support/miniprogram.mjs';
import { PKG_DIR } from './support/paths.mjs';
import { caseNames, registerCases } from './support/run-cases.mjs';

const fixtures = await createFixtures();
const BUNDLE_FILE = join(PKG_DIR, 'miniprogram_dist', 'index.js');

for (const host of ['wechat', 'douyin']) describe(`Mini Program (simulator, ${host}, miniprogram_npm/miniauth)`, () => {
  let miniProgram;

  before(async () => {
    miniProgram = await startMiniProgram(fixtures, { host });
  });

  after(() => miniProgram?.dispose());

  test(`the module was instantiated once, from the .wasm.br, through ${host === 'wechat' ? 'WXWebAssembly' : 'TTWebAssembly'}`, () => {
    assert.deepEqual(miniProgram.instantiated, [WASM_PATH]);
    // There is no other way in: the sandbox has no WebAssembly global.
    assert.equal(miniProgram.sim.evaluate('typeof WebAssembly'), 'undefined');
    const shipped = brotliDecompressSync(readFileSync(join(PKG_DIR, 'miniprogram_dist', 'miniauth.wasm.br')));
    assert.ok(shipped.equals(readFileSync(join(PKG_DIR, 'miniauth_bg.wasm'))), 'the .wasm.br is the same module as miniauth_bg.wasm');
  });

  test('the sandbox loaded every shared case', () => {
    assert.deepEqual([...miniProgram.entry.harness.names()], caseNames);
  });

  registerCases(() => miniProgram.entry.harness.run);
});

describe('Mini Program before ready', () => {
  let sim;
  let root;

  after(() => {
    sim?.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('a synchronous call before ready throws ERR_NOT_READY, and works once ready', async () => {
    root = buildCodePackage(fixtures);
    sim = new MiniProgramSim({ root });
    const miniauth = sim.require('miniauth');
    for (const call of [() => miniauth.decodeJwt(fixtures.tokens.valid.ES256), () => miniauth.createVerifier({ key: fixtures.keys.ES256.publicJwk })]) {
      assert.throws(call, (error) => error instanceof miniauth.MiniAuthError && error.code === 'ERR_NOT_READY');
    }
    await miniauth.ready;
    assert.equal(miniauth.decodeJwt(fixtures.tokens.valid.ES256).sub, fixtures.subject);
  });
});

describe('Mini Program: where the module is, and a load that fails', () => {
  const SUB_PATH = '/sub/miniprogram_npm/miniauth/miniauth.wasm.br';
  const made = [];

  /** A code package with the package built into a subpackage's npm, and sub/entry.js running `entry` there. */
  function subpackage(entry) {
    const root = mkdtempSync(join(tmpdir(), 'miniauth-subpackage-'));
    cpSync(join(PKG_DIR, 'miniprogram_dist'), join(root, 'sub', 'miniprogram_npm', 'miniauth'), { recursive: true });
    writeFileSync(join(root, 'app.js'), 'App({});\n');
    writeFileSync(join(root, 'sub', 'entry.js'), `'use strict';\nvar miniauth = require('miniauth');\n${entry}\nmodule.exports = miniauth;\n`);
    const sim = new MiniProgramSim({ root });
    made.push({ sim, root });
    return sim;
  }

  const failedWith = (code, ...parts) => (error) => {
    assert.equal(error.code, code, error.message);
    for (const part of parts) assert.ok(error.message.includes(part), `${error.message} names ${part}`);
    return true;
  };

  after(() => {
    for (const { sim, root } of made) {
      sim.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('not where the npm build usually puts it: ready, every later call and the client report the load and its path', async () => {
    const miniauth = subpackage('').require('sub/entry.js');
    await assert.rejects(miniauth.ready, failedWith('ERR_LOAD_FAILED', WASM_PATH, 'init({ wasmPath })'));
    assert.throws(() => miniauth.decodeJwt(fixtures.tokens.valid.ES256), failedWith('ERR_LOAD_FAILED', WASM_PATH));
    assert.throws(() => miniauth.createVerifier({ key: fixtures.keys.ES256.publicJwk }), failedWith('ERR_LOAD_FAILED', WASM_PATH));
    const auth = new miniauth.AuthClient({ baseUrl: 'https://id.example.com' });
    await assert.rejects(auth.getIdToken(), failedWith('ERR_LOAD_FAILED', WASM_PATH));
    assert.throws(() => miniauth.init({ wasmPath: SUB_PATH }), failedWith('ERR_INVALID_ARGUMENT', 'loading already'));
  });

  test('init({ wasmPath }) right after require loads it from there', async () => {
    const sim = subpackage(`miniauth.init({ wasmPath: '${SUB_PATH}' });`);
    const miniauth = sim.require('sub/entry.js');
    await miniauth.ready;
    assert.equal(miniauth.decodeJwt(fixtures.tokens.valid.ES256).sub, fixtures.subject);
    assert.equal(await miniauth.init(), undefined, 'init() without a path answers ready');
  });

  test('init refuses a path WXWebAssembly cannot load', () => {
    const miniauth = subpackage('').require('sub/entry.js');
    for (const wasmPath of ['', '/sub/miniauth.js', 42]) {
      assert.throws(() => miniauth.init({ wasmPath }), failedWith('ERR_INVALID_ARGUMENT', 'wasmPath'), String(wasmPath));
    }
    return assert.rejects(miniauth.ready, failedWith('ERR_LOAD_FAILED'));
  });

  for (const [host, webAssembly, baseLibrary] of [['wechat', 'WXWebAssembly', '2.14.0'], ['douyin', 'TTWebAssembly', '2.92.0.0']]) {
    test(`without ${webAssembly} (an old ${host} base library) the package loads, and ready names the base library needed`, async () => {
      const root = buildCodePackage(fixtures);
      const sim = new MiniProgramSim({ root, host });
      made.push({ sim, root });
      delete sim.global[webAssembly];
      const miniauth = sim.require('miniauth');
      await assert.rejects(miniauth.ready, failedWith('ERR_NOT_SUPPORTED', webAssembly, baseLibrary));
      assert.throws(() => miniauth.decodeJwt(fixtures.tokens.valid.ES256), failedWith('ERR_NOT_SUPPORTED', baseLibrary));
    });
  }
});

describe('pkg/miniprogram_dist/index.js', () => {
  test('uses no TextEncoder, TextDecoder, fetch or WebAssembly global on any path it runs', () => {
    assert.deepEqual(findMissingGlobals(readFileSync(BUNDLE_FILE, 'utf8')), []);
  });
});
