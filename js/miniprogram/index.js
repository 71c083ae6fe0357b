// Mini Program entry (miniprogram_dist/), for WeChat and for Douyin, whose
// Mini Programs offer the same APIs under other names (tt.*,
// TTWebAssembly). Mini Programs have no WebAssembly, fetch, TextEncoder or
// TextDecoder globals: the module is loaded from the code package with the
// host's WebAssembly, HTTP goes through its request(), and UTF-8 comes from
// ../core/utf8.js (injected at build time in place of the
// TextEncoder/TextDecoder globals the glue names).

import * as glue from 'miniauth-wasm-glue';
import { createMiniAuth } from '../core/api.js';
import { createAuthClientClass } from '../core/auth-client.js';
import { MiniAuthError } from '../core/errors.js';
import { MAX_RESPONSE_BYTES, responseTooLarge } from '../core/fetch.js';
import { createLoader } from '../core/loader.js';
import { memoryStorage } from '../core/storage.js';
import { TextDecoder } from '../core/utf8.js';

/**
 * Where the host's npm build (WeChat's "Build npm" or miniprogram-ci's
 * packNpm, Douyin's "npm 构建") puts this package's files when the
 * project's npm is at the package root under its own name. A Mini Program
 * cannot know where its own file is: elsewhere (a subpackage's npm, another
 * miniprogramNpmDistDir, an npm alias) the app names the path with
 * init({ wasmPath }).
 */
const WASM_PATH = '/miniprogram_npm/miniauth/miniauth.wasm.br';

/**
 * The host: its APIs, its WebAssembly (a getter: asked for only when the
 * module loads, and absent on old base libraries), the base library that
 * loads a .wasm.br, and the sign-in its login() gives a code for. Each
 * global is named only through typeof, since the other host lacks it.
 */
/** @type {{ name: string, api: MiniProgramApi | undefined, apiName: string, webAssembly: () => MiniProgramWebAssembly | undefined,
 *   webAssemblyName: string, baseLibrary: string, login: 'wechat' | 'douyin' }} */
const host = typeof wx === 'object' && wx !== null
  ? { name: 'WeChat', api: wx, apiName: 'wx', webAssembly: () => (typeof WXWebAssembly === 'undefined' ? undefined : WXWebAssembly),
      webAssemblyName: 'WXWebAssembly', baseLibrary: '2.14.0', login: 'wechat' }
  : { name: 'Douyin', api: typeof tt === 'object' && tt !== null ? tt : undefined, apiName: 'tt',
      webAssembly: () => (typeof TTWebAssembly === 'undefined' ? undefined : TTWebAssembly),
      webAssemblyName: 'TTWebAssembly', baseLibrary: '2.92.0.0', login: 'douyin' };

const loader = createLoader({
  defaultPath: WASM_PATH,
  hint: 'where the package is not in /miniprogram_npm/miniauth/, call init({ wasmPath }) right after require(\'miniauth\')',
  instantiate: async (path) => {
    const webAssembly = host.webAssembly();
    if (host.api === undefined || webAssembly === undefined) {
      throw new MiniAuthError('ERR_NOT_SUPPORTED',
        `this ${host.name} has no ${host.webAssemblyName}: miniauth needs base library ${host.baseLibrary} or later`);
    }
    const { instance, module } = await webAssembly.instantiate(path, glue.__wbg_get_imports());
    glue.__wbg_finalize_init(instance, module);
    return glue;
  },
});
const { loaded } = loader;

function fetchText(url, { timeout, headers }) {
  return new Promise((resolve, reject) => {
    host.api.request({
      url,
      method: 'GET',
      header: headers,
      timeout,
      dataType: 'text',
      // Bytes, so that the size limit of fetch.js applies here too: request()
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
    throw new MiniAuthError('ERR_INVALID_ARGUMENT', `"wasmPath" must end in .wasm or .wasm.br (${host.webAssemblyName} loads no other)`);
  }
  loader.init(options);
  return ready;
}

/** Node only: there is no file system here. */
export function fileStorage() {
  throw new MiniAuthError('ERR_INVALID_ARGUMENT', 'fileStorage() is only available in Node; Mini Programs use the host\'s storage by default');
}

/** The host's synchronous storage as a storage adapter; a missing key reads as '' there. */
function hostStorage() {
  return {
    get: (key) => {
      const value = host.api.getStorageSync(key);
      return typeof value === 'string' && value !== '' ? value : null;
    },
    set: (key, value) => host.api.setStorageSync(key, value),
    remove: (key) => host.api.removeStorageSync(key),
  };
}

/** The code of the host's login() (wx.login, tt.login). */
function hostLogin() {
  return new Promise((resolve, reject) => {
    host.api.login({
      success: (res) => resolve(res.code),
      fail: (res) => reject(new MiniAuthError('ERR_NETWORK', `${host.apiName}.login failed: ${(res && res.errMsg) || 'unknown error'}`)),
    });
  });
}

/** Wakes the session when the Mini Program comes back to the foreground. */
function onForeground(wake) {
  const listener = () => wake();
  host.api.onAppShow(listener);
  return () => {
    if (typeof host.api.offAppShow === 'function') host.api.offAppShow(listener);
  };
}

/**
 * Numbers in [0, 1) from the host's getRandomValues, which answers
 * asynchronously: bytes are drawn ahead into a pool, refilled in the
 * background. Only retry jitter uses them, so while the very first batch is
 * on its way (or where the host has none) Math.random stands in.
 */
function hostRandom() {
  const pool = [];
  let refilling = false;
  const refill = () => {
    if (refilling || typeof host.api?.getRandomValues !== 'function') return;
    refilling = true;
    host.api.getRandomValues({
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
 * The client half. Defaults in Mini Programs: the host's storage and
 * request(), its login() when loginWithWechat() (WeChat) or
 * loginWithDouyin() (Douyin) is called without a code, and a wake-up on its
 * onAppShow.
 */
export const AuthClient = createAuthClientClass({
  loaded,
  decodeJwt,
  random: hostRandom(),
  defaultStorage: hostStorage,
  defaultRequest: (options) => host.api.request(options),
  onForeground,
  hostLogin: { provider: host.login, code: hostLogin },
});
