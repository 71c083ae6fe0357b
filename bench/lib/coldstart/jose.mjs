// Cold start, jose: import() + importJWK + jwtVerify (the key-pair algorithms).
const t0 = process.hrtime.bigint();
const input = JSON.parse(process.env.COLDSTART);
const jose = await import(input.entry);
const tLoaded = process.hrtime.bigint();
const key = await jose.importJWK(input.key, input.alg);
const tKey = process.hrtime.bigint();
const { payload } = await jose.jwtVerify(input.token, key, {
  algorithms: [input.alg],
  issuer: input.issuer,
  audience: input.audience,
});
const t1 = process.hrtime.bigint();
process.stdout.write(JSON.stringify({
  loadMs: Number(tLoaded - t0) / 1e6,
  keyReadyMs: Number(tKey - t0) / 1e6,
  firstVerifyMs: Number(t1 - t0) / 1e6,
  sub: payload.sub,
}));
