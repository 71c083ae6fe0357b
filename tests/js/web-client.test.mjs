// The web example (examples/web/) and the AuthClient of pkg/web/index.js in
// headless Chromium against the real reference server. A static server serves
// the example at / and pkg/ at /miniauth/ (as the example's README says); the
// identity server runs on another origin with `--cors-origins` set to it, so
// every call the page makes is a cross-origin one, as on a real site.
//
// First the page is driven as a person would (type an openid, click, read
// what it shows); then the shared client scenarios (client-cases.mjs) run
// through the Chromium adapter below, each app start a page of its own.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { registerClientCases } from './client-cases.mjs';
import { commonJsAsEsModule, launchChromium } from './support/chromium.mjs';
import { clientHandle, deviceTraffic, loginWithCode, movableClock, newPhone, startClientServers, unique } from './support/client-runtime.mjs';
import { startServer } from './support/http-server.mjs';
import { SIMULATOR_AUDIENCE, botsCommand } from './support/miniauth-server.mjs';
import { HARNESS_FILE, PKG_DIR, ROOT } from './support/paths.mjs';

const EXAMPLE_DIR = join(ROOT, 'examples', 'web');
const CONTENT_TYPES = { '.wasm': 'application/wasm', '.js': 'text/javascript', '.html': 'text/html; charset=utf-8', '.json': 'application/json', '.css': 'text/css' };
/** The AuthClient's storage key (the core names it). */
const STORAGE_KEY = 'miniauth.session';
const UI_TIMEOUT = 10_000;

// The page of the client scenarios: the package and the client driver, with
// the device's clock (its offset comes in the query and moves with the device).
const CLIENT_PAGE = `<!doctype html>
<meta charset="utf-8">
<title>miniauth client scenarios</title>
<link rel="icon" href="data:,">
<script type="module" src="/client-test.js"></script>
`;
const CLIENT_MODULE = `import * as miniauth from '/miniauth/web/index.js';
import harness from '/test/harness.js';

await miniauth.ready;
const clock = { offset: Number(new URLSearchParams(location.search).get('clock')) };
const driver = harness.createClientDriver(miniauth, { clientOptions: { now: () => Date.now() + clock.offset }, appApi: 'fetch' });
window.clientTest = { clock, driver };
`;

/** A file under `dir` for the URL path `rest`, or null (no escaping `dir`, known types only). */
function fileUnder(dir, rest) {
  const file = normalize(join(dir, decodeURIComponent(rest)));
  if (!file.startsWith(dir + sep) || !CONTENT_TYPES[extname(file)]) return null;
  try {
    return { body: readFileSync(file), type: CONTENT_TYPES[extname(file)] };
  } catch {
    return null;
  }
}

const GENERATED = {
  '/client-test.html': () => ({ body: CLIENT_PAGE, type: CONTENT_TYPES['.html'] }),
  '/client-test.js': () => ({ body: CLIENT_MODULE, type: CONTENT_TYPES['.js'] }),
  '/test/harness.js': () => ({ body: commonJsAsEsModule(HARNESS_FILE), type: CONTENT_TYPES['.js'] }),
};

const served = [];
function serveStatic(req, res) {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
  served.push(pathname);
  const found = Object.hasOwn(GENERATED, pathname)
    ? GENERATED[pathname]()
    : pathname === '/'
      ? fileUnder(EXAMPLE_DIR, 'index.html')
      : pathname.startsWith('/miniauth/')
        ? fileUnder(PKG_DIR, pathname.slice('/miniauth/'.length))
        : fileUnder(EXAMPLE_DIR, pathname.slice(1));
  if (!found) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  res.writeHead(200, { 'content-type': found.type, 'cache-control': 'no-store' }).end(found.body);
}

let workDir;
let site;
let servers;
let api;
let browser;
let botKey;
const pageErrors = [];
const consoleErrors = [];

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'miniauth-web-client-'));
  site = await startServer(serveStatic);
  servers = await startClientServers(workDir, ['--cors-origins', site.url]);
  api = servers.open;
  botKey = await botsCommand(join(workDir, 'open.db'), 'add', '--name', 'helper');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await site?.close();
  await servers?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** A page of the example in a fresh browser context (its own localStorage), pointed at the test's server. */
async function openExample() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(String(error && error.stack)));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(message.text());
  });
  await page.goto(`${site.url}/?server=${encodeURIComponent(api.url)}`);
  return { context, page };
}

/** Waits until the example shows `view` ('signed-out', 'bind' or 'signed-in'); fails early on an error it shows. */
async function waitForView(page, view) {
  await page.waitForFunction(
    (wanted) => document.body.dataset.view === wanted || !document.getElementById('error').hidden,
    view,
    { timeout: UI_TIMEOUT },
  );
  const error = await page.locator('#error').evaluate((el) => (el.hidden ? null : el.textContent));
  assert.equal(error, null, `the page shows an error while ${view} was expected`);
  assert.equal(await page.evaluate(() => document.body.dataset.view), view);
  for (const id of ['signed-out', 'bind', 'signed-in']) {
    assert.equal(await page.locator(`#${id}`).isVisible(), id === view, `#${id} is ${id === view ? 'hidden' : 'shown'}`);
  }
}

async function shownClaims(page) {
  return JSON.parse(await page.locator('#claims').textContent());
}

function storedRecord(page, key) {
  return page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? 'null'), key);
}

/** What the page shows as the chat challenge, sent to the bot by `contactId` as miniauth-wechaty would. */
async function sendShownChallenge(page, contactId) {
  await page.locator('#chat-challenge').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  const text = await page.locator('#challenge').textContent();
  assert.match(text, /^\d{6}$/);
  const response = await fetch(`${api.url}/v1/bot/challenges`, {
    method: 'POST',
    headers: { authorization: `Bearer ${botKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ contact_id: contactId, text }),
  });
  assert.deepEqual(await response.json(), { matched: true });
}

describe('the web example in Chromium, against the server on another origin', () => {
  test('chat sign-in: a new contact registers (and is linked), then signs in again as the same user', async () => {
    const { context, page } = await openExample();
    try {
      await waitForView(page, 'signed-out');
      const contactId = `wxid_web_${unique()}`;
      await page.locator('#chat-login').click();
      await sendShownChallenge(page, contactId);
      await waitForView(page, 'bind');
      assert.equal(await page.locator('#bind-status').textContent(), 'USER_REGISTER');
      assert.doesNotMatch(await page.locator('#flows').textContent(), /WeChat phone/);
      await page.locator('#register').click();
      await waitForView(page, 'signed-in');
      const claims = await shownClaims(page);
      assert.deepEqual(claims.amr, ['chat']);
      const profile = await fetch(`${api.url}/v1/bot/contacts/${contactId}`, { headers: { authorization: `Bearer ${botKey}` } });
      assert.equal((await profile.json()).sub, claims.sub, 'registering linked the contact');

      await page.locator('#logout').click();
      await waitForView(page, 'signed-out');
      await page.locator('#chat-login').click();
      await sendShownChallenge(page, contactId);
      await waitForView(page, 'signed-in');
      assert.equal((await shownClaims(page)).sub, claims.sub);
      assert.equal(await page.locator('#chat-challenge').isVisible(), false);
    } finally {
      await context.close();
    }
  });


  test('the server answers the page origin\'s CORS preflight', async () => {
    const response = await fetch(`${api.url}/v1/login/wechat`, {
      method: 'OPTIONS',
      headers: { origin: site.url, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.ok(response.status < 300, `preflight answered ${response.status}`);
    assert.equal(response.headers.get('access-control-allow-origin'), site.url);
    assert.notEqual(new URL(site.url).origin, new URL(api.url).origin);
  });

  test('log in, register, see the claims, log out, stay signed out after a reload, log in again', async () => {
    const { context, page } = await openExample();
    try {
      await waitForView(page, 'signed-out');
      assert.equal(await page.locator('#server').inputValue(), api.url);
      assert.ok(served.includes('/miniauth/web/index.js') && served.includes('/miniauth/miniauth_bg.wasm'), 'the package was loaded from ./miniauth/');

      const openid = `o_web_${unique()}`;
      await page.locator('#openid').fill(openid);
      await page.locator('#login').click();
      await waitForView(page, 'bind');
      assert.equal(await page.locator('#bind-status').textContent(), 'USER_REGISTER');
      assert.match(await page.locator('#flows').textContent(), /registering/);

      await page.locator('#register').click();
      await waitForView(page, 'signed-in');
      const claims = await shownClaims(page);
      assert.equal(typeof claims.sub, 'string');
      assert.ok(claims.sub.length > 0);
      assert.equal(await page.locator('#sub').textContent(), claims.sub);
      assert.equal(claims.iss, api.url);
      assert.equal(claims.aud, SIMULATOR_AUDIENCE);
      assert.match(await page.locator('#status').textContent(), new RegExp(`Signed in as ${claims.sub}`));

      // The id_token calls the API from the page (Authorization header, cross-origin).
      await page.locator('#userinfo').click();
      await page.locator('#userinfo-result').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      const userinfo = await page.locator('#userinfo-result').textContent();
      assert.match(userinfo, /^HTTP 200\n/);
      assert.equal(JSON.parse(userinfo.slice(userinfo.indexOf('\n') + 1)).sub, claims.sub);

      // "Refresh now" rotates the session_token kept in localStorage.
      const first = await storedRecord(page, STORAGE_KEY);
      assert.ok(first?.session_token);
      await page.locator('#refresh').click();
      await page.waitForFunction((old) => JSON.parse(localStorage.getItem('miniauth.session')).session_token !== old, first.session_token, { timeout: UI_TIMEOUT });
      await waitForView(page, 'signed-in');
      assert.equal((await shownClaims(page)).sub, claims.sub);

      // The session is in localStorage: a reload keeps it.
      await page.reload();
      await waitForView(page, 'signed-in');
      assert.equal((await shownClaims(page)).sub, claims.sub);

      await page.locator('#logout').click();
      await waitForView(page, 'signed-out');
      assert.equal(await storedRecord(page, STORAGE_KEY), null);
      await page.reload();
      await waitForView(page, 'signed-out');

      // The same WeChat user is bound now: SUCCESS straight away, the same user.
      await page.locator('#openid').fill(openid);
      // Every view the page shows from here on, in order, to tell a direct SUCCESS from a detour.
      await page.evaluate(() => {
        window.views = [];
        new MutationObserver(() => window.views.push(document.body.dataset.view)).observe(document.body, { attributes: true, attributeFilter: ['data-view'] });
      });
      await page.locator('#login').click();
      await waitForView(page, 'signed-in');
      assert.deepEqual(await page.evaluate(() => [...new Set(window.views)]), ['signed-in'], 'no bind step on the way');
      assert.equal((await shownClaims(page)).sub, claims.sub);
    } finally {
      await context.close();
    }
  });

  test('a new WeChat user binds a phone number with an SMS code in the page', async () => {
    const { context, page } = await openExample();
    try {
      await waitForView(page, 'signed-out');
      await page.locator('#openid').fill(`o_web_${unique()}`);
      await page.locator('#login').click();
      await waitForView(page, 'bind');

      const phone = newPhone();
      await page.locator('#channel').selectOption('sms');
      await page.locator('#to').fill(phone);
      await page.locator('#send-code').click();
      await page.locator('#code-sent').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      await waitForView(page, 'bind');
      assert.equal(await page.locator('#code-sent a').getAttribute('href'), `${api.url}/sim/outbox?to=${phone}`);

      await page.locator('#code').fill(await api.lastCodeSentTo(phone));
      await page.locator('#bind-code').click();
      await waitForView(page, 'signed-in');
      assert.equal((await shownClaims(page)).phone_number, `+86${phone}`);
    } finally {
      await context.close();
    }
  });

});

/**
 * The Chromium adapter of the client scenarios: a device is a browser
 * context (its own localStorage) whose requests leaving the site pass the
 * device's traffic record first (a route), with a clock; an app start is a
 * new page of the scenarios in that context. Storage is read in the page
 * that acted last (the app in the foreground): another page's view of
 * localStorage catches up with its writes only a moment later.
 */
async function chromiumDevice() {
  const context = await browser.newContext();
  const clock = movableClock();
  const traffic = deviceTraffic();
  await context.route(
    (url) => url.origin !== site.url,
    async (route) => {
      const request = route.request();
      const answer = await traffic.intercept(request.method(), request.url());
      if (answer === undefined) return route.continue();
      // The identity server is another origin: a made-up answer needs CORS too.
      const headers = { 'access-control-allow-origin': site.url };
      return route.fulfill({ status: answer.status, contentType: answer.contentType, headers, body: answer.body });
    },
  );
  const pages = [];
  const openPage = async () => {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error && error.stack)));
    await page.goto(`${site.url}/client-test.html?clock=${clock.offset}`);
    await page.waitForFunction(() => window.clientTest !== undefined, null, { timeout: UI_TIMEOUT });
    pages.push(page);
    return page;
  };
  // Before any app starts, a page of the site's origin to reach its localStorage.
  let foreground = await openPage();
  return {
    traffic,
    now: clock.now,
    async moveClock(ms) {
      await clock.move(ms);
      await Promise.all(pages.map((page) => page.evaluate((offset) => (window.clientTest.clock.offset = offset), clock.offset)));
    },
    read: (key) => foreground.evaluate((k) => localStorage.getItem(k), key),
    write: (key, text) => foreground.evaluate(([k, t]) => localStorage.setItem(k, t), [key, text]),
    async launch({ server, ...options }) {
      const page = await openPage();
      foreground = page;
      const id = await page.evaluate((o) => window.clientTest.driver.create(o), { baseUrl: server.url, ...options });
      const send = (op, args) => {
        foreground = page;
        return page.evaluate(([i, o, a]) => window.clientTest.driver.send(i, o, a), [id, op, args]);
      };
      return clientHandle(send, loginWithCode(server));
    },
    async close() {
      // Retries still in flight must not reach a route of a closed context.
      await context.unrouteAll({ behavior: 'ignoreErrors' });
      await context.close();
    },
  };
}

describe('the client scenarios in Chromium (pkg/web/index.js, fetch, localStorage, another origin)', () => {
  registerClientCases(() => ({ newDevice: chromiumDevice, servers }));
});

describe('Chromium page health', () => {
  test('no uncaught exception or console error in the pages', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });
});
