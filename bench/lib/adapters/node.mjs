// The libraries compared in Node, each set up the way its documentation
// recommends for verifying many tokens with one key: keys are imported
// once, in create(), never inside the timed loop. Every verify checks the
// signature, the algorithm, iss, aud and exp, and returns the claims.
// See checks.cjs for the adapter shape.

import { createRequire } from 'node:module';
import { createPublicKey, createSecretKey, webcrypto } from 'node:crypto';
import { join } from 'node:path';
import * as jose from 'jose';
import { createVerifier as fastJwtCreateVerifier } from 'fast-jwt';
import jsonwebtoken from 'jsonwebtoken';
import * as nodeRsJwt from '@node-rs/jsonwebtoken';
import { PKG } from '../paths.mjs';

const require = createRequire(import.meta.url);
const ENTRY = join(PKG, 'node', 'index.cjs');

/**
 * The built package's CommonJS entry, what `require('miniauth')` loads,
 * with the core on `backend`: each backend is its own instance of the
 * package, loaded with MINIAUTH_BACKEND set (the entry reads it once).
 */
const instances = new Map();
export function loadMiniauth(backend = 'native') {
  if (!instances.has(backend)) {
    const saved = process.env.MINIAUTH_BACKEND;
    process.env.MINIAUTH_BACKEND = backend;
    delete require.cache[ENTRY];
    try {
      instances.set(backend, require(ENTRY));
    } finally {
      if (saved === undefined) delete process.env.MINIAUTH_BACKEND;
      else process.env.MINIAUTH_BACKEND = saved;
      delete require.cache[ENTRY];
    }
  }
  return instances.get(backend);
}

const secretBytes = (fx) => new Uint8Array(Buffer.from(fx.secret, 'base64url'));

/** miniauth's key argument: the JWK for key pairs (as from a JWKS), the secret's bytes for HMAC. */
const miniauthKey = (fx) => (fx.alg === 'HS256' ? secretBytes(fx) : fx.jwk);

function miniauthVerifier(backend, { cache }) {
  return {
    name: `miniauth ${backend}${cache ? ' cached' : ''}`,
    description: `createVerifier({ key, algorithms, issuer, audience${cache ? ', cache: true' : ''} }).verify(token) on the ${backend} backend: synchronous`,
    supports: () => true,
    async create(fx, { issuer, audience }) {
      const m = loadMiniauth(backend);
      if (m.backend !== backend) throw new Error(`asked for the ${backend} backend, got ${m.backend}`);
      const verifier = m.createVerifier({ key: miniauthKey(fx), algorithms: [fx.alg], issuer, audience, ...(cache ? { cache: true } : {}) });
      return { async: false, verify: (token) => verifier.verify(token).claims };
    },
  };
}

export const miniauth = miniauthVerifier('native', { cache: false });
export const miniauthWasm = miniauthVerifier('wasm', { cache: false });

export const miniauthJwtVerify = {
  name: 'miniauth jwtVerify',
  description: 'await jwtVerify(token, key, options): async one-shot API; imports the key on every call',
  supports: () => true,
  async create(fx, { issuer, audience }) {
    const m = loadMiniauth();
    const key = miniauthKey(fx);
    const options = { algorithms: [fx.alg], issuer, audience };
    return { async: true, verify: async (token) => (await m.jwtVerify(token, key, options)).claims };
  },
};

export const joseAdapter = {
  name: 'jose',
  description: 'await jwtVerify(token, key, options) with a CryptoKey imported once (importJWK; HMAC via subtle.importKey)',
  supports: () => true,
  async create(fx, { issuer, audience }) {
    // jose's importJWK returns the raw bytes for an oct JWK, and jwtVerify
    // would then import them into WebCrypto on every call; a CryptoKey is
    // the imported form.
    const key = fx.alg === 'HS256'
      ? await webcrypto.subtle.importKey('raw', secretBytes(fx), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
      : await jose.importJWK(fx.jwk, fx.alg);
    const options = { algorithms: [fx.alg], issuer, audience };
    return { async: true, verify: async (token) => (await jose.jwtVerify(token, key, options)).payload };
  },
};

function fastJwtVerifier({ cache }) {
  return {
    name: `fast-jwt${cache ? ' cached' : ''}`,
    description: cache
      ? 'createVerifier({ key, algorithms, allowedIss, allowedAud, cache: true }) (sync, its LRU result cache, 1000 entries)'
      : 'createVerifier({ key, algorithms, allowedIss, allowedAud, cache: false }) (sync, no result cache)',
    supports: () => true,
    async create(fx, { issuer, audience }) {
      const verify = fastJwtCreateVerifier({
        key: fx.alg === 'HS256' ? Buffer.from(fx.secret, 'base64url') : fx.pem,
        algorithms: [fx.alg],
        allowedIss: issuer,
        allowedAud: audience,
        cache, // false is the default, stated: every call really verifies
      });
      return { async: false, verify };
    },
  };
}

export const fastJwt = fastJwtVerifier({ cache: false });

export const nodeRsJsonwebtoken = {
  name: '@node-rs/jsonwebtoken',
  description: 'verifySync(token, key, { algorithms, iss, aud, leeway: 0 }) (Rust jsonwebtoken in a napi-rs addon; sync)',
  supports: () => true,
  async create(fx, { issuer, audience }) {
    const key = fx.alg === 'HS256' ? new Uint8Array(Buffer.from(fx.secret, 'base64url')) : fx.pem;
    const validation = { algorithms: [fx.alg], iss: [issuer], aud: [audience], leeway: 0 };
    return { async: false, verify: (token) => nodeRsJwt.verifySync(token, key, validation) };
  },
};

export const jsonwebtokenAdapter = {
  name: 'jsonwebtoken',
  description: 'jwt.verify(token, keyObject, { algorithms, issuer, audience }) (sync)',
  supports: (alg) => (alg === 'EdDSA' ? 'jsonwebtoken 9 has no EdDSA (its jwa layer knows HS/RS/PS/ES only)' : true),
  async create(fx, { issuer, audience }) {
    const key = fx.alg === 'HS256' ? createSecretKey(Buffer.from(fx.secret, 'base64url')) : createPublicKey(fx.pem);
    const options = { algorithms: [fx.alg], issuer, audience };
    return { async: false, verify: (token) => jsonwebtoken.verify(token, key, options) };
  },
};

/** In table order; the first is the baseline of every ratio. */
export const nodeAdapters = [miniauth, miniauthWasm, miniauthJwtVerify, joseAdapter, fastJwt, nodeRsJsonwebtoken, jsonwebtokenAdapter];

/** With a result cache: every token after its first use is a hit. */
export const cachedNodeAdapters = [
  miniauthVerifier('native', { cache: true }),
  miniauthVerifier('wasm', { cache: true }),
  fastJwtVerifier({ cache: true }),
];
