// miniauth-wechaty: chat identity for Wechaty bots. The bot sends people the
// login Mini Program as a card, knows which miniauth user a contact is once
// that contact has linked, and says in chat what the identity server asks
// it to (one-time codes), and keeps the server's copy of the rooms it is in.
// Every rule (tickets, codes, who may link, who may read a room) is the
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
/** ms between full syncs of the bot's rooms (10 minutes). */
const DEFAULT_ROOM_SYNC_INTERVAL = 600_000;
/** The longest interval a timer takes (a longer one would fire at once, over and over). */
const MAX_TIMER = 2 ** 31 - 1;
/** The full sync's place among the rooms' syncs (no room id is a symbol). */
const FULL_SYNC = Symbol('full sync');
/** Members whose details a room's sync asks the puppet for at once (a room has up to 500). */
const MEMBER_READS = 8;

/** An error of the identity server or of the way to it, with a stable `code`. */
export class MiniAuthWechatyError extends Error {
  /**
   * @param {string} code  ERR_INVALID_ARGUMENT, ERR_NETWORK, ERR_SERVER, ERR_NOT_INSTALLED, ERR_NOT_LOGGED_IN
   *   or ERR_NOT_FOUND
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
   * @param {number} [options.roomSyncInterval]  ms between full syncs of the bot's rooms (default
   *   600000); 0: only at login and on room events
   * @param {number} [options.timeout]  ms an HTTP request may take (default 10000)
   * @param {Function} [options.fetch]  a Fetch API function (default: the global one)
   * @param {(error: Error) => void} [options.onError]  failures of the background work
   *   (polling, delivering, syncing rooms); default: console.error
   */
  constructor(options) {
    const {
      baseUrl, botKey, miniProgram, profileTtl = DEFAULT_PROFILE_TTL, roomSyncInterval = DEFAULT_ROOM_SYNC_INTERVAL, timeout = DEFAULT_TIMEOUT,
    } = options ?? {};
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
    for (const [name, value] of [['profileTtl', profileTtl], ['roomSyncInterval', roomSyncInterval], ['timeout', timeout]]) {
      if (typeof value !== 'number' || !(value >= 0)) {
        throw new MiniAuthWechatyError('ERR_INVALID_ARGUMENT', `"${name}" must be a number of milliseconds`);
      }
    }
    if (roomSyncInterval > MAX_TIMER) {
      throw new MiniAuthWechatyError('ERR_INVALID_ARGUMENT', `"roomSyncInterval" must be at most ${MAX_TIMER} ms`);
    }
    this._baseUrl = baseUrl.replace(/\/+$/, '');
    this._botKey = botKey;
    this._card = { ...miniProgram };
    this._profileTtl = profileTtl;
    this._roomSyncInterval = roomSyncInterval;
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
    /**
     * While logged in, the rooms' syncs: their bot, the signal that ends them,
     * the periodic full sync, the sync of each room, the newest word of the
     * bot's membership of a room not yet acted upon (left or not, and when),
     * and whether the puppet said it is ready this login.
     * @type {{ bot: any, controller: AbortController, timer: ReturnType<typeof setInterval> | undefined,
     *   runs: Map<string | symbol, Run>, pending: Map<string, { left: boolean, at: number }>, ready: boolean } | null}
     */
    this._rooms = null;
  }

  /**
   * The Wechaty plugin: `bot.use(auth.plugin())`. While the bot is logged in
   * it keeps one long-poll to the server open and delivers what comes, and
   * keeps the server's copy of the rooms the bot is in.
   * Returns, as Wechaty plugins do, a function that uninstalls it.
   */
  plugin() {
    const auth = this;
    return function MiniAuthWechatyPlugin(bot) {
      if (auth._bot) throw new MiniAuthWechatyError('ERR_INVALID_ARGUMENT', 'this MiniAuthWechaty is installed on a bot already');
      auth._bot = bot;
      const listeners = {
        login: () => auth._start(),
        logout: () => auth._stop(),
        // Installed before the bot's own message handlers, so that they can
        // ask handled(message) about any message.
        message: (message) => auth._takeChallenge(message),
        ready: () => auth._puppetReady(),
        'room-join': (room) => auth._roomChanged(room.id),
        'room-topic': (room) => auth._roomChanged(room.id),
        'room-leave': (room, leavers) => auth._roomChanged(room.id, leavers),
      };
      for (const [event, listener] of Object.entries(listeners)) bot.on(event, listener);
      if (loggedIn(bot)) auth._start();
      return () => {
        for (const [event, listener] of Object.entries(listeners)) bot.off(event, listener);
        auth._stop();
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

  /**
   * Syncs every room the bot is in now: puts each, then, once the puppet is
   * ready, leaves on the server the rooms it holds that the bot is no longer
   * in (before, the puppet may list only some rooms). Resolves to how
   * many rooms were synced, removed, and failed (each failure goes to
   * `onError`). The plugin does this at login and every `roomSyncInterval`.
   * @returns {Promise<{ synced: number, removed: number, failed: number }>}
   */
  async syncRooms() {
    this._installed();
    if (!this._rooms) throw new MiniAuthWechatyError('ERR_NOT_LOGGED_IN', 'the bot is not logged in');
    return this._syncAll(this._rooms);
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

  /** At login: the long-poll, and the rooms' syncs. */
  _start() {
    this._startPolling();
    this._startRooms();
  }

  /** At logout or uninstall: ends both. */
  _stop() {
    this._stopPolling();
    this._stopRooms();
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

  // ---- rooms ----

  _startRooms() {
    if (this._rooms) return;
    const rooms = {
      bot: this._installed(), controller: new AbortController(), timer: undefined, runs: new Map(), pending: new Map(), ready: false,
    };
    this._rooms = rooms;
    this._syncAllInBackground(rooms);
    if (this._roomSyncInterval > 0) rooms.timer = setInterval(() => this._syncAllInBackground(rooms), this._roomSyncInterval);
  }

  _stopRooms() {
    if (!this._rooms) return;
    clearInterval(this._rooms.timer);
    this._rooms.controller.abort();
    this._rooms = null;
  }

  /**
   * The puppet is ready: a real one may list the bot's rooms only from now
   * on, after login, so the full sync now also removes the rooms it lacks.
   * Noted here too: a puppet may lack `readyIndicator`, or set it after this.
   */
  _puppetReady() {
    const rooms = this._rooms;
    if (!rooms) return;
    rooms.ready = true;
    this._syncAllInBackground(rooms);
  }

  /** A room event: syncs that room, or leaves it when the bot is among the `leavers`. */
  _roomChanged(roomId, leavers = []) {
    const rooms = this._rooms;
    if (!rooms) return;
    rooms.pending.set(roomId, { left: leavers.some((leaver) => leaver.id === rooms.bot.currentUser.id), at: Date.now() });
    this._syncRoom(rooms, roomId);
  }

  _syncAllInBackground(rooms) {
    this._syncAll(rooms).catch((error) => rooms.controller.signal.aborted || this._onError(error));
  }

  /** One full sync at a time; calls during one share one more after it. */
  _syncAll(rooms) {
    return serialized(rooms.runs, FULL_SYNC, async () => {
      const { signal } = rooms.controller;
      // Asked before the bot's rooms are listed: a room the server has only
      // from an event after this is not taken for one the bot left.
      const held = await this._call('GET', '/v1/bot/rooms', undefined, { signal });
      const ready = rooms.ready || puppetReady(rooms.bot);
      const listedAt = Date.now();
      // Not Room.findAll(), which answers [] when the puppet fails: every room would be left.
      const roomIds = await rooms.bot.puppet.roomList();
      const counts = { synced: 0, removed: 0, failed: 0 };
      for (const roomId of roomIds) counts[await this._syncRoom(rooms, roomId)] += 1;
      // Before it is ready a puppet may list only some rooms (none at login): none is taken for left.
      const unlisted = ready && Array.isArray(held) ? held.filter((roomId) => !roomIds.includes(roomId)) : [];
      for (const roomId of unlisted) {
        // Left as of the list: the server keeps a room synced after that, and
        // the word of an event not yet acted upon stays the newest.
        if (!rooms.pending.has(roomId)) rooms.pending.set(roomId, { left: true, at: listedAt });
        counts[await this._syncRoom(rooms, roomId)] += 1;
      }
      if (signal.aborted) throw new MiniAuthWechatyError('ERR_NOT_LOGGED_IN', 'the bot logged out during the sync');
      return counts;
    });
  }

  /**
   * Leaves the room on the server when the pending word says the bot left
   * (dated when it was said), else puts the room as the bot sees it, or
   * leaves it when the bot is not among its members. One sync per room at a
   * time: the calls during one share one more after it, which does what the
   * newest word says. Resolves to 'synced', 'removed' or 'failed' (a failure
   * goes to `onError`).
   * @returns {Promise<'synced' | 'removed' | 'failed'>}
   */
  _syncRoom(rooms, roomId) {
    return serialized(rooms.runs, roomId, async () => {
      const { signal } = rooms.controller;
      if (signal.aborted) return 'failed';
      // Read as the run starts: the word of an event during the last run is acted upon now.
      const word = rooms.pending.get(roomId);
      rooms.pending.delete(roomId);
      const path = `/v1/bot/rooms/${encodeURIComponent(roomId)}`;
      try {
        if (word?.left) {
          await this._call('DELETE', `${path}?syncedAt=${word.at}`, undefined, { signal });
          return 'removed';
        }
        // Taken before the room is read: a read that raced a newer event's loses to it at the server.
        const syncedAt = Date.now();
        const snapshot = await roomSnapshot(rooms.bot, roomId, syncedAt);
        if (snapshot) {
          // `applied: false` (the server holds a newer snapshot) is no failure.
          await this._call('PUT', path, snapshot, { signal });
          return 'synced';
        }
        await this._call('DELETE', `${path}?syncedAt=${syncedAt}`, undefined, { signal });
        return 'removed';
      } catch (error) {
        if (!signal.aborted) this._onError(error);
        return 'failed';
      }
    });
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

/**
 * Whether `bot`'s puppet is ready, when it lists all the bot's rooms (set
 * by wechaty-puppet on the puppet's 'ready'). Asked as loggedIn() asks.
 */
function puppetReady(bot) {
  try {
    return bot.puppet.readyIndicator?.value() === true;
  } catch {
    return false;
  }
}

/**
 * The room `roomId` as the server takes it (PUT /v1/bot/rooms/{id}), or
 * null when the bot is not among its members (the mock puppet, and a real
 * one for a while, lists rooms the bot has left).
 */
async function roomSnapshot(bot, roomId, syncedAt) {
  const room = bot.Room.load(roomId);
  await room.ready();
  // One id once: the server refuses a snapshot with a member twice.
  const memberIds = [...new Set(await bot.puppet.roomMemberList(roomId))];
  if (!memberIds.includes(bot.currentUser.id)) return null;
  // As WeChat gives them: the server drops what cannot be shown (characters, http avatars).
  // A few at a time: a puppet asked for 500 at once may ask WeChat for 500 at once.
  const members = await mapLimited(memberIds, MEMBER_READS, async (id) => {
    // A member whose details the puppet cannot give is still a member.
    const member = await bot.puppet.roomMemberPayload(roomId, id).catch(() => ({}));
    return { id, roomAlias: text(member.roomAlias), inviterId: text(member.inviterId), avatar: text(member.avatar), name: text(member.name) };
  });
  return {
    topic: text(await room.topic()) ?? '',
    avatar: text(room.payload?.avatar),
    ownerId: room.owner()?.id ?? null,
    adminIds: room.payload?.adminIdList ?? [],
    members,
    syncedAt,
  };
}

/** A string of a puppet's payload, or null for anything else. */
function text(value) {
  return typeof value === 'string' ? value : null;
}

/**
 * `map` of each of `items`, in their order, with at most `limit` of them
 * going on at once.
 * @template T, U
 * @param {T[]} items
 * @param {number} limit
 * @param {(item: T) => Promise<U>} map
 * @returns {Promise<U[]>}
 */
async function mapLimited(items, limit, map) {
  /** @type {U[]} */
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await map(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The run of a key going on, and the one queued after it. @typedef {{ current: Promise<unknown> | null, next: Promise<unknown> | null }} Run */

/**
 * Runs `task` for `key` one at a time: a call while one runs gets one more
 * run after it, shared by every call until that run starts.
 * @template T
 * @param {Map<string | symbol, Run>} runs
 * @param {string | symbol} key
 * @param {() => Promise<T>} task
 * @returns {Promise<T>}
 */
function serialized(runs, key, task) {
  const run = runs.get(key) ?? { current: null, next: null };
  if (run.next) return /** @type {Promise<T>} */ (run.next);
  runs.set(key, run);
  const next = (run.current ?? Promise.resolve()).catch(() => {}).then(async () => {
    run.current = next;
    run.next = null;
    try {
      return await task();
    } finally {
      if (run.next === null) runs.delete(key);
    }
  });
  run.next = next;
  return next;
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
