// createRemoteJwks against JWKS endpoints on a local server: in Node (fetch)
// and in the Mini Program simulator (wx.request over real HTTP). The
// browser runs the same scenarios in browser.test.mjs.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { createFixtures } from './fixtures.mjs';
import { startServer } from './support/http-server.mjs';
import { createJwksEndpoints } from './support/jwks-endpoints.mjs';
import { startMiniProgram } from './support/miniprogram.mjs';
import { HARNESS_FILE, PKG_DIR } from './support/paths.mjs';
import { registerRemoteScenarios } from './support/remote-scenarios.mjs';

const require = createRequire(import.meta.url);
const { createRemoteDriver } = require(HARNESS_FILE);

const fixtures = await createFixtures();
const endpoints = createJwksEndpoints();
let server;

before(async () => {
  server = await startServer((req, res) => {
    if (!endpoints.handle(req, res)) res.writeHead(404).end();
  });
});

after(() => server?.close());

describe('remote JWKS in Node (pkg/node/index.cjs)', () => {
  const driver = createRemoteDriver(require(join(PKG_DIR, 'node', 'index.cjs')));
  registerRemoteScenarios(() => ({ driver, serverUrl: server.url, endpoints, fixtures }));
});

describe('remote JWKS in the Mini Program simulator (wx.request)', () => {
  let miniProgram;

  before(async () => {
    miniProgram = await startMiniProgram(fixtures);
  });

  after(() => miniProgram?.dispose());

  registerRemoteScenarios(() => ({ driver: miniProgram.entry.remote, serverUrl: server.url, endpoints, fixtures }));
});
