// The Mini Program end to end: the strict simulator (tests/miniprogram-sim/)
// with the built package laid out as "Build npm" lays it out
// (miniprogram_npm/miniauth from pkg/miniprogram_dist), the real reference
// identity servers (target/debug/miniauth serve, WeChat-simulator mode) and
// the examples/node-backend API, all on loopback. AuthClient is created in
// the sandbox from require('miniauth'); wx.login answers with codes the
// server's /sim/wx/login mints for a chosen openid; every HTTP request of
// the client is a wx.request over real HTTP.
//
// First the shared client scenarios (client-cases.mjs) through the Mini
// Program adapter below, then what only Mini Programs have: auth.request
// (wx.request's data and callbacks), wx.onAppShow, and the node-backend
// example called from the sandbox; last, Douyin's sign-in (tt.login codes
// minted by /sim/tt/login) in the simulator's Douyin flavour.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerClientCases } from './client-cases.mjs';
import { startAppApi } from './support/app-api.mjs';
import { clientHandle, deviceTraffic, movableClock, startClientServers, unique } from './support/client-runtime.mjs';
import { HOST_SIGN_IN, MiniProgramSim, buildCodePackage } from './support/miniprogram.mjs';
import { SIMULATOR_AUDIENCE } from './support/miniauth-server.mjs';
import { spawnReady } from './support/spawn-ready.mjs';
import { PKG_DIR, ROOT } from './support/paths.mjs';

const require = createRequire(import.meta.url);
// The Node build of the package, as the backend gets it from require('miniauth').
const miniauthNode = require(join(PKG_DIR, 'node', 'index.cjs'));
const BACKEND_DIR = join(ROOT, 'examples', 'node-backend');
const { createBackend } = require(join(BACKEND_DIR, 'backend.js'));

const STORAGE_KEY = 'miniauth.session';
const REFRESH_PATH = '/v1/session/refresh';
// The server's id_token lives 900 s; due (but unexpired) 850 s in.
const DUE_BUT_UNEXPIRED_MS = 850_000;

let workDir;
let codeRoot;
let servers;
let open;
let backend;
let backendUrl;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'miniauth-e2e-'));
  servers = await startClientServers(workDir);
  ({ open } = servers);
  backend = createBackend({ miniauth: miniauthNode, issuer: open.url, audience: SIMULATOR_AUDIENCE });
  backendUrl = await backend.listen(0, '127.0.0.1');
  codeRoot = buildCodePackage({});
});

after(async () => {
  await backend?.close();
  await servers?.stop();
  if (codeRoot) rmSync(codeRoot, { recursive: true, force: true });
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/**
 * The Mini Program adapter of the client scenarios: a device is a host
 * storage (one Map its simulators share), a clock and the user its
 * wx.login (tt.login on Douyin) answers for; an app start is a new
 * simulator over the code package, whose wx.request passes the device's
 * traffic record first. A handle also carries the simulator, the sandbox's
 * package and its AuthClient, for this file's own tests.
 */
function miniProgramDevice({ host = 'wechat' } = {}) {
  const signIn = HOST_SIGN_IN[host];
  const storage = new Map();
  const clock = movableClock();
  const traffic = deviceTraffic();
  const person = { server: null, openid: null };
  const sims = [];
  return {
    traffic,
    now: clock.now,
    moveClock: clock.move,
    // wx storage keeps the JSON text of each value.
    read: async (key) => (storage.has(key) ? JSON.parse(storage.get(key)) : null),
    write: async (key, text) => {
      storage.set(key, JSON.stringify(text));
    },
    async launch({ server, ...options }) {
      const sim = new MiniProgramSim({
        root: codeRoot,
        host,
        storage,
        login: async () => ({ code: await signIn.code(person.server, person.openid) }),
        onRequest: async (req) => {
          const answer = await traffic.intercept(req.method, req.url);
          return answer && { statusCode: answer.status, header: { 'Content-Type': answer.contentType }, data: answer.body };
        },
      });
      sims.push(sim);
      const entry = sim.require('test/index.js');
      await entry.miniauth.ready;
      const driver = entry.clientDriver({ clientOptions: { now: clock.now }, appApi: 'request' });
      const id = driver.create({ baseUrl: server.url, ...options });
      // No code: the login method calls the host's login itself, answered for `openid`.
      const loginArgs = async (openid) => {
        Object.assign(person, { server, openid });
        return [];
      };
      const handle = clientHandle((op, args) => driver.send(id, op, args), loginArgs, signIn.method);
      return Object.assign(handle, { sim, mp: entry.miniauth, client: driver.client(id) });
    },
    close: async () => {
      for (const sim of sims) sim.dispose();
    },
  };
}

describe('the client scenarios in the Mini Program simulator (wx.login, wx.request, wx storage)', { timeout: 120_000 }, () => {
  registerClientCases(() => ({ newDevice: async () => miniProgramDevice(), servers }));
});

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

const rejectsWith = (mp, promise, code) =>
  assert.rejects(promise, (error) => {
    assert.ok(error instanceof mp.MiniAuthError, `a MiniAuthError of the sandbox, got ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  });

/** A new app on a new device, signed in as a newly registered WeChat user. */
async function signedInApp(options = {}) {
  const device = miniProgramDevice();
  const app = await device.launch({ server: open, ...options });
  await app.loginAs(`mp-${unique()}`);
  const { claims } = await app.register();
  return { device, app, claims };
}

describe('what only Mini Programs have', { timeout: 60_000 }, () => {
  /** The plain data of a wx.request answer, copied out of the sandbox's realm. */
  const plain = (res) => JSON.parse(JSON.stringify({ statusCode: res.statusCode, data: res.data }));

  test('auth.request sends the id_token to the node-backend, which verifies it; wx.request data and callbacks; no fetch; a failed wx.request is ERR_NETWORK', async () => {
    const elsewhere = await startAppApi();
    const { device, app, claims } = await signedInApp({ tokenOrigins: [backendUrl] });
    const { client, mp } = app;
    try {
      const me = plain(await client.request({ url: `${backendUrl}/api/me`, method: 'GET' }));
      assert.deepEqual(me, { statusCode: 200, data: { sub: claims.sub } }, 'the backend verified the token it was sent');
      const other = plain(await client.request({ url: `${elsewhere.url}/track`, method: 'POST', data: { n: 1 }, header: { 'x-app': '1' } }));
      assert.equal(other.data.authorization, null, 'an origin not listed gets no token');
      assert.equal(other.data.body, '{"n":1}', 'wx.request encodes an object as JSON');
      // The promise takes the place of the callbacks; fetch is not there in a Mini Program.
      await rejectsWith(mp, client.request({ url: `${elsewhere.url}/x`, success: () => {} }).then(() => client.fetch(`${elsewhere.url}/x`)), 'ERR_NOT_SUPPORTED');
      await rejectsWith(mp, client.request({ url: 'http://127.0.0.1:9/closed' }), 'ERR_NETWORK');
    } finally {
      await device.close();
      await elsewhere.close();
    }
  });

  test("the node-backend refuses a tampered id_token, none, garbage and another issuer's", async () => {
    const { device, app } = await signedInApp();
    try {
      const forged = tampered(await app.getIdToken(), { sub: 'someone-else' });
      const refused = await apiMeFromSandbox(app.sim, forged);
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
      const missing = await apiMe();
      assert.equal(missing.status, 401);
      assert.equal(missing.body.error, 'ERR_JWT_INVALID');
      assert.equal((await apiMe('not.a.jwt')).body.error, 'ERR_JWS_INVALID');
      // The backend trusts only its own issuer: the registration-closed server's user, logged in by phone.
      const { closed } = servers;
      const other = await closed.post('/v1/login/wechat-phone', { code: await closed.wxPhoneCode(closed.account.phone) });
      assert.equal(other.status, 200, JSON.stringify(other.body));
      const foreign = await apiMe(other.body.id_token);
      assert.equal(foreign.status, 401);
      assert.ok(/^ERR_(JWKS_NO_MATCHING_KEY|JWT_CLAIM_VALIDATION_FAILED|JWS_SIGNATURE_VERIFICATION_FAILED)$/.test(foreign.body.error), foreign.body.error);
      await closed.post('/v1/logout', { session_token: other.body.session_token });
    } finally {
      await device.close();
    }
  });

  test('coming back to the foreground (wx.onAppShow) refreshes when due', async () => {
    const { device, app } = await signedInApp();
    try {
      const before = JSON.parse(await device.read(STORAGE_KEY));
      await device.moveClock(DUE_BUT_UNEXPIRED_MS);
      await sleep(100);
      assert.equal(device.traffic.count(REFRESH_PATH), 0, 'nothing wakes the session before the app is shown');
      app.sim.emitAppShow({ scene: 1001 });
      const deadline = Date.now() + 5000;
      while (!(await app.names()).includes('TOKEN_REFRESHED') && Date.now() < deadline) await sleep(20);
      assert.deepEqual(await app.names(), ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED']);
      assert.equal(device.traffic.count(REFRESH_PATH), 1);
      assert.notEqual(JSON.parse(await device.read(STORAGE_KEY)).session_token, before.session_token);
    } finally {
      await device.close();
    }
  });
});

describe('Douyin: loginWithDouyin() with tt.login, tt.request and tt storage, against the Douyin simulator of the server', { timeout: 60_000 }, () => {
  test('a Douyin user registers, its id_token (amr douyin) passes the node-backend, and it signs in again on another device and after a restart', async () => {
    const openid = `tt-${unique()}`;
    const phone = miniProgramDevice({ host: 'douyin' });
    const other = miniProgramDevice({ host: 'douyin' });
    const wechatPhone = miniProgramDevice();
    try {
      const app = await phone.launch({ server: open, tokenOrigins: [backendUrl] });
      assert.equal(app.sim.global.wx, undefined, 'a Douyin runtime has no wx');
      const login = await app.loginAs(openid);
      assert.equal(login.status, 'USER_REGISTER');
      assert.ok(!login.flows.includes('wechat_phone'), `no WeChat phone flow on Douyin: ${login.flows}`);
      const { claims } = await app.register();
      assert.deepEqual(claims.amr, ['douyin']);
      assert.equal(phone.traffic.count('/v1/login/douyin'), 1);
      assert.equal(phone.traffic.count('/v1/login/wechat'), 0);

      const res = await app.client.request({ url: `${backendUrl}/api/me`, method: 'GET' });
      assert.deepEqual(JSON.parse(JSON.stringify({ statusCode: res.statusCode, data: res.data })), { statusCode: 200, data: { sub: claims.sub } });

      // The same person on a second phone is the same user, signed in at once.
      const second = await other.launch({ server: open });
      const again = await second.loginAs(openid);
      assert.equal(again.status, 'SUCCESS');
      assert.equal((await open.claimsOf(await second.getIdToken())).sub, claims.sub);

      // A restart restores the session from tt storage, with no new login.
      const restarted = await phone.launch({ server: open });
      await restarted.ready();
      assert.equal((await open.claimsOf(await restarted.getIdToken())).sub, claims.sub);
      assert.equal(phone.traffic.count('/v1/login/douyin'), 1);

      // The same openid on WeChat is somebody else: identities are per platform.
      const onWechat = await (await wechatPhone.launch({ server: open })).loginAs(openid);
      assert.equal(onWechat.status, 'USER_REGISTER');
    } finally {
      await phone.close();
      await other.close();
      await wechatPhone.close();
    }
  });
});

describe('examples/node-backend/server.js', { timeout: 30_000 }, () => {
  let backend;
  let nodePath;

  after(async () => {
    if (backend) {
      backend.child.kill('SIGTERM');
      await backend.exited;
    }
    if (nodePath) rmSync(nodePath, { recursive: true, force: true });
  });

  test("runs as a program with require('miniauth') resolved to pkg/", async () => {
    // An app's node_modules/miniauth, pointed at the built package.
    nodePath = mkdtempSync(join(tmpdir(), 'miniauth-e2e-node-path-'));
    mkdirSync(join(nodePath, 'node_modules'));
    symlinkSync(PKG_DIR, join(nodePath, 'node_modules', 'miniauth'), 'dir');
    backend = await spawnReady(process.execPath, [join(BACKEND_DIR, 'server.js')], {
      cwd: BACKEND_DIR,
      env: { PATH: process.env.PATH, NODE_PATH: join(nodePath, 'node_modules'), MINIAUTH_ISSUER: open.url, MINIAUTH_AUDIENCE: SIMULATOR_AUDIENCE, PORT: '0' },
      ready: /listening on (http:\/\/\S+)/,
      timeoutMs: 10_000,
    });
    const url = backend.match[1];

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
