// The JWT layer a developer must write around a bare signature library
// (@noble/curves, @noble/hashes) to verify a JWT in a Mini Program, where
// there is no TextEncoder/TextDecoder, atob or crypto: compact-JWS
// splitting, base64url, UTF-8, JSON, the alg check and the claim checks
// (exp, nbf, iss, aud). It is part of what the noble rows measure.
// ES2017, no host APIs.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

function invalid(message) {
  const error = new Error(message);
  error.code = 'ERR_JWT_INVALID';
  return error;
}

/** Strict base64url (no padding, no stray characters) to bytes. */
export function base64urlDecode(text) {
  const n = text.length;
  if (n % 4 === 1) throw invalid('bad base64url length');
  const out = new Uint8Array(Math.floor((n * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? LOOKUP[c] : -1;
    if (v < 0) throw invalid('bad base64url character');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** The signing input is base64url text, hence ASCII: one byte per character. */
export function asciiBytes(text) {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** UTF-8 to a string; throws on malformed input. */
export function utf8Decode(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i++];
    let cp;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b < 0xe0) cp = ((b & 0x1f) << 6) | cont(bytes, i++);
    else if (b >= 0xe0 && b < 0xf0) {
      cp = ((b & 0x0f) << 12) | (cont(bytes, i++) << 6) | cont(bytes, i++);
      if (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000)) throw invalid('bad UTF-8');
    } else if (b >= 0xf0 && b < 0xf5) {
      cp = ((b & 0x07) << 18) | (cont(bytes, i++) << 12) | (cont(bytes, i++) << 6) | cont(bytes, i++);
      if (cp < 0x10000 || cp > 0x10ffff) throw invalid('bad UTF-8');
    } else throw invalid('bad UTF-8');
    out += String.fromCodePoint(cp);
  }
  return out;
}

function cont(bytes, i) {
  const b = bytes[i];
  if (b === undefined || (b & 0xc0) !== 0x80) throw invalid('bad UTF-8');
  return b & 0x3f;
}

function jsonObject(part) {
  let value;
  try {
    value = JSON.parse(utf8Decode(base64urlDecode(part)));
  } catch (error) {
    throw invalid('not base64url JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('not a JSON object');
  return value;
}

export function timingSafeEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function claimError(claim, message) {
  const error = new Error(message);
  error.code = claim === 'exp' ? 'ERR_JWT_EXPIRED' : 'ERR_JWT_CLAIM_VALIDATION_FAILED';
  error.claim = claim;
  return error;
}

/**
 * @param {object} options
 * @param {string} options.alg  the one accepted "alg"
 * @param {(signature: Uint8Array, signingInput: Uint8Array) => boolean} options.verifySignature
 * @param {string} options.issuer
 * @param {string} options.audience
 * @param {number} [options.clockTolerance=0]  seconds
 * @returns {(token: string) => object}  verifies and returns the claims, or throws
 */
export function createJwtVerifier(options) {
  const tolerance = options.clockTolerance || 0;
  return function verify(token) {
    if (typeof token !== 'string') throw invalid('the token must be a string');
    const first = token.indexOf('.');
    const second = token.indexOf('.', first + 1);
    if (first <= 0 || second <= first + 1 || second === token.length - 1 || token.indexOf('.', second + 1) !== -1) {
      throw invalid('not a compact JWS');
    }
    const header = jsonObject(token.slice(0, first));
    if (header.alg !== options.alg) throw invalid('"alg" not allowed');
    if (header.crit !== undefined) throw invalid('"crit" is not supported');
    const signature = base64urlDecode(token.slice(second + 1));
    if (!options.verifySignature(signature, asciiBytes(token.slice(0, second)))) {
      const error = new Error('signature verification failed');
      error.code = 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
      throw error;
    }
    const claims = jsonObject(token.slice(first + 1, second));
    const now = Math.floor(Date.now() / 1000);
    if (claims.exp !== undefined) {
      if (typeof claims.exp !== 'number') throw claimError('exp', '"exp" must be a number');
      if (claims.exp <= now - tolerance) throw claimError('exp', 'the token has expired');
    }
    if (claims.nbf !== undefined) {
      if (typeof claims.nbf !== 'number') throw claimError('nbf', '"nbf" must be a number');
      if (claims.nbf > now + tolerance) throw claimError('nbf', 'the token is not yet valid');
    }
    if (claims.iss !== options.issuer) throw claimError('iss', 'unexpected "iss"');
    const aud = claims.aud;
    if (!(aud === options.audience || (Array.isArray(aud) && aud.indexOf(options.audience) !== -1))) {
      throw claimError('aud', 'unexpected "aud"');
    }
    return claims;
  };
}
