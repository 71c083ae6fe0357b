// Keys and tokens for the shared cases, generated fresh with jose (an
// independent implementation) in each test process. The result is plain
// JSON-serialisable data (JWKs, PEM text, the HMAC secret as a byte array,
// compact tokens, a fixed `now` in milliseconds) so that a runner can hand it
// to a browser page or write it into a Mini Program code package.
//
// Tokens jose refuses to produce (duplicate header members, unknown `crit`,
// `alg: none`, an RSA key used as an HMAC secret, ...) are built by hand and
// signed with node:crypto, so they fail for the reason their name gives and
// not because their signature is wrong.

import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { CompactSign, exportJWK, exportSPKI, generateKeyPair } from 'jose';

/** The instant every time-dependent case verifies at: 2025-01-01T00:00:00Z. */
export const NOW = Date.UTC(2025, 0, 1);
const now = NOW / 1000;

export const ISSUER = 'https://id.example.com';
export const AUDIENCE = 'miniauth-tests';
export const SUBJECT = 'user-42';

/** The largest token the core accepts (src/jws.rs MAX_TOKEN_LEN). */
export const MAX_TOKEN_LEN = 16 * 1024;

const ASYMMETRIC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];

const b64u = (bytes) => Buffer.from(bytes).toString('base64url');
const b64uJson = (value) => b64u(typeof value === 'string' ? value : JSON.stringify(value));

/** Claims of every valid token; non-ASCII text exercises each runtime's UTF-8 path. */
function validClaims(extra = {}) {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: SUBJECT,
    iat: now - 60,
    exp: now + 3600,
    name: '张三 Zoë 🎉',
    roles: ['reader', 'writer'],
    profile: { verified: true, nickname: null, level: 3 },
    ...extra,
  };
}

async function generateSigningKey(alg) {
  const options = { extractable: true, ...(alg.startsWith('RS') || alg.startsWith('PS') ? { modulusLength: 2048 } : {}) };
  const { publicKey, privateKey } = await generateKeyPair(alg, options);
  const kid = `${alg.toLowerCase()}-1`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

/** Signs `claims` (an object, or JSON text taken as is) with jose. */
async function sign({ alg, kid, privateKey }, claims, header = {}) {
  const payload = new TextEncoder().encode(typeof claims === 'string' ? claims : JSON.stringify(claims));
  return new CompactSign(payload).setProtectedHeader({ alg, kid, typ: 'JWT', ...header }).sign(privateKey);
}

/** A hand-built HS256 token over exactly the header and payload text given. */
function signHs256(secret, header, payload) {
  const signingInput = `${b64uJson(header)}.${b64uJson(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

/** Flips one bit in the middle of the signature: still canonical base64url, no longer valid. */
function tamperSignature(token) {
  const [header, payload, signature] = token.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  bytes[bytes.length >> 1] ^= 0x01;
  return `${header}.${payload}.${b64u(bytes)}`;
}

/** Swaps in another payload and keeps the old signature. */
function tamperPayload(token, claims) {
  const [header, , signature] = token.split('.');
  return `${header}.${b64uJson(claims)}.${signature}`;
}

/** An HS256 token padded with a claim until it is exactly `length` characters long. */
function hs256TokenOfLength(secret, length) {
  const header = { alg: 'HS256', typ: 'JWT' };
  const build = (padding) => signHs256(secret, header, validClaims({ padding }));
  const overhead = build('').length;
  // base64url turns 3 bytes into 4 characters: grow the padding until the length is right.
  let padding = 'x'.repeat(Math.max(0, Math.floor(((length - overhead) * 3) / 4)));
  while (build(padding).length < length) padding += 'x';
  const token = build(padding);
  if (Math.abs(token.length - length) > 4) throw new Error(`could not build a token of ${length} characters`);
  return token;
}

export async function createFixtures() {
  const signing = {};
  for (const alg of ASYMMETRIC_ALGORITHMS) signing[alg] = await generateSigningKey(alg);
  const rotated = { ...(await generateSigningKey('ES256')), kid: 'es256-rotated' };
  rotated.publicJwk.kid = rotated.kid;

  const secret = randomBytes(32);
  const hmac = {
    alg: 'HS256',
    kid: 'hs256-1',
    secret: [...secret],
    secretBase64url: b64u(secret),
    jwk: { kty: 'oct', k: b64u(secret), kid: 'hs256-1', alg: 'HS256', use: 'sig' },
  };

  const keys = { HS256: hmac };
  for (const alg of ASYMMETRIC_ALGORITHMS) {
    const { kid, publicJwk, publicPem } = signing[alg];
    keys[alg] = { alg, kid, publicJwk, publicPem };
  }
  keys.rotated = { alg: 'ES256', kid: rotated.kid, publicJwk: rotated.publicJwk, publicPem: rotated.publicPem };

  const rs = signing.RS256;
  const es = signing.ES256;
  const claims = validClaims();

  const valid = {};
  for (const alg of ASYMMETRIC_ALGORITHMS) valid[alg] = await sign(signing[alg], claims);
  valid.HS256 = signHs256(secret, { alg: 'HS256', kid: hmac.kid, typ: 'JWT' }, claims);

  const tamperedSignature = {};
  for (const alg of Object.keys(valid)) tamperedSignature[alg] = tamperSignature(valid[alg]);

  // Claim-validation tokens, all signed with the ES256 key.
  const claimTokens = {
    expired: await sign(es, validClaims({ iat: now - 7200, exp: now - 120 })),
    notYetValid: await sign(es, validClaims({ nbf: now + 120 })),
    wrongIssuer: await sign(es, validClaims({ iss: 'https://evil.example.com' })),
    wrongAudience: await sign(es, validClaims({ aud: 'someone-else' })),
    audienceList: await sign(es, validClaims({ aud: ['another-service', AUDIENCE] })),
    noIssuer: await sign(es, validClaims({ iss: undefined })),
    noSubject: await sign(es, validClaims({ sub: undefined })),
    oldIat: await sign(es, validClaims({ iat: now - 2 * 86400 })),
    futureIat: await sign(es, validClaims({ iat: now + 600 })),
    noIat: await sign(es, validClaims({ iat: undefined })),
    stringExp: await sign(es, validClaims({ exp: String(now + 3600) })),
    stringNbf: await sign(es, validClaims({ nbf: String(now - 60) })),
    typAtJwt: await sign(es, claims, { typ: 'at+jwt' }),
    noTyp: await sign(es, claims, { typ: undefined }),
    // For the cases that use the real clock (no currentDate).
    expiresIn2100: await sign(es, validClaims({ iat: Date.UTC(2024, 0, 1) / 1000, exp: Date.UTC(2100, 0, 1) / 1000 })),
    expiredIn2001: await sign(es, validClaims({ iat: Date.UTC(2000, 0, 1) / 1000, exp: Date.UTC(2001, 0, 1) / 1000 })),
  };

  const header = (alg) => ({ alg, typ: 'JWT' });
  const malformed = {
    noKid: await sign(rs, claims, { kid: undefined }),
    unknownKid: await sign(es, claims, { kid: 'no-such-kid' }),
    tamperedPayload: tamperPayload(valid.RS256, validClaims({ sub: 'admin' })),
    // Signed by another RSA key but naming the RS256 key.
    otherKeySignature: await sign({ ...(await generateSigningKey('RS256')), kid: rs.kid }, claims),
    algNone: `${b64uJson({ alg: 'none', typ: 'JWT' })}.${b64uJson(claims)}.`,
    algNoneUpperCase: `${b64uJson({ alg: 'NONE', typ: 'JWT' })}.${b64uJson(claims)}.`,
    // The classic confusion: the RSA public key's PEM text used as an HMAC secret.
    hmacWithPublicKey: signHs256(Buffer.from(rs.publicPem), { alg: 'HS256', kid: rs.kid, typ: 'JWT' }, claims),
    duplicateAlg: signHs256(secret, '{"alg":"HS256","typ":"JWT","alg":"none"}', claims),
    duplicateClaim: signHs256(secret, header('HS256'), `{"sub":"${SUBJECT}","exp":${now + 3600},"sub":"admin"}`),
    unknownCrit: signHs256(secret, { ...header('HS256'), crit: ['urn:example:policy'], 'urn:example:policy': 1 }, claims),
    critNamesAbsentParameter: signHs256(secret, { ...header('HS256'), crit: ['urn:example:policy'] }, claims),
    unsupportedAlg: `${b64uJson(header('ES512'))}.${b64uJson(claims)}.${b64u(randomBytes(132))}`,
    algNotString: signHs256(secret, { alg: 256, typ: 'JWT' }, claims),
    headerNotJson: `${b64u('{"alg":"HS256"')}.${b64uJson(claims)}.${b64u(randomBytes(32))}`,
    payloadNotObject: signHs256(secret, header('HS256'), '["not","an","object"]'),
    // JSON.parse makes "__proto__" an own member; a copy of the claims must too.
    protoClaim: signHs256(secret, header('HS256'), `{"sub":"${SUBJECT}","exp":${now + 3600},"__proto__":{"admin":true}}`),
    // For the verified-token cache: expiry with no iat, and an nbf a minute ahead.
    expNoIat: signHs256(secret, header('HS256'), { sub: SUBJECT, exp: now + 60 }),
    nbfSoon: signHs256(secret, header('HS256'), { sub: SUBJECT, nbf: now + 60, exp: now + 3600 }),
    twoParts: valid.HS256.split('.').slice(0, 2).join('.'),
    fourParts: `${valid.HS256}.${valid.HS256.split('.')[2]}`,
    notBase64url: valid.HS256.replace('.', '.+/='),
    // Verified by the cases with key HS256: just inside and just beyond the size limit.
    justUnderSizeLimit: hs256TokenOfLength(secret, MAX_TOKEN_LEN - 64),
    justOverSizeLimit: hs256TokenOfLength(secret, MAX_TOKEN_LEN + 64),
  };

  // A JWK Set of every public key, each with kid and alg as identity servers publish them.
  const jwks = { keys: ASYMMETRIC_ALGORITHMS.map((alg) => keys[alg].publicJwk) };
  // Two RSA keys with neither kid nor alg: a token without kid matches both.
  const strip = ({ kid, alg, ...rest }) => rest;
  const ambiguousJwks = { keys: [strip(keys.RS256.publicJwk), strip(keys.PS256.publicJwk)] };

  const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  const offCurve = { ...keys.ES256.publicJwk };
  const y = Buffer.from(offCurve.y, 'base64url');
  y[y.length - 1] ^= 0x01;
  offCurve.y = b64u(y);
  const badKeys = {
    rsa1024: { ...weakRsa, alg: 'RS256' },
    ecOffCurve: offCurve,
    shortSecret: [...randomBytes(16)],
    encryptionUse: { ...keys.RS256.publicJwk, use: 'enc' },
    algMismatch: { ...keys.RS256.publicJwk, alg: 'ES256' },
    x25519: { kty: 'OKP', crv: 'X25519', x: b64u(randomBytes(32)) },
    notBase64url: { ...keys.EdDSA.publicJwk, x: `${keys.EdDSA.publicJwk.x}==` },
    garbagePem: '-----BEGIN PUBLIC KEY-----\nTm90IGEga2V5IGF0IGFsbA==\n-----END PUBLIC KEY-----\n',
    mixedJwks: { keys: [hmac.jwk, keys.RS256.publicJwk] },
    keysNotArray: { keys: { kty: 'oct' } },
  };

  return {
    now: NOW,
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: SUBJECT,
    maxTokenLength: MAX_TOKEN_LEN,
    // The 10 MiB token is built by the case from a valid one, so that ten
    // megabytes are not copied into every runtime along with the fixtures.
    hugeTokenLength: 10 * 1024 * 1024,
    claims,
    algorithms: [...ASYMMETRIC_ALGORITHMS, 'HS256'],
    keys,
    jwks,
    ambiguousJwks,
    badKeys,
    tokens: {
      valid,
      tamperedSignature,
      ...claimTokens,
      ...malformed,
      rotated: await sign(rotated, claims),
    },
    // Key sets the remote-JWKS tests serve: before and after a key rotation.
    remote: {
      jwksBeforeRotation: { keys: [keys.ES256.publicJwk] },
      jwksAfterRotation: { keys: [keys.ES256.publicJwk, keys.rotated.publicJwk] },
    },
  };
}
