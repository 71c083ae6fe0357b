// Log in with WeChat. A WeChat user already bound to an account goes
// straight to the profile; a new one goes to the bind page with the ways of
// binding the server offers.

const config = require('../../config');
const { messageOf } = require('../../utils/errors');
const { simulatorCode } = require('../../utils/simulator');

Page({
  data: {
    busy: false,
    error: '',
  },

  async onLoad() {
    // A session restored from storage: no need to log in again.
    const app = getApp();
    try {
      await app.authReady;
      if ((await app.auth.getClaims()) !== null) wx.redirectTo({ url: '/pages/profile/profile' });
    } catch (error) {
      this.setData({ error: messageOf(error) });
    }
  },

  async onLogin() {
    if (this.data.busy) return;
    this.setData({ busy: true, error: '' });
    try {
      const app = getApp();
      await app.authReady;
      // With real WeChat the client calls wx.login() itself.
      const options = config.simulatorOpenid
        ? { code: await simulatorCode('/sim/wx/login', { openid: config.simulatorOpenid }) }
        : {};
      const result = await app.auth.loginWithWechat(options);
      if (result.status === 'SUCCESS') {
        wx.redirectTo({ url: '/pages/profile/profile' });
      } else {
        // SOCIAL_BIND or USER_REGISTER: the client keeps the state_token;
        // the bind page needs only what to offer. (Flow names are [a-z_],
        // safe in a query string as they are.)
        const query = `status=${result.status}&flows=${(result.flows || []).join(',')}`;
        wx.navigateTo({ url: `/pages/bind/bind?${query}` });
      }
    } catch (error) {
      this.setData({ error: messageOf(error) });
    } finally {
      this.setData({ busy: false });
    }
  },
});
