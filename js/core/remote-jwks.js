// The remote key set: a JWKS fetched from a URL, cached, and fetched again
// for an unknown `kid`, with one fetch in flight. When to fetch again is the
// core's decision (src/jwks_cache.rs); the fetching is the platform's
// `fetchText`. A handle shows only `url` and `reload()`: its key store and
// the fetch in flight stay in this module, and jwtVerify reaches its verify
// through `verifierOf`.

import { MiniAuthError, callCore } from './errors.js';
import { checkToken } from './verifier.js';

const DEFAULT_TIMEOUT = 5_000;

/**
 * @param {object} context
 * @param {() => object} context.bindings  the core's bindings; throws ERR_NOT_READY before they load
 * @param {Promise<void>} context.ready  settles once the bindings are loaded
 * @param {(url: string, init: { timeout: number, headers?: object }) => Promise<{ status: number, text: string }>} context.fetchText
 * @param {() => number} context.now  milliseconds since the epoch
 * @param {(options: object) => any} context.parsePolicy  from createVerification
 * @param {(keys: any, policy: any, token: string) => object} context.verifyWith  from createVerification
 */
export function createRemoteKeySets({ bindings, ready, fetchText, now, parsePolicy, verifyWith }) {
  /** Each handle's verify(token, options), known only here. */
  const verifiers = new WeakMap();

  /** A key set fetched from `url`, cached, refetched for an unknown `kid`. */
  function createRemoteJwks(url, options = {}) {
    const href = String(url);
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    const { headers, cacheMaxAge, cooldown } = options;
    let store = null;
    let inFlight = null;

    function keyStore() {
      // undefined cacheMaxAge or cooldown: the core's defaults.
      store ??= bindings().KeyStore.remote(cacheMaxAge, cooldown);
      return store;
    }

    async function fetchOnce() {
      await ready;
      let answer;
      try {
        answer = await fetchText(href, { timeout, headers });
      } catch (error) {
        if (error.timeout) throw new MiniAuthError('ERR_JWKS_TIMEOUT', error.message, { cause: error });
        throw error;
      }
      const { status, text } = answer;
      if (status !== 200) {
        throw new MiniAuthError('ERR_NETWORK', `expected 200 OK from the JWKS endpoint, got ${status}`, { status });
      }
      callCore(() => keyStore().store_jwks(text, now()));
    }

    /** Fetches the set now; concurrent callers share one request. */
    function reload() {
      inFlight ??= fetchOnce().finally(() => {
        inFlight = null;
      });
      return inFlight;
    }

    async function verify(token, verifyOptions) {
      await ready;
      // A malformed token or bad options fail here, before any fetch: an
      // unreachable key server must not turn garbage into ERR_NETWORK.
      checkToken(token);
      callCore(() => bindings().decode_protected_header(token));
      const policy = parsePolicy(verifyOptions);
      try {
        const keys = keyStore();
        if (!keys.is_fresh(now())) await reload();
        try {
          return verifyWith(keys, policy, token);
        } catch (error) {
          if (error.code !== 'ERR_JWKS_NO_MATCHING_KEY' || !keys.may_refetch(now())) throw error;
        }
        await reload();
        return verifyWith(keys, policy, token);
      } finally {
        policy.free();
      }
    }

    const remote = { url: href, reload };
    verifiers.set(remote, verify);
    return remote;
  }

  /** The verify of a handle from createRemoteJwks, or undefined for anything else. */
  function verifierOf(value) {
    return verifiers.get(value);
  }

  return { createRemoteJwks, verifierOf };
}
