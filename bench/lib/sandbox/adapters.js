// The libraries compared inside the Mini Program sandbox (no WebCrypto, no
// Node crypto, so jose, fast-jwt and jsonwebtoken cannot run there). Same
// adapter shape as ../adapters/node.mjs (see ../checks.cjs). Bundled with
// esbuild into the sandbox's code package; 'miniauth' stays a require of
// miniprogram_npm/miniauth, as WeChat DevTools' "Build npm" leaves it.

import * as miniauthModule from 'miniauth';
import jsrsasign from 'jsrsasign';
import { p256 } from '@noble/curves/nist.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlDecode, createJwtVerifier, timingSafeEqual } from './jwt-lite.js';

const miniauthLib = miniauthModule.default || miniauthModule;

function hex(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return out;
}

export const miniauth = {
  name: 'miniauth',
  description: 'miniprogram_dist: await ready once, then createVerifier({ key, algorithms, issuer, audience }).verify(token)',
  supports: () => true,
  async create(fx, claimOptions) {
    await miniauthLib.ready;
    const key = fx.alg === 'HS256' ? base64urlDecode(fx.secret) : fx.jwk;
    const verifier = miniauthLib.createVerifier({
      key,
      algorithms: [fx.alg],
      issuer: claimOptions.issuer,
      audience: claimOptions.audience,
    });
    return { async: false, verify: (token) => verifier.verify(token).claims };
  },
};

export const jsrsasignAdapter = {
  name: 'jsrsasign',
  description: 'KJUR.jws.JWS.verifyJWT(token, key, { alg, iss, aud, verifyAt }) with the key parsed once (KEYUTIL.getKey), then the payload parsed for the claims (verifyJWT returns only a boolean)',
  supports: (alg) => (alg === 'EdDSA' ? 'jsrsasign 11 has no EdDSA/Ed25519' : true),
  async create(fx, claimOptions) {
    const { KJUR, KEYUTIL, b64utoutf8 } = jsrsasign;
    const key = fx.alg === 'HS256' ? { hex: hex(base64urlDecode(fx.secret)) } : KEYUTIL.getKey(fx.jwk);
    const accept = { alg: [fx.alg], iss: [claimOptions.issuer], aud: [claimOptions.audience] };
    const verify = (token) => {
      const ok = KJUR.jws.JWS.verifyJWT(token, key, {
        alg: accept.alg,
        iss: accept.iss,
        aud: accept.aud,
        verifyAt: KJUR.jws.IntDate.getNow(),
      });
      if (!ok) throw new Error('jsrsasign: verifyJWT returned false');
      return KJUR.jws.JWS.readSafeJSONString(b64utoutf8(token.split('.')[1]));
    };
    return { async: false, verify };
  },
};

/** A bare signature primitive wrapped in jwt-lite.js: the JWT layer is JS written in this harness. */
function nobleAdapter(name, description, primitives) {
  return {
    name,
    description,
    supports: (alg) => (primitives[alg] ? true : primitives.why(alg)),
    async create(fx, claimOptions) {
      const verifySignature = primitives[fx.alg](fx);
      return {
        async: false,
        verify: createJwtVerifier({
          alg: fx.alg,
          verifySignature,
          issuer: claimOptions.issuer,
          audience: claimOptions.audience,
        }),
      };
    },
  };
}

export const nobleCurves = nobleAdapter(
  '@noble/curves',
  'p256.verify (ES256, lowS: false) / ed25519.verify (EdDSA, zip215: false) wrapped in jwt-lite.js (parse, base64url, UTF-8, JSON, alg and claim checks in JS)',
  {
    // HS256 is the @noble/hashes row; false leaves this row out of the table.
    why: (alg) => (alg === 'HS256' ? false : 'not available: @noble/curves has no RSA'),
    ES256(fx) {
      const x = base64urlDecode(fx.jwk.x);
      const y = base64urlDecode(fx.jwk.y);
      const publicKey = new Uint8Array(65);
      publicKey[0] = 4;
      publicKey.set(x, 1);
      publicKey.set(y, 33);
      // JWS signatures are r || s (the "compact" format); JWS does not require low S.
      return (signature, input) => p256.verify(signature, input, publicKey, { lowS: false });
    },
    EdDSA(fx) {
      const publicKey = base64urlDecode(fx.jwk.x);
      return (signature, input) => ed25519.verify(signature, input, publicKey, { zip215: false });
    },
  },
);

export const nobleHashes = nobleAdapter(
  '@noble/hashes',
  'hmac(sha256) wrapped in jwt-lite.js (as above)',
  {
    why: () => false, // HMAC only; the signatures are the @noble/curves row
    HS256(fx) {
      const secret = base64urlDecode(fx.secret);
      return (signature, input) => timingSafeEqual(hmac(sha256, secret, input), signature);
    },
  },
);

/** In table order; the first is the baseline of every ratio. */
export const sandboxAdapters = [miniauth, jsrsasignAdapter, nobleCurves, nobleHashes];
