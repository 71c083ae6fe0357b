// Keys and tokens shared by every library in a run, made fresh each run
// with node:crypto (independent of every library under test).
//
// The fixture set is plain JSON (JWKs, PEMs, base64url secrets, token
// strings), so the very same tokens can be handed to the Mini Program
// sandbox as text.

import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

export const ISSUER = 'https://id.miniauth.example';
export const AUDIENCE = 'wx1234567890abcdef';
export const ALGORITHMS = ['RS256', 'ES256', 'EdDSA', 'HS256'];

const b64u = (bytes) => Buffer.from(bytes).toString('base64url');

function keyPair(alg) {
  switch (alg) {
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
    default:
      throw new Error(`no key pair for ${alg}`);
  }
}

function signer(alg) {
  if (alg === 'HS256') {
    const secret = randomBytes(32);
    return {
      secret,
      jwk: { kty: 'oct', k: b64u(secret), alg },
      sign: (input) => createHmac('sha256', secret).update(input).digest(),
    };
  }
  const { publicKey, privateKey } = keyPair(alg);
  const sign1 = {
    RS256: (input) => sign('sha256', input, privateKey),
    ES256: (input) => sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
    EdDSA: (input) => sign(null, input, privateKey),
  }[alg];
  return {
    jwk: { ...publicKey.export({ format: 'jwk' }), alg, use: 'sig' },
    pem: publicKey.export({ format: 'pem', type: 'spki' }),
    sign: sign1,
  };
}

function signJwt(s, header, claims) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  return `${input}.${b64u(s.sign(Buffer.from(input)))}`;
}

/** Changes one signature character in the middle, so only the signature check can catch it. */
function tamper(token) {
  const dot = token.lastIndexOf('.');
  const at = dot + 1 + Math.floor((token.length - dot - 1) / 2);
  const c = token[at] === 'A' ? 'B' : 'A';
  return token.slice(0, at) + c + token.slice(at + 1);
}

/**
 * @param {object} [options]
 * @param {number} [options.tokensPerAlg=8]  distinct tokens verified round-robin
 * @returns {{ issuer, audience, createdAt, algs: Object<string, {
 *   alg, kid, jwk, pem?, secret?, tokens: string[], subs: string[], expired: string, tampered: string }> }}
 */
export function makeFixtures({ tokensPerAlg = 8 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const algs = {};
  for (const alg of ALGORITHMS) {
    const s = signer(alg);
    const kid = `bench-${alg.toLowerCase()}`;
    s.jwk.kid = kid;
    const header = { alg, typ: 'JWT', kid };
    const claims = (i, iat, exp) => ({
      iss: ISSUER,
      sub: `user-${i}-${randomBytes(4).toString('hex')}`,
      aud: AUDIENCE,
      iat,
      exp,
      jti: b64u(randomBytes(12)),
      nickname: `微信用户${i}`,
      scope: 'openid profile',
    });
    const tokens = [];
    const subs = [];
    for (let i = 0; i < tokensPerAlg; i++) {
      const c = claims(i, now, now + 3600);
      subs.push(c.sub);
      tokens.push(signJwt(s, header, c));
    }
    algs[alg] = {
      alg,
      kid,
      jwk: s.jwk,
      ...(s.pem ? { pem: s.pem } : {}),
      ...(s.secret ? { secret: b64u(s.secret) } : {}),
      tokens,
      subs,
      expired: signJwt(s, header, claims('expired', now - 7200, now - 3600)),
      tampered: tamper(tokens[0]),
    };
  }
  return { issuer: ISSUER, audience: AUDIENCE, createdAt: now, algs };
}
