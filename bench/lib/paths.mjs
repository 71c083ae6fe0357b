import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(BENCH, '..');
export const PKG = join(ROOT, 'pkg');
export const RESULTS = join(BENCH, 'results');
export const SIMULATOR = join(ROOT, 'tests', 'miniprogram-sim');
