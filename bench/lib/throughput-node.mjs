// Sections 1 and 1b: verify throughput in Node, every library in this
// process: uncached, then with result caches (every token a hit after its
// first use).

import { performance } from 'node:perf_hooks';
import suite from './suite.cjs';
import { cachedNodeAdapters, nodeAdapters } from './adapters/node.mjs';

export async function runNodeThroughput({ fixtures, algorithms, rounds, sliceMs, warmupMs, log, cached = false }) {
  const adapters = cached ? cachedNodeAdapters : nodeAdapters;
  const result = await suite.runSuite({
    adapters,
    fixtures,
    algorithms,
    now: () => performance.now(),
    rounds,
    sliceMs,
    warmupMs,
    log,
  });
  result.clock = 'performance.now';
  result.libraries = Object.fromEntries(adapters.map((a) => [a.name, a.description]));
  return result;
}
