// End to end: a Mini Program in the strict simulator (tests/miniprogram-sim/)
// with the built package laid out as "Build npm" lays it out
// (miniprogram_npm/miniauth from pkg/miniprogram_dist), the real reference
// identity server (target/debug/miniauth serve, WeChat-simulator mode) and
// the examples/node-backend API, all on loopback. AuthClient is created in
// the sandbox from sim.require('miniauth'); wx.login answers with codes the
// server's /sim/wx/login mints for a chosen openid; every HTTP request of
// the client is a wx.request over real HTTP.
//
// Where a refresh must be due, the client's clock (AuthClient's `now`
// option) is moved instead of waiting 13 minutes.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAppApi } from './support/app-api.mjs';
import { assertBackoffGrows } from './support/backoff.mjs';
import { MiniProgramSim, writeCodePackage } from './support/miniprogram.mjs';
import { SERVER_BINARY, SIMULATOR_AUDIENCE, buildServer, freePort, miniauthServer } from './support/miniauth-server.mjs';
import { PKG_DIR, ROOT } from './support/paths.mjs';

const require = createRequire(import.meta.url);
// The Node build of the package, as the backend gets it from require('miniauth').
const miniauthNode = require(join(PKG_DIR, 'node', 'index.cjs'));
const BACKEND_DIR = join(ROOT, 'examples', 'node-backend');
const { createBackend } = require(join(BACKEND_DIR, 'backend.js'));

const STORAGE_KEY = 'miniauth.session';
// The server's id_token lives 900 s; the core refreshes when less than
// max(60 s, 10 %) remains: not due at 800 s, due at 850 s, expired at 900 s.
const NOT_YET_DUE_MS = 800_000;
const DUE_BUT_UNEXPIRED_MS = 850_000;
const TWO_HOURS_MS = 2 * 3600_000;

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const newPhone = () => `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

let workDir;
let codeRoot;
let open; // registration open (USER_REGISTER)
let closed; // registration closed (SOCIAL_BIND), with one password user
let backend;
let backendUrl;
const sims = [];
const clients = [];

/**
 * A reference server with extra `serve` flags (support/miniauth-server.mjs
 * takes none): started on a free loopback port, stopped in after().
 */
async function startServerWithArgs(database, extraArgs) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(MINIAUTH_|WECHAT_)/.test(name)));
  const child = spawn(SERVER_BINARY, ['serve', '--listen', `127.0.0.1:${port}`, '--database', database, '--rate-limit-ip', '100000', ...extraArgs], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk) => {
    output = (output + chunk).slice(-8192);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let gone = false;
  exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (gone) throw new Error(`the server exited at start:\n${output}`);
    try {
      if ((await fetch(`${url}/.well-known/jwks.json`)).status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not answer within 15 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    async kill() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
    async wxLoginCode(openid) {
      return simCode(url, '/sim/wx/login', { openid });
    },
  };
}

async function simCode(url, path, body) {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = await response.json();
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${JSON.stringify(answer)}`);
  return answer.code;
}

/** `miniauth users add --password-stdin`: the password is one line on stdin. Resolves to the new user's id. */
function addPasswordUser(database, username, password) {
  return new Promise((resolve, reject) => {
    const child = execFile(SERVER_BINARY, ['users', 'add', '--database', database, '--username', username, '--password-stdin'], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`users add failed: ${error.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
    child.stdin.end(`${password}\n`);
  });
}

before(async () => {
  await buildServer();
  workDir = mkdtempSync(join(tmpdir(), 'miniauth-e2e-'));

  open = miniauthServer({ port: await freePort(), database: join(workDir, 'open.db') });
  await open.start();

  const closedDb = join(workDir, 'closed.db');
  closed = { username: `u${unique()}`, password: `pw-${unique()} with spaces` };
  closed.userId = await addPasswordUser(closedDb, closed.username, closed.password);
  Object.assign(closed, await startServerWithArgs(closedDb, ['--registration', 'closed']));

  backend = createBackend({ miniauth: miniauthNode, issuer: open.url, audience: SIMULATOR_AUDIENCE });
  backendUrl = await backend.listen(0, '127.0.0.1');

  // The Mini Program code package, as WeChat DevTools' "Build npm" lays it out.
  codeRoot = writeCodePackage(join(workDir, 'miniprogram'));
});

after(async () => {
  for (const client of clients) client.close();
  for (const sim of sims) sim.dispose();
  await backend?.close();
  await open?.kill();
  await closed?.kill?.();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/**
 * A Mini Program start: a simulator over `storage` whose wx.login gives codes
 * for `state.openid` from `server`, and an AuthClient made in the sandbox.
 * `refreshes` counts POST /v1/session/refresh requests made through wx.request.
 */
async function startApp({ server = open, storage = new Map(), openid = `mp-${unique()}`, clientOptions = {} } = {}) {
  // `app.answer(req)`, when set, answers a wx.request instead of the network.
  const app = { openid, storage, refreshes: 0, events: [], answer: undefined };
  const sim = new MiniProgramSim({
    root: codeRoot,
    storage,
    login: async () => ({ code: await server.wxLoginCode(app.openid) }),
    onRequest: (req) => {
      if (req.url.endsWith('/v1/session/refresh')) app.refreshes += 1;
      return app.answer?.(req); // undefined: over the network
    },
  });
  sims.push(sim);
  const mp = sim.require('miniauth');
  await mp.ready;
  const client = new mp.AuthClient({ baseUrl: server.url, ...clientOptions });
  clients.push(client);
  client.onAuthStateChange((event) => app.events.push(event));
  await client.ready;
  return Object.assign(app, { sim, mp, client });
}

/** The record the client keeps in wx storage (wx storage holds JSON text of the stored string). */
function storedRecord(storage) {
  const text = storage.get(STORAGE_KEY);
  return text === undefined ? null : JSON.parse(JSON.parse(text));
}

/** GET /api/me on the backend with wx.request, from inside the sandbox. */
function apiMeFromSandbox(sim, token) {
  return new Promise((resolve, reject) => {
    sim.global.wx.request({
      url: `${backendUrl}/api/me`,
      method: 'GET',
      header: { Authorization: `Bearer ${token}` },
      // Copied out of the sandbox's realm, so deepStrictEqual compares plain objects.
      success: (res) => resolve({ status: res.statusCode, body: JSON.parse(JSON.stringify(res.data)) }),
      fail: (res) => reject(new Error(res.errMsg)),
    });
  });
}

async function apiMe(token) {
  const response = await fetch(`${backendUrl}/api/me`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

/** The same token with one claim changed and the signature kept. */
function tampered(token, changes) {
  const [header, payload, signature] = token.split('.');
  const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), ...changes };
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

const rejectsWith = (mp, promise, code, fields = {}) =>
  assert.rejects(promise, (error) => {
    assert.ok(error instanceof mp.MiniAuthError, `a MiniAuthError of the sandbox, got ${error}`);
    assert.equal(error.code, code, error.message);
    for (const [name, value] of Object.entries(fields)) assert.equal(error[name], value, name);
    return true;
  });

describe('a Mini Program end to end: simulator + reference server + node-backend', { timeout: 60_000 }, () => {
  // One user's life, carried from test to test over one wx storage.
  const storage = new Map();
  const phone = newPhone();
  let openid;
  let sub;

  test('a new user: USER_REGISTER, an SMS code binds; the backend accepts the id_token and refuses a tampered one', async () => {
    const app = await startApp({ storage });
    openid = app.openid;
    const { client, mp, sim } = app;
    const login = await client.loginWithWechat(); // wx.login inside
    assert.equal(login.status, 'USER_REGISTER');
    assert.ok(login.flows.includes('sms_code'), `flows: ${login.flows}`);
    await rejectsWith(mp, client.getIdToken(), 'ERR_BIND_REQUIRED');

    await client.sendVerifyCode({ channel: 'sms', to: phone });
    const code = await open.lastCodeSentTo(phone);
    const bound = await client.bindWithVerifyCode({ channel: 'sms', to: phone, code });
    assert.equal(bound.status, 'SUCCESS');
    assert.equal(bound.claims.phone_number, `+86${phone}`);
    assert.equal(bound.claims.aud, SIMULATOR_AUDIENCE);
    sub = bound.claims.sub;
    assert.deepEqual(app.events, ['BIND_REQUIRED', 'SIGNED_IN']);

    const token = await client.getIdToken();
    assert.deepEqual(await apiMeFromSandbox(sim, token), { status: 200, body: { sub, phone_number: `+86${phone}` } });

    const forged = tampered(token, { sub: 'someone-else' });
    const refused = await apiMeFromSandbox(sim, forged);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    // And from Node: no token, or not a JWS.
    const missing = await apiMe();
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error, 'ERR_JWT_INVALID');
    assert.deepEqual((await apiMe('not.a.jwt')).body.error, 'ERR_JWS_INVALID');
  });

  test('refresh() rotates; the old session_token replayed within the grace window gets the same new pair', async () => {
    const { client, refreshes: before } = await startApp({ storage });
    const old = storedRecord(storage);
    const { claims } = await client.refresh();
    assert.equal(claims.sub, sub);
    const rotated = storedRecord(storage);
    // (The id_token itself may come back identical: RS256 is deterministic
    // and a refresh within the same second signs the same claims.)
    assert.notEqual(rotated.session_token, old.session_token, 'the session token rotated');
    assert.equal(before, 0);
    assert.equal((await apiMe(rotated.id_token)).status, 200);

    // A client that lost the answer may retry within the server's 10 s
    // grace window and gets the same pair. Replay after the window (which
    // revokes the whole session family) is left to the server's own tests
    // (tests/server_attacks.rs, refresh_replay_after_the_grace_window_*,
    // with an injected clock), rather than sleeping 10 s here.
    const replay = await open.post('/v1/session/refresh', { session_token: old.session_token });
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.equal(replay.body.session_token, rotated.session_token, 'the same rotated session_token');
    assert.equal(replay.body.id_token, rotated.id_token, 'the same id_token');
  });

  test('an app restart (a second MiniProgramSim over the same storage) restores the session', async () => {
    const app = await startApp({ storage, openid });
    assert.deepEqual(app.events, ['SIGNED_IN']);
    assert.equal((await app.client.getClaims()).sub, sub);
    const token = await app.client.getIdToken();
    assert.equal(token, storedRecord(storage).id_token, 'no refresh was due');
    assert.equal(app.refreshes, 0);
    assert.equal((await apiMeFromSandbox(app.sim, token)).body.sub, sub);
    // The openid is bound now: wx.login signs straight in.
    const again = await app.client.loginWithWechat();
    assert.equal(again.status, 'SUCCESS');
    assert.equal(again.claims.sub, sub);
  });

  test('logout signs out here and on the server', async () => {
    const { client, mp, events } = await startApp({ storage, openid });
    const { session_token: sessionToken } = storedRecord(storage);
    await client.logout();
    assert.deepEqual(events, ['SIGNED_IN', 'SIGNED_OUT']);
    assert.equal(storage.has(STORAGE_KEY), false);
    await rejectsWith(mp, client.getIdToken(), 'ERR_SIGNED_OUT');
    const replay = await open.post('/v1/session/refresh', { session_token: sessionToken });
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error, 'invalid_session');
  });
});

describe('other ways in', { timeout: 60_000 }, () => {
  test('registration closed: SOCIAL_BIND, then bind to an existing user by password', async () => {
    const { client, events } = await startApp({ server: closed });
    const login = await client.loginWithWechat();
    assert.equal(login.status, 'SOCIAL_BIND');
    assert.ok(login.flows.includes('password'), `flows: ${login.flows}`);
    assert.ok(!login.flows.includes('register'), `flows: ${login.flows}`);
    const bound = await client.bindWithPassword({ username: closed.username, password: closed.password });
    assert.equal(bound.status, 'SUCCESS');
    assert.equal(bound.claims.sub, closed.userId, 'the user made by `miniauth users add`');
    assert.equal(bound.claims.iss, closed.url);
    assert.deepEqual(events, ['BIND_REQUIRED', 'SIGNED_IN']);
    // The backend trusts only its own issuer.
    const other = await apiMe(await client.getIdToken());
    assert.equal(other.status, 401);
    assert.ok(/^ERR_(JWKS_NO_MATCHING_KEY|JWT_CLAIM_VALIDATION_FAILED|JWS_SIGNATURE_VERIFICATION_FAILED)$/.test(other.body.error), other.body.error);
    await client.logout();
  });

  test('WeChat phone: bind with a getPhoneNumber code, then log in with one', async () => {
    const phone = newPhone();
    const first = await startApp();
    const login = await first.client.loginWithWechat();
    assert.equal(login.status, 'USER_REGISTER');
    assert.ok(login.flows.includes('wechat_phone'), `flows: ${login.flows}`);
    const bound = await first.client.bindWithWechatPhone({ code: await simCode(open.url, '/sim/wx/phone', { phone }) });
    assert.equal(bound.status, 'SUCCESS');
    assert.equal(bound.claims.phone_number, `+86${phone}`);
    const { sub } = bound.claims;
    assert.deepEqual(await apiMeFromSandbox(first.sim, await first.client.getIdToken()), { status: 200, body: { sub, phone_number: `+86${phone}` } });
    await first.client.logout();

    // Another device, another WeChat user: phone-number login finds the owner.
    const second = await startApp();
    const phoneLogin = await second.client.loginWithWechatPhone({ code: await simCode(open.url, '/sim/wx/phone', { phone }) });
    assert.equal(phoneLogin.status, 'SUCCESS');
    assert.equal(phoneLogin.claims.sub, sub);
    assert.deepEqual(second.events, ['SIGNED_IN']);
    assert.equal((await apiMe(await second.client.getIdToken())).body.sub, sub);
    await second.client.logout();
  });

  for (const [label, skew] of [
    ['2 hours ahead', TWO_HOURS_MS],
    ['2 hours behind', -TWO_HOURS_MS],
  ]) {
    test(`a device clock ${label} refreshes on time, timed from expires_in`, async () => {
      const clock = { offset: skew, now: () => Date.now() + clock.offset };
      const app = await startApp({ clientOptions: { now: clock.now } });
      const { client } = app;
      await client.loginWithWechat();
      const loginAt = clock.now();
      const registered = await client.register();
      assert.equal(registered.status, 'SUCCESS');
      const first = storedRecord(app.storage);
      // Expiry is kept in the device's clock: arrival + expires_in.
      const expiresIn = first.expires_at - loginAt;
      assert.ok(expiresIn > 895_000 && expiresIn <= 905_000, `expires_at is ${expiresIn} ms after the device's login time`);

      // Neither expired (the exp claim is 2 h in the device's past) nor
      // not-yet-valid (iat 2 h in its future): served as is, no refresh.
      assert.equal(await client.getIdToken(), first.id_token);
      clock.offset += NOT_YET_DUE_MS;
      assert.equal(await client.getIdToken(), first.id_token, 'not due 800 s in');
      assert.equal(app.refreshes, 0);

      clock.offset += DUE_BUT_UNEXPIRED_MS - NOT_YET_DUE_MS;
      const refreshed = await client.getIdToken();
      assert.equal(app.refreshes, 1, 'due 850 s in: one refresh');
      const second = storedRecord(app.storage);
      assert.notEqual(second.session_token, first.session_token, 'rotated');
      assert.equal(refreshed, second.id_token);
      // Timed afresh from the refresh answer's expires_in, in the device's clock.
      const renewedFor = second.expires_at - clock.now();
      assert.ok(renewedFor > 890_000 && renewedFor <= 905_000, `the refreshed token expires ${renewedFor} ms from the device's now`);
      assert.equal(await client.getIdToken(), refreshed);
      assert.equal(app.refreshes, 1, 'the refreshed token is fresh');
      assert.equal((await apiMe(refreshed)).status, 200, 'the server-side clock is right: the backend accepts it');
      assert.deepEqual(app.events, ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED']);
      await client.logout();
    });
  }
});

describe('examples/node-backend/server.js', { timeout: 30_000 }, () => {
  let child;
  let nodePath;

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (nodePath) rmSync(nodePath, { recursive: true, force: true });
  });

  test("runs as a program with require('miniauth') resolved to pkg/", async () => {
    // An app's node_modules/miniauth, pointed at the built package.
    nodePath = mkdtempSync(join(tmpdir(), 'miniauth-e2e-node-path-'));
    mkdirSync(join(nodePath, 'node_modules'));
    symlinkSync(PKG_DIR, join(nodePath, 'node_modules', 'miniauth'), 'dir');
    child = spawn(process.execPath, [join(BACKEND_DIR, 'server.js')], {
      cwd: BACKEND_DIR,
      env: { PATH: process.env.PATH, NODE_PATH: join(nodePath, 'node_modules'), MINIAUTH_ISSUER: open.url, MINIAUTH_AUDIENCE: SIMULATOR_AUDIENCE, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server.js did not start within 10 s:\n${output}`)), 10_000);
      const onData = (chunk) => {
        output += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server.js exited with ${code}:\n${output}`));
      });
    });

    const state = await open.post('/v1/login/wechat', { code: await open.wxLoginCode(`cli-${unique()}`) });
    assert.equal(state.body.status, 'USER_REGISTER');
    const registered = await open.post('/v1/register', { state_token: state.body.state_token });
    assert.equal(registered.status, 200);
    const { id_token: token, session_token: sessionToken } = registered.body;

    const ok = await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).sub, miniauthNode.decodeJwt(token).sub);
    const bad = await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${tampered(token, { sub: 'x' })}` } });
    assert.equal(bad.status, 401);
    assert.equal((await bad.json()).error, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    await open.post('/v1/logout', { session_token: sessionToken });
  });
});

describe('a Mini Program calls its own backend and edits the profile', { timeout: 60_000 }, () => {
  let elsewhere;
  let strict;
  before(async () => {
    elsewhere = await startAppApi();
    strict = await startAppApi();
  });
  after(async () => {
    await elsewhere?.close();
    await strict?.close();
  });

  /** The plain data of a wx.request answer, copied out of the sandbox's realm. */
  const plain = (res) => JSON.parse(JSON.stringify({ statusCode: res.statusCode, data: res.data }));

  test('auth.request sends a fresh Bearer id_token to tokenOrigins only, and retries a 401 once after a refresh', async () => {
    const app = await startApp({ clientOptions: { tokenOrigins: [backendUrl, strict.url] } });
    const { client, mp } = app;
    await client.loginWithWechat();
    const { claims } = await client.register();

    const me = plain(await client.request({ url: `${backendUrl}/api/me`, method: 'GET' }));
    assert.deepEqual(me, { statusCode: 200, data: { sub: claims.sub } }, 'the backend verified the token it was sent');
    const other = plain(await client.request({ url: `${elsewhere.url}/track`, method: 'POST', data: { n: 1 }, header: { 'x-app': '1' } }));
    assert.equal(other.data.authorization, null, 'an origin not listed gets no token');
    assert.equal(other.data.body, '{"n":1}');

    const first = await client.getIdToken();
    strict.refuse(first);
    const refreshesBefore = app.refreshes;
    const retried = plain(await client.request({ url: `${strict.url}/orders` }));
    assert.equal(retried.statusCode, 200);
    assert.equal(app.refreshes - refreshesBefore, 1, 'one refresh');
    assert.deepEqual(strict.seen.map((r) => r.token), [first, await client.getIdToken()], 'sent twice: old token, then the new one');
    assert.notEqual(strict.seen[1].token, first);

    await rejectsWith(mp, client.request({ url: `${strict.url}/x`, success: () => {} }).then(() => client.fetch(`${strict.url}/x`)), 'ERR_NOT_SUPPORTED');
    await rejectsWith(mp, client.request({ url: 'http://127.0.0.1:9/closed' }), 'ERR_NETWORK');
  });

  test('a refresh answered 200 with a portal page backs off, the delays growing', async () => {
    const clock = { offset: 0, now: () => Date.now() + clock.offset };
    const app = await startApp({ clientOptions: { now: clock.now } });
    const failures = [];
    app.client.onAuthStateChange((event) => {
      if (event === 'REFRESH_FAILED') failures.push(Date.now());
    });
    await app.client.loginWithWechat();
    await app.client.register();
    app.answer = (req) => (req.url.endsWith('/v1/session/refresh') ? { statusCode: 200, data: '<html>Wi-Fi login</html>' } : undefined);
    clock.offset += DUE_BUT_UNEXPIRED_MS;
    await app.client.getIdToken();
    const deadline = Date.now() + 10_000;
    while (failures.length < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assertBackoffGrows(failures);
    app.answer = undefined;
  });

  test('updateProfile and getUserInfo: the refreshed id_token carries the nickname, then USER_UPDATED', async () => {
    const app = await startApp();
    const { client } = app;
    await client.loginWithWechat();
    await client.register({ name: 'Mini' });
    const profile = JSON.parse(JSON.stringify(await client.updateProfile({ nickname: '小程序用户', gender: 'female' })));
    assert.equal(profile.nickname, '小程序用户');
    assert.deepEqual(app.events.slice(-2), ['TOKEN_REFRESHED', 'USER_UPDATED']);
    assert.equal((await client.getClaims()).nickname, '小程序用户');
    assert.deepEqual(JSON.parse(JSON.stringify(await client.getUserInfo())), profile);
  });
});
