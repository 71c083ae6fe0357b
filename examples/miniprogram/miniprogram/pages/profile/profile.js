// The signed-in user: the id_token's claims (decoded, not verified: a
// backend verifies the token itself), kept current as the client refreshes,
// and a logout button.

const { messageOf } = require('../../utils/errors');

const LOGIN = '/pages/login/login';

Page({
  data: {
    signedIn: false,
    claims: null,
    // The claims as rows for the list, and the expiry in words.
    rows: [],
    expires: '',
    busy: false,
    error: '',
  },

  async onLoad() {
    const app = getApp();
    try {
      await app.authReady;
    } catch (error) {
      this.setData({ error: messageOf(error) });
      return;
    }
    this.unsubscribe = app.auth.onAuthStateChange((event, details) => {
      if (event === 'SIGNED_OUT') this.show(null);
      else if (details.claims) this.show(details.claims);
    });
    const claims = await app.auth.getClaims();
    this.show(claims);
    if (claims === null) wx.reLaunch({ url: LOGIN });
  },

  onUnload() {
    if (this.unsubscribe) this.unsubscribe();
    this.unsubscribe = null;
  },

  async onLogout() {
    if (this.data.busy) return;
    this.setData({ busy: true, error: '' });
    try {
      await getApp().auth.logout();
      this.show(null);
      wx.reLaunch({ url: LOGIN });
    } catch (error) {
      this.setData({ error: messageOf(error) });
    } finally {
      this.setData({ busy: false });
    }
  },

  show(claims) {
    this.setData({
      signedIn: claims !== null,
      claims,
      rows: claims === null ? [] : Object.keys(claims).map((name) => ({ name, value: String(claims[name]) })),
      expires: claims === null || typeof claims.exp !== 'number' ? '' : new Date(claims.exp * 1000).toLocaleString(),
    });
  },
});
