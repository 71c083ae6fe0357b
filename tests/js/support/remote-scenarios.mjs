// The remote-JWKS scenarios: createRemoteJwks + jwtVerify against a JWKS
// endpoint this process controls. They are written once and run in every
// runtime through a driver (support/harness.cjs createRemoteDriver), because
// the server side (what it answers, how often it was fetched) lives here.
//
// Cache timing uses each runtime's real clock, so the lifetimes are short and
// the waits comfortably longer than them.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MODES } from './jwks-endpoints.mjs';

/**
 * @typedef {object} RemoteContext
 * @property {{ create(url: string, options?: object): Promise<number>|number,
 *   verifyAll(handle: number, tokens: string[], options?: object): Promise<object[]> }} driver
 * @property {string} serverUrl  where `endpoints` are served, as the runtime reaches it
 * @property {ReturnType<import('./jwks-endpoints.mjs').createJwksEndpoints>} endpoints
 * @property {object} fixtures
 */

/** One scenario's view: a fresh endpoint and a remote key set on it. */
async function setUp(context, options, jwks = context.fixtures.remote.jwksBeforeRotation) {
  const endpoint = context.endpoints.create(jwks);
  const handle = await context.driver.create(context.serverUrl + endpoint.path, options);
  const verifyOptions = { currentDate: context.fixtures.now, issuer: context.fixtures.issuer };
  const verifyAll = async (tokens) => {
    // Plain data whatever realm it comes from, so node:assert compares it structurally.
    return JSON.parse(JSON.stringify(await context.driver.verifyAll(handle, tokens, verifyOptions)));
  };
  const verify = async (token) => (await verifyAll([token]))[0];
  return { endpoint, verify, verifyAll };
}

function assertVerified(outcome, fixtures) {
  assert.equal(outcome.ok, true, `expected success, got ${outcome.code}: ${outcome.message}`);
  assert.deepEqual(outcome.claims, fixtures.claims);
}

function assertFailed(outcome, code) {
  assert.equal(outcome.ok, false, `expected ${code}, but verification succeeded`);
  assert.equal(outcome.code, code, outcome.message);
  assert.equal(outcome.isMiniAuthError, true, 'a MiniAuthError of the runtime');
}

/** A loopback port nothing listens on: one just released by a listener of our own. */
function closedPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const REMOTE_SCENARIOS = {
  async 'a second verify within cacheMaxAge does not fetch again'(context) {
    const { endpoint, verify } = await setUp(context, { cacheMaxAge: 60_000 });
    assertVerified(await verify(context.fixtures.tokens.valid.ES256), context.fixtures);
    assertVerified(await verify(context.fixtures.tokens.valid.ES256), context.fixtures);
    assert.equal(endpoint.fetches, 1);
  },

  async 'the set is fetched again once cacheMaxAge has passed'(context) {
    const { endpoint, verify } = await setUp(context, { cacheMaxAge: 100 });
    assertVerified(await verify(context.fixtures.tokens.valid.ES256), context.fixtures);
    assert.equal(endpoint.fetches, 1);
    await sleep(300);
    assertVerified(await verify(context.fixtures.tokens.valid.ES256), context.fixtures);
    assert.equal(endpoint.fetches, 2);
  },

  async 'key rotation: a new kid causes one refetch, then verifies from the cache'(context) {
    const { fixtures } = context;
    const { endpoint, verify } = await setUp(context, { cooldown: 0 });
    assertVerified(await verify(fixtures.tokens.valid.ES256), fixtures);
    endpoint.jwks = fixtures.remote.jwksAfterRotation;
    assertVerified(await verify(fixtures.tokens.rotated), fixtures);
    assert.equal(endpoint.fetches, 2, 'one refetch for the new kid');
    assertVerified(await verify(fixtures.tokens.rotated), fixtures);
    assertVerified(await verify(fixtures.tokens.valid.ES256), fixtures);
    assert.equal(endpoint.fetches, 2, 'both keys now come from the cache');
  },

  async 'an unknown kid within the cooldown fails without fetching'(context) {
    const { fixtures } = context;
    const { endpoint, verify, verifyAll } = await setUp(context, { cooldown: 60_000 });
    assertVerified(await verify(fixtures.tokens.valid.ES256), fixtures);
    assertFailed(await verify(fixtures.tokens.unknownKid), 'ERR_JWKS_NO_MATCHING_KEY');
    // A burst of forged kids must not turn into a burst of fetches.
    for (const outcome of await verifyAll(Array(5).fill(fixtures.tokens.unknownKid))) {
      assertFailed(outcome, 'ERR_JWKS_NO_MATCHING_KEY');
    }
    assert.equal(endpoint.fetches, 1);
  },

  async 'an unknown kid after the cooldown refetches once'(context) {
    const { fixtures } = context;
    // Long enough that the last check below is surely within the new cooldown.
    const { endpoint, verify } = await setUp(context, { cooldown: 500 });
    assertVerified(await verify(fixtures.tokens.valid.ES256), fixtures);
    await sleep(700);
    assertFailed(await verify(fixtures.tokens.unknownKid), 'ERR_JWKS_NO_MATCHING_KEY');
    assert.equal(endpoint.fetches, 2, 'one refetch after the cooldown');
    assertFailed(await verify(fixtures.tokens.unknownKid), 'ERR_JWKS_NO_MATCHING_KEY');
    assert.equal(endpoint.fetches, 2, 'the refetch started a new cooldown');
  },

  async '20 concurrent verifications on a cold cache share one fetch'(context) {
    const { fixtures } = context;
    const { endpoint, verifyAll } = await setUp(context, {});
    // A slow answer keeps the first fetch in flight while the others arrive.
    endpoint.delayMs = 150;
    const outcomes = await verifyAll(Array(20).fill(fixtures.tokens.valid.ES256));
    assert.equal(outcomes.length, 20);
    for (const outcome of outcomes) assertVerified(outcome, fixtures);
    assert.equal(endpoint.fetches, 1);
  },

  async 'a stalled server is ERR_JWKS_TIMEOUT after the timeout'(context) {
    const { endpoint, verify } = await setUp(context, { timeout: 200 });
    endpoint.mode = MODES.stall;
    const started = Date.now();
    assertFailed(await verify(context.fixtures.tokens.valid.ES256), 'ERR_JWKS_TIMEOUT');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 150 && elapsed < 5000, `gave up after ${elapsed} ms, expected about 200`);
    assert.equal(endpoint.fetches, 1);
  },

  async 'a 500 answer is ERR_NETWORK with its status'(context) {
    const { endpoint, verify } = await setUp(context, {});
    endpoint.mode = MODES.serverError;
    const outcome = await verify(context.fixtures.tokens.valid.ES256);
    assertFailed(outcome, 'ERR_NETWORK');
    assert.equal(outcome.status, 500);
  },

  async 'a body that is not a JWK Set is ERR_JWKS_INVALID, and a later good answer recovers'(context) {
    const { endpoint, verify } = await setUp(context, {});
    endpoint.mode = MODES.malformed;
    assertFailed(await verify(context.fixtures.tokens.valid.ES256), 'ERR_JWKS_INVALID');
    endpoint.mode = MODES.ok;
    assertVerified(await verify(context.fixtures.tokens.valid.ES256), context.fixtures);
    assert.equal(endpoint.fetches, 2);
  },

  async 'a body over 256 KiB is ERR_NETWORK'(context) {
    const { endpoint, verify } = await setUp(context, {});
    endpoint.mode = MODES.oversized;
    assertFailed(await verify(context.fixtures.tokens.valid.ES256), 'ERR_NETWORK');
  },

  async 'a malformed token fails as such, without fetching the set'(context) {
    const { endpoint, verify } = await setUp(context, {});
    assertFailed(await verify('not.a.jwt'), 'ERR_JWS_INVALID');
    assert.equal(endpoint.fetches, 0);
  },

  async 'a refused connection is ERR_NETWORK'(context) {
    const handle = await context.driver.create(`http://127.0.0.1:${await closedPort()}/jwks.json`, { timeout: 5000 });
    const [outcome] = await context.driver.verifyAll(handle, [context.fixtures.tokens.valid.ES256], {});
    assertFailed(JSON.parse(JSON.stringify(outcome)), 'ERR_NETWORK');
  },
};

/**
 * Registers one test per scenario.
 * @param {() => RemoteContext} getContext called when the tests run (after before() hooks)
 * @param {string[]} [names] a subset of REMOTE_SCENARIOS; all by default
 */
export function registerRemoteScenarios(getContext, names = Object.keys(REMOTE_SCENARIOS)) {
  for (const name of names) {
    const scenario = REMOTE_SCENARIOS[name];
    if (scenario === undefined) throw new Error(`no remote scenario named ${JSON.stringify(name)}`);
    test(name, () => scenario(getContext()));
  }
}
