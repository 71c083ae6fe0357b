// What miniauth does, in one run: sign tokens the way an identity server
// would (with jose, as an independent implementation), then verify them with
// the miniauth package built in pkg/ — and watch each kind of bad token fail
// with its stable error code.
//
//   make pkg && node examples/node-verify.mjs

import { createRequire } from 'node:module';
import * as jose from 'jose';

const require = createRequire(import.meta.url);
const { createVerifier, decodeJwt, MiniAuthError } = require('../pkg/node/index.cjs');

const issuer = 'https://id.example.com';
const audience = 'wx-miniprogram-appid';

const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
const jwks = { keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' }] };

const sign = (claims, { alg = 'ES256', kid = 'key-1', key = privateKey, expiresIn = '10m' } = {}) =>
  new jose.SignJWT(claims)
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key);

const verifier = createVerifier({ jwks, issuer, audience, algorithms: ['ES256'] });
const good = await sign({ sub: 'user-42', phone_number_verified: true });
const other = await jose.generateKeyPair('ES256');
const [header, payload] = good.split('.');
const forgedClaims = Buffer.from(JSON.stringify({ ...decodeJwt(good), sub: 'admin' })).toString('base64url');

const cases = [
  ['a valid id_token', good],
  ['payload edited after signing', `${header}.${forgedClaims}.${good.split('.')[2]}`],
  ['signed by another key', await sign({ sub: 'user-42' }, { key: other.privateKey })],
  ['expired an hour ago', await sign({ sub: 'user-42' }, { expiresIn: Math.floor(Date.now() / 1000) - 3600 })],
  ['unsigned (alg: none)', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`],
  ['for another audience', await new jose.SignJWT({ sub: 'user-42' }).setProtectedHeader({ alg: 'ES256', kid: 'key-1' }).setIssuer(issuer).setAudience('someone-else').setExpirationTime('10m').sign(privateKey)],
  ['an unknown kid', await sign({ sub: 'user-42' }, { kid: 'key-2' })],
];

console.log(`miniauth verifying ES256 tokens from ${issuer} for ${audience}\n`);
for (const [label, token] of cases) {
  try {
    const { claims } = verifier.verify(token);
    console.log(`  ok    ${label.padEnd(30)} sub=${claims.sub}, expires in ${claims.exp - Math.floor(Date.now() / 1000)} s`);
  } catch (error) {
    if (!(error instanceof MiniAuthError)) throw error;
    const claim = error.claim ? ` (claim ${error.claim})` : '';
    console.log(`  fail  ${label.padEnd(30)} ${error.code}${claim}`);
  }
}
verifier.free();
