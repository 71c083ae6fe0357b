// The page a chat bot's login card opens (miniauth-wechaty): its query
// carries a one-time ticket. Signed in (logging in with WeChat first if
// needed), the page opens the ticket; the chat contact the card was sent to
// gets a code from the bot, and entering it here links that contact to this
// account. A forwarded card is of no use: the code goes to the chat it was
// sent to.

const config = require('../../config');
const { messageOf } = require('../../utils/errors');
const { simulatorCode } = require('../../utils/simulator');

Page({
  data: {
    ticket: '',
    // 'signing-in', 'code-sent', 'linked' or 'failed'.
    step: 'signing-in',
    code: '',
    linked: null,
    busy: false,
    error: '',
  },

  async onLoad(query) {
    // WeChat passes the query as it is in the path: the ticket is URL-encoded there.
    const ticket = decodeURIComponent((query && query.ticket) || '');
    this.setData({ ticket });
    if (!ticket) {
      this.setData({ step: 'failed', error: 'This page opens from the bot\'s card in a chat.' });
      return;
    }
    this.setData({ busy: true });
    try {
      const app = getApp();
      await app.authReady;
      if ((await app.auth.getClaims()) === null && !(await this.logIn(app.auth))) return;
      await app.auth.linkChat({ ticket });
      this.setData({ step: 'code-sent' });
    } catch (error) {
      this.setData({ step: 'failed', error: messageOf(error) });
    } finally {
      this.setData({ busy: false });
    }
  },

  /** Logs in with WeChat; a WeChat user bound to no account must bind first. */
  async logIn(auth) {
    // With real WeChat the client calls wx.login() itself.
    const options = config.simulatorOpenid
      ? { code: await simulatorCode('/sim/wx/login', { openid: config.simulatorOpenid }) }
      : {};
    const { status } = await auth.loginWithWechat(options);
    if (status === 'SUCCESS') return true;
    this.setData({ step: 'failed', error: 'Sign in to your account first, then open the card again.' });
    return false;
  },

  onInput(event) {
    this.setData({ code: event.detail.value });
  },

  async onConfirm() {
    if (this.data.busy) return;
    if (!/^\d{6}$/.test(this.data.code)) {
      this.setData({ error: 'Enter the six digits the bot sent you.' });
      return;
    }
    this.setData({ busy: true, error: '' });
    try {
      const linked = await getApp().auth.confirmChatLink({ ticket: this.data.ticket, code: this.data.code });
      this.setData({ step: 'linked', linked });
      wx.showToast({ title: 'Linked' });
    } catch (error) {
      this.setData({ error: messageOf(error) });
    } finally {
      this.setData({ busy: false });
    }
  },
});
