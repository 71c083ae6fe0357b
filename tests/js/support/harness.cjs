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

/**
 * Drives AuthClient inside a runtime for the client scenarios
 * (tests/js/client-cases.mjs), which run outside it because they also
 * control the identity server. Every answer is JSON text, so that what
 * comes out of a page or a sandbox is plain data of the caller's realm.
 *
 * @param {object} miniauth the package as this runtime loads it
 * @param {{clientOptions: object, appApi: 'fetch'|'request'}} host  AuthClient options every
 *   client gets (the device's clock; in Node its storage and fetch), and how the app's own API
 *   is called: auth.fetch (web, Node) or auth.request (Mini Programs)
 */
function createClientDriver(miniauth, host) {
  const clients = [];

  function errorData(error) {
    return {
      name: error.name,
      message: String(error.message),
      code: error.code,
      status: error.status,
      error: error.error,
      isMiniAuthError: error instanceof miniauth.MiniAuthError,
    };
  }

  async function callApi(client, url, init) {
    if (host.appApi === 'request') {
      const res = await client.request({ url, method: init.method, header: init.headers, data: init.body });
      return { status: res.statusCode, body: res.data };
    }
    const response = await client.fetch(url, init);
    return { status: response.status, body: await response.json() };
  }

  function perform(entry, op, args) {
    const { client, events } = entry;
    if (op === 'events') return events;
    if (op === 'api') return callApi(client, args[0], args[1]);
    if (op === 'close') return client.close();
    if (op === 'ready') return client.ready;
    return client[op].apply(client, args);
  }

  return {
    /** Creates an AuthClient with `options` (plain data) over the host's; returns its handle. */
    create(options) {
      const client = new miniauth.AuthClient(Object.assign({}, host.clientOptions, options));
      const events = [];
      client.onAuthStateChange((event, details) => {
        events.push({ event, at: Date.now(), claims: details.claims, error: details.error && errorData(details.error) });
      });
      clients.push({ client, events });
      return clients.length - 1;
    },
    /**
     * Performs `op` on a client: one of its methods, 'ready', 'events', 'api' (url, init: the
     * app's own API) or 'close'. Resolves to the JSON text of { ok, value } or { ok: false, error }.
     */
    send(handle, op, args) {
      return Promise.resolve()
        .then(() => perform(clients[handle], op, args))
        .then(
          (value) => JSON.stringify({ ok: true, value }),
          (error) => JSON.stringify({ ok: false, error: errorData(error) }),
        );
    },
    /** The AuthClient itself, for a runtime's own tests. */
    client: (handle) => clients[handle].client,
  };
}

module.exports = { createHarness, createRemoteDriver, createClientDriver };
