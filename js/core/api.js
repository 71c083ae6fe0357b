// The public API, written once for every runtime. A platform entry (node/,
// web/, miniprogram/) hands in the core's bindings once they are loaded (the
// WebAssembly module, or in Node the native addon: the two offer the same
// boundary) and the I/O it owns (HTTP and the clock); every rule about
// tokens and keys is decided in the Rust core behind `core`. Verification
// with keys in hand is verifier.js; key sets fetched from a URL are
// remote-jwks.js.

import { MiniAuthError, callCore } from './errors.js';
import { createRemoteKeySets } from './remote-jwks.js';
import { checkToken, createVerification, isPlainObject } from './verifier.js';

/**
 * @param {object} platform
 * @param {object | Promise<object>} platform.loaded  the core's bindings, or a promise of
 *   them where instantiation is asynchronous (browsers, Mini Programs), which rejects with
 *   a MiniAuthError when the load fails
 * @param {'native' | 'wasm'} platform.backend  what `loaded` is: the native addon or the module
 * @param {(url: string, init: { timeout: number, headers?: object }) => Promise<{ status: number, text: string }>} platform.fetchText
 *   rejects with a MiniAuthError, whose `timeout` is true when the time ran out
 * @param {() => number} [platform.now]  milliseconds since the epoch (default: Date.now, read
 *   at each call, so that fake clocks in tests apply)
 */
export function createMiniAuth({ loaded, backend, fetchText, now = () => Date.now() }) {
  let core = null;
  let failure = null;
  let ready;
  if (typeof loaded.then === 'function') {
    ready = loaded.then(
      (bindings) => {
        core = bindings;
      },
      (error) => {
        failure = error;
        throw error;
      },
    );
    // Every later call reports a failed load; an unobserved `ready` must not be an unhandled rejection.
    ready.catch(() => {});
  } else {
    // Node hands the bindings over already loaded: usable at once.
    core = loaded;
    ready = Promise.resolve();
  }

  function bindings() {
    if (failure !== null) {
      throw new MiniAuthError(failure.code ?? 'ERR_LOAD_FAILED', failure.message, { cause: failure.cause ?? failure });
    }
    if (core === null) {
      throw new MiniAuthError('ERR_NOT_READY', 'miniauth is still loading its WebAssembly module: await ready first');
    }
    return core;
  }

  const { createVerifier, parsePolicy, verifyWith } = createVerification({ bindings, now });
  const { createRemoteJwks, verifierOf } = createRemoteKeySets({ bindings, ready, fetchText, now, parsePolicy, verifyWith });

  /**
   * Verifies a JWT with a remote key set, a JWK Set object, or a key; jose's
   * `jwtVerify` shape. Resolves to `{ header, claims }`.
   */
  async function jwtVerify(token, keyOrJwks, options = {}) {
    const verifyRemote = verifierOf(keyOrJwks);
    if (verifyRemote !== undefined) return verifyRemote(token, options);
    await ready;
    const keySource = isPlainObject(keyOrJwks) && Array.isArray(keyOrJwks.keys) ? { jwks: keyOrJwks } : { key: keyOrJwks };
    const verifier = createVerifier({ ...options, ...keySource });
    try {
      return verifier.verify(token);
    } finally {
      verifier.free();
    }
  }

  function decodeJwt(token) {
    if (typeof token !== 'string') throw new MiniAuthError('ERR_JWT_INVALID', 'the token must be a string');
    return JSON.parse(callCore(() => bindings().decode_jwt(token)));
  }

  function decodeProtectedHeader(token) {
    checkToken(token);
    return JSON.parse(callCore(() => bindings().decode_protected_header(token)));
  }

  return { ready, backend, createVerifier, createRemoteJwks, jwtVerify, decodeJwt, decodeProtectedHeader };
}
