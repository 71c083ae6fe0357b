// The lists the package documents are the core's: error codes, events and
// channels come from boundary::contract (src/boundary.rs), and index.d.ts,
// the package README and the JavaScript layer are checked against them here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { PKG_DIR, ROOT } from './support/paths.mjs';

const require = createRequire(import.meta.url);
const addon = readdirSync(PKG_DIR).find((name) => name.endsWith('.node'));
const contract = JSON.parse(require(join(PKG_DIR, addon)).contract());
const declarations = readFileSync(join(PKG_DIR, 'index.d.ts'), 'utf8');
const readme = readFileSync(join(PKG_DIR, 'README.md'), 'utf8');

/** The string literals of `export type NAME = 'a' | 'b' …;` in index.d.ts. */
function union(name) {
  const match = declarations.match(new RegExp(`export type ${name} =([^;]*);`));
  assert.ok(match, `index.d.ts declares ${name}`);
  return [...match[1].matchAll(/'([^']*)'/g)].map((m) => m[1]);
}

function sameSet(actual, expected, what) {
  assert.equal(new Set(actual).size, actual.length, `${what}: no duplicates`);
  assert.deepEqual([...actual].sort(), [...expected].sort(), what);
}

test('the core names the lists', () => {
  assert.ok(contract.errorCodes.includes('ERR_JWT_EXPIRED') && contract.errorCodes.includes('ERR_SIGNED_OUT'));
  assert.deepEqual(contract.channels, ['sms', 'email', 'wechat']);
  assert.ok(contract.events.includes('TOKEN_REFRESHED'));
  assert.equal(typeof contract.maxResponseBytes, 'number');
});

test('index.d.ts declares exactly the core’s codes, events and channels', () => {
  sameSet(union('ErrorCode'), contract.errorCodes, 'ErrorCode');
  sameSet(union('AuthEvent'), contract.events, 'AuthEvent');
  sameSet(union('Channel'), contract.channels, 'Channel');
});

test('the package README names every error code and event', () => {
  for (const name of [...contract.errorCodes, ...contract.events]) {
    assert.ok(readme.includes(`\`${name}\``), `README.md mentions \`${name}\``);
  }
});

test('every code the JavaScript layer raises is one of the core’s', () => {
  const files = readdirSync(join(ROOT, 'js'), { recursive: true }).filter((file) => String(file).endsWith('.js'));
  assert.ok(files.length > 5);
  for (const file of files) {
    const source = readFileSync(join(ROOT, 'js', String(file)), 'utf8');
    for (const [, code] of source.matchAll(/'(ERR_[A-Z_]+)'/g)) {
      assert.ok(contract.errorCodes.includes(code), `js/${file} raises ${code}, which the core does not list`);
    }
  }
});

test('the response cap of the JavaScript layer is the core’s', async () => {
  const { MAX_RESPONSE_BYTES } = await import(join(ROOT, 'js', 'core', 'fetch.js'));
  assert.equal(MAX_RESPONSE_BYTES, contract.maxResponseBytes);
});
