// The Node entry's choice of backend (js/node/backend.js): the native addon
// when it is there and loads, the WebAssembly module otherwise, and
// MINIAUTH_BACKEND to force one. Each case runs a fresh process, on the
// built package or on a copy of it with the addon removed or broken.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createFixtures } from './fixtures.mjs';
import { PKG_DIR } from './support/paths.mjs';

const run = promisify(execFile);
const fixtures = await createFixtures();
const addons = readdirSync(PKG_DIR).filter((file) => /^miniauth\..+\.node$/.test(file));

/**
 * Loads the package at `pkgDir` in a fresh process with `backend` as
 * MINIAUTH_BACKEND (undefined: unset) and verifies an RS256 token; `prelude`
 * runs first. Resolves to { backend, sub } or { code, message } when loading fails.
 */
async function load(pkgDir, backend, prelude = '') {
  const script = `${prelude}
    let m;
    try { m = require(${JSON.stringify(join(pkgDir, 'node', 'index.cjs'))}); }
    catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message })); process.exit(0); }
    const { claims } = m.createVerifier({ key: ${JSON.stringify(fixtures.keys.RS256.publicJwk)}, currentDate: new Date(${fixtures.now}) })
      .verify(${JSON.stringify(fixtures.tokens.valid.RS256)});
    console.log(JSON.stringify({ backend: m.backend, sub: claims.sub }));`;
  const env = { ...process.env };
  if (backend === undefined) delete env.MINIAUTH_BACKEND;
  else env.MINIAUTH_BACKEND = backend;
  const { stdout } = await run(process.execPath, ['-e', script], { env });
  return JSON.parse(stdout);
}

describe('the Node backend', () => {
  let scratch;
  let withoutAddon;
  let brokenAddon;

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'miniauth-backend-'));
    withoutAddon = join(scratch, 'without-addon');
    brokenAddon = join(scratch, 'broken-addon');
    for (const dir of [withoutAddon, brokenAddon]) {
      cpSync(PKG_DIR, dir, { recursive: true, filter: (source) => !source.endsWith('.node') });
    }
    for (const addon of addons) writeFileSync(join(brokenAddon, addon), 'not a shared library');
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('make pkg puts the addon for this machine beside the module', () => {
    assert.equal(addons.length, 1, `one addon in pkg/ (found ${addons.join(', ') || 'none'})`);
  });

  test('the addon is preferred when it loads', async () => {
    assert.deepEqual(await load(PKG_DIR, undefined), { backend: 'native', sub: fixtures.claims.sub });
    assert.deepEqual(await load(PKG_DIR, 'native'), { backend: 'native', sub: fixtures.claims.sub });
  });

  test('MINIAUTH_BACKEND=wasm runs the module even where the addon loads', async () => {
    assert.deepEqual(await load(PKG_DIR, 'wasm'), { backend: 'wasm', sub: fixtures.claims.sub });
  });

  test('an empty MINIAUTH_BACKEND means no preference', async () => {
    assert.equal((await load(PKG_DIR, '')).backend, 'native');
  });

  test('without an addon the module runs, unless native is required', async () => {
    assert.deepEqual(await load(withoutAddon, undefined), { backend: 'wasm', sub: fixtures.claims.sub });
    const refused = await load(withoutAddon, 'native');
    assert.equal(refused.code, 'ERR_NOT_SUPPORTED');
    assert.match(refused.message, /^MINIAUTH_BACKEND=native, but no native addon loads on linux-x64 \(no package miniauth-linux-x64-gnu/);
  });

  test('a broken addon falls back to the module, or is an error that says why', async () => {
    assert.equal((await load(brokenAddon, undefined)).backend, 'wasm');
    const refused = await load(brokenAddon, 'native');
    assert.equal(refused.code, 'ERR_NOT_SUPPORTED');
    assert.match(refused.message, /miniauth\.linux-x64-gnu\.node failed to load: .*(invalid ELF header|too short)/);
  });

  test('on a platform the addon was not built for, the module runs', async () => {
    const otherArch = `Object.defineProperty(process, 'arch', { value: ${JSON.stringify(process.arch === 'arm64' ? 'x64' : 'arm64')} });`;
    assert.deepEqual(await load(PKG_DIR, undefined, otherArch), { backend: 'wasm', sub: fixtures.claims.sub });
  });

  test('another MINIAUTH_BACKEND value is ERR_INVALID_ARGUMENT', async () => {
    const refused = await load(PKG_DIR, 'fast');
    assert.equal(refused.code, 'ERR_INVALID_ARGUMENT');
    assert.equal(refused.message, 'MINIAUTH_BACKEND must be "native" or "wasm", not "fast"');
  });
});
