// The whole chat identity story, each part where it runs: the bot on
// Wechaty's mock puppet with miniauth-wechaty, the example Mini Program
// (examples/miniprogram/) in the strict simulator, a web page's sign-in
// through the built package in Node, and the real reference server.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { codeIn, startBot, waitFor } from './support/mock-bot.mjs';
import { PKG_DIR } from '../../../tests/js/support/paths.mjs';
import { serverWithBot } from '../../../tests/js/support/miniauth-server.mjs';
import { ExampleApp, LOGIN, PROFILE, input, openPage } from '../../../tests/js/support/miniprogram-example.mjs';

const { AuthClient, memoryStorage } = createRequire(import.meta.url)(join(PKG_DIR, 'node', 'index.cjs'));

const newPhone = () => `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
const CODE_TEXT = /^\d{6} /;

let running;
let server;
let botKey;
let example;

before(async () => {
  running = await serverWithBot('wechaty-mp');
  ({ server, botKey } = running);
  example = new ExampleApp(server, running.workDir);
});

after(async () => {
  example?.dispose();
  await running?.stop();
});

/** The example Mini Program for a new WeChat user, up to the bind page its login page leads to. */
async function atBindPage() {
  const app = await example.launch({ root: example.layOut() });
  const login = await openPage(app.sim, `/${LOGIN}`);
  await login.onLogin();
  assert.equal(login.data.error, '');
  const bind = await openPage(app.sim, app.navigations()[0].url);
  return { app, bind };
}

describe('the bot, the example Mini Program and the server together', { timeout: 60_000 }, () => {
  test('a contact gets the card, the example\'s link page opens it, the code comes in chat, and the bot knows who they are', async () => {
    const b = await startBot({ baseUrl: server.url, botKey });
    try {
      const lin = b.contact('Lin');
      const card = b.puppet.nextCard(lin.id);
      lin.say('hello').to(b.self);
      const { payload } = await card;

      // Lin uses the Mini Program already (a new WeChat user who registers).
      const { app, bind } = await atBindPage();
      await bind.onRegister();
      bind.onUnload();
      const { sub } = await app.sim.app.auth.getClaims();

      // Tapping the card opens its pagePath: the page opens the ticket, and the bot says the code to Lin.
      const codeText = b.nextText(lin, CODE_TEXT);
      const link = await openPage(app.sim, `/${payload.pagePath}`);
      assert.equal(link.data.error, '');
      assert.equal(link.data.step, 'code-sent');
      const text = await codeText;
      assert.match(text, /link this chat to your account/);
      link.onInput({ detail: { value: codeIn(text) } });
      await link.onConfirm();
      assert.equal(link.data.error, '');
      assert.equal(link.data.step, 'linked');
      assert.deepEqual(link.data.linked, { bot: 'helper', contact_id: lin.id, contact_name: 'Lin' });

      // The server's news of the link reaches the bot: Lin is known from now on.
      const contact = await b.bot.Contact.find({ id: lin.id });
      const profile = await waitFor(() => b.auth.getProfile(contact), 'the profile');
      assert.equal(profile.sub, sub);
      const greeting = b.nextText(lin, /^Hello again/);
      lin.say('hi').to(b.self);
      assert.match(await greeting, /^Hello again, /);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.stop();
    }
  });

  test('signed up on the web by chat, then in the Mini Program for the first time: the bind code comes in chat', async () => {
    const b = await startBot({ baseUrl: server.url, botKey });
    const web = new AuthClient({ baseUrl: server.url, storage: memoryStorage() });
    try {
      // On the web, Mei sends the bot the page's challenge, and registers with her phone number.
      const mei = b.contact('Mei');
      const phone = newPhone();
      const chat = await web.loginWithChat({ bot: 'helper' });
      mei.say(chat.challenge).to(b.self);
      const bound = await chat.outcome;
      assert.equal(bound.status, 'USER_REGISTER');
      await web.sendVerifyCode({ channel: 'sms', to: phone });
      const signedUp = await web.bindWithVerifyCode({ channel: 'sms', to: phone, code: await server.lastCodeSentTo(phone) });
      assert.equal(signedUp.status, 'SUCCESS');
      await waitFor(() => b.auth.getProfile({ id: mei.id }), 'her contact linked');

      // Later, the Mini Program: a WeChat user it has not seen. She picks the code in chat and names her account.
      const { app, bind } = await atBindPage();
      assert.deepEqual(bind.data.channels.map((offered) => offered.channel), ['sms', 'email', 'wechat']);
      bind.onChannel({ currentTarget: { dataset: { channel: 'wechat' } } });
      await bind.onSendCode();
      assert.equal(bind.data.error, 'Enter your username, phone number or email address.');
      bind.onInput(input('to', phone));
      const codeText = b.nextText(mei, CODE_TEXT);
      await bind.onSendCode();
      assert.equal(bind.data.error, '');
      assert.equal(bind.data.codeSent, true);
      const text = await codeText;
      assert.match(text, /sign in to your account/);
      bind.onInput(input('code', codeIn(text)));
      await bind.onBindCode();
      assert.equal(bind.data.error, '');
      assert.deepEqual(app.navigations()[1], { api: 'reLaunch', url: `/${PROFILE}` });
      bind.onUnload();
      const claims = await app.sim.app.auth.getClaims();
      assert.equal(claims.sub, signedUp.claims.sub);
      assert.deepEqual([...claims.amr], ['wechat', 'chat']);
      assert.equal(claims.phone_number, `+86${phone}`);
      assert.deepEqual(b.errors, []);
    } finally {
      web.close();
      await b.stop();
    }
  });
});
