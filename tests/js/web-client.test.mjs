// The web example (examples/web/) and the AuthClient of pkg/web/index.js in
// headless Chromium against the real reference server. A static server serves
// the example at / and pkg/ at /miniauth/ (as the example's README says); the
// identity server runs on another origin with `--cors-origins` set to it, so
// every call the page makes is a cross-origin one, as on a real site.
//
// First the page is driven as a person would (type an openid, click, read
// what it shows); then the same AuthClient flow runs programmatically in the
// page, with the one-time code read from the simulator's outbox by Node.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium } from './support/chromium.mjs';
import { startAppApi } from './support/app-api.mjs';
import { assertBackoffGrows } from './support/backoff.mjs';
import { startServer } from './support/http-server.mjs';
import { buildServer, freePort, miniauthServer, SIMULATOR_AUDIENCE } from './support/miniauth-server.mjs';
import { PKG_DIR, ROOT } from './support/paths.mjs';

const EXAMPLE_DIR = join(ROOT, 'examples', 'web');
const CONTENT_TYPES = { '.wasm': 'application/wasm', '.js': 'text/javascript', '.html': 'text/html; charset=utf-8', '.json': 'application/json', '.css': 'text/css' };
/** The AuthClient's storage key (the core names it); a clientId is appended after a colon. */
const STORAGE_KEY = 'miniauth.session';
/** The programmatic flow's clientId, which keeps its record apart from the example page's own client. */
const FLOW_CLIENT_ID = 'web-client-test';
const UI_TIMEOUT = 10_000;

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const newPhone = () => `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

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

const served = [];
function serveStatic(req, res) {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
  served.push(pathname);
  const found =
    pathname === '/'
      ? fileUnder(EXAMPLE_DIR, 'index.html')
      : pathname.startsWith('/miniauth/')
        ? fileUnder(PKG_DIR, pathname.slice('/miniauth/'.length))
        : fileUnder(EXAMPLE_DIR, pathname.slice(1));
  if (!found) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  res.writeHead(200, { 'content-type': found.type, 'cache-control': 'no-store' }).end(found.body);
}

let workDir;
let site;
let api;
let browser;
const pageErrors = [];
const consoleErrors = [];
/** URLs a test makes fail on purpose: Chromium logs each failed load as a console error. */
const expectedFailures = [];

before(async () => {
  await buildServer();
  workDir = mkdtempSync(join(tmpdir(), 'miniauth-web-client-'));
  site = await startServer(serveStatic);
  api = miniauthServer({ port: await freePort(), database: join(workDir, 'miniauth.db'), args: ['--cors-origins', site.url] });
  await api.start();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await site?.close();
  await api?.kill();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** A page of the example in a fresh browser context (its own localStorage), pointed at the test's server. */
async function openExample() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(String(error && error.stack)));
  page.on('console', (message) => {
    if (expectedFailures.some((url) => message.location().url.startsWith(url))) return;
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

describe('the web example in Chromium, against the server on another origin', () => {
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

  test('the AuthClient flow, programmatically in the page: bind by SMS, refresh, restore after a reload, logout', async () => {
    const { context, page } = await openExample();
    const key = `${STORAGE_KEY}:${FLOW_CLIENT_ID}`;
    const phone = newPhone();
    try {
      await waitForView(page, 'signed-out');

      const started = await page.evaluate(
        async ({ baseUrl, clientId, code, phone }) => {
          // The same module instance as the page's (the import map resolves `miniauth`).
          const { ready, AuthClient } = await import('miniauth');
          await ready;
          const client = new AuthClient({ baseUrl, clientId });
          const events = [];
          client.onAuthStateChange((event) => events.push(event));
          window.flow = { client, events };
          const login = await client.loginWithWechat({ code });
          const sent = await client.sendVerifyCode({ channel: 'sms', to: phone });
          return { login, sent };
        },
        { baseUrl: api.url, clientId: FLOW_CLIENT_ID, code: await api.wxLoginCode(`o_flow_${unique()}`), phone },
      );
      assert.equal(started.login.status, 'USER_REGISTER');
      assert.ok(started.login.flows.includes('sms_code'), JSON.stringify(started.login.flows));
      assert.equal(typeof started.sent.expires_in, 'number');

      const bound = await page.evaluate(
        async ({ phone, code }) => {
          const { client } = window.flow;
          const result = await client.bindWithVerifyCode({ channel: 'sms', to: phone, code });
          const idToken = await client.getIdToken();
          return { result, idToken };
        },
        { phone, code: await api.lastCodeSentTo(phone) },
      );
      assert.equal(bound.result.status, 'SUCCESS');
      assert.equal(bound.result.claims.phone_number, `+86${phone}`);
      const { sub } = bound.result.claims;
      assert.equal(JSON.parse(Buffer.from(bound.idToken.split('.')[1], 'base64url')).sub, sub);

      const before = await storedRecord(page, key);
      assert.equal(before.id_token, bound.idToken);
      // The example page's own client keeps its record under another key.
      assert.equal(await storedRecord(page, STORAGE_KEY), null);

      const refreshed = await page.evaluate(async () => {
        const { client, events } = window.flow;
        const { claims } = await client.refresh();
        return { claims, idToken: await client.getIdToken(), events: events.slice() };
      });
      assert.equal(refreshed.claims.sub, sub);
      assert.deepEqual(refreshed.events, ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED']);
      const after = await storedRecord(page, key);
      assert.notEqual(after.session_token, before.session_token, 'the session_token in localStorage was rotated');
      assert.equal(after.id_token, refreshed.idToken);

      // A new page restores the session from localStorage.
      await page.reload();
      await waitForView(page, 'signed-out');
      const restored = await page.evaluate(async ({ baseUrl, clientId }) => {
        const { AuthClient } = await import('miniauth');
        const client = new AuthClient({ baseUrl, clientId });
        const events = [];
        client.onAuthStateChange((event) => events.push(event));
        await client.ready;
        const claims = await client.getClaims();
        const idToken = await client.getIdToken();
        await client.logout();
        const afterLogout = { claims: await client.getClaims(), stored: localStorage.getItem(`miniauth.session:${clientId}`) };
        client.close();
        return { claims, idToken, events, afterLogout };
      }, { baseUrl: api.url, clientId: FLOW_CLIENT_ID });
      assert.equal(restored.claims.sub, sub);
      assert.equal(restored.claims.phone_number, `+86${phone}`);
      assert.equal(restored.idToken, after.id_token);
      assert.deepEqual(restored.events, ['SIGNED_IN', 'SIGNED_OUT']);
      assert.deepEqual(restored.afterLogout, { claims: null, stored: null });

      // The logout reached the server: the session token is spent.
      const refused = await api.post('/v1/session/refresh', { session_token: after.session_token });
      assert.equal(refused.status, 401, JSON.stringify(refused.body));
    } finally {
      await context.close();
    }
  });

  test('in the page: fetch() to the app\'s API with the id_token for tokenOrigins only, a 401 retried once; updateProfile', async () => {
    const { context, page } = await openExample();
    const appApi = await startAppApi();
    const elsewhere = await startAppApi();
    try {
      await waitForView(page, 'signed-out');
      await page.evaluate(
        async ({ baseUrl, code, apiUrl }) => {
          const { AuthClient } = await import('miniauth');
          const client = new AuthClient({ baseUrl, clientId: 'api-test', tokenOrigins: [apiUrl] });
          const events = [];
          client.onAuthStateChange((event) => events.push(event));
          window.apiFlow = { client, events };
          await client.loginWithWechat({ code });
          await client.register({ name: 'Web' });
        },
        { baseUrl: api.url, code: await api.wxLoginCode(`o_api_${unique()}`), apiUrl: appApi.url },
      );
      const token = await page.evaluate(() => window.apiFlow.client.getIdToken());
      appApi.refuse(token);
      expectedFailures.push(appApi.url);
      const calls = await page.evaluate(
        async ({ apiUrl, otherUrl }) => {
          const { client } = window.apiFlow;
          const listed = await client.fetch(`${apiUrl}/me`, { headers: { 'x-app': '1' } });
          const other = await client.fetch(`${otherUrl}/track`);
          return { listed: { status: listed.status, body: await listed.json() }, other: await other.json(), token: await client.getIdToken() };
        },
        { apiUrl: appApi.url, otherUrl: elsewhere.url },
      );
      assert.equal(calls.listed.status, 200, 'the 401 was retried after a refresh');
      assert.notEqual(calls.token, token);
      assert.deepEqual(appApi.seen.filter((r) => r.method === 'GET').map((r) => r.token), [token, calls.token]);
      assert.equal(calls.other.authorization, null, 'another origin gets no token');

      const updated = await page.evaluate(async () => {
        const { client, events } = window.apiFlow;
        const profile = await client.updateProfile({ nickname: '网页用户', locale: 'zh-CN' });
        const info = await client.getUserInfo();
        const claims = await client.getClaims();
        await client.logout();
        client.close();
        return { profile, info, claims, events: events.slice() };
      });
      assert.equal(updated.profile.nickname, '网页用户');
      assert.deepEqual(updated.info, updated.profile);
      assert.equal(updated.claims.nickname, '网页用户');
      assert.deepEqual(updated.events.slice(-3), ['TOKEN_REFRESHED', 'USER_UPDATED', 'SIGNED_OUT']);
    } finally {
      await context.close();
      await appApi.close();
      await elsewhere.close();
    }
  });

  test('in the page: a refresh answered 200 with a portal page backs off, the delays growing', async () => {
    const { context, page } = await openExample();
    try {
      await waitForView(page, 'signed-out');
      await page.evaluate(
        async ({ baseUrl, code }) => {
          const { AuthClient } = await import('miniauth');
          const clock = { offset: 0 };
          const client = new AuthClient({ baseUrl, clientId: 'portal-test', now: () => Date.now() + clock.offset });
          const failures = [];
          client.onAuthStateChange((event) => {
            if (event === 'REFRESH_FAILED') failures.push(Date.now());
          });
          window.portal = { client, clock, failures };
          await client.loginWithWechat({ code });
          await client.register();
        },
        { baseUrl: api.url, code: await api.wxLoginCode(`o_portal_${unique()}`) },
      );
      // A captive portal answers every refresh with a page and 200.
      await page.route(`${api.url}/v1/session/refresh`, (route) =>
        route.fulfill({ status: 200, contentType: 'text/html', headers: { 'access-control-allow-origin': site.url }, body: '<html>Wi-Fi login</html>' }),
      );
      const failures = await page.evaluate(async () => {
        const { client, clock, failures } = window.portal;
        clock.offset += 850_000; // due, not expired
        await client.getIdToken();
        const deadline = Date.now() + 10_000;
        while (failures.length < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        await client.logout();
        client.close();
        return failures;
      });
      assertBackoffGrows(failures);
    } finally {
      await context.close();
    }
  });

  test('no uncaught exception or console error in the pages', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });
});
