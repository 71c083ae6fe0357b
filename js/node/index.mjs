// ESM entry for Node: the same instance as `require('miniauth')`.
import miniauth from './index.cjs';

export const {
  ready,
  init,
  backend,
  createVerifier,
  createRemoteJwks,
  jwtVerify,
  decodeJwt,
  decodeProtectedHeader,
  MiniAuthError,
  AuthClient,
  fileStorage,
  memoryStorage,
} = miniauth;
export default miniauth;
