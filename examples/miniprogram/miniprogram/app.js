// One AuthClient for the whole Mini Program, kept on the App instance:
// pages reach it as getApp().auth and wait for getApp().authReady before
// their first call. The client keeps its session in wx storage, refreshes
// the id_token before it expires and wakes up on wx.onAppShow.

const { AuthClient, ready } = require('miniauth');
const config = require('./config');

App({
  /** The AuthClient (created in onLaunch). */
  auth: null,
  /** Settles once the wasm is loaded and the stored session is restored. */
  authReady: null,

  onLaunch() {
    this.auth = new AuthClient({ baseUrl: config.baseUrl });
    // `ready` (the wasm module) for the synchronous exports such as
    // decodeJwt; `auth.ready` for the session restored from storage.
    this.authReady = ready.then(() => this.auth.ready);
    this.authReady.catch((error) => console.error('miniauth did not start:', error));
  },
});
