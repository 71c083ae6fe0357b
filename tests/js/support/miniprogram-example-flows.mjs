// The flows of examples/miniprogram in the strict simulator against the real
// reference server (WeChat-simulator mode, loopback), driven through its own
// page code (tests/js/support/miniprogram-example.mjs), for any way of laying
// out its code package: tests/js/miniprogram-example.test.mjs (npm copied as
// "Build npm") and tests/js/miniprogram-ci.test.mjs (built by miniprogram-ci).

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SIMULATOR_AUDIENCE, serverWithBot } from './miniauth-server.mjs';
import { ExampleApp, LINK, LOGIN, PROFILE, input, openPage } from './miniprogram-example.mjs';
import { PKG_DIR } from './paths.mjs';

const require = createRequire(import.meta.url);
const miniauthNode = require(join(PKG_DIR, 'node', 'index.cjs'));

const STORAGE_KEY = 'miniauth.session';

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const newPhone = () => `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

function storedRecord(storage) {
  const text = storage.get(STORAGE_KEY);
  return text === undefined ? null : JSON.parse(JSON.parse(text));
}

/**
 * The example's flows, as `title`, against a reference server of their own,
 * the code package laid out with `layout()`'s options to ExampleApp.layOut
 * (none: pkg/miniprogram_dist copied as "Build npm"; { miniprogramNpm } or
 * { codePackage }: as miniprogram-ci built it). `skip`: a reason not to run.
 */
export function describeExample(title, { layout = async () => ({}), skip = false, timeout = 40_000 } = {}) {
  describe(title, { skip, timeout }, () => {
    let running;
    let server;
    let botKey;
    let example;
    let root;
    let layOut;

    /** A call to the bot API, as miniauth-wechaty makes it. */
    async function asBot(method, path, body) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${botKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    }

    /** The code the bot was handed for `contactId`, acknowledged. */
    async function codeSentInChat(contactId) {
      const { body: due } = await asBot('GET', '/v1/bot/deliveries');
      const text = due.find((delivery) => delivery.kind === 'text' && delivery.to === contactId);
      assert.ok(text, `a text to ${contactId}: ${JSON.stringify(due)}`);
      await asBot('POST', `/v1/bot/deliveries/${text.id}/ack`);
      return /^(\d{6}) /.exec(text.text)[1];
    }

    async function simCode(path, body) {
      const { status, body: answer } = await server.post(path, body);
      assert.equal(status, 200, JSON.stringify(answer));
      return answer.code;
    }

    before(async () => {
      const options = await layout();
      running = await serverWithBot('example');
      ({ server, botKey } = running);
      example = new ExampleApp(server, running.workDir);
      layOut = (config) => example.layOut(config, options);
      root = layOut();
    });

    after(async () => {
      example?.dispose();
      await running?.stop();
    });

    test('log in → USER_REGISTER → bind with an SMS code → profile → restart → log out → log in again', async () => {
      const storage = new Map();
      const app = await example.launch({ root, storage });
      const { sim } = app;
      const phone = newPhone();

      // The login page: nobody is signed in, so it stays.
      const login = await openPage(sim, `/${LOGIN}`);
      assert.deepEqual(app.navigations(), []);
      assert.deepEqual(login.data, { busy: false, error: '' });
      await login.onLogin(); // wx.login inside the AuthClient
      assert.deepEqual(login.data, { busy: false, error: '' });
      const [toBind] = app.navigations();
      assert.equal(toBind.api, 'navigateTo');
      assert.match(toBind.url, /^\/pages\/bind\/bind\?status=USER_REGISTER&flows=[a-z_,]+$/);

      // The bind page offers what the server allows.
      const bind = await openPage(sim, toBind.url);
      assert.equal(bind.data.status, 'USER_REGISTER');
      assert.ok(bind.data.flows.includes('sms_code') && bind.data.flows.includes('wechat_phone') && bind.data.flows.includes('register'), `flows: ${bind.data.flows}`);
      assert.deepEqual(bind.data.offers, { wechatPhone: true, password: false, register: true });
      assert.deepEqual(bind.data.channels.map((offered) => offered.channel), ['sms', 'email', 'wechat']);
      assert.equal(bind.data.channel, 'sms');

      // Send code: nothing typed yet, then the phone number.
      await bind.onSendCode();
      assert.equal(bind.data.error, 'Enter your phone number.');
      assert.equal(bind.data.codeSent, false);
      bind.onInput(input('to', phone));
      await bind.onSendCode();
      assert.equal(bind.data.error, '');
      assert.equal(bind.data.codeSent, true);
      assert.equal(bind.data.resendIn, 60, 'the resend countdown starts from the answer\'s resend_after');
      assert.deepEqual(app.toasts(), ['Code sent']);
      await bind.onSendCode(); // the button is disabled; a tap does nothing
      const code = await server.lastCodeSentTo(phone);

      // A wrong code is shown and keeps the page; the right one signs in.
      bind.onInput(input('code', code.replace(/\d$/, (digit) => String((Number(digit) + 1) % 10))));
      await bind.onBindCode();
      assert.equal(bind.data.error, 'Wrong code.');
      assert.equal(bind.data.busy, false);
      assert.equal(app.navigations().length, 1);
      bind.onInput(input('code', code));
      await bind.onBindCode();
      assert.equal(bind.data.error, '');
      assert.deepEqual(app.navigations()[1], { api: 'reLaunch', url: `/${PROFILE}` });
      bind.onUnload(); // reLaunch unloads every page

      // The profile shows the claims.
      const profile = await openPage(sim, app.navigations()[1].url);
      assert.equal(profile.data.signedIn, true);
      assert.equal(profile.data.error, '');
      const { claims } = profile.data;
      assert.equal(claims.phone_number, `+86${phone}`);
      assert.equal(claims.aud, SIMULATOR_AUDIENCE);
      assert.equal(claims.iss, server.url);
      assert.deepEqual(profile.data.rows.find((row) => row.name === 'phone_number'), { name: 'phone_number', value: `+86${phone}` });
      assert.deepEqual(profile.data.rows.map((row) => row.name), Object.keys(claims));
      assert.notEqual(profile.data.expires, '');
      // What the page shows is the session's token, and it verifies against the server's JWKS.
      const token = await sim.app.auth.getIdToken();
      assert.equal(token, storedRecord(storage).id_token);
      const { claims: verified } = await miniauthNode.jwtVerify(token, miniauthNode.createRemoteJwks(`${server.url}/.well-known/jwks.json`), {
        issuer: server.url,
        audience: SIMULATOR_AUDIENCE,
      });
      assert.deepEqual(verified, claims);
      profile.onUnload();

      // An app restart over the same storage: the login page goes straight to the profile.
      const restarted = await example.launch({ root, storage, openid: app.openid });
      const login2 = await openPage(restarted.sim, `/${LOGIN}`);
      assert.deepEqual(restarted.navigations(), [{ api: 'redirectTo', url: `/${PROFILE}` }]);
      assert.equal(login2.data.error, '');
      const profile2 = await openPage(restarted.sim, `/${PROFILE}`);
      assert.equal(profile2.data.claims.sub, claims.sub);

      // Log out: signed out here and on the server, back to the login page.
      const { session_token: sessionToken } = storedRecord(storage);
      await profile2.onLogout();
      assert.deepEqual(restarted.navigations()[1], { api: 'reLaunch', url: `/${LOGIN}` });
      assert.equal(profile2.data.signedIn, false);
      assert.equal(profile2.data.claims, null);
      assert.deepEqual(profile2.data.rows, []);
      assert.equal(profile2.data.busy, false);
      assert.equal(await restarted.sim.app.auth.getClaims(), null);
      assert.equal(storage.has(STORAGE_KEY), false);
      const replay = await server.post('/v1/session/refresh', { session_token: sessionToken });
      assert.equal(replay.status, 401);
      profile2.onUnload();

      // The same WeChat user logs in again: bound now, so SUCCESS and straight to the profile.
      const login3 = await openPage(restarted.sim, `/${LOGIN}`);
      assert.equal(restarted.navigations().length, 2, 'signed out: the login page stays');
      await login3.onLogin();
      assert.deepEqual(restarted.navigations()[2], { api: 'redirectTo', url: `/${PROFILE}` });
      const profile3 = await openPage(restarted.sim, `/${PROFILE}`);
      assert.equal(profile3.data.claims.sub, claims.sub);
      await profile3.onLogout();
      profile3.onUnload();
    });

    test('bind with the WeChat phone number (<button open-type="getPhoneNumber">), login codes from the server\'s simulator', async () => {
      // config.simulatorOpenid: the login page mints the code at /sim/wx/login;
      // wx.login has no handler here, so using it would fail the login.
      const openid = `mp-${unique()}`;
      const app = await example.launch({ root: layOut({ simulatorOpenid: openid }), openid: null });
      const { sim } = app;
      const phone = newPhone();

      const login = await openPage(sim, `/${LOGIN}`);
      await login.onLogin();
      assert.equal(login.data.error, '');
      const [toBind] = app.navigations();
      assert.match(toBind.url, /status=USER_REGISTER/);
      const bind = await openPage(sim, toBind.url);
      assert.equal(bind.data.offers.wechatPhone, true);

      // The user refuses to share the number.
      await bind.onGetPhoneNumber({ type: 'getphonenumber', detail: { errMsg: 'getPhoneNumber:fail user deny' } });
      assert.equal(bind.data.error, 'The phone number was not shared.');
      assert.equal(app.navigations().length, 1);

      // The code getPhoneNumber gives for this number.
      const code = await simCode('/sim/wx/phone', { phone });
      await bind.onGetPhoneNumber({ type: 'getphonenumber', detail: { errMsg: 'getPhoneNumber:ok', code } });
      assert.equal(bind.data.error, '');
      assert.equal(bind.data.busy, false);
      assert.deepEqual(app.navigations()[1], { api: 'reLaunch', url: `/${PROFILE}` });
      bind.onUnload();

      const profile = await openPage(sim, `/${PROFILE}`);
      assert.equal(profile.data.signedIn, true);
      assert.equal(profile.data.claims.phone_number, `+86${phone}`);

      // A refresh updates what the profile shows (onAuthStateChange).
      const before = profile.data.claims;
      profile.setData({ claims: null, rows: [] });
      await sim.app.auth.refresh();
      assert.equal(profile.data.claims.sub, before.sub);
      assert.equal(profile.data.rows.length, Object.keys(before).length);
      assert.equal(profile.data.signedIn, true);

      await profile.onLogout();
      assert.deepEqual(app.navigations()[2], { api: 'reLaunch', url: `/${LOGIN}` });
      assert.equal(profile.data.signedIn, false);
      profile.onUnload();
    });

    test('register a new account without a phone number', async () => {
      const app = await example.launch({ root });
      const login = await openPage(app.sim, `/${LOGIN}`);
      await login.onLogin();
      const bind = await openPage(app.sim, app.navigations()[0].url);
      assert.equal(bind.data.offers.register, true);
      await bind.onRegister();
      assert.equal(bind.data.error, '');
      assert.deepEqual(app.navigations()[1], { api: 'reLaunch', url: `/${PROFILE}` });
      bind.onUnload();
      const profile = await openPage(app.sim, `/${PROFILE}`);
      assert.equal(profile.data.signedIn, true);
      assert.equal(typeof profile.data.claims.sub, 'string');
      assert.equal(profile.data.claims.phone_number, undefined);
      await profile.onLogout();
      profile.onUnload();
    });

    /** The example launched for a new WeChat user, who registers through its login and bind pages. */
    async function registered() {
      const app = await example.launch({ root });
      const login = await openPage(app.sim, `/${LOGIN}`);
      await login.onLogin();
      const bind = await openPage(app.sim, app.navigations()[0].url);
      await bind.onRegister();
      bind.onUnload();
      return app;
    }

    test('the link page a bot\'s card opens: signs in, the code arrives in chat, the contact is linked', async () => {
      const contactId = `wxid_${unique()}`;
      const { body: card } = await asBot('POST', '/v1/bot/link-tickets', { contact: { id: contactId, name: 'Lin' } });
      const pagePath = `/${LINK}?ticket=${encodeURIComponent(card.ticket)}`;

      // A WeChat user with an account, signed out on this phone: the page logs in itself.
      const app = await registered();
      await app.sim.app.auth.logout();
      const link = await openPage(app.sim, pagePath);
      assert.equal(link.data.error, '');
      assert.equal(link.data.step, 'code-sent');
      const code = await codeSentInChat(contactId);

      await link.onConfirm();
      assert.equal(link.data.error, 'Enter the six digits the bot sent you.');
      link.onInput({ detail: { value: code.replace(/\d$/, (digit) => String((Number(digit) + 1) % 10)) } });
      await link.onConfirm();
      assert.equal(link.data.error, 'Wrong code.');
      link.onInput({ detail: { value: code } });
      await link.onConfirm();
      assert.equal(link.data.error, '');
      assert.equal(link.data.step, 'linked');
      assert.deepEqual(link.data.linked, { bot: 'helper', contact_id: contactId, contact_name: 'Lin' });
      assert.deepEqual(app.toasts(), ['Linked']);
      const { status, body: profile } = await asBot('GET', `/v1/bot/contacts/${contactId}`);
      assert.equal(status, 200);
      assert.equal(profile.sub, (await app.sim.app.auth.getClaims()).sub);

      // The card again, forwarded to someone else: spent.
      const other = await registered();
      const forwarded = await openPage(other.sim, pagePath);
      assert.equal(forwarded.data.step, 'failed');
      assert.equal(forwarded.data.error, 'This card has expired or was opened already; ask the bot for a new one.');
      // Opened without a ticket.
      const bare = await openPage(other.sim, `/${LINK}`);
      assert.equal(bare.data.step, 'failed');
    });
  });
}
