// A minimal UTF-8 TextEncoder/TextDecoder for runtimes without them (the
// WeChat Mini Program JavaScript engine on iOS has neither). It covers what
// the wasm-bindgen glue uses: encode, encodeInto and decode. Invalid input
// decodes to U+FFFD, as the standard decoder does.

export class TextEncoder {
  get encoding() {
    return 'utf-8';
  }

  encode(text = '') {
    const bytes = new Uint8Array(text.length * 3);
    return bytes.subarray(0, this.encodeInto(text, bytes).written);
  }

  /** Encodes as much of `text` as fits in `dest`. */
  encodeInto(text, dest) {
    let read = 0;
    let written = 0;
    while (read < text.length) {
      let code = text.charCodeAt(read);
      let units = 1;
      if (code >= 0xd800 && code <= 0xdbff && read + 1 < text.length) {
        const low = text.charCodeAt(read + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          units = 2;
        }
      }
      if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd; // a lone surrogate
      const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
      if (written + size > dest.length) break;
      if (size === 1) {
        dest[written++] = code;
      } else {
        let shift = (size - 1) * 6;
        dest[written++] = ((0xf00 >> size) & 0xff) | (code >> shift);
        while (shift > 0) {
          shift -= 6;
          dest[written++] = 0x80 | ((code >> shift) & 0x3f);
        }
      }
      read += units;
    }
    return { read, written };
  }
}

export class TextDecoder {
  get encoding() {
    return 'utf-8';
  }

  decode(bytes) {
    if (bytes === undefined) return '';
    const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes.buffer || bytes);
    let out = '';
    let chunk = [];
    for (let i = 0; i < view.length; ) {
      const [code, size] = decodeOne(view, i);
      i += size;
      if (code >= 0x10000) {
        const c = code - 0x10000;
        chunk.push(0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
      } else {
        chunk.push(code);
      }
      if (chunk.length >= 4096) {
        out += String.fromCharCode.apply(null, chunk);
        chunk = [];
      }
    }
    return out + String.fromCharCode.apply(null, chunk);
  }
}

/**
 * One code point at `i`: [codePoint, bytesConsumed]; U+FFFD on bad input,
 * consuming what the WHATWG decoder consumes (so as many U+FFFD as it gives).
 */
function decodeOne(bytes, i) {
  const first = bytes[i];
  if (first < 0x80) return [first, 1];
  const size = first >= 0xf0 && first <= 0xf4 ? 4 : first >= 0xe0 && first <= 0xef ? 3 : first >= 0xc2 && first <= 0xdf ? 2 : 0;
  if (size === 0) return [0xfffd, 1];
  // The second byte's range rules out overlong forms, surrogates and code
  // points above U+10FFFF before they are decoded.
  const low = first === 0xe0 ? 0xa0 : first === 0xf0 ? 0x90 : 0x80;
  const high = first === 0xed ? 0x9f : first === 0xf4 ? 0x8f : 0xbf;
  let code = first & (0x7f >> size);
  for (let k = 1; k < size; k++) {
    const next = bytes[i + k];
    if (next === undefined || next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return [0xfffd, k];
    code = (code << 6) | (next & 0x3f);
  }
  return [code, size];
}
