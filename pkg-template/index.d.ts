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

/**
 * The verified-token cache of a verifier: `true` for the defaults, or its
 * size and lifetime. Only successful verifications are kept, each only
 * while its own exp, nbf and maxTokenAge allow (re-checked on every hit),
 * and for at most `ttl`.
 */
export type CacheOptions =
  | boolean
  | {
      /** The most tokens kept, least recently used evicted first (default 1000). */
      max?: number;
      /** The longest a token is kept: seconds, or text such as '10m' (default 600). */
      ttl?: number | string;
    };

export type VerifierOptions = VerifyOptions &
  KeyOptions & {
    /** Keep verified tokens (off by default). */
    cache?: CacheOptions;
  };

export interface VerifyResult<Claims = JWTClaims> {
  header: ProtectedHeader;
  claims: Claims;
}

export interface Verifier {
  /** Verifies a compact JWT synchronously; throws a MiniAuthError on failure. */
  verify<Claims = JWTClaims>(token: string): VerifyResult<Claims>;
  /** How many verified tokens the cache holds (0 without `cache`). */
  readonly cacheSize: number;
  /** Frees the key, the options and the cache now rather than at garbage collection. */
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

/**
 * Settles once the WebAssembly module is ready. Already resolved in Node.
 * Rejects with ERR_LOAD_FAILED (the path tried) when the module cannot be
 * loaded, or ERR_NOT_SUPPORTED where the host cannot run it; every later
 * call then throws the same.
 */
export const ready: Promise<void>;

/**
 * Names where the module is, in browsers (its URL) and Mini Programs (its
 * path in the code package, ending in .wasm or .wasm.br), when it is not
 * where the package puts it: call it right after importing the package,
 * before the module starts loading (one microtask later). Answers `ready`.
 * In Node, which loads the module at require time, only `init()` without a
 * path is accepted.
 */
export function init(options?: { wasmPath?: string | URL }): Promise<void>;

/**
 * What runs the core: in Node the native addon when one loads for the
 * platform (`MINIAUTH_BACKEND=wasm` or `native` forces one), else the
 * WebAssembly module; `'wasm'` in browsers and Mini Programs.
 */
export const backend: 'native' | 'wasm';

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
  | 'ERR_LOAD_FAILED'
  | 'ERR_NOT_SUPPORTED'
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
  /** For ERR_NETWORK and ERR_SERVER from an HTTP answer: its status. */
  readonly status?: number;
  /** For ERR_SERVER: the server's `error` code, e.g. 'invalid_verify_code'. */
  readonly error?: string;
  /** For ERR_NETWORK: whether the time ran out. */
  readonly timeout?: boolean;
  constructor(
    code: ErrorCode,
    message: string,
    details?: { claim?: string; reason?: string; status?: number; error?: string; cause?: unknown },
  );
}

// ---- AuthClient: sign-in, bind, and an id_token that stays fresh ----

/**
 * Where AuthClient keeps its session record (an opaque string). Any method
 * may return a promise.
 */
export interface StorageAdapter {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

/** A storage adapter in memory: the default in Node. */
export function memoryStorage(): StorageAdapter;

/**
 * Node only (throws elsewhere): a storage adapter keeping values in one JSON
 * file, written atomically with mode 0600.
 */
export function fileStorage(path: string): StorageAdapter;

/** What AuthClient passes to a `fetch` option for its own calls: a subset of RequestInit. */
export interface AuthFetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** An AbortSignal (typed loosely: not every runtime declares AbortSignal). */
  signal?: any;
}

/** The part of a Fetch API Response that AuthClient reads (a Response fits). */
export interface AuthFetchResponse {
  status: number;
  text(): Promise<string>;
  json(): Promise<any>;
}

/**
 * A Fetch API function (the global `fetch` fits). AuthClient calls it with a
 * URL and init for its own calls, and with a Request for `auth.fetch`.
 */
export type AuthFetch = (input: any, init?: AuthFetchInit) => Promise<AuthFetchResponse>;

/** A `wx.request`-shaped function (`wx.request` fits; typed loosely, its types belong to WeChat's typings). */
export type AuthRequest = (options: any) => unknown;

export interface AuthClientOptions {
  /** The identity server, e.g. 'https://id.example.com'. */
  baseUrl: string;
  /** Default: wx storage (Mini Programs), localStorage or memory (browsers), memory (Node). */
  storage?: StorageAdapter;
  /** HTTP through a Fetch API function. Default outside Mini Programs: the global fetch. */
  fetch?: AuthFetch;
  /** HTTP through a wx.request-shaped function. Default in Mini Programs: wx.request. */
  request?: AuthRequest;
  /** Refresh at least this many ms before the id_token expires (default 60000; the core may refresh earlier). */
  refreshMargin?: number;
  /** Keeps this client's record apart in shared storage (key `miniauth.session:<clientId>`). */
  clientId?: string;
  /**
   * Origins of the app's own API (e.g. 'https://api.example.com') that
   * `fetch` and `request` send the id_token to; requests anywhere else go
   * without it. None by default.
   */
  tokenOrigins?: string[];
  /** How long one HTTP request may take, in ms (default 10000). */
  timeout?: number;
  /** The clock, in ms since the epoch (default Date.now). For tests. */
  now?: () => number;
}

/** A way to bind a WeChat identity to a user. */
export type BindFlow = 'wechat_phone' | 'sms_code' | 'email_code' | 'wechat_code' | 'password' | 'register';

/** What a login, bind or register call led to. */
export interface LoginResult<Claims = JWTClaims> {
  status: 'SUCCESS' | 'SOCIAL_BIND' | 'USER_REGISTER';
  /** SOCIAL_BIND and USER_REGISTER: the ways to bind that the server allows now. */
  flows?: BindFlow[];
  /** SUCCESS: the id_token's claims (decoded, not verified). */
  claims?: Claims;
}

/**
 * How a one-time code is delivered: by SMS to a phone number, to an email
 * address, or (`wechat`) in WeChat chat, by the bot, to the contact linked
 * to the account `to` names (a username, phone number or email address).
 */
export type Channel = 'sms' | 'email' | 'wechat';

export type AuthEvent = 'SIGNED_IN' | 'TOKEN_REFRESHED' | 'SIGNED_OUT' | 'BIND_REQUIRED' | 'REFRESH_FAILED' | 'USER_UPDATED';

/** The signed-in user's profile, as GET /v1/userinfo answers it. */
export interface UserInfo {
  sub: string;
  name?: string;
  nickname?: string;
  picture?: string;
  gender?: string;
  birthdate?: string;
  locale?: string;
  preferred_username?: string;
  phone_number?: string;
  phone_number_verified?: boolean;
  email?: string;
  email_verified?: boolean;
  /**
   * The ids of the WeChat rooms the user's linked chat contacts are in,
   * sorted, at most 100; absent when none. The id_token carries the same.
   */
  rooms?: string[];
  /** Present when the user is in more rooms than `rooms` lists. */
  rooms_truncated?: true;
  [claim: string]: unknown;
}

/**
 * The profile fields a user may edit; `null` clears one. Phone number and
 * email change only through a verified bind flow.
 */
export interface ProfileFields {
  /** 1 to 64 characters. */
  name?: string | null;
  /** 1 to 64 characters. */
  nickname?: string | null;
  /** An https: URL. */
  picture?: string | null;
  gender?: string | null;
  /** YYYY-MM-DD, 0000-MM-DD or YYYY. */
  birthdate?: string | null;
  /** A BCP 47 tag, e.g. 'zh-CN'. */
  locale?: string | null;
}

/** A wx.request answer, as `auth.request` resolves to it. */
export interface RequestSuccess<Data = any> {
  statusCode: number;
  data: Data;
  header: Record<string, string>;
  [field: string]: unknown;
}

export interface AuthEventDetails<Claims = JWTClaims> {
  /** The current id_token's claims while signed in. */
  claims?: Claims;
  /** REFRESH_FAILED: why (ERR_NETWORK or ERR_SERVER). */
  error?: MiniAuthError;
}

/** A chat sign-in under way (loginWithChat). */
export interface ChatLogin<Claims = JWTClaims> {
  /** Six digits for the person to send to the bot. */
  challenge: string;
  /** Seconds until the challenge expires. */
  expires_in: number;
  /** The login's result once the challenge arrives in chat. */
  outcome: Promise<LoginResult<Claims>>;
}

/** A chat contact linked to the signed-in user (POST /v1/chat-links/confirm). */
export interface ChatLink {
  /** The name of the bot the contact talks to. */
  bot: string;
  /** The contact's id at that bot. */
  contact_id: string;
  /** The contact's display name, as the bot gave it. */
  contact_name?: string;
}

/** The server's answer to sendVerifyCode (and linkChat). */
export interface VerifyCodeSent {
  /** Seconds the code stays valid. */
  expires_in: number;
  /** Seconds before this bind may ask for another code. */
  resend_after: number;
}

/**
 * The client half: login and bind against a miniauth server, and an
 * id_token kept fresh with the session token. The session rules (when to
 * refresh, backoff, when to sign out, the stored record) live in the core.
 */
export class AuthClient<Claims = JWTClaims> {
  constructor(options: AuthClientOptions);
  /** Settles once the session has been restored from storage; every method awaits it first. */
  readonly ready: Promise<void>;
  /** Logs in with a wx.login() code. In a WeChat Mini Program, without `code`, calls wx.login() itself. */
  loginWithWechat(options?: { code?: string }): Promise<LoginResult<Claims>>;
  /**
   * Logs in with a tt.login() code of a Douyin Mini Program (the server needs
   * `--douyin-appid`). In one, without `code`, calls tt.login() itself.
   */
  loginWithDouyin(options?: { code?: string }): Promise<LoginResult<Claims>>;
  /** Logs in with a getPhoneNumber code. */
  loginWithWechatPhone(options: { code: string }): Promise<LoginResult<Claims>>;
  /** Binds the pending WeChat identity with a getPhoneNumber code. */
  bindWithWechatPhone(options: { code: string }): Promise<LoginResult<Claims>>;
  /**
   * Sends a one-time code for the pending bind (ERR_SIGNED_OUT when none is
   * pending). For `wechat`, `to` names the account; the answer is the same
   * whether or not it has a linked contact.
   */
  sendVerifyCode(options: { channel: Channel; to: string }): Promise<VerifyCodeSent>;
  /** Binds the pending WeChat identity with a one-time code. */
  bindWithVerifyCode(options: { channel: Channel; to: string; code: string }): Promise<LoginResult<Claims>>;
  /** Binds the pending WeChat identity to an existing user (SOCIAL_BIND). */
  bindWithPassword(options: { username: string; password: string }): Promise<LoginResult<Claims>>;
  /** Registers a new user for the pending WeChat identity (USER_REGISTER). */
  register(options?: { name?: string }): Promise<LoginResult<Claims>>;
  /**
   * A fresh id_token, refreshing first when due (concurrent callers share one
   * refresh). Rejects with ERR_SIGNED_OUT, ERR_BIND_REQUIRED, or ERR_NETWORK /
   * ERR_SERVER when the refresh failed and the token has expired.
   */
  getIdToken(): Promise<string>;
  /** The current id_token's claims (decoded, not verified), or null when signed out. */
  getClaims(): Promise<Claims | null>;
  /** Refreshes now (or joins the refresh in flight). */
  refresh(): Promise<{ claims: Claims }>;
  /** Signs out here and, best effort, on the server. */
  logout(): Promise<void>;
  /** The signed-in user's profile (GET /v1/userinfo). */
  getUserInfo(): Promise<UserInfo>;
  /**
   * Saves profile fields and resolves to the updated profile once the
   * id_token has been refreshed to carry them; emits USER_UPDATED.
   */
  updateProfile(fields: ProfileFields): Promise<UserInfo>;
  /**
   * Opens a chat bot's login card with the ticket its pagePath carries; the
   * contact it was sent to then gets a code in chat, for confirmChatLink.
   */
  linkChat(options: { ticket: string }): Promise<VerifyCodeSent>;
  /** Links the card's chat contact to the signed-in user with the code sent in chat. */
  confirmChatLink(options: { ticket: string; code: string }): Promise<ChatLink>;
  /**
   * Signs in through a chat bot (the web has no wx.login): show `challenge`
   * and ask the person to send it to the bot in WeChat; `outcome` settles
   * once it arrives (SUCCESS, or SOCIAL_BIND / USER_REGISTER to bind the
   * chat contact), or rejects when it expires.
   */
  loginWithChat(options?: { bot?: string }): Promise<ChatLogin<Claims>>;
  /**
   * Web and Node: fetch() for the app's own API. A request to one of
   * `tokenOrigins` carries `Authorization: Bearer <fresh id_token>`; on a 401
   * the token is refreshed once and the request sent once more. Any other
   * request goes out unchanged, without the token.
   */
  fetch(input: any, init?: any): Promise<AuthFetchResponse & { [member: string]: any }>;
  /**
   * Mini Programs: wx.request() for the app's own API, as a promise of its
   * success answer (its success/fail/complete callbacks are not used). Sends
   * the id_token to `tokenOrigins` only, as `fetch` does.
   */
  request<Data = any>(options: { url: string; method?: string; data?: unknown; header?: Record<string, string>; [option: string]: unknown }): Promise<RequestSuccess<Data>>;
  /**
   * Listens for session events; returns the unsubscribe function. A session
   * restored from storage is announced with SIGNED_IN, so a listener added
   * right after construction sees it.
   */
  onAuthStateChange(callback: (event: AuthEvent, details: AuthEventDetails<Claims>) => void): () => void;
  /** Stops the refresh timer and the foreground listener. */
  close(): void;
}
