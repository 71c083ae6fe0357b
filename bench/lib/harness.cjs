'use strict';

// The one timing harness, shared by the Node run and the Mini Program
// sandbox run. It is plain ES2017 CommonJS with no Node, browser or wx API:
// the clock is handed in (`now`, milliseconds), so Node passes
// performance.now and the sandbox passes Date.now. Node loads this file
// directly; the sandbox run bundles it (with esbuild) into the code package.
//
// Method: every subject (a library verifying one algorithm's tokens) gets a
// warm-up slice, then `rounds` rounds; in each round every subject runs for
// one fixed time slice, one after another, in an order rotated from round
// to round. Subjects compared in one call therefore share the same noise
// (other processes on the cores, CPU frequency), and ratios are computed
// per round from samples taken seconds apart.

/** The median of a list of numbers (the mean of the two middle ones for even lengths). */
function median(values) {
  if (values.length === 0) return NaN;
  const sorted = values.slice().sort(function (a, b) { return a - b; });
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** min / median / max and the relative spread ((max - min) / median). */
function summarize(values) {
  const m = median(values);
  const min = Math.min.apply(null, values);
  const max = Math.max.apply(null, values);
  return { median: m, min: min, max: max, spread: m > 0 ? (max - min) / m : NaN, samples: values.slice() };
}

/**
 * Ratios of two subjects' samples taken in the same rounds: the median of
 * a[i] / b[i]. Pairing by round cancels noise that hits both alike.
 */
function pairedRatio(a, b) {
  const ratios = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) ratios.push(a[i] / b[i]);
  return summarize(ratios);
}

/**
 * Runs `op` for at least `ms` milliseconds, in batches of `batch` calls
 * between clock reads. Returns { ops, elapsed }.
 */
function runSliceSync(op, ms, batch, now) {
  let ops = 0;
  const start = now();
  let elapsed = 0;
  do {
    for (let i = 0; i < batch; i++) op();
    ops += batch;
    elapsed = now() - start;
  } while (elapsed < ms);
  return { ops: ops, elapsed: elapsed };
}

async function runSliceAsync(op, ms, batch, now) {
  let ops = 0;
  const start = now();
  let elapsed = 0;
  do {
    for (let i = 0; i < batch; i++) await op();
    ops += batch;
    elapsed = now() - start;
  } while (elapsed < ms);
  return { ops: ops, elapsed: elapsed };
}

function runSlice(subject, ms, batch, now) {
  return subject.async
    ? runSliceAsync(subject.op, ms, batch, now)
    : Promise.resolve(runSliceSync(subject.op, ms, batch, now));
}

/**
 * Times `subjects` against each other.
 *
 * @param {object} options
 * @param {Array<{ name: string, op: () => any, async?: boolean }>} options.subjects
 *   `op` does one operation (verify the next token); with `async` it returns a promise
 * @param {() => number} options.now  a clock in milliseconds
 * @param {number} [options.rounds=5]
 * @param {number} [options.sliceMs=400]  time per subject per round
 * @param {number} [options.warmupMs=300]  untimed run per subject before round 1
 *   (JIT warm-up), also used to size the batches
 * @param {number} [options.batchMs=1]  target time between two clock reads
 * @param {(info: { round: number, name: string, opsPerSec: number }) => void} [options.onSample]
 * @returns {Promise<{ rounds: number, sliceMs: number, subjects: Object<string, { median: number, min: number, max: number, spread: number, samples: number[] }> }>}
 *   operations per second for every subject
 */
async function compare(options) {
  const subjects = options.subjects;
  const now = options.now;
  const rounds = options.rounds || 5;
  const sliceMs = options.sliceMs || 400;
  const warmupMs = options.warmupMs === undefined ? 300 : options.warmupMs;
  const batchMs = options.batchMs || 1;
  const onSample = options.onSample || function () {};

  // Warm-up, and batch sizing: as many calls between clock reads as take
  // about batchMs, so reading the clock costs nothing measurable even for
  // microsecond operations, while a slice overshoots by at most ~batchMs.
  const batches = [];
  for (let s = 0; s < subjects.length; s++) {
    const warm = await runSlice(subjects[s], warmupMs, 1, now);
    const perOpMs = warm.elapsed / Math.max(1, warm.ops);
    batches.push(Math.max(1, Math.floor(batchMs / Math.max(perOpMs, 1e-6))));
  }

  const samples = subjects.map(function () { return []; });
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < subjects.length; k++) {
      const s = (k + r) % subjects.length; // rotate who goes first
      const result = await runSlice(subjects[s], sliceMs, batches[s], now);
      const opsPerSec = (result.ops * 1000) / result.elapsed;
      samples[s].push(opsPerSec);
      onSample({ round: r, name: subjects[s].name, opsPerSec: opsPerSec });
    }
  }

  const out = {};
  for (let s = 0; s < subjects.length; s++) out[subjects[s].name] = summarize(samples[s]);
  return { rounds: rounds, sliceMs: sliceMs, subjects: out };
}

/**
 * A round-robin operation over `tokens`: each call verifies the next token,
 * so no library can answer from a one-entry cache.
 */
function roundRobin(tokens, verify) {
  let i = 0;
  const n = tokens.length;
  return function () {
    const token = tokens[i];
    i = i + 1 === n ? 0 : i + 1;
    return verify(token);
  };
}

module.exports = { compare: compare, median: median, summarize: summarize, pairedRatio: pairedRatio, roundRobin: roundRobin };
