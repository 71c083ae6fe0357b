// A minimal reader of a WebAssembly binary's layout: section sizes, and the
// size of every function body with its export name when it has one (the
// shipped module has no name section after wasm-opt).

const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount'];

function reader(bytes, offset = 0) {
  const r = {
    offset,
    u32() {
      let result = 0;
      let shift = 0;
      for (;;) {
        const byte = bytes[r.offset++];
        result += (byte & 0x7f) * 2 ** shift;
        if ((byte & 0x80) === 0) return result;
        shift += 7;
      }
    },
    name() {
      const length = r.u32();
      const text = Buffer.from(bytes.subarray(r.offset, r.offset + length)).toString('utf8');
      r.offset += length;
      return text;
    },
  };
  return r;
}

/**
 * @param {Uint8Array} bytes
 * @returns {{ sections: Array<{ id, name, size, start, end }>, functions: Array<{ index, size, exports: string[] }> }}
 */
export function wasmLayout(bytes) {
  const r = reader(bytes, 8);
  const sections = [];
  while (r.offset < bytes.length) {
    const id = bytes[r.offset++];
    const size = r.u32();
    const start = r.offset;
    let name = SECTION_NAMES[id] ?? `unknown(${id})`;
    if (id === 0) name = `custom "${reader(bytes, start).name()}"`;
    sections.push({ id, name, size, start, end: start + size });
    r.offset = start + size;
  }

  let importedFunctions = 0;
  const exportsByFunction = new Map();
  const functions = [];
  for (const section of sections) {
    const s = reader(bytes, section.start);
    if (section.id === 2) {
      const count = s.u32();
      for (let i = 0; i < count; i++) {
        s.name();
        s.name();
        const kind = bytes[s.offset++];
        if (kind === 0) {
          s.u32();
          importedFunctions++;
        } else if (kind === 1) {
          s.offset++; // reftype
          skipLimits(s, bytes);
        } else if (kind === 2) {
          skipLimits(s, bytes);
        } else if (kind === 3) {
          s.offset += 2; // valtype, mutability
        }
      }
    } else if (section.id === 7) {
      const count = s.u32();
      for (let i = 0; i < count; i++) {
        const name = s.name();
        const kind = bytes[s.offset++];
        const index = s.u32();
        if (kind === 0) exportsByFunction.set(index, [...(exportsByFunction.get(index) ?? []), name]);
      }
    } else if (section.id === 10) {
      const count = s.u32();
      for (let i = 0; i < count; i++) {
        const size = s.u32();
        const index = importedFunctions + i;
        functions.push({ index, size, exports: exportsByFunction.get(index) ?? [] });
        s.offset += size;
      }
    }
  }
  return { sections, functions };
}

function skipLimits(s, bytes) {
  const flags = bytes[s.offset++];
  s.u32();
  if (flags & 1) s.u32();
}
