'use strict';

// Before anything is timed, every (library, algorithm) pair must show that
// it really verifies: it accepts every fixture token (and returns the right
// claims), and it rejects a token with a changed signature, an expired
// token, and a good token when configured for another issuer or another
// audience. A benchmark of a verify that fails, or that skips a check, is
// worthless. ES2017 and free of host APIs, like harness.cjs: the Node run
// and the sandbox run share it.
//
// An adapter is { name, supports(alg) -> true | 'why not' | false (no row), create(fx, { issuer, audience }) }
// and create resolves to { verify(token) -> claims (or a promise of them), async }.

async function mustReject(verify, token, what) {
  let accepted = false;
  try {
    await verify(token);
    accepted = true;
  } catch (error) {
    if (!error) return String(error);
    return error.code || (error.name + ': ' + error.message);
  }
  if (accepted) throw new Error('accepted ' + what);
  return undefined;
}

/** Resolves to { ok: true, rejections } or { ok: false, error }. */
async function acceptanceCheck(adapter, fixtures, alg) {
  const fx = fixtures.algs[alg];
  const options = { issuer: fixtures.issuer, audience: fixtures.audience };
  try {
    const verifier = await adapter.create(fx, options);
    for (let i = 0; i < fx.tokens.length; i++) {
      const claims = await verifier.verify(fx.tokens[i]);
      if (!claims || claims.sub !== fx.subs[i]) {
        throw new Error('token ' + i + ' verified to the wrong claims: ' + JSON.stringify(claims));
      }
    }
    const rejections = {
      tampered: await mustReject(verifier.verify, fx.tampered, 'a tampered signature'),
      expired: await mustReject(verifier.verify, fx.expired, 'an expired token'),
    };
    const otherIssuer = await adapter.create(fx, { issuer: options.issuer + '/other', audience: options.audience });
    rejections.issuer = await mustReject(otherIssuer.verify, fx.tokens[0], 'a token from another issuer');
    const otherAudience = await adapter.create(fx, { issuer: options.issuer, audience: options.audience + '-other' });
    rejections.audience = await mustReject(otherAudience.verify, fx.tokens[0], 'a token for another audience');
    return { ok: true, rejections: rejections };
  } catch (error) {
    return { ok: false, error: String((error && error.message) || error) };
  }
}

module.exports = { acceptanceCheck: acceptanceCheck };
