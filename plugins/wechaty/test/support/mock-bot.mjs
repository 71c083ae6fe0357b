// A bot on Wechaty's mock puppet with the plugin and the greeting of the
// package's README, for tests against the real reference server.

import { WechatyBuilder } from 'wechaty';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import { MiniAuthWechaty } from '../../src/index.js';

/** The card of the example Mini Program (examples/miniprogram/, the server's simulated appid). */
export const CARD = { appid: 'wx_simulator_appid', username: 'gh_0123456789ab@app', title: 'Sign in', pagePath: 'pages/link/link' };

/** The mock puppet drops Mini Program cards; this one records them for the tests. */
class RecordingPuppet extends PuppetMock {
  cards = [];
  #waiters = [];

  async messageSendMiniProgram(conversationId, payload) {
    this.cards.push({ to: conversationId, payload });
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** The next card sent to `contactId` from now on. */
  nextCard(contactId) {
    const seen = this.cards.length;
    return waitFor(() => this.cards.slice(seen).find((card) => card.to === contactId), `a card to ${contactId}`, (wake) => this.#waiters.push(wake));
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
 * A logged-in bot named `name` with the plugin for `baseUrl` and
 * `botKey`; `contact(name)` makes a mock contact, `texts(contact)` are the
 * texts it received from the bot, `nextText(contact, pattern)` the next
 * one that matches.
 */
export async function startBot({ baseUrl, botKey, name = 'Helper' }) {
  const mocker = new mock.Mocker();
  const puppet = new RecordingPuppet({ mocker });
  const bot = WechatyBuilder.build({ puppet });
  // The mock emits errors of its own (e.g. on room events); they must not end the process.
  bot.on('error', () => {});
  const errors = [];
  const auth = new MiniAuthWechaty({ baseUrl, botKey, miniProgram: CARD, onError: (error) => errors.push(error) });
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
  mocker.login(self);
  await new Promise((resolve) => (bot.isLoggedIn ? resolve() : bot.once('login', resolve)));
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
  return { bot, puppet, auth, self, contact, texts, nextText, cardTicket, errors, stop: () => bot.stop() };
}
