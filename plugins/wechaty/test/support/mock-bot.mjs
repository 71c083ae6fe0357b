// A bot on Wechaty's mock puppet with the plugin and the greeting of the
// package's README, for tests against the real reference server.

import { WechatyBuilder } from 'wechaty';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import { MiniAuthWechaty } from '../../src/index.js';

/** The card of the example Mini Program (examples/miniprogram/, the server's simulated appid). */
export const CARD = { appid: 'wx_simulator_appid', username: 'gh_0123456789ab@app', title: 'Sign in', pagePath: 'pages/link/link' };

/**
 * The mock puppet drops Mini Program cards, and leaves room members'
 * aliases and inviters out; this one records the cards for the tests, and
 * knows each member's inviter from room-join as a real puppet does, and the
 * aliases a test gives.
 */
class RecordingPuppet extends PuppetMock {
  cards = [];
  #waiters = [];
  #members = new Map();

  constructor(options) {
    super(options);
    // Before Wechaty's own listener, which asks for the members' payloads.
    this.on('room-join', ({ roomId, inviteeIdList, inviterId }) => {
      for (const id of inviteeIdList) this.memberDetails(roomId, id).inviterId = inviterId;
    });
  }

  async messageSendMiniProgram(conversationId, payload) {
    this.cards.push({ to: conversationId, payload });
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** The next card sent to `contactId` from now on. */
  nextCard(contactId) {
    const seen = this.cards.length;
    return waitFor(() => this.cards.slice(seen).find((card) => card.to === contactId), `a card to ${contactId}`, (wake) => this.#waiters.push(wake));
  }

  /** What `contactId` has in `roomId` beyond the mock's payload (`roomAlias`, `inviterId`), to read or set. */
  memberDetails(roomId, contactId) {
    const key = `${roomId} ${contactId}`;
    if (!this.#members.has(key)) this.#members.set(key, {});
    return this.#members.get(key);
  }

  async roomMemberRawPayload(roomId, contactId) {
    return { ...(await super.roomMemberRawPayload(roomId, contactId)), ...this.#members.get(`${roomId} ${contactId}`) };
  }
}

/** Polls `find` (and wakes on `subscribe`'s callback) until it returns something, or fails after 10 s. */
export async function waitFor(find, what, subscribe) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = await find();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 50);
      subscribe?.(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** The ticket a card's pagePath carries. */
export const ticketOf = (card) => new URLSearchParams(card.payload.pagePath.split('?')[1]).get('ticket');

/** The six digits a code's text starts with. */
export const codeIn = (text) => /^(\d{6}) /.exec(text)[1];

/**
 * A logged-in bot named `name` with the plugin for `baseUrl` and `botKey`
 * (and the plugin's other `options`); `contact(name)` makes a mock contact,
 * `texts(contact)` are the texts it received from the bot,
 * `nextText(contact, pattern)` the next one that matches. `beforeLogin(b)`
 * may set up the mock (`b.mocker`: contacts, rooms) before the bot logs in.
 */
export async function startBot({ baseUrl, botKey, name = 'Helper', beforeLogin, ...options }) {
  const mocker = new mock.Mocker();
  const puppet = new RecordingPuppet({ mocker });
  const bot = WechatyBuilder.build({ puppet });
  // The mock emits errors of its own (e.g. on room events); they must not end the process.
  bot.on('error', () => {});
  const errors = [];
  const auth = new MiniAuthWechaty({ baseUrl, botKey, miniProgram: CARD, onError: (error) => errors.push(error), ...options });
  bot.use(auth.plugin());
  bot.on('message', async (message) => {
    if (message.self() || (await auth.handled(message))) return;
    const talker = message.talker();
    const profile = await auth.getProfile(talker);
    if (!profile) await talker.say(await auth.getAuthMiniProgram(talker));
    else await message.say(`Hello again, ${profile.name}`);
  });
  await bot.start();
  const self = mocker.createContact({ name });
  const received = new Map();
  const contact = (contactName) => {
    const person = mocker.createContact({ name: contactName });
    received.set(person.id, []);
    person.on('message', (message) => {
      if (message.talker().id === self.id) received.get(person.id).push(message.text());
    });
    return person;
  };
  const texts = (person) => received.get(person.id);
  const nextText = (person, pattern) => {
    const seen = texts(person).length;
    return waitFor(() => texts(person).slice(seen).find((text) => pattern.test(text)), `a text to ${person.payload.name} matching ${pattern}`);
  };
  /** `person` writes to the bot and gets the card: its ticket. */
  const cardTicket = async (person) => {
    const card = puppet.nextCard(person.id);
    person.say('hello').to(self);
    return ticketOf(await card);
  };
  const b = { bot, puppet, mocker, auth, self, contact, texts, nextText, cardTicket, errors, stop: () => bot.stop() };
  await beforeLogin?.(b);
  // The bot's 'login' (the plugin starts on it) comes after the puppet is logged in, which is at once.
  const login = new Promise((resolve) => bot.once('login', resolve));
  mocker.login(self);
  await login;
  return b;
}
