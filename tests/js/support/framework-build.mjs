// A Mini Program framework's minimal project (tests/js/fixtures/<name>/:
// Taro, uni-app) built the way its developer builds it, with the package as
// npm gives it: the framework's own dependencies installed once with `npm
// install` from the fixture's committed package-lock.json (see installed()
// for why not `npm ci`) into
// target/framework-deps/<name>-<hash of package.json and lock>/ (npm's
// default of running no install scripts holds: nothing there needs one),
// pkg/ packed with `npm pack` and unpacked as node_modules/miniauth (what an
// install of the tarball does: it has no dependencies and no scripts), the
// fixture's sources copied over (with the page code they share,
// tests/js/fixtures/sign-in.js, as src/sign-in.js), and the framework's
// build command run.
//
// Builds are cached under target/frameworks/<name>-<key>/ (out/: the built
// Mini Program; build.json: timings and sizes), keyed by the tarball's
// SHA-256, the build command, the fixture's files and this file.

import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cached, filesUnder, packedTarball, sha256, sourceFiles } from './packed-build.mjs';
import { ROOT } from './paths.mjs';

const run = promisify(execFile);
const CACHE_DIR = join(ROOT, 'target', 'frameworks');
/** Installed dependencies, apart from the builds so that pruning old builds keeps them. */
const DEPS_DIR = join(ROOT, 'target', 'framework-deps');
const FIXTURES = join(ROOT, 'tests', 'js', 'fixtures');
/** The page code both fixtures share, copied into each project's src/. */
const SHARED = join(FIXTURES, 'sign-in.js');
/** A fixture's files that decide its installed dependencies. */
const MANIFESTS = ['package.json', 'package-lock.json', '.npmrc'];

const bytesUnder = (dir) => filesUnder(dir).reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);

/**
 * The fixture's dependencies, installed once: the project folder (its
 * node_modules filled from the lock) and `installMs` (0 when it was there).
 */
async function installed(name) {
  const fixture = join(FIXTURES, name);
  const key = sha256(...MANIFESTS.map((file) => readFileSync(join(fixture, file))));
  const project = join(DEPS_DIR, `${name}-${key.slice(0, 20)}`);
  const done = join(project, '.installed');
  if (existsSync(done)) return { project, installMs: 0 };
  // Another lock's install is not used again: remove it.
  for (const old of existsSync(DEPS_DIR) ? readdirSync(DEPS_DIR) : []) {
    if (old.startsWith(`${name}-`)) rmSync(join(DEPS_DIR, old), { recursive: true, force: true });
  }
  mkdirSync(project, { recursive: true });
  for (const file of MANIFESTS) cpSync(join(fixture, file), join(project, file));
  const started = Date.now();
  try {
    // `npm install` from the lock, not `npm ci`: the lock names native
    // bindings for other platforms as optional dependencies (Taro's
    // @tarojs/binding-darwin-*), which `npm ci` wants resolvable; the
    // install takes the lock's versions and skips those.
    await run('npm', ['install', '--no-audit', '--no-fund', '--no-save'], {
      cwd: project,
      env: { ...process.env, npm_config_update_notifier: 'false' },
      timeout: 600_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    throw new Error(`npm install of tests/js/fixtures/${name} failed (the npm registry must be reachable the first time): ${error.message}\n${error.stderr ?? ''}`, { cause: error });
  }
  const installMs = Date.now() - started;
  writeFileSync(done, JSON.stringify({ installMs }));
  return { project, installMs };
}

/**
 * `name`'s fixture built by `command` (argv, run in the project) into
 * `output` (relative to the project): the cached record (`buildMs`,
 * `installMs`, `outputBytes`, `cached`) and `out`, the built Mini Program.
 */
export async function frameworkBuild(name, { command, output, env = {} }) {
  const packed = await packedTarball();
  const fixture = join(FIXTURES, name);
  const key = sha256(packed.sha256, name, ...command, readFileSync(fileURLToPath(import.meta.url)), readFileSync(SHARED), ...sourceFiles(fixture).flat());
  const build = await cached(CACHE_DIR, name, key, async (dir) => {
    const { project, installMs } = await installed(name);
    const miniauth = join(project, 'node_modules', 'miniauth');
    rmSync(miniauth, { recursive: true, force: true });
    mkdirSync(miniauth);
    await run('tar', ['-xzf', packed.file, '-C', miniauth, '--strip-components=1']);
    for (const entry of readdirSync(fixture)) {
      if (!MANIFESTS.includes(entry)) {
        rmSync(join(project, entry), { recursive: true, force: true });
        cpSync(join(fixture, entry), join(project, entry), { recursive: true });
      }
    }
    cpSync(SHARED, join(project, 'src', 'sign-in.js'));
    rmSync(join(project, output), { recursive: true, force: true });
    const started = Date.now();
    let stdout;
    try {
      ({ stdout } = await run(join(project, 'node_modules', '.bin', command[0]), command.slice(1), {
        cwd: project,
        env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', CI: '1', ...env },
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024,
      }));
    } catch (error) {
      throw new Error(`${command.join(' ')} failed: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`, { cause: error });
    }
    const buildMs = Date.now() - started;
    renameSync(join(project, output), join(dir, 'out'));
    return { buildMs, installMs, outputBytes: bytesUnder(join(dir, 'out')), log: stdout.split('\n').slice(-20) };
  });
  return { ...build, out: join(build.dir, 'out') };
}
