// The native addon against the WebAssembly module, called directly below
// the JS layer: js/core/ runs on either only if both offer the same
// boundary, with the same names, the same thrown values (the error's JSON
// text, a string) and `undefined` for an absent value.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createFixtures } from './fixtures.mjs';
import { PKG_DIR, ROOT } from './support/paths.mjs';

const require = createRequire(import.meta.url);
const [addonFile] = readdirSync(PKG_DIR).filter((file) => /^miniauth\..+\.node$/.test(file));
const native = require(join(PKG_DIR, addonFile));
// The module's own glue, as wasm-bindgen wrote it (target/wasm-out, built by make pkg).
const wasm = await import(pathToFileURL(join(ROOT, 'target', 'wasm-out', 'miniauth.js')).href);
wasm.initSync({ module: readFileSync(join(PKG_DIR, 'miniauth_bg.wasm')) });
const fixtures = await createFixtures();
const backends = { native, wasm };

/** What wasm-bindgen adds to every class for its own memory management. */
const WASM_ONLY = new Set(['__wrap', '__destroy_into_raw', '__wbg_ptr', 'constructor']);

/** A class's static functions ('caller' and 'arguments' are not read: reading them can throw). */
function members(cls) {
  return Object.getOwnPropertyNames(cls)
    .filter((name) => !['arguments', 'caller'].includes(name) && typeof cls[name] === 'function' && !WASM_ONLY.has(name))
    .sort();
}

function methods(cls) {
  return Object.getOwnPropertyNames(cls.prototype).filter((name) => !WASM_ONLY.has(name)).sort();
}

/** The thrown value, which must be a string of JSON: the core's error. */
function thrownBy(fn) {
  try {
    fn();
  } catch (thrown) {
    assert.equal(typeof thrown, 'string', `a string is thrown, not ${thrown}`);
    return JSON.parse(thrown);
  }
  assert.fail('expected a throw');
}

describe('the native addon offers the module\'s boundary', () => {
  test('the same functions and classes', () => {
    const names = (b) => Object.keys(b).filter((name) => !['initSync', 'default'].includes(name)).sort();
    assert.deepEqual(names(native), names(wasm));
    for (const cls of ['KeyStore', 'Policy', 'SessionCore']) {
      assert.deepEqual(members(native[cls]), members(wasm[cls]), `${cls}: static functions`);
      const wasmMethods = methods(wasm[cls]).filter((name) => !(cls === 'SessionCore' && name === 'free'));
      assert.deepEqual(methods(native[cls]), wasmMethods, `${cls}: methods`);
    }
  });

  for (const [name, core] of Object.entries(backends)) {
    test(`${name}: failures are thrown as the error's JSON text`, () => {
      assert.deepEqual(thrownBy(() => core.KeyStore.from_jwk('{')), {
        code: 'ERR_JWK_INVALID',
        message: 'key document is not valid JSON (or repeats a member)',
      });
      assert.equal(thrownBy(() => core.Policy.parse('{"cache":1}')).code, 'ERR_INVALID_ARGUMENT');
      assert.equal(thrownBy(() => core.Policy.parse('{"audience":null}')).message, '"audience" must be a string or a list of strings');
      assert.equal(thrownBy(() => core.decode_jwt('a.b')).code, 'ERR_JWT_INVALID');
      assert.equal(thrownBy(() => core.SessionCore.create('{"tokenOrigins":["api.example.com"]}')).code, 'ERR_INVALID_ARGUMENT');
      const keys = core.KeyStore.from_jwk(JSON.stringify(fixtures.keys.ES256.publicJwk));
      const policy = core.Policy.parse(JSON.stringify({ currentDate: fixtures.now + 864e5 }));
      assert.deepEqual(thrownBy(() => policy.verify(keys, fixtures.tokens.valid.ES256, 0)), {
        code: 'ERR_JWT_EXPIRED',
        message: '"exp" claim timestamp check failed',
        claim: 'exp',
        reason: 'check_failed',
      });
      assert.equal(thrownBy(() => core.SessionCore.create('{}').login_answer('<html>', 0)).code, 'ERR_SERVER');
    });

    test(`${name}: absent values are undefined`, () => {
      const session = core.SessionCore.create('{}');
      for (const method of ['id_token', 'state_token']) assert.equal(session[method](), undefined, method);
      assert.equal(session.fresh_id_token(0), undefined);
      assert.equal(session.restore(undefined, 0), '[]');
    });

    test(`${name}: the cache answers slots and hands over each result once`, () => {
      const keys = core.KeyStore.from_secret(new Uint8Array(fixtures.keys.HS256.secret));
      const policy = core.Policy.parse(JSON.stringify({ cache: { max: 2 }, currentDate: fixtures.now }));
      assert.equal(policy.caches(), true);
      assert.equal(policy.verify_cached(keys, fixtures.tokens.valid.HS256, 0), -1, 'stored in slot 0');
      assert.deepEqual(JSON.parse(policy.take_stored()).claims, fixtures.claims);
      assert.equal(policy.take_stored(), '', 'taken');
      assert.equal(policy.verify_cached(keys, fixtures.tokens.valid.HS256, 0), 0, 'a hit in slot 0');
      assert.equal(policy.cached(), 1);
      assert.equal(core.Policy.parse('{}').caches(), false);
      assert.equal(thrownBy(() => core.Policy.parse('{}').verify_cached(keys, fixtures.tokens.valid.HS256, 0)).code, 'ERR_INVALID_ARGUMENT');
    });
  }

  test('native: a freed object refuses further use with a plain Error', () => {
    const keys = native.KeyStore.from_secret(new Uint8Array(fixtures.keys.HS256.secret));
    const policy = native.Policy.parse('{}');
    keys.free();
    assert.throws(() => policy.verify(keys, fixtures.tokens.valid.HS256, 0), { message: /this object was freed/ });
    policy.free();
    assert.throws(() => policy.cached(), { message: /this object was freed/ });
  });

  test('native: the classes are made by their factories, not by new', () => {
    assert.throws(() => new native.Policy(), /constructor/i);
  });
});
