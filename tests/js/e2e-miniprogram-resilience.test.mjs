// Resilience end to end, in the Mini Program runtime: the scenarios that
// tests/js/auth-client.test.mjs runs with the Node client — a rotated
// session_token replayed after the grace window, the server going away
// during a refresh and coming back, many callers when a refresh is due, a
// corrupt stored record — with AuthClient created in the strict simulator
// (tests/miniprogram-sim/) from sim.require('miniauth'), wx.login answered
// with codes of the server's /sim/wx/login, every client request a
// wx.request over real HTTP to the reference server (target/debug/miniauth
// serve, WeChat-simulator mode) on loopback.
//
// The server runs with `--refresh-grace 1`, so replay after the grace window
// takes a 1.5 s wait rather than 10 s. Where a refresh must be due, the
// client's clock (AuthClient's `now` option) is moved instead of waiting
// 13 minutes.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MiniProgramSim, writeCodePackage } from './support/miniprogram.mjs';
import { buildServer, freePort, miniauthServer } from './support/miniauth-server.mjs';

// The Node build, only to verify tokens against the server's JWKS from the test.

const STORAGE_KEY = 'miniauth.session';
const REFRESH_PATH = '/v1/session/refresh';
const GRACE_S = 1;
// The server's id_token lives 900 s; the core refreshes when less than
// max(60 s, 10 %) remains: due (but unexpired) 850 s in, expired 150 s later.
const DUE_BUT_UNEXPIRED_MS = 850_000;
const UNTIL_EXPIRED_MS = 150_000;
// The core retries a failed refresh after 200 ms, doubling: a server back
// within a second or so is reached again within a few seconds.
const RECOVERY_DEADLINE_MS = 5_000;

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let workDir;
let codeRoot;
let server;
const sims = [];
const clients = [];

before(async () => {
  await buildServer();
  workDir = mkdtempSync(join(tmpdir(), 'miniauth-e2e-resilience-'));
  server = miniauthServer({ port: await freePort(), database: join(workDir, 'miniauth.db'), args: ['--refresh-grace', String(GRACE_S)] });
  await server.start();

  // The Mini Program code package, as WeChat DevTools' "Build npm" lays it out.
  codeRoot = writeCodePackage(join(workDir, 'miniprogram'));
});

after(async () => {
  for (const client of clients) client.close();
  for (const sim of sims) sim.dispose();
  await server?.kill();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** A clock that tests move forward, like a device's. */
function movableClock() {
  const clock = { offset: 0, now: () => Date.now() + clock.offset };
  return clock;
}

/**
 * A Mini Program start: a simulator over `storage` whose wx.login gives
 * codes for a new openid, and an AuthClient made in the sandbox.
 * `refreshes` counts POST /v1/session/refresh made through wx.request;
 * `beforeRefresh`, when set, is awaited as such a request goes out.
 */
async function startApp({ storage = new Map(), clientOptions = {} } = {}) {
  const app = { openid: `mp-${unique()}`, storage, refreshes: 0, beforeRefresh: null, events: [] };
  const sim = new MiniProgramSim({
    root: codeRoot,
    storage,
    login: async () => ({ code: await server.wxLoginCode(app.openid) }),
    onRequest: async (req) => {
      if (req.method === 'POST' && new URL(req.url).pathname === REFRESH_PATH) {
        app.refreshes += 1;
        if (app.beforeRefresh) await app.beforeRefresh();
      }
      return undefined; // over the network
    },
  });
  sims.push(sim);
  const mp = sim.require('miniauth');
  await mp.ready;
  const client = new mp.AuthClient({ baseUrl: server.url, ...clientOptions });
  clients.push(client);
  client.onAuthStateChange((event, details) => app.events.push({ event, details }));
  await client.ready;
  return Object.assign(app, { sim, mp, client, names: () => app.events.map((e) => e.event) });
}

/** A new WeChat user, registered: BIND_REQUIRED then SIGNED_IN. Resolves to the sub. */
async function signIn(app) {
  const login = await app.client.loginWithWechat(); // wx.login inside
  assert.equal(login.status, 'USER_REGISTER');
  const registered = await app.client.register();
  assert.equal(registered.status, 'SUCCESS');
  assert.deepEqual(app.names(), ['BIND_REQUIRED', 'SIGNED_IN']);
  return registered.claims.sub;
}

/** The record the client keeps in wx storage (wx storage holds JSON text of the stored string). */
function storedRecord(storage) {
  const text = storage.get(STORAGE_KEY);
  return text === undefined ? null : JSON.parse(JSON.parse(text));
}


async function waitFor(condition, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

const rejectsWith = (mp, promise, code) =>
  assert.rejects(promise, (error) => {
    assert.ok(error instanceof mp.MiniAuthError, `a MiniAuthError of the sandbox, got ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  });

describe('AuthClient resilience in the Mini Program simulator against the reference server', { timeout: 40_000 }, () => {
  test('a rotated session_token replayed after the grace window is refused and revokes the family; the next refresh signs out', async () => {
    const app = await startApp();
    const { client, mp, storage } = app;
    await signIn(app);
    const old = storedRecord(storage);
    await client.refresh();
    const rotated = storedRecord(storage);
    assert.notEqual(rotated.session_token, old.session_token, 'the stored session token rotated');
    assert.equal(app.refreshes, 1);

    // Within the window the replay gets the same new pair (the window is open)...
    const early = await server.post(REFRESH_PATH, { session_token: old.session_token });
    assert.equal(early.status, 200, JSON.stringify(early.body));
    assert.equal(early.body.session_token, rotated.session_token);

    // ...after it, the replay is refused and the whole family revoked.
    await sleep(GRACE_S * 1000 + 500);
    const late = await server.post(REFRESH_PATH, { session_token: old.session_token });
    assert.equal(late.status, 401, JSON.stringify(late.body));
    assert.equal(late.body.error, 'invalid_session');
    assert.deepEqual(app.names(), ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED'], 'the client learns nothing until it refreshes');

    // The client's current (rotated) token belongs to the revoked family.
    await rejectsWith(mp, client.refresh(), 'ERR_SIGNED_OUT');
    assert.equal(app.refreshes, 2);
    assert.deepEqual(app.names(), ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED', 'SIGNED_OUT']);
    assert.equal(storage.has(STORAGE_KEY), false, 'wx storage cleared');
    await rejectsWith(mp, client.getIdToken(), 'ERR_SIGNED_OUT');
    assert.equal(await client.getClaims(), null);
    const direct = await server.post(REFRESH_PATH, { session_token: rotated.session_token });
    assert.equal(direct.status, 401);
    assert.equal(direct.body.error, 'invalid_session');
  });

  test('the server stops during a refresh: REFRESH_FAILED, the session and unexpired token kept; recovery when it is back', async () => {
    const clock = movableClock();
    const app = await startApp({ clientOptions: { now: clock.now } });
    const { client, mp, storage } = app;
    let restarted = false;
    try {
      const sub = await signIn(app);
      const before = storedRecord(storage);

      // The refresh request goes out; the server dies before it is answered.
      let stops = 0;
      app.beforeRefresh = async () => {
        if (stops++ === 0) await server.kill();
      };
      clock.offset += DUE_BUT_UNEXPIRED_MS;
      assert.equal(await client.getIdToken(), before.id_token, 'due but unexpired: the old token while the refresh fails');
      assert.equal(server.running, false);
      assert.equal(app.refreshes, 1);
      const failed = app.events.find((e) => e.event === 'REFRESH_FAILED');
      assert.ok(failed, `events: ${app.names()}`);
      assert.equal(failed.details.error.code, 'ERR_NETWORK');
      assert.equal(failed.details.claims.sub, sub, 'still signed in');
      assert.equal(storedRecord(storage).session_token, before.session_token, 'the session is kept in wx storage');
      assert.equal((await client.getClaims()).sub, sub);
      assert.ok(!app.names().includes('SIGNED_OUT'), `events: ${app.names()}`);

      // Expired with the server still down: no token, a network error, still signed in.
      clock.offset += UNTIL_EXPIRED_MS;
      await rejectsWith(mp, client.getIdToken(), 'ERR_NETWORK');
      assert.equal(storedRecord(storage).session_token, before.session_token);

      // Same port, same database: the core's own retries (backing off from
      // 200 ms) reach it again.
      await server.start();
      restarted = true;
      await waitFor(() => app.names().includes('TOKEN_REFRESHED'), 'TOKEN_REFRESHED after the restart', RECOVERY_DEADLINE_MS);
      const [first, second, ...rest] = app.names();
      assert.deepEqual([first, second], ['BIND_REQUIRED', 'SIGNED_IN']);
      assert.deepEqual(rest.slice(-1), ['TOKEN_REFRESHED']);
      assert.ok(rest.length >= 2 && rest.slice(0, -1).every((name) => name === 'REFRESH_FAILED'), `events: ${app.names()}`);

      const token = await client.getIdToken();
      const after = storedRecord(storage);
      assert.notEqual(after.session_token, before.session_token, 'rotated');
      assert.equal(token, after.id_token);
      assert.equal((await server.claimsOf(token)).sub, sub);
      await client.logout();
    } finally {
      app.beforeRefresh = null;
      if (!restarted && !server.running) await server.start();
    }
  });

  test('50 concurrent getIdToken() calls when a refresh is due send one POST /v1/session/refresh', async () => {
    const clock = movableClock();
    const app = await startApp({ clientOptions: { now: clock.now } });
    const { client, storage } = app;
    await signIn(app);
    const before = storedRecord(storage);
    assert.equal(await client.getIdToken(), before.id_token);
    assert.equal(app.refreshes, 0, 'nothing due at sign-in');

    clock.offset += DUE_BUT_UNEXPIRED_MS;
    const tokens = await Promise.all(Array.from({ length: 50 }, () => client.getIdToken()));
    assert.equal(app.refreshes, 1, 'one wx.request to /v1/session/refresh for 50 callers');
    assert.equal(new Set(tokens).size, 1, 'every caller got the same token');
    const after = storedRecord(storage);
    assert.notEqual(after.session_token, before.session_token, 'rotated');
    assert.equal(tokens[0], after.id_token, 'the refreshed token');
    assert.equal(await client.getIdToken(), tokens[0]);
    assert.equal(app.refreshes, 1, 'the new token is fresh: no further refresh');
    assert.deepEqual(app.names(), ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED']);
    await client.logout();
  });

  test('a corrupt or foreign record in wx storage means signed out: no throw, no event, the record cleared', async () => {
    const records = [
      '{"v":1,"id_token":',
      'not json',
      '{"v":99,"id_token":"a","session_token":"b","expires_at":1,"lifetime_ms":1,"session_expires_at":1}',
      '{"v":1,"id_token":42}',
      '[]',
    ];
    for (const record of records) {
      // What wx.setStorageSync(key, record) would have left behind.
      const storage = new Map([[STORAGE_KEY, JSON.stringify(record)]]);
      const app = await startApp({ storage });
      const { client, mp } = app;
      assert.equal(await client.getClaims(), null, record);
      await rejectsWith(mp, client.getIdToken(), 'ERR_SIGNED_OUT');
      await rejectsWith(mp, client.refresh(), 'ERR_SIGNED_OUT');
      assert.equal(storage.has(STORAGE_KEY), false, `cleared: ${record}`);
      assert.deepEqual(app.names(), [], record);
      assert.equal(app.refreshes, 0);
      client.close();
    }
  });
});
