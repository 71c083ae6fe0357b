// The shared cases in the WeChat Mini Program simulator, against
// pkg/miniprogram_dist laid out as "Build npm" lays it out, plus what only
// Mini Programs need: the module comes from the .wasm.br through
// WXWebAssembly, and the bundle leans on none of the globals they lack.

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
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

describe('Mini Program (simulator, miniprogram_npm/miniauth)', () => {
  let miniProgram;

  before(async () => {
    miniProgram = await startMiniProgram(fixtures);
  });

  after(() => miniProgram?.dispose());

  test('the module was instantiated once, from the .wasm.br, through WXWebAssembly', () => {
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

describe('pkg/miniprogram_dist/index.js', () => {
  test('uses no TextEncoder, TextDecoder, fetch or WebAssembly global on any path it runs', () => {
    assert.deepEqual(findMissingGlobals(readFileSync(BUNDLE_FILE, 'utf8')), []);
  });
});
