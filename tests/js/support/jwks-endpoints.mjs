// JWKS endpoints whose answers and fetch counts the remote-JWKS scenarios
// control. Each scenario gets a fresh endpoint (its own path), so no state
// leaks between scenarios or runtimes sharing one server.

/** What an endpoint does when fetched. */
export const MODES = {
  /** Serves `endpoint.jwks`. */
  ok: 'ok',
  /** Accepts the request and never answers. */
  stall: 'stall',
  /** Answers 500 Internal Server Error. */
  serverError: 'serverError',
  /** Answers 200 with a body that is not JSON. */
  malformed: 'malformed',
  /** Answers 200 with a JSON body larger than the 256 KiB limit. */
  oversized: 'oversized',
};

const OVERSIZED_BODY = JSON.stringify({ keys: [], padding: 'x'.repeat(300 * 1024) });

export function createJwksEndpoints() {
  const endpoints = new Map();

  return {
    /** A new endpoint serving `jwks`; change `mode`, `jwks` or `delayMs` at any time; read `fetches`. */
    create(jwks) {
      const endpoint = { path: `/jwks/${endpoints.size + 1}.json`, jwks, mode: MODES.ok, delayMs: 0, fetches: 0 };
      endpoints.set(endpoint.path, endpoint);
      return endpoint;
    },

    /** Answers a request for one of the endpoints; returns false for any other path. */
    handle(req, res) {
      const endpoint = endpoints.get(new URL(req.url, 'http://127.0.0.1').pathname);
      if (endpoint === undefined) return false;
      endpoint.fetches += 1;
      const { mode, jwks } = endpoint;
      // no-store: a browser must not answer a refetch from its HTTP cache.
      const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
      const answer = () => {
        if (mode === MODES.stall) return;
        if (mode === MODES.serverError) res.writeHead(500, headers).end('{"error":"internal"}');
        else if (mode === MODES.malformed) res.writeHead(200, headers).end('this is not JSON');
        else if (mode === MODES.oversized) res.writeHead(200, headers).end(OVERSIZED_BODY);
        else res.writeHead(200, headers).end(JSON.stringify(jwks));
      };
      if (endpoint.delayMs > 0) setTimeout(answer, endpoint.delayMs);
      else answer();
      return true;
    },
  };
}
