// examples/miniprogram/ driven through its own page code: the example's
// code package laid out as WeChat DevTools' "Build npm" leaves it
// (miniprogram_npm/miniauth from pkg/miniprogram_dist), or as WeChat's
// miniprogram-ci built it (tests/js/support/miniprogram-ci.mjs), config.js
// pointed at a reference server, app.js and the pages loaded in the strict
// simulator (tests/miniprogram-sim/).
//
// The simulator has no view layer or routing: a page instance here is the
// options Page() was given, with `data` (deep-copied, as WeChat does) and a
// `setData` that merges into it; the test calls the lifecycle and handler
// methods itself and the navigation APIs (wx.navigateTo, redirectTo,
// reLaunch, showToast), which the simulator lacks, are recorded stubs.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MiniProgramSim } from './miniprogram.mjs';
import { PKG_DIR, ROOT } from './paths.mjs';

const SOURCE_ROOT = join(ROOT, 'examples', 'miniprogram', 'miniprogram');

/** The example's pages. */
export const LOGIN = 'pages/login/login';
export const BIND = 'pages/bind/bind';
export const PROFILE = 'pages/profile/profile';
export const LINK = 'pages/link/link';

/** A text field's bindinput event. */
export const input = (field, value) => ({ currentTarget: { dataset: { field } }, detail: { value } });

/** The example against `server` (tests/js/support/miniauth-server.mjs), its code packages under `workDir`. */
export class ExampleApp {
  #sims = [];

  constructor(server, workDir) {
    this.server = server;
    this.workDir = workDir;
  }

  /**
   * The example's code package in a fresh folder: its files (not
   * node_modules or an earlier miniprogram_npm), miniprogram_npm/miniauth
   * as "Build npm" makes it, and config.js with the server's URL.
   *
   * `miniprogramNpm`: a miniprogram_npm folder built otherwise (by
   * miniprogram-ci's packNpm), taken whole instead of the copy.
   * `codePackage`: a whole code package built otherwise (miniprogram-ci's
   * compiled one, miniprogram_npm included), taken instead of the example's
   * files; only config.js is written over.
   */
  layOut(config = {}, { miniprogramNpm, codePackage } = {}) {
    assert.ok(!(miniprogramNpm && codePackage), 'layOut: a code package comes with its own miniprogram_npm');
    const root = mkdtempSync(join(this.workDir, 'package-'));
    if (codePackage) {
      cpSync(codePackage, root, { recursive: true });
    } else {
      cpSync(SOURCE_ROOT, root, {
        recursive: true,
        filter: (source) => !/[\\/](node_modules|miniprogram_npm)([\\/]|$)/.test(source.slice(SOURCE_ROOT.length)),
      });
      if (miniprogramNpm) cpSync(miniprogramNpm, join(root, 'miniprogram_npm'), { recursive: true });
      else cpSync(join(PKG_DIR, 'miniprogram_dist'), join(root, 'miniprogram_npm', 'miniauth'), { recursive: true });
    }
    const full = { baseUrl: this.server.url, simulatorOpenid: '', ...config };
    writeFileSync(join(root, 'config.js'), `module.exports = ${JSON.stringify(full)};\n`);
    return root;
  }

  /**
   * Starts the example: a simulator over `storage` whose wx.login gives
   * codes for `openid` (none when `openid` is null), the navigation stubs,
   * app.js with onLaunch called, and every page of app.json registered.
   */
  async launch({ root, storage = new Map(), openid = `mp-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}` }) {
    const { server } = this;
    const sim = new MiniProgramSim({
      root,
      storage,
      login: openid === null ? undefined : async () => ({ code: await server.wxLoginCode(openid) }),
    });
    this.#sims.push(sim);
    const calls = [];
    const { wx } = sim.global;
    for (const api of ['navigateTo', 'redirectTo', 'reLaunch', 'showToast']) {
      assert.equal(wx[api], undefined, `the simulator now has wx.${api}: drop the stub`);
      wx[api] = (options = {}) => {
        calls.push(api === 'showToast' ? { api, title: options.title } : { api, url: options.url });
        const result = { errMsg: `${api}:ok` };
        queueMicrotask(() => {
          if (typeof options.success === 'function') options.success(result);
          if (typeof options.complete === 'function') options.complete(result);
        });
      };
    }
    sim.require('app.js');
    assert.equal(typeof sim.app.onLaunch, 'function');
    sim.app.onLaunch.call(sim.app, { scene: 1001, path: LOGIN, query: {} });
    const { pages } = JSON.parse(readFileSync(join(root, 'app.json'), 'utf8'));
    for (const page of pages) sim.require(`${page}.js`);
    assert.deepEqual(sim.pages.map((page) => page.route), pages);
    assert.equal(sim.evaluate('getApp()').auth, sim.app.auth, 'getApp().auth is the one client');
    await sim.app.authReady;
    return {
      sim,
      storage,
      openid,
      calls,
      navigations: () => calls.filter((call) => call.api !== 'showToast'),
      toasts: () => calls.filter((call) => call.api === 'showToast').map((call) => call.title),
    };
  }

  dispose() {
    for (const sim of this.#sims.splice(0)) sim.dispose();
  }
}

/** A page instance of `route`: the recorded options, `data` and `setData`. */
function pageInstance(sim, route) {
  const registered = sim.pages.find((page) => page.route === route);
  assert.ok(registered, `Page() was called for ${route}`);
  const page = { route };
  for (const [name, value] of Object.entries(registered.options)) {
    if (name !== 'data') page[name] = value;
  }
  // Data crosses to the view layer as JSON in WeChat, so it is plain host
  // data here too (and compares with deepEqual).
  page.data = JSON.parse(JSON.stringify(registered.options.data || {}));
  page.setData = (patch, callback) => {
    for (const [path, value] of Object.entries(patch)) {
      assert.ok(!/[.[]/.test(path), `setData path ${path}: only top-level keys are modelled`);
      page.data[path] = value === undefined ? undefined : JSON.parse(JSON.stringify(value));
    }
    if (typeof callback === 'function') queueMicrotask(callback);
  };
  return page;
}

/** Opens a page of `sim` from a navigation URL: onLoad with the query (values as they are in the URL). */
export async function openPage(sim, url) {
  const [path, search = ''] = url.split('?');
  const query = {};
  for (const pair of search.split('&').filter(Boolean)) {
    const [name, value = ''] = pair.split('=');
    query[name] = value;
  }
  const page = pageInstance(sim, path.replace(/^\//, ''));
  if (page.onLoad) await page.onLoad(query);
  return page;
}
