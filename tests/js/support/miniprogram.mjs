// A Mini Program code package holding the built package and the shared
// cases, run in the simulator (tests/miniprogram-sim/).

import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ASSERT_FILE, CASES_FILE, HARNESS_FILE, PKG_DIR, SIMULATOR_FILE } from './paths.mjs';

/** Where the Mini Program entry loads the module from (js/miniprogram/index.js WASM_PATH). */
export const WASM_PATH = '/miniprogram_npm/miniauth/miniauth.wasm.br';

// The simulator is CommonJS (its folder's package.json says so).
export const { MiniProgramSim } = createRequire(import.meta.url)(SIMULATOR_FILE);

/**
 * Per host: the code its login API answers for a user (from the reference
 * server's simulator), the AuthClient method that signs in with it, and the
 * amr that sign-in gives.
 */
export const HOST_SIGN_IN = {
  wechat: { code: (server, openid) => server.wxLoginCode(openid), method: 'loginWithWechat', amr: ['wechat'] },
  douyin: { code: (server, openid) => server.ttLoginCode(openid), method: 'loginWithDouyin', amr: ['douyin'] },
};

// The code package's test entry: the shared cases, the remote-JWKS driver
// and the client driver against require('miniauth'), as a Mini Program page
// would use it.
const TEST_ENTRY = `'use strict';
var miniauth = require('miniauth');
var harness = require('./harness.js');
module.exports = {
  miniauth: miniauth,
  harness: harness.createHarness(require('./cases.js'), require('./assert.js'), miniauth, require('./fixtures.js')),
  remote: harness.createRemoteDriver(miniauth),
  clientDriver: function (host) {
    return harness.createClientDriver(miniauth, host);
  },
};
`;

/**
 * Lays out a code package in a new temporary folder as WeChat DevTools'
 * "Build npm" would, plus test/ with the shared cases over `fixtures` ({}
 * where only the client driver is used); returns the folder.
 */
export function buildCodePackage(fixtures) {
  const root = mkdtempSync(join(tmpdir(), 'miniauth-miniprogram-'));
  cpSync(join(PKG_DIR, 'miniprogram_dist'), join(root, 'miniprogram_npm', 'miniauth'), { recursive: true });
  const testDir = join(root, 'test');
  mkdirSync(testDir);
  // The simulator loads only .js files, so the .cjs sources are copied under .js names.
  cpSync(CASES_FILE, join(testDir, 'cases.js'));
  cpSync(ASSERT_FILE, join(testDir, 'assert.js'));
  cpSync(HARNESS_FILE, join(testDir, 'harness.js'));
  writeFileSync(join(testDir, 'fixtures.js'), `module.exports = ${JSON.stringify(fixtures)};\n`);
  writeFileSync(join(testDir, 'index.js'), TEST_ENTRY);
  writeFileSync(join(root, 'app.js'), 'App({});\n');
  writeFileSync(join(root, 'app.json'), JSON.stringify({ pages: [] }));
  return root;
}

/**
 * Starts a simulator of `host` (WeChat by default) on a fresh code package
 * and loads the test entry. Resolves once miniauth's `ready` has;
 * `instantiated` lists every path given to the host's WebAssembly.instantiate.
 */
export async function startMiniProgram(fixtures, { host = 'wechat' } = {}) {
  const root = buildCodePackage(fixtures);
  const sim = new MiniProgramSim({ root, host });
  const instantiated = [];
  const webAssembly = sim.global[sim.host.wasm];
  const instantiate = webAssembly.instantiate;
  webAssembly.instantiate = (path, imports) => {
    instantiated.push(path);
    return instantiate(path, imports);
  };
  const dispose = () => {
    sim.dispose();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const entry = sim.require('test/index.js');
    await entry.miniauth.ready;
    return { root, sim, entry, instantiated, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}
