'use strict';

// The throughput suite, the same in Node and in the Mini Program sandbox:
// for each algorithm, check every library (checks.cjs), then time the ones
// that passed against each other (harness.cjs), each verifying the
// fixture tokens round-robin. ES2017, no host APIs; the caller hands in
// the adapters, the clock and a log function.

const harness = require('./harness.cjs');
const checks = require('./checks.cjs');

/**
 * @param {object} options
 * @param {Array} options.adapters  the first one is the baseline of the ratios
 * @param {object} options.fixtures  from fixtures.mjs (parsed JSON)
 * @param {string[]} options.algorithms
 * @param {() => number} options.now  milliseconds
 * @param {number} options.rounds
 * @param {number} options.sliceMs
 * @param {number} options.warmupMs
 * @param {(line: string) => void} [options.log]
 * @returns {Promise<object>} plain data: per algorithm, per library, ops/s
 *   summaries, the paired ratio baseline/library, or why it was left out
 */
async function runSuite(options) {
  const log = options.log || function () {};
  const baseline = options.adapters[0].name;
  const out = { baseline: baseline, rounds: options.rounds, sliceMs: options.sliceMs, algorithms: {} };

  for (let a = 0; a < options.algorithms.length; a++) {
    const alg = options.algorithms[a];
    const fx = options.fixtures.algs[alg];
    const claimOptions = { issuer: options.fixtures.issuer, audience: options.fixtures.audience };
    const libraries = {};
    const subjects = [];

    for (let i = 0; i < options.adapters.length; i++) {
      const adapter = options.adapters[i];
      const supported = adapter.supports(alg);
      if (supported === false) continue; // not this adapter's algorithm, and not worth a row
      if (supported !== true) {
        libraries[adapter.name] = { status: 'unsupported', reason: supported };
        continue;
      }
      const check = await checks.acceptanceCheck(adapter, options.fixtures, alg);
      if (!check.ok) {
        libraries[adapter.name] = { status: 'failed-check', reason: check.error };
        log('  ' + alg + ' ' + adapter.name + ': FAILED the acceptance check, not timed: ' + check.error);
        continue;
      }
      const verifier = await adapter.create(fx, claimOptions);
      libraries[adapter.name] = { status: 'timed', rejections: check.rejections };
      subjects.push({ name: adapter.name, async: verifier.async, op: harness.roundRobin(fx.tokens, verifier.verify) });
    }

    log('  ' + alg + ': timing ' + subjects.map(function (s) { return s.name; }).join(', ') +
      ' (' + options.rounds + ' rounds x ' + options.sliceMs + ' ms each)');
    const result = await harness.compare({
      subjects: subjects,
      now: options.now,
      rounds: options.rounds,
      sliceMs: options.sliceMs,
      warmupMs: options.warmupMs,
    });

    const base = result.subjects[baseline];
    for (const name in result.subjects) {
      libraries[name].opsPerSec = result.subjects[name];
      if (base && name !== baseline) {
        libraries[name].ratio = harness.pairedRatio(base.samples, result.subjects[name].samples);
      }
    }
    out.algorithms[alg] = { tokens: fx.tokens.length, libraries: libraries };
  }
  return out;
}

module.exports = { runSuite: runSuite };
