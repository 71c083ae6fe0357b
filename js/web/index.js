// Browser entry (ES module, for bundlers and <script type="module">). The
// module is fetched from beside this package's files; await `ready` once
// before the first synchronous call.

import init, * as glue from 'miniauth-wasm-glue';
import { createMiniAuth } from '../core/api.js';
import { fetchText } from '../core/fetch.js';

const loaded = init({ module_or_path: new URL('../miniauth_bg.wasm', import.meta.url) }).then(() => glue);

export { MiniAuthError } from '../core/errors.js';
export const { ready, createVerifier, createRemoteJwks, jwtVerify, decodeJwt, decodeProtectedHeader } = createMiniAuth({
  loaded,
  fetchText,
});
