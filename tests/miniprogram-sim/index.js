'use strict';

// A strict simulator of the WeChat (or Douyin) Mini Program JS runtime (app service),
// for running a Mini Program code package under Node in tests.
// See README.md beside this file for what it models and what it leaves out.

const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const vm = require('node:vm');
const zlib = require('node:zlib');

const execFile = util.promisify(childProcess.execFile);
const posix = path.posix;

// The feature set iOS WeChat accepts: WebAssembly MVP. SIMD is left enabled
// because WeChat supports it from 8.0.25 on.
const WASM_VALIDATE_FLAGS = [
  '--disable-reference-types',
  '--disable-multi-value',
  '--disable-bulk-memory',
  '--disable-sign-extension',
  '--disable-saturating-float-to-int',
  '--disable-mutable-globals',
];

const WASM_EXPORT_SECTION = 7;
const WASM_EXPORT_KIND_GLOBAL = 3;

// Documented method values; the docs say they must be upper case.
const REQUEST_METHODS = new Set(['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT']);
const REQUEST_DEFAULT_TIMEOUT_MS = 60000;
const RANDOM_VALUES_MAX_LENGTH = 1048576;
const STORAGE_LIMIT_KB = 10240;

// Runs first in every new context. V8 installs WebAssembly, WeakRef and
// FinalizationRegistry in every context, but a Mini Program has no
// WebAssembly (only WXWebAssembly) and iOS JSCore in older base libraries
// lacks the other two. The context is created with code generation from
// strings disabled, because WeChat forbids eval and new Function, except
// new Function('return this'), which the replacement Function keeps.
// Returns the context's own intrinsics so values handed to sandbox code
// belong to its realm (instanceof Object / Error / Promise hold there).
const BOOTSTRAP = `(function () {
  delete globalThis.WebAssembly;
  delete globalThis.WeakRef;
  delete globalThis.FinalizationRegistry;
  var NativeFunction = Function;
  function SandboxFunction() {
    if (arguments.length === 1 && arguments[0] === 'return this') {
      return function anonymous() { return this; };
    }
    return NativeFunction.apply(this, arguments);
  }
  SandboxFunction.prototype = NativeFunction.prototype;
  Object.defineProperty(SandboxFunction, 'name', { value: 'Function' });
  globalThis.Function = SandboxFunction;
  return {
    Promise: Promise,
    Error: Error,
    TypeError: TypeError,
    JSON: JSON,
    ArrayBuffer: ArrayBuffer,
    Uint8Array: Uint8Array,
    Array: Array,
    newObject: function () { return {}; },
  };
})()`;

/** A wx API failure: becomes `{ errMsg: '<api>:fail <message>' }`. */
class WxFail extends Error {}

/**
 * The hosts simulated: WeChat, and Douyin, whose Mini Programs offer the
 * same shapes under other names (tt.*, TTWebAssembly; base library
 * 2.34.0.0 for TTWebAssembly, 2.92.0.0 for .wasm.br). Each sandbox has one
 * host's globals only.
 */
const HOSTS = {
  wechat: { name: 'WeChat', api: 'wx', wasm: 'WXWebAssembly', app: 'WeChat', sdkVersion: '3.4.0', version: '8.0.50' },
  douyin: { name: 'Douyin', api: 'tt', wasm: 'TTWebAssembly', app: 'Douyin', sdkVersion: '3.40.0', version: '30.5.0' },
};

class MiniProgramSim {
  /**
   * @param {object} options
   * @param {string} options.root directory of the Mini Program code package
   * @param {'wechat' | 'douyin'} [options.host] whose runtime: `wx` and
   *   WXWebAssembly (the default), or `tt` and TTWebAssembly
   * @param {Map<string, string>} [options.storage] backing store of wx storage
   *   (key → JSON text); pass the same Map to two sims to simulate a restart
   * @param {() => Promise<{code: string}>} [options.login] answers wx.login
   * @param {(req: {url: string, method: string, header: object, data: string|Buffer}) =>
   *   (void|{statusCode?: number, header?: object, data?: any}|Promise<...>)} [options.onRequest]
   *   sees every wx.request before it is sent; a returned response is used
   *   instead of the network
   */
  constructor({ root, host = 'wechat', storage, login, onRequest } = {}) {
    if (typeof root !== 'string') throw new TypeError('MiniProgramSim: options.root must be a directory path');
    if (!Object.hasOwn(HOSTS, host)) throw new TypeError(`MiniProgramSim: options.host must be one of ${Object.keys(HOSTS).join(', ')}`);
    this.host = HOSTS[host];
    this.root = fs.realpathSync(root);
    this.storage = storage || new Map();
    this.app = undefined;
    this.pages = [];
    this.components = [];
    // The page stack, bottom first: there is no routing here, so a test
    // pushes the page instances it opens (getCurrentPages answers a copy).
    this.pageStack = [];
    this._login = login;
    this._onRequest = onRequest;
    this._modules = new Map();
    this._evaluating = [];
    this._timers = new Map();
    this._nextTimerId = 1;
    this._requests = new Set();
    this._appShowListeners = [];

    this.global = {};
    this.context = vm.createContext(this.global, {
      name: 'miniprogram',
      codeGeneration: { strings: false, wasm: false },
    });
    this._realm = vm.runInContext(BOOTSTRAP, this.context);
    Object.assign(this.global, {
      console,
      setTimeout: (fn, ms, ...args) => this._setTimer(fn, ms, args, false),
      setInterval: (fn, ms, ...args) => this._setTimer(fn, ms, args, true),
      clearTimeout: (id) => this._clearTimer(id),
      clearInterval: (id) => this._clearTimer(id),
      queueMicrotask,
      [this.host.api]: this._createWx(),
      [this.host.wasm]: this._createWXWebAssembly(),
      App: (options) => this._registerApp(options),
      getApp: () => this.app,
      Page: (options) => this.pages.push({ route: this._currentRoute(), options }),
      Component: (options) => this.components.push({ route: this._currentRoute(), options }),
      getCurrentPages: () => this._realm.Array.from(this.pageStack),
      // WeChat's App Service hands every module a \`global\` object shared
      // by all of them (not globalThis: nothing the host lacks is reached
      // through it); Taro's and uni-app's runtimes keep their state there.
      global: this._realm.newObject(),
    });
  }

  /** Loads a file of the package (`'app.js'`, `'/pages/index/index'`, `'miniauth'`) as a module. */
  require(pathInPackage) {
    const spec = typeof pathInPackage === 'string' && pathInPackage.startsWith('/')
      ? pathInPackage.slice(1)
      : pathInPackage;
    return this._load(this._resolve(spec, ''));
  }

  /** Evaluates a script in the sandbox's global scope and returns its completion value. */
  evaluate(source, filename = 'evaluate.js') {
    return new vm.Script(source, { filename }).runInContext(this.context);
  }

  /** Fires wx.onAppShow listeners, as when the app comes to the foreground. */
  emitAppShow(options = {}) {
    for (const listener of [...this._appShowListeners]) listener(this._copyIn(options));
  }

  /** Cancels pending timers and requests and drops listeners, so a test can end cleanly. */
  dispose() {
    for (const timer of this._timers.values()) clearTimeout(timer);
    this._timers.clear();
    for (const controller of this._requests) controller.abort();
    this._appShowListeners = [];
  }

  // ---- errors and values in the sandbox's realm ----

  _error(message, Type = this._realm.Error) {
    return new Type(message);
  }

  _object(fields) {
    return Object.assign(this._realm.newObject(), fields);
  }

  /** Deep-copies JSON-serialisable host data into sandbox objects. */
  _copyIn(value) {
    return this._realm.JSON.parse(JSON.stringify(value));
  }

  // ---- modules ----

  _notDefined(spec, fromDir) {
    const tried = typeof spec === 'string' ? posix.join(fromDir, spec.endsWith('.js') ? spec : `${spec}.js`) : String(spec);
    return this._error(`module '${tried}' is not defined, require args is '${String(spec)}'`);
  }

  /**
   * WeChat's rules: a path relative to the requiring file (with or without
   * './'), else an npm package under a miniprogram_npm/ in that file's
   * directory or any parent up to the root. Absolute paths are not supported
   * by default (only through app.json resolveAlias, not modelled).
   */
  _resolve(spec, fromDir) {
    if (typeof spec !== 'string' || spec === '' || spec.startsWith('/')) throw this._notDefined(spec, fromDir);
    const relative = this._resolveFile(posix.normalize(posix.join(fromDir, spec)));
    if (relative) return relative;
    if (!spec.startsWith('.')) {
      for (let dir = fromDir; ; dir = parentDir(dir)) {
        const found = this._resolveFile(posix.join(dir, 'miniprogram_npm', posix.normalize(spec)));
        if (found) return found;
        if (dir === '') break;
      }
    }
    throw this._notDefined(spec, fromDir);
  }

  /** A package path → the .js file it names (as is, plus '.js', or a directory's entry), or null. */
  _resolveFile(pkgPath) {
    if (!isInsidePackage(pkgPath)) return null;
    if (pkgPath.endsWith('.js') && this._isFile(pkgPath)) return pkgPath;
    if (this._isFile(`${pkgPath}.js`)) return `${pkgPath}.js`;
    if (!this._isDirectory(pkgPath)) return null;
    const main = posix.basename(posix.dirname(pkgPath)) === 'miniprogram_npm' ? this._packageMain(pkgPath) : null;
    if (main) {
      const target = posix.normalize(posix.join(pkgPath, main));
      for (const candidate of [target, `${target}.js`, posix.join(target, 'index.js')]) {
        if (candidate.endsWith('.js') && isInsidePackage(candidate) && this._isFile(candidate)) return candidate;
      }
    }
    const index = posix.join(pkgPath, 'index.js');
    return this._isFile(index) ? index : null;
  }

  _packageMain(pkgDir) {
    const manifest = posix.join(pkgDir, 'package.json');
    if (!this._isFile(manifest)) return null;
    const { main } = JSON.parse(fs.readFileSync(this._absolute(manifest), 'utf8'));
    return typeof main === 'string' && main !== '' ? main : null;
  }

  _load(pkgPath) {
    const cached = this._modules.get(pkgPath);
    if (cached) return cached.exports;
    const module = this._object({ exports: this._realm.newObject() });
    this._modules.set(pkgPath, module);
    const source = fs.readFileSync(this._absolute(pkgPath), 'utf8');
    // The source starts on the wrapper's first line so line numbers match the file.
    const wrapper = new vm.Script(`(function (require, module, exports) {${source}\n})`, {
      filename: `/${pkgPath}`,
    }).runInContext(this.context);
    const fromDir = parentDir(pkgPath);
    const require = (spec) => this._load(this._resolve(spec, fromDir));
    this._evaluating.push(pkgPath);
    try {
      // `this` is module.exports, as in Node's CommonJS.
      wrapper.call(module.exports, require, module, module.exports);
    } catch (error) {
      this._modules.delete(pkgPath);
      throw error;
    } finally {
      this._evaluating.pop();
    }
    return module.exports;
  }

  _currentRoute() {
    const current = this._evaluating[this._evaluating.length - 1];
    return current === undefined ? undefined : current.replace(/\.js$/, '');
  }

  _registerApp(options) {
    // WeChat: App() must be called exactly once.
    if (this.app !== undefined) throw this._error('App() has already been called');
    this.app = options;
  }

  // ---- package files ----

  _absolute(pkgPath) {
    return path.join(this.root, ...pkgPath.split('/'));
  }

  /** Stat of a package path whose real location (after symlinks) is inside the root, else null. */
  _stat(pkgPath) {
    const absolute = this._absolute(pkgPath);
    let real;
    try {
      real = fs.realpathSync(absolute);
    } catch {
      return null;
    }
    if (real !== this.root && !real.startsWith(this.root + path.sep)) return null;
    return fs.statSync(real);
  }

  _isFile(pkgPath) {
    const stat = this._stat(pkgPath);
    return stat !== null && stat.isFile();
  }

  _isDirectory(pkgPath) {
    const stat = this._stat(pkgPath);
    return stat !== null && stat.isDirectory();
  }

  // ---- timers ----

  // Timer ids are numbers, as in WeChat, not Node's Timeout objects.
  _setTimer(fn, ms, args, repeat) {
    if (typeof fn !== 'function') throw this._error('timer callback must be a function (WeChat cannot eval strings)', this._realm.TypeError);
    const id = this._nextTimerId++;
    const run = () => {
      if (!repeat) this._timers.delete(id);
      fn(...args);
    };
    this._timers.set(id, repeat ? setInterval(run, ms) : setTimeout(run, ms));
    return id;
  }

  _clearTimer(id) {
    const timer = this._timers.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this._timers.delete(id);
  }

  // ---- WXWebAssembly ----

  // WeChat's documentation (framework/performance/wasm): WXWebAssembly is
  // like the standard WebAssembly, except that instantiate(path, imports)
  // takes only a string, a path inside the code package (".wasm" or the
  // brotli-compressed ".wasm.br", since base library 2.14.0); community
  // answers give it absolute from the package root ("/pages/index/x.wasm").
  // Like the standard buffer overload, the promise resolves to
  // { instance, module }. Memory, Table and Global are supported, and exports
  // may be functions, Memory and Table: "iOS does not support exporting Global".
  _createWXWebAssembly() {
    return {
      instantiate: (wasmPath, imports) => this._realm.Promise.resolve(this._instantiate(wasmPath, imports)),
      Memory: WebAssembly.Memory,
      Table: WebAssembly.Table,
      Global: WebAssembly.Global,
    };
  }

  async _instantiate(wasmPath, imports) {
    if (typeof wasmPath !== 'string') {
      throw this._error(`${this.host.wasm}.instantiate: path must be a string path inside the code package`, this._realm.TypeError);
    }
    if (!wasmPath.endsWith('.wasm') && !wasmPath.endsWith('.wasm.br')) {
      throw this._error(`${this.host.wasm}.instantiate: '${wasmPath}' is not a .wasm or .wasm.br file`);
    }
    const pkgPath = posix.normalize(wasmPath.replace(/^\/+/, ''));
    if (!isInsidePackage(pkgPath)) {
      throw this._error(`${this.host.wasm}.instantiate: '${wasmPath}' is outside the code package`);
    }
    if (!this._isFile(pkgPath)) {
      throw this._error(`${this.host.wasm}.instantiate: '${wasmPath}' is not a file in the code package`);
    }
    let bytes = fs.readFileSync(this._absolute(pkgPath));
    if (pkgPath.endsWith('.br')) {
      try {
        bytes = zlib.brotliDecompressSync(bytes);
      } catch (error) {
        throw this._error(`${this.host.wasm}.instantiate: '${wasmPath}' is not valid brotli: ${error.message}`);
      }
    }
    await this._validateMvp(bytes, wasmPath);
    const globals = exportedGlobals(bytes);
    if (globals.length > 0) {
      throw this._error(`${this.host.wasm}.instantiate: '${wasmPath}' exports Global(s) ${globals.join(', ')}; iOS ${this.host.name} cannot export a Global`);
    }
    return WebAssembly.instantiate(bytes, imports);
  }

  async _validateMvp(bytes, wasmPath) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'miniprogram-sim-'));
    const file = path.join(dir, 'module.wasm');
    try {
      fs.writeFileSync(file, bytes);
      await execFile('wasm-validate', [...WASM_VALIDATE_FLAGS, file]);
    } catch (error) {
      if (error.code === 'ENOENT') {
        throw this._error(`${this.host.wasm}.instantiate: wasm-validate (wabt) is not installed; install it with \`apt-get install -y wabt\``);
      }
      const detail = String(error.stderr || error.message).trim();
      throw this._error(`${this.host.wasm}.instantiate: '${wasmPath}' is not a WebAssembly MVP module (wasm-validate ${WASM_VALIDATE_FLAGS.join(' ')}): ${detail}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  // ---- wx ----

  _createWx() {
    return {
      request: (options) => this._request(options),
      login: (options) => this._callAsync('login', options, () => this._doLogin()),
      getRandomValues: (options) => this._callAsync('getRandomValues', options, () => this._randomValues(options)),
      // A missing key reads as '' (WeChat's answer), not undefined.
      getStorageSync: (key) => this._sync('getStorageSync', () => {
        const data = this._storageRead(key);
        return data === undefined ? '' : data;
      }),
      setStorageSync: (key, data) => this._sync('setStorageSync', () => this._storageSet(key, data)),
      removeStorageSync: (key) => this._sync('removeStorageSync', () => this._storageRemove(key)),
      clearStorageSync: () => this.storage.clear(),
      getStorageInfoSync: () => this._storageInfo(),
      getStorage: (options) => this._callAsync('getStorage', options, () => {
        const data = this._storageRead((options || {}).key);
        if (data === undefined) throw new WxFail('data not found');
        return { data };
      }),
      setStorage: (options) => this._callAsync('setStorage', options, () => {
        this._storageSet((options || {}).key, (options || {}).data);
      }),
      removeStorage: (options) => this._callAsync('removeStorage', options, () => {
        this._storageRemove((options || {}).key);
      }),
      onAppShow: (listener) => {
        if (typeof listener === 'function') this._appShowListeners.push(listener);
      },
      // Without an argument it removes every listener, as documented.
      offAppShow: (listener) => {
        this._appShowListeners = listener === undefined ? [] : this._appShowListeners.filter((l) => l !== listener);
      },
      getSystemInfoSync: () => this._object({
        brand: 'iPhone',
        model: 'MiniProgramSim',
        platform: 'ios',
        system: 'iOS 15.0',
        appName: this.host.app,
        version: this.host.version,
        SDKVersion: this.host.sdkVersion,
        language: 'zh_CN',
        pixelRatio: 2,
        screenWidth: 375,
        screenHeight: 812,
        windowWidth: 375,
        windowHeight: 812,
      }),
    };
  }

  /** Sync APIs throw an Error whose message is the errMsg the async form would give. */
  _sync(api, work) {
    try {
      return work();
    } catch (error) {
      throw this._error(`${api}:fail ${reason(error)}`);
    }
  }

  /**
   * The documented async-API convention: with any of success/fail/complete
   * the callbacks are called (complete last) and nothing is returned;
   * without them a Promise is returned that resolves to the success result
   * or rejects with the fail result. Results carry errMsg '<api>:ok' or
   * '<api>:fail <reason>'. Callbacks always run asynchronously.
   */
  _callAsync(api, options, work) {
    const outcome = this._outcome(api, Promise.resolve().then(work));
    const { success, fail, complete } = options || {};
    if (success === undefined && fail === undefined && complete === undefined) return this._promise(outcome);
    this._callBack(options, outcome);
    return undefined;
  }

  /** Settles to { ok, result } with the result built in the sandbox's realm. */
  _outcome(api, work) {
    return work.then(
      (fields) => ({ ok: true, result: this._object({ ...fields, errMsg: `${api}:ok` }) }),
      (error) => ({ ok: false, result: this._object({ errMsg: `${api}:fail ${reason(error)}` }) }),
    );
  }

  _promise(outcome) {
    return new this._realm.Promise((resolve, reject) => {
      outcome.then(({ ok, result }) => (ok ? resolve(result) : reject(result)));
    });
  }

  // An exception thrown by a callback is left unhandled on purpose: it fails
  // the test run loudly instead of vanishing.
  _callBack({ success, fail, complete }, outcome) {
    outcome.then(({ ok, result }) => {
      const callback = ok ? success : fail;
      if (typeof callback === 'function') callback(result);
      if (typeof complete === 'function') complete(result);
    });
  }

  async _doLogin() {
    if (typeof this._login !== 'function') throw new WxFail('no login handler was given to the simulator');
    const { code, anonymousCode = '', isLogin = true } = await this._login();
    // tt.login also answers an anonymous code and whether the user is signed in to Douyin.
    return this.host.api === 'tt' ? { code, anonymousCode, isLogin } : { code };
  }

  _randomValues(options) {
    const { length } = options || {};
    if (!Number.isInteger(length) || length < 1 || length > RANDOM_VALUES_MAX_LENGTH) {
      throw new WxFail(`length must be an integer from 1 to ${RANDOM_VALUES_MAX_LENGTH}`);
    }
    const randomValues = new this._realm.ArrayBuffer(length);
    crypto.randomFillSync(new Uint8Array(randomValues));
    return { randomValues };
  }

  // ---- storage: values are kept as JSON text, so every read is a fresh copy ----

  _storageKey(key) {
    if (typeof key !== 'string') {
      const type = key === null ? 'Null' : key === undefined ? 'Undefined' : capitalize(typeof key);
      // WeChat's wording for a parameter of the wrong type.
      throw new WxFail(`parameter error: parameter.key should be String instead of ${type};`);
    }
  }

  /** The stored value, or undefined when the key is absent (JSON cannot hold undefined). */
  _storageRead(key) {
    this._storageKey(key);
    return this.storage.has(key) ? this._realm.JSON.parse(this.storage.get(key)) : undefined;
  }

  _storageSet(key, data) {
    this._storageKey(key);
    const text = JSON.stringify(data);
    if (text === undefined) throw new WxFail('data cannot be stored: it is not JSON-serialisable');
    this.storage.set(key, text);
  }

  _storageRemove(key) {
    this._storageKey(key);
    this.storage.delete(key);
  }

  _storageInfo() {
    let bytes = 0;
    for (const [key, text] of this.storage) bytes += Buffer.byteLength(key) + Buffer.byteLength(text);
    return this._object({
      keys: this._realm.Array.from(this.storage.keys()),
      currentSize: Math.ceil(bytes / 1024),
      limitSize: STORAGE_LIMIT_KB,
    });
  }

  // ---- wx.request ----

  _request(options) {
    const opts = options || {};
    const controller = new AbortController();
    this._requests.add(controller);
    const work = this._performRequest(opts, controller).finally(() => this._requests.delete(controller));
    // wx.request is not promisified: it always uses callbacks and returns its RequestTask.
    this._callBack(opts, this._outcome('request', work));
    return this._object({ abort: () => controller.abort(new WxFail('abort')) });
  }

  async _performRequest(opts, controller) {
    const { method = 'GET', header = {}, data, timeout = REQUEST_DEFAULT_TIMEOUT_MS, dataType = 'json', responseType = 'text' } = opts;
    let url;
    try {
      url = new URL(opts.url);
    } catch {
      throw new WxFail(`invalid url "${opts.url}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WxFail(`invalid url "${opts.url}"`);
    if (!REQUEST_METHODS.has(method)) throw new WxFail(`invalid method "${method}"`);

    const headers = { ...header };
    const contentTypeKey = Object.keys(headers).find((name) => name.toLowerCase() === 'content-type');
    if (contentTypeKey === undefined) headers['content-type'] = 'application/json';
    const contentType = String(headers[contentTypeKey || 'content-type']);
    const body = encodeRequestData(method, data, contentType, url);

    const timer = setTimeout(() => controller.abort(new WxFail('timeout')), timeout);
    const stopped = new Promise((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason));
    });
    try {
      const request = { url: url.href, method, header: headers, data: body };
      const response = await Promise.race([this._send(request, controller.signal), stopped]);
      return this._decodeResponse(response, dataType, responseType);
    } finally {
      clearTimeout(timer);
    }
  }

  async _send(request, signal) {
    if (typeof this._onRequest === 'function') {
      const faked = await this._onRequest(request);
      if (faked !== undefined) {
        const { statusCode = 200, header = {}, data = '' } = faked;
        const bytes = typeof data === 'string' || data instanceof Uint8Array ? Buffer.from(data) : Buffer.from(JSON.stringify(data));
        return { statusCode, header: { ...header }, body: bytes };
      }
    }
    return sendHttp(request, signal);
  }

  _decodeResponse({ statusCode, header, body }, dataType, responseType) {
    let data;
    if (responseType === 'arraybuffer') {
      data = new this._realm.ArrayBuffer(body.length);
      new Uint8Array(data).set(body);
    } else {
      data = body.toString('utf8');
      if (dataType === 'json') {
        try {
          data = this._realm.JSON.parse(data);
        } catch {
          // WeChat hands the text over unparsed when it is not JSON.
        }
      }
    }
    return { data, statusCode, header: this._object(header) };
  }
}

/** Sends over node http/https; resolves for any HTTP status, rejects on network errors. */
function sendHttp({ url, method, header, data }, signal) {
  return new Promise((resolve, reject) => {
    const transport = url.startsWith('https:') ? https : http;
    const req = transport.request(url, { method, headers: header, signal }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({
        statusCode: res.statusCode,
        header: headerObject(res.rawHeaders),
        body: Buffer.concat(chunks),
      }));
    });
    req.on('error', (error) => reject(signal.aborted ? signal.reason : error));
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** Response headers with the server's own capitalisation, as WeChat gives them. */
function headerObject(rawHeaders) {
  const header = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    header[name] = name in header ? `${header[name]}, ${rawHeaders[i + 1]}` : rawHeaders[i + 1];
  }
  return header;
}

/**
 * The documented data rules: GET data goes into the query string; otherwise
 * a string or ArrayBuffer is sent as is, and an object is JSON unless the
 * content-type is application/x-www-form-urlencoded.
 */
function encodeRequestData(method, data, contentType, url) {
  if (data === undefined || data === null) return undefined;
  if (method === 'GET') {
    const query = typeof data === 'string' ? data : queryString(data);
    if (query !== '') url.search = url.search ? `${url.search}&${query}` : `?${query}`;
    return undefined;
  }
  if (typeof data === 'string') return data;
  if (isArrayBuffer(data)) return Buffer.from(data);
  if (contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) return queryString(data);
  return JSON.stringify(data);
}

function queryString(data) {
  return Object.keys(data)
    .map((key) => `${encodeURIComponent(key)}=${encodeURIComponent(data[key])}`)
    .join('&');
}

// The sandbox's ArrayBuffer is another realm's, so instanceof cannot tell.
function isArrayBuffer(value) {
  return Object.prototype.toString.call(value) === '[object ArrayBuffer]';
}

/** Names of the Globals a wasm binary exports, read from its export section. */
function exportedGlobals(bytes) {
  let offset = 8; // magic and version
  const readU32 = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (offset >= bytes.length) throw new Error('truncated LEB128');
      const byte = bytes[offset++];
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  const names = [];
  while (offset < bytes.length) {
    const id = bytes[offset++];
    const size = readU32();
    const end = offset + size;
    if (id === WASM_EXPORT_SECTION) {
      const count = readU32();
      for (let i = 0; i < count; i++) {
        const nameLength = readU32();
        const name = bytes.subarray(offset, offset + nameLength).toString('utf8');
        offset += nameLength;
        const kind = bytes[offset++];
        readU32(); // index
        if (kind === WASM_EXPORT_KIND_GLOBAL) names.push(name);
      }
    }
    offset = end;
  }
  return names;
}

function isInsidePackage(pkgPath) {
  return pkgPath !== '..' && !pkgPath.startsWith('../') && !posix.isAbsolute(pkgPath);
}

function parentDir(pkgPath) {
  const dir = posix.dirname(pkgPath);
  return dir === '.' ? '' : dir;
}

function reason(error) {
  return error !== null && typeof error === 'object' && 'message' in error ? error.message : String(error);
}

function capitalize(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

module.exports = { MiniProgramSim };
