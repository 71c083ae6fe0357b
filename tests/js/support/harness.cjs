'use strict';

// Runs the shared cases inside a runtime (Node, a browser page, the Mini
// Program sandbox) and reports each outcome as plain data, so that the
// node:test runner outside can turn it into one subtest per case whatever
// the runtime is. Like the cases, it uses only ECMAScript built-ins.

/**
 * @param {Array<{name: string, fn: Function}>} cases
 * @param {object} assert   ./assert.cjs
 * @param {object} miniauth the package as this runtime loads it
 * @param {object} fixtures tests/js/fixtures.mjs output, in this runtime's realm
 */
function createHarness(cases, assert, miniauth, fixtures) {
  const byName = new Map();
  for (const testCase of cases) {
    if (byName.has(testCase.name)) throw new Error(`two cases are named ${JSON.stringify(testCase.name)}`);
    byName.set(testCase.name, testCase);
  }
  return {
    names: () => cases.map((testCase) => testCase.name),
    /** Resolves to { ok: true } or { ok: false, message, stack }; never rejects. */
    async run(name) {
      const testCase = byName.get(name);
      if (testCase === undefined) return { ok: false, message: `no case named ${JSON.stringify(name)}`, stack: '' };
      try {
        await testCase.fn(miniauth, fixtures, assert);
        return { ok: true };
      } catch (error) {
        const isError = typeof error === 'object' && error !== null;
        return {
          ok: false,
          message: isError ? `${error.name}: ${error.message}` : String(error),
          stack: isError && typeof error.stack === 'string' ? error.stack : '',
        };
      }
    },
  };
}

/**
 * Drives createRemoteJwks/jwtVerify inside a runtime for the remote-JWKS
 * scenarios (support/remote-scenarios.mjs), which run outside it because
 * they also control the JWKS server. Everything crossing out is plain data.
 */
function createRemoteDriver(miniauth) {
  const remotes = [];

  function outcome(promise) {
    return promise.then(
      (result) => ({ ok: true, claims: result.claims }),
      (error) => ({
        ok: false,
        code: error.code,
        status: error.status,
        message: String(error.message),
        isMiniAuthError: error instanceof miniauth.MiniAuthError,
      }),
    );
  }

  return {
    /** Creates a remote key set; returns its handle. */
    create(url, options) {
      remotes.push(miniauth.createRemoteJwks(url, options));
      return remotes.length - 1;
    },
    /**
     * Verifies every token concurrently with one remote key set. `currentDate`
     * travels as milliseconds and becomes a Date of this realm here.
     */
    verifyAll(handle, tokens, options) {
      const verifyOptions = Object.assign({}, options);
      if (typeof verifyOptions.currentDate === 'number') verifyOptions.currentDate = new Date(verifyOptions.currentDate);
      return Promise.all(tokens.map((token) => outcome(miniauth.jwtVerify(token, remotes[handle], verifyOptions))));
    },
  };
}

module.exports = { createHarness, createRemoteDriver };
