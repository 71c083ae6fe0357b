// Verification with keys in hand: importing a key or key set, parsing the
// options into the core's policy, and createVerifier with its result cache.
// Every rule about tokens and keys is decided in the Rust core; this file
// only shapes the calls and their answers.

import { MiniAuthError, callCore } from './errors.js';

/**
 * @param {object} context
 * @param {() => object} context.bindings  the core's bindings; throws ERR_NOT_READY before they load
 * @param {() => number} context.now  milliseconds since the epoch
 */
export function createVerification({ bindings, now }) {
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

  return { createVerifier, parsePolicy, verifyWith };
}

export function checkToken(token) {
  if (typeof token !== 'string') throw new MiniAuthError('ERR_JWS_INVALID', 'the token must be a string');
}

export function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
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

function toMillis(date) {
  if (date === undefined) return undefined;
  const millis = date instanceof Date ? date.getTime() : date;
  // An Invalid Date is NaN, which JSON turns into null, which means "now": refuse it here.
  if (typeof millis === 'number' && Number.isFinite(millis)) return millis;
  throw new MiniAuthError('ERR_INVALID_ARGUMENT', '"currentDate" must be a valid Date');
}
