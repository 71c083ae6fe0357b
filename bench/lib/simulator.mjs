// Loads the Mini Program simulator (tests/miniprogram-sim/, CommonJS with
// only Node built-ins).

import { createRequire } from 'node:module';
import { SIMULATOR } from './paths.mjs';

const require = createRequire(import.meta.url);

export function loadSimulator() {
  const { MiniProgramSim } = require(SIMULATOR);
  if (typeof MiniProgramSim !== 'function') throw new Error(`no MiniProgramSim export in ${SIMULATOR}`);
  return MiniProgramSim;
}
