// Where things are, for every runner.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The built npm package (`make pkg`); every runner tests this, not js/. */
export const PKG_DIR = join(ROOT, 'pkg');
export const TESTS_JS_DIR = join(ROOT, 'tests', 'js');
export const CASES_FILE = join(TESTS_JS_DIR, 'cases.cjs');
export const ASSERT_FILE = join(TESTS_JS_DIR, 'support', 'assert.cjs');
export const HARNESS_FILE = join(TESTS_JS_DIR, 'support', 'harness.cjs');
export const SIMULATOR_FILE = join(ROOT, 'tests', 'miniprogram-sim', 'index.js');
