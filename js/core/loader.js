// Loading the module where it loads asynchronously (browsers, Mini
// Programs): from where the package puts it, or from the path an app gives
// `init({ wasmPath })` right after importing the package. The load starts
// one microtask after this package is evaluated, so that such a call comes
// first.

import { MiniAuthError } from './errors.js';

/**
 * @param {object} options
 * @param {string | URL} options.defaultPath  where the package puts the module
 * @param {(path: string) => Promise<object>} options.instantiate  loads the module from `path`
 *   (a URL as its text); resolves to the core's bindings. A MiniAuthError it throws is
 *   reported as it is.
 * @param {string} options.hint  how to name another path, for the message of a failed load
 * @returns {{ loaded: Promise<object>, init: (options?: { wasmPath?: string | URL }) => void }}
 */
export function createLoader({ defaultPath, instantiate, hint }) {
  let path = defaultPath;
  let started = false;
  const loaded = Promise.resolve().then(async () => {
    started = true;
    try {
      return await instantiate(String(path));
    } catch (cause) {
      if (cause instanceof MiniAuthError) throw cause;
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new MiniAuthError('ERR_LOAD_FAILED', `the WebAssembly module could not be loaded from ${path}: ${reason} (${hint})`, { cause });
    }
  });

  /** @param {{ wasmPath?: string | URL }} [options] */
  function init({ wasmPath } = {}) {
    if (wasmPath === undefined) return;
    // Mini Programs have no URL: only strings there.
    const url = typeof URL === 'function' && wasmPath instanceof URL;
    if (!url && !(typeof wasmPath === 'string' && wasmPath !== '')) {
      throw new MiniAuthError('ERR_INVALID_ARGUMENT', '"wasmPath" must be a non-empty string');
    }
    if (started) {
      throw new MiniAuthError('ERR_INVALID_ARGUMENT', 'init() comes right after the package is imported, before the module loads; it is loading already');
    }
    path = wasmPath;
  }

  return { loaded, init };
}
