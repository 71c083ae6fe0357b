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
import { PKG } from '../paths.mjs';

const require = createRequire(import.meta.url);

/** The built package's CommonJS entry, what `require('miniauth')` loads. */
export function loadMiniauth() {
  return require(join(PKG, 'node', 'index.cjs'));
}

const secretBytes = (fx) => new Uint8Array(Buffer.from(fx.secret, 'base64url'));

/** miniauth's key argument: the JWK for key pairs (as from a JWKS), the secret's bytes for HMAC. */
const miniauthKey = (fx) => (fx.alg === 'HS256' ? secretBytes(fx) : fx.jwk);

export const miniauth = {
  name: 'miniauth',
  description: 'createVerifier({ key, algorithms, issuer, audience }).verify(token): synchronous',
  supports: () => true,
  async create(fx, { issuer, audience }) {
    const m = loadMiniauth();
    const verifier = m.createVerifier({ key: miniauthKey(fx), algorithms: [fx.alg], issuer, audience });
    return { async: false, verify: (token) => verifier.verify(token).claims };
  },
};

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

export const fastJwt = {
  name: 'fast-jwt',
  description: 'createVerifier({ key, algorithms, allowedIss, allowedAud, cache: false }) (sync, no result cache)',
  supports: () => true,
  async create(fx, { issuer, audience }) {
    const verify = fastJwtCreateVerifier({
      key: fx.alg === 'HS256' ? Buffer.from(fx.secret, 'base64url') : fx.pem,
      algorithms: [fx.alg],
      allowedIss: issuer,
      allowedAud: audience,
      cache: false, // the default, stated: every call really verifies
    });
    return { async: false, verify };
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
export const nodeAdapters = [miniauth, miniauthJwtVerify, joseAdapter, fastJwt, jsonwebtokenAdapter];
