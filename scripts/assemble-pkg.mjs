// Assembles the npm package in pkg/ from pkg-template/, js/, the module
// built by scripts/build-wasm.sh (target/wasm-out/) and the native addon
// built by scripts/build-addon.sh (target/addon-out/).
//
//   pkg/miniauth_bg.wasm          the one module, for Node and browsers
//   pkg/miniauth.<platform>.node  the native addon for this machine (Node
//                                 prefers it; elsewhere it is never loaded)
//   pkg/node/index.cjs|index.mjs  Node (require / import)
//   pkg/web/index.js              browsers and bundlers (ES module)
//   pkg/miniprogram_dist/         WeChat Mini Programs (CommonJS + .wasm.br
//                                 of the same module)
//   pkg/taro.js, pkg/vite.js      build plugins that give Taro and uni-app
//                                 Mini Program builds miniprogram_dist/
//                                 (js/build/, copied as they are)

import { build } from 'esbuild';
import { brotliCompressSync, constants } from 'node:zlib';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wasmOut = join(root, 'target', 'wasm-out');
const addonOut = join(root, 'target', 'addon-out');
const pkg = join(root, 'pkg');

// The Mini Program entry instantiates the module itself (WXWebAssembly takes
// a path, not bytes), so it needs the two glue functions wasm-bindgen keeps
// private. The version is pinned, so their absence is a build error.
const glueSource = readFileSync(join(wasmOut, 'miniauth.js'), 'utf8');
for (const name of ['__wbg_get_imports', '__wbg_finalize_init']) {
  if (!glueSource.includes(`function ${name}(`)) throw new Error(`wasm-bindgen glue has no ${name}`);
}
const glue = join(wasmOut, 'glue.js');
writeFileSync(glue, `${glueSource}\nexport { __wbg_get_imports, __wbg_finalize_init };\n`);

rmSync(pkg, { recursive: true, force: true });
mkdirSync(pkg, { recursive: true });
cpSync(join(root, 'pkg-template'), pkg, { recursive: true });

const common = {
  bundle: true,
  alias: { 'miniauth-wasm-glue': glue },
  legalComments: 'none',
  // The glue's async loader names import.meta; the CommonJS builds never call it.
  logOverride: { 'empty-import-meta': 'silent' },
  logLevel: 'warning',
};

await Promise.all([
  build({
    ...common,
    entryPoints: [join(root, 'js/node/index.js')],
    outfile: join(pkg, 'node/index.cjs'),
    format: 'cjs',
    platform: 'node',
    target: 'node18',
  }),
  build({
    ...common,
    entryPoints: [join(root, 'js/web/index.js')],
    outfile: join(pkg, 'web/index.js'),
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
  }),
  build({
    ...common,
    entryPoints: [join(root, 'js/miniprogram/index.js')],
    outfile: join(pkg, 'miniprogram_dist/index.js'),
    format: 'cjs',
    platform: 'neutral',
    // WeChat's JavaScript engines (JavaScriptCore on iOS) are held to ES2017.
    target: 'es2017',
    inject: [join(root, 'js/miniprogram/text-codec.js')],
  }),
]);

cpSync(join(root, 'js/node/index.mjs'), join(pkg, 'node/index.mjs'));
cpSync(join(root, 'js/build'), pkg, { recursive: true });
const wasm = readFileSync(join(wasmOut, 'miniauth_bg.wasm'));
writeFileSync(join(pkg, 'miniauth_bg.wasm'), wasm);
writeFileSync(
  join(pkg, 'miniprogram_dist/miniauth.wasm.br'),
  brotliCompressSync(wasm, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
);
const addons = readdirSync(addonOut).filter((file) => file.endsWith('.node'));
if (addons.length === 0) throw new Error(`no native addon in ${addonOut}: run scripts/build-addon.sh`);
for (const addon of addons) cpSync(join(addonOut, addon), join(pkg, addon));
console.log(`pkg/ assembled (${wasm.length} bytes of wasm; ${addons.join(', ')})`);
