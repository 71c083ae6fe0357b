// Types of miniauth-wechaty. The bot's objects are Wechaty's own.
import type { Contact, Message, MiniProgram, WechatyPlugin } from 'wechaty';

/** The login card: a Mini Program whose `pagePath` page links the contact. */
export interface LoginCard {
  appid: string;
  /** The Mini Program's original id, `gh_…@app`. */
  username: string;
  /** The linking page; it gets `ticket=…` in its query. */
  pagePath: string;
  title?: string;
  description?: string;
  thumbUrl?: string;
  thumbKey?: string;
  iconUrl?: string;
}

export interface MiniAuthWechatyOptions {
  /** The identity server, e.g. 'https://id.example.com'. */
  baseUrl: string;
  /** The key `miniauth bots add` printed. */
  botKey: string;
  miniProgram: LoginCard;
  /** ms a profile is cached (default 60000). */
  profileTtl?: number;
  /** ms between full syncs of the bot's rooms (default 600000, 10 minutes); 0: only at login and on room events. */
  roomSyncInterval?: number;
  /** ms an HTTP request may take (default 10000). */
  timeout?: number;
  /** A Fetch API function (default: the global one). */
  fetch?: typeof fetch;
  /** Failures of the background work (polling, delivering, syncing rooms); default: console.error. */
  onError?: (error: Error) => void;
}

/** A linked user's profile: `sub` and the id_token's profile claims. */
export interface ChatProfile {
  sub: string;
  name?: string;
  preferred_username?: string;
  phone_number?: string;
  phone_number_verified?: boolean;
  email?: string;
  email_verified?: boolean;
  nickname?: string;
  picture?: string;
  gender?: string;
  birthdate?: string;
  locale?: string;
}

/** What one full sync of the bot's rooms did: rooms put, rooms left on the server, rooms whose sync failed (each went to `onError`). */
export interface RoomSyncResult {
  synced: number;
  removed: number;
  failed: number;
}

export type MiniAuthWechatyErrorCode =
  'ERR_INVALID_ARGUMENT' | 'ERR_NETWORK' | 'ERR_SERVER' | 'ERR_NOT_INSTALLED' | 'ERR_NOT_LOGGED_IN' | 'ERR_NOT_FOUND';

export class MiniAuthWechatyError extends Error {
  readonly code: MiniAuthWechatyErrorCode;
  /** ERR_SERVER: the HTTP status. */
  readonly status?: number;
  /** ERR_SERVER: the server's stable `error` code. */
  readonly error?: string;
}

export class MiniAuthWechaty {
  constructor(options: MiniAuthWechatyOptions);
  /** The Wechaty plugin: `bot.use(auth.plugin())`. */
  plugin(): WechatyPlugin;
  /** The login card for `contact`, with a one-time ticket for it (10 minutes). */
  getAuthMiniProgram(contact: Contact): Promise<MiniProgram>;
  /** The profile of the user `contact` is linked to, or null. */
  getProfile(contact: Contact): Promise<ChatProfile | null>;
  /** Whether the plugin took `message` (a chat sign-in challenge); then do not answer it. */
  handled(message: Message): Promise<boolean>;
  /** Syncs every room the bot is in now, and, once the puppet is ready, leaves on the server those it no longer lists. */
  syncRooms(): Promise<RoomSyncResult>;
}

