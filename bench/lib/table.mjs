// Plain-text tables and number formats for the report.

/** Rows of cells (strings); numeric-looking cells are right-aligned. */
export function table(headers, rows) {
  const all = [headers, ...rows];
  const widths = headers.map((_, c) => Math.max(...all.map((row) => String(row[c] ?? '').length)));
  const isNumeric = (cell) => /^[-+~]?[\d,.]+(\s?[%×a-zA-Z]*)?( \([^)]*\))?$/.test(cell) || cell === '—';
  const line = (row) =>
    row
      .map((cell, c) => {
        const text = String(cell ?? '');
        return isNumeric(text) && c > 0 ? text.padStart(widths[c]) : text.padEnd(widths[c]);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function ops(n) {
  if (!Number.isFinite(n)) return '—';
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function ratio(x) {
  if (!Number.isFinite(x)) return '—';
  if (x >= 100) return `${Math.round(x)}×`;
  if (x >= 10) return `${x.toFixed(1)}×`;
  return `${x.toFixed(2)}×`;
}

/** A summary's median with its min–max range. */
export function ratioRange(summary) {
  if (!summary) return '—';
  return `${ratio(summary.median)} (${ratio(summary.min).slice(0, -1)}–${ratio(summary.max)})`;
}

export function opsRange(summary) {
  return `${ops(summary.min)}–${ops(summary.max)}`;
}

export function bytes(n) {
  if (!Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US');
}

export function kib(n) {
  return `${(n / 1024).toFixed(1)} KiB`;
}

export function ms(n) {
  if (!Number.isFinite(n)) return '—';
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

export function pct(x) {
  return `${(x * 100).toFixed(1)}%`;
}
