// Cold start, miniauth via import() of the ESM entry (pkg/node/index.mjs).
// A dynamic import, so the clock starts before the package loads.
const t0 = process.hrtime.bigint();
const input = JSON.parse(process.env.COLDSTART);
const miniauth = await import(input.entry);
const tLoaded = process.hrtime.bigint();
const verifier = miniauth.createVerifier({
  key: input.key,
  algorithms: [input.alg],
  issuer: input.issuer,
  audience: input.audience,
});
const tKey = process.hrtime.bigint();
const { claims } = verifier.verify(input.token);
const t1 = process.hrtime.bigint();
process.stdout.write(JSON.stringify({
  loadMs: Number(tLoaded - t0) / 1e6,
  keyReadyMs: Number(tKey - t0) / 1e6,
  firstVerifyMs: Number(t1 - t0) / 1e6,
  sub: claims.sub,
  backend: miniauth.backend,
}));
