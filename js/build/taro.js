'use strict';
// A Taro plugin (config/index: `plugins: ['miniauth/taro']`). In a Mini
// Program build (any TARO_ENV but h5, rn, harmony and harmony-hybrid),
// `miniauth` resolves to the Mini Program build and its module is written
// into the output where that build loads it from; the web build is left as
// it is.

const { MINIPROGRAM_ENTRY, WASM_FILE, wasmBytes } = require('./miniprogram-files.js');

const NOT_MINI_PROGRAMS = new Set(['h5', 'rn', 'harmony', 'harmony-hybrid']);

/** Emits the module into every compilation's output. */
class EmitWasm {
  apply(compiler) {
    const { Compilation, sources } = compiler.webpack;
    compiler.hooks.thisCompilation.tap('miniauth', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'miniauth', stage: Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
        compilation.emitAsset(WASM_FILE, new sources.RawSource(wasmBytes()));
      });
    });
  }
}

module.exports = (ctx) => {
  ctx.modifyWebpackChain(({ chain }) => {
    if (NOT_MINI_PROGRAMS.has(process.env.TARO_ENV)) return;
    chain.resolve.alias.set('miniauth$', MINIPROGRAM_ENTRY);
    chain.plugin('miniauth-wasm').use(EmitWasm);
  });
};
