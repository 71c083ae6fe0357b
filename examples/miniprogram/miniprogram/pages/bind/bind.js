// Bind the WeChat user who just logged in (SOCIAL_BIND: to an existing
// account; USER_REGISTER: to an existing account or a new one). The login
// page passes the answer's status and flows in the query; the AuthClient
// keeps the state_token, so every call here needs only what the user gives.

const { messageOf } = require('../../utils/errors');

const PROFILE = '/pages/profile/profile';

Page({
  data: {
    status: '',
    flows: [],
    // What to show, from the flows (WXML cannot call flows.includes).
    offers: { wechatPhone: false, smsCode: false, emailCode: false, password: false, register: false },
    // Phone or email plus a one-time code.
    channel: 'sms',
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
      smsCode: flows.includes('sms_code'),
      emailCode: flows.includes('email_code'),
      password: flows.includes('password'),
      register: flows.includes('register'),
    };
    this.setData({
      status: options.status || '',
      flows,
      offers,
      channel: offers.smsCode || !offers.emailCode ? 'sms' : 'email',
    });
  },

  onUnload() {
    this.stopCountdown();
  },

  /** bindinput of every field: `data-field` names it. */
  onInput(e) {
    this.setData({ [e.currentTarget.dataset.field]: e.detail.value });
  },

  /** Switches between SMS and email codes (`data-channel`). */
  onChannel(e) {
    this.setData({ channel: e.currentTarget.dataset.channel, to: '', code: '', codeSent: false });
    this.stopCountdown();
  },

  async onSendCode() {
    const { channel, to, resendIn } = this.data;
    if (this.data.busy || resendIn > 0) return;
    if (!to) {
      this.setData({ error: channel === 'sms' ? 'Enter your phone number.' : 'Enter your email address.' });
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
