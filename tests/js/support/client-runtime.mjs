// What the client scenarios (tests/js/client-cases.mjs) and the adapters
// that run them in each runtime share: the identity servers, a device's
// clock, the record of what a device sent over HTTP, and the handle that
// turns a runtime's client driver (support/harness.cjs createClientDriver)
// back into promises of plain values.

import { join } from 'node:path';
import { addPasswordUser, buildServer, miniauthServer } from './miniauth-server.mjs';

/** The server's refresh grace window in these tests, in seconds: replay after it takes a short wait. */
export const GRACE_S = 1;

/** A unique-enough suffix, so that reruns against one database never collide. */
export const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
/** A mainland mobile number nobody in the database has. */
export const newPhone = () => `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

/**
 * The two reference servers the scenarios use, under `workDir`: `open`
 * (registration open: USER_REGISTER) and `closed` (registration closed:
 * SOCIAL_BIND), which has one user, `closed.account` (username, password,
 * phone, userId). `args` are extra `serve` flags for both (e.g.
 * `--cors-origins`).
 */
export async function startClientServers(workDir, args = []) {
  await buildServer();
  const closedDb = join(workDir, 'closed.db');
  const account = { username: `u${unique()}`, password: `pw-${unique()} with spaces`, phone: newPhone() };
  account.userId = await addPasswordUser(closedDb, account);
  const open = miniauthServer({ database: join(workDir, 'open.db'), args: ['--refresh-grace', String(GRACE_S), ...args] });
  const closed = Object.assign(miniauthServer({ database: closedDb, args: ['--registration', 'closed', ...args] }), { account });
  await Promise.all([open.start(), closed.start()]);
  return { open, closed, stop: () => Promise.all([open.kill(), closed.kill()]) };
}

/** A device's clock: the real time plus an offset that only moves forward, like a device's. */
export function movableClock() {
  const clock = {
    offset: 0,
    now: () => Date.now() + clock.offset,
    move: async (ms) => {
      clock.offset += ms;
    },
  };
  return clock;
}

/**
 * What one device sends over HTTP. Each adapter passes every request of the
 * device's clients through `intercept` in its runtime's own way (a fetch
 * wrapper, the simulator's onRequest, a browser route), before it goes out:
 * it is counted by path, and the scenario's `hook`, when set, may act first
 * (stop the server) or answer instead of the network with
 * `{ status, contentType, body }`.
 */
export function deviceTraffic() {
  const counts = new Map();
  const traffic = {
    /** @type {null | ((request: { method: string, path: string }) => Promise<any> | any)} */
    hook: null,
    /** How many requests to `path` went out. */
    count: (path) => counts.get(path) ?? 0,
    async intercept(method, url) {
      // A browser's CORS preflight is not a request of the client's own.
      if (method === 'OPTIONS') return undefined;
      const path = new URL(url).pathname;
      counts.set(path, traffic.count(path) + 1);
      return traffic.hook ? traffic.hook({ method, path }) : undefined;
    },
  };
  return traffic;
}

/** The loginWithWechat arguments outside Mini Programs: a code minted for `openid` by `server`. */
export const loginWithCode = (server) => async (openid) => [{ code: await server.wxLoginCode(openid) }];

/** AuthClient's methods as the scenarios call them. */
const CLIENT_METHODS = [
  'ready',
  'loginWithWechat',
  'loginWithDouyin',
  'loginWithWechatPhone',
  'bindWithWechatPhone',
  'sendVerifyCode',
  'bindWithVerifyCode',
  'bindWithPassword',
  'register',
  'getIdToken',
  'getClaims',
  'refresh',
  'logout',
  'updateProfile',
  'getUserInfo',
];

/** An error a client's call rejected with in its runtime, as plain data: code, status, error, isMiniAuthError. */
class ClientError extends Error {
  constructor(data) {
    super(data.message);
    Object.assign(this, data);
  }
}

/**
 * A client in a runtime as the scenarios use it: AuthClient's methods
 * (`ready()` too) with plain-data arguments and results; `loginAs(openid)`;
 * `events()` ({ event, at, claims?, error? } in order) and `names()`;
 * `api(url, { method, headers, body })`, the app's own API through
 * auth.fetch or auth.request, resolving to `{ status, body }`; `close()`.
 *
 * @param {(op: string, args: any[]) => Promise<string>} send  the driver's `send` for this client
 * @param {(openid: string) => Promise<any[]>} loginArgs  the login method's arguments that log `openid` in
 * @param {string} [loginMethod]  the AuthClient method `loginAs` calls: the host's sign-in
 */
export function clientHandle(send, loginArgs, loginMethod = 'loginWithWechat') {
  const call = async (op, ...args) => {
    const outcome = JSON.parse(await send(op, args));
    if (!outcome.ok) throw new ClientError(outcome.error);
    return outcome.value;
  };
  const handle = {
    loginAs: async (openid) => call(loginMethod, ...(await loginArgs(openid))),
    events: () => call('events'),
    names: async () => (await handle.events()).map((entry) => entry.event),
    api: (url, init = {}) => call('api', url, init),
    close: () => call('close'),
  };
  for (const method of CLIENT_METHODS) handle[method] = (...args) => call(method, ...args);
  return handle;
}
