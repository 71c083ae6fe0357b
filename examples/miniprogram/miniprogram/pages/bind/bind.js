// Bind the WeChat user who just logged in (SOCIAL_BIND: to an existing
// account; USER_REGISTER: to an existing account or a new one). The login
// page passes the answer's status and flows in the query; the AuthClient
// keeps the state_token, so every call here needs only what the user gives.

const { messageOf } = require('../../utils/errors');

const PROFILE = '/pages/profile/profile';

// The code channels, in the order offered (the flow `<channel>_code` offers
// each), and what its field asks for. `wechat` sends the code in chat to
// the contact linked to the account named.
const CHANNELS = [
  { channel: 'sms', label: 'SMS', type: 'number', placeholder: 'Phone number', missing: 'Enter your phone number.' },
  { channel: 'email', label: 'Email', type: 'text', placeholder: 'Email address', missing: 'Enter your email address.' },
  {
    channel: 'wechat',
    label: 'WeChat chat',
    type: 'text',
    placeholder: 'Username, phone or email',
    missing: 'Enter your username, phone number or email address.',
  },
];

Page({
  data: {
    status: '',
    flows: [],
    // What to show, from the flows (WXML cannot call flows.includes).
    offers: { wechatPhone: false, password: false, register: false },
    // A one-time code: the channels offered, the one chosen, what it asks for.
    channels: [],
    channel: '',
    prompt: null,
    to: '',
    code: '',
    codeSent: false,
    resendIn: 0,
    // Username and password (SOCIAL_BIND).
    username: '',
    password: '',
    busy: false,
    error: '',
  },

  onLoad(options) {
    // Decoded here: base libraries differ on whether onLoad's options are.
    const flows = decodeURIComponent(String(options.flows || '')).split(',').filter(Boolean);
    const offers = {
      wechatPhone: flows.includes('wechat_phone'),
      password: flows.includes('password'),
      register: flows.includes('register'),
    };
    const channels = CHANNELS.filter(({ channel }) => flows.includes(`${channel}_code`));
    this.setData({ status: options.status || '', flows, offers, channels });
    if (channels.length > 0) this.choose(channels[0].channel);
  },

  onUnload() {
    this.stopCountdown();
  },

  /** bindinput of every field: `data-field` names it. */
  onInput(e) {
    this.setData({ [e.currentTarget.dataset.field]: e.detail.value });
  },

  /** Switches between the code channels (`data-channel`). */
  onChannel(e) {
    this.choose(e.currentTarget.dataset.channel);
    this.stopCountdown();
  },

  async onSendCode() {
    const { channel, to, resendIn, prompt } = this.data;
    if (this.data.busy || resendIn > 0) return;
    if (!to) {
      this.setData({ error: prompt.missing });
      return;
    }
    await this.run(async (auth) => {
      const answer = await auth.sendVerifyCode({ channel, to });
      this.setData({ codeSent: true });
      this.startCountdown(answer.resend_after || 60);
      wx.showToast({ title: 'Code sent', icon: 'success' });
    });
  },

  async onBindCode() {
    const { channel, to, code } = this.data;
    if (!to || !code) {
      this.setData({ error: 'Enter the code you received.' });
      return;
    }
    await this.run((auth) => auth.bindWithVerifyCode({ channel, to, code }).then((result) => this.finish(result)));
  },

  /** bindgetphonenumber of <button open-type="getPhoneNumber">. */
  async onGetPhoneNumber(e) {
    const code = e && e.detail && e.detail.code;
    if (!code) {
      // The user said no (errMsg "getPhoneNumber:fail user deny"), or the
      // base library is older than 2.21.2 (no code).
      this.setData({ error: 'The phone number was not shared.' });
      return;
    }
    await this.run((auth) => auth.bindWithWechatPhone({ code }).then((result) => this.finish(result)));
  },

  async onBindPassword() {
    const { username, password } = this.data;
    if (!username || !password) {
      this.setData({ error: 'Enter your username and password.' });
      return;
    }
    await this.run((auth) => auth.bindWithPassword({ username, password }).then((result) => this.finish(result)));
  },

  async onRegister() {
    await this.run((auth) => auth.register().then((result) => this.finish(result)));
  },

  // ---- helpers ----

  choose(channel) {
    const prompt = CHANNELS.find((offered) => offered.channel === channel);
    this.setData({ channel, prompt, to: '', code: '', codeSent: false });
  },

  /** One call at a time, with the error shown on the page. */
  async run(work) {
    if (this.data.busy) return;
    this.setData({ busy: true, error: '' });
    try {
      const app = getApp();
      await app.authReady;
      await work(app.auth);
    } catch (error) {
      this.setData({ error: messageOf(error) });
    } finally {
      this.setData({ busy: false });
    }
  },

  finish(result) {
    if (result.status !== 'SUCCESS') {
      this.setData({ error: `Unexpected answer: ${result.status}` });
      return;
    }
    this.stopCountdown();
    // Signed in: start afresh on the profile (no way back to login or bind).
    wx.reLaunch({ url: PROFILE });
  },

  startCountdown(seconds) {
    this.stopCountdown();
    this.setData({ resendIn: seconds });
    this.countdown = setInterval(() => {
      const left = this.data.resendIn - 1;
      this.setData({ resendIn: Math.max(0, left) });
      if (left <= 0) this.stopCountdown();
    }, 1000);
  },

  stopCountdown() {
    if (this.countdown) clearInterval(this.countdown);
    this.countdown = null;
  },
});
