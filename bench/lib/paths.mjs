import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';

export const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(BENCH, '..');
export const PKG = join(ROOT, 'pkg');
export const RESULTS = join(BENCH, 'results');
export const SIMULATOR = join(ROOT, 'tests', 'miniprogram-sim');
/** The native addon in pkg/, named for the platform `make pkg` ran on. */
export const ADDON = (existsSync(PKG) && readdirSync(PKG).find((file) => /^miniauth\..+\.node$/.test(file))) || 'miniauth.<platform>.node';
