// Node entry: the module is compiled and instantiated synchronously at
// require time, so `ready` has already resolved when user code runs.
// Bundled to CommonJS (index.cjs); index.mjs re-exports it for `import`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as glue from 'miniauth-wasm-glue';
import { createMiniAuth } from '../core/api.js';
import { fetchText } from '../core/fetch.js';

// eslint-disable-next-line no-undef -- this file is only ever bundled to CommonJS
glue.initSync({ module: readFileSync(join(__dirname, '..', 'miniauth_bg.wasm')) });

export { MiniAuthError } from '../core/errors.js';
export const { ready, createVerifier, createRemoteJwks, jwtVerify, decodeJwt, decodeProtectedHeader } = createMiniAuth({
  loaded: glue,
  fetchText,
});
