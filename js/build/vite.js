'use strict';
// A Vite plugin for uni-app (vite.config.js: `plugins: [uni(), miniauth()]`,
// with `import miniauth from 'miniauth/vite'`). In a Mini Program build
// (UNI_PLATFORM mp-*, or `miniprogram: true`), `miniauth` resolves to the
// Mini Program build and its module is emitted into the output where that
// build loads it from; other builds are left as they are.

const { MINIPROGRAM_ENTRY, WASM_FILE, wasmBytes } = require('./miniprogram-files.js');

/**
 * @param {{ miniprogram?: boolean }} [options] `miniprogram`: whether this is
 *   a Mini Program build (by default: uni-app's UNI_PLATFORM is mp-*).
 */
module.exports = function miniauth(options = {}) {
  const miniprogram = options.miniprogram ?? /^mp-/.test(process.env.UNI_PLATFORM || '');
  return {
    name: 'miniauth',
    enforce: 'pre',
    resolveId(source) {
      return miniprogram && source === 'miniauth' ? MINIPROGRAM_ENTRY : null;
    },
    generateBundle() {
      if (miniprogram) this.emitFile({ type: 'asset', fileName: WASM_FILE, source: wasmBytes() });
    },
  };
};
