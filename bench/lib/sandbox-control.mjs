// The control for section 2: runs the very same code package bundle
// (bench/main.js, with miniprogram_npm/miniauth) in a plain Node process,
// outside the simulator's vm context, with the one host API it needs
// (WXWebAssembly.instantiate) shimmed. Comparing the two runs shows how much
// of a sandbox number is the simulator's own cost: Node's vm contexts make
// every global lookup (Math, Date, BigInt, implicit globals) a slow
// interceptor call, which no phone has.
//
//   node sandbox-control.mjs <code package root> <input.json>
//   input.json: { fixtures, config }; prints the suite's result JSON on stdout.

import { createRequire } from 'node:module';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';

const [root, inputFile] = process.argv.slice(2);
const { fixtures, config } = JSON.parse(readFileSync(inputFile, 'utf8'));

globalThis.WXWebAssembly = {
  instantiate(path, imports) {
    let bytes = readFileSync(join(root, path));
    if (path.endsWith('.br')) bytes = brotliDecompressSync(bytes);
    return WebAssembly.instantiate(bytes, imports);
  },
};
// The bundle requires 'miniauth'; let Node's resolver find the same files.
symlinkSync(join(root, 'miniprogram_npm'), join(root, 'node_modules'), 'dir');

const main = createRequire(join(root, 'bench', 'main.js'))('./main.js');
process.stdout.write(await main.run(JSON.stringify(fixtures), JSON.stringify(config)));
