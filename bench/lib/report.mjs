// Turns each section's result (the data written to latest.json) into the
// tables printed on stdout.

import { bytes, kib, ms, ops, opsRange, pct, ratio, ratioRange, table } from './table.mjs';

const ALG_LABEL = { RS256: 'RS256 (2048)', ES256: 'ES256', EdDSA: 'EdDSA', HS256: 'HS256' };

function throughputRows(result, control) {
  const rows = [];
  const notes = [];
  for (const [alg, { libraries }] of Object.entries(result.algorithms)) {
    let first = true;
    for (const [name, lib] of Object.entries(libraries)) {
      const label = first ? ALG_LABEL[alg] ?? alg : '';
      first = false;
      if (lib.status !== 'timed') {
        // Reasons go below the table, so they do not widen its columns.
        const mark = lib.status === 'unsupported' ? 'n/a' : 'FAILED';
        rows.push([label, name, mark]);
        notes.push(`   ${mark}: ${name} ${alg}: ${lib.status === 'unsupported' ? lib.reason : `not timed, failed the acceptance check: ${lib.reason}`}`);
        continue;
      }
      const row = [
        label,
        name,
        ops(lib.opsPerSec.median),
        opsRange(lib.opsPerSec),
        name === result.baseline ? '1 (baseline)' : ratioRange(lib.ratio),
      ];
      if (control) {
        const c = control.algorithms[alg]?.libraries[name];
        if (c?.status === 'timed') {
          row.push(ops(c.opsPerSec.median), name === control.baseline ? '1 (baseline)' : ratioRange(c.ratio));
          row.push(ratio(c.opsPerSec.median / lib.opsPerSec.median));
        } else {
          row.push('—', '—', '—');
        }
      }
      rows.push(row);
    }
  }
  return { rows, notes };
}

export function formatNode(result, { cached = false } = {}) {
  const nodeRows = throughputRows(result);
  return [
    `${cached ? '1b' : '1'}. Verify throughput in Node ${result.nodeVersion ?? ''}${cached ? ' with result caches (every token a hit after its first use)' : ''}`,
    `   (ops/s; ${result.rounds} rounds x ${result.sliceMs} ms per library, interleaved; ${result.tokens} tokens round-robin; iss + aud + exp checked; clock: ${result.clock})`,
    `   ratio = ${result.baseline} ops/s ÷ library ops/s, median of the per-round ratios (min–max); > 1: miniauth is faster`,
    '',
    table(['alg', 'library', 'median ops/s', 'min–max', 'miniauth ÷ library'], nodeRows.rows),
    ...nodeRows.notes,
    '',
    ...Object.entries(result.libraries).map(([name, how]) => `   ${name}: ${how}`),
  ].join('\n');
}

export function formatSandbox(result) {
  const sandboxRows = throughputRows(result, result.control);
  const lines = [
    `2. Verify throughput in the Mini Program simulator (ops/s; ${result.rounds} rounds x ${result.sliceMs} ms, interleaved, timed inside the sandbox with ${result.clock})`,
    '   jose cannot run there (no WebCrypto); nor fast-jwt / jsonwebtoken (node:crypto).',
    '   "control": the same code package bundle in a plain Node process (no vm context), ' +
      (result.control ? `${result.control.rounds} rounds x ${result.control.sliceMs} ms;` : 'not run;'),
    '   "sim slowdown" = control ÷ sandbox ops/s: the simulator\'s own cost (vm global lookups), which no phone has.',
    '',
    table(
      ['alg', 'library', 'sandbox ops/s', 'min–max', 'miniauth ÷ lib', ...(result.control ? ['control ops/s', 'miniauth ÷ lib (control)', 'sim slowdown'] : [])],
      sandboxRows.rows,
    ),
    ...sandboxRows.notes,
    '',
    ...Object.entries(result.libraries).map(([name, how]) => `   ${name}: ${how}`),
    `   sandbox bundle (harness + adapters + jsrsasign + noble, unminified): ${bytes(result.bundleBytes)} bytes`,
  ];
  return lines.join('\n');
}

export function formatSize(result) {
  const { addon, wasm, glue, alternatives, totals } = result;
  const verdict = wasm.withinBudget
    ? `WITHIN budget: ${bytes(wasm.brotli)} of ${bytes(wasm.budgetBrotli)} bytes brotli (${kib(wasm.brotli)} of ${kib(wasm.budgetBrotli)}), ${bytes(wasm.headroomBrotli)} bytes to spare`
    : `OVER budget: ${bytes(wasm.brotli)} of ${bytes(wasm.budgetBrotli)} bytes brotli (${kib(wasm.brotli)}), ${bytes(-wasm.headroomBrotli)} bytes over`;
  const sectionRows = wasm.sections
    .filter((s) => s.raw >= 1000)
    .map((s) => [s.name, bytes(s.raw), pct(s.share), bytes(s.brotliAlone)]);
  const small = wasm.sections.filter((s) => s.raw < 1000);
  sectionRows.push([
    `${small.length} other sections`,
    bytes(small.reduce((n, s) => n + s.raw, 0)),
    pct(small.reduce((n, s) => n + s.share, 0)),
    '',
  ]);
  const fnRows = wasm.functions.top.map((f) => [
    `func[${f.index}]${f.exports.length ? ` (export ${f.exports.join(', ')})` : ''}`,
    bytes(f.size),
    pct(f.shareOfCode),
  ]);
  const glueRows = Object.entries(glue).map(([name, g]) => [
    `pkg/${name}`,
    bytes(g.shipped.raw),
    bytes(g.shipped.gzip),
    bytes(g.shipped.brotli),
    bytes(g.minified.raw),
    bytes(g.minified.gzip),
    bytes(g.minified.brotli),
  ]);
  const altRows = [
    ['miniauth web: web/index.js (minified) + .wasm', '', '', bytes(totals.webBrotli.bytes), 'RS/PS/ES/EdDSA/HS, JWKS, client'],
    ...Object.entries(alternatives).map(([name, a]) =>
      a.error ? [name, `error: ${a.error}`, '', '', ''] : [name, bytes(a.raw), bytes(a.gzip), bytes(a.brotli), a.note]),
  ];
  return [
    '3. Size (bytes; gzip -9, brotli q11)',
    '',
    table(['module', 'raw', 'gzip -9', 'brotli 11'], [
      [wasm.file, bytes(wasm.raw), bytes(wasm.gzip), bytes(wasm.brotli)],
      [addon.file, bytes(addon.raw), bytes(addon.gzip), bytes(addon.brotli)],
    ]),
    `   ${addon.file}: ${addon.note}`,
    `   shipped pkg/miniprogram_dist/miniauth.wasm.br: ${bytes(wasm.shippedBrFile)} bytes`,
    `   budget 100 KiB brotli: ${verdict}`,
    '',
    '   .wasm sections ("brotli alone" = that section compressed by itself: a rough share of the compressed size)',
    table(['section', 'raw', 'share', 'brotli alone'], sectionRows),
    '',
    `   largest of ${wasm.functions.count} function bodies (${bytes(wasm.functions.codeBytes)} bytes of code; no name section after wasm-opt, so only exports are named)`,
    table(['function', 'bytes', 'of code'], fnRows),
    '',
    '   JS glue per entry point: as shipped (not minified), and minified by esbuild (what an app bundler would ship)',
    table(['entry', 'raw', 'gzip', 'brotli', 'min raw', 'min gzip', 'min brotli'], glueRows),
    `   Mini Program code package footprint: ${bytes(totals.miniprogramCodePackage.bytes)} bytes (${totals.miniprogramCodePackage.note})`,
    '',
    '   alternatives, bundled and minified with esbuild',
    table(['bundle', 'raw', 'gzip', 'brotli', 'what'], altRows),
    ...Object.entries(result.notJudged).map(([name, why]) => `   ${name}: ${why}`),
  ].join('\n');
}

export function formatColdStart(result) {
  const blocks = [
    `4. Cold start in Node: fresh processes, median of ${result.runs} runs per variant, variants interleaved`,
    '   in-child times are cumulative from the script\'s first line (process.hrtime); wall = parent\'s clock around the whole process',
    '   ratio = miniauth ÷ jose, median of per-run ratios (min–max); < 1: miniauth starts faster',
  ];
  for (const [alg, variants] of Object.entries(result.algorithms)) {
    const rows = Object.entries(variants).map(([name, v]) => [
      name,
      v.loadMs ? ms(v.loadMs.median) : '—',
      v.keyReadyMs ? ms(v.keyReadyMs.median) : '—',
      v.firstVerifyMs ? ms(v.firstVerifyMs.median) : '—',
      `${ms(v.wallMs.median)} (${ms(v.wallMs.min)}–${ms(v.wallMs.max)})`,
      v.vsJose ? ratioRange(v.vsJose.firstVerifyMs) : '',
      v.vsJose ? ratioRange(v.vsJose.wallMs) : '',
    ]);
    blocks.push(
      '',
      `   ${ALG_LABEL[alg] ?? alg}`,
      table(['variant', 'loaded ms', 'key ready ms', 'first verified ms', 'wall ms (min–max)', '÷ jose (first verified)', '÷ jose (wall)'], rows),
    );
  }
  return blocks.join('\n');
}
