// The reference identity server (`target/debug/miniauth serve`) as a child
// process for the AuthClient tests: built first when its sources are newer
// than the binary, started in WeChat-simulator mode on a fixed loopback port
// with a temporary database, and stoppable and restartable on the same port
// and database. Extra `serve` flags (e.g. `--cors-origins`) may be passed in
// `args`.

import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PKG_DIR, ROOT } from './paths.mjs';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export const SERVER_BINARY = join(ROOT, 'target', 'debug', 'miniauth');
/** The audience of id_tokens in simulator mode (the simulated Mini Program's AppID). */
export const SIMULATOR_AUDIENCE = 'wx_simulator_appid';

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

/** A loopback port that was free a moment ago. */
export async function freePort() {
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
 * A server on `port` over `database`, with `args` appended to the `serve`
 * flags (e.g. `['--cors-origins', 'http://127.0.0.1:8080']`). `start()`
 * resolves once it answers; `kill()` ends it at once (SIGKILL: the database
 * is crash-safe, and the test wants it gone mid-session); `start()` again
 * brings it back.
 */
export function miniauthServer({ port, database, args = [] }) {
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
    throw new TypeError('miniauthServer: "args" must be an array of strings');
  }
  const url = `http://127.0.0.1:${port}`;
  let child = null;
  let exited = null;
  let output = '';

  // Settings from the environment would override the simulator defaults.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(MINIAUTH_|WECHAT_)/.test(name)));

  async function start() {
    if (child) throw new Error('the server is already running');
    output = '';
    child = spawn(
      SERVER_BINARY,
      // Every request of the tests comes from 127.0.0.1: lift the per-address limit.
      ['serve', '--listen', `127.0.0.1:${port}`, '--database', database, '--rate-limit-ip', '100000', ...args],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (chunk) => {
      output = (output + chunk).slice(-8192);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const current = child;
    exited = new Promise((resolve) => current.once('exit', resolve));
    exited.then(() => {
      if (child === current) child = null;
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child !== current) throw new Error(`the server exited at start:\n${output}`);
      try {
        const response = await fetch(`${url}/.well-known/jwks.json`);
        if (response.status === 200) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`the server did not answer within 15 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function kill() {
    if (!child) return;
    child.kill('SIGKILL');
    await exited;
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
    url,
    start,
    kill,
    post,
    get output() {
      return output;
    },
    get running() {
      return child !== null;
    },
    /** What wx.login() would give the WeChat user `openid`. */
    wxLoginCode: (openid) => simCode('/sim/wx/login', { openid }),
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
