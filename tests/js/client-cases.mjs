// The AuthClient scenarios, written once (as cases.cjs is for verification)
// and run against the real reference server in Node (auth-client.test.mjs),
// Chromium (web-client.test.mjs) and the strict Mini Program simulator
// (e2e-miniprogram.test.mjs). They run in this process, because they also
// control the servers (codes, outbox, stopping and starting); each runtime's
// adapter gives them devices:
//
//   device.launch({ server, clientId?, tokenOrigins?, refreshMargin? })
//             an app start: a new AuthClient in the runtime (a new page, a
//             new simulator; in Node a new client), over the device's
//             storage and clock, talking to `server` (anything with a `url`);
//             resolves to a support/client-runtime.mjs clientHandle
//   device.moveClock(ms), device.now()
//             the device's clock, moved instead of waiting 13 minutes for a
//             refresh to be due; the stored record holds times of this clock
//   device.read(key), device.write(key, text)
//             the runtime's storage (memoryStorage, localStorage, wx storage)
//   device.traffic
//             support/client-runtime.mjs deviceTraffic: what the device sent
//   device.close()
//             ends every app on the device (the runner calls it)

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAppApi } from './support/app-api.mjs';
import { assertBackoffGrows } from './support/backoff.mjs';
import { GRACE_S, newPhone, unique } from './support/client-runtime.mjs';
import { SIMULATOR_AUDIENCE, unusedPort } from './support/miniauth-server.mjs';

const STORAGE_KEY = 'miniauth.session';
const REFRESH_PATH = '/v1/session/refresh';
// The server's id_token lives 900 s; the core refreshes when less than
// max(60 s, 10 %) remains: not due at 800 s, due at 850 s, expired at 900 s.
const NOT_YET_DUE_MS = 800_000;
const DUE_BUT_UNEXPIRED_MS = 850_000;
const UNTIL_EXPIRED_MS = 150_000;
const TWO_HOURS_MS = 2 * 3600_000;

/** The session record a device's storage holds under `key`, or null. */
async function storedRecord(device, key = STORAGE_KEY) {
  const text = await device.read(key);
  return text === null ? null : JSON.parse(text);
}

const rejectsWith = (promise, code, fields = {}) =>
  assert.rejects(promise, (error) => {
    assert.equal(error.isMiniAuthError, true, `a MiniAuthError of the runtime, got ${error.name}: ${error.message}`);
    assert.equal(error.code, code, error.message);
    for (const [name, value] of Object.entries(fields)) assert.equal(error[name], value, name);
    return true;
  });

/** A new WeChat user, registered: BIND_REQUIRED then SIGNED_IN. Resolves to the claims. */
async function signUp(client) {
  const login = await client.loginAs(`user-${unique()}`);
  assert.equal(login.status, 'USER_REGISTER');
  const registered = await client.register();
  assert.equal(registered.status, 'SUCCESS');
  assert.deepEqual(await client.names(), ['BIND_REQUIRED', 'SIGNED_IN']);
  return registered.claims;
}

async function waitForEvent(client, event, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await client.names()).includes(event)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${event}: ${await client.names()}`);
    await sleep(20);
  }
}

/** The same user's id_token refreshed on time from a device clock `skew` ms off, timed from expires_in. */
async function refreshesOnTimeWithSkew({ newDevice, open }, skew) {
  const device = await newDevice();
  await device.moveClock(skew);
  const client = await device.launch({ server: open });
  await client.loginAs(`skew-${unique()}`);
  const loginAt = device.now();
  const registered = await client.register();
  assert.equal(registered.status, 'SUCCESS');
  const first = await storedRecord(device);
  // Expiry is kept in the device's clock: arrival + expires_in.
  const expiresIn = first.expires_at - loginAt;
  assert.ok(expiresIn > 895_000 && expiresIn <= 905_000, `expires_at is ${expiresIn} ms after the device's login time`);

  // Neither expired (the exp claim is 2 h in the device's past) nor
  // not-yet-valid (iat 2 h in its future): served as is, no refresh.
  assert.equal(await client.getIdToken(), first.id_token);
  await device.moveClock(NOT_YET_DUE_MS);
  assert.equal(await client.getIdToken(), first.id_token, 'not due 800 s in');
  assert.equal(device.traffic.count(REFRESH_PATH), 0);

  await device.moveClock(DUE_BUT_UNEXPIRED_MS - NOT_YET_DUE_MS);
  const refreshed = await client.getIdToken();
  assert.equal(device.traffic.count(REFRESH_PATH), 1, 'due 850 s in: one refresh');
  const second = await storedRecord(device);
  assert.notEqual(second.session_token, first.session_token, 'rotated');
  assert.equal(refreshed, second.id_token);
  // Timed afresh from the refresh answer's expires_in, in the device's clock.
  const renewedFor = second.expires_at - device.now();
  assert.ok(renewedFor > 890_000 && renewedFor <= 905_000, `the refreshed token expires ${renewedFor} ms from the device's now`);
  assert.equal(await client.getIdToken(), refreshed);
  assert.equal(device.traffic.count(REFRESH_PATH), 1, 'the refreshed token is fresh');
  assert.equal((await open.claimsOf(refreshed)).sub, registered.claims.sub, 'the server-side clock is right: the token verifies now');
  assert.deepEqual(await client.names(), ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED']);
  await client.logout();
}

/** @type {Record<string, (context: { newDevice: () => Promise<any>, open: any, closed: any }) => Promise<void>>} */
export const CLIENT_CASES = {
  async 'a new WeChat user: USER_REGISTER with flows, then an SMS code binds and signs in'({ newDevice, open }) {
    const device = await newDevice();
    const client = await device.launch({ server: open });
    await client.ready();
    assert.deepEqual(await client.names(), [], 'nothing stored: no event');
    await rejectsWith(client.getIdToken(), 'ERR_SIGNED_OUT');

    const login = await client.loginAs(`user-${unique()}`);
    assert.equal(login.status, 'USER_REGISTER');
    assert.ok(login.flows.includes('sms_code') && login.flows.includes('register'), `flows: ${login.flows}`);
    assert.equal(login.claims, undefined);
    assert.deepEqual(await client.names(), ['BIND_REQUIRED']);
    await rejectsWith(client.getIdToken(), 'ERR_BIND_REQUIRED');
    assert.equal(await client.getClaims(), null);

    const phone = newPhone();
    const sent = await client.sendVerifyCode({ channel: 'sms', to: phone });
    assert.equal(typeof sent.expires_in, 'number');
    const code = await open.lastCodeSentTo(phone);
    const wrong = code === '000000' ? '111111' : '000000';
    await rejectsWith(client.bindWithVerifyCode({ channel: 'sms', to: phone, code: wrong }), 'ERR_SERVER', {
      status: 400,
      error: 'invalid_verify_code',
    });

    const bound = await client.bindWithVerifyCode({ channel: 'sms', to: phone, code });
    assert.equal(bound.status, 'SUCCESS');
    assert.equal(bound.flows, undefined);
    assert.equal(bound.claims.phone_number, `+86${phone}`);
    assert.equal(bound.claims.aud, SIMULATOR_AUDIENCE);
    const events = await client.events();
    assert.deepEqual(events.map((e) => e.event), ['BIND_REQUIRED', 'SIGNED_IN']);
    assert.equal(events[1].claims.sub, bound.claims.sub, 'SIGNED_IN carries the claims');
    assert.equal(events[0].claims, undefined, 'BIND_REQUIRED carries no claims');
    assert.equal((await storedRecord(device)).id_token, await client.getIdToken(), 'the session is stored under miniauth.session');
    assert.deepEqual(await client.getClaims(), bound.claims);
  },

  async 'getIdToken returns a token that verifies against the server JWKS'({ newDevice, open }) {
    const device = await newDevice();
    const client = await device.launch({ server: open });
    const { sub } = await signUp(client);
    const token = await client.getIdToken();
    const claims = await open.claimsOf(token);
    assert.equal(claims.sub, sub);
    assert.equal(claims.iss, open.url);
    assert.equal(claims.aud, SIMULATOR_AUDIENCE);
    assert.equal(token, (await storedRecord(device)).id_token, 'no refresh was due');
  },

  async 'refresh() rotates the session token and stores the new one; the old one replayed within the grace window gets the same pair'({
    newDevice,
    open,
  }) {
    const device = await newDevice();
    const client = await device.launch({ server: open });
    const { sub } = await signUp(client);
    const before = await storedRecord(device);
    const { claims } = await client.refresh();
    const after = await storedRecord(device);
    // A client that lost the answer may retry within the grace window (the
    // servers' is short, so first) and gets the same pair.
    const replay = await open.post(REFRESH_PATH, { session_token: before.session_token });
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.equal(replay.body.session_token, after.session_token, 'the same rotated session_token');
    assert.equal(replay.body.id_token, after.id_token, 'the same id_token');

    assert.equal(claims.sub, sub);
    // (The id_token itself may come back identical: RS256 is deterministic
    // and a refresh within the same second signs the same claims.)
    assert.notEqual(after.session_token, before.session_token, 'the session token rotated');
    assert.equal(await client.getIdToken(), after.id_token);
    await open.claimsOf(after.id_token);
    assert.deepEqual(await client.names(), ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED']);
    assert.equal(device.traffic.count(REFRESH_PATH), 1);
  },

  async 'a rotated session_token replayed after the grace window is refused and revokes the family; the next refresh signs out'({
    newDevice,
    open,
  }) {
    const device = await newDevice();
    const client = await device.launch({ server: open });
    await signUp(client);
    const old = await storedRecord(device);
    await client.refresh();
    const rotated = await storedRecord(device);
    assert.notEqual(rotated.session_token, old.session_token, 'the stored session token rotated');

    await sleep(GRACE_S * 1000 + 500);
    const late = await open.post(REFRESH_PATH, { session_token: old.session_token });
    assert.equal(late.status, 401, JSON.stringify(late.body));
    assert.equal(late.body.error, 'invalid_session');
    assert.deepEqual(await client.names(), ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED'], 'the client learns nothing until it refreshes');

    // The client's current (rotated) token belongs to the revoked family.
    await rejectsWith(client.refresh(), 'ERR_SIGNED_OUT');
    assert.equal(device.traffic.count(REFRESH_PATH), 2);
    assert.deepEqual(await client.names(), ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED', 'SIGNED_OUT']);
    assert.equal(await device.read(STORAGE_KEY), null, 'storage cleared');
    await rejectsWith(client.getIdToken(), 'ERR_SIGNED_OUT');
    assert.equal(await client.getClaims(), null);
    const direct = await open.post(REFRESH_PATH, { session_token: rotated.session_token });
    assert.equal(direct.status, 401);
    assert.equal(direct.body.error, 'invalid_session');
  },

  async 'a restart (a new app over the same storage) restores the session; the bound openid then signs straight in'({ newDevice, open }) {
    const device = await newDevice();
    const first = await device.launch({ server: open });
    const openid = `restart-${unique()}`;
    assert.equal((await first.loginAs(openid)).status, 'USER_REGISTER');
    const { claims } = await first.register({ name: 'Ada' });
    await first.close();

    const client = await device.launch({ server: open });
    await client.ready();
    const events = await client.events();
    assert.deepEqual(events.map((e) => e.event), ['SIGNED_IN']);
    assert.equal(events[0].claims.sub, claims.sub);
    assert.equal((await client.getClaims()).name, 'Ada');
    assert.equal(await client.getIdToken(), (await storedRecord(device)).id_token, 'no refresh was due');
    assert.equal(device.traffic.count(REFRESH_PATH), 0);
    const again = await client.loginAs(openid);
    assert.equal(again.status, 'SUCCESS', 'the bound openid signs straight in');
    assert.equal(again.claims.sub, claims.sub);
  },

  async '50 concurrent getIdToken() calls when a refresh is due send one refresh'({ newDevice, open }) {
    const device = await newDevice();
    const client = await device.launch({ server: open });
    await signUp(client);
    const before = await storedRecord(device);
    assert.equal(await client.getIdToken(), before.id_token);
    assert.equal(device.traffic.count(REFRESH_PATH), 0, 'nothing due at sign-in');

    await device.moveClock(DUE_BUT_UNEXPIRED_MS);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => client.getIdToken()));
    assert.equal(device.traffic.count(REFRESH_PATH), 1, 'one POST /v1/session/refresh for 50 callers');
    assert.equal(new Set(tokens).size, 1, 'every caller got the same token');
    const after = await storedRecord(device);
    assert.notEqual(after.session_token, before.session_token, 'rotated');
    assert.equal(tokens[0], after.id_token, 'the refreshed token');
    assert.equal(await client.getIdToken(), tokens[0]);
    assert.equal(device.traffic.count(REFRESH_PATH), 1, 'the new token is fresh: no further refresh');
    assert.deepEqual(await client.names(), ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED']);
    await client.logout();
  },

  async 'the server stops during a refresh: REFRESH_FAILED, the session and unexpired token kept; recovery when it is back'({ newDevice, open }) {
    const device = await newDevice();
    const client = await device.launch({ server: open });
    const { sub } = await signUp(client);
    const before = await storedRecord(device);

    // The refresh request goes out; the server dies before it is answered.
    device.traffic.hook = async ({ path }) => {
      if (path === REFRESH_PATH && open.running) await open.kill();
    };
    await device.moveClock(DUE_BUT_UNEXPIRED_MS);
    assert.equal(await client.getIdToken(), before.id_token, 'due but unexpired: the old token while the refresh fails');
    assert.equal(open.running, false);
    assert.equal(device.traffic.count(REFRESH_PATH), 1);
    const failed = (await client.events()).find((e) => e.event === 'REFRESH_FAILED');
    assert.ok(failed, `events: ${await client.names()}`);
    assert.equal(failed.error.code, 'ERR_NETWORK');
    assert.equal(failed.claims.sub, sub, 'still signed in');
    assert.equal((await storedRecord(device)).session_token, before.session_token, 'the session is kept');
    assert.equal((await client.getClaims()).sub, sub);

    // Expired with the server still down: no token, a network error, still signed in.
    await device.moveClock(UNTIL_EXPIRED_MS);
    await rejectsWith(client.getIdToken(), 'ERR_NETWORK');
    assert.equal((await storedRecord(device)).session_token, before.session_token);

    // Same port, same database: the core's own retries (backing off from 200 ms) reach it again.
    device.traffic.hook = null;
    await open.start();
    await waitForEvent(client, 'TOKEN_REFRESHED');
    const [first, second, ...rest] = await client.names();
    assert.deepEqual([first, second], ['BIND_REQUIRED', 'SIGNED_IN']);
    assert.deepEqual(rest.slice(-1), ['TOKEN_REFRESHED']);
    assert.ok(rest.length >= 2 && rest.slice(0, -1).every((name) => name === 'REFRESH_FAILED'), `events: ${rest}`);

    const token = await client.getIdToken();
    const after = await storedRecord(device);
    assert.notEqual(after.session_token, before.session_token, 'rotated');
    assert.equal(token, after.id_token);
    assert.equal((await open.claimsOf(token)).sub, sub);
    await client.logout();
  },

  async 'logout signs out here and on the server'({ newDevice, open }) {
    const device = await newDevice();
    const client = await device.launch({ server: open });
    await signUp(client);
    const { session_token: sessionToken } = await storedRecord(device);
    await client.logout();
    assert.deepEqual(await client.names(), ['BIND_REQUIRED', 'SIGNED_IN', 'SIGNED_OUT']);
    assert.equal(await device.read(STORAGE_KEY), null, 'the record is cleared');
    await rejectsWith(client.getIdToken(), 'ERR_SIGNED_OUT');
    await rejectsWith(client.refresh(), 'ERR_SIGNED_OUT');
    assert.equal(await client.getClaims(), null);
    const replay = await open.post(REFRESH_PATH, { session_token: sessionToken });
    assert.equal(replay.status, 401, 'the server revoked the session');
    assert.equal(replay.body.error, 'invalid_session');
  },

  async 'a session revoked on the server: the next refresh signs out and clears storage'({ newDevice, open }) {
    const device = await newDevice();
    const client = await device.launch({ server: open });
    await signUp(client);
    const revoked = await open.post('/v1/logout', { session_token: (await storedRecord(device)).session_token });
    assert.equal(revoked.status, 204);
    await device.moveClock(DUE_BUT_UNEXPIRED_MS);
    await rejectsWith(client.getIdToken(), 'ERR_SIGNED_OUT');
    assert.deepEqual(await client.names(), ['BIND_REQUIRED', 'SIGNED_IN', 'SIGNED_OUT']);
    assert.equal(await device.read(STORAGE_KEY), null);
  },

  async 'a corrupt or foreign stored record means signed out: no throw, no event, the record cleared'({ newDevice, open }) {
    const records = [
      '{"v":1,"id_token":',
      'not json',
      '{"v":99,"id_token":"a","session_token":"b","expires_at":1,"lifetime_ms":1,"session_expires_at":1}',
      '{"v":1,"id_token":42}',
      '[]',
    ];
    for (const record of records) {
      const device = await newDevice();
      await device.write(STORAGE_KEY, record);
      const client = await device.launch({ server: open });
      assert.equal(await client.getClaims(), null, record);
      await rejectsWith(client.getIdToken(), 'ERR_SIGNED_OUT');
      await rejectsWith(client.refresh(), 'ERR_SIGNED_OUT');
      assert.equal(await device.read(STORAGE_KEY), null, `cleared: ${record}`);
      assert.deepEqual(await client.names(), [], record);
      assert.equal(device.traffic.count(REFRESH_PATH), 0);
    }
  },

  async 'clientId keeps two clients apart in one storage'({ newDevice, open }) {
    const device = await newDevice();
    const a = await device.launch({ server: open, clientId: 'a' });
    const b = await device.launch({ server: open, clientId: 'b' });
    await signUp(a);
    assert.equal((await storedRecord(device, `${STORAGE_KEY}:a`)).id_token, await a.getIdToken());
    assert.equal(await device.read(`${STORAGE_KEY}:b`), null);
    assert.equal(await device.read(STORAGE_KEY), null);
    await rejectsWith(b.getIdToken(), 'ERR_SIGNED_OUT');
    await a.logout();
    assert.equal(await device.read(`${STORAGE_KEY}:a`), null);
  },

  async 'server error answers are ERR_SERVER with the status and the server error code'({ newDevice, open }) {
    const device = await newDevice();
    const client = await device.launch({ server: open });
    await rejectsWith(client.loginWithWechat({ code: 'no-such-code' }), 'ERR_SERVER', { status: 400, error: 'wechat_code_invalid' });
    await rejectsWith(client.loginWithWechatPhone({ code: 'no-such-code' }), 'ERR_SERVER', { status: 400, error: 'wechat_code_invalid' });
    await rejectsWith(client.getIdToken(), 'ERR_SIGNED_OUT');
  },

  async 'an unreachable server is ERR_NETWORK'({ newDevice }) {
    const device = await newDevice();
    const client = await device.launch({ server: { url: `http://127.0.0.1:${await unusedPort()}` } });
    await rejectsWith(client.loginWithWechat({ code: 'abc' }), 'ERR_NETWORK');
  },

  async 'registration closed: SOCIAL_BIND, then bind to an existing user by password'({ newDevice, closed }) {
    const device = await newDevice();
    const client = await device.launch({ server: closed });
    const login = await client.loginAs(`social-${unique()}`);
    assert.equal(login.status, 'SOCIAL_BIND');
    assert.ok(login.flows.includes('password'), `flows: ${login.flows}`);
    assert.ok(!login.flows.includes('register'), `flows: ${login.flows}`);
    await rejectsWith(client.register(), 'ERR_SERVER', { status: 403, error: 'flow_not_allowed' });
    const { username, password, userId } = closed.account;
    await rejectsWith(client.bindWithPassword({ username, password: `${password}!` }), 'ERR_SERVER', { status: 401, error: 'invalid_credentials' });
    const bound = await client.bindWithPassword({ username, password });
    assert.equal(bound.status, 'SUCCESS');
    assert.equal(bound.claims.sub, userId, 'the user made by `miniauth users add`');
    assert.equal(bound.claims.iss, closed.url);
    assert.deepEqual(await client.names(), ['BIND_REQUIRED', 'SIGNED_IN']);
    await client.logout();
  },

  async 'WeChat phone: bind with a getPhoneNumber code, then log in with one'({ newDevice, open }) {
    const phone = newPhone();
    const first = await (await newDevice()).launch({ server: open });
    const login = await first.loginAs(`phone-${unique()}`);
    assert.equal(login.status, 'USER_REGISTER');
    assert.ok(login.flows.includes('wechat_phone'), `flows: ${login.flows}`);
    const bound = await first.bindWithWechatPhone({ code: await open.wxPhoneCode(phone) });
    assert.equal(bound.status, 'SUCCESS');
    assert.equal(bound.claims.phone_number, `+86${phone}`);
    const { sub } = bound.claims;
    await first.logout();

    // Another device, another WeChat user: phone-number login finds the owner.
    const second = await (await newDevice()).launch({ server: open });
    const phoneLogin = await second.loginWithWechatPhone({ code: await open.wxPhoneCode(phone) });
    assert.equal(phoneLogin.status, 'SUCCESS');
    assert.equal(phoneLogin.claims.sub, sub);
    assert.deepEqual(await second.names(), ['SIGNED_IN']);
    assert.equal((await open.claimsOf(await second.getIdToken())).sub, sub);
    await second.logout();
  },

  async 'a device clock 2 hours ahead refreshes on time, timed from expires_in'(context) {
    await refreshesOnTimeWithSkew(context, TWO_HOURS_MS);
  },

  async 'a device clock 2 hours behind refreshes on time, timed from expires_in'(context) {
    await refreshesOnTimeWithSkew(context, -TWO_HOURS_MS);
  },

  async 'updateProfile saves the fields, refreshes so the id_token carries them, then USER_UPDATED'({ newDevice, open }) {
    const device = await newDevice();
    const client = await device.launch({ server: open });
    await client.loginAs(`profile-${unique()}`);
    await client.register({ name: 'Xiao Ming' });
    const before = await client.getIdToken();
    const profile = await client.updateProfile({ nickname: '小明', locale: 'zh-CN', gender: 'female' });
    assert.equal(profile.nickname, '小明');
    assert.equal(profile.name, 'Xiao Ming');
    const events = await client.events();
    assert.deepEqual(events.map((e) => e.event), ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED', 'USER_UPDATED']);
    assert.equal(events[3].claims.nickname, '小明', 'USER_UPDATED carries the new claims');
    const claims = await client.getClaims();
    assert.equal(claims.nickname, '小明');
    assert.equal(claims.locale, 'zh-CN');
    assert.notEqual(await client.getIdToken(), before, 'a new id_token');
    assert.equal((await open.claimsOf(await client.getIdToken())).nickname, '小明', 'and it verifies');
    assert.deepEqual(await client.getUserInfo(), profile, 'getUserInfo reads the same profile');

    const cleared = await client.updateProfile({ nickname: null });
    assert.equal(cleared.nickname, undefined);
    assert.equal((await client.getClaims()).nickname, undefined);
    await rejectsWith(client.updateProfile({ phone_number: '+8613800000000' }), 'ERR_SERVER', { status: 400, error: 'invalid_request' });
    await rejectsWith(client.updateProfile({ picture: 'http://insecure.example.com/a.png' }), 'ERR_SERVER', { status: 400 });
    await rejectsWith(client.updateProfile('nickname'), 'ERR_INVALID_ARGUMENT');
    await client.logout();
    await rejectsWith(client.updateProfile({ nickname: 'x' }), 'ERR_SIGNED_OUT');
    await rejectsWith(client.getUserInfo(), 'ERR_SIGNED_OUT');
  },

  async "the app's API: a listed origin gets a fresh Bearer id_token; any other origin gets none"({ newDevice, open }) {
    const api = await startAppApi();
    const elsewhere = await startAppApi();
    try {
      const client = await (await newDevice()).launch({ server: open, tokenOrigins: [api.url] });
      await rejectsWith(client.api(`${api.url}/me`), 'ERR_SIGNED_OUT');
      assert.equal((await client.api(`${elsewhere.url}/open`)).status, 200, 'elsewhere needs no session');
      await signUp(client);

      const me = await client.api(`${api.url}/me?x=1`);
      assert.equal(me.status, 200);
      assert.equal(me.body.authorization, `Bearer ${await client.getIdToken()}`);
      assert.equal(me.body.path, '/me?x=1');
      const posted = await client.api(`${api.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
      assert.deepEqual([posted.body.method, posted.body.body, posted.body.authorization.startsWith('Bearer ')], ['POST', '{"n":1}', true]);
      const other = await client.api(`${elsewhere.url}/track`, { headers: { authorization: 'Basic mine' } });
      assert.equal(other.body.authorization, 'Basic mine', 'another origin: sent as it is, without the id_token');
      const lookalike = `${api.url.replace('127.0.0.1', 'localhost')}/me`;
      assert.equal((await client.api(lookalike)).body.authorization, null, 'the same server under another name');
    } finally {
      await api.close();
      await elsewhere.close();
    }
  },

  async "the app's API: a 401 refreshes once and sends once more; 20 concurrent requests share that refresh"({ newDevice, open }) {
    const api = await startAppApi();
    const strict = await startAppApi();
    try {
      const device = await newDevice();
      const client = await device.launch({ server: open, tokenOrigins: [api.url] });
      await signUp(client);
      const first = await client.getIdToken();
      api.refuse(first);
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => client.api(`${api.url}/item/${i}`)));
      assert.deepEqual(responses.map((r) => r.status), Array(20).fill(200));
      const second = await client.getIdToken();
      assert.notEqual(second, first);
      assert.equal(device.traffic.count(REFRESH_PATH), 1, 'one refresh for all of them');
      assert.deepEqual(await client.names(), ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED']);
      const tokens = api.seen.map((r) => r.token);
      assert.equal(tokens.filter((t) => t === second).length, 20, 'each sent once more with the new token');
      assert.ok(tokens.every((t) => t === first || t === second));

      // Still 401 with a fresh token: the answer is the app's to handle, after one retry.
      strict.refuseAll();
      const other = await (await newDevice()).launch({ server: open, tokenOrigins: [strict.url] });
      await signUp(other);
      assert.equal((await other.api(`${strict.url}/forbidden`)).status, 401);
      assert.equal(strict.seen.length, 2, 'sent twice, no more');
      assert.notEqual(strict.seen[0].token, strict.seen[1].token, 'the second time with a refreshed token');
    } finally {
      await api.close();
      await strict.close();
    }
  },

  async 'a refresh answered 200 with a page instead of tokens backs off like a 5xx, the delays growing'({ newDevice, open }) {
    const device = await newDevice();
    const client = await device.launch({ server: open });
    await signUp(client);
    // A captive portal or a proxy's error page, answered with 200 to every refresh.
    device.traffic.hook = ({ path }) =>
      path === REFRESH_PATH ? { status: 200, contentType: 'text/html', body: '<html>Sign in to the Wi-Fi</html>' } : undefined;
    await device.moveClock(DUE_BUT_UNEXPIRED_MS);
    await client.getIdToken(); // starts the refresh; the unexpired token is still served
    const deadline = Date.now() + 10_000;
    const failures = async () => (await client.events()).filter((e) => e.event === 'REFRESH_FAILED').map((e) => e.at);
    while ((await failures()).length < 5 && Date.now() < deadline) await sleep(20);
    assertBackoffGrows(await failures());
  },

  // refreshMargin is SessionCore.create(min_margin_ms). The core never
  // refreshes in the first half of a token's life, so a margin longer than
  // the lifetime cannot make every new token "due" and loop.
  async 'a refreshMargin longer than the token lifetime does not refresh in a loop'({ newDevice, open }) {
    const device = await newDevice();
    const setup = await device.launch({ server: open });
    await signUp(setup);
    await setup.close();
    // Bounded: after 5 refreshes every refresh fails, so a loop backs off instead of hammering the server.
    device.traffic.hook = ({ path }) =>
      path === REFRESH_PATH && device.traffic.count(REFRESH_PATH) > 5 ? { status: 503, contentType: 'text/plain', body: 'stopped' } : undefined;
    const client = await device.launch({ server: open, refreshMargin: 1e9 });
    await Promise.all(Array.from({ length: 50 }, () => client.getIdToken()));
    assert.equal(device.traffic.count(REFRESH_PATH), 0, 'a token in the first half of its life is fresh, whatever the margin');
    await client.refresh();
    await sleep(300);
    assert.equal(device.traffic.count(REFRESH_PATH), 1, 'the refreshed token is not refreshed again at once');
    await client.logout();
  },
};

/**
 * Registers one test per scenario. After each, every device it made is
 * closed and a server it stopped is started again.
 * @param {() => { newDevice: () => Promise<object>, servers: { open: object, closed: object } }} getContext
 *   called when the tests run (after before() hooks)
 */
export function registerClientCases(getContext) {
  for (const [name, scenario] of Object.entries(CLIENT_CASES)) {
    test(name, async () => {
      const { newDevice, servers } = getContext();
      const devices = [];
      const track = async () => {
        const device = await newDevice();
        devices.push(device);
        return device;
      };
      try {
        await scenario({ newDevice: track, open: servers.open, closed: servers.closed });
      } finally {
        for (const device of devices) await device.close();
        for (const server of [servers.open, servers.closed]) if (!server.running) await server.start();
      }
    });
  }
}
