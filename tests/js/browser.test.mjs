// The shared cases and the remote-JWKS scenarios in headless Chromium, against
// pkg/web/index.js loaded as an ES module by a test page. One local server
// serves the page, pkg/ and the JWKS endpoints (same origin, so no CORS).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commonJsAsEsModule, launchChromium } from './support/chromium.mjs';
import { createFixtures } from './fixtures.mjs';
import { startServer } from './support/http-server.mjs';
import { createJwksEndpoints } from './support/jwks-endpoints.mjs';
import { ASSERT_FILE, CASES_FILE, HARNESS_FILE, PKG_DIR } from './support/paths.mjs';
import { registerRemoteScenarios } from './support/remote-scenarios.mjs';
import { caseNames, registerCases } from './support/run-cases.mjs';

const CONTENT_TYPES = { '.wasm': 'application/wasm', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.html': 'text/html' };

const TEST_PAGE = `<!doctype html>
<meta charset="utf-8">
<title>miniauth tests</title>
<link rel="icon" href="data:,">
<script type="module" src="/test/page.js"></script>
`;

// Imports the package the way an application would, checks that a call made
// before \`ready\` is refused, then exposes the harness and remote driver.
const PAGE_MODULE = `import * as miniauth from '/pkg/web/index.js';
import cases from '/test/cases.js';
import assert from '/test/assert.js';
import harness from '/test/harness.js';

try {
  let notReadyCode = null;
  try {
    miniauth.decodeJwt('e30.e30.');
  } catch (error) {
    notReadyCode = error.code;
  }
  const fixtures = await (await fetch('/test/fixtures.json')).json();
  await miniauth.ready;
  window.miniauthTest = {
    notReadyCode,
    harness: harness.createHarness(cases, assert, miniauth, fixtures),
    remote: harness.createRemoteDriver(miniauth),
  };
} catch (error) {
  window.miniauthTest = { loadError: String(error && error.stack) };
}
`;

// The package served from /moved/ without its module, which is at
// /assets/miniauth.wasm instead (as a bundler that renames assets leaves it):
// on its own the load fails; named with init() right after the import, it works.
const MOVED_PAGE = (named) => `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<script type="module">
import * as miniauth from '/moved/web/index.js';
${named ? "miniauth.init({ wasmPath: '/assets/miniauth.wasm' });" : ''}
window.moved = await miniauth.ready.then(
  () => ({ sub: miniauth.decodeJwt('e30.eyJzdWIiOiJtb3ZlZCJ9.').sub }),
  (error) => {
    let later;
    try {
      miniauth.decodeJwt('e30.e30.');
    } catch (thrown) {
      later = thrown.code;
    }
    return { code: error.code, message: error.message, later };
  },
);
</script>
`;

const fixtures = await createFixtures();
const endpoints = createJwksEndpoints();
const served = [];

function serve(req, res) {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
  served.push(pathname);
  if (endpoints.handle(req, res)) return;
  const send = (type, body) => res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  const generated = {
    '/': () => send(CONTENT_TYPES['.html'], TEST_PAGE),
    '/test/page.js': () => send(CONTENT_TYPES['.js'], PAGE_MODULE),
    '/test/cases.js': () => send(CONTENT_TYPES['.js'], commonJsAsEsModule(CASES_FILE)),
    '/test/assert.js': () => send(CONTENT_TYPES['.js'], commonJsAsEsModule(ASSERT_FILE)),
    '/test/harness.js': () => send(CONTENT_TYPES['.js'], commonJsAsEsModule(HARNESS_FILE)),
    '/test/fixtures.json': () => send(CONTENT_TYPES['.json'], JSON.stringify(fixtures)),
    '/moved.html': () => send(CONTENT_TYPES['.html'], MOVED_PAGE(false)),
    '/moved-named.html': () => send(CONTENT_TYPES['.html'], MOVED_PAGE(true)),
    '/assets/miniauth.wasm': () => send(CONTENT_TYPES['.wasm'], readFileSync(join(PKG_DIR, 'miniauth_bg.wasm'))),
  };
  if (generated[pathname]) return generated[pathname]();
  const prefix = ['/pkg/', '/moved/'].find((p) => pathname.startsWith(p));
  if (prefix && !(prefix === '/moved/' && pathname.endsWith('.wasm'))) {
    const file = normalize(join(PKG_DIR, decodeURIComponent(pathname.slice(prefix.length))));
    const type = CONTENT_TYPES[extname(file)];
    if (file.startsWith(PKG_DIR + sep) && type) {
      let body;
      try {
        body = readFileSync(file);
      } catch {
        body = null;
      }
      if (body) return send(type, body);
    }
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
}

let server;
let browser;
let page;
const pageErrors = [];
const consoleMessages = [];

before(async () => {
  server = await startServer(serve);
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(String(error && error.stack)));
  page.on('console', (message) => consoleMessages.push({ type: message.type(), text: message.text() }));
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => window.miniauthTest !== undefined, null, { timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Calls a method of the page's window.miniauthTest[object] with JSON-serialisable arguments. */
function callInPage(object, method, ...args) {
  return page.evaluate(([o, m, a]) => window.miniauthTest[o][m](...a), [object, method, args]);
}

describe('Chromium (pkg/web/index.js)', () => {
  test('the page loaded the package, and a call before ready was refused', async () => {
    const state = await page.evaluate(() => ({ loadError: window.miniauthTest.loadError, notReadyCode: window.miniauthTest.notReadyCode }));
    assert.equal(state.loadError, undefined, state.loadError);
    assert.equal(state.notReadyCode, 'ERR_NOT_READY');
    assert.equal(served.filter((path) => path === '/pkg/miniauth_bg.wasm').length, 1, 'the module was fetched once, from beside the package');
    // A wrong MIME type would show as wasm-bindgen's instantiateStreaming fallback warning.
    assert.deepEqual(consoleMessages.filter(({ type }) => type === 'error' || type === 'warning'), []);
  });

  test('the page loaded every shared case', async () => {
    assert.deepEqual(await callInPage('harness', 'names'), caseNames);
  });

  registerCases(() => (name) => callInPage('harness', 'run', name));
});

describe('Chromium: a module served somewhere else', () => {
  /** What the page at `path` found: the load's failure, or a token decoded once ready. */
  async function moved(path) {
    const other = await browser.newPage();
    try {
      await other.goto(`${server.url}${path}`);
      await other.waitForFunction(() => window.moved !== undefined, null, { timeout: 30_000 });
      return await other.evaluate(() => window.moved);
    } finally {
      await other.close();
    }
  }

  test('not found beside the package: ready and every later call say ERR_LOAD_FAILED with the URL tried', async () => {
    const state = await moved('/moved.html');
    assert.equal(state.code, 'ERR_LOAD_FAILED', state.message);
    assert.ok(state.message.includes(`${server.url}/moved/miniauth_bg.wasm`), state.message);
    assert.ok(state.message.includes('init({ wasmPath'), state.message);
    assert.equal(state.later, 'ERR_LOAD_FAILED');
  });

  test('named with init({ wasmPath }) right after the import, it loads from there', async () => {
    assert.deepEqual(await moved('/moved-named.html'), { sub: 'moved' });
  });
});

describe('remote JWKS in Chromium (fetch, same origin)', () => {
  const driver = {
    create: (url, options) => callInPage('remote', 'create', url, options),
    verifyAll: (handle, tokens, options) => callInPage('remote', 'verifyAll', handle, tokens, options),
  };
  registerRemoteScenarios(() => ({ driver, serverUrl: server.url, endpoints, fixtures }));
});

describe('Chromium page health', () => {
  test('no uncaught exception in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
