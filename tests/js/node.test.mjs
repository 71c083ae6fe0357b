// The shared cases against the built package in Node, through both entry
// points (require and import), then the package as npm would ship it: the
// packed tarball installed into a scratch project, and its package.json.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createFixtures } from './fixtures.mjs';
import { ASSERT_FILE, CASES_FILE, HARNESS_FILE, PKG_DIR } from './support/paths.mjs';
import { registerCases } from './support/run-cases.mjs';

const require = createRequire(import.meta.url);
const run = promisify(execFile);
const { createHarness } = require(HARNESS_FILE);

const fixtures = await createFixtures();
const fromRequire = require(join(PKG_DIR, 'node', 'index.cjs'));
const fromImport = await import(join(PKG_DIR, 'node', 'index.mjs'));

describe('require("miniauth") (pkg/node/index.cjs)', () => {
  const harness = createHarness(require(CASES_FILE), require(ASSERT_FILE), fromRequire, fixtures);
  registerCases(() => harness.run);
});

describe('import("miniauth") (pkg/node/index.mjs)', () => {
  const harness = createHarness(require(CASES_FILE), require(ASSERT_FILE), fromImport, fixtures);
  registerCases(() => harness.run);
});

describe('require and import in one process', () => {
  test('share one module instance', () => {
    assert.equal(fromImport.default, fromRequire);
    for (const name of ['createVerifier', 'createRemoteJwks', 'jwtVerify', 'decodeJwt', 'decodeProtectedHeader', 'ready', 'init', 'backend']) {
      assert.equal(fromImport[name], fromRequire[name], name);
    }
  });

  test('init() answers ready; a wasmPath is refused, the module being loaded at require time', async () => {
    assert.equal(fromRequire.init(), fromRequire.ready);
    await fromImport.init();
    assert.throws(() => fromRequire.init({ wasmPath: '/x/miniauth_bg.wasm' }), { code: 'ERR_NOT_SUPPORTED' });
  });

  test('share one MiniAuthError class: an error from one is an instance of the other', () => {
    assert.equal(fromImport.MiniAuthError, fromRequire.MiniAuthError);
    const verifier = fromImport.createVerifier({ key: fixtures.keys.ES256.publicJwk, currentDate: new Date(fixtures.now) });
    assert.throws(() => verifier.verify(fixtures.tokens.expired), (error) => {
      assert.ok(error instanceof fromRequire.MiniAuthError);
      assert.equal(error.code, 'ERR_JWT_EXPIRED');
      return true;
    });
  });
});

describe('synchronous use in Node', () => {
  // The design promises that Node's entries instantiate the module while
  // loading, so the first call can come right after require() in a fresh
  // process, with no await.
  test('a fresh process verifies right after require(), before any microtask', async () => {
    const script = `
      const m = require(${JSON.stringify(join(PKG_DIR, 'node', 'index.cjs'))});
      const { claims } = m.createVerifier({ key: ${JSON.stringify(fixtures.keys.ES256.publicJwk)}, currentDate: new Date(${fixtures.now}) })
        .verify(${JSON.stringify(fixtures.tokens.valid.ES256)});
      process.stdout.write(claims.sub);`;
    const { stdout } = await run(process.execPath, ['-e', script]);
    assert.equal(stdout, fixtures.claims.sub);
  });
});

describe('the package as npm ships it', () => {
  const manifest = JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8'));
  let workDir;
  let packed;

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'miniauth-pack-'));
    // A private npm cache: nothing is read from or written to the user's.
    const npmEnv = { ...process.env, npm_config_cache: join(workDir, 'npm-cache'), npm_config_update_notifier: 'false' };
    const { stdout } = await run('npm', ['pack', PKG_DIR, '--pack-destination', workDir, '--json', '--ignore-scripts'], {
      cwd: workDir,
      env: npmEnv,
    });
    [packed] = JSON.parse(stdout);
    const project = join(workDir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true }));
    // The tarball has no dependencies, so an offline install needs nothing but the tarball.
    await run('npm', ['install', join(workDir, packed.filename), '--no-audit', '--no-fund', '--offline', '--ignore-scripts'], {
      cwd: project,
      env: npmEnv,
    });
  });

  after(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  test('the tarball holds every entry point', () => {
    const files = new Set(packed.files.map((file) => file.path));
    const addons = readdirSync(PKG_DIR).filter((file) => /^miniauth\..+\.node$/.test(file));
    assert.equal(addons.length, 1, 'pkg/ holds the addon for this machine');
    for (const path of ['package.json', 'miniauth_bg.wasm', ...addons, 'node/index.cjs', 'node/index.mjs', 'web/index.js', 'miniprogram_dist/index.js', 'miniprogram_dist/miniauth.wasm.br']) {
      assert.ok(files.has(path), `${path} is in the tarball (it holds ${[...files].join(', ')})`);
    }
  });

  test('installed, it verifies a token through require and import in a fresh process', async () => {
    const project = join(workDir, 'project');
    const script = join(project, 'verify.mjs');
    writeFileSync(
      script,
      `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { token, key, now } = JSON.parse(process.argv[2]);
const cjs = require('miniauth');
const esm = await import('miniauth');
const verify = (m) => m.createVerifier({ key, currentDate: new Date(now) }).verify(token).claims;
let code;
try { esm.createVerifier({ key, currentDate: new Date(now + 864e5) }).verify(token); } catch (e) { code = e instanceof cjs.MiniAuthError && e.code; }
console.log(JSON.stringify({
  backends: [cjs.backend, esm.backend],
  required: require.resolve('miniauth'),
  imported: import.meta.resolve('miniauth'),
  cjsClaims: verify(cjs),
  esmClaims: verify(esm),
  sameClass: esm.MiniAuthError === cjs.MiniAuthError,
  code,
}));
`,
    );
    const input = JSON.stringify({ token: fixtures.tokens.valid.RS256, key: fixtures.keys.RS256.publicJwk, now: fixtures.now });
    const { stdout } = await run(process.execPath, [script, input], { cwd: project });
    const result = JSON.parse(stdout);
    const expected = process.env.MINIAUTH_BACKEND || 'native';
    assert.deepEqual(result.backends, [expected, expected], `the installed package runs on ${expected}`);
    const installed = join(project, 'node_modules', 'miniauth');
    assert.equal(result.required, join(installed, 'node', 'index.cjs'));
    assert.equal(result.imported, `file://${join(installed, 'node', 'index.mjs')}`);
    assert.deepEqual(result.cjsClaims, fixtures.claims);
    assert.deepEqual(result.esmClaims, fixtures.claims);
    assert.equal(result.sameClass, true);
    assert.equal(result.code, 'ERR_JWT_EXPIRED');
  });

  test('package.json: main, module, browser and exports name files that exist', () => {
    const exported = manifest.exports['.'];
    const paths = [manifest.main, manifest.module, manifest.browser, exported.node.import, exported.node.require, exported.browser, exported.default];
    for (const path of [...paths, manifest.exports['./miniauth_bg.wasm']]) {
      assert.ok(existsSync(join(PKG_DIR, path)), `${path} exists in pkg/`);
    }
  });

  test('package.json: the miniprogram field names a folder with the entry and the module it loads', () => {
    assert.equal(manifest.miniprogram, 'miniprogram_dist');
    const dist = join(PKG_DIR, manifest.miniprogram);
    assert.ok(existsSync(join(dist, 'index.js')), `${manifest.miniprogram}/index.js exists`);
    // The entry loads the module from where "Build npm" puts this folder.
    const wasmPaths = readFileSync(join(dist, 'index.js'), 'utf8').match(/\/miniprogram_npm\/miniauth\/[\w.-]+\.wasm(\.br)?/g);
    assert.ok(wasmPaths, 'the Mini Program entry names a module path');
    for (const wasmPath of new Set(wasmPaths)) {
      const file = wasmPath.replace('/miniprogram_npm/miniauth/', '');
      assert.ok(existsSync(join(dist, file)), `${wasmPath} is ${manifest.miniprogram}/${file}, which exists`);
      assert.ok(packed.files.some((entry) => entry.path === `${manifest.miniprogram}/${file}`), `${file} is in the tarball`);
    }
  });

  test('package.json: the type declarations it names exist (index.d.ts)', () => {
    assert.equal(manifest.types, './index.d.ts');
    assert.equal(manifest.exports['.'].types, './index.d.ts');
    assert.ok(existsSync(join(PKG_DIR, 'index.d.ts')), 'pkg/index.d.ts exists (written from pkg-template/index.d.ts)');
    assert.ok(packed.files.some((entry) => entry.path === 'index.d.ts'), 'index.d.ts is in the tarball');
  });
});
