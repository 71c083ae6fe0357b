// AuthClient in Node against the real reference server (target/debug/miniauth
// serve, WeChat-simulator mode, temporary databases): the shared client
// scenarios (client-cases.mjs) through the Node adapter below, then what
// only Node has: custom storage adapters and fileStorage, a custom fetch
// (the 256 KiB limit on a stream), the argument checks of the API, and the
// type declarations.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { registerClientCases } from './client-cases.mjs';
import { startAppApi } from './support/app-api.mjs';
import { clientHandle, deviceTraffic, loginWithCode, movableClock, newPhone, startClientServers, unique } from './support/client-runtime.mjs';
import { HARNESS_FILE, PKG_DIR, ROOT } from './support/paths.mjs';

const require = createRequire(import.meta.url);
const run = promisify(execFile);
const miniauth = require(join(PKG_DIR, 'node', 'index.cjs'));
const { AuthClient, MiniAuthError, fileStorage, memoryStorage } = miniauth;
const { createClientDriver } = require(HARNESS_FILE);

let workDir;
let servers;
let server;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'miniauth-auth-client-'));
  servers = await startClientServers(workDir);
  server = servers.open;
});

after(async () => {
  await servers?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/**
 * The Node adapter of the client scenarios: a device is a memoryStorage, a
 * clock and a fetch that passes every request through the device's traffic
 * record; an app start is a new AuthClient over them.
 */
function nodeDevice() {
  const storage = memoryStorage();
  const clock = movableClock();
  const traffic = deviceTraffic();
  const fetchThrough = async (input, init) => {
    const request = new Request(input, init);
    const answer = await traffic.intercept(request.method, request.url);
    if (answer === undefined) return fetch(request);
    return new Response(answer.body, { status: answer.status, headers: { 'content-type': answer.contentType } });
  };
  const driver = createClientDriver(miniauth, { clientOptions: { storage, now: clock.now, fetch: fetchThrough }, appApi: 'fetch' });
  const launched = [];
  return {
    traffic,
    now: clock.now,
    moveClock: clock.move,
    read: async (key) => storage.get(key),
    write: async (key, text) => storage.set(key, text),
    async launch({ server: target, ...options }) {
      const id = driver.create({ baseUrl: target.url, ...options });
      launched.push(id);
      return clientHandle((op, args) => driver.send(id, op, args), loginWithCode(target));
    },
    close: async () => {
      for (const id of launched) driver.client(id).close();
    },
  };
}

describe('the client scenarios in Node (pkg/node/index.cjs, fetch, memoryStorage)', () => {
  registerClientCases(() => ({ newDevice: async () => nodeDevice(), servers }));
});

const rejectsWith = (promise, code, fields = {}) =>
  assert.rejects(promise, (error) => {
    assert.ok(error instanceof MiniAuthError, `a MiniAuthError, got ${error}`);
    assert.equal(error.code, code, error.message);
    for (const [name, value] of Object.entries(fields)) assert.equal(error[name], value, name);
    return true;
  });

/** A new client signed in as a newly registered WeChat user. */
async function signedIn(options) {
  const client = new AuthClient({ baseUrl: server.url, storage: memoryStorage(), ...options });
  await client.loginWithWechat({ code: await server.wxLoginCode(`node-${unique()}`) });
  await client.register();
  return client;
}

describe('AuthClient storage in Node', () => {
  test('a storage adapter that fails to read is treated as empty', async () => {
    const client = new AuthClient({ baseUrl: server.url, storage: { get: async () => Promise.reject(new Error('disk gone')), set() {}, remove() {} } });
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
});

describe('AuthClient API details in Node', () => {
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
      await rejectsWith(client.sendVerifyCode({ channel: 'sms', to: newPhone() }), 'ERR_SIGNED_OUT');
      await rejectsWith(client.bindWithVerifyCode({ channel: 'sms', to: newPhone(), code: '123456' }), 'ERR_SIGNED_OUT');
      await rejectsWith(client.register(), 'ERR_SIGNED_OUT');
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

  test('fetch() takes a Request as the Fetch API does', async () => {
    const api = await startAppApi();
    const client = await signedIn({ tokenOrigins: [api.url] });
    try {
      const posted = await (await client.fetch(new Request(`${api.url}/orders`, { method: 'POST', body: '{"n":1}' }))).json();
      assert.deepEqual([posted.method, posted.body, posted.authorization], ['POST', '{"n":1}', `Bearer ${await client.getIdToken()}`]);
    } finally {
      client.close();
      await api.close();
    }
  });

  test('tokenOrigins entries are checked; with none the token goes nowhere', async () => {
    const api = await startAppApi();
    try {
      assert.throws(() => new AuthClient({ baseUrl: server.url, tokenOrigins: 'https://api.example.com' }), { code: 'ERR_INVALID_ARGUMENT' });
      const bad = new AuthClient({ baseUrl: server.url, tokenOrigins: ['https://api.example.com/v1'] });
      await rejectsWith(bad.ready, 'ERR_INVALID_ARGUMENT');
      await rejectsWith(bad.fetch(`${api.url}/me`), 'ERR_INVALID_ARGUMENT');
      bad.close();
      const none = await signedIn();
      assert.equal((await (await none.fetch(`${api.url}/me`)).json()).authorization, null, 'no tokenOrigins: the token goes nowhere');
      none.close();
    } finally {
      await api.close();
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
