// The playground (`make demo`): scripts/demo.sh is started as make demo
// starts it (on a port the server picks, with its own database directory),
// and the page it serves at /playground/ is driven in headless Chromium as a
// person would: a new WeChat user registers by SMS code read from the outbox
// panel, logs out and logs in again as a returning user, makes the next
// refresh fail and watches the client retry, and pastes a tampered token
// into the verify box. Then a screenshot is taken (into docs/playground.png
// with UPDATE_SCREENSHOT=1, else into a temporary directory), and demo.sh is
// stopped with SIGINT as Ctrl-C would, which must stop the server and exit 0.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium } from './support/chromium.mjs';
import { SERVER_ENV } from './support/miniauth-server.mjs';
import { ROOT } from './support/paths.mjs';
import { spawnReady } from './support/spawn-ready.mjs';

const UI_TIMEOUT = 10_000;
const SCREENSHOT = join(ROOT, 'docs', 'playground.png');

let workDir;
let demo;
let url;
let browser;
let page;
const pageErrors = [];

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'miniauth-playground-'));
  demo = await spawnReady(join(ROOT, 'scripts', 'demo.sh'), [], {
    cwd: ROOT,
    // Port 0: the server picks a free one, and demo.sh prints the address.
    env: { ...SERVER_ENV, DEMO_PORT: '0', DEMO_DIR: join(workDir, 'demo'), DEMO_REGISTRATION: 'open' },
    ready: /miniauth playground: (http:\/\/\S+)[\s\S]*Ctrl-C to stop/,
    // demo.sh builds the server first when its sources changed.
    timeoutMs: 600_000,
  });
  url = demo.match[1];
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/playground\/$/);
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(String(error && error.stack)));
});

after(async () => {
  await browser?.close();
  if (demo) {
    demo.child.kill('SIGTERM');
    await demo.exited;
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const text = (selector) => page.locator(selector).textContent();

async function expectStatus(pattern) {
  await page.waitForFunction(
    (source) => new RegExp(source).test(document.getElementById('status').textContent) || !document.getElementById('error').hidden,
    pattern.source,
    { timeout: UI_TIMEOUT },
  );
  assert.equal(await page.locator('#error').isVisible(), false, `the page shows an error: ${await text('#error')}`);
  assert.match(await text('#status'), pattern);
}

/** The events of the log, oldest first. */
async function events() {
  const items = await page.locator('#events li').evaluateAll((lis) =>
    lis.map((li) => [li.dataset.event, li.querySelector('.detail').textContent].filter(Boolean).join(' ')),
  );
  return items.reverse();
}

async function waitForEvents(count) {
  await page.waitForFunction((n) => document.querySelectorAll('#events li').length >= n, count, { timeout: UI_TIMEOUT });
}

const openid = `o_pg_${Date.now().toString(36)}`;
const phone = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
let sub;

test('the server serves the page and the package from the same origin', async () => {
  const wasm = await fetch(new URL('pkg/miniauth_bg.wasm', url));
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  const main = await (await fetch(new URL('main.js', url))).text();
  assert.match(main, /from '\.\/pkg\/web\/index\.js'/, 'the page imports the web build of the package');
  await page.goto(url);
  await expectStatus(/^Not signed in\.$/);
  assert.equal(await page.locator('#signed-out').isVisible(), true);
  assert.equal(await page.inputValue('#openid'), 'o_alice', 'a WeChat user is filled in, not only a placeholder');
});

test('a new WeChat user registers by SMS code read from the outbox panel', async () => {
  await page.fill('#openid', openid);
  await page.click('#login');
  await expectStatus(/^USER_REGISTER: /);
  assert.equal(await text('#login-status'), 'USER_REGISTER');
  assert.match(await text('#flows'), /SMS code/);
  for (const form of ['#code-form', '#phone-form', '#register-form']) assert.equal(await page.locator(form).isVisible(), true, form);
  assert.equal(await page.locator('#password-form').isVisible(), false, 'password binding is for SOCIAL_BIND only');
  assert.deepEqual(await events(), ['BIND_REQUIRED']);

  await page.selectOption('#channel', 'sms');
  await page.fill('#to', phone);
  await page.click('#send-code');
  await expectStatus(new RegExp(`^Code sent to ${phone}`));
  const message = page.locator('#outbox li', { hasText: phone });
  await message.waitFor({ timeout: UI_TIMEOUT });
  const code = /code is (\d{6})/.exec(await message.textContent())?.[1];
  assert.ok(code, `the outbox shows a code: ${await message.textContent()}`);

  await page.fill('#code', code);
  await page.click('#bind-code');
  await expectStatus(/^SUCCESS: signed in\.$/);
  await waitForEvents(2);
  assert.deepEqual((await events()).map((event) => event.split(' ')[0]), ['BIND_REQUIRED', 'SIGNED_IN']);
  const claims = JSON.parse(await text('#claims'));
  assert.match(claims.sub, /^usr_/);
  assert.equal(claims.phone_number_verified, true);
  assert.ok(claims.phone_number.endsWith(phone), claims.phone_number);
  sub = claims.sub;
  assert.equal(await text('#sub'), sub);
  const raw = await text('#raw-token');
  assert.equal(raw.split('.').length, 3);
  assert.deepEqual(JSON.parse(Buffer.from(raw.split('.')[1], 'base64url')), claims, 'the claims are the raw token\'s');
  // The id_token lives 120 s (make demo's setting) and is refreshed 60 s before expiry.
  await page.waitForFunction(() => /^\d:\d\d$/.test(document.getElementById('countdown').textContent), null, { timeout: UI_TIMEOUT });
  const [minutes, seconds] = (await text('#countdown')).split(':').map(Number);
  assert.ok(minutes * 60 + seconds > 100 && minutes * 60 + seconds <= 120, await text('#countdown'));
  assert.match(await text('#refresh-countdown'), /^\d:\d\d$/);
});

test('a returning user logs in with SUCCESS straight away', async () => {
  await page.click('#logout');
  await expectStatus(/^Signed out\.$/);
  await waitForEvents(3);
  assert.equal((await events()).at(-1), 'SIGNED_OUT');
  assert.equal(await text('#claims'), '—');

  await page.fill('#openid', openid);
  await page.click('#login');
  await expectStatus(/^SUCCESS: signed in\.$/);
  await waitForEvents(4);
  assert.match((await events()).at(-1), /^SIGNED_IN/);
  assert.equal(JSON.parse(await text('#claims')).sub, sub, 'the same user');
});

test('a forced refresh failure is retried and the session recovers', async () => {
  const before = (await events()).length;
  await page.click('#fail-next');
  assert.equal(await page.locator('#fail-next').getAttribute('aria-pressed'), 'true');
  await page.click('#refresh');
  await expectStatus(/^Refresh failed \(ERR_NETWORK\); the client retries/);
  // REFRESH_FAILED, then the client's own retry (after 100–200 ms) succeeds.
  await waitForEvents(before + 2);
  const [failed, refreshed] = (await events()).slice(before);
  assert.match(failed, /^REFRESH_FAILED ERR_NETWORK: /);
  assert.match(refreshed, /^TOKEN_REFRESHED/);
  assert.equal(await page.locator('#fail-next').getAttribute('aria-pressed'), 'false', 'only one refresh fails');
  // (The new id_token may equal the old one: same claims within the same second.)
  assert.equal((await text('#raw-token')).split('.').length, 3);
  assert.equal(JSON.parse(await text('#claims')).sub, sub, 'still signed in as the same user');

  // The next refresh goes through.
  await page.click('#refresh');
  await expectStatus(/^Refreshed\.$/);
});

test('the verify box accepts the real id_token and names the error for a tampered one', async () => {
  await page.click('#paste-current');
  await page.click('#verify');
  await page.locator('#verify-result').waitFor({ timeout: UI_TIMEOUT });
  await page.waitForFunction(() => document.getElementById('verify-result').dataset.code === 'OK', null, { timeout: UI_TIMEOUT });
  assert.match(await text('#verify-result'), new RegExp(`^Valid: signed by kid \\S+ \\(RS256\\)[\\s\\S]*"sub": "${sub}"`));

  const [header, payload, signature] = (await text('#raw-token')).split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url'));
  claims.sub = 'usr_someone_else';
  const tampered = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
  await page.fill('#verify-input', tampered);
  await page.click('#verify');
  await page.waitForFunction(() => document.getElementById('verify-result').dataset.code !== 'OK', null, { timeout: UI_TIMEOUT });
  assert.equal(await page.locator('#verify-result').getAttribute('data-code'), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  assert.match(await text('#verify-result'), /^ERR_JWS_SIGNATURE_VERIFICATION_FAILED\n/);
  assert.equal(await page.locator('#verify-result').getAttribute('class'), 'bad');
});

test('the first click signs in: the default o_alice is the demo user', async () => {
  await page.click('#logout');
  await expectStatus(/^Signed out\.$/);
  await page.reload();
  await expectStatus(/^Not signed in\.$/);
  await page.click('#login');
  await expectStatus(/^SUCCESS: signed in\.$/);
  const claims = JSON.parse(await text('#claims'));
  assert.equal(claims.name, 'Demo User');
  assert.equal(claims.preferred_username, 'demo');
});

test('a nickname saved in the page rides in the refreshed id_token; an API call carries the token', async () => {
  const before = (await events()).length;
  await page.fill('#nickname', 'Ming');
  await page.click('#save-profile');
  await expectStatus(/^Nickname saved: Ming\.$/);
  await waitForEvents(before + 2);
  assert.deepEqual((await events()).slice(before).map((event) => event.split(' ')[0]), ['TOKEN_REFRESHED', 'USER_UPDATED']);
  assert.equal(JSON.parse(await text('#claims')).nickname, 'Ming');
  assert.match(await text('#who'), /Ming/);

  await page.click('#call-api');
  await page.locator('#api-answer').waitFor({ timeout: UI_TIMEOUT });
  const answer = await text('#api-answer');
  assert.match(answer, /^GET \/v1\/userinfo → 200\n/);
  assert.equal(JSON.parse(answer.slice(answer.indexOf('\n') + 1)).nickname, 'Ming');
});

test('chat sign-in through the simulated chat: a new contact registers', async () => {
  await page.click('#logout');
  await expectStatus(/^Signed out\.$/);
  await page.click('#chat-login');
  await page.locator('#chat-challenge').waitFor({ timeout: UI_TIMEOUT });
  const challenge = await text('#challenge');
  assert.match(challenge, /^\d{6}$/);
  await expectStatus(new RegExp(`^Waiting for ${challenge} in the chat`));
  await page.fill('#chat-contact', `wxid_${openid}`);
  await page.click('#chat-send');
  await expectStatus(/^USER_REGISTER: /);
  assert.equal(await page.locator('#phone-form').isVisible(), false, 'no Mini Program to ask for the phone number');
  await page.click('#register');
  await expectStatus(/^SUCCESS: signed in\.$/);
  assert.deepEqual(JSON.parse(await text('#claims')).amr, ['chat']);
  assert.equal(await page.locator('#chat-challenge').isVisible(), false);
});

test('a screenshot of the page', async () => {
  await page.waitForFunction(() => /^\d:\d\d$/.test(document.getElementById('countdown').textContent), null, { timeout: UI_TIMEOUT });
  const path = process.env.UPDATE_SCREENSHOT === '1' ? SCREENSHOT : join(workDir, 'playground.png');
  await page.screenshot({ path, fullPage: true });
  assert.deepEqual([...readFileSync(path).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  assert.deepEqual(pageErrors, []);
});

test('Ctrl-C stops demo.sh and the server cleanly', async () => {
  demo.child.kill('SIGINT');
  const { code, signal } = await demo.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, demo.output);
  assert.match(demo.output, /miniauth stopped/);
  assert.match(demo.output, /demo: stopped/);
  await assert.rejects(fetch(url), 'nothing listens any more');
});
