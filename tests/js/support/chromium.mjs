// Headless Chromium for the browser tests: Debian's build, driven by
// playwright-core, with the flags this machine's closed network needs.

import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser with a fresh temporary user-data-dir (chromium.launch makes one). */
export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** A CommonJS file of the tests (cases, assert, harness) as an ES module for a page: its exports as the default export. */
export function commonJsAsEsModule(file) {
  const source = readFileSync(file, 'utf8');
  return `const module = { exports: {} };\n(function (exports, module) {\n${source}\n}).call(module.exports, module.exports, module);\nexport default module.exports;\n`;
}
