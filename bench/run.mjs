#!/usr/bin/env node
// miniauth benchmarks: verify throughput in Node and in the Mini Program
// simulator, size, and cold start, against other JWT libraries. See
// bench/README.md. Tables go to stdout, progress to stderr, everything to
// bench/results/latest.json (git-ignored).
//
//   node bench/run.mjs                      the full run (about 3-4 minutes)
//   node bench/run.mjs --quick              short rounds, to check the harness works
//   node bench/run.mjs --only=size,coldstart
//
// It benchmarks pkg/ as it is: `make bench` rebuilds pkg/ first.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ALGORITHMS, makeFixtures } from './lib/fixtures.mjs';
import { ADDON, PKG, RESULTS, ROOT } from './lib/paths.mjs';
import { runNodeThroughput } from './lib/throughput-node.mjs';
import { runSandboxThroughput } from './lib/throughput-sandbox.mjs';
import { runSize } from './lib/size.mjs';
import { runColdStart } from './lib/coldstart.mjs';
import { formatColdStart, formatNode, formatSandbox, formatSize } from './lib/report.mjs';

const SECTIONS = ['node', 'cached', 'sandbox', 'size', 'coldstart'];

const FULL = {
  tokensPerAlg: 8,
  node: { rounds: 9, sliceMs: 300, warmupMs: 300 },
  sandbox: { rounds: 7, sliceMs: 500, warmupMs: 300, control: { rounds: 5, sliceMs: 300, warmupMs: 200 } },
  coldstart: { runs: 10, algorithms: ['ES256', 'RS256'] },
};
const QUICK = {
  tokensPerAlg: 4,
  node: { rounds: 3, sliceMs: 100, warmupMs: 50 },
  sandbox: { rounds: 3, sliceMs: 100, warmupMs: 50, control: { rounds: 3, sliceMs: 100, warmupMs: 50 } },
  coldstart: { runs: 3, algorithms: ['ES256'] },
};

function parseArgs(argv) {
  const args = { quick: false, only: SECTIONS };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg.startsWith('--only=')) {
      args.only = arg.slice('--only='.length).split(',');
      const unknown = args.only.filter((s) => !SECTIONS.includes(s));
      if (unknown.length) throw new Error(`unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
    } else if (arg === '--help' || arg === '-h') {
      console.log(`usage: node bench/run.mjs [--quick] [--only=${SECTIONS.join(',')}]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

function fileInfo(path) {
  const data = readFileSync(path);
  return {
    path: relative(ROOT, path),
    bytes: data.length,
    sha256: createHash('sha256').update(data).digest('hex').slice(0, 16),
    mtime: statSync(path).mtime.toISOString(),
  };
}

function gitHead() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

const log = (line) => process.stderr.write(`${line}\n`);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const config = args.quick ? QUICK : FULL;
  for (const file of ['miniauth_bg.wasm', ADDON, 'node/index.cjs', 'miniprogram_dist/index.js']) {
    if (!existsSync(join(PKG, file))) {
      console.error(`pkg/${file} is missing: build the package first (make pkg), or run make bench`);
      process.exit(1);
    }
  }

  const started = Date.now();
  const cpuList = cpus();
  const results = {
    meta: {
      startedAt: new Date(started).toISOString(),
      node: process.version,
      v8: process.versions.v8,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model,
      loadavgAtStart: loadavg(),
      gitHead: gitHead(),
      pkg: ['miniauth_bg.wasm', ADDON, 'node/index.cjs', 'web/index.js', 'miniprogram_dist/index.js'].map((f) => fileInfo(join(PKG, f))),
      quick: args.quick,
      config,
    },
  };

  log(`miniauth bench: ${args.only.join(', ')}${args.quick ? ' (quick)' : ''}; node ${process.version}, ${cpuList.length} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const fixtures = makeFixtures({ tokensPerAlg: config.tokensPerAlg });
  results.meta.fixtures = {
    issuer: fixtures.issuer,
    audience: fixtures.audience,
    tokensPerAlg: config.tokensPerAlg,
    tokenBytes: Object.fromEntries(ALGORITHMS.map((alg) => [alg, fixtures.algs[alg].tokens[0].length])),
  };
  const print = (text) => process.stdout.write(`\n${text}\n`);

  if (args.only.includes('node')) {
    log('\n== 1. Node throughput');
    const r = await runNodeThroughput({ fixtures, algorithms: ALGORITHMS, ...config.node, log });
    r.nodeVersion = process.version;
    r.tokens = config.tokensPerAlg;
    results.node = r;
    print(formatNode(r));
  }
  if (args.only.includes('cached')) {
    log('\n== 1b. Node throughput with result caches');
    const r = await runNodeThroughput({ fixtures, algorithms: ALGORITHMS, ...config.node, log, cached: true });
    r.nodeVersion = process.version;
    r.tokens = config.tokensPerAlg;
    results.cached = r;
    print(formatNode(r, { cached: true }));
  }
  if (args.only.includes('sandbox')) {
    log('\n== 2. Mini Program simulator throughput');
    const r = await runSandboxThroughput({ fixtures, algorithms: ALGORITHMS, ...config.sandbox, log });
    results.sandbox = r;
    print(formatSandbox(r));
  }
  if (args.only.includes('size')) {
    log('\n== 3. Size');
    const r = await runSize({ log });
    results.size = r;
    print(formatSize(r));
  }
  if (args.only.includes('coldstart')) {
    log('\n== 4. Cold start');
    const r = runColdStart({ fixtures, ...config.coldstart, log });
    results.coldStart = r;
    print(formatColdStart(r));
  }

  results.meta.durationSec = (Date.now() - started) / 1000;
  results.meta.loadavgAtEnd = loadavg();
  mkdirSync(RESULTS, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(join(RESULTS, 'latest.json'), json);
  writeFileSync(join(RESULTS, `${results.meta.startedAt.replace(/[:.]/g, '-')}.json`), json);
  log(`\nresults: ${relative(process.cwd(), join(RESULTS, 'latest.json'))} (${results.meta.durationSec.toFixed(0)} s)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
