// Type declarations for miniauth, the same in every runtime (Node, browsers,
// WeChat Mini Programs).

/** A JSON Web Key (RFC 7517). */
export interface JWK {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  k?: string;
  [member: string]: unknown;
}

/** A JSON Web Key Set. */
export interface JWKS {
  keys: JWK[];
}

/** A JWS protected header. */
export interface ProtectedHeader {
  alg: string;
  kid?: string;
  typ?: string;
  crit?: string[];
  [member: string]: unknown;
}

/** A JWT claims set. */
export interface JWTClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

export type Algorithm =
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384'
  | 'EdDSA' | 'Ed25519'
  | 'HS256' | 'HS384' | 'HS512';

/** Claim and header checks, as jose names them. */
export interface VerifyOptions {
  /** Accepted algorithms; default: every algorithm the key allows. `none` is never accepted. */
  algorithms?: Algorithm[];
  /** Required issuer, or any of a list. */
  issuer?: string | string[];
  /** Accepted audience, or any of a list. */
  audience?: string | string[];
  /** Required subject. */
  subject?: string;
  /** Clock skew allowed for exp, nbf and iat: seconds, or text such as '30s'. */
  clockTolerance?: number | string;
  /** Oldest acceptable iat: seconds, or text such as '2h'. Makes iat required. */
  maxTokenAge?: number | string;
  /** Claims that must be present. */
  requiredClaims?: string[];
  /** Required typ header (compared as a media type). */
  typ?: string;
  /** Verify as of this date instead of now. */
  currentDate?: Date;
}

/** Where the verification key comes from: exactly one of `jwks` and `key`. */
export type KeyOptions =
  | { jwks: JWKS; key?: never }
  | { key: JWK | string | Uint8Array | ArrayBuffer; jwks?: never };

export type VerifierOptions = VerifyOptions & KeyOptions;

export interface VerifyResult<Claims = JWTClaims> {
  header: ProtectedHeader;
  claims: Claims;
}

export interface Verifier {
  /** Verifies a compact JWT synchronously; throws a MiniAuthError on failure. */
  verify<Claims = JWTClaims>(token: string): VerifyResult<Claims>;
  /** Frees the key and options in WebAssembly memory now rather than at garbage collection. */
  free(): void;
}

export interface RemoteJwksOptions {
  /** How long a fetched key set is used before it is fetched again, in ms (default 600000). */
  cacheMaxAge?: number;
  /** The least time between refetches caused by an unknown kid, in ms (default 30000). */
  cooldown?: number;
  /** How long a fetch may take before ERR_JWKS_TIMEOUT, in ms (default 5000). */
  timeout?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** A key set fetched from a URL, cached, with one fetch in flight at a time. */
export interface RemoteJwks {
  readonly url: string;
  /** Fetches the set now (shared with any fetch already in flight). */
  reload(): Promise<void>;
}

/** Settles once the WebAssembly module is ready. Already resolved in Node. */
export const ready: Promise<void>;

/** A synchronous verifier for one key or key set. */
export function createVerifier(options: VerifierOptions): Verifier;

/** A remote JWKS for jwtVerify. */
export function createRemoteJwks(url: string | URL, options?: RemoteJwksOptions): RemoteJwks;

/** Verifies a JWT with a remote key set, a JWK Set object or a key. */
export function jwtVerify<Claims = JWTClaims>(
  token: string,
  keyOrJwks: RemoteJwks | JWKS | JWK | string | Uint8Array | ArrayBuffer,
  options?: VerifyOptions,
): Promise<VerifyResult<Claims>>;

/** The claims of a JWT, without verification. */
export function decodeJwt<Claims = JWTClaims>(token: string): Claims;

/** The protected header of a JWS, without verification. */
export function decodeProtectedHeader(token: string): ProtectedHeader;

/** The stable error codes. */
export type ErrorCode =
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_NOT_YET_VALID'
  | 'ERR_JWT_CLAIM_VALIDATION_FAILED'
  | 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
  | 'ERR_JOSE_ALG_NOT_ALLOWED'
  | 'ERR_JWS_INVALID'
  | 'ERR_JWT_INVALID'
  | 'ERR_JOSE_NOT_SUPPORTED'
  | 'ERR_JWKS_NO_MATCHING_KEY'
  | 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'
  | 'ERR_JWKS_TIMEOUT'
  | 'ERR_JWKS_INVALID'
  | 'ERR_JWK_INVALID'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_NOT_READY'
  | 'ERR_NETWORK'
  | 'ERR_SERVER'
  | 'ERR_SIGNED_OUT'
  | 'ERR_BIND_REQUIRED';

/** Every failure miniauth reports. */
export class MiniAuthError extends Error {
  readonly name: 'MiniAuthError';
  /** Stable machine-readable code (jose's where jose has one). */
  readonly code: ErrorCode;
  /** For claim failures: the claim (or 'typ' for the header). */
  readonly claim?: string;
  /** For claim failures: 'missing', 'invalid' or 'check_failed'. */
  readonly reason?: 'missing' | 'invalid' | 'check_failed';
  /** For ERR_NETWORK from an HTTP answer: its status. */
  readonly status?: number;
  /** For ERR_NETWORK: whether the time ran out. */
  readonly timeout?: boolean;
  constructor(code: ErrorCode, message: string, details?: { claim?: string; reason?: string; status?: number; cause?: unknown });
}
