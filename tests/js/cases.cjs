'use strict';

// The shared test cases: one list, run unchanged against the built package in
// Node (require and import), headless Chromium and the Mini Program
// simulator, as panva/jose runs one suite in every runtime.
//
// Each case is `(miniauth, fixtures, assert) => void | Promise<void>`:
//   miniauth  the package as that runtime loads it (ready already awaited)
//   fixtures  tests/js/fixtures.mjs output, in that runtime's realm
//   assert    tests/js/support/assert.cjs
//
// The file is CommonJS with no require() and uses only ECMAScript built-ins
// (no Buffer, TextEncoder, atob, URL, Node or DOM APIs), because the Mini
// Program sandbox has nothing else. Each runner loads it its own way: Node
// requires it, the browser page imports it wrapped as an ES module, the
// simulator requires it from the code package.

const cases = [];

function test(name, fn) {
  cases.push({ name, fn });
}

const ASYMMETRIC = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
const ALGORITHMS = ASYMMETRIC.concat(['HS256']);

// ---- helpers ----

function at(fixtures) {
  return new Date(fixtures.now);
}

function secret(fixtures) {
  return new Uint8Array(fixtures.keys.HS256.secret);
}

/** The verification key of an algorithm as a JWK (the HMAC key as bytes). */
function keyOf(fixtures, alg) {
  return alg === 'HS256' ? secret(fixtures) : fixtures.keys[alg].publicJwk;
}

/** A verifier for the ES256 key, which signed every claim-validation token, at the fixed `now`. */
function es256(miniauth, fixtures, options) {
  return miniauth.createVerifier(Object.assign({ key: fixtures.keys.ES256.publicJwk, currentDate: at(fixtures) }, options));
}

/** The fields a MiniAuthError must have; non-claim errors must carry no claim or reason. */
function expected(miniauth, fields) {
  return Object.assign({ instanceOf: miniauth.MiniAuthError, name: 'MiniAuthError', claim: undefined, reason: undefined }, fields);
}

function throwsCode(miniauth, assert, fn, fields, context) {
  return assert.throws(fn, expected(miniauth, typeof fields === 'string' ? { code: fields } : fields), context);
}

function rejectsCode(miniauth, assert, fn, fields, context) {
  return assert.rejects(fn, expected(miniauth, typeof fields === 'string' ? { code: fields } : fields), context);
}

function assertVerified(assert, result, fixtures, header) {
  assert.deepEqual(result.header, header, 'header');
  assert.deepEqual(result.claims, fixtures.claims, 'claims');
}

// ---- loading and shape ----

test('ready has resolved and every documented export is present', async (miniauth, fixtures, assert) => {
  assert.equal(await miniauth.ready, undefined, 'ready resolves to undefined');
  const names = ['createVerifier', 'createRemoteJwks', 'jwtVerify', 'decodeJwt', 'decodeProtectedHeader', 'MiniAuthError'];
  for (const name of names.concat(['AuthClient', 'memoryStorage', 'fileStorage'])) {
    assert.equal(typeof miniauth[name], 'function', name);
  }
  assert.ok(miniauth.backend === 'native' || miniauth.backend === 'wasm', `backend is "native" or "wasm", not ${miniauth.backend}`);
});

test('MiniAuthError is an Error with a stable code and optional details', (miniauth, fixtures, assert) => {
  const error = new miniauth.MiniAuthError('ERR_JWT_EXPIRED', 'too late', { claim: 'exp', reason: 'check_failed' });
  assert.ok(error instanceof Error, 'instanceof Error');
  assert.ok(error instanceof miniauth.MiniAuthError, 'instanceof MiniAuthError');
  assert.equal(error.name, 'MiniAuthError');
  assert.equal(error.code, 'ERR_JWT_EXPIRED');
  assert.equal(error.message, 'too late');
  assert.equal(error.claim, 'exp');
  assert.equal(error.reason, 'check_failed');
  assert.ok(!('status' in error), 'details not given are not set');
});

test('errors thrown by verify are MiniAuthError instances of this runtime', (miniauth, fixtures, assert) => {
  const error = throwsCode(miniauth, assert, () => es256(miniauth, fixtures).verify(fixtures.tokens.expired), {
    code: 'ERR_JWT_EXPIRED',
    claim: 'exp',
    reason: 'check_failed',
  });
  assert.ok(error instanceof Error, 'instanceof Error');
  assert.equal(Object.getPrototypeOf(error), miniauth.MiniAuthError.prototype);
});

test('verify returns plain objects of this realm, with non-ASCII claims intact', (miniauth, fixtures, assert) => {
  const { header, claims } = es256(miniauth, fixtures).verify(fixtures.tokens.valid.ES256);
  assert.equal(Object.getPrototypeOf(claims), Object.prototype, 'claims prototype');
  assert.equal(Object.getPrototypeOf(header), Object.prototype, 'header prototype');
  assert.ok(Array.isArray(claims.roles), 'arrays stay arrays');
  assert.equal(claims.name, '张三 Zoë 🎉');
  assert.equal(claims.profile.nickname, null);
});

// ---- every algorithm, every way of giving the key ----

for (const alg of ALGORITHMS) {
  test(`${alg}: verifies with its JWK`, (miniauth, fixtures, assert) => {
    const key = alg === 'HS256' ? fixtures.keys.HS256.jwk : fixtures.keys[alg].publicJwk;
    const result = miniauth.createVerifier({ key, currentDate: at(fixtures) }).verify(fixtures.tokens.valid[alg]);
    assertVerified(assert, result, fixtures, { alg, kid: fixtures.keys[alg].kid, typ: 'JWT' });
  });

  test(`${alg}: a tampered signature fails verification`, (miniauth, fixtures, assert) => {
    const verifier = miniauth.createVerifier({ key: keyOf(fixtures, alg), currentDate: at(fixtures) });
    throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.tamperedSignature[alg]), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });
}

for (const alg of ASYMMETRIC) {
  test(`${alg}: verifies with its SPKI PEM`, (miniauth, fixtures, assert) => {
    const verifier = miniauth.createVerifier({ key: fixtures.keys[alg].publicPem, currentDate: at(fixtures) });
    assertVerified(assert, verifier.verify(fixtures.tokens.valid[alg]), fixtures, { alg, kid: fixtures.keys[alg].kid, typ: 'JWT' });
  });

  test(`${alg}: verifies with a JWK Set, selecting the key by kid`, (miniauth, fixtures, assert) => {
    const verifier = miniauth.createVerifier({ jwks: fixtures.jwks, currentDate: at(fixtures) });
    assert.equal(verifier.verify(fixtures.tokens.valid[alg]).header.kid, fixtures.keys[alg].kid);
  });
}

test('HS256: verifies with the secret as a Uint8Array and as an ArrayBuffer', (miniauth, fixtures, assert) => {
  const bytes = secret(fixtures);
  for (const key of [bytes, bytes.buffer]) {
    const result = miniauth.createVerifier({ key, currentDate: at(fixtures) }).verify(fixtures.tokens.valid.HS256);
    assertVerified(assert, result, fixtures, { alg: 'HS256', kid: fixtures.keys.HS256.kid, typ: 'JWT' });
  }
});

test('HS256: verifies with a JWK Set of one secret', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({ jwks: { keys: [fixtures.keys.HS256.jwk] }, currentDate: at(fixtures) });
  assert.equal(verifier.verify(fixtures.tokens.valid.HS256).claims.sub, fixtures.subject);
});

test('HS256: a different secret fails verification', (miniauth, fixtures, assert) => {
  const other = secret(fixtures).map((byte) => byte ^ 0xff);
  throwsCode(
    miniauth,
    assert,
    () => miniauth.createVerifier({ key: other, currentDate: at(fixtures) }).verify(fixtures.tokens.valid.HS256),
    'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  );
});

test('one verifier verifies many tokens, and a failure does not disturb it', (miniauth, fixtures, assert) => {
  const verifier = es256(miniauth, fixtures);
  assert.equal(verifier.verify(fixtures.tokens.valid.ES256).claims.sub, fixtures.subject);
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.tamperedSignature.ES256), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.expired), { code: 'ERR_JWT_EXPIRED', claim: 'exp', reason: 'check_failed' });
  assert.equal(verifier.verify(fixtures.tokens.valid.ES256).claims.sub, fixtures.subject);
  assert.equal(typeof verifier.free, 'function');
  verifier.free();
});

// ---- which key may verify what ----

test('a key refuses tokens of another algorithm family or curve', (miniauth, fixtures, assert) => {
  const pairs = [['ES384', 'ES256'], ['EdDSA', 'RS256'], ['RS256', 'ES256'], ['ES256', 'EdDSA']];
  for (const [keyAlg, tokenAlg] of pairs) {
    const verifier = miniauth.createVerifier({ key: fixtures.keys[keyAlg].publicPem, currentDate: at(fixtures) });
    throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.valid[tokenAlg]), 'ERR_JOSE_ALG_NOT_ALLOWED', `${keyAlg} key, ${tokenAlg} token`);
  }
});

test("a JWK's own alg binds it to that algorithm", (miniauth, fixtures, assert) => {
  const key = Object.assign({}, fixtures.keys.PS256.publicJwk, { alg: 'RS256' });
  throwsCode(miniauth, assert, () => miniauth.createVerifier({ key, currentDate: at(fixtures) }).verify(fixtures.tokens.valid.PS256), 'ERR_JOSE_ALG_NOT_ALLOWED');
});

test('the algorithms option narrows what a key may verify', (miniauth, fixtures, assert) => {
  const onlyPss = miniauth.createVerifier({ key: fixtures.keys.RS256.publicPem, algorithms: ['PS256'], currentDate: at(fixtures) });
  throwsCode(miniauth, assert, () => onlyPss.verify(fixtures.tokens.valid.RS256), 'ERR_JOSE_ALG_NOT_ALLOWED');
  const both = miniauth.createVerifier({ jwks: fixtures.jwks, algorithms: ['RS256', 'PS256'], currentDate: at(fixtures) });
  assert.equal(both.verify(fixtures.tokens.valid.PS256).header.alg, 'PS256');
  throwsCode(miniauth, assert, () => both.verify(fixtures.tokens.valid.ES256), 'ERR_JOSE_ALG_NOT_ALLOWED');
});

test('a single key does not consult the token kid', (miniauth, fixtures, assert) => {
  assert.equal(es256(miniauth, fixtures).verify(fixtures.tokens.unknownKid).header.kid, 'no-such-kid');
});

test('JWK Set: a token without kid selects the one key whose alg matches', (miniauth, fixtures, assert) => {
  const result = miniauth.createVerifier({ jwks: fixtures.jwks, currentDate: at(fixtures) }).verify(fixtures.tokens.noKid);
  assert.deepEqual(result.header, { alg: 'RS256', typ: 'JWT' });
});

test('JWK Set: an unknown kid is ERR_JWKS_NO_MATCHING_KEY', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({ jwks: fixtures.jwks, currentDate: at(fixtures) });
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.unknownKid), 'ERR_JWKS_NO_MATCHING_KEY');
});

test('JWK Set: two keys that both match is ERR_JWKS_MULTIPLE_MATCHING_KEYS', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({ jwks: fixtures.ambiguousJwks, currentDate: at(fixtures) });
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.noKid), 'ERR_JWKS_MULTIPLE_MATCHING_KEYS');
});

// ---- forged and malformed tokens ----

test('alg "none" is never accepted, whatever the key', (miniauth, fixtures, assert) => {
  const verifiers = {
    jwk: miniauth.createVerifier({ key: fixtures.keys.RS256.publicJwk, currentDate: at(fixtures) }),
    pem: miniauth.createVerifier({ key: fixtures.keys.ES256.publicPem, currentDate: at(fixtures) }),
    secret: miniauth.createVerifier({ key: secret(fixtures), currentDate: at(fixtures) }),
    jwks: miniauth.createVerifier({ jwks: fixtures.jwks, currentDate: at(fixtures) }),
  };
  for (const how of Object.keys(verifiers)) {
    for (const token of [fixtures.tokens.algNone, fixtures.tokens.algNoneUpperCase]) {
      throwsCode(miniauth, assert, () => verifiers[how].verify(token), 'ERR_JOSE_ALG_NOT_ALLOWED', how);
    }
  }
});

test('HMAC signed with the RSA public key is refused (key confusion)', (miniauth, fixtures, assert) => {
  const token = fixtures.tokens.hmacWithPublicKey;
  for (const key of [fixtures.keys.RS256.publicPem, fixtures.keys.RS256.publicJwk]) {
    const verifier = miniauth.createVerifier({ key, currentDate: at(fixtures) });
    throwsCode(miniauth, assert, () => verifier.verify(token), 'ERR_JOSE_ALG_NOT_ALLOWED', typeof key);
  }
  const asked = miniauth.createVerifier({ key: fixtures.keys.RS256.publicPem, algorithms: ['HS256'], currentDate: at(fixtures) });
  throwsCode(miniauth, assert, () => asked.verify(token), 'ERR_JOSE_ALG_NOT_ALLOWED', 'even when HS256 is allowed');
  const set = miniauth.createVerifier({ jwks: fixtures.jwks, currentDate: at(fixtures) });
  throwsCode(miniauth, assert, () => set.verify(token), 'ERR_JWKS_NO_MATCHING_KEY', 'JWK Set');
});

test('a tampered payload or another key’s signature fails verification', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({ key: fixtures.keys.RS256.publicJwk, currentDate: at(fixtures) });
  for (const name of ['tamperedPayload', 'otherKeySignature']) {
    throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens[name]), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', name);
  }
});

test('a header with a duplicate "alg" is ERR_JWS_INVALID', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({ key: secret(fixtures), currentDate: at(fixtures) });
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.duplicateAlg), 'ERR_JWS_INVALID');
  throwsCode(miniauth, assert, () => miniauth.decodeProtectedHeader(fixtures.tokens.duplicateAlg), 'ERR_JWS_INVALID', 'decodeProtectedHeader');
});

test('a signed payload with a duplicate claim is ERR_JWT_INVALID', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({ key: secret(fixtures), currentDate: at(fixtures) });
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.duplicateClaim), 'ERR_JWT_INVALID');
  throwsCode(miniauth, assert, () => miniauth.decodeJwt(fixtures.tokens.duplicateClaim), 'ERR_JWT_INVALID', 'decodeJwt');
});

test('an unknown critical header parameter is ERR_JOSE_NOT_SUPPORTED', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({ key: secret(fixtures), currentDate: at(fixtures) });
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.unknownCrit), 'ERR_JOSE_NOT_SUPPORTED');
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.critNamesAbsentParameter), 'ERR_JWS_INVALID', 'crit naming an absent parameter');
});

test('an algorithm the library does not implement is ERR_JOSE_NOT_SUPPORTED', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({ jwks: fixtures.jwks, currentDate: at(fixtures) });
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.unsupportedAlg), 'ERR_JOSE_NOT_SUPPORTED');
});

test('malformed compact serialisations are ERR_JWS_INVALID', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({ key: secret(fixtures), currentDate: at(fixtures) });
  for (const name of ['algNotString', 'headerNotJson', 'twoParts', 'fourParts', 'notBase64url']) {
    throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens[name]), 'ERR_JWS_INVALID', name);
  }
  for (const token of ['', '..', 'not a token']) {
    throwsCode(miniauth, assert, () => verifier.verify(token), 'ERR_JWS_INVALID', JSON.stringify(token));
  }
});

test('a signed payload that is not a JSON object is ERR_JWT_INVALID', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({ key: secret(fixtures), currentDate: at(fixtures) });
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.payloadNotObject), 'ERR_JWT_INVALID');
});

test('the 16 KiB size limit: just under verifies, just over is ERR_JWS_INVALID', (miniauth, fixtures, assert) => {
  const { justUnderSizeLimit, justOverSizeLimit } = fixtures.tokens;
  assert.ok(justUnderSizeLimit.length < fixtures.maxTokenLength && justOverSizeLimit.length > fixtures.maxTokenLength, 'fixture lengths');
  const verifier = miniauth.createVerifier({ key: secret(fixtures), currentDate: at(fixtures) });
  assert.equal(verifier.verify(justUnderSizeLimit).claims.iss, fixtures.issuer);
  throwsCode(miniauth, assert, () => verifier.verify(justOverSizeLimit), 'ERR_JWS_INVALID');
});

test('a 10 MiB token is refused before it is decoded', (miniauth, fixtures, assert) => {
  // Built here rather than shipped in the fixtures: a valid token whose payload is padded out.
  const parts = fixtures.tokens.valid.HS256.split('.');
  const huge = `${parts[0]}.${parts[1]}${'A'.repeat(fixtures.hugeTokenLength)}.${parts[2]}`;
  const verifier = miniauth.createVerifier({ key: secret(fixtures), currentDate: at(fixtures) });
  throwsCode(miniauth, assert, () => verifier.verify(huge), 'ERR_JWS_INVALID');
  throwsCode(miniauth, assert, () => miniauth.decodeJwt(huge), 'ERR_JWT_INVALID', 'decodeJwt');
  throwsCode(miniauth, assert, () => miniauth.decodeProtectedHeader(huge), 'ERR_JWS_INVALID', 'decodeProtectedHeader');
});

test('a token that is not a string is ERR_JWS_INVALID', async (miniauth, fixtures, assert) => {
  const verifier = es256(miniauth, fixtures);
  const notStrings = [undefined, null, 42, {}, ['a', 'b', 'c'], new Uint8Array(3)];
  for (const token of notStrings) {
    throwsCode(miniauth, assert, () => verifier.verify(token), 'ERR_JWS_INVALID', String(token));
  }
  await rejectsCode(miniauth, assert, () => miniauth.jwtVerify(42, fixtures.keys.ES256.publicJwk), 'ERR_JWS_INVALID', 'jwtVerify');
});

// ---- claims ----

test('issuer: one value or a list; wrong or missing iss fails with claim "iss"', (miniauth, fixtures, assert) => {
  assert.equal(es256(miniauth, fixtures, { issuer: fixtures.issuer }).verify(fixtures.tokens.valid.ES256).claims.iss, fixtures.issuer);
  assert.equal(es256(miniauth, fixtures, { issuer: ['https://other.example.com', fixtures.issuer] }).verify(fixtures.tokens.valid.ES256).claims.iss, fixtures.issuer);
  const verifier = es256(miniauth, fixtures, { issuer: fixtures.issuer });
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.wrongIssuer), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss', reason: 'check_failed' });
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.noIssuer), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss', reason: 'missing' });
});

test('audience: token aud as a string or a list, option as a string or a list', (miniauth, fixtures, assert) => {
  const verifier = es256(miniauth, fixtures, { audience: fixtures.audience });
  assert.equal(verifier.verify(fixtures.tokens.valid.ES256).claims.aud, fixtures.audience);
  assert.deepEqual(verifier.verify(fixtures.tokens.audienceList).claims.aud, ['another-service', fixtures.audience]);
  const either = es256(miniauth, fixtures, { audience: ['someone-else', 'nobody'] });
  assert.equal(either.verify(fixtures.tokens.wrongAudience).claims.aud, 'someone-else');
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.wrongAudience), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud', reason: 'check_failed' });
  throwsCode(miniauth, assert, () => either.verify(fixtures.tokens.valid.ES256), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud', reason: 'check_failed' });
});

test('subject: must match, and is required when asked for', (miniauth, fixtures, assert) => {
  assert.equal(es256(miniauth, fixtures, { subject: fixtures.subject }).verify(fixtures.tokens.valid.ES256).claims.sub, fixtures.subject);
  throwsCode(miniauth, assert, () => es256(miniauth, fixtures, { subject: 'user-7' }).verify(fixtures.tokens.valid.ES256), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'sub', reason: 'check_failed' });
  throwsCode(miniauth, assert, () => es256(miniauth, fixtures, { subject: fixtures.subject }).verify(fixtures.tokens.noSubject), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'sub', reason: 'missing' });
});

test('exp: an expired token is ERR_JWT_EXPIRED; clockTolerance covers small skew', (miniauth, fixtures, assert) => {
  // The token expired 120 s before `now`.
  throwsCode(miniauth, assert, () => es256(miniauth, fixtures).verify(fixtures.tokens.expired), { code: 'ERR_JWT_EXPIRED', claim: 'exp', reason: 'check_failed' });
  throwsCode(miniauth, assert, () => es256(miniauth, fixtures, { clockTolerance: 60 }).verify(fixtures.tokens.expired), { code: 'ERR_JWT_EXPIRED', claim: 'exp', reason: 'check_failed' }, '60 s is not enough');
  assert.equal(es256(miniauth, fixtures, { clockTolerance: 180 }).verify(fixtures.tokens.expired).claims.sub, fixtures.subject);
  assert.equal(es256(miniauth, fixtures, { clockTolerance: '3 minutes' }).verify(fixtures.tokens.expired).claims.sub, fixtures.subject);
});

test('nbf: a token not yet valid is ERR_JWT_NOT_YET_VALID; clockTolerance covers small skew', (miniauth, fixtures, assert) => {
  // nbf is 120 s after `now`.
  throwsCode(miniauth, assert, () => es256(miniauth, fixtures).verify(fixtures.tokens.notYetValid), { code: 'ERR_JWT_NOT_YET_VALID', claim: 'nbf', reason: 'check_failed' });
  assert.equal(es256(miniauth, fixtures, { clockTolerance: '2m' }).verify(fixtures.tokens.notYetValid).claims.sub, fixtures.subject);
});

test('maxTokenAge: too old is ERR_JWT_EXPIRED on "iat"; iat is required and must not be in the future', (miniauth, fixtures, assert) => {
  // oldIat was issued two days before `now`.
  throwsCode(miniauth, assert, () => es256(miniauth, fixtures, { maxTokenAge: 86400 }).verify(fixtures.tokens.oldIat), { code: 'ERR_JWT_EXPIRED', claim: 'iat', reason: 'check_failed' });
  throwsCode(miniauth, assert, () => es256(miniauth, fixtures, { maxTokenAge: '1 day' }).verify(fixtures.tokens.oldIat), { code: 'ERR_JWT_EXPIRED', claim: 'iat', reason: 'check_failed' });
  assert.equal(es256(miniauth, fixtures, { maxTokenAge: '3d' }).verify(fixtures.tokens.oldIat).claims.sub, fixtures.subject);
  throwsCode(miniauth, assert, () => es256(miniauth, fixtures, { maxTokenAge: 3600 }).verify(fixtures.tokens.noIat), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iat', reason: 'missing' });
  throwsCode(miniauth, assert, () => es256(miniauth, fixtures, { maxTokenAge: 3600 }).verify(fixtures.tokens.futureIat), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iat', reason: 'check_failed' });
});

test('requiredClaims: a missing claim fails with reason "missing"', (miniauth, fixtures, assert) => {
  assert.equal(es256(miniauth, fixtures, { requiredClaims: ['name', 'roles'] }).verify(fixtures.tokens.valid.ES256).claims.name, fixtures.claims.name);
  throwsCode(miniauth, assert, () => es256(miniauth, fixtures, { requiredClaims: ['name', 'email'] }).verify(fixtures.tokens.valid.ES256), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'email', reason: 'missing' });
});

test('typ: compared as a media type; a different or missing typ fails', (miniauth, fixtures, assert) => {
  assert.equal(es256(miniauth, fixtures, { typ: 'JWT' }).verify(fixtures.tokens.valid.ES256).header.typ, 'JWT');
  assert.equal(es256(miniauth, fixtures, { typ: 'application/jwt' }).verify(fixtures.tokens.valid.ES256).header.typ, 'JWT');
  assert.equal(es256(miniauth, fixtures, { typ: 'at+jwt' }).verify(fixtures.tokens.typAtJwt).header.typ, 'at+jwt');
  const wantsJwt = es256(miniauth, fixtures, { typ: 'JWT' });
  for (const name of ['typAtJwt', 'noTyp']) {
    throwsCode(miniauth, assert, () => wantsJwt.verify(fixtures.tokens[name]), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'typ', reason: 'check_failed' }, name);
  }
});

test('a time claim that is not a number is invalid, never ignored', (miniauth, fixtures, assert) => {
  throwsCode(miniauth, assert, () => es256(miniauth, fixtures).verify(fixtures.tokens.stringExp), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'exp', reason: 'invalid' });
  throwsCode(miniauth, assert, () => es256(miniauth, fixtures).verify(fixtures.tokens.stringNbf), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'nbf', reason: 'invalid' });
});

test('currentDate sets the clock the claims are checked against', (miniauth, fixtures, assert) => {
  const later = new Date(fixtures.now + 2 * 3600 * 1000);
  const verifier = miniauth.createVerifier({ key: fixtures.keys.ES256.publicJwk, currentDate: later });
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.valid.ES256), { code: 'ERR_JWT_EXPIRED', claim: 'exp', reason: 'check_failed' });
  const earlier = new Date(fixtures.now + 200 * 1000);
  assert.equal(miniauth.createVerifier({ key: fixtures.keys.ES256.publicJwk, currentDate: earlier }).verify(fixtures.tokens.notYetValid).claims.sub, fixtures.subject);
});

test('without currentDate the real clock is used', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({ key: fixtures.keys.ES256.publicJwk });
  assert.equal(verifier.verify(fixtures.tokens.expiresIn2100).claims.sub, fixtures.subject);
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.expiredIn2001), { code: 'ERR_JWT_EXPIRED', claim: 'exp', reason: 'check_failed' });
});

test('all options together accept the valid token', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({
    jwks: fixtures.jwks,
    algorithms: ['ES256'],
    issuer: fixtures.issuer,
    audience: fixtures.audience,
    subject: fixtures.subject,
    clockTolerance: 5,
    maxTokenAge: '1h',
    requiredClaims: ['name'],
    typ: 'JWT',
    currentDate: at(fixtures),
  });
  assertVerified(assert, verifier.verify(fixtures.tokens.valid.ES256), fixtures, { alg: 'ES256', kid: fixtures.keys.ES256.kid, typ: 'JWT' });
});

// ---- jwtVerify ----

test('jwtVerify with a JWK Set object resolves to header and claims', async (miniauth, fixtures, assert) => {
  const result = await miniauth.jwtVerify(fixtures.tokens.valid.EdDSA, fixtures.jwks, { currentDate: at(fixtures), issuer: fixtures.issuer });
  assertVerified(assert, result, fixtures, { alg: 'EdDSA', kid: fixtures.keys.EdDSA.kid, typ: 'JWT' });
});

test('jwtVerify with a JWK, a PEM or a secret', async (miniauth, fixtures, assert) => {
  const options = { currentDate: at(fixtures), audience: fixtures.audience };
  assert.equal((await miniauth.jwtVerify(fixtures.tokens.valid.ES384, fixtures.keys.ES384.publicJwk, options)).header.alg, 'ES384');
  assert.equal((await miniauth.jwtVerify(fixtures.tokens.valid.PS256, fixtures.keys.PS256.publicPem, options)).header.alg, 'PS256');
  assert.equal((await miniauth.jwtVerify(fixtures.tokens.valid.HS256, secret(fixtures), options)).header.alg, 'HS256');
});

test('jwtVerify reports every failure by rejecting, never by throwing', async (miniauth, fixtures, assert) => {
  const key = fixtures.keys.ES256.publicJwk;
  await rejectsCode(miniauth, assert, () => miniauth.jwtVerify(fixtures.tokens.expired, key, { currentDate: at(fixtures) }), { code: 'ERR_JWT_EXPIRED', claim: 'exp', reason: 'check_failed' });
  await rejectsCode(miniauth, assert, () => miniauth.jwtVerify(fixtures.tokens.tamperedSignature.ES256, key), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  await rejectsCode(miniauth, assert, () => miniauth.jwtVerify(fixtures.tokens.valid.ES256, 42), 'ERR_INVALID_ARGUMENT', 'key 42');
  await rejectsCode(miniauth, assert, () => miniauth.jwtVerify(fixtures.tokens.valid.ES256, undefined), 'ERR_INVALID_ARGUMENT', 'no key');
  await rejectsCode(miniauth, assert, () => miniauth.jwtVerify(fixtures.tokens.valid.ES256, key, { audiance: 'typo' }), 'ERR_INVALID_ARGUMENT', 'unknown option');
});

// ---- decoding without verification ----

test('decodeJwt returns the claims without verifying anything', (miniauth, fixtures, assert) => {
  assert.deepEqual(miniauth.decodeJwt(fixtures.tokens.valid.RS256), fixtures.claims);
  // Forged and expired tokens decode too: decoding is not verification.
  assert.equal(miniauth.decodeJwt(fixtures.tokens.tamperedPayload).sub, 'admin');
  assert.equal(miniauth.decodeJwt(fixtures.tokens.algNone).sub, fixtures.subject);
  assert.ok(miniauth.decodeJwt(fixtures.tokens.expired).exp * 1000 < fixtures.now, 'expired exp');
});

test('decodeJwt refuses what is not a JWT with ERR_JWT_INVALID', (miniauth, fixtures, assert) => {
  for (const token of ['nope', 'a.b', fixtures.tokens.payloadNotObject, fixtures.tokens.fourParts, 42, null, undefined]) {
    throwsCode(miniauth, assert, () => miniauth.decodeJwt(token), 'ERR_JWT_INVALID', String(token));
  }
});

test('decodeProtectedHeader returns the header without verifying anything', (miniauth, fixtures, assert) => {
  assert.deepEqual(miniauth.decodeProtectedHeader(fixtures.tokens.valid.ES384), { alg: 'ES384', kid: fixtures.keys.ES384.kid, typ: 'JWT' });
  assert.deepEqual(miniauth.decodeProtectedHeader(fixtures.tokens.algNone), { alg: 'none', typ: 'JWT' });
  assert.equal(miniauth.decodeProtectedHeader(fixtures.tokens.unknownCrit).crit[0], 'urn:example:policy');
});

test('decodeProtectedHeader refuses what is not a JWS header with ERR_JWS_INVALID', (miniauth, fixtures, assert) => {
  for (const token of ['!!!.a.b', fixtures.tokens.headerNotJson, 'WzFd.e30.', 42, null, undefined]) {
    throwsCode(miniauth, assert, () => miniauth.decodeProtectedHeader(token), 'ERR_JWS_INVALID', String(token));
  }
});

// ---- bad arguments and bad keys ----

test('createVerifier needs exactly one of jwks and key', (miniauth, fixtures, assert) => {
  throwsCode(miniauth, assert, () => miniauth.createVerifier(), 'ERR_INVALID_ARGUMENT', 'no options');
  throwsCode(miniauth, assert, () => miniauth.createVerifier({}), 'ERR_INVALID_ARGUMENT', 'neither');
  throwsCode(miniauth, assert, () => miniauth.createVerifier({ jwks: fixtures.jwks, key: fixtures.keys.ES256.publicJwk }), 'ERR_INVALID_ARGUMENT', 'both');
});

test('createVerifier refuses keys and key sets of the wrong type', (miniauth, fixtures, assert) => {
  for (const key of [42, null, true, ['not', 'a', 'key'], () => 'key']) {
    throwsCode(miniauth, assert, () => miniauth.createVerifier({ key }), 'ERR_INVALID_ARGUMENT', `key ${String(key)}`);
  }
  for (const jwks of [[fixtures.keys.ES256.publicJwk], 'jwks', null, 7]) {
    throwsCode(miniauth, assert, () => miniauth.createVerifier({ jwks }), 'ERR_INVALID_ARGUMENT', `jwks ${String(jwks)}`);
  }
});

test('createVerifier refuses bad options with ERR_INVALID_ARGUMENT', (miniauth, fixtures, assert) => {
  const bad = {
    'a misspelt option': { audiance: fixtures.audience },
    'a negative clockTolerance': { clockTolerance: -1 },
    'a clockTolerance without a unit': { clockTolerance: 'soon' },
    'a maxTokenAge in an unknown unit': { maxTokenAge: '2 fortnights' },
    'no algorithms': { algorithms: [] },
    'algorithm "none"': { algorithms: ['none'] },
    'algorithms as a string': { algorithms: 'ES256' },
    'no issuers': { issuer: [] },
    'a numeric audience': { audience: 42 },
    'requiredClaims as a string': { requiredClaims: 'email' },
    'currentDate as a string': { currentDate: '2025-01-01' },
    'currentDate an Invalid Date': { currentDate: new Date('not a date') },
  };
  for (const label of Object.keys(bad)) {
    throwsCode(miniauth, assert, () => es256(miniauth, fixtures, bad[label]), 'ERR_INVALID_ARGUMENT', label);
  }
});

test('keys that are weak, malformed or not for signatures are ERR_JWK_INVALID', (miniauth, fixtures, assert) => {
  const { badKeys } = fixtures;
  const invalid = {
    rsa1024: badKeys.rsa1024,
    ecOffCurve: badKeys.ecOffCurve,
    shortSecret: new Uint8Array(badKeys.shortSecret),
    encryptionUse: badKeys.encryptionUse,
    algMismatch: badKeys.algMismatch,
    notBase64url: badKeys.notBase64url,
    garbagePem: badKeys.garbagePem,
    privateKeyPem: '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n',
    // A private JWK in a verifier has already leaked; it is refused, not trimmed.
    privateJwk: Object.assign({}, fixtures.keys.ES256.publicJwk, { d: 'AQAB' }),
  };
  for (const name of Object.keys(invalid)) {
    throwsCode(miniauth, assert, () => miniauth.createVerifier({ key: invalid[name] }), 'ERR_JWK_INVALID', name);
  }
});

test('a key type the library does not implement is ERR_JOSE_NOT_SUPPORTED', (miniauth, fixtures, assert) => {
  throwsCode(miniauth, assert, () => miniauth.createVerifier({ key: fixtures.badKeys.x25519 }), 'ERR_JOSE_NOT_SUPPORTED');
});

test('malformed JWK Sets are ERR_JWKS_INVALID', (miniauth, fixtures, assert) => {
  for (const name of ['mixedJwks', 'keysNotArray']) {
    throwsCode(miniauth, assert, () => miniauth.createVerifier({ jwks: fixtures.badKeys[name] }), 'ERR_JWKS_INVALID', name);
  }
  throwsCode(miniauth, assert, () => miniauth.createVerifier({ jwks: {} }), 'ERR_JWKS_INVALID', 'no keys member');
});

test('a JWK Set skips key types it does not implement and keeps the rest', (miniauth, fixtures, assert) => {
  const jwks = { keys: [fixtures.badKeys.x25519, fixtures.keys.EdDSA.publicJwk] };
  const verifier = miniauth.createVerifier({ jwks, currentDate: at(fixtures) });
  assert.equal(verifier.verify(fixtures.tokens.valid.EdDSA).header.alg, 'EdDSA');
});

// ---- the verified-token cache (createVerifier's `cache` option) ----

function cached(miniauth, fixtures, cache, options) {
  return miniauth.createVerifier(Object.assign({ key: secret(fixtures), currentDate: at(fixtures), cache: cache }, options));
}

test('cache: a verified token is answered again with the same result', (miniauth, fixtures, assert) => {
  const verifier = cached(miniauth, fixtures, true);
  assert.equal(verifier.cacheSize, 0, 'empty at first');
  const first = verifier.verify(fixtures.tokens.valid.HS256);
  const second = verifier.verify(fixtures.tokens.valid.HS256);
  assertVerified(assert, second, fixtures, first.header);
  assert.deepEqual(second, first, 'the same result');
  assert.equal(verifier.cacheSize, 1, 'one entry for one token');
  const uncached = miniauth.createVerifier({ key: secret(fixtures), currentDate: at(fixtures) });
  assert.equal(uncached.cacheSize, 0, 'no cache without the option');
});

test('cache: every caller gets its own copy of the result', (miniauth, fixtures, assert) => {
  const verifier = cached(miniauth, fixtures, true);
  const first = verifier.verify(fixtures.tokens.valid.HS256);
  first.claims.sub = 'admin';
  first.claims.extra = { nested: [1] };
  first.header.alg = 'none';
  const second = verifier.verify(fixtures.tokens.valid.HS256);
  second.claims.iat = 0;
  const third = verifier.verify(fixtures.tokens.valid.HS256);
  assert.ok(first !== third && first.claims !== third.claims, 'distinct objects');
  assert.equal(third.claims.sub, fixtures.claims.sub, 'a mutated copy changes nothing');
  assert.deepEqual(third.claims, fixtures.claims);
  assert.equal(third.header.alg, 'HS256');
});

test('cache: a "__proto__" claim stays an own member of every copy', (miniauth, fixtures, assert) => {
  const verifier = cached(miniauth, fixtures, true);
  for (let i = 0; i < 2; i++) {
    const { claims } = verifier.verify(fixtures.tokens.protoClaim);
    assert.equal(Object.getPrototypeOf(claims), Object.prototype, 'the prototype is untouched');
    assert.equal(claims.admin, undefined, 'nothing inherited from the claim');
    assert.ok(Object.prototype.hasOwnProperty.call(claims, '__proto__'), 'an own member');
    assert.deepEqual(Object.getOwnPropertyDescriptor(claims, '__proto__').value, { admin: true });
  }
});

test('cache: failures are never cached', (miniauth, fixtures, assert) => {
  const verifier = cached(miniauth, fixtures, true);
  for (let i = 0; i < 2; i++) {
    throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.tamperedSignature.HS256), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.duplicateClaim), 'ERR_JWT_INVALID');
  }
  assert.equal(verifier.cacheSize, 0);
  verifier.verify(fixtures.tokens.valid.HS256);
  throwsCode(miniauth, assert, () => verifier.verify(fixtures.tokens.tamperedSignature.HS256), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'after a success');
  assert.equal(verifier.cacheSize, 1);
});

test('cache: claims are checked at currentDate, on hits too', (miniauth, fixtures, assert) => {
  const late = cached(miniauth, fixtures, true, { currentDate: new Date(fixtures.now + 2 * 3600 * 1000) });
  for (let i = 0; i < 2; i++) throwsCode(miniauth, assert, () => late.verify(fixtures.tokens.valid.HS256), { code: 'ERR_JWT_EXPIRED', claim: 'exp', reason: 'check_failed' });
  assert.equal(late.cacheSize, 0);
  const early = cached(miniauth, fixtures, true);
  for (let i = 0; i < 2; i++) throwsCode(miniauth, assert, () => early.verify(fixtures.tokens.nbfSoon), { code: 'ERR_JWT_NOT_YET_VALID', claim: 'nbf', reason: 'check_failed' });
  assert.equal(early.cacheSize, 0, 'a token not yet valid is not cached');
});

test('cache: at most max entries', (miniauth, fixtures, assert) => {
  const verifier = miniauth.createVerifier({ key: fixtures.keys.ES256.publicJwk, currentDate: at(fixtures), cache: { max: 2 } });
  for (const name of ['typAtJwt', 'noTyp']) verifier.verify(fixtures.tokens[name]);
  assert.equal(verifier.cacheSize, 2);
  assertVerified(assert, verifier.verify(fixtures.tokens.valid.ES256), fixtures, { alg: 'ES256', kid: fixtures.keys.ES256.kid, typ: 'JWT' });
  assert.equal(verifier.cacheSize, 2, 'a third token evicts one');
});

test('cache: malformed cache options are ERR_INVALID_ARGUMENT', (miniauth, fixtures, assert) => {
  const bad = ['yes', 1, null, { max: 0 }, { max: 2.5 }, { ttl: 0 }, { ttl: 'soon' }, { size: 10 }];
  for (let i = 0; i < bad.length; i++) {
    throwsCode(miniauth, assert, () => cached(miniauth, fixtures, bad[i]), 'ERR_INVALID_ARGUMENT', JSON.stringify(bad[i]));
  }
  assert.equal(cached(miniauth, fixtures, false).cacheSize, 0, 'false: no cache');
  cached(miniauth, fixtures, { max: 10, ttl: '5m' }).verify(fixtures.tokens.valid.HS256);
});

module.exports = cases;
