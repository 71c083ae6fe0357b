// Compiled (not run) by types.test.mjs against pkg/index.d.ts: how a
// TypeScript user calls the package. Lines marked @ts-expect-error must fail
// to type-check, so the declarations are known to reject misuse too.
import {
  backend,
  createRemoteJwks,
  createVerifier,
  decodeJwt,
  decodeProtectedHeader,
  init,
  jwtVerify,
  MiniAuthError,
  ready,
  type JWKS,
} from 'miniauth';

interface IdClaims {
  sub: string;
  phone_number?: string;
}

declare const jwks: JWKS;
declare const token: string;

async function main(): Promise<void> {
  const loaded: Promise<void> = init({ wasmPath: '/sub/miniprogram_npm/miniauth/miniauth.wasm.br' });
  init({ wasmPath: new URL('https://cdn.example.com/miniauth_bg.wasm') });
  // @ts-expect-error a path is text or a URL
  init({ wasmPath: 42 });
  await loaded;
  await ready;
  const verifier = createVerifier({ jwks, issuer: 'https://id.example.com', audience: ['a', 'b'], clockTolerance: '30s' });
  const { header, claims } = verifier.verify<IdClaims>(token);
  const sub: string = claims.sub;
  const alg: string = header.alg;
  verifier.free();

  createVerifier({ key: new Uint8Array(32), algorithms: ['HS256'] });
  createVerifier({ key: '-----BEGIN PUBLIC KEY-----\n...', currentDate: new Date() });
  const cached = createVerifier({ jwks, cache: true });
  createVerifier({ jwks, cache: { max: 10_000, ttl: '5m' } });
  const cachedTokens: number = cached.cacheSize;
  const runsOn: 'native' | 'wasm' = backend;

  const remote = createRemoteJwks(new URL('https://id.example.com/jwks'), { cooldown: 1000, timeout: 500 });
  const result = await jwtVerify(token, remote, { maxTokenAge: 3600 });
  const exp: number | undefined = result.claims.exp;

  decodeJwt(token).iss;
  decodeProtectedHeader(token).kid;

  try {
    verifier.verify(token);
  } catch (error) {
    if (error instanceof MiniAuthError && error.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
      const claim: string | undefined = error.claim;
      void claim;
    }
  }

  // @ts-expect-error: jwks and key together
  createVerifier({ jwks, key: new Uint8Array(32) });
  // @ts-expect-error: 'none' is not an algorithm
  createVerifier({ jwks, algorithms: ['none'] });
  // @ts-expect-error: audience must be text
  createVerifier({ jwks, audience: 5 });
  // @ts-expect-error: the cache takes max and ttl only
  createVerifier({ jwks, cache: { size: 10 } });
  // @ts-expect-error: cacheSize is read-only
  cached.cacheSize = 0;

  void sub;
  void alg;
  void cachedTokens;
  void runsOn;
  void exp;
}

void main;

// The uni-app (Vite) build plugin, imported as a vite.config.ts does: a
// Vite plugin with one boolean option.
import miniauthVite from 'miniauth/vite';
const vitePlugin: { name: string; enforce?: 'pre' | 'post' } = miniauthVite();
void vitePlugin;
void miniauthVite({ miniprogram: true });
// @ts-expect-error miniprogram is a boolean
void miniauthVite({ miniprogram: 'mp-weixin' });
