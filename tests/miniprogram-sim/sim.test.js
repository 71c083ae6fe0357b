'use strict';

const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');
const zlib = require('node:zlib');

const { MiniProgramSim } = require('./index.js');

const MVP_WAT = `(module
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add))`;
// i32.extend8_s belongs to the sign-extension proposal, not to the MVP.
const SIGN_EXTENSION_WAT = `(module
  (func (export "extend") (param i32) (result i32)
    local.get 0
    i32.extend8_s))`;
// An immutable exported global is valid MVP; only the export check refuses it.
const GLOBAL_EXPORT_WAT = '(module (global (export "answer") i32 (i32.const 42)))';

let workDir;
let root;

function write(relativePath, contents) {
  const file = path.join(workDir, relativePath);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, contents);
}

function wat2wasm(name, source) {
  const watFile = path.join(workDir, `${name}.wat`);
  fs.writeFileSync(watFile, source);
  const wasmFile = path.join(workDir, `${name}.wasm`);
  // wat2wasm enables sign-extension by default, so it builds the post-MVP fixture too.
  childProcess.execFileSync('wat2wasm', [watFile, '-o', wasmFile]);
  return fs.readFileSync(wasmFile);
}

/** Calls a callback-style wx API and settles with which callback ran. */
function callWx(sim, api, options = {}) {
  return new Promise((resolve) => {
    let outcome;
    sim.global.wx[api]({
      ...options,
      success: (res) => { outcome = { ok: true, res }; },
      fail: (res) => { outcome = { ok: false, res }; },
      complete: (res) => {
        assert.equal(res, outcome.res, 'complete runs last with the same result');
        resolve(outcome);
      },
    });
  });
}

before(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'miniprogram-sim-test-'));
  root = path.join(workDir, 'package');

  write('package/app.js', 'App({ globalData: { name: "demo" } });\n');
  write('package/utils/math.js', 'exports.add = function (a, b) { return a + b; };\n');
  write('package/utils/lib/index.js', 'module.exports = { isIndex: true };\n');
  write('package/pages/index/common.js', 'module.exports = "common";\n');
  write('package/pages/index/index.js', [
    "const math = require('../../utils/math');",
    "const lib = require('../../utils/lib');",
    "const common = require('common.js');",
    "const demo = require('demo');",
    "const plain = require('plain');",
    'Page({ data: { sum: math.add(1, 2), isIndex: lib.isIndex, common: common, demo: demo.name, plain: plain.name, appName: getApp().globalData.name } });',
    'module.exports = { math: math };',
  ].join('\n'));
  // "Build npm" output: one package with a main, one without.
  write('package/miniprogram_npm/demo/package.json', JSON.stringify({ main: 'dist/entry.js' }));
  write('package/miniprogram_npm/demo/dist/entry.js', 'module.exports = { name: "demo-main" };\n');
  write('package/miniprogram_npm/plain/index.js', 'module.exports = { name: "plain-index" };\n');
  write('package/needs-fs.js', "require('fs');\n");
  write('package/needs-node-fs.js', "require('node:fs');\n");
  write('package/needs-outside.js', "require('../outside');\n");
  write('package/needs-absolute.js', "require('/utils/math');\n");
  write('outside.js', 'module.exports = "outside the package";\n');

  const mvp = wat2wasm('mvp', MVP_WAT);
  write('package/wasm/mvp.wasm', mvp);
  write('package/wasm/mvp.wasm.br', zlib.brotliCompressSync(mvp));
  write('package/wasm/mvp.bin', mvp);
  write('package/wasm/sign-extension.wasm', wat2wasm('sign-extension', SIGN_EXTENSION_WAT));
  write('package/wasm/global-export.wasm', wat2wasm('global-export', GLOBAL_EXPORT_WAT));
  write('outside.wasm', mvp);
});

after(() => {
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe('sandbox globals', () => {
  test('lacks what a Mini Program does not have', () => {
    const sim = new MiniProgramSim({ root });
    const forbidden = [
      'WebAssembly', 'TextEncoder', 'TextDecoder', 'crypto', 'fetch', 'process', 'Buffer',
      'require', 'module', 'exports', 'FinalizationRegistry', 'WeakRef', 'setImmediate',
      'structuredClone', 'URL', 'URLSearchParams', 'AbortController', 'atob', 'btoa', 'performance',
      'window', 'self', 'document', 'navigator',
    ];
    const present = sim.evaluate(`${JSON.stringify(forbidden)}.filter(function (name) {
      return name in globalThis || typeof globalThis[name] !== 'undefined';
    })`);
    assert.deepEqual([...present], []);
    assert.equal(sim.evaluate('typeof WebAssembly'), 'undefined');
    // WeChat's \`global\` is an object of its own, not Node's global or globalThis.
    assert.equal(sim.evaluate('global === globalThis || typeof global.WebAssembly'), 'undefined');
  });

  test('has the ECMAScript built-ins and the Mini Program globals', () => {
    const sim = new MiniProgramSim({ root });
    const expected = [
      'Object', 'Array', 'Promise', 'Uint8Array', 'ArrayBuffer', 'DataView', 'JSON', 'Math', 'Date',
      'Error', 'Map', 'Set', 'WeakMap', 'Symbol', 'globalThis', 'console', 'setTimeout', 'clearTimeout',
      'setInterval', 'clearInterval', 'queueMicrotask', 'wx', 'WXWebAssembly', 'getApp', 'App', 'Page',
      'Component', 'getCurrentPages', 'global',
    ];
    const missing = sim.evaluate(`${JSON.stringify(expected)}.filter(function (name) {
      return typeof globalThis[name] === 'undefined';
    })`);
    assert.deepEqual([...missing], []);
  });

  test('forbids eval and new Function except new Function("return this")', () => {
    const sim = new MiniProgramSim({ root });
    assert.throws(() => sim.evaluate('eval("1 + 1")'), /Code generation from strings disallowed/);
    assert.throws(() => sim.evaluate('new Function("return 1")'), /Code generation from strings disallowed/);
    assert.equal(sim.evaluate('new Function("return this")() === globalThis'), true);
    assert.equal(sim.evaluate('Function("return this")() === globalThis'), true);
    assert.equal(sim.evaluate('(function () {}) instanceof Function'), true);
  });

  test('timers use numeric ids and can be cleared', async () => {
    const sim = new MiniProgramSim({ root });
    const fired = await sim.evaluate(`new Promise(function (resolve) {
      var log = [];
      var cancelled = setTimeout(function () { log.push('cancelled'); }, 5);
      clearTimeout(cancelled);
      var ticks = 0;
      var interval = setInterval(function () {
        ticks += 1;
        if (ticks === 2) clearInterval(interval);
      }, 1);
      setTimeout(function (extra) {
        log.push(typeof cancelled, typeof interval, extra, ticks);
        resolve(log);
      }, 30, 'extra');
    })`);
    assert.deepEqual([...fired], ['number', 'number', 'extra', 2]);
    sim.dispose();
  });
});

describe('modules', () => {
  test('resolve like WeChat: relative, directory index, npm main and npm index', () => {
    const sim = new MiniProgramSim({ root });
    sim.require('app.js');
    const page = sim.require('/pages/index/index');
    assert.equal(sim.pages.length, 1);
    assert.equal(sim.pages[0].route, 'pages/index/index');
    assert.deepEqual({ ...sim.pages[0].options.data }, {
      sum: 3, isIndex: true, common: 'common', demo: 'demo-main', plain: 'plain-index', appName: 'demo',
    });
    // Cached by resolved path: the page and a direct load share one module.
    assert.equal(sim.require('utils/math.js'), page.math);
    assert.equal(sim.require('miniprogram_npm/demo').name, 'demo-main');
    assert.equal(sim.require('plain').name, 'plain-index');
    assert.equal(sim.evaluate('getApp()'), sim.app);
  });

  test('App() may be called only once', () => {
    const sim = new MiniProgramSim({ root });
    sim.require('app.js');
    assert.throws(() => sim.evaluate('App({})'), /App\(\) has already been called/);
  });

  test('refuses Node built-ins, paths outside the package and absolute paths', () => {
    const sim = new MiniProgramSim({ root });
    assert.throws(() => sim.require('needs-fs.js'), /module 'fs\.js' is not defined, require args is 'fs'/);
    assert.throws(() => sim.require('needs-node-fs.js'), /module 'node:fs\.js' is not defined, require args is 'node:fs'/);
    assert.ok(fs.existsSync(path.join(workDir, 'outside.js')));
    assert.throws(() => sim.require('needs-outside.js'), /module '\.\.\/outside\.js' is not defined/);
    assert.throws(() => sim.require('needs-absolute.js'), /is not defined, require args is '\/utils\/math'/);
    assert.throws(() => sim.require('../outside.js'), /is not defined/);
  });

  test('errors thrown at sandbox code belong to its realm', () => {
    const sim = new MiniProgramSim({ root });
    const caught = sim.evaluate('try { wx.getStorageSync(1); } catch (e) { e; }');
    assert.equal(sim.evaluate('(function (e) { return e instanceof Error; })')(caught), true);
  });
});

describe('WXWebAssembly', () => {
  test('instantiates an MVP .wasm and .wasm.br and calls an export', async () => {
    const sim = new MiniProgramSim({ root });
    const results = await sim.evaluate(`Promise.all([
      WXWebAssembly.instantiate('/wasm/mvp.wasm', {}),
      WXWebAssembly.instantiate('wasm/mvp.wasm.br'),
    ]).then(function (all) {
      return all.map(function (result) {
        return [result.instance.exports.add(2, 3), typeof result.module, result.instance.exports.memory.buffer.byteLength];
      });
    })`);
    assert.deepEqual([...results].map((r) => [...r]), [[5, 'object', 65536], [5, 'object', 65536]]);
  });

  test('returns a Promise of the sandbox realm', () => {
    const sim = new MiniProgramSim({ root });
    const isPromise = sim.evaluate(`(function () {
      var p = WXWebAssembly.instantiate('/wasm/mvp.wasm');
      return p instanceof Promise;
    })()`);
    assert.equal(isPromise, true);
  });

  test('refuses a module using a post-MVP feature', async () => {
    const sim = new MiniProgramSim({ root });
    await assert.rejects(
      sim.global.WXWebAssembly.instantiate('/wasm/sign-extension.wasm'),
      /is not a WebAssembly MVP module.*unexpected opcode/s,
    );
  });

  test('refuses a module that exports a Global', async () => {
    const sim = new MiniProgramSim({ root });
    await assert.rejects(
      sim.global.WXWebAssembly.instantiate('/wasm/global-export.wasm'),
      /exports Global\(s\) answer; iOS WeChat cannot export a Global/,
    );
  });

  test('refuses bad paths', async () => {
    const sim = new MiniProgramSim({ root });
    const { instantiate } = sim.global.WXWebAssembly;
    await assert.rejects(instantiate('/wasm/mvp.bin'), /is not a \.wasm or \.wasm\.br file/);
    await assert.rejects(instantiate(fs.readFileSync(path.join(root, 'wasm/mvp.wasm'))), /path must be a string/);
    await assert.rejects(instantiate('../outside.wasm'), /is outside the code package/);
    await assert.rejects(instantiate('/wasm/missing.wasm'), /is not a file in the code package/);
  });

  test('fails clearly when wasm-validate is not installed', () => {
    const script = `
      const { MiniProgramSim } = require(${JSON.stringify(require.resolve('./index.js'))});
      new MiniProgramSim({ root: ${JSON.stringify(root)} }).global.WXWebAssembly
        .instantiate('/wasm/mvp.wasm')
        .then(() => console.log('instantiated'), (error) => console.log(error.message));
    `;
    const output = childProcess.execFileSync(process.execPath, ['-e', script], {
      env: { PATH: '' },
      encoding: 'utf8',
    });
    assert.match(output, /wasm-validate \(wabt\) is not installed; install it with `apt-get install -y wabt`/);
  });
});

describe('wx.request', () => {
  let server;
  let base;

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url, 'http://localhost');
        if (url.pathname === '/echo') {
          res.writeHead(201, { 'Content-Type': 'application/json', 'X-Custom-Header': 'kept' });
          res.end(JSON.stringify({
            method: req.method,
            query: url.search,
            contentType: req.headers['content-type'],
            body: Buffer.concat(chunks).toString('utf8'),
          }));
        } else if (url.pathname === '/text') {
          res.writeHead(404, { 'Content-Type': 'text/plain' });
          res.end('not json at all');
        } else if (url.pathname === '/bytes') {
          res.end(Buffer.from([1, 2, 3]));
        }
        // Any other path never answers, for the timeout test.
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${server.address().port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('POSTs an object as JSON and parses a JSON answer', async () => {
    const sim = new MiniProgramSim({ root });
    const { ok, res } = await callWx(sim, 'request', { url: `${base}/echo`, method: 'POST', data: { code: 'abc' } });
    assert.equal(ok, true);
    assert.equal(res.errMsg, 'request:ok');
    assert.equal(res.statusCode, 201);
    assert.equal(res.header['X-Custom-Header'], 'kept');
    assert.deepEqual({ ...res.data }, {
      method: 'POST', query: '', contentType: 'application/json', body: '{"code":"abc"}',
    });
    assert.equal(sim.evaluate('(function (d) { return d instanceof Object; })')(res.data), true);
  });

  test('puts GET data in the query string and sends a string body as is', async () => {
    const sim = new MiniProgramSim({ root });
    const get = await callWx(sim, 'request', { url: `${base}/echo?a=1`, data: { b: 'x y' } });
    assert.equal(get.res.data.method, 'GET');
    assert.equal(get.res.data.query, '?a=1&b=x%20y');
    const put = await callWx(sim, 'request', {
      url: `${base}/echo`, method: 'PUT', data: 'raw=1', header: { 'Content-Type': 'text/plain' },
    });
    assert.equal(put.res.data.body, 'raw=1');
    assert.equal(put.res.data.contentType, 'text/plain');
  });

  test('gives a non-JSON body as a string, and any HTTP status to success', async () => {
    const sim = new MiniProgramSim({ root });
    const { ok, res } = await callWx(sim, 'request', { url: `${base}/text` });
    assert.equal(ok, true);
    assert.equal(res.statusCode, 404);
    assert.equal(res.data, 'not json at all');
  });

  test('gives an ArrayBuffer for responseType arraybuffer', async () => {
    const sim = new MiniProgramSim({ root });
    const { res } = await callWx(sim, 'request', { url: `${base}/bytes`, responseType: 'arraybuffer' });
    assert.equal(sim.evaluate('(function (b) { return b instanceof ArrayBuffer; })')(res.data), true);
    assert.deepEqual([...new Uint8Array(res.data)], [1, 2, 3]);
  });

  test('fails on timeout', async () => {
    const sim = new MiniProgramSim({ root });
    const { ok, res } = await callWx(sim, 'request', { url: `${base}/hang`, timeout: 100 });
    assert.equal(ok, false);
    assert.equal(res.errMsg, 'request:fail timeout');
  });

  test('fails when the connection is refused', async () => {
    const closed = http.createServer();
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address();
    await new Promise((resolve) => closed.close(resolve));
    const sim = new MiniProgramSim({ root });
    const { ok, res } = await callWx(sim, 'request', { url: `http://127.0.0.1:${port}/` });
    assert.equal(ok, false);
    assert.match(res.errMsg, /^request:fail .*ECONNREFUSED/);
  });

  test('RequestTask.abort() fails the request', async () => {
    const sim = new MiniProgramSim({ root });
    const res = await new Promise((resolve) => {
      const task = sim.global.wx.request({ url: `${base}/hang`, fail: resolve });
      setTimeout(() => task.abort(), 20);
    });
    assert.equal(res.errMsg, 'request:fail abort');
  });

  test('refuses a lower-case method and a non-http url', async () => {
    const sim = new MiniProgramSim({ root });
    assert.match((await callWx(sim, 'request', { url: `${base}/echo`, method: 'post' })).res.errMsg, /invalid method/);
    assert.match((await callWx(sim, 'request', { url: 'file:///etc/passwd' })).res.errMsg, /invalid url/);
  });

  test('onRequest sees every request and may answer it', async () => {
    const seen = [];
    const sim = new MiniProgramSim({
      root,
      onRequest: (request) => {
        seen.push(request);
        if (request.url.endsWith('/faked')) return { statusCode: 200, header: { 'Content-Type': 'application/json' }, data: { faked: true } };
        return undefined;
      },
    });
    const faked = await callWx(sim, 'request', { url: 'https://auth.example.invalid/faked', method: 'POST', data: { a: 1 } });
    assert.deepEqual({ ...faked.res.data }, { faked: true });
    const real = await callWx(sim, 'request', { url: `${base}/echo` });
    assert.equal(real.res.data.method, 'GET');
    assert.deepEqual(seen.map((r) => [r.method, r.data]), [['POST', '{"a":1}'], ['GET', undefined]]);
  });
});

describe('storage', () => {
  test('round-trips deep copies and answers "" for a missing key', () => {
    const sim = new MiniProgramSim({ root });
    const { wx } = sim.global;
    const value = { token: 'abc', nested: { list: [1, 2] } };
    wx.setStorageSync('session', value);
    value.nested.list.push(3);
    const read = wx.getStorageSync('session');
    assert.deepEqual(JSON.parse(JSON.stringify(read)), { token: 'abc', nested: { list: [1, 2] } });
    read.token = 'changed';
    assert.equal(wx.getStorageSync('session').token, 'abc');
    assert.equal(wx.getStorageSync('missing'), '');
    assert.deepEqual([...wx.getStorageInfoSync().keys], ['session']);
    wx.removeStorageSync('session');
    assert.equal(wx.getStorageSync('session'), '');
    wx.setStorageSync('a', 1);
    wx.clearStorageSync();
    assert.equal(wx.getStorageInfoSync().keys.length, 0);
    assert.throws(() => wx.setStorageSync(1, 'x'), /setStorageSync:fail parameter error: parameter.key should be String instead of Number;/);
  });

  test('async forms use callbacks or, without them, a Promise', async () => {
    const sim = new MiniProgramSim({ root });
    const set = await callWx(sim, 'setStorage', { key: 'k', data: [1, 'two'] });
    assert.equal(set.res.errMsg, 'setStorage:ok');
    const got = await callWx(sim, 'getStorage', { key: 'k' });
    assert.deepEqual([...got.res.data], [1, 'two']);
    assert.equal(got.res.errMsg, 'getStorage:ok');
    await callWx(sim, 'removeStorage', { key: 'k' });
    const missing = await callWx(sim, 'getStorage', { key: 'k' });
    assert.equal(missing.ok, false);
    assert.equal(missing.res.errMsg, 'getStorage:fail data not found');

    const viaPromise = await sim.evaluate(`wx.setStorage({ key: 'p', data: { v: 1 } })
      .then(function () { return wx.getStorage({ key: 'p' }); })
      .then(function (res) { return res.data.v; })`);
    assert.equal(viaPromise, 1);
    await assert.rejects(sim.global.wx.getStorage({ key: 'absent' }), (res) => res.errMsg === 'getStorage:fail data not found');
  });

  test('a shared storage Map survives an app restart', () => {
    const storage = new Map();
    new MiniProgramSim({ root, storage }).global.wx.setStorageSync('session_token', 'st-1');
    const restarted = new MiniProgramSim({ root, storage });
    assert.equal(restarted.global.wx.getStorageSync('session_token'), 'st-1');
  });
});

describe('other wx APIs', () => {
  test('getRandomValues gives { randomValues: ArrayBuffer } of the asked length', async () => {
    const sim = new MiniProgramSim({ root });
    const shape = await sim.evaluate(`new Promise(function (resolve) {
      wx.getRandomValues({
        length: 16,
        success: function (res) {
          resolve([res.errMsg, res.randomValues instanceof ArrayBuffer, res.randomValues.byteLength]);
        },
      });
    })`);
    assert.deepEqual([...shape], ['getRandomValues:ok', true, 16]);
    const bad = await callWx(sim, 'getRandomValues', { length: 0 });
    assert.equal(bad.ok, false);
    assert.match(bad.res.errMsg, /^getRandomValues:fail length must be an integer/);
  });

  test('login calls the login option, or fails without one', async () => {
    const withLogin = new MiniProgramSim({ root, login: async () => ({ code: 'code-1' }) });
    const ok = await callWx(withLogin, 'login');
    assert.equal(ok.res.code, 'code-1');
    assert.equal(ok.res.errMsg, 'login:ok');
    assert.equal((await withLogin.global.wx.login()).code, 'code-1');

    const failing = new MiniProgramSim({ root, login: async () => { throw new Error('user cancelled'); } });
    assert.equal((await callWx(failing, 'login')).res.errMsg, 'login:fail user cancelled');
    const without = await callWx(new MiniProgramSim({ root }), 'login');
    assert.equal(without.ok, false);
    assert.match(without.res.errMsg, /^login:fail /);
  });

  test('onAppShow listeners fire on emitAppShow until removed', () => {
    const sim = new MiniProgramSim({ root });
    const calls = [];
    const first = (options) => calls.push(['first', options.scene]);
    const second = () => calls.push(['second']);
    sim.global.wx.onAppShow(first);
    sim.global.wx.onAppShow(second);
    sim.emitAppShow({ scene: 1001 });
    sim.global.wx.offAppShow(first);
    sim.emitAppShow({ scene: 1089 });
    sim.global.wx.offAppShow();
    sim.emitAppShow({ scene: 1001 });
    assert.deepEqual(calls, [['first', 1001], ['second'], ['second']]);
  });

  test('getSystemInfoSync answers a minimal iOS device', () => {
    const info = new MiniProgramSim({ root }).global.wx.getSystemInfoSync();
    assert.equal(info.platform, 'ios');
    assert.equal(typeof info.SDKVersion, 'string');
  });
});

describe('the Douyin flavour', () => {
  test('has tt and TTWebAssembly, and no wx or WXWebAssembly', () => {
    const sim = new MiniProgramSim({ root, host: 'douyin' });
    const types = sim.evaluate('[typeof tt, typeof TTWebAssembly, typeof wx, typeof WXWebAssembly, typeof WebAssembly]');
    assert.deepEqual([...types], ['object', 'object', 'undefined', 'undefined', 'undefined']);
    assert.equal(sim.global.tt.getSystemInfoSync().appName, 'Douyin');
    assert.throws(() => new MiniProgramSim({ root, host: 'alipay' }), /options\.host must be one of wechat, douyin/);
  });

  test('TTWebAssembly instantiates an MVP .wasm.br and refuses what WXWebAssembly refuses, in its own name', async () => {
    const sim = new MiniProgramSim({ root, host: 'douyin' });
    const sum = await sim.evaluate("TTWebAssembly.instantiate('/wasm/mvp.wasm.br').then(function (r) { return r.instance.exports.add(2, 3); })");
    assert.equal(sum, 5);
    await assert.rejects(sim.evaluate("TTWebAssembly.instantiate('/wasm/sign-extension.wasm')"), /^Error: TTWebAssembly\.instantiate: '\/wasm\/sign-extension\.wasm' is not a WebAssembly MVP module/);
    await assert.rejects(sim.evaluate("TTWebAssembly.instantiate('/wasm/global-export.wasm')"), /iOS Douyin cannot export a Global/);
  });

  test('tt.login answers the code, an anonymous code and whether the user is signed in to Douyin', async () => {
    const sim = new MiniProgramSim({ root, host: 'douyin', login: async () => ({ code: 'tt-code', anonymousCode: 'anon' }) });
    const answer = await sim.global.tt.login();
    assert.deepEqual({ ...answer }, { code: 'tt-code', anonymousCode: 'anon', isLogin: true, errMsg: 'login:ok' });
  });
});
