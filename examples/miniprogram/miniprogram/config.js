// Settings of the example. Edit these before running it.
module.exports = {
  // The identity server (`miniauth serve`). Loopback works in WeChat DevTools
  // with "Does not verify valid domain names" ticked (project.config.json's
  // urlCheck: false); a phone needs an HTTPS domain on the allow-list.
  baseUrl: 'http://127.0.0.1:8787',

  // Only for a server in WeChat-simulator mode: the simulator knows only the
  // codes it minted itself, not the ones DevTools' wx.login gives. Set an
  // openid here and the login page asks the server's /sim/wx/login for that
  // user's code instead of calling wx.login. Leave it '' with real WeChat.
  simulatorOpenid: '',
};
