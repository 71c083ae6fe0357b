// Reads and rewrites the export section of a WebAssembly binary.
//
// wasm-bindgen emits two exported Globals (`__abort_handler`,
// `__instance_terminated`) that its glue never reads and that WeChat on iOS
// cannot instantiate, and ring's C code exports one internal symbol. This
// drops those exports (wasm-opt then removes what they kept alive) and lets
// the build check that no Global export is left.
//
//   node scripts/wasm-exports.mjs list  <file.wasm>
//   node scripts/wasm-exports.mjs strip <in.wasm> <out.wasm>

import { readFileSync, writeFileSync } from 'node:fs';

const EXPORT_SECTION = 7;
const KIND_NAMES = ['func', 'table', 'memory', 'global'];
const GLOBAL = 3;

function readLeb(bytes, offset) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[offset++];
    if (byte === undefined) throw new Error('truncated LEB128');
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [value, offset];
  }
}

function writeLeb(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Splits a module into its sections: [{ id, start, end, payloadStart }]. */
function sections(bytes) {
  if (bytes.readUInt32LE(0) !== 0x6d736100) throw new Error('not a WebAssembly module');
  const found = [];
  let offset = 8;
  while (offset < bytes.length) {
    const start = offset;
    const id = bytes[offset++];
    let size;
    [size, offset] = readLeb(bytes, offset);
    found.push({ id, start, payloadStart: offset, end: offset + size });
    offset += size;
  }
  return found;
}

/** The exports of a module: [{ name, kind, index, bytes }]. */
export function readExports(bytes) {
  const section = sections(bytes).find((s) => s.id === EXPORT_SECTION);
  if (!section) return [];
  let [count, offset] = readLeb(bytes, section.payloadStart);
  const exports = [];
  while (count-- > 0) {
    const entryStart = offset;
    let nameLength;
    [nameLength, offset] = readLeb(bytes, offset);
    const name = bytes.subarray(offset, offset + nameLength).toString('utf8');
    offset += nameLength;
    const kind = bytes[offset++];
    let index;
    [index, offset] = readLeb(bytes, offset);
    exports.push({ name, kind: KIND_NAMES[kind] ?? `kind${kind}`, index, bytes: bytes.subarray(entryStart, offset) });
  }
  return exports;
}

/** A copy of the module without the exports `drop` selects. */
export function withoutExports(bytes, drop) {
  const section = sections(bytes).find((s) => s.id === EXPORT_SECTION);
  if (!section) return bytes;
  const kept = readExports(bytes).filter((e) => !drop(e));
  const payload = Buffer.concat([Buffer.from(writeLeb(kept.length)), ...kept.map((e) => e.bytes)]);
  return Buffer.concat([
    bytes.subarray(0, section.start),
    Buffer.from([EXPORT_SECTION, ...writeLeb(payload.length)]),
    payload,
    bytes.subarray(section.end),
  ]);
}

const isUnwanted = (e) => e.kind === KIND_NAMES[GLOBAL] || e.name.startsWith('ring_core_');

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, input, output] = process.argv.slice(2);
  const bytes = readFileSync(input);
  if (command === 'list') {
    for (const e of readExports(bytes)) console.log(`${e.kind}\t${e.name}`);
  } else if (command === 'strip' && output) {
    writeFileSync(output, withoutExports(bytes, isUnwanted));
  } else {
    console.error('usage: wasm-exports.mjs list <file.wasm> | strip <in.wasm> <out.wasm>');
    process.exit(2);
  }
}
