// miniauth-wechaty on Wechaty's mock puppet against the real reference
// server (target/debug/miniauth serve, simulator mode, a temporary
// database), with people signing in through the built miniauth package
// (pkg/node) as a Mini Program page would: a contact writes to the bot and
// gets the login card, opens it signed in, gets the code in chat, confirms,
// and from then on the bot knows who they are.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MiniAuthWechaty, MiniAuthWechatyError } from '../src/index.js';
import { CARD, codeIn, startBot as startMockBot, ticketOf, waitFor } from './support/mock-bot.mjs';
import { AuthClient, linkInMiniProgram, memoryStorage, signedIn } from './support/people.mjs';
import { botsCommand, serverWithBot } from '../../../tests/js/support/miniauth-server.mjs';

let running;
let database;
let server;
let botKey;

before(async () => {
  running = await serverWithBot('wechaty');
  ({ database, server, botKey } = running);
});

after(() => running?.stop());

const startBot = (key = botKey, name = 'Helper') => startMockBot({ baseUrl: server.url, botKey: key, name });

describe('miniauth-wechaty on the mock puppet', () => {
  test('a contact gets the card, links with the code sent in chat, and is known from then on', async () => {
    const b = await startBot();
    try {
      const alice = b.contact('Alice');
      const card = b.puppet.nextCard(alice.id);
      alice.say('hello').to(b.self);
      const sent = await card;
      assert.equal(sent.payload.appid, CARD.appid);
      assert.equal(sent.payload.username, CARD.username);
      assert.match(sent.payload.pagePath, /^pages\/link\/link\?ticket=[\w-]{43}$/);

      const client = await signedIn(server, 'o_alice_chat', 'Alice');
      const codeText = b.nextText(alice, /^\d{6} /);
      const opened = await client.linkChat({ ticket: ticketOf(sent) });
      assert.deepEqual(opened, { expires_in: 300, resend_after: 60 });
      const code = codeIn(await codeText);
      const link = await client.confirmChatLink({ ticket: ticketOf(sent), code });
      assert.deepEqual(link, { bot: 'helper', contact_id: alice.id, contact_name: 'Alice' });

      // The first message cached "not linked"; the server's news of the link clears it.
      const contact = await b.bot.Contact.find({ id: alice.id });
      const profile = await waitFor(() => b.auth.getProfile(contact), 'the profile');
      assert.equal(profile.name, 'Alice');
      assert.equal(profile.sub, (await client.getClaims()).sub);
      const greeting = b.nextText(alice, /^Hello again/);
      alice.say('hi').to(b.self);
      assert.equal(await greeting, 'Hello again, Alice');
      assert.deepEqual(b.errors, []);
      client.close();
    } finally {
      await b.stop();
    }
  });

  test('a forwarded card opened by someone else cannot complete the link', async () => {
    const b = await startBot();
    try {
      const carol = b.contact('Carol');
      const ticket = await b.cardTicket(carol);
      const mallory = await signedIn(server, 'o_mallory_chat', 'Mallory');
      // The code goes to Carol's chat, not to whoever opened the card.
      const codeText = b.nextText(carol, /^\d{6} /);
      await mallory.linkChat({ ticket });
      const code = codeIn(await codeText);
      const wrong = code === '000000' ? '111111' : '000000';
      await assert.rejects(mallory.confirmChatLink({ ticket, code: wrong }), { code: 'ERR_SERVER', error: 'invalid_verify_code' });
      // Carol, who has the code, cannot take over the card Mallory opened.
      const carolClient = await signedIn(server, 'o_carol_chat', 'Carol');
      await assert.rejects(carolClient.confirmChatLink({ ticket, code }), { code: 'ERR_SERVER', error: 'invalid_ticket' });
      assert.equal(await b.auth.getProfile(await b.bot.Contact.find({ id: carol.id })), null);
      mallory.close();
      carolClient.close();
    } finally {
      await b.stop();
    }
  });

  test('codes queued while the bot and the server were down are delivered once both are back', async () => {
    const b = await startBot();
    const dave = b.contact('Dave');
    const ticket = await b.cardTicket(dave);
    await b.stop();
    const client = await signedIn(server, 'o_dave_chat', 'Dave');
    await client.linkChat({ ticket });
    await server.kill();
    await server.start();
    // The same bot comes back: its mock contact Dave still hears it.
    const codeText = b.nextText(dave, /^\d{6} /);
    await b.bot.start();
    b.puppet.mocker.login(b.self);
    try {
      const code = codeIn(await codeText);
      await client.confirmChatLink({ ticket, code });
      assert.equal(b.texts(dave).filter((text) => /^\d{6} /.test(text)).length, 1, 'said once');
      client.close();
    } finally {
      await b.stop();
    }
  });

  test('a bot sees only its own contacts, and a revoked key is refused', async () => {
    const otherKey = await botsCommand(database, 'add', '--name', 'other');
    const b = await startBot();
    const other = await startBot(otherKey, 'Other');
    try {
      const erin = b.contact('Erin');
      const client = await linkInMiniProgram(server, b, erin, 'o_erin_chat', 'Erin');
      const asSeenByHelper = await b.bot.Contact.find({ id: erin.id });
      assert.equal((await waitFor(() => b.auth.getProfile(asSeenByHelper), 'the profile')).name, 'Erin');
      // The same contact id at another bot is nobody.
      assert.equal(await other.auth.getProfile({ id: erin.id }), null);

      await botsCommand(database, 'revoke', 'other');
      const refused = other.auth.getAuthMiniProgram({ id: 'wxid_anyone' });
      await assert.rejects(refused, (error) => error instanceof MiniAuthWechatyError && error.status === 401 && error.error === 'unauthorized');
      client.close();
    } finally {
      await other.stop();
      await b.stop();
    }
  });

  test('chat sign-in on the web: a linked contact signs in as its user, a new one registers and is linked', async () => {
    const b = await startBot();
    try {
      // Gina links her contact in the Mini Program first.
      const gina = b.contact('Gina');
      const phone = await linkInMiniProgram(server, b, gina, 'o_gina_chat', 'Gina');
      const sub = (await phone.getClaims()).sub;

      // On the web: the page shows a challenge, Gina sends it to the bot.
      const web = new AuthClient({ baseUrl: server.url, storage: memoryStorage() });
      const chat = await web.loginWithChat({ bot: 'helper' });
      assert.match(chat.challenge, /^\d{6}$/);
      assert.equal(chat.expires_in, 120);
      const cards = b.puppet.cards.length;
      const notice = b.nextText(gina, /^You are signing in on the web page that showed/);
      gina.say(chat.challenge).to(b.self);
      const result = await chat.outcome;
      assert.equal(result.status, 'SUCCESS');
      assert.equal(result.claims.sub, sub);
      assert.deepEqual(result.claims.amr, ['chat']);
      await notice;
      assert.equal(b.puppet.cards.length, cards, 'the challenge was not answered as a message');

      // Hank has never linked: the page registers him, which links his contact.
      const hank = b.contact('Hank');
      const newcomer = new AuthClient({ baseUrl: server.url, storage: memoryStorage() });
      const pending = await newcomer.loginWithChat();
      hank.say(` ${pending.challenge} `).to(b.self);
      const bind = await pending.outcome;
      assert.equal(bind.status, 'USER_REGISTER');
      assert.ok(!bind.flows.includes('wechat_phone') && bind.flows.includes('register'), `flows: ${bind.flows}`);
      const registered = await newcomer.register({ name: 'Hank' });
      assert.equal(registered.status, 'SUCCESS');
      const contact = await b.bot.Contact.find({ id: hank.id });
      const profile = await waitFor(() => b.auth.getProfile(contact), 'the profile');
      assert.equal(profile.sub, registered.claims.sub);
      assert.equal(profile.name, 'Hank');
      for (const client of [phone, web, newcomer]) client.close();
    } finally {
      await b.stop();
    }
  });

  test('the options are checked', () => {
    const good = { baseUrl: 'https://id.example.com', botKey: 'mab_x', miniProgram: CARD };
    for (const bad of [{ ...good, baseUrl: 'id.example.com' }, { ...good, botKey: '' }, { ...good, miniProgram: { ...CARD, pagePath: '' } }]) {
      assert.throws(() => new MiniAuthWechaty(bad), { code: 'ERR_INVALID_ARGUMENT' });
    }
    const auth = new MiniAuthWechaty(good);
    return assert.rejects(auth.getAuthMiniProgram({ id: 'x' }), { code: 'ERR_NOT_INSTALLED' });
  });
});
