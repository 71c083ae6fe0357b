'use strict';
// What the build plugins (taro.js, vite.js) hand a Mini Program bundler:
// the Mini Program build (miniprogram_dist/, which the bundlers would not
// pick: they resolve the `browser` field and the `browser` condition) and
// its module, to be written where that build loads it from by default.

const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** The package's miniprogram_dist/ (these files are at the package's root). */
const MINIPROGRAM_DIST = join(__dirname, 'miniprogram_dist');

/** The Mini Program build's entry, for `import ... from 'miniauth'`. */
const MINIPROGRAM_ENTRY = join(MINIPROGRAM_DIST, 'index.js');

/**
 * Where in the code package the Mini Program build loads the module from
 * when no init({ wasmPath }) names another place (js/miniprogram/index.js).
 */
const WASM_FILE = 'miniprogram_npm/miniauth/miniauth.wasm.br';

/** The module's bytes, as the package ships them. */
const wasmBytes = () => readFileSync(join(MINIPROGRAM_DIST, 'miniauth.wasm.br'));

module.exports = { MINIPROGRAM_DIST, MINIPROGRAM_ENTRY, WASM_FILE, wasmBytes };
