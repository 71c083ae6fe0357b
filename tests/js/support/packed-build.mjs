// What the builds of the package by other tools share
// (tests/js/support/miniprogram-ci.mjs, framework-build.mjs): pkg/ packed
// with `npm pack` once a process, SHA-256 keys, and a cache of builds under
// target/ keyed by them.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { PKG_DIR } from './paths.mjs';

const run = promisify(execFile);

/** Cached builds kept of each kind (older ones are removed). */
const KEEP = 3;

/** The SHA-256 (hex) of `parts`, each ended by a NUL. */
export const sha256 = (...parts) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
};

/** Every file under `dir`, as sorted paths relative to it, not looking into folders named in `skip`. */
export function filesUnder(dir, skip = []) {
  const files = [];
  const walk = (at) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (skip.includes(entry.name)) continue;
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(relative(dir, path));
    }
  };
  walk(dir);
  return files.sort();
}

/** Every file under `dir` but node_modules and miniprogram_npm, as [relative path, content], sorted. */
export const sourceFiles = (dir) =>
  filesUnder(dir, ['node_modules', 'miniprogram_npm']).map((file) => [file, readFileSync(join(dir, file))]);

let tarball = null;

/**
 * pkg/ as `npm pack` makes it, once a process: `file` (the .tgz), `sha256`,
 * `manifest` (its package.json), `miniprogramDist` (its Mini Program build,
 * unpacked, to compare with what miniprogram-ci made of it), `dir` (a temp
 * folder, removed at exit) and `npmEnv` (a private npm cache there).
 */
export function packedTarball() {
  tarball ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miniauth-mpci-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const npmEnv = { ...process.env, npm_config_cache: join(dir, 'npm-cache'), npm_config_update_notifier: 'false' };
    const { stdout } = await run('npm', ['pack', PKG_DIR, '--pack-destination', dir, '--json', '--ignore-scripts'], { cwd: dir, env: npmEnv });
    const file = join(dir, JSON.parse(stdout)[0].filename);
    const unpacked = join(dir, 'unpacked');
    mkdirSync(unpacked);
    await run('tar', ['-xzf', file, '-C', unpacked]);
    const manifest = JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8'));
    // Its builds install it offline, or unpack it as node_modules/miniauth:
    // both need a package that depends on nothing.
    const dependencies = Object.keys(manifest.dependencies ?? {});
    if (dependencies.length > 0) throw new Error(`the package now depends on ${dependencies.join(', ')}: the builds of its tarball do not install them`);
    return {
      dir,
      file,
      sha256: sha256(readFileSync(file)),
      manifest,
      miniprogramDist: join(unpacked, 'package', manifest.miniprogram),
      npmEnv,
    };
  })();
  return tarball;
}

/**
 * `name`'s build for `key` from `cacheDir` (under target/), or made by
 * `build(dir)` (which fills `dir` and answers what build.json records) and
 * kept there; the KEEP newest of each name are kept. Answers build.json's
 * record with `dir` and `cached`.
 */
export async function cached(cacheDir, name, key, build) {
  const entry = join(cacheDir, `${name}-${key.slice(0, 20)}`);
  const record = join(entry, 'build.json');
  if (existsSync(record)) return { ...JSON.parse(readFileSync(record, 'utf8')), dir: entry, cached: true };
  mkdirSync(cacheDir, { recursive: true });
  const temp = mkdtempSync(join(cacheDir, `.${name}-`));
  let made;
  try {
    made = await build(temp);
    writeFileSync(join(temp, 'build.json'), JSON.stringify(made, null, 2));
    try {
      renameSync(temp, entry);
    } catch (error) {
      if (!existsSync(record)) throw error; // else another run made it meanwhile
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  const others = readdirSync(cacheDir)
    .filter((other) => other.startsWith(`${name}-`) && join(cacheDir, other) !== entry)
    .map((other) => ({ path: join(cacheDir, other), mtime: statSync(join(cacheDir, other)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of others.slice(KEEP - 1)) rmSync(old.path, { recursive: true, force: true });
  return { ...made, dir: entry, cached: false };
}

