// The reference identity server (`target/debug/miniauth serve`) as a child
// process for the AuthClient tests: built first when its sources are newer
// than the binary, started in WeChat-simulator mode on a loopback port of its
// own choosing (`--listen 127.0.0.1:0`, ready once it prints the address)
// with a temporary database, and stoppable and restartable on the same port
// and database. Extra `serve` flags (e.g. `--cors-origins`) may be passed in
// `args`.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PKG_DIR, ROOT } from './paths.mjs';
import { spawnReady } from './spawn-ready.mjs';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export const SERVER_BINARY = join(ROOT, 'target', 'debug', 'miniauth');
/** The audience of id_tokens in simulator mode (the simulated Mini Program's AppID). */
export const SIMULATOR_AUDIENCE = 'wx_simulator_appid';
/**
 * The caller's environment without the settings (MINIAUTH_*, WECHAT_*) that
 * would take the server out of simulator mode or off its defaults.
 */
export const SERVER_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(MINIAUTH_|WECHAT_)/.test(name)));

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * Builds the server unless the binary is newer than everything it is built
 * from (running cargo only when needed keeps the suite quick and out of the
 * way of other cargo runs).
 */
export async function buildServer() {
  const sources = ['src', 'migrations', 'Cargo.toml', 'Cargo.lock'].map((path) => join(ROOT, path)).filter(existsSync);
  if (existsSync(SERVER_BINARY) && statSync(SERVER_BINARY).mtimeMs > Math.max(...sources.map(newestMtime))) return;
  await run('cargo', ['build', '--features', 'server', '--bin', 'miniauth'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * `miniauth users add --password-stdin --phone` on `database` (the password
 * is one line on stdin). Resolves to the new user's id.
 */
export function addPasswordUser(database, { username, password, phone }) {
  return new Promise((resolve, reject) => {
    const args = ['users', 'add', '--database', database, '--username', username, '--password-stdin', '--phone', phone];
    const child = execFile(SERVER_BINARY, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`users add failed: ${error.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
    child.stdin.end(`${password}\n`);
  });
}

/**
 * `miniauth <group> <args> --database <database>` (e.g. `bots add --name
 * helper`, `clients add --name app --scope rooms:read`). Resolves to the
 * last line of its output: the key or secret, for `add`.
 */
export async function miniauthCommand(database, group, ...args) {
  const { stdout } = await run(SERVER_BINARY, [group, ...args, '--database', database], { timeout: 30_000 });
  return stdout.trim().split('\n').at(-1);
}

/** `miniauth bots <args>` on `database` (`add --name helper`, `revoke helper`): the key, for `add`. */
export const botsCommand = (database, ...args) => miniauthCommand(database, 'bots', ...args);

/** `miniauth clients <args>` on `database` (`add --name app --scope rooms:read`): the secret, for `add`. */
export const clientsCommand = (database, ...args) => miniauthCommand(database, 'clients', ...args);

/**
 * A loopback port nobody listened on a moment ago, for a test that needs a
 * connection to be refused. Servers choose their own port (`127.0.0.1:0`).
 */
export async function unusedPort() {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A started server on a fresh database in a new temporary folder, with the
 * bot `helper` added: the folder, the database, the server and the bot's
 * key; `stop()` kills the server and removes the folder.
 */
export async function serverWithBot(label) {
  await buildServer();
  const workDir = mkdtempSync(join(tmpdir(), `miniauth-${label}-`));
  const database = join(workDir, 'miniauth.db');
  const botKey = await botsCommand(database, 'add', '--name', 'helper');
  const server = miniauthServer({ database });
  await server.start();
  return {
    workDir,
    database,
    server,
    botKey,
    async stop() {
      await server.kill();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * A server over `database`, with `args` appended to the `serve` flags (e.g.
 * `['--cors-origins', 'http://127.0.0.1:8080']`). `start()` resolves once it
 * listens; `url` is known from then on. `kill()` ends it at once (SIGKILL:
 * the database is crash-safe, and the test wants it gone mid-session);
 * `start()` again brings it back on the same port, so that clients keep
 * `url`.
 */
export function miniauthServer({ database, args = [] }) {
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
    throw new TypeError('miniauthServer: "args" must be an array of strings');
  }
  let url = null;
  let running = null;

  async function start() {
    if (running) throw new Error('the server is already running');
    // The first start takes any free port; a restart needs the one clients know.
    const listen = url ? new URL(url).host : '127.0.0.1:0';
    let started;
    try {
      started = await spawnReady(
        SERVER_BINARY,
        // Every request of the tests comes from 127.0.0.1, and the suites share
        // one server: lift the per-address limit and the server-wide code budget.
        [
          'serve', '--simulator', '--listen', listen, '--database', database,
          '--rate-limit-ip', '100000', '--codes-per-minute', '100000', '--codes-per-day', '1000000',
          ...args,
        ],
        { env: SERVER_ENV, ready: /^miniauth listening on (http:\/\/\S+)$/m },
      );
    } catch (error) {
      if (url) error.message = `restarting on ${listen} (taken by another process meanwhile?): ${error.message}`;
      throw error;
    }
    url ??= started.match[1];
    running = started;
    started.exited.then(() => {
      if (running === started) running = null;
    });
  }

  async function kill() {
    if (!running) return;
    running.child.kill('SIGKILL');
    await running.exited;
  }

  async function post(path, body) {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  async function simCode(path, body) {
    const answer = await post(path, body);
    if (answer.status !== 200) throw new Error(`${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body.code;
  }

  return {
    get url() {
      if (!url) throw new Error('the server has not been started');
      return url;
    },
    start,
    kill,
    post,
    get running() {
      return running !== null;
    },
    /** What wx.login() would give the WeChat user `openid`. */
    wxLoginCode: (openid) => simCode('/sim/wx/login', { openid }),
    /** What Douyin's tt.login() would give the Douyin user `openid`. */
    ttLoginCode: (openid) => simCode('/sim/tt/login', { openid }),
    /** What getPhoneNumber would give for `phone`. */
    wxPhoneCode: (phone) => simCode('/sim/wx/phone', { phone }),
    /** The newest one-time code sent to `to`. */
    async lastCodeSentTo(to) {
      const response = await fetch(`${url}/sim/outbox?to=${encodeURIComponent(to)}`);
      const messages = await response.json();
      if (response.status !== 200 || messages.length === 0) throw new Error(`no code was sent to ${to}: ${JSON.stringify(messages)}`);
      return messages[0].code;
    },
    async jwks() {
      return (await fetch(`${url}/.well-known/jwks.json`)).json();
    },
    /** The claims of an id_token this server issued, verified with the built package against its JWKS. */
    async claimsOf(token) {
      const { createVerifier } = require(join(PKG_DIR, 'node', 'index.cjs'));
      const verifier = createVerifier({ jwks: await this.jwks(), issuer: url, audience: SIMULATOR_AUDIENCE });
      try {
        return verifier.verify(token).claims;
      } finally {
        verifier.free();
      }
    },
  };
}
