// Chooses what runs the core in Node: the native addon built for this
// platform when one is there and loads, otherwise the WebAssembly module.
// Both offer the same boundary, so nothing above this file knows which runs.
//
//   MINIAUTH_BACKEND=wasm     the module, even where an addon would load
//   MINIAUTH_BACKEND=native   the addon; a missing or broken one is an error
//
// The addon is looked for beside the package's files
// (miniauth.<platform>.node, as `make pkg` puts it), then as the package
// miniauth-<platform> (how per-platform builds are published: see the
// package README).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MiniAuthError } from '../core/errors.js';

const BACKENDS = ['native', 'wasm'];

/** napi-rs's platform names: linux-x64-gnu, darwin-arm64, win32-x64-msvc, … */
function platformNames() {
  const { platform, arch } = process;
  if (platform === 'linux') return [`linux-${arch}-gnu`, `linux-${arch}-musl`];
  if (platform === 'win32') return [`win32-${arch}-msvc`];
  return [`${platform}-${arch}`];
}

/** The addon's bindings, or why there are none. */
function loadAddon(packageDir) {
  const tried = [];
  for (const name of platformNames()) {
    const file = join(packageDir, `miniauth.${name}.node`);
    const candidates = existsSync(file) ? [file] : [];
    candidates.push(`miniauth-${name}`);
    for (const candidate of candidates) {
      try {
        // require and __dirname: this file is only ever bundled to CommonJS.
        return { bindings: require(candidate) };
      } catch (error) {
        const absent = error.code === 'MODULE_NOT_FOUND' && candidate !== file;
        tried.push(absent ? `no package ${candidate}` : `${candidate} failed to load: ${error.message}`);
      }
    }
  }
  return { why: `no native addon loads on ${process.platform}-${process.arch} (${tried.join('; ')})` };
}

/**
 * @param {string} packageDir  the installed package's root
 * @param {() => object} loadWasm  instantiates the module and returns its bindings
 * @returns {{ backend: 'native' | 'wasm', bindings: object }}
 */
export function loadBackend(packageDir, loadWasm) {
  const wanted = process.env.MINIAUTH_BACKEND || undefined;
  if (wanted !== undefined && !BACKENDS.includes(wanted)) {
    throw new MiniAuthError('ERR_INVALID_ARGUMENT', `MINIAUTH_BACKEND must be "native" or "wasm", not ${JSON.stringify(wanted)}`);
  }
  if (wanted !== 'wasm') {
    const addon = loadAddon(packageDir);
    if (addon.bindings) return { backend: 'native', bindings: addon.bindings };
    if (wanted === 'native') throw new MiniAuthError('ERR_NOT_SUPPORTED', `MINIAUTH_BACKEND=native, but ${addon.why}`);
  }
  return { backend: 'wasm', bindings: loadWasm() };
}
