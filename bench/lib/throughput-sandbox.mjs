// Section 2: verify throughput inside the Mini Program simulator. Builds a
// temporary code package the way a Mini Program project would hold it:
//
//   app.js                        App({})
//   miniprogram_npm/miniauth/     pkg/miniprogram_dist/, as "Build npm" copies it
//   bench/main.js                 lib/sandbox/main.js bundled by esbuild (CJS,
//                                 platform neutral, ES2017) with the shared
//                                 harness, jsrsasign and noble; 'miniauth' external
//
// then requires bench/main.js in the sandbox and runs the suite there; and,
// with `control`, runs the same bundle again in a plain Node child process
// (sandbox-control.mjs) to show what the simulator itself costs.

import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH, PKG, ROOT } from './paths.mjs';
import { loadSimulator } from './simulator.mjs';

export async function runSandboxThroughput({ fixtures, algorithms, rounds, sliceMs, warmupMs, log, control }) {
  const root = mkdtempSync(join(tmpdir(), 'miniauth-bench-mp-'));
  try {
    writeFileSync(join(root, 'app.js'), 'App({});\n');
    cpSync(join(PKG, 'miniprogram_dist'), join(root, 'miniprogram_npm', 'miniauth'), { recursive: true });
    mkdirSync(join(root, 'bench'));
    const bundle = join(root, 'bench', 'main.js');
    await build({
      entryPoints: [join(BENCH, 'lib', 'sandbox', 'main.js')],
      outfile: bundle,
      absWorkingDir: ROOT, // resolve jsrsasign and noble from the workspace's node_modules
      bundle: true,
      format: 'cjs',
      platform: 'neutral',
      mainFields: ['module', 'main'], // what a Mini Program build sets for "neutral"
      target: 'es2017',
      external: ['miniauth'],
      legalComments: 'none',
      logLevel: 'warning',
    });
    log(`  code package: ${root} (bench/main.js bundle: ${statSync(bundle).size} bytes)`);

    const config = { algorithms, rounds, sliceMs, warmupMs };
    const MiniProgramSim = loadSimulator();
    const sim = new MiniProgramSim({ root });
    let result;
    try {
      const main = sim.require('bench/main.js');
      result = JSON.parse(await main.run(JSON.stringify(fixtures), JSON.stringify(config)));
    } finally {
      sim.dispose();
    }
    result.bundleBytes = statSync(bundle).size;

    if (control) {
      log('  control: the same bundle in a plain Node process (no vm context)');
      const input = join(root, 'control-input.json');
      writeFileSync(input, JSON.stringify({ fixtures, config: { ...config, ...control } }));
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [join(BENCH, 'lib', 'sandbox-control.mjs'), root, input],
        { maxBuffer: 64 << 20 },
      );
      if (stderr) log(stderr.trimEnd());
      result.control = JSON.parse(stdout);
    }
    return result;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
