// miniauth-wechaty: chat identity for Wechaty bots. The bot sends people the
// login Mini Program as a card, knows which miniauth user a contact is once
// that contact has linked, and says in chat what the identity server asks
// it to (one-time codes). Every rule (tickets, codes, who may link) is the
// server's; this package only talks to the bot API (/v1/bot/…) and to
// Wechaty.

/** ms a profile answer is kept; the server's link news clears it sooner. */
const DEFAULT_PROFILE_TTL = 60_000;
/** ms an HTTP request may take, on top of a long-poll's wait. */
const DEFAULT_TIMEOUT = 10_000;
/** Seconds the server may hold a long-poll (its maximum). */
const POLL_WAIT_SECONDS = 25;
/** The first and the longest wait between failed polls, in ms. */
const FIRST_BACKOFF = 500;
const MAX_BACKOFF = 30_000;
/** A text that may be a chat sign-in challenge. */
const CHALLENGE = /^\s*\d{6}\s*$/;
/** Delivery ids said but maybe not acknowledged, remembered so that one that comes again is not said twice. */
const SAID_REMEMBERED = 1000;

/** An error of the identity server or of the way to it, with a stable `code`. */
export class MiniAuthWechatyError extends Error {
  /**
   * @param {string} code  ERR_INVALID_ARGUMENT, ERR_NETWORK, ERR_SERVER or ERR_NOT_INSTALLED
   * @param {string} message
   * @param {{ status?: number, error?: string, cause?: unknown }} [details]
   */
  constructor(code, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MiniAuthWechatyError';
    this.code = code;
    if (details.status !== undefined) this.status = details.status;
    if (details.error !== undefined) this.error = details.error;
  }
}

export class MiniAuthWechaty {
  /**
   * @param {object} options
   * @param {string} options.baseUrl  the identity server, e.g. 'https://id.example.com'
   * @param {string} options.botKey  from `miniauth bots add` (keep it in the environment)
   * @param {{ appid: string, username: string, pagePath: string, title?: string, description?: string,
   *   thumbUrl?: string, thumbKey?: string, iconUrl?: string }} options.miniProgram  the login card;
   *   `pagePath` is the page that links (it gets `ticket=…` in its query)
   * @param {number} [options.profileTtl]  ms a profile is cached (default 60000)
   * @param {number} [options.timeout]  ms an HTTP request may take (default 10000)
   * @param {Function} [options.fetch]  a Fetch API function (default: the global one)
   * @param {(error: Error) => void} [options.onError]  failures of the background work
   *   (polling, delivering); default: console.error
   */
  constructor(options) {
    const { baseUrl, botKey, miniProgram, profileTtl = DEFAULT_PROFILE_TTL, timeout = DEFAULT_TIMEOUT } = options ?? {};
    if (typeof baseUrl !== 'string' || !/^https?:\/\/[^/]/i.test(baseUrl)) {
      throw new MiniAuthWechatyError('ERR_INVALID_ARGUMENT', '"baseUrl" must be an http(s) URL');
    }
    if (typeof botKey !== 'string' || botKey === '') {
      throw new MiniAuthWechatyError('ERR_INVALID_ARGUMENT', '"botKey" must be the key `miniauth bots add` printed');
    }
    for (const field of /** @type {const} */ (['appid', 'username', 'pagePath'])) {
      if (typeof miniProgram?.[field] !== 'string' || miniProgram[field] === '') {
        throw new MiniAuthWechatyError('ERR_INVALID_ARGUMENT', `"miniProgram.${field}" must be a non-empty string`);
      }
    }
    for (const [name, value] of [['profileTtl', profileTtl], ['timeout', timeout]]) {
      if (typeof value !== 'number' || !(value >= 0)) {
        throw new MiniAuthWechatyError('ERR_INVALID_ARGUMENT', `"${name}" must be a number of milliseconds`);
      }
    }
    this._baseUrl = baseUrl.replace(/\/+$/, '');
    this._botKey = botKey;
    this._card = { ...miniProgram };
    this._profileTtl = profileTtl;
    this._timeout = timeout;
    this._fetch = options.fetch ?? globalThis.fetch;
    this._onError = options.onError ?? ((error) => console.error('miniauth-wechaty:', error));
    /** @type {Map<string, { at: number, profile: Promise<object | null> }>} */
    this._profiles = new Map();
    /** @type {Set<string>} */
    this._said = new Set();
    /** Whether each message forwarded as a challenge was one. @type {WeakMap<object, Promise<boolean>>} */
    this._challenges = new WeakMap();
    this._bot = null;
    this._polling = null;
  }

  /**
   * The Wechaty plugin: `bot.use(auth.plugin())`. While the bot is logged in
   * it keeps one long-poll to the server open and delivers what comes.
   * Returns, as Wechaty plugins do, a function that uninstalls it.
   */
  plugin() {
    const auth = this;
    return function MiniAuthWechatyPlugin(bot) {
      if (auth._bot) throw new MiniAuthWechatyError('ERR_INVALID_ARGUMENT', 'this MiniAuthWechaty is installed on a bot already');
      auth._bot = bot;
      const onLogin = () => auth._startPolling();
      const onLogout = () => auth._stopPolling();
      const onMessage = (message) => auth._takeChallenge(message);
      bot.on('login', onLogin);
      bot.on('logout', onLogout);
      // Installed before the bot's own message handlers, so that they can
      // ask handled(message) about any message.
      bot.on('message', onMessage);
      if (loggedIn(bot)) auth._startPolling();
      return () => {
        bot.off('login', onLogin);
        bot.off('logout', onLogout);
        bot.off('message', onMessage);
        auth._stopPolling();
        auth._bot = null;
      };
    };
  }

  /**
   * The login card for `contact`: the Mini Program of `miniProgram`, whose
   * `pagePath` carries a one-time ticket for this contact (10 minutes).
   * Send it with `contact.say(card)`.
   */
  async getAuthMiniProgram(contact) {
    const bot = this._installed();
    const contactId = idOf(contact);
    const payload = { id: contactId };
    const name = typeof contact.name === 'function' ? contact.name() : undefined;
    if (typeof name === 'string' && name !== '') payload.name = name;
    const avatar = contact.payload?.avatar;
    if (typeof avatar === 'string' && avatar.startsWith('https://')) payload.avatar = avatar;
    const { ticket } = await this._call('POST', '/v1/bot/link-tickets', { contact: payload });
    const separator = this._card.pagePath.includes('?') ? '&' : '?';
    const pagePath = `${this._card.pagePath}${separator}ticket=${encodeURIComponent(ticket)}`;
    return new bot.MiniProgram({ ...this._card, pagePath });
  }

  /**
   * The profile of the user `contact` is linked to (`sub` and the id_token's
   * profile claims), or null until it links. Cached for `profileTtl`, and
   * forgotten when the server reports a link or unlink.
   */
  async getProfile(contact) {
    const contactId = idOf(contact);
    const cached = this._profiles.get(contactId);
    if (cached && Date.now() - cached.at < this._profileTtl) return cached.profile;
    const profile = this._call('GET', `/v1/bot/contacts/${encodeURIComponent(contactId)}`, undefined, { notFound: null });
    const entry = { at: Date.now(), profile };
    this._profiles.set(contactId, entry);
    // A failure is not remembered.
    profile.catch(() => this._profiles.get(contactId) === entry && this._profiles.delete(contactId));
    return profile;
  }

  /**
   * Whether the plugin took `message`: a chat sign-in challenge (six digits
   * a web page showed) that the server matched. The bot's own handlers
   * should not answer such a message:
   * `if (message.self() || await auth.handled(message)) return`.
   */
  async handled(message) {
    return (await this._challenges.get(message)) ?? false;
  }

  /** Forwards a text that may be a chat sign-in challenge to the server. */
  _takeChallenge(message) {
    if (message.self()) return;
    const text = message.text();
    if (typeof text !== 'string' || !CHALLENGE.test(text)) return;
    const taken = this._call('POST', '/v1/bot/challenges', { contact_id: message.talker().id, text: text.trim() }).then(
      (answer) => answer?.matched === true,
      (error) => {
        this._onError(error);
        return false;
      },
    );
    this._challenges.set(message, taken);
  }

  _installed() {
    if (!this._bot) throw new MiniAuthWechatyError('ERR_NOT_INSTALLED', 'install the plugin first: bot.use(auth.plugin())');
    return this._bot;
  }

  // ---- deliveries ----

  _startPolling() {
    if (this._polling) return;
    const controller = new AbortController();
    const done = this._poll(controller.signal).catch((error) => this._onError(error));
    this._polling = { controller, done };
  }

  _stopPolling() {
    if (!this._polling) return;
    this._polling.controller.abort();
    this._polling = null;
  }

  /** Polls until `signal` aborts, backing off after failures. */
  async _poll(signal) {
    let backoff = FIRST_BACKOFF;
    while (!signal.aborted) {
      try {
        const due = await this._call('GET', `/v1/bot/deliveries?wait=${POLL_WAIT_SECONDS}`, undefined, {
          signal,
          timeout: this._timeout + POLL_WAIT_SECONDS * 1000,
        });
        for (const delivery of Array.isArray(due) ? due : []) {
          if (signal.aborted) return;
          await this._deliver(delivery);
        }
        backoff = FIRST_BACKOFF;
      } catch (error) {
        if (signal.aborted) return;
        this._onError(error);
        await sleep(backoff * (0.5 + Math.random() / 2), signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF);
      }
    }
  }

  /**
   * Says or applies one delivery, then acknowledges it. One that fails is
   * left unacknowledged: the server hands it out again after its lease.
   */
  async _deliver(delivery) {
    const { id, kind } = delivery;
    if (kind === 'text') {
      if (!this._said.has(id)) {
        const contact = await this._installed().Contact.find({ id: delivery.to });
        if (!contact) throw new MiniAuthWechatyError('ERR_NOT_FOUND', 'a delivery is for a contact this bot does not know');
        await contact.say(delivery.text);
        remember(this._said, id);
      }
    } else if (kind === 'linked' || kind === 'unlinked') {
      this._profiles.delete(delivery.contact_id);
    }
    // Kinds this version does not know are acknowledged too: they are not for it.
    await this._call('POST', `/v1/bot/deliveries/${encodeURIComponent(id)}/ack`);
    this._said.delete(id);
  }

  // ---- HTTP ----

  /**
   * One call to the bot API; resolves to the parsed answer (undefined for
   * 204). `notFound` is the value of a 404, when one is expected.
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @param {{ signal?: AbortSignal, timeout?: number, notFound?: null }} [options]
   */
  async _call(method, path, body, { signal, timeout = this._timeout, notFound } = {}) {
    const timer = AbortSignal.timeout(timeout);
    const init = {
      method,
      headers: { authorization: `Bearer ${this._botKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timer]) : timer,
    };
    let response;
    let text;
    try {
      response = await this._fetch(`${this._baseUrl}${path}`, init);
      text = await response.text();
    } catch (cause) {
      throw new MiniAuthWechatyError('ERR_NETWORK', `${method} ${path.split('?')[0]} failed: ${cause?.message ?? cause}`, { cause });
    }
    if (response.status === 404 && notFound !== undefined) return notFound;
    if (response.status < 200 || response.status > 299) {
      const answer = parse(text);
      const message = typeof answer?.message === 'string' ? answer.message : `the server answered HTTP ${response.status}`;
      throw new MiniAuthWechatyError('ERR_SERVER', message, { status: response.status, error: answer?.error });
    }
    return text === '' ? undefined : parse(text);
  }
}

/**
 * Whether `bot` is logged in. Asked through its puppet, which a bot not yet
 * started lacks (then `bot.isLoggedIn` would emit an error and warn).
 */
function loggedIn(bot) {
  try {
    return bot.puppet.isLoggedIn === true;
  } catch {
    return false;
  }
}

function idOf(contact) {
  const id = contact?.id;
  if (typeof id !== 'string' || id === '') {
    throw new MiniAuthWechatyError('ERR_INVALID_ARGUMENT', 'a Wechaty Contact (with an id) is needed');
  }
  return id;
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Adds `id` to `set`, forgetting the oldest past SAID_REMEMBERED. */
function remember(set, id) {
  set.add(id);
  if (set.size > SAID_REMEMBERED) set.delete(set.values().next().value);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
