// A Mini Program built by a framework (tests/js/support/framework-build.mjs)
// checked and run: the bundle holds miniauth's Mini Program build (not the
// web build) and the module byte for byte where that build loads it from;
// then app.js and the page run in the strict simulator
// (tests/miniprogram-sim/, in the flavour of the build's host) with the
// framework's own runtime, against the real reference server in simulator
// mode. The fixture's page signs in with the host's login on load
// (registering the new user), verifies the id_token
// against the server's JWKS and keeps the outcome in storage under
// 'miniauth-outcome' (tests/js/fixtures/sign-in.js).
//
// The simulator has no view layer: a page instance here is the options the
// framework gave Page() or Component(), with `data` and a `setData` that
// merges into it, on the page stack getCurrentPages() answers; the test
// calls the lifecycle itself (the framework's hooks render through setData).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { frameworkBuild } from './framework-build.mjs';
import { buildServer, miniauthServer } from './miniauth-server.mjs';
import { HOST_SIGN_IN, MiniProgramSim, WASM_PATH } from './miniprogram.mjs';
import { filesUnder, packedTarball } from './packed-build.mjs';
import { PKG_DIR } from './paths.mjs';

/**
 * Strings only the Mini Program build has, and only the web build has (what
 * the bundlers keep of them: they rewrite the web build's module URL, and
 * would emit that module as an asset, which the test looks for too).
 */
const MINIPROGRAM_MARKERS = ['WXWebAssembly', WASM_PATH];
const WEB_MARKERS = ['visibilitychange'];
const WEB_MODULE = /miniauth_bg[^/]*\.wasm$/;

/**
 * A page instance over `options`, the framework's Page() options (its
 * methods are top-level) or Component() options (they are in `methods`),
 * opened with `query` (a page's `options`) in `host`.
 */
function pageInstance(options, registers, route, query, host) {
  const page = Object.create(null);
  if (registers === 'page') {
    for (const [name, value] of Object.entries(options)) if (name !== 'data') page[name] = value;
  } else {
    Object.assign(page, options.methods);
    page.properties = {}; // none declared for a page
  }
  page.options = query;
  // Douyin numbers the nodes of a page's tree from the page, 0, in its
  // webview; uni-app tells a page from a component by it.
  if (host === 'douyin') Object.assign(page, { __nodeId__: 0, __webviewId__: 1 });
  page.route = route;
  page.is = route;
  page.data = JSON.parse(JSON.stringify(options.data || {}));
  page.setData = (patch, callback) => {
    Object.assign(page.data, JSON.parse(JSON.stringify(patch)));
    if (typeof callback === 'function') queueMicrotask(callback);
  };
  // A page has no parent to hear its events, and here no child components.
  page.triggerEvent = () => {};
  page.selectAllComponents = () => [];
  page.selectComponent = () => null;
  return page;
}

/**
 * Tests of the `fixture` built by `command` into `output` for `host`
 * ('wechat' or 'douyin'), its page `route` registered with Page() ('page')
 * or Component() ('component').
 */
export function describeFrameworkApp(title, { fixture, command, output, route, registers, host = 'wechat', timeout = 600_000 }) {
  describe(title, { timeout }, () => {
    let build;
    let server;
    let workDir;
    const sims = [];

    before(async () => {
      build = await frameworkBuild(fixture, { command, output });
      workDir = mkdtempSync(join(tmpdir(), `miniauth-${fixture}-`));
      await buildServer();
      server = miniauthServer({ database: join(workDir, 'miniauth.sqlite') });
      await server.start();
    });

    after(async () => {
      for (const sim of sims) sim.dispose();
      if (server) await server.kill();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    test('the build bundles miniauth\'s Mini Program build and writes its module where that build loads it from', async (t) => {
      const scripts = filesUnder(build.out).filter((file) => file.endsWith('.js'));
      const bundled = scripts.filter((file) => readFileSync(join(build.out, file), 'utf8').includes(MINIPROGRAM_MARKERS[0]));
      assert.equal(bundled.length, 1, `one script holds miniauth: ${bundled.join(', ')}`);
      const source = readFileSync(join(build.out, bundled[0]), 'utf8');
      for (const marker of MINIPROGRAM_MARKERS) assert.ok(source.includes(marker), `${bundled[0]} holds the Mini Program build (${marker})`);
      const webModules = filesUnder(build.out).filter((file) => WEB_MODULE.test(file));
      assert.deepEqual(webModules, [], 'the web build\'s module is not in the output');
      for (const file of scripts) {
        const text = readFileSync(join(build.out, file), 'utf8');
        for (const marker of WEB_MARKERS) assert.ok(!text.includes(marker), `${file} holds none of the web build (${marker})`);
      }
      const wasm = join(build.out, ...WASM_PATH.slice(1).split('/'));
      const { miniprogramDist } = await packedTarball();
      assert.ok(readFileSync(wasm).equals(readFileSync(join(miniprogramDist, 'miniauth.wasm.br'))), `${WASM_PATH} is the package's, unchanged`);
      assert.ok(readFileSync(wasm).equals(readFileSync(join(PKG_DIR, 'miniprogram_dist', 'miniauth.wasm.br'))), `${WASM_PATH} is pkg/'s`);
      t.diagnostic(`${build.cached ? 'cached; was built' : 'built'} in ${build.buildMs} ms` + (build.installMs ? ` after npm install in ${build.installMs} ms` : ''));
      t.diagnostic(`output ${build.outputBytes} bytes; ${bundled[0]} (miniauth and what else the bundler put there) ${statSync(join(build.out, bundled[0])).size} bytes; ${WASM_PATH} ${statSync(wasm).size} bytes`);
    });

    test(`app.js and the page run in the strict simulator (${host}): the page signs in against the reference server and the id_token verifies`, async () => {
      const openid = `${fixture}-${host}-${Date.now().toString(36)}`;
      const sim = new MiniProgramSim({ root: build.out, host, login: async () => ({ code: await HOST_SIGN_IN[host].code(server, openid) }) });
      sims.push(sim);
      const instantiated = [];
      const webAssembly = sim.global[sim.host.wasm];
      const { instantiate } = webAssembly;
      webAssembly.instantiate = (path, imports) => {
        instantiated.push(path);
        return instantiate(path, imports);
      };
      sim.require('app.js');
      assert.equal(typeof sim.app.onLaunch, 'function', 'the framework called App()');
      sim.app.onLaunch.call(sim.app, { path: route, query: {}, scene: 1001 });
      sim.require(`${route}.js`);
      const registered = (registers === 'page' ? sim.pages : sim.components).filter((entry) => entry.route === route);
      assert.equal(registered.length, 1, `the framework registered ${route} with ${registers === 'page' ? 'Page' : 'Component'}()`);
      const query = { baseUrl: encodeURIComponent(server.url) };
      const page = pageInstance(registered[0].options, registers, route, query, host);
      sim.pageStack.push(page);
      // A component's lifetimes come first, as the hosts run them.
      const { lifetimes = {}, created, attached, ready } = registered[0].options;
      (lifetimes.created ?? created)?.call(page);
      (lifetimes.attached ?? attached)?.call(page);
      page.onLoad(query);
      page.onShow?.();
      (lifetimes.ready ?? ready)?.call(page);
      page.onReady?.();

      const deadline = Date.now() + 20_000;
      while (!sim.storage.has('miniauth-outcome') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      const outcome = JSON.parse(JSON.parse(sim.storage.get('miniauth-outcome') ?? 'null') ?? 'null');
      assert.ok(outcome && outcome.sub, `the page signed in: ${JSON.stringify(outcome)}`);
      assert.deepEqual([outcome.login, outcome.status, outcome.amr], ['USER_REGISTER', 'SUCCESS', HOST_SIGN_IN[host].amr]);
      assert.deepEqual(instantiated, [WASM_PATH], 'the module came from where the build wrote it');

      // The token verifies in Node too, against the server's JWKS.
      const miniauth = await import(join(PKG_DIR, 'node', 'index.mjs'));
      const jwks = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
      const { claims } = miniauth.createVerifier({ jwks, issuer: server.url }).verify(outcome.idToken);
      assert.equal(claims.sub, outcome.sub);

      // The framework renders the outcome through setData, in its own time.
      const rendered = () => JSON.stringify(page.data).includes(`signed in as ${outcome.sub}`);
      const renderDeadline = Date.now() + 5_000;
      while (!rendered() && Date.now() < renderDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(rendered(), JSON.stringify(page.data).slice(0, 500));
    });
  });
}
