'use strict';

// An HTTP API (node:http, no framework) that serves only requests whose
// `Authorization: Bearer <id_token>` verifies against the identity server's
// JWKS, with miniauth's createRemoteJwks + jwtVerify.
//
//   GET /api/me   → 200 { sub, phone_number? }
//                 → 401 { error: <MiniAuthError code>, message } for a missing or bad token
//                 → 503 { error } when the key set cannot be fetched
//
// The miniauth package is handed in (`createBackend({ miniauth, ... })`), so
// the same code runs with `require('miniauth')` in an app (see server.js) and
// with the freshly built pkg/ in the repository's tests.

const http = require('node:http');

/** MiniAuthError codes that mean "we could not check", not "the token is bad". */
const UNAVAILABLE = new Set(['ERR_NETWORK', 'ERR_JWKS_TIMEOUT']);

/**
 * @param {object} options
 * @param {object} options.miniauth  the miniauth package (`require('miniauth')`)
 * @param {string} options.issuer    the identity server, exactly as in the tokens' `iss`
 * @param {string} options.audience  the Mini Program's AppID, as in the tokens' `aud`
 * @param {string} [options.jwksUrl] default `${issuer}/.well-known/jwks.json`
 * @param {string[]} [options.algorithms] default: whatever the key in the set allows
 * @param {object} [options.jwksOptions] createRemoteJwks options (cacheMaxAge, cooldown, timeout)
 */
function createBackend(options = {}) {
  const { miniauth, issuer, audience, algorithms, jwksOptions } = options;
  if (!miniauth || typeof miniauth.jwtVerify !== 'function' || typeof miniauth.createRemoteJwks !== 'function') {
    throw new TypeError('createBackend: "miniauth" must be the miniauth package');
  }
  if (typeof issuer !== 'string' || issuer === '') throw new TypeError('createBackend: "issuer" is required');
  if (typeof audience !== 'string' || audience === '') throw new TypeError('createBackend: "audience" is required');
  const jwksUrl = options.jwksUrl || `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
  const jwks = miniauth.createRemoteJwks(jwksUrl, jwksOptions);
  const verifyOptions = { issuer, audience };
  if (algorithms) verifyOptions.algorithms = algorithms;

  /** The verified claims of the request's bearer token; throws MiniAuthError. */
  async function authenticate(req) {
    const match = /^Bearer +([^\s]+)\s*$/i.exec(req.headers.authorization || '');
    if (!match) {
      throw new miniauth.MiniAuthError('ERR_JWT_INVALID', 'an "Authorization: Bearer <id_token>" header is required');
    }
    const { claims } = await miniauth.jwtVerify(match[1], jwks, verifyOptions);
    return claims;
  }

  async function handle(req, res) {
    const { pathname } = new URL(req.url, 'http://localhost');
    if (pathname !== '/api/me') return send(res, 404, { error: 'not_found' });
    if (req.method !== 'GET') return send(res, 405, { error: 'method_not_allowed' }, { allow: 'GET' });
    let claims;
    try {
      claims = await authenticate(req);
    } catch (error) {
      if (!(error instanceof miniauth.MiniAuthError)) {
        console.error('node-backend: verifying the token failed unexpectedly:', error);
        return send(res, 500, { error: 'internal' });
      }
      if (UNAVAILABLE.has(error.code)) return send(res, 503, { error: error.code, message: error.message });
      return send(res, 401, { error: error.code, message: error.message }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    const me = { sub: claims.sub };
    if (typeof claims.phone_number === 'string') me.phone_number = claims.phone_number;
    return send(res, 200, me);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      console.error('node-backend:', error);
      if (!res.headersSent) send(res, 500, { error: 'internal' });
      else res.destroy();
    });
  });

  return {
    server,
    handle,
    authenticate,
    jwksUrl,
    /** Listens; resolves to the base URL, e.g. http://127.0.0.1:3000. */
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve(`http://${shownHost}:${address.port}`);
        });
      });
    },
    /** Stops accepting connections and drops idle keep-alive ones. */
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        if (typeof server.closeIdleConnections === 'function') server.closeIdleConnections();
      });
    },
  };
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

module.exports = { createBackend };
