// WeChat Mini Program entry (miniprogram_dist/). Mini Programs have no
// WebAssembly, fetch, TextEncoder or TextDecoder globals: the module is
// loaded from the code package with WXWebAssembly, HTTP goes through
// wx.request, and UTF-8 comes from ../core/utf8.js (injected at build time
// in place of the TextEncoder/TextDecoder globals the glue names).

import * as glue from 'miniauth-wasm-glue';
import { createMiniAuth } from '../core/api.js';
import { createAuthClientClass } from '../core/auth-client.js';
import { MiniAuthError } from '../core/errors.js';
import { MAX_RESPONSE_BYTES, responseTooLarge } from '../core/fetch.js';
import { createLoader } from '../core/loader.js';
import { memoryStorage } from '../core/storage.js';
import { TextDecoder } from '../core/utf8.js';

/**
 * Where WeChat's npm build ("Build npm" in DevTools, miniprogram-ci's
 * packNpm) puts this package's files when the project's npm is at the
 * package root under its own name. A Mini Program cannot know where its own
 * file is: elsewhere (a subpackage's npm, another miniprogramNpmDistDir, an
 * npm alias) the app names the path with init({ wasmPath }).
 */
const WASM_PATH = '/miniprogram_npm/miniauth/miniauth.wasm.br';

const loader = createLoader({
  defaultPath: WASM_PATH,
  hint: 'where the package is not in /miniprogram_npm/miniauth/, call init({ wasmPath }) right after require(\'miniauth\')',
  instantiate: async (path) => {
    // Referenced only through typeof: below base library 2.13 the global does not exist.
    if (typeof WXWebAssembly === 'undefined') {
      throw new MiniAuthError('ERR_NOT_SUPPORTED', 'this WeChat has no WXWebAssembly: miniauth needs base library 2.13.0 or later');
    }
    const { instance, module } = await WXWebAssembly.instantiate(path, glue.__wbg_get_imports());
    glue.__wbg_finalize_init(instance, module);
    return glue;
  },
});
const { loaded } = loader;

function fetchText(url, { timeout, headers }) {
  return new Promise((resolve, reject) => {
    wx.request({
      url,
      method: 'GET',
      header: headers,
      timeout,
      dataType: 'text',
      // Bytes, so that the size limit of fetch.js applies here too: wx.request
      // cannot stop reading early, but an oversized answer is refused alike.
      responseType: 'arraybuffer',
      success: (res) => {
        const body = new Uint8Array(res.data);
        if (body.length > MAX_RESPONSE_BYTES) {
          reject(responseTooLarge(url));
          return;
        }
        resolve({ status: res.statusCode, text: new TextDecoder().decode(body) });
      },
      fail: (res) => {
        const timeout = /timeout/i.test(res.errMsg || '');
        reject(new MiniAuthError('ERR_NETWORK', `request to ${url} failed: ${res.errMsg}`, { timeout }));
      },
    });
  });
}

export const { ready, backend, createVerifier, createRemoteJwks, jwtVerify, decodeJwt, decodeProtectedHeader } = createMiniAuth({
  loaded,
  backend: 'wasm',
  fetchText,
});
export { MiniAuthError, memoryStorage };

/**
 * Names where the module is (a path in the code package, ending in .wasm or
 * .wasm.br), right after require('miniauth'), before it loads; answers `ready`.
 * @param {{ wasmPath?: string }} [options]
 */
export function init(options = {}) {
  if (typeof options.wasmPath === 'string' && !/\.wasm(\.br)?$/.test(options.wasmPath)) {
    throw new MiniAuthError('ERR_INVALID_ARGUMENT', '"wasmPath" must end in .wasm or .wasm.br (WXWebAssembly loads no other)');
  }
  loader.init(options);
  return ready;
}

/** Node only: there is no file system here. */
export function fileStorage() {
  throw new MiniAuthError('ERR_INVALID_ARGUMENT', 'fileStorage() is only available in Node; Mini Programs use wx storage by default');
}

/** wx's synchronous storage as a storage adapter; a missing key reads as '' there. */
function wxStorage() {
  return {
    get: (key) => {
      const value = wx.getStorageSync(key);
      return typeof value === 'string' && value !== '' ? value : null;
    },
    set: (key, value) => wx.setStorageSync(key, value),
    remove: (key) => wx.removeStorageSync(key),
  };
}

/** The code of wx.login(). */
function wechatLogin() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => resolve(res.code),
      fail: (res) => reject(new MiniAuthError('ERR_NETWORK', `wx.login failed: ${(res && res.errMsg) || 'unknown error'}`)),
    });
  });
}

/** Wakes the session when the Mini Program comes back to the foreground. */
function onForeground(wake) {
  const listener = () => wake();
  wx.onAppShow(listener);
  return () => {
    if (typeof wx.offAppShow === 'function') wx.offAppShow(listener);
  };
}

/**
 * Numbers in [0, 1) from wx.getRandomValues, which answers asynchronously:
 * bytes are drawn ahead into a pool, refilled in the background. Only retry
 * jitter uses them, so while the very first batch is on its way Math.random
 * stands in.
 */
function wxRandom() {
  const pool = [];
  let refilling = false;
  const refill = () => {
    if (refilling || typeof wx.getRandomValues !== 'function') return;
    refilling = true;
    wx.getRandomValues({
      length: 64,
      success: ({ randomValues }) => pool.push(...new Uint8Array(randomValues)),
      complete: () => {
        refilling = false;
      },
    });
  };
  refill();
  return () => {
    if (pool.length < 16) refill();
    return pool.length > 0 ? pool.pop() / 256 : Math.random();
  };
}

/**
 * The client half. Defaults in Mini Programs: wx storage, wx.request,
 * wx.login when loginWithWechat() is called without a code, and a wake-up
 * on wx.onAppShow.
 */
export const AuthClient = createAuthClientClass({
  loaded,
  decodeJwt,
  random: wxRandom(),
  defaultStorage: wxStorage,
  defaultRequest: (options) => wx.request(options),
  onForeground,
  wechatLogin,
});
