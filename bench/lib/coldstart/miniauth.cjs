// Cold start, miniauth via require(): timed from this script's first line
// to the first verified token. Input in the COLDSTART env var (JSON).
// In Node the core (addon or module) is loaded during require(), so the package is
// used synchronously, without awaiting `ready`.
const t0 = process.hrtime.bigint();
const input = JSON.parse(process.env.COLDSTART);
const miniauth = require(input.entry);
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
