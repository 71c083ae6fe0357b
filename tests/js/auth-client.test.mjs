// AuthClient against the real reference server (target/debug/miniauth serve,
// WeChat-simulator mode, a temporary database): the Node client through a
// whole session — bind, verify, refresh, restart, concurrent callers, the
// server going away and coming back, logout — then the Mini Program build in
// the simulator (wx.login, wx.request, wx storage, wx.onAppShow), and the
// type declarations.
//
// Where a test needs a refresh to be due, it moves the client's clock (the
// `now` option) past the refresh point instead of waiting 13 minutes. The
// stored record holds times of that clock, so one session's clients share
// one clock that only moves forward, like a device's.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startAppApi } from './support/app-api.mjs';
import { assertBackoffGrows } from './support/backoff.mjs';
import { MiniProgramSim } from './support/miniprogram.mjs';
import { buildServer, freePort, miniauthServer } from './support/miniauth-server.mjs';
import { PKG_DIR, ROOT } from './support/paths.mjs';

const require = createRequire(import.meta.url);
const run = promisify(execFile);
const miniauth = require(join(PKG_DIR, 'node', 'index.cjs'));
const { AuthClient, MiniAuthError, fileStorage, memoryStorage } = miniauth;

const STORAGE_KEY = 'miniauth.session';
// The server's default id_token lifetime is 900 s and the core refreshes
// when less than max(60 s, 10 %) remains: due after 810 s, expired at 900 s.
const DUE_BUT_UNEXPIRED_MS = 850_000;
const UNTIL_EXPIRED_MS = 150_000;

let workDir;
let server;

before(async () => {
  await buildServer();
  workDir = mkdtempSync(join(tmpdir(), 'miniauth-auth-client-'));
  server = miniauthServer({ port: await freePort(), database: join(workDir, 'miniauth.db') });
  await server.start();
});

after(async () => {
  await server?.kill();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** A unique-enough suffix, so that reruns against one database never collide. */
const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
/** A mainland mobile number nobody in this database has. */
const newPhone = () => `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

/** A clock that tests can move forward. */
function movableClock() {
  const clock = { offset: 0, now: () => Date.now() + clock.offset };
  return clock;
}

/** A client plus the events it emitted, in order. */
function clientWithEventsAt(options) {
  const client = new AuthClient({ baseUrl: server.url, ...options });
  const events = [];
  client.onAuthStateChange((event, details) => events.push({ event, details }));
  return { client, events, names: () => events.map((e) => e.event) };
}

function storedRecord(storage) {
  const text = storage.get(STORAGE_KEY);
  return text === null ? null : JSON.parse(text);
}


async function waitFor(condition, what, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const rejectsWith = (promise, code, fields = {}) =>
  assert.rejects(promise, (error) => {
    assert.ok(error instanceof MiniAuthError, `a MiniAuthError, got ${error}`);
    assert.equal(error.code, code, error.message);
    for (const [name, value] of Object.entries(fields)) assert.equal(error[name], value, name);
    return true;
  });

describe('AuthClient in Node against the reference server', () => {
  // One session carried from test to test, as an app would live through it.
  // Only one client at a time holds it (each is closed before the next one
  // starts), as refreshing with a rotated-away token would revoke it.
  const storage = memoryStorage();
  const clock = movableClock();
  const phone = newPhone();
  let sub;
  const clientWithEvents = (options) => clientWithEventsAt({ storage, now: clock.now, ...options });

  test('a new WeChat user: USER_REGISTER with flows, then an SMS code binds and signs in', async () => {
    const { client, names, events } = clientWithEvents();
    try {
      await client.ready;
      assert.deepEqual(names(), [], 'nothing stored: no event');
      await rejectsWith(client.getIdToken(), 'ERR_SIGNED_OUT');

      const login = await client.loginWithWechat({ code: await server.wxLoginCode(`user-${unique()}`) });
      assert.equal(login.status, 'USER_REGISTER');
      assert.ok(login.flows.includes('sms_code') && login.flows.includes('register'), `flows: ${login.flows}`);
      assert.equal(login.claims, undefined);
      assert.deepEqual(names(), ['BIND_REQUIRED']);
      await rejectsWith(client.getIdToken(), 'ERR_BIND_REQUIRED');
      assert.equal(await client.getClaims(), null);

      const sent = await client.sendVerifyCode({ channel: 'sms', to: phone });
      assert.equal(typeof sent.expires_in, 'number');
      const code = await server.lastCodeSentTo(phone);

      const wrong = code === '000000' ? '111111' : '000000';
      await rejectsWith(client.bindWithVerifyCode({ channel: 'sms', to: phone, code: wrong }), 'ERR_SERVER', {
        status: 400,
        error: 'invalid_verify_code',
      });

      const bound = await client.bindWithVerifyCode({ channel: 'sms', to: phone, code });
      assert.equal(bound.status, 'SUCCESS');
      assert.equal(bound.flows, undefined);
      assert.equal(bound.claims.phone_number, `+86${phone}`);
      sub = bound.claims.sub;
      assert.deepEqual(names(), ['BIND_REQUIRED', 'SIGNED_IN']);
      assert.equal(events[1].details.claims.sub, sub, 'SIGNED_IN carries the claims');
      assert.equal(events[0].details.claims, undefined, 'BIND_REQUIRED carries no claims');
      assert.equal(typeof storage.get(STORAGE_KEY), 'string', 'the session is stored under miniauth.session');
      assert.deepEqual(await client.getClaims(), bound.claims);
    } finally {
      client.close();
    }
  });

  test('getIdToken returns a token that verifies against the server JWKS', async () => {
    const { client, names } = clientWithEvents();
    try {
      const token = await client.getIdToken();
      const claims = await server.claimsOf(token);
      assert.equal(claims.sub, sub);
      assert.equal(claims.iss, server.url);
      assert.equal(claims.phone_number, `+86${phone}`);
      assert.equal(token, storedRecord(storage).id_token, 'no refresh was due');
      assert.deepEqual(names(), ['SIGNED_IN'], 'the restored session announced itself');
    } finally {
      client.close();
    }
  });

  test('refresh() rotates the session token and stores the new one', async () => {
    const { client, names } = clientWithEvents();
    try {
      await client.ready;
      const before = storedRecord(storage);
      const { claims } = await client.refresh();
      assert.equal(claims.sub, sub);
      const afterRefresh = storedRecord(storage);
      assert.notEqual(afterRefresh.session_token, before.session_token, 'the session token rotated');
      assert.equal(await client.getIdToken(), afterRefresh.id_token);
      await server.claimsOf(afterRefresh.id_token);
      assert.deepEqual(names(), ['SIGNED_IN', 'TOKEN_REFRESHED']);
    } finally {
      client.close();
    }
  });

  test('a restart (a new client over the same storage) restores the session', async () => {
    const { client, events, names } = clientWithEvents();
    try {
      await client.ready;
      assert.deepEqual(names(), ['SIGNED_IN']);
      assert.equal(events[0].details.claims.sub, sub);
      assert.equal((await client.getClaims()).sub, sub);
      assert.equal(await client.getIdToken(), storedRecord(storage).id_token);
    } finally {
      client.close();
    }
  });

  test('50 concurrent getIdToken() calls when a refresh is due send one refresh', async () => {
    let refreshes = 0;
    const countingFetch = (url, init) => {
      if (url.endsWith('/v1/session/refresh')) refreshes += 1;
      return fetch(url, init);
    };
    const { client, names } = clientWithEvents({ fetch: countingFetch });
    try {
      await client.ready;
      const before = storedRecord(storage);
      assert.equal(refreshes, 0, 'nothing due at start');
      clock.offset += DUE_BUT_UNEXPIRED_MS;
      const tokens = await Promise.all(Array.from({ length: 50 }, () => client.getIdToken()));
      assert.equal(refreshes, 1, 'one POST /v1/session/refresh for 50 callers');
      assert.equal(new Set(tokens).size, 1, 'every caller got the same token');
      const afterRefresh = storedRecord(storage);
      assert.notEqual(afterRefresh.session_token, before.session_token);
      assert.equal(tokens[0], afterRefresh.id_token, 'the refreshed token');
      assert.equal(await client.getIdToken(), tokens[0]);
      assert.equal(refreshes, 1, 'the new token is fresh: no further refresh');
      assert.deepEqual(names(), ['SIGNED_IN', 'TOKEN_REFRESHED']);
    } finally {
      client.close();
    }
  });

  test('the server stops: the unexpired token is still served, REFRESH_FAILED, then recovery when it is back', async () => {
    const { client, events, names } = clientWithEvents();
    try {
      await client.ready;
      const before = storedRecord(storage);
      await server.kill();

      clock.offset += DUE_BUT_UNEXPIRED_MS;
      assert.equal(await client.getIdToken(), before.id_token, 'due but unexpired: the old token while the refresh fails');
      assert.ok(names().includes('REFRESH_FAILED'), `events: ${names()}`);
      const failed = events.find((e) => e.event === 'REFRESH_FAILED');
      assert.equal(failed.details.error.code, 'ERR_NETWORK');
      assert.equal(failed.details.claims.sub, sub, 'still signed in');
      assert.equal(storedRecord(storage).session_token, before.session_token, 'the session is kept');

      clock.offset += UNTIL_EXPIRED_MS;
      await rejectsWith(client.getIdToken(), 'ERR_NETWORK');

      await server.start();
      // The core retries on its own, backing off from 200 ms.
      await waitFor(() => names().includes('TOKEN_REFRESHED'), 'TOKEN_REFRESHED after the restart');
      const [first, ...rest] = names();
      assert.equal(first, 'SIGNED_IN');
      assert.deepEqual(rest.slice(-1), ['TOKEN_REFRESHED']);
      assert.ok(rest.slice(0, -1).every((name) => name === 'REFRESH_FAILED'), `events: ${names()}`);
      const token = await client.getIdToken();
      assert.notEqual(storedRecord(storage).session_token, before.session_token);
      assert.equal(token, storedRecord(storage).id_token);
      assert.equal((await server.claimsOf(token)).sub, sub);
    } finally {
      client.close();
      if (!server.running) await server.start();
    }
  });

  test('logout signs out here and on the server', async () => {
    const { client, names } = clientWithEvents();
    try {
      await client.ready;
      const { session_token: sessionToken } = storedRecord(storage);
      await client.logout();
      assert.deepEqual(names(), ['SIGNED_IN', 'SIGNED_OUT']);
      assert.equal(storage.get(STORAGE_KEY), null, 'the record is cleared');
      await rejectsWith(client.getIdToken(), 'ERR_SIGNED_OUT');
      await rejectsWith(client.refresh(), 'ERR_SIGNED_OUT');
      assert.equal(await client.getClaims(), null);
      const replay = await server.post('/v1/session/refresh', { session_token: sessionToken });
      assert.equal(replay.status, 401, 'the server revoked the session');
      assert.equal(replay.body.error, 'invalid_session');
    } finally {
      client.close();
    }
  });
});

describe('AuthClient storage', () => {
  test('a corrupt or foreign stored record means signed out: no throw, no event, the record cleared', async () => {
    for (const record of ['{"v":1,"id_token":', 'not json', '{"v":99,"id_token":"a","session_token":"b","expires_at":1,"lifetime_ms":1,"session_expires_at":1}']) {
      const storage = memoryStorage();
      storage.set(STORAGE_KEY, record);
      const { client, names } = clientWithEventsAt({ storage });
      try {
        await client.ready;
        assert.equal(await client.getClaims(), null);
        await rejectsWith(client.getIdToken(), 'ERR_SIGNED_OUT');
        assert.equal(storage.get(STORAGE_KEY), null, `cleared: ${record}`);
        assert.deepEqual(names(), []);
      } finally {
        client.close();
      }
    }
  });

  test('a storage adapter that fails to read is treated as empty', async () => {
    const { client } = clientWithEventsAt({ storage: { get: async () => Promise.reject(new Error('disk gone')), set() {}, remove() {} } });
    const consoleError = console.error;
    console.error = () => {};
    try {
      await client.ready;
      await rejectsWith(client.getIdToken(), 'ERR_SIGNED_OUT');
    } finally {
      console.error = consoleError;
      client.close();
    }
  });

  test('fileStorage keeps a registered user across clients (mode 0600), logout removes it', async () => {
    const path = join(workDir, 'nested', `session-${unique()}.json`);
    const first = new AuthClient({ baseUrl: server.url, storage: fileStorage(path) });
    let sub;
    try {
      const login = await first.loginWithWechat({ code: await server.wxLoginCode(`file-${unique()}`) });
      assert.equal(login.status, 'USER_REGISTER');
      const registered = await first.register({ name: 'Ada' });
      assert.equal(registered.status, 'SUCCESS');
      assert.equal(registered.claims.name, 'Ada');
      sub = registered.claims.sub;
    } finally {
      first.close();
    }
    assert.equal(statSync(path).mode & 0o777, 0o600);

    const second = new AuthClient({ baseUrl: server.url, storage: fileStorage(path) });
    try {
      assert.equal((await second.getClaims()).sub, sub);
      assert.equal((await server.claimsOf(await second.getIdToken())).sub, sub);
      await second.logout();
      assert.equal(existsSync(path), false, 'the only record gone: the file is removed');
    } finally {
      second.close();
    }
  });

  test('clientId keeps two clients apart in one storage', async () => {
    const storage = memoryStorage();
    const a = new AuthClient({ baseUrl: server.url, storage, clientId: 'a' });
    const b = new AuthClient({ baseUrl: server.url, storage, clientId: 'b' });
    try {
      await a.loginWithWechat({ code: await server.wxLoginCode(`a-${unique()}`) });
      await a.register();
      assert.equal(typeof storage.get(`${STORAGE_KEY}:a`), 'string');
      assert.equal(storage.get(`${STORAGE_KEY}:b`), null);
      assert.equal(storage.get(STORAGE_KEY), null);
      await rejectsWith(b.getIdToken(), 'ERR_SIGNED_OUT');
      await a.logout();
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('AuthClient errors', () => {
  test('server error answers are ERR_SERVER with the status and the server error code', async () => {
    const client = new AuthClient({ baseUrl: server.url });
    try {
      await rejectsWith(client.loginWithWechat({ code: 'no-such-code' }), 'ERR_SERVER', { status: 400, error: 'wechat_code_invalid' });
      await rejectsWith(client.getIdToken(), 'ERR_SIGNED_OUT');
    } finally {
      client.close();
    }
  });

  test('an unreachable server is ERR_NETWORK', async () => {
    const client = new AuthClient({ baseUrl: `http://127.0.0.1:${await freePort()}` });
    try {
      await rejectsWith(client.loginWithWechat({ code: 'abc' }), 'ERR_NETWORK');
    } finally {
      client.close();
    }
  });

  test('an answer over 256 KiB is refused without being read whole', async () => {
    let pulled = 0;
    // An endless body: only a reader that stops can get past it.
    const endless = () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            pulled += 1;
            controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
          },
        }),
        { status: 200 },
      );
    for (const fetchFn of [async () => endless(), async () => ({ status: 200, text: async () => ' '.repeat(300 * 1024) })]) {
      const client = new AuthClient({ baseUrl: server.url, fetch: fetchFn });
      try {
        await assert.rejects(client.loginWithWechat({ code: 'abc' }), (error) => {
          assert.equal(error.code, 'ERR_NETWORK');
          assert.match(error.message, /exceeds 262144 bytes/);
          return true;
        });
      } finally {
        client.close();
      }
    }
    assert.ok(pulled < 10, `stopped reading after the limit (${pulled} chunks)`);
  });

  test('misuse is ERR_INVALID_ARGUMENT or a clear state error', async () => {
    assert.throws(() => new AuthClient({}), { code: 'ERR_INVALID_ARGUMENT' });
    assert.throws(() => new AuthClient({ baseUrl: server.url, storage: {} }), { code: 'ERR_INVALID_ARGUMENT' });
    const client = new AuthClient({ baseUrl: server.url });
    try {
      await rejectsWith(client.loginWithWechat(), 'ERR_INVALID_ARGUMENT');
      await rejectsWith(client.sendVerifyCode({ channel: 'fax', to: 'x' }), 'ERR_INVALID_ARGUMENT');
      await rejectsWith(client.bindWithVerifyCode({ channel: 'sms', to: newPhone(), code: '123456' }), 'ERR_SIGNED_OUT');
      await rejectsWith(client.register(), 'ERR_SIGNED_OUT');
    } finally {
      client.close();
    }
  });

  test('a session revoked on the server: the next refresh signs out and clears storage', async () => {
    const storage = memoryStorage();
    const clock = movableClock();
    const { client, names } = clientWithEventsAt({ storage, now: clock.now });
    try {
      await client.loginWithWechat({ code: await server.wxLoginCode(`revoked-${unique()}`) });
      await client.register();
      const revoked = await server.post('/v1/logout', { session_token: storedRecord(storage).session_token });
      assert.equal(revoked.status, 204);
      clock.offset += DUE_BUT_UNEXPIRED_MS;
      await rejectsWith(client.getIdToken(), 'ERR_SIGNED_OUT');
      assert.deepEqual(names(), ['BIND_REQUIRED', 'SIGNED_IN', 'SIGNED_OUT']);
      assert.equal(storage.get(STORAGE_KEY), null);
    } finally {
      client.close();
    }
  });

  test('a listener that throws does not stop the others or the session', async () => {
    const client = new AuthClient({ baseUrl: server.url });
    const seen = [];
    client.onAuthStateChange(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = client.onAuthStateChange((event) => seen.push(event));
    const consoleError = console.error;
    console.error = () => {};
    try {
      await client.loginWithWechat({ code: await server.wxLoginCode(`l-${unique()}`) });
      unsubscribe();
      const result = await client.register();
      assert.equal(result.status, 'SUCCESS');
      assert.deepEqual(seen, ['BIND_REQUIRED'], 'unsubscribed before SIGNED_IN');
      await client.logout();
    } finally {
      console.error = consoleError;
      client.close();
    }
  });
});

describe('AuthClient: the profile', () => {
  test('updateProfile saves the fields, refreshes so the id_token carries them, then USER_UPDATED', async () => {
    const { client, names, events } = clientWithEventsAt({ storage: memoryStorage() });
    try {
      await client.loginWithWechat({ code: await server.wxLoginCode(`profile-${unique()}`) });
      await client.register({ name: 'Xiao Ming' });
      const before = await client.getIdToken();
      const profile = await client.updateProfile({ nickname: '小明', locale: 'zh-CN' });
      assert.equal(profile.nickname, '小明');
      assert.equal(profile.name, 'Xiao Ming');
      assert.deepEqual(names(), ['BIND_REQUIRED', 'SIGNED_IN', 'TOKEN_REFRESHED', 'USER_UPDATED']);
      assert.equal(events[3].details.claims.nickname, '小明', 'USER_UPDATED carries the new claims');
      const claims = await client.getClaims();
      assert.equal(claims.nickname, '小明');
      assert.equal(claims.locale, 'zh-CN');
      assert.notEqual(await client.getIdToken(), before, 'a new id_token');
      assert.equal((await server.claimsOf(await client.getIdToken())).nickname, '小明', 'and it verifies');
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
    } finally {
      client.close();
    }
  });
});

describe('AuthClient: fetch() to the app\'s own API', () => {
  let api;
  let elsewhere;
  before(async () => {
    api = await startAppApi();
    elsewhere = await startAppApi();
  });
  after(async () => {
    await api?.close();
    await elsewhere?.close();
  });

  async function signedIn(options = {}) {
    const session = clientWithEventsAt({ storage: memoryStorage(), tokenOrigins: [api.url], ...options });
    await session.client.loginWithWechat({ code: await server.wxLoginCode(`api-${unique()}`) });
    await session.client.register();
    return session;
  }

  test('a listed origin gets a fresh Bearer id_token; any other origin gets none', async () => {
    const { client } = await signedIn();
    try {
      const response = await client.fetch(`${api.url}/me?x=1`, { headers: { 'x-app': 'yes' } });
      assert.equal(response.status, 200);
      const seen = await response.json();
      assert.equal(seen.authorization, `Bearer ${await client.getIdToken()}`);
      assert.equal(seen.path, '/me?x=1');
      const posted = await (await client.fetch(new Request(`${api.url}/orders`, { method: 'POST', body: '{"n":1}' }))).json();
      assert.deepEqual([posted.method, posted.body, posted.authorization.startsWith('Bearer ')], ['POST', '{"n":1}', true]);
      const other = await (await client.fetch(`${elsewhere.url}/track`, { headers: { authorization: 'Basic mine' } })).json();
      assert.equal(other.authorization, 'Basic mine', 'another origin: sent as it is, without the id_token');
      const lookalike = `${api.url.replace('127.0.0.1', 'localhost')}/me`;
      assert.equal((await (await client.fetch(lookalike)).json()).authorization, null, 'the same server under another name');
    } finally {
      client.close();
    }
  });

  test('a 401 refreshes once and sends once more; 20 concurrent requests share that refresh', async () => {
    const { client, names } = await signedIn();
    try {
      const first = await client.getIdToken();
      api.refuse(first);
      const sent = api.seen.length;
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => client.fetch(`${api.url}/item/${i}`)));
      assert.deepEqual(responses.map((r) => r.status), Array(20).fill(200));
      const second = await client.getIdToken();
      assert.notEqual(second, first);
      assert.equal(names().filter((n) => n === 'TOKEN_REFRESHED').length, 1, 'one refresh for all of them');
      const tokens = api.seen.slice(sent).map((r) => r.token);
      assert.equal(tokens.filter((t) => t === second).length, 20, 'each sent once more with the new token');
      assert.ok(tokens.every((t) => t === first || t === second));

      // Still 401 with a fresh token: the answer is the app's to handle, after one retry.
      const strict = await startAppApi();
      strict.refuseAll();
      const { client: other } = await signedIn({ tokenOrigins: [strict.url] });
      try {
        const refused = await other.fetch(`${strict.url}/forbidden`);
        assert.equal(refused.status, 401);
        assert.equal(strict.seen.length, 2, 'sent twice, no more');
        assert.notEqual(strict.seen[0].token, strict.seen[1].token, 'the second time with a refreshed token');
      } finally {
        other.close();
        await strict.close();
      }
    } finally {
      client.close();
    }
  });

  test('signed out, a request to a listed origin fails; tokenOrigins entries are checked', async () => {
    const client = new AuthClient({ baseUrl: server.url, tokenOrigins: [api.url] });
    try {
      await rejectsWith(client.fetch(`${api.url}/me`), 'ERR_SIGNED_OUT');
      assert.equal((await client.fetch(`${elsewhere.url}/open`)).status, 200, 'elsewhere needs no session');
    } finally {
      client.close();
    }
    assert.throws(() => new AuthClient({ baseUrl: server.url, tokenOrigins: 'https://api.example.com' }), { code: 'ERR_INVALID_ARGUMENT' });
    const bad = new AuthClient({ baseUrl: server.url, tokenOrigins: ['https://api.example.com/v1'] });
    await rejectsWith(bad.ready, 'ERR_INVALID_ARGUMENT');
    await rejectsWith(bad.fetch(`${api.url}/me`), 'ERR_INVALID_ARGUMENT');
    bad.close();
    const none = new AuthClient({ baseUrl: server.url });
    assert.equal((await (await none.fetch(`${api.url}/me`)).json()).authorization, null, 'no tokenOrigins: the token goes nowhere');
    none.close();
  });
});

describe('core behaviour the JS layer depends on', () => {
  test('a refresh answered 200 with a page instead of tokens backs off like a 5xx, the delays growing', async () => {
    // A captive portal or a proxy's error page, answered with 200 to every refresh.
    const portal = (input, init) =>
      String(input).endsWith('/v1/session/refresh')
        ? Promise.resolve(new Response('<html>Sign in to the Wi-Fi</html>', { status: 200, headers: { 'content-type': 'text/html' } }))
        : fetch(input, init);
    const clock = movableClock();
    const client = new AuthClient({ baseUrl: server.url, fetch: portal, now: clock.now, storage: memoryStorage() });
    const failures = [];
    client.onAuthStateChange((event) => {
      if (event === 'REFRESH_FAILED') failures.push(Date.now());
    });
    try {
      await client.loginWithWechat({ code: await server.wxLoginCode(`portal-${unique()}`) });
      await client.register();
      clock.offset += DUE_BUT_UNEXPIRED_MS;
      await client.getIdToken(); // starts the refresh; the unexpired token is still served
      await waitFor(() => failures.length >= 5, 'five failed refreshes', 10_000);
      assertBackoffGrows(failures);
    } finally {
      client.close();
    }
  });

  // refreshMargin is SessionCore.create(min_margin_ms). The core never
  // refreshes in the first half of a token's life, so a margin longer than
  // the lifetime cannot make every new token "due" and loop.
  test('a refreshMargin longer than the token lifetime does not refresh in a loop', async () => {
    const storage = memoryStorage();
    const setup = new AuthClient({ baseUrl: server.url, storage });
    await setup.loginWithWechat({ code: await server.wxLoginCode(`loop-${unique()}`) });
    await setup.register();
    setup.close();
    let refreshes = 0;
    // Bounded: after 5 refreshes the wrapper fails every request, so a loop
    // backs off instead of hammering the server.
    const fetchAtMostFive = (url, init) => {
      if (url.endsWith('/v1/session/refresh') && ++refreshes > 5) return Promise.reject(new TypeError('stopped'));
      return fetch(url, init);
    };
    const client = new AuthClient({ baseUrl: server.url, storage, refreshMargin: 1e9, fetch: fetchAtMostFive });
    try {
      await Promise.all(Array.from({ length: 50 }, () => client.getIdToken()));
      assert.equal(refreshes, 0, 'a token in the first half of its life is fresh, whatever the margin');
      await client.refresh();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(refreshes, 1, 'the refreshed token is not refreshed again at once');
    } finally {
      client.close();
      await new AuthClient({ baseUrl: server.url, storage }).logout().catch(() => {});
    }
  });
});

describe('AuthClient in the Mini Program simulator (wx.login, wx.request, wx storage, onAppShow)', () => {
  let root;
  const sims = [];
  const storage = new Map();
  let openid;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'miniauth-auth-miniprogram-'));
    cpSync(join(PKG_DIR, 'miniprogram_dist'), join(root, 'miniprogram_npm', 'miniauth'), { recursive: true });
    writeFileSync(join(root, 'app.js'), 'App({});\n');
    writeFileSync(join(root, 'app.json'), JSON.stringify({ pages: [] }));
    openid = `mp-${unique()}`;
  });

  after(() => {
    for (const sim of sims) sim.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function startSim() {
    const sim = new MiniProgramSim({ root, storage, login: async () => ({ code: await server.wxLoginCode(openid) }) });
    sims.push(sim);
    const mp = sim.require('miniauth');
    await mp.ready;
    return { sim, mp };
  }

  test('wx.login is called by loginWithWechat(), the session lives in wx storage and survives a restart', async () => {
    const { mp } = await startSim();
    const client = new mp.AuthClient({ baseUrl: server.url });
    let sub;
    try {
      const login = await client.loginWithWechat();
      assert.equal(login.status, 'USER_REGISTER');
      const registered = await client.register({ name: 'Mini' });
      assert.equal(registered.status, 'SUCCESS');
      sub = registered.claims.sub;
      assert.equal(typeof JSON.parse(storage.get(STORAGE_KEY)), 'string', 'the record is in wx storage');
      assert.equal((await server.claimsOf(await client.getIdToken())).sub, sub);
    } finally {
      client.close();
    }

    const again = await startSim();
    const restored = new again.mp.AuthClient({ baseUrl: server.url });
    try {
      assert.equal((await restored.getClaims()).sub, sub);
      const relogin = await restored.loginWithWechat();
      assert.equal(relogin.status, 'SUCCESS', 'the bound openid now signs straight in');
      assert.equal(relogin.claims.sub, sub);
    } finally {
      restored.close();
    }
  });

  test('coming back to the foreground (wx.onAppShow) refreshes when due; server errors arrive as ERR_SERVER', async () => {
    const { sim, mp } = await startSim();
    const clock = movableClock();
    const client = new mp.AuthClient({ baseUrl: server.url, now: clock.now });
    const events = [];
    client.onAuthStateChange((event) => events.push(event));
    try {
      await client.ready;
      const before = JSON.parse(JSON.parse(storage.get(STORAGE_KEY)));
      clock.offset = DUE_BUT_UNEXPIRED_MS;
      sim.emitAppShow({ scene: 1001 });
      await waitFor(() => events.includes('TOKEN_REFRESHED'), 'TOKEN_REFRESHED after onAppShow', 5000);
      assert.deepEqual(events, ['SIGNED_IN', 'TOKEN_REFRESHED']);
      const afterRefresh = JSON.parse(JSON.parse(storage.get(STORAGE_KEY)));
      assert.notEqual(afterRefresh.session_token, before.session_token);

      await assert.rejects(client.loginWithWechatPhone({ code: 'no-such-code' }), (error) => {
        assert.ok(error instanceof mp.MiniAuthError);
        assert.equal(error.code, 'ERR_SERVER');
        assert.equal(error.status, 400);
        assert.equal(error.error, 'wechat_code_invalid');
        return true;
      });
      await client.logout();
      assert.equal(storage.has(STORAGE_KEY), false);
      assert.deepEqual(events, ['SIGNED_IN', 'TOKEN_REFRESHED', 'SIGNED_OUT']);
    } finally {
      client.close();
    }
  });
});

describe('AuthClient type declarations', () => {
  test('index.d.ts type-checks AuthClient usage and rejects misuse', async () => {
    const project = mkdtempSync(join(tmpdir(), 'miniauth-auth-types-'));
    try {
      mkdirSync(join(project, 'node_modules'));
      cpSync(PKG_DIR, join(project, 'node_modules', 'miniauth'), { recursive: true });
      cpSync(join(ROOT, 'tests', 'js', 'support', 'auth-client-usage.ts'), join(project, 'usage.ts'));
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'] },
          files: ['usage.ts'],
        }),
      );
      let output = '';
      try {
        ({ stdout: output } = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project]));
      } catch (error) {
        output = `${error.stdout}${error.stderr}`;
      }
      assert.equal(output.trim(), '', `tsc reported:\n${output}`);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
