// Only for a server in WeChat-simulator mode (config.simulatorOpenid): the
// codes WeChat would give, minted by the server's /sim/wx/* endpoints.

const config = require('../config');

function simulatorCode(path, body) {
  return new Promise((resolve, reject) => {
    wx.request({
      url: `${config.baseUrl}${path}`,
      method: 'POST',
      data: body,
      success: (res) => {
        if (res.statusCode === 200 && res.data && typeof res.data.code === 'string') resolve(res.data.code);
        else reject(new Error(`${path} answered HTTP ${res.statusCode}`));
      },
      fail: (res) => reject(new Error(`${path} failed: ${res.errMsg}`)),
    });
  });
}

module.exports = { simulatorCode };
