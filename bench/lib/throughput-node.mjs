// Section 1: verify throughput in Node, every library in this process.

import { performance } from 'node:perf_hooks';
import suite from './suite.cjs';
import { nodeAdapters } from './adapters/node.mjs';

export async function runNodeThroughput({ fixtures, algorithms, rounds, sliceMs, warmupMs, log }) {
  const result = await suite.runSuite({
    adapters: nodeAdapters,
    fixtures,
    algorithms,
    now: () => performance.now(),
    rounds,
    sliceMs,
    warmupMs,
    log,
  });
  result.clock = 'performance.now';
  result.libraries = Object.fromEntries(nodeAdapters.map((a) => [a.name, a.description]));
  return result;
}
