// The verified-token cache as time passes, on the backend MINIAUTH_BACKEND
// selects (make test runs this file on both). Node's fake clock moves Date,
// which the package reads at every call; the shared cases (cases.cjs) cover
// the rest of the cache in every runtime.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { createFixtures } from './fixtures.mjs';
import { PKG_DIR } from './support/paths.mjs';

const require = createRequire(import.meta.url);
const miniauth = require(join(PKG_DIR, 'node', 'index.cjs'));
const fixtures = await createFixtures();
const SECOND = 1000;

function verifier(options = {}) {
  return miniauth.createVerifier({ key: new Uint8Array(fixtures.keys.HS256.secret), cache: true, ...options });
}

function assertCode(fn, code, claim) {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof miniauth.MiniAuthError, String(error));
    assert.deepEqual({ code: error.code, claim: error.claim }, { code, claim });
    return true;
  });
}

describe(`the verified-token cache over time (${miniauth.backend} backend)`, () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: fixtures.now }));
  afterEach(() => mock.timers.reset());

  test('the backend is the one asked for', () => {
    assert.equal(miniauth.backend, process.env.MINIAUTH_BACKEND || 'native');
  });

  test('a token with exp and no iat expires in the cache at exp, whatever the ttl', () => {
    const v = verifier({ cache: { ttl: 3600 } });
    v.verify(fixtures.tokens.expNoIat);
    mock.timers.tick(59 * SECOND);
    assert.equal(v.verify(fixtures.tokens.expNoIat).claims.sub, fixtures.claims.sub);
    assert.equal(v.cacheSize, 1);
    mock.timers.tick(1 * SECOND);
    assertCode(() => v.verify(fixtures.tokens.expNoIat), 'ERR_JWT_EXPIRED', 'exp');
    assert.equal(v.cacheSize, 0, 'the expired entry is gone');
  });

  test('clockTolerance extends a cached token as it extends a verified one', () => {
    const v = verifier({ clockTolerance: 30 });
    v.verify(fixtures.tokens.expNoIat);
    mock.timers.tick(89 * SECOND);
    v.verify(fixtures.tokens.expNoIat);
    mock.timers.tick(1 * SECOND);
    assertCode(() => v.verify(fixtures.tokens.expNoIat), 'ERR_JWT_EXPIRED', 'exp');
  });

  test('a token whose nbf is ahead verifies, and is cached, once its time comes', () => {
    const v = verifier();
    assertCode(() => v.verify(fixtures.tokens.nbfSoon), 'ERR_JWT_NOT_YET_VALID', 'nbf');
    assert.equal(v.cacheSize, 0);
    mock.timers.tick(60 * SECOND);
    assert.equal(v.verify(fixtures.tokens.nbfSoon).claims.sub, fixtures.claims.sub);
    assert.equal(v.cacheSize, 1);
  });

  test('maxTokenAge is checked on every hit', () => {
    const v = verifier({ maxTokenAge: '2m' });
    v.verify(fixtures.tokens.valid.HS256); // iat is a minute before now
    mock.timers.tick(60 * SECOND);
    v.verify(fixtures.tokens.valid.HS256);
    mock.timers.tick(1 * SECOND);
    assertCode(() => v.verify(fixtures.tokens.valid.HS256), 'ERR_JWT_EXPIRED', 'iat');
  });

  test('an entry is dropped after its ttl and the token verified again', () => {
    const v = verifier({ cache: { ttl: 10 } });
    v.verify(fixtures.tokens.valid.HS256);
    mock.timers.tick(11 * SECOND);
    assert.deepEqual(v.verify(fixtures.tokens.valid.HS256).claims, fixtures.claims);
    assert.equal(v.cacheSize, 1, 'stored again, not twice');
  });

  test('free() releases the cache; the verifier is unusable afterwards', () => {
    const v = verifier();
    v.verify(fixtures.tokens.valid.HS256);
    v.free();
    assert.throws(() => v.verify(fixtures.tokens.valid.HS256));
  });
});
