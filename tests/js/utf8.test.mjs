// The UTF-8 codec the Mini Program bundle carries in place of the missing
// TextEncoder/TextDecoder globals (js/core/utf8.js), checked against Node's
// WHATWG implementations: same bytes out, same text (U+FFFD included) back.
//
// The wasm-bindgen glue constructs its decoder with { ignoreBOM: true }, so
// that is the reference decoder here too.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as miniprogram from '../../js/core/utf8.js';

const reference = {
  encoder: new TextEncoder(),
  decoder: new TextDecoder('utf-8', { ignoreBOM: true }),
};
const subject = {
  encoder: new miniprogram.TextEncoder(),
  decoder: new miniprogram.TextDecoder('utf-8', { ignoreBOM: true }),
};

/** A small seeded PRNG (xorshift32), so that the random inputs are the same on every run. */
function random(seed) {
  let state = seed >>> 0 || 1;
  return (limit) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % limit;
  };
}

const SAMPLES = {
  empty: '',
  ascii: 'Hello, World! {"alg":"RS256"} 0123456789 ~\u007f\u0000',
  twoByte: 'é ü ß ñ Ω щ \u0080 \u07ff',
  threeByte: '中文 € — 日本語 한국어 \u0800 \uffff \ufeff',
  fourByte: '😀 𝄞 🎉 \u{10000} \u{10ffff}',
  mixed: 'a é 中 😀 z',
  loneHighSurrogateAtEnd: 'abc\ud83d',
  loneHighSurrogateBeforeText: '\ud83dabc',
  loneLowSurrogate: 'x\ude00y',
  reversedPair: '\ude00\ud83d',
  twoHighSurrogates: '\ud83d\ud83d\ude00',
};

/** Random text from every UTF-8 length class, with lone surrogates mixed in. */
function randomText(length, next) {
  const ranges = [[0x00, 0x7f], [0x80, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xffff], [0x10000, 0x10ffff], [0xd800, 0xdfff]];
  let text = '';
  while (text.length < length) {
    const [low, high] = ranges[next(ranges.length)];
    text += String.fromCodePoint(low + next(high - low + 1));
  }
  return text;
}

describe('TextEncoder', () => {
  test('reports utf-8 as its encoding', () => {
    assert.equal(subject.encoder.encoding, 'utf-8');
  });

  for (const [name, text] of Object.entries(SAMPLES)) {
    test(`encode: ${name}`, () => {
      assert.deepEqual(subject.encoder.encode(text), reference.encoder.encode(text));
    });
  }

  test('encode: no argument is the empty string', () => {
    assert.deepEqual(subject.encoder.encode(), reference.encoder.encode());
  });

  test('encode: 200 000 random code units, lone surrogates included', () => {
    const text = randomText(200_000, random(0x5eed));
    assert.deepEqual(subject.encoder.encode(text), reference.encoder.encode(text));
  });

  test('encodeInto: a large enough buffer', () => {
    for (const text of Object.values(SAMPLES)) {
      const mine = new Uint8Array(text.length * 3 + 8);
      const theirs = new Uint8Array(text.length * 3 + 8);
      assert.deepEqual(subject.encoder.encodeInto(text, mine), reference.encoder.encodeInto(text, theirs), JSON.stringify(text));
      assert.deepEqual(mine, theirs);
    }
  });

  test('encodeInto: a short buffer stops at a character boundary', () => {
    const text = SAMPLES.mixed + SAMPLES.fourByte;
    for (let size = 0; size < reference.encoder.encode(text).length; size++) {
      const mine = new Uint8Array(size);
      const theirs = new Uint8Array(size);
      assert.deepEqual(subject.encoder.encodeInto(text, mine), reference.encoder.encodeInto(text, theirs), `buffer of ${size}`);
      assert.deepEqual(mine, theirs, `buffer of ${size}`);
    }
  });

  test('encodeInto: writes into a subarray, as the glue does with wasm memory', () => {
    const memory = new Uint8Array(64);
    const view = memory.subarray(10, 30);
    const expected = reference.encoder.encodeInto(SAMPLES.mixed, new Uint8Array(20));
    assert.deepEqual(subject.encoder.encodeInto(SAMPLES.mixed, view), expected);
    assert.deepEqual(memory.subarray(10, 10 + expected.written), reference.encoder.encode(SAMPLES.mixed));
    assert.ok(memory.subarray(0, 10).every((byte) => byte === 0), 'nothing written before the view');
  });
});

describe('TextDecoder', () => {
  test('reports utf-8 as its encoding', () => {
    assert.equal(subject.decoder.encoding, 'utf-8');
  });

  for (const [name, text] of Object.entries(SAMPLES)) {
    test(`decode: ${name} round-trips`, () => {
      const bytes = reference.encoder.encode(text);
      assert.equal(subject.decoder.decode(bytes), reference.decoder.decode(bytes));
    });
  }

  const INVALID = {
    'lone continuation byte': [0x61, 0x80, 0x62],
    'overlong two-byte form (C0 80)': [0xc0, 0x80],
    'overlong two-byte form (C1 BF)': [0xc1, 0xbf],
    'overlong three-byte form (E0 80 80)': [0xe0, 0x80, 0x80],
    'overlong three-byte form (E0 9F BF)': [0xe0, 0x9f, 0xbf],
    'encoded surrogate (ED A0 80)': [0xed, 0xa0, 0x80],
    'encoded surrogate pair (ED A0 BD ED B8 80)': [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80],
    'overlong four-byte form (F0 80 80 80)': [0xf0, 0x80, 0x80, 0x80],
    'above U+10FFFF (F4 90 80 80)': [0xf4, 0x90, 0x80, 0x80],
    'invalid lead bytes (F5, F8, FF)': [0xf5, 0x80, 0x80, 0x80, 0xf8, 0xff, 0x41],
    'truncated at the end (E2 82)': [0x41, 0xe2, 0x82],
    'truncated before ASCII (E2 41)': [0xe2, 0x41],
    'truncated four-byte sequence before ASCII': [0xf0, 0x9f, 0x98, 0x41],
    'a byte-order mark is kept (ignoreBOM)': [0xef, 0xbb, 0xbf, 0x41],
  };
  for (const [name, bytes] of Object.entries(INVALID)) {
    test(`decode: ${name}`, () => {
      const input = Uint8Array.from(bytes);
      assert.equal(subject.decoder.decode(input), reference.decoder.decode(input));
    });
  }

  test('decode: 2000 random byte strings biased towards UTF-8 lead and continuation bytes', () => {
    const next = random(0xc0ffee);
    const interesting = [0x00, 0x41, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    for (let i = 0; i < 2000; i++) {
      const input = Uint8Array.from({ length: next(24) }, () => (next(2) ? interesting[next(interesting.length)] : next(256)));
      assert.equal(subject.decoder.decode(input), reference.decoder.decode(input), `bytes ${[...input].map((b) => b.toString(16)).join(' ')}`);
    }
  });

  test('decode: a long text (past the decoder\u2019s 4096-unit chunks) round-trips', () => {
    const text = randomText(100_000, random(0xbeef)).replace(/[\ud800-\udfff]/gu, '?');
    const bytes = reference.encoder.encode(text);
    const decoded = subject.decoder.decode(bytes);
    assert.equal(decoded.length, text.length);
    assert.equal(decoded, text);
  });

  test('decode: a surrogate pair that straddles a 4096-unit chunk boundary', () => {
    const text = `${'a'.repeat(4095)}😀${'b'.repeat(10)}`;
    assert.equal(subject.decoder.decode(reference.encoder.encode(text)), text);
  });

  test('decode: accepts a subarray view and an ArrayBuffer; no argument is the empty string', () => {
    const bytes = reference.encoder.encode(`xx${SAMPLES.mixed}yy`);
    const view = bytes.subarray(2, bytes.length - 2);
    assert.equal(subject.decoder.decode(view), SAMPLES.mixed);
    assert.equal(subject.decoder.decode(bytes.slice().buffer), `xx${SAMPLES.mixed}yy`);
    assert.equal(subject.decoder.decode(), '');
  });
});
