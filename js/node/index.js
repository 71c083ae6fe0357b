// Node entry: the core is loaded synchronously at require time (the native
// addon, or the WebAssembly module compiled and instantiated; backend.js
// chooses), so `ready` has already resolved when user code runs.
// Bundled to CommonJS (index.cjs); index.mjs re-exports it for `import`.

import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as glue from 'miniauth-wasm-glue';
import { createMiniAuth } from '../core/api.js';
import { createAuthClientClass } from '../core/auth-client.js';
import { MiniAuthError } from '../core/errors.js';
import { fetchText } from '../core/fetch.js';
import { memoryStorage } from '../core/storage.js';
import { loadBackend } from './backend.js';

// require and __dirname: this file is only ever bundled to CommonJS.
const packageDir = join(__dirname, '..');
const core = loadBackend(packageDir, () => {
  glue.initSync({ module: readFileSync(join(packageDir, 'miniauth_bg.wasm')) });
  return glue;
});

export { MiniAuthError };
export { memoryStorage };
export const { ready, backend, createVerifier, createRemoteJwks, jwtVerify, decodeJwt, decodeProtectedHeader } = createMiniAuth({
  loaded: core.bindings,
  backend: core.backend,
  fetchText,
});

/**
 * Browsers and Mini Programs name where the module is; Node loads it (or
 * the addon) at require time from beside the package: `ready` as it is.
 * @param {{ wasmPath?: string | URL }} [options]
 */
export function init({ wasmPath } = {}) {
  if (wasmPath !== undefined) {
    throw new MiniAuthError('ERR_NOT_SUPPORTED', 'in Node the module is loaded at require time from beside the package: no wasmPath');
  }
  return ready;
}

/**
 * A storage adapter keeping values in one JSON file (an object of key →
 * value), written atomically (a temporary file renamed over it) with mode
 * 0600, since it holds the session token. Writes from one adapter are
 * serialised; share one adapter per file within a process.
 */
export function fileStorage(path) {
  if (typeof path !== 'string' || path === '') throw new TypeError('fileStorage(path) needs a file path');
  let chain = Promise.resolve();
  const serial = (work) => {
    const next = chain.then(work);
    chain = next.catch(() => {});
    return next;
  };
  async function load() {
    let text;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (error.code === 'ENOENT') return {};
      throw error;
    }
    try {
      const values = JSON.parse(text);
      return typeof values === 'object' && values !== null && !Array.isArray(values) ? values : {};
    } catch {
      return {};
    }
  }
  async function save(values) {
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(values), { mode: 0o600 });
    await rename(temporary, path);
  }
  return {
    get: (key) =>
      serial(async () => {
        const value = (await load())[key];
        return typeof value === 'string' ? value : null;
      }),
    set: (key, value) =>
      serial(async () => {
        const values = await load();
        values[key] = String(value);
        await save(values);
      }),
    remove: (key) =>
      serial(async () => {
        const values = await load();
        if (!(key in values)) return;
        delete values[key];
        if (Object.keys(values).length > 0) await save(values);
        else await unlink(path).catch((error) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
      }),
  };
}

/**
 * The client half. Defaults in Node: in-memory storage (pass
 * `storage: fileStorage(path)` to keep the session across restarts), the
 * global fetch, no foreground events; the refresh timer does not hold the
 * process open.
 */
export const AuthClient = createAuthClientClass({
  loaded: core.bindings,
  decodeJwt,
  defaultStorage: memoryStorage,
  defaultFetch: (input, init) => fetch(input, init),
  unrefTimers: true,
});
