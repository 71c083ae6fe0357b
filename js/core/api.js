// The public API, written once for every runtime. A platform entry (node/,
// web/, miniprogram/) hands in the core's bindings once they are loaded (the
// WebAssembly module, or in Node the native addon: the two offer the same
// boundary) and the I/O it owns (HTTP and the clock); every rule about
// tokens and keys is decided in the Rust core behind `core`.

import { MiniAuthError, callCore } from './errors.js';

const DEFAULT_TIMEOUT = 5_000;

/**
 * @param {object} platform
 * @param {object | Promise<object>} platform.loaded  the core's bindings, or a promise of
 *   them where instantiation is asynchronous (browsers, Mini Programs)
 * @param {'native' | 'wasm'} platform.backend  what `loaded` is: the native addon or the module
 * @param {(url: string, init: { timeout: number, headers?: object }) => Promise<{ status: number, text: string }>} platform.fetchText
 *   rejects with a MiniAuthError, whose `timeout` is true when the time ran out
 * @param {() => number} [platform.now]  milliseconds since the epoch (default: Date.now, read
 *   at each call, so that fake clocks in tests apply)
 */
export function createMiniAuth({ loaded, backend, fetchText, now = () => Date.now() }) {
  let core = null;
  let ready;
  if (typeof loaded.then === 'function') {
    ready = loaded.then((bindings) => {
      core = bindings;
    });
  } else {
    // Node hands the bindings over already loaded: usable at once.
    core = loaded;
    ready = Promise.resolve();
  }

  function bindings() {
    if (core === null) {
      throw new MiniAuthError('ERR_NOT_READY', 'miniauth is still loading its WebAssembly module: await ready first');
    }
    return core;
  }

  function parsePolicy(options) {
    const { currentDate, ...rest } = options;
    const json = JSON.stringify({ ...rest, currentDate: toMillis(currentDate) });
    return callCore(() => bindings().Policy.parse(json));
  }

  function verifyWith(keys, policy, token) {
    checkToken(token);
    return JSON.parse(callCore(() => policy.verify(keys, token, now())));
  }

  /**
   * Verifies through the core's token cache, which answers a slot number
   * (see src/token_cache.rs): `results` keeps the parsed result of each
   * slot, and every caller gets its own copy.
   */
  function verifyCached(keys, policy, results, token) {
    checkToken(token);
    const answer = callCore(() => policy.verify_cached(keys, token, now()));
    if (answer >= 0) return copyJson(results[answer]);
    const slot = -answer - 1;
    results[slot] = JSON.parse(policy.take_stored());
    return copyJson(results[slot]);
  }

  /** Imports `{ jwks }` or `{ key }` (a JWK, an SPKI PEM, or HMAC bytes). */
  function importKeys(jwks, key) {
    const { KeyStore } = bindings();
    if ((jwks === undefined) === (key === undefined)) {
      throw new MiniAuthError('ERR_INVALID_ARGUMENT', 'pass exactly one of "jwks" and "key"');
    }
    if (jwks !== undefined) {
      if (!isPlainObject(jwks)) throw new MiniAuthError('ERR_INVALID_ARGUMENT', '"jwks" must be a JWK Set object');
      return callCore(() => KeyStore.from_jwks(JSON.stringify(jwks)));
    }
    if (typeof key === 'string') return callCore(() => KeyStore.from_pem(key));
    if (key instanceof Uint8Array) return callCore(() => KeyStore.from_secret(key));
    if (key instanceof ArrayBuffer) return callCore(() => KeyStore.from_secret(new Uint8Array(key)));
    if (isPlainObject(key)) return callCore(() => KeyStore.from_jwk(JSON.stringify(key)));
    throw new MiniAuthError('ERR_INVALID_ARGUMENT', '"key" must be a JWK object, an SPKI PEM string or a Uint8Array secret');
  }

  /**
   * A synchronous verifier for one key or key set: the fast path. Keys and
   * options are imported and checked once, here; with `cache`, the core
   * keeps the verified tokens of this verifier.
   */
  function createVerifier(options = {}) {
    const { jwks, key, ...policyOptions } = options;
    const keys = importKeys(jwks, key);
    let policy;
    try {
      policy = parsePolicy(policyOptions);
    } catch (error) {
      keys.free();
      throw error;
    }
    const results = [];
    return {
      verify: policy.caches() ? (token) => verifyCached(keys, policy, results, token) : (token) => verifyWith(keys, policy, token),
      /** How many verified tokens the cache holds (0 without `cache`). */
      get cacheSize() {
        return policy.cached();
      },
      /** Releases the core's memory now rather than when garbage-collected. */
      free() {
        keys.free();
        policy.free();
        results.length = 0;
      },
    };
  }

  /** A key set fetched from `url`, cached, refetched for an unknown `kid`. */
  class RemoteJwks {
    constructor(url, options = {}) {
      this.url = String(url);
      this.timeout = options.timeout ?? DEFAULT_TIMEOUT;
      this.headers = options.headers;
      this.store = null;
      // undefined: the core's defaults (src/jwks_cache.rs).
      this.cacheMaxAge = options.cacheMaxAge;
      this.cooldown = options.cooldown;
      this.inFlight = null;
    }

    keyStore() {
      this.store ??= bindings().KeyStore.remote(this.cacheMaxAge, this.cooldown);
      return this.store;
    }

    /** Fetches the set now; concurrent callers share one request. */
    reload() {
      this.inFlight ??= this.fetchOnce().finally(() => {
        this.inFlight = null;
      });
      return this.inFlight;
    }

    async fetchOnce() {
      await ready;
      let answer;
      try {
        answer = await fetchText(this.url, { timeout: this.timeout, headers: this.headers });
      } catch (error) {
        if (error.timeout) throw new MiniAuthError('ERR_JWKS_TIMEOUT', error.message, { cause: error });
        throw error;
      }
      const { status, text } = answer;
      if (status !== 200) {
        throw new MiniAuthError('ERR_NETWORK', `expected 200 OK from the JWKS endpoint, got ${status}`, { status });
      }
      callCore(() => this.keyStore().store_jwks(text, now()));
    }

    async verify(token, options) {
      await ready;
      // A malformed token or bad options fail here, before any fetch: an
      // unreachable key server must not turn garbage into ERR_NETWORK.
      checkToken(token);
      callCore(() => bindings().decode_protected_header(token));
      const policy = parsePolicy(options);
      try {
        const store = this.keyStore();
        if (!store.is_fresh(now())) await this.reload();
        try {
          return verifyWith(store, policy, token);
        } catch (error) {
          if (error.code !== 'ERR_JWKS_NO_MATCHING_KEY' || !store.may_refetch(now())) throw error;
        }
        await this.reload();
        return verifyWith(store, policy, token);
      } finally {
        policy.free();
      }
    }
  }

  function createRemoteJwks(url, options) {
    return new RemoteJwks(url, options);
  }

  /**
   * Verifies a JWT with a remote key set, a JWK Set object, or a key; jose's
   * `jwtVerify` shape. Resolves to `{ header, claims }`.
   */
  async function jwtVerify(token, keyOrJwks, options = {}) {
    if (keyOrJwks instanceof RemoteJwks) return keyOrJwks.verify(token, options);
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

function checkToken(token) {
  if (typeof token !== 'string') throw new MiniAuthError('ERR_JWS_INVALID', 'the token must be a string');
}

/** A deep copy of what JSON.parse made: plain objects, arrays and primitives. */
function copyJson(value) {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const copy = {};
  for (const key of Object.keys(value)) {
    const member = copyJson(value[key]);
    // JSON.parse makes "__proto__" an own member; an assignment would set the prototype instead.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: member, enumerable: true, writable: true, configurable: true });
    else copy[key] = member;
  }
  return copy;
}

function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function toMillis(date) {
  if (date === undefined) return undefined;
  const millis = date instanceof Date ? date.getTime() : date;
  // An Invalid Date is NaN, which JSON turns into null, which means "now": refuse it here.
  if (typeof millis === 'number' && Number.isFinite(millis)) return millis;
  throw new MiniAuthError('ERR_INVALID_ARGUMENT', '"currentDate" must be a valid Date');
}
