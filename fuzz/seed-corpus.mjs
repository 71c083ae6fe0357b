// Writes the seed corpora under fuzz/corpus/<target>/ from the committed
// test vectors (tests/vectors/) and from requests and answers shaped like
// the tests' fixtures. Run again after changing it: `node fuzz/seed-corpus.mjs`.
// The tokens it signs with the fixture keys are issued at IAT, which
// fuzz/src/lib.rs (NOW_MS) verifies at.
import { constants, createHmac, createPrivateKey, sign } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vectors = join(root, 'tests', 'vectors');
const read = (...path) => readFileSync(join(vectors, ...path), 'utf8');
const readJson = (...path) => JSON.parse(read(...path));
const b64u = (data) => Buffer.from(data).toString('base64url');
const IAT = 1767225600;

const corpus = {};
function seed(target, name, content) {
  (corpus[target] ??= new Map()).set(name.replace(/[^A-Za-z0-9._-]/g, '_'), content);
}

// Keys: the fixture key pairs, and the RFC 7520 HMAC key.
const privateKey = (name) => createPrivateKey(read('keys', `${name}.key.pem`));
const hmacJwk = readJson('jose-cookbook', '4_4.hmac-sha2_integrity_protection.json').input.key;
const hmacSecret = Buffer.from(hmacJwk.k, 'base64url');
const pss = (name, saltLength) => ({ key: privateKey(name), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
const signers = {
  RS256: ['rsa-2048-a', (input) => sign('sha256', input, privateKey('rsa-2048-a'))],
  RS384: ['rsa-2048-a', (input) => sign('sha384', input, privateKey('rsa-2048-a'))],
  RS512: ['rsa-2048-b', (input) => sign('sha512', input, privateKey('rsa-2048-b'))],
  PS256: ['rsa-2048-a', (input) => sign('sha256', input, pss('rsa-2048-a', 32))],
  PS384: ['rsa-2048-b', (input) => sign('sha384', input, pss('rsa-2048-b', 48))],
  PS512: ['rsa-2048-a', (input) => sign('sha512', input, pss('rsa-2048-a', 64))],
  ES256: ['ec-p256', (input) => sign('sha256', input, { key: privateKey('ec-p256'), dsaEncoding: 'ieee-p1363' })],
  ES384: ['ec-p384', (input) => sign('sha384', input, { key: privateKey('ec-p384'), dsaEncoding: 'ieee-p1363' })],
  EdDSA: ['ed25519', (input) => sign(null, input, privateKey('ed25519'))],
  HS256: [hmacJwk.kid, (input) => createHmac('sha256', hmacSecret).update(input).digest()],
};

// An id_token as the reference server issues it, and variations that each
// trip one rule of the strict verify options in fuzz/src/lib.rs.
const claims = {
  iss: 'https://auth.example.com',
  aud: 'wx_simulator_appid',
  sub: 'u_alice',
  iat: IAT,
  exp: IAT + 3600,
  jti: 'idt_0123456789abcdef',
  auth_time: IAT,
  amr: ['wechat'],
  name: 'Xiao Ming',
  nickname: '小明',
};
const claimVariants = {
  'id-token': claims,
  'aud-list': { ...claims, aud: ['other', 'wx_simulator_appid'] },
  'wrong-aud': { ...claims, aud: 'someone-else' },
  'wrong-iss': { ...claims, iss: 'https://evil.example.com' },
  expired: { ...claims, iat: IAT - 7200, exp: IAT - 3600 },
  'not-yet-valid': { ...claims, nbf: IAT + 600 },
  'too-old': { ...claims, iat: IAT - 86400, exp: IAT + 86400 },
  'no-jti': Object.fromEntries(Object.entries(claims).filter(([name]) => name !== 'jti')),
  'fractional-times': { ...claims, iat: IAT + 0.5, exp: IAT + 3600.25, nbf: IAT - 1e-3 },
  'string-exp': { ...claims, exp: String(IAT + 3600) },
  'minimal': { exp: IAT + 60 },
};

function signed(header, payload) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${b64u(signers[header.alg][1](input))}`;
}

for (const [alg, [kid]] of Object.entries(signers)) {
  const header = { alg, typ: 'JWT', kid };
  seed('token', `${alg}-id-token`, signed(header, claims));
  seed('claims', `${alg}-header`, `${JSON.stringify({ ...header, alg: 'HS256' })}\n${JSON.stringify(claims)}`);
}
for (const [name, payload] of Object.entries(claimVariants)) {
  seed('token', `RS256-${name}`, signed({ alg: 'RS256', typ: 'JWT', kid: 'rsa-2048-a' }, payload));
  seed('claims', name, `${JSON.stringify({ alg: 'HS256', typ: 'JWT' })}\n${JSON.stringify(payload)}`);
}
const headerVariants = {
  'no-kid': { alg: 'RS256', typ: 'JWT' },
  'typ-media-type': { alg: 'ES256', typ: 'application/JWT', kid: 'ec-p256' },
  'typ-other': { alg: 'EdDSA', typ: 'at+jwt', kid: 'ed25519' },
  'crit-b64': { alg: 'HS256', b64: false, crit: ['b64'] },
  'crit-unknown': { alg: 'HS256', exp: 1, crit: ['exp'] },
};
for (const [name, header] of Object.entries(headerVariants)) {
  seed('token', `header-${name}`, signed(header, claims));
  seed('claims', `header-${name}`, `${JSON.stringify({ ...header, alg: 'HS256' })}\n${JSON.stringify(claims)}`);
}
const unsigned = `${b64u('{"alg":"none"}')}.${b64u(JSON.stringify(claims))}.`;
seed('token', 'alg-none', unsigned);
seed('claims', 'repeated-claim', '{"alg":"HS256"}\n{"sub":"u_alice","sub":"u_bob","exp":1767229200}');

// Wycheproof's JWS and JWK Set tests (a few of each group) and the RFC 7520
// signatures: tokens for keys the targets do not hold, which still reach
// parsing and key selection, and key documents for the key target.
const wycheproofJws = readJson('wycheproof', 'json_web_signature_test.json');
const wycheproofJwks = readJson('wycheproof', 'json_web_key_test.json');
for (const [file, doc] of [['jws', wycheproofJws], ['jwks', wycheproofJwks]]) {
  doc.testGroups.forEach((group, index) => {
    for (const test of group.tests.slice(0, 8)) {
      if (typeof test.jws === 'string') seed('token', `wycheproof-${file}-${test.tcId}`, test.jws);
    }
    for (const which of ['public', 'private']) {
      if (group[which]) seed('jwk', `wycheproof-${file}-${index}-${which}`, JSON.stringify(group[which]));
    }
  });
}
for (const file of readdirSync(join(vectors, 'jose-cookbook')).filter((name) => name.endsWith('.json'))) {
  const example = readJson('jose-cookbook', file);
  seed('token', `cookbook-${file}`, example.output.compact);
  seed('jwk', `cookbook-${file}`, JSON.stringify(example.input.key));
}

// The fixture keys: each JWK and PEM file, and all public JWKs as one set.
const keyFiles = readdirSync(join(vectors, 'keys')).filter((name) => /\.(jwk|pem)$/.test(name));
for (const file of keyFiles.filter((name) => !name.endsWith('.key.pem') || name === 'ec-p256.key.pem')) {
  seed('jwk', file, read('keys', file));
}
const fixtureJwks = keyFiles
  .filter((name) => name.endsWith('.pub.jwk'))
  .map((name) => ({ ...readJson('keys', name), kid: name.replace('.pub.jwk', ''), use: 'sig' }));
seed('jwk', 'fixture-jwks', JSON.stringify({ keys: fixtureJwks }));
seed('jwk', 'hmac-jwks', JSON.stringify({ keys: [hmacJwk] }));

// Server answers as the session core reads them, and scripts that replay
// the client's flows (fuzz_targets/session.rs describes the script).
const success = (id, session, expiresIn) =>
  JSON.stringify({ status: 'SUCCESS', id_token: id, session_token: session, expires_in: expiresIn, session_expires_in: 2592000 });
const refreshed = (id, session, expiresIn) =>
  JSON.stringify({ id_token: id, session_token: session, expires_in: expiresIn, session_expires_in: 2592000 });
const challenge = (status, flows) => JSON.stringify({ status, state_token: 'st_0123', expires_in: 600, flows });
const record = JSON.stringify({
  v: 1,
  id_token: 'id1',
  session_token: 's1',
  expires_at: IAT * 1000 + 900000,
  lifetime_ms: 900000,
  session_expires_at: IAT * 1000 + 2592000000,
});
const scripts = {
  'login-refresh-signout': [`login ${success('id1', 's1', 900)}`, 'wake 810000', `refresh ${refreshed('id2', 's2', 900)}`, 'wake 900000', 'signout'],
  'social-bind-then-bind': [`login ${challenge('SOCIAL_BIND', ['password', 'sms_code', 'wechat_phone'])}`, `login ${success('id1', 's1', 900)}`],
  'user-register-lenient': [`login ${challenge(' user-register ', ['register', 'email_code', 'unknown_flow'])}`, 'wake 1000'],
  'restore-then-refused': [`restore ${record}`, 'wake 900000', 'refused 401', 'wake 1000'],
  'restore-corrupt': ['restore {"v":2,"id_token":"id1"}', 'restore', `restore ${record.slice(0, 40)}`],
  'backoff': [`login ${success('id1', 's1', 60)}`, 'now', 'failed', 'wake 200', 'refused 503 internal_error', 'wake 400',
    'refresh <html>portal</html>', 'wake 60000', 'refused 400 invalid_session'],
  'profile-during-refresh': [`login ${success('id1', 's1', 900)}`, 'now', 'profile', `refresh ${refreshed('id2', 's2', 900)}`,
    `refresh ${refreshed('id3', 's3', 900)}`],
  'options-and-origins': ['create {"refreshMargin":120000,"tokenOrigins":["https://api.example.com","http://localhost:8080"]}',
    'bearer https://api.example.com/v1/me', 'bearer https://api.example.com.evil.com/', 'bearer http://localhost:8080/x',
    `login ${success('id1', 's1', 900)}`, 'create {"refreshMargin":-1}', 'create {"tokenOrigins":["ftp://x"]}'],
  // Numbers at the ends of i64 and beyond, as a corrupted store or a
  // broken server could hand them over.
  'extreme-numbers': [
    'restore {"v":1,"id_token":"i","session_token":"s","expires_at":9223372036854775807,"lifetime_ms":-2,"session_expires_at":9223372036854775807}',
    'wake 1',
    'restore {"v":1,"id_token":"i","session_token":"s","expires_at":-9223372036854775808,"lifetime_ms":9223372036854775807,"session_expires_at":9223372036854775807}',
    'login {"status":"SUCCESS","id_token":"a","session_token":"b","expires_in":18446744073709551615,"session_expires_in":1e308}',
    'refresh {"id_token":"c","session_token":"d","expires_in":9223372036854775807,"session_expires_in":-0}',
  ],
  'bad-answers': ['login {"status":"SUCCESS","id_token":"id1"}', 'login []', 'login {"status":"MAYBE"}',
    `login ${success('id1', 's1', 1e300)}`, 'login {"status":"SUCCESS","id_token":"a","session_token":"b","expires_in":-5,"session_expires_in":1}'],
};
for (const [name, lines] of Object.entries(scripts)) seed('session', name, `${lines.join('\n')}\n`);

// Request bodies for the server target: the first byte picks the type, in
// the order of fuzz_targets/server_body.rs.
const bodies = [
  [{ code: '0a1b2c3d4e' }, { code: '' }, { code: 'x', extra: 1 }],
  [{ channel: 'sms', to: '+8613800138000', state_token: 'st_0123' }, { channel: 'email', to: 'han.meimei@example.com' }, { channel: 'wechat', to: 'x' }],
  [{ state_token: 'st_0123', code: 'phone-code' }],
  [{ state_token: 'st_0123', channel: 'sms', to: '13800138000', code: '123456' }],
  [{ state_token: 'st_0123', username: 'alice', password: 'correct horse battery staple' }],
  [{ state_token: 'st_0123', name: 'Xiao Ming' }, { state_token: 'st_0123' }, { state_token: 'st_0123', name: null }],
  [{ session_token: 'sess_0123456789' }, { session_token: 5 }],
  [
    { nickname: '  小明 ', picture: 'https://cdn.example.com/avatars/xm.png', gender: 'male', birthdate: '0000-02-29', locale: 'zh-CN' },
    { name: 'Ming', nickname: null },
    { birthdate: '1990-02-30' },
    { name: 'evil\u202etxt' },
    { picture: 'javascript:alert(1)' },
    { email: 'x@example.com' },
    { locale: 'not a locale' },
    {},
  ],
];
bodies.forEach((examples, kind) => {
  examples.forEach((body, index) => seed('server_body', `type${kind}-${index}`, `${kind}${JSON.stringify(body)}`));
});
seed('server_body', 'truncated', '7{"nickname":');

// JSON documents (and near misses) for the strict reader: every one above,
// and the cases it exists for.
const jsonDocs = [
  ...[...corpus.token.values()].flatMap((token) => token.split('.').slice(0, 2).map((part) => Buffer.from(part, 'base64url').toString())),
  ...corpus.jwk.values(),
  ...[...corpus.server_body.values()].map((body) => body.slice(1)),
  ...Object.values(scripts).flat().map((line) => line.slice(line.indexOf(' ') + 1)),
  '{"alg":"RS256","alg":"none"}',
  '{"a":{"b":[{"c":1,"c":2}]}}',
  '{"n":[0,-0,1e400,-1e-400,18446744073709551616,-9223372036854775809,1.5e308,0.1]}',
  '{"s":"\\ud83d\\ude00 \\u0000 \\"","\\u0061":1,"a ":2}',
  `{"deep":${'['.repeat(127)}${']'.repeat(127)}}`,
  `{"deeper":${'['.repeat(128)}${']'.repeat(128)}}`,
  '[{"a":1}]',
  '"text"',
  '{} ',
  '{}x',
];
[...new Set(jsonDocs)].forEach((doc, index) => seed('strict_json', `doc-${index}`, doc));

for (const [target, seeds] of Object.entries(corpus)) {
  const dir = join(root, 'fuzz', 'corpus', target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of seeds) writeFileSync(join(dir, name), content);
  console.log(`${target}: ${seeds.size} seeds`);
}
