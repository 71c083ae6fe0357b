// Entry of the sandbox bench: bundled (with harness.cjs, checks.cjs,
// suite.cjs, the adapters, jsrsasign and noble) into the temporary Mini
// Program code package and required there by ../throughput-sandbox.mjs.
// Everything below runs in the sandbox's realm, timed with its Date.now.

import suite from '../suite.cjs';
import { sandboxAdapters } from './adapters.js';

/**
 * @param {string} fixturesJson  fixtures.mjs output, as JSON text (parsed here, in the sandbox's realm)
 * @param {string} configJson  { algorithms, rounds, sliceMs, warmupMs }
 * @returns {Promise<string>}  the suite's result as JSON text
 */
export async function run(fixturesJson, configJson) {
  const fixtures = JSON.parse(fixturesJson);
  const config = JSON.parse(configJson);
  const result = await suite.runSuite({
    adapters: sandboxAdapters,
    fixtures,
    algorithms: config.algorithms,
    now: Date.now,
    rounds: config.rounds,
    sliceMs: config.sliceMs,
    warmupMs: config.warmupMs,
    log: (line) => console.error(line),
  });
  result.clock = 'Date.now (1 ms resolution)';
  result.libraries = {};
  for (const adapter of sandboxAdapters) result.libraries[adapter.name] = adapter.description;
  return JSON.stringify(result);
}
