// AuthClient: the client half (login, bind, tokens that stay fresh), written
// once for every runtime. Every session rule — when to refresh, when to give
// up and sign out, how long to back off, what the stored record holds — is
// decided by the Rust core's SessionCore (src/session.rs). This file only
// performs the actions the core returns (store, clear_storage, refresh,
// logout, wake_at, emit) and the I/O around them: HTTP, storage, timers and
// the clock (HTTP through transports.js, storage adapters as storage.js
// describes them). A platform entry (node/, web/, miniprogram/) hands in its
// defaults: storage, transport, foreground events and wx.login.

import { MiniAuthError, callCore } from './errors.js';
import { isStorage } from './storage.js';
import { fetchTransport, requestTransport } from './transports.js';

/** ms between two polls of a chat sign-in. */
const CHAT_POLL_INTERVAL = 1500;

/** setTimeout's longest delay; a longer one would fire at once. */
const MAX_TIMER_DELAY = 0x7fffffff;

/**
 * The AuthClient class for one runtime.
 *
 * @param {object} platform
 * @param {object | Promise<object>} platform.loaded  the core's bindings, or a promise of them
 * @param {(token: string) => object} platform.decodeJwt
 * @param {() => object} platform.defaultStorage  the runtime's storage adapter
 * @param {Function} [platform.defaultFetch]  the runtime's Fetch API function (web, Node)
 * @param {Function} [platform.defaultRequest]  the runtime's wx.request-shaped function (Mini Programs)
 * @param {(wake: () => void) => () => void} [platform.onForeground]  calls `wake` when the app
 *   comes back to the foreground; returns an unsubscribe function
 * @param {{ provider: 'wechat' | 'douyin', code: () => Promise<string> }} [platform.hostLogin]  the
 *   Mini Program host's login() (wx.login, tt.login): whose code it gives, and a way to get one
 * @param {boolean} [platform.unrefTimers]  keep the refresh timer from holding a Node process open
 * @param {() => number} [platform.random]  a number in [0, 1) from the platform's random source,
 *   which the core turns into retry jitter
 */
export function createAuthClientClass(platform) {
  const { loaded, decodeJwt, defaultStorage, defaultFetch, defaultRequest, onForeground, hostLogin, unrefTimers } = platform;
  const jitter = platform.random || cryptoRandom;

  class AuthClient {
    /**
     * @param {object} [options]
     * @param {string} [options.baseUrl]  the identity server, e.g. 'https://id.example.com' (required)
     * @param {{ get(key: string): any, set(key: string, value: string): any, remove(key: string): any }} [options.storage]
     * @param {Function} [options.fetch]  a Fetch API function for HTTP
     * @param {Function} [options.request]  a wx.request-shaped function for HTTP
     * @param {number} [options.refreshMargin]  refresh at least this many ms before the id_token expires
     *   (default: the core's, 60 s)
     * @param {string} [options.clientId]  keeps this client's record apart in shared storage
     * @param {string[]} [options.tokenOrigins]  origins of the app's own API that `fetch` and
     *   `request` send the id_token to (none by default)
     * @param {number} [options.timeout]  ms an HTTP request may take (default 10000)
     * @param {() => number} [options.now]  the clock, ms since the epoch (default Date.now; for tests)
     */
    constructor(options = {}) {
      // An undefined `timeout` is the transports' default.
      const { baseUrl, storage, request, refreshMargin, clientId, tokenOrigins, timeout, now } = options;
      const fetchFn = options.fetch;
      if (typeof baseUrl !== 'string' || !/^https?:\/\/[^/]/i.test(baseUrl)) {
        throw new MiniAuthError('ERR_INVALID_ARGUMENT', '"baseUrl" must be an http(s) URL');
      }
      if (refreshMargin !== undefined && (typeof refreshMargin !== 'number' || !(refreshMargin >= 0))) {
        throw new MiniAuthError('ERR_INVALID_ARGUMENT', '"refreshMargin" must be a number of milliseconds');
      }
      if (storage !== undefined && !isStorage(storage)) {
        throw new MiniAuthError('ERR_INVALID_ARGUMENT', '"storage" must have get(key), set(key, value) and remove(key)');
      }
      if (clientId !== undefined && (typeof clientId !== 'string' || clientId === '')) {
        throw new MiniAuthError('ERR_INVALID_ARGUMENT', '"clientId" must be a non-empty string');
      }
      if (tokenOrigins !== undefined && !(Array.isArray(tokenOrigins) && tokenOrigins.every((o) => typeof o === 'string'))) {
        // Each entry's syntax is the core's to check (see ready).
        throw new MiniAuthError('ERR_INVALID_ARGUMENT', '"tokenOrigins" must be a list of origins such as "https://api.example.com"');
      }
      this._baseUrl = baseUrl.replace(/\/+$/, '');
      this._storage = storage || defaultStorage();
      this._clientId = clientId;
      // The app's own API calls (fetch, request) go through the same functions.
      this._fetch = fetchFn ?? defaultFetch;
      this._wxRequest = request ?? defaultRequest;
      const overFetch = fetchFn !== undefined || (request === undefined && defaultFetch !== undefined);
      this._send = overFetch ? fetchTransport(this._fetch, timeout) : requestTransport(this._wxRequest, timeout);
      this._now = typeof now === 'function' ? now : () => Date.now();
      this._core = null;
      this._listeners = [];
      this._timer = null;
      this._refreshing = null;
      this._lastRefreshError = null;
      this._storageChain = Promise.resolve();
      this._closed = false;
      this._stopForeground = onForeground ? onForeground(() => this._wake()) : null;

      /** Settles once the session is restored from storage; every method awaits it. */
      this.ready = this._restore({ refreshMargin, tokenOrigins });
      // Methods report failures to restore; an unobserved `ready` must not be an unhandled rejection.
      this.ready.catch(() => {});
    }

    async _restore(coreOptions) {
      const bindings = await loaded;
      // Created only now: the core's instance exists once `loaded` has settled.
      this._core = callCore(() => bindings.SessionCore.create(JSON.stringify(coreOptions)));
      // The core names the record's key; a `clientId` keeps clients of
      // several apps apart in one storage.
      const key = bindings.storage_key();
      this._channels = JSON.parse(bindings.contract()).channels;
      this._key = this._clientId === undefined ? key : `${key}:${this._clientId}`;
      let stored;
      try {
        stored = await this._storage.get(this._key);
      } catch (error) {
        // Unreadable storage is like empty storage (and is not cleared).
        report('reading the stored session failed', error);
        stored = null;
      }
      const text = typeof stored === 'string' && stored !== '' ? stored : undefined;
      await this._run(this._core.restore(text, this._now()));
    }

    // ---- login and bind ----

    /**
     * Logs in with a wx.login() code. In a WeChat Mini Program, with no
     * `code`, calls wx.login() itself.
     * @param {{ code?: string }} [options]
     */
    async loginWithWechat({ code } = {}) {
      return this._loginWithHostCode('wechat', 'loginWithWechat', 'wx.login()', code);
    }

    /**
     * Logs in with a tt.login() code of a Douyin Mini Program. In one, with
     * no `code`, calls tt.login() itself.
     * @param {{ code?: string }} [options]
     */
    async loginWithDouyin({ code } = {}) {
      return this._loginWithHostCode('douyin', 'loginWithDouyin', 'tt.login()', code);
    }

    /** Logs in at /v1/login/{provider} with `code`, or with the host's own where it is that provider's. */
    async _loginWithHostCode(provider, method, source, code) {
      if (code === undefined && hostLogin?.provider === provider) {
        await this.ready;
        code = await hostLogin.code();
      }
      requireString(code, 'code', `${method}({ code }) needs the code of ${source}`);
      return this._login(`/v1/login/${provider}`, { code });
    }

    /**
     * Logs in with a getPhoneNumber code.
     * @param {{ code?: string }} [options]
     */
    async loginWithWechatPhone({ code } = {}) {
      requireString(code, 'code');
      return this._login('/v1/login/wechat-phone', { code });
    }

    /**
     * Binds the pending WeChat identity with a getPhoneNumber code.
     * @param {{ code?: string }} [options]
     */
    async bindWithWechatPhone({ code } = {}) {
      requireString(code, 'code');
      return this._login('/v1/bind/wechat-phone', { state_token: await this._stateToken(), code });
    }

    /**
     * Binds the pending WeChat identity with a code sent by sendVerifyCode.
     * @param {{ channel?: string, to?: string, code?: string }} [options]
     */
    async bindWithVerifyCode({ channel, to, code } = {}) {
      await this.ready;
      requireChannel(channel, this._channels);
      requireString(to, 'to');
      requireString(code, 'code');
      return this._login('/v1/bind/verify-code', { state_token: await this._stateToken(), channel, to, code });
    }

    /**
     * Binds the pending WeChat identity to an existing user (SOCIAL_BIND).
     * @param {{ username?: string, password?: string }} [options]
     */
    async bindWithPassword({ username, password } = {}) {
      requireString(username, 'username');
      requireString(password, 'password');
      return this._login('/v1/bind/password', { state_token: await this._stateToken(), username, password });
    }

    /**
     * Registers a new user for the pending WeChat identity (USER_REGISTER).
     * @param {{ name?: string }} [options]
     */
    async register({ name } = {}) {
      if (name !== undefined) requireString(name, 'name');
      const body = { state_token: await this._stateToken() };
      if (name !== undefined) body.name = name;
      return this._login('/v1/register', body);
    }

    /**
     * Sends a one-time code by SMS or email for the pending bind (codes are
     * sent only for a bind in progress, and only it can spend them).
     * Resolves to the server's answer, `{ expires_in, resend_after }`.
     * @param {{ channel?: string, to?: string }} [options]
     */
    async sendVerifyCode({ channel, to } = {}) {
      await this.ready;
      requireChannel(channel, this._channels);
      requireString(to, 'to');
      const body = { channel, to, state_token: await this._stateToken() };
      const { status, text } = await this._request('/v1/verify-codes', body);
      if (status < 200 || status > 299) throw serverError(status, text);
      return parseObject(text);
    }

    async _stateToken() {
      await this.ready;
      const stateToken = this._core.state_token();
      if (stateToken === undefined) {
        throw new MiniAuthError('ERR_SIGNED_OUT', 'no bind is pending: call loginWithWechat() or loginWithDouyin() first');
      }
      return stateToken;
    }

    /**
     * Signs in through a chat bot, where there is no wx.login (the web): the
     * person sends `challenge` (six digits) to the bot in WeChat. Resolves at
     * once to `{ challenge, expires_in, outcome }`; `outcome` is a promise of
     * the login's result (SUCCESS, or SOCIAL_BIND / USER_REGISTER to bind
     * the chat contact), settled once the challenge arrives, or rejected
     * when it expires (ERR_SERVER, state_token_expired).
     * @param {{ bot?: string }} [options]  the bot's name; any bot when left out
     */
    async loginWithChat({ bot } = {}) {
      if (bot !== undefined) requireString(bot, 'bot');
      await this.ready;
      const { status, text } = await this._request('/v1/login/chat', bot === undefined ? {} : { bot });
      if (status !== 200) throw serverError(status, text);
      const started = parseObject(text);
      const poll = async () => {
        for (;;) {
          const answer = await this._request('/v1/login/chat/poll', { state_token: started.state_token });
          // 202: the challenge has not arrived yet.
          if (answer.status !== 202) return this._loginAnswer(answer);
          await new Promise((resolve) => setTimeout(resolve, CHAT_POLL_INTERVAL));
        }
      };
      return { challenge: started.challenge, expires_in: started.expires_in, outcome: poll() };
    }

    async _login(path, body) {
      await this.ready;
      return this._loginAnswer(await this._request(path, body));
    }

    /** Takes a login or bind answer: the core keeps its tokens or state token. */
    async _loginAnswer({ status, text }) {
      if (status !== 200) throw serverError(status, text);
      const answer = JSON.parse(callCore(() => this._core.login_answer(text, this._now())));
      await this._run(answer.actions);
      const result = { status: answer.status };
      if (answer.flows !== undefined) result.flows = answer.flows;
      if (answer.status === 'SUCCESS') result.claims = this._claims();
      return result;
    }

    // ---- tokens ----

    /**
     * The id_token, fresh: when the core says a refresh is due, waits for it
     * (concurrent callers share one). If the refresh fails, the old token is
     * still returned while it has not expired.
     */
    async getIdToken() {
      await this.ready;
      const core = this._core;
      const fresh = core.fresh_id_token(this._now());
      if (fresh !== undefined) return fresh;
      this._requireSignedIn();
      const started = this._run(core.wake(this._now()));
      if (this._refreshing) await this._refreshing;
      await started;
      const token = core.fresh_id_token(this._now()) ?? core.unexpired_id_token(this._now());
      if (token !== undefined) return token;
      this._requireSignedIn();
      throw this._lastRefreshError || new MiniAuthError('ERR_NETWORK', 'the id_token has expired and could not be refreshed');
    }

    /** The claims of the current id_token (not verified), or null when signed out. */
    async getClaims() {
      await this.ready;
      return this._claims() ?? null;
    }

    /**
     * Refreshes now, whatever the token's age (or joins the refresh in
     * flight). Resolves to `{ claims }` of the new id_token.
     */
    async refresh() {
      await this.ready;
      this._requireSignedIn();
      this._run(this._core.refresh_now());
      const outcome = await this._refreshing;
      if (outcome && outcome.refreshed) return { claims: this._claims() };
      this._requireSignedIn();
      throw (outcome && outcome.error) || new MiniAuthError('ERR_NETWORK', 'the refresh failed');
    }

    // ---- the profile ----

    /** The signed-in user's profile (GET /v1/userinfo). */
    async getUserInfo() {
      const { status, text } = await this._authorized('GET', '/v1/userinfo');
      if (status !== 200) throw serverError(status, text);
      return parseObject(text);
    }

    /**
     * Updates profile fields (POST /v1/userinfo: `name`, `nickname`, `picture`, `gender`,
     * `birthdate`, `locale`; `null` clears one) and resolves to the updated
     * profile, once the id_token has been refreshed to carry it (then
     * USER_UPDATED is emitted; if that refresh fails, the update stands and
     * USER_UPDATED follows the retry that succeeds).
     */
    async updateProfile(fields) {
      if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
        throw new MiniAuthError('ERR_INVALID_ARGUMENT', 'updateProfile(fields) needs an object of profile fields');
      }
      // POST rather than PATCH: wx.request cannot send PATCH; the server takes both.
      const { status, text } = await this._authorized('POST', '/v1/userinfo', fields);
      if (status !== 200) throw serverError(status, text);
      const profile = parseObject(text);
      this._run(this._core.profile_updated());
      // A refresh already in flight when the profile changed is followed by another.
      while (this._refreshing) await this._refreshing;
      return profile;
    }

    // ---- chat links ----

    /**
     * Opens a login card a chat bot sent: `ticket` is the one its pagePath
     * carries. The contact the card was sent to is then sent a code in chat,
     * which confirmChatLink takes. Resolves to `{ expires_in, resend_after }`.
     * @param {{ ticket?: string }} [options]
     */
    async linkChat({ ticket } = {}) {
      requireString(ticket, 'ticket');
      const { status, text } = await this._authorized('POST', '/v1/chat-links', { ticket });
      if (status !== 202) throw serverError(status, text);
      return parseObject(text);
    }

    /**
     * Links the card's chat contact to the signed-in user with the code the
     * contact got in chat. Resolves to `{ bot, contact_id, contact_name? }`.
     * @param {{ ticket?: string, code?: string }} [options]
     */
    async confirmChatLink({ ticket, code } = {}) {
      requireString(ticket, 'ticket');
      requireString(code, 'code');
      const { status, text } = await this._authorized('POST', '/v1/chat-links/confirm', { ticket, code });
      if (status !== 200) throw serverError(status, text);
      return parseObject(text);
    }

    // ---- the app's own API ----

    /**
     * fetch() for the app's own API: a request to one of `tokenOrigins`
     * carries `Authorization: Bearer <fresh id_token>` (refreshed and sent
     * once more on a 401); any other request goes out as it is, without it.
     */
    async fetch(input, init) {
      const fetchFn = this._fetch;
      if (fetchFn === undefined) {
        throw new MiniAuthError('ERR_NOT_SUPPORTED', 'no fetch here: in a Mini Program use auth.request(options)');
      }
      await this.ready;
      const request = new Request(input, init);
      if (!this._core.bearer_allowed(request.url)) return fetchFn(request);
      const send = (token) => {
        const attempt = request.clone();
        attempt.headers.set('authorization', `Bearer ${token}`);
        return fetchFn(attempt);
      };
      return this._withIdToken(send, (response) => response.status);
    }

    /**
     * wx.request() for the app's own API, as a promise of its success
     * answer (`{ statusCode, data, header }`); rejects with ERR_NETWORK where
     * wx.request fails. A request to one of `tokenOrigins` carries the id_token
     * as fetch() does; any other goes out without it.
     */
    async request(options) {
      const requestFn = this._wxRequest;
      if (requestFn === undefined) {
        throw new MiniAuthError('ERR_NOT_SUPPORTED', 'no wx.request here: on the web and in Node use auth.fetch(input, init)');
      }
      if (typeof options !== 'object' || options === null || typeof options.url !== 'string') {
        throw new MiniAuthError('ERR_INVALID_ARGUMENT', 'request(options) needs options with a "url"');
      }
      await this.ready;
      // The promise takes the place of the callbacks.
      const { success, fail, complete, ...rest } = options;
      const send = (token) =>
        new Promise((resolve, reject) => {
          const header = { ...rest.header };
          if (token !== undefined) {
            for (const name of Object.keys(header)) if (name.toLowerCase() === 'authorization') delete header[name];
            header.Authorization = `Bearer ${token}`;
          }
          requestFn({
            ...rest,
            header,
            success: resolve,
            fail: (res) => reject(new MiniAuthError('ERR_NETWORK', `request to ${rest.url} failed: ${(res && res.errMsg) || 'request failed'}`)),
          });
        });
      if (!this._core.bearer_allowed(rest.url)) return send(undefined);
      return this._withIdToken(send, (res) => res.statusCode);
    }

    /** Signs out here and (best effort) on the server. */
    async logout() {
      await this.ready;
      await this._run(this._core.sign_out());
    }

    /**
     * Calls `callback(event, { claims? })` on SIGNED_IN, TOKEN_REFRESHED,
     * SIGNED_OUT, BIND_REQUIRED and REFRESH_FAILED. Returns an unsubscribe
     * function.
     */
    onAuthStateChange(callback) {
      if (typeof callback !== 'function') throw new MiniAuthError('ERR_INVALID_ARGUMENT', 'onAuthStateChange needs a function');
      const entry = { callback };
      this._listeners.push(entry);
      return () => {
        this._listeners = this._listeners.filter((other) => other !== entry);
      };
    }

    /**
     * Stops the refresh timer and foreground listener; the client performs
     * no further scheduled refresh. (A client that is simply dropped is
     * fine in Node, whose timer does not hold the process open.)
     */
    close() {
      this._closed = true;
      if (this._timer !== null) clearTimeout(this._timer);
      this._timer = null;
      if (this._stopForeground) this._stopForeground();
      this._stopForeground = null;
    }

    // ---- performing the core's actions ----

    _requireSignedIn() {
      const core = this._core;
      if (core.id_token() !== undefined) return;
      if (core.state_token() !== undefined) {
        throw new MiniAuthError('ERR_BIND_REQUIRED', 'the WeChat identity must be bound first (see the login answer\'s flows)');
      }
      throw new MiniAuthError('ERR_SIGNED_OUT', 'not signed in');
    }

    _claims() {
      const token = this._core.id_token();
      if (token === undefined) return undefined;
      try {
        return decodeJwt(token);
      } catch {
        return undefined;
      }
    }

    /**
     * Performs the actions (a JSON array from the core, or the array).
     * Dispatches them synchronously; the promise settles once the storage
     * writes and logout requests they started are done (refreshes are
     * tracked in `_refreshing` instead).
     */
    _run(actions) {
      const list = typeof actions === 'string' ? JSON.parse(actions) : actions;
      const pending = [];
      for (const action of list) {
        switch (action.type) {
          case 'store':
            pending.push(this._store((storage, key) => storage.set(key, action.record)));
            break;
          case 'clear_storage':
            pending.push(this._store((storage, key) => storage.remove(key)));
            break;
          case 'refresh':
            this._startRefresh(action.session_token);
            break;
          case 'logout':
            pending.push(this._request('/v1/logout', { session_token: action.session_token }).catch(() => {}));
            break;
          case 'wake_at':
            this._wakeAt(action.at);
            break;
          case 'emit':
            this._emit(action.event);
            break;
          default:
            // An action this layer does not know: a newer core. Nothing safe to do.
            break;
        }
      }
      return Promise.all(pending).then(() => undefined);
    }

    /** Storage writes run one after another, in the order the core asked for them. */
    _store(write) {
      this._storageChain = this._storageChain
        .then(() => write(this._storage, this._key))
        .catch((error) => report('writing the session to storage failed', error));
      return this._storageChain;
    }

    _request(path, body) {
      return this._send('POST', `${this._baseUrl}${path}`, body, {});
    }

    /**
     * Sends with a fresh id_token: `send(token)` performs the request and
     * `statusOf` reads the answer's HTTP status. On a 401 the token is
     * refreshed once (or the one a concurrent refresh brought is taken) and
     * the request sent once more.
     */
    async _withIdToken(send, statusOf) {
      const token = await this.getIdToken();
      const first = await send(token);
      if (statusOf(first) !== 401) return first;
      if (this._core.id_token() === token) {
        try {
          await this.refresh();
        } catch {
          return first;
        }
      }
      const fresh = this._core.id_token();
      return fresh === undefined || fresh === token ? first : send(fresh);
    }

    /** A call to the identity server with the id_token. */
    _authorized(method, path, body) {
      const send = (token) => this._send(method, `${this._baseUrl}${path}`, body, { authorization: `Bearer ${token}` });
      return this._withIdToken(send, (answer) => answer.status);
    }

    _startRefresh(sessionToken) {
      const refresh = this._refreshOnce(sessionToken);
      this._refreshing = refresh;
      refresh.then(() => {
        if (this._refreshing === refresh) this._refreshing = null;
      });
    }

    /** One refresh request; resolves (never rejects) to `{ refreshed, error }`. */
    async _refreshOnce(sessionToken) {
      const core = this._core;
      let ended;
      let error = null;
      try {
        const { status, text } = await this._request('/v1/session/refresh', { session_token: sessionToken });
        if (status === 200) {
          ended = core.refresh_answer(text, this._now(), jitter());
        } else {
          error = serverError(status, text);
          ended = core.refresh_refused(status, error.error, this._now(), jitter());
        }
      } catch (cause) {
        error = cause instanceof MiniAuthError ? cause : new MiniAuthError('ERR_NETWORK', 'the refresh request failed', { cause });
        ended = core.refresh_failed(this._now(), jitter());
      }
      // The core says whether it refreshed, and why not when only it knows.
      const { refreshed, error: coreError, actions } = JSON.parse(ended);
      if (coreError) error = new MiniAuthError(coreError.code, coreError.message);
      this._lastRefreshError = refreshed ? null : error;
      await this._run(actions);
      return { refreshed, error: refreshed ? null : error };
    }

    _wakeAt(at) {
      if (this._timer !== null) clearTimeout(this._timer);
      this._timer = null;
      if (this._closed) return;
      const delay = Math.min(Math.max(0, at - this._now()), MAX_TIMER_DELAY);
      this._timer = setTimeout(() => {
        this._timer = null;
        this._wake();
      }, delay);
      if (unrefTimers && this._timer && typeof this._timer.unref === 'function') this._timer.unref();
    }

    /** A timer fired or the app came back to the foreground. */
    _wake() {
      if (this._closed || this._core === null) return;
      this._run(this._core.wake(this._now()));
    }

    _emit(event) {
      const details = {};
      if (event !== 'SIGNED_OUT' && event !== 'BIND_REQUIRED') {
        const claims = this._claims();
        if (claims !== undefined) details.claims = claims;
      }
      if (event === 'REFRESH_FAILED' && this._lastRefreshError) details.error = this._lastRefreshError;
      for (const { callback } of this._listeners.slice()) {
        try {
          callback(event, details);
        } catch (error) {
          // One listener's failure must not stop the session or the others.
          report(`an onAuthStateChange listener threw on ${event}`, error);
        }
      }
    }
  }

  return AuthClient;
}

/** A number in [0, 1) from `crypto.getRandomValues` (web and Node). */
export function cryptoRandom() {
  return crypto.getRandomValues(new Uint32Array(1))[0] / 2 ** 32;
}

function requireString(value, name, message) {
  if (typeof value !== 'string' || value === '') {
    throw new MiniAuthError('ERR_INVALID_ARGUMENT', message || `"${name}" must be a non-empty string`);
  }
}

/** `channel` must be one the core names (boundary::contract). */
function requireChannel(channel, channels) {
  if (!channels.includes(channel)) {
    const names = channels.map((name) => `"${name}"`).join(' or ');
    throw new MiniAuthError('ERR_INVALID_ARGUMENT', `"channel" must be ${names}`);
  }
}

function parseObject(text) {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}

/** A non-2xx answer as MiniAuthError ERR_SERVER, with the server's `error` code. */
function serverError(status, text) {
  const body = parseObject(text);
  const error = typeof body.error === 'string' ? body.error : undefined;
  const message = typeof body.message === 'string' && body.message !== '' ? body.message : `the server answered HTTP ${status}`;
  return new MiniAuthError('ERR_SERVER', message, { status, error });
}

function report(what, error) {
  if (typeof console !== 'undefined' && typeof console.error === 'function') console.error(`miniauth: ${what}:`, error);
}
