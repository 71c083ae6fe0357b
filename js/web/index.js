// Browser entry (ES module, for bundlers and <script type="module">). The
// module is fetched from beside this package's files; await `ready` once
// before the first synchronous call.

import initGlue, * as glue from 'miniauth-wasm-glue';
import { createMiniAuth } from '../core/api.js';
import { createAuthClientClass } from '../core/auth-client.js';
import { MiniAuthError } from '../core/errors.js';
import { fetchText } from '../core/fetch.js';
import { createLoader } from '../core/loader.js';
import { memoryStorage } from '../core/storage.js';

const loader = createLoader({
  defaultPath: new URL('../miniauth_bg.wasm', import.meta.url),
  hint: 'where the bundler does not serve miniauth_bg.wasm there, call init({ wasmPath: url }) right after importing miniauth',
  instantiate: async (path) => {
    await initGlue({ module_or_path: path });
    return glue;
  },
});
const { loaded } = loader;

export { MiniAuthError, memoryStorage };

/**
 * Names the module's URL, right after importing the package, before it
 * loads; answers `ready`.
 * @param {{ wasmPath?: string | URL }} [options]
 */
export function init(options) {
  loader.init(options);
  return ready;
}
export const { ready, backend, createVerifier, createRemoteJwks, jwtVerify, decodeJwt, decodeProtectedHeader } = createMiniAuth({
  loaded,
  backend: 'wasm',
  fetchText,
});

/** Node only: there is no file system here. */
export function fileStorage() {
  throw new MiniAuthError('ERR_INVALID_ARGUMENT', 'fileStorage() is only available in Node; browsers use localStorage by default');
}

/**
 * localStorage as a storage adapter, or null where it cannot be used
 * (disabled, sandboxed frames, some private modes throw on access).
 */
function localStorageAdapter() {
  try {
    const storage = globalThis.localStorage;
    if (!storage) return null;
    const probe = 'miniauth.probe';
    storage.setItem(probe, probe);
    storage.removeItem(probe);
    return {
      get: (key) => storage.getItem(key),
      set: (key, value) => storage.setItem(key, value),
      remove: (key) => storage.removeItem(key),
    };
  } catch {
    return null;
  }
}

/** Wakes the session when the page becomes visible again. */
function onForeground(wake) {
  if (typeof document === 'undefined' || typeof document.addEventListener !== 'function') return () => {};
  const listener = () => {
    if (document.visibilityState === 'visible') wake();
  };
  document.addEventListener('visibilitychange', listener);
  return () => document.removeEventListener('visibilitychange', listener);
}

/**
 * The client half. Defaults in browsers: localStorage (memory when it is
 * unavailable), the global fetch, and a wake-up when the page is shown again.
 */
export const AuthClient = createAuthClientClass({
  loaded,
  decodeJwt,
  defaultStorage: () => localStorageAdapter() || memoryStorage(),
  // Called as a plain function: browsers refuse fetch called on another object.
  defaultFetch: (input, init) => fetch(input, init),
  onForeground,
});
