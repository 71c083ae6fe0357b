// Section 3: sizes. The .wasm and each entry point's JS glue as shipped in
// pkg/ (raw, gzip -9, brotli q11), the 100 KiB brotli budget, the module's
// section layout, and the same measures for the alternatives' bundles,
// built here with esbuild the way an application's bundler would.

import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { ADDON, BENCH, PKG, ROOT } from './paths.mjs';
import { wasmLayout } from './wasm-sections.mjs';

export const BUDGET_BROTLI_BYTES = 100 * 1024;

export function compressed(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_LGWIN]: 24,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }).length,
  };
}

async function bundle(contents, { platform = 'browser', format = 'esm', target = 'es2020', mainFields } = {}) {
  const out = await build({
    stdin: { contents, resolveDir: join(BENCH, 'lib', 'sandbox'), sourcefile: 'size-entry.js' },
    absWorkingDir: ROOT,
    bundle: true,
    minify: true,
    write: false,
    format,
    platform,
    target,
    ...(mainFields ? { mainFields } : {}),
    legalComments: 'none',
    logLevel: 'error',
  });
  return Buffer.from(out.outputFiles[0].contents);
}

async function minifiedGlue(file, format) {
  const out = await build({
    entryPoints: [file],
    bundle: false,
    minify: true,
    write: false,
    format,
    legalComments: 'none',
    logLevel: 'error',
    logOverride: { 'empty-import-meta': 'silent' },
  });
  return Buffer.from(out.outputFiles[0].contents);
}

export async function runSize({ log }) {
  const wasmFile = join(PKG, 'miniauth_bg.wasm');
  const wasm = readFileSync(wasmFile);
  const wasmSize = compressed(wasm);
  const shippedBr = join(PKG, 'miniprogram_dist', 'miniauth.wasm.br');

  // Sections, and what each costs compressed on its own (a rough share of
  // the brotli budget: sections compressed together share a dictionary).
  const layout = wasmLayout(wasm);
  const sections = layout.sections.map((s) => {
    const c = compressed(wasm.subarray(s.start, s.end));
    return { name: s.name, raw: s.size, share: s.size / wasm.length, brotliAlone: c.brotli };
  });
  const functions = [...layout.functions].sort((a, b) => b.size - a.size);
  const codeBytes = functions.reduce((n, f) => n + f.size, 0);
  const topFunctions = functions.slice(0, 10).map((f) => ({
    index: f.index,
    size: f.size,
    shareOfCode: f.size / codeBytes,
    exports: f.exports,
  }));

  const glue = {};
  for (const [name, file, format] of [
    ['node/index.cjs', 'node/index.cjs', 'cjs'],
    ['node/index.mjs', 'node/index.mjs', 'esm'],
    ['web/index.js', 'web/index.js', 'esm'],
    ['miniprogram_dist/index.js', 'miniprogram_dist/index.js', 'cjs'],
  ]) {
    const path = join(PKG, file);
    const shipped = readFileSync(path);
    glue[name] = { shipped: compressed(shipped), minified: compressed(await minifiedGlue(path, format)) };
  }

  log('  bundling the alternatives with esbuild (minified)');
  const alternatives = {};
  const add = async (name, note, make) => {
    try {
      alternatives[name] = { note, ...compressed(await make()) };
    } catch (error) {
      alternatives[name] = { note, error: String(error.message || error).split('\n')[0] };
    }
  };
  await add('jose (browser)', "import { jwtVerify, importJWK } from 'jose'; browser, ESM, ES2020", () =>
    bundle("export { jwtVerify, importJWK } from 'jose';"));
  await add('jose (browser) + createRemoteJWKSet', 'the same plus remote JWKS, what a backend-less web page would use', () =>
    bundle("export { jwtVerify, importJWK, createRemoteJWKSet } from 'jose';"));
  await add('jsrsasign (Mini Program bundle)', 'the whole library (one CommonJS file, not tree-shakable); neutral, CJS, ES2017', () =>
    bundle("export { KJUR, KEYUTIL } from 'jsrsasign';", { platform: 'neutral', format: 'cjs', target: 'es2017', mainFields: ['module', 'main'] }));
  await add('@noble/curves p256 + ed25519 + @noble/hashes hmac + jwt-lite.js', 'signature primitives plus the JWT layer the bench writes for them (no RSA); neutral, CJS, ES2017', () =>
    bundle(
      "export { p256 } from '@noble/curves/nist.js'; export { ed25519 } from '@noble/curves/ed25519.js';" +
        "export { hmac } from '@noble/hashes/hmac.js'; export { sha256 } from '@noble/hashes/sha2.js';" +
        "export { createJwtVerifier } from './jwt-lite.js';",
      { platform: 'neutral', format: 'cjs', target: 'es2017', mainFields: ['module', 'main'] },
    ));
  await add('@noble/curves p256 + jwt-lite.js (ES256 only)', 'the smallest noble set for one algorithm; neutral, CJS, ES2017', () =>
    bundle(
      "export { p256 } from '@noble/curves/nist.js'; export { createJwtVerifier } from './jwt-lite.js';",
      { platform: 'neutral', format: 'cjs', target: 'es2017', mainFields: ['module', 'main'] },
    ));

  const webMinBr = glue['web/index.js'].minified.brotli + wasmSize.brotli;
  const miniprogramPackage = readFileSync(join(PKG, 'miniprogram_dist', 'index.js')).length +
    (existsSync(shippedBr) ? readFileSync(shippedBr).length : NaN);

  const addon = compressed(readFileSync(join(PKG, ADDON)));

  return {
    addon: { file: `pkg/${ADDON}`, ...addon, note: 'the native Node addon for this machine (never shipped to browsers or Mini Programs)' },
    wasm: {
      file: 'pkg/miniauth_bg.wasm',
      ...wasmSize,
      shippedBrFile: existsSync(shippedBr) ? readFileSync(shippedBr).length : null,
      budgetBrotli: BUDGET_BROTLI_BYTES,
      withinBudget: wasmSize.brotli <= BUDGET_BROTLI_BYTES,
      headroomBrotli: BUDGET_BROTLI_BYTES - wasmSize.brotli,
      sections,
      functions: { count: layout.functions.length, codeBytes, top: topFunctions },
    },
    glue,
    totals: {
      webBrotli: { bytes: webMinBr, note: 'web/index.js minified + .wasm, both brotli q11: what a browser downloads' },
      miniprogramCodePackage: {
        bytes: miniprogramPackage,
        note: 'miniprogram_dist/index.js + miniauth.wasm.br as stored in the code package (counts against its 2 MB limit)',
      },
    },
    alternatives,
    notJudged: {
      'fast-jwt, jsonwebtoken': 'Node-only (node:crypto); no browser or Mini Program bundle to compare',
    },
  };
}
