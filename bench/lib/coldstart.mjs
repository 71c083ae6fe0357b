// Section 4: cold start in Node. Fresh processes, interleaved: in each run
// every variant starts once (order rotated), so a burst of noise hits all
// of them alike. Inside the child, process.hrtime from its first line to the
// first verified token; outside, the parent's wall clock around the whole
// process (Node's own start-up included; the "node, empty script" row is
// that start-up alone).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import harness from './harness.cjs';
import { BENCH, PKG } from './paths.mjs';

const dir = join(BENCH, 'lib', 'coldstart');

const MINIAUTH_VARIANTS = ['miniauth require() native', 'miniauth require() wasm', 'miniauth import() native', 'miniauth import() wasm'];

function variants() {
  const cjs = join(PKG, 'node', 'index.cjs');
  const esm = pathToFileURL(join(PKG, 'node', 'index.mjs')).href;
  return [
    { name: 'node, empty script', script: 'empty.cjs', entry: null },
    { name: MINIAUTH_VARIANTS[0], script: 'miniauth.cjs', entry: cjs, backend: 'native' },
    { name: MINIAUTH_VARIANTS[1], script: 'miniauth.cjs', entry: cjs, backend: 'wasm' },
    { name: MINIAUTH_VARIANTS[2], script: 'miniauth.mjs', entry: esm, backend: 'native' },
    { name: MINIAUTH_VARIANTS[3], script: 'miniauth.mjs', entry: esm, backend: 'wasm' },
    { name: 'jose import()', script: 'jose.mjs', entry: import.meta.resolve('jose') },
  ];
}

function runOnce(variant, input) {
  const env = { ...process.env, COLDSTART: JSON.stringify({ ...input, entry: variant.entry }) };
  if (variant.backend) env.MINIAUTH_BACKEND = variant.backend;
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, [join(dir, variant.script)], { env, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (child.status !== 0) throw new Error(`${variant.name}: exit ${child.status}: ${child.stderr}`);
  const out = JSON.parse(child.stdout);
  if (out.sub !== input.expectSub) throw new Error(`${variant.name}: verified to the wrong claims: ${child.stdout}`);
  if (variant.backend && out.backend !== variant.backend) throw new Error(`${variant.name}: ran on ${out.backend}`);
  return { ...out, wallMs };
}

export function runColdStart({ fixtures, algorithms, runs, log }) {
  const result = { runs, algorithms: {} };
  for (const alg of algorithms) {
    const fx = fixtures.algs[alg];
    const input = {
      alg,
      key: fx.jwk,
      token: fx.tokens[0],
      expectSub: fx.subs[0],
      issuer: fixtures.issuer,
      audience: fixtures.audience,
    };
    const list = variants();
    const samples = list.map(() => ({ loadMs: [], keyReadyMs: [], firstVerifyMs: [], wallMs: [] }));
    log(`  ${alg}: ${runs} runs x ${list.length} fresh processes`);
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < list.length; k++) {
        const i = (k + r) % list.length;
        const out = runOnce(list[i], input);
        for (const key of Object.keys(samples[i])) if (out[key] !== undefined) samples[i][key].push(out[key]);
      }
    }
    const variantsOut = {};
    list.forEach((variant, i) => {
      const s = samples[i];
      variantsOut[variant.name] = {
        script: `bench/lib/coldstart/${variant.script}`,
        loadMs: s.loadMs.length ? harness.summarize(s.loadMs) : null,
        keyReadyMs: s.keyReadyMs.length ? harness.summarize(s.keyReadyMs) : null,
        firstVerifyMs: s.firstVerifyMs.length ? harness.summarize(s.firstVerifyMs) : null,
        wallMs: harness.summarize(s.wallMs),
      };
    });
    // Paired per run, like the throughput ratios: miniauth time / jose time.
    const byName = Object.fromEntries(list.map((v, i) => [v.name, samples[i]]));
    const jose = byName['jose import()'];
    for (const name of MINIAUTH_VARIANTS) {
      variantsOut[name].vsJose = {
        firstVerifyMs: harness.pairedRatio(byName[name].firstVerifyMs, jose.firstVerifyMs),
        wallMs: harness.pairedRatio(byName[name].wallMs, jose.wallMs),
      };
    }
    result.algorithms[alg] = variantsOut;
  }
  return result;
}
