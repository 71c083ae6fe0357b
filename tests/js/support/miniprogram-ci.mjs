// The example Mini Program (examples/miniprogram) built the way its
// developer builds it, with WeChat's miniprogram-ci (a pinned devDependency
// of the root), rather than copied as tests/js/support/miniprogram-example.mjs
// does by default: pkg/ packed with `npm pack`, a copy of the example
// depending on the tarball (`"miniauth": "file:…/miniauth-x.y.z.tgz"`) and
// installed offline (the package has no dependencies), then miniprogram-ci's
// npm build (packNpmManually, or packNpm on a ci.Project) and its compile
// (getCompiledResult: "ES6 to ES5", enhance and minify as project.config.json
// asks). Each build runs in a process of its own
// (tests/js/support/miniprogram-ci-build.cjs); everything it prints is kept,
// and what is not miniprogram-ci's usual chatter is reported as unexpected.
//
// The tarball is packed once a process (tests/js/support/packed-build.mjs);
// builds are cached under target/miniprogram-ci/, keyed by the tarball's SHA-256, miniprogram-ci's
// version, the build scripts and (for the compile) the example's files.

import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cached, packedTarball, sha256, sourceFiles } from './packed-build.mjs';
import { ROOT } from './paths.mjs';

export { packedTarball };

const run = promisify(execFile);

/** The miniprogram-ci the root's package.json pins. */
export const MINIPROGRAM_CI_VERSION = '2.1.42';
/** The example's project folder: project.config.json, and miniprogram/ (its miniprogramRoot). */
export const EXAMPLE_PROJECT = join(ROOT, 'examples', 'miniprogram');

const BUILDER = fileURLToPath(new URL('./miniprogram-ci-build.cjs', import.meta.url));
const CACHE_DIR = join(ROOT, 'target', 'miniprogram-ci');

/** miniprogram-ci's usual output: it says when it loads, and when its compiler process starts. */
const CHATTER = [
  /^\[miniprogram-builder\] (initservices|getservice) CI$/,
  /^\[summer-compiler\] forkProcess( serialize| start| done)? \[[^\]]+\]$/,
  /^serialize mini-weixin$/,
];
/**
 * The compile asks WeChat's servers for the file extensions a code package
 * may hold (GET https://servicewechat.com/wxa/ci/getwhiteextlist); offline
 * it says so and takes the list it ships (.wasm and .br are on it).
 */
const OFFLINE_FALLBACK = [/^\[error\] https:\/\/servicewechat\.com\/wxa\/ci\/getwhiteextlist Error: /, /^\[error\] get white ext list fail Error: /];

/** Why the miniprogram-ci tests cannot run here, or null. */
export function miniprogramCiMissing() {
  const version = installedVersion();
  if (version === null) return 'miniprogram-ci is not installed (make setup runs npm ci)';
  if (version !== MINIPROGRAM_CI_VERSION) return `miniprogram-ci ${version} is installed, not ${MINIPROGRAM_CI_VERSION} (make setup runs npm ci)`;
  return null;
}

function installedVersion() {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', 'miniprogram-ci', 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** The example's project folder copied to `dest`, without node_modules or a built miniprogram_npm. */
function copyExample(dest) {
  cpSync(EXAMPLE_PROJECT, dest, {
    recursive: true,
    filter: (source) => !/[\\/](node_modules|miniprogram_npm)([\\/]|$)/.test(source.slice(EXAMPLE_PROJECT.length)),
  });
  const { miniprogramRoot = '' } = JSON.parse(readFileSync(join(dest, 'project.config.json'), 'utf8'));
  return join(dest, miniprogramRoot);
}

/**
 * Runs miniprogram-ci-build.cjs `mode` on `project`: its result, `ms` (the
 * build) and `processMs` (the whole process, miniprogram-ci's loading
 * included), `output` (every line it printed), `offlineFallback` (the lines
 * saying what it could not fetch offline) and `unexpectedOutput` (the rest
 * but its usual chatter).
 */
async function runBuilder(mode, project, resultFile) {
  const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  const started = Date.now();
  let stdout;
  let stderr;
  try {
    ({ stdout, stderr } = await run(process.execPath, [BUILDER, mode, project, resultFile], {
      cwd: project,
      env,
      timeout: 180_000,
      maxBuffer: 64 * 1024 * 1024,
    }));
  } catch (error) {
    throw new Error(`miniprogram-ci ${mode} failed: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`, { cause: error });
  }
  const processMs = Date.now() - started;
  const output = `${stdout}\n${stderr}`.split('\n').map((line) => line.trimEnd()).filter(Boolean);
  const fallback = (line) => OFFLINE_FALLBACK.some((pattern) => pattern.test(line));
  return {
    ...JSON.parse(readFileSync(resultFile, 'utf8')),
    processMs,
    output,
    offlineFallback: output.filter(fallback),
    unexpectedOutput: output.filter((line) => !fallback(line) && !CHATTER.some((pattern) => pattern.test(line))),
  };
}

const scriptsKey = () => [installedVersion() ?? '', readFileSync(BUILDER), readFileSync(fileURLToPath(import.meta.url))];

/**
 * The example's npm build by miniprogram-ci, `mode` 'packNpmManually' or
 * 'packNpm', from the tarball installed offline into a copy of the example:
 * the record of the build (runBuilder's) with `miniprogramNpm`, the
 * miniprogram_npm folder it wrote (absent if it wrote none), and `cached`.
 */
export async function miniprogramCiNpm(mode) {
  const packed = await packedTarball();
  const build = await cached(CACHE_DIR, mode, sha256(packed.sha256, mode, ...scriptsKey()), async (dir) => {
    const work = mkdtempSync(join(packed.dir, `${mode}-`));
    const project = join(work, 'project');
    const miniprogramRoot = copyExample(project);
    const manifestPath = join(miniprogramRoot, 'package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.dependencies = { ...manifest.dependencies, miniauth: `file:${packed.file}` };
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], {
      cwd: miniprogramRoot,
      env: packed.npmEnv,
    });
    const made = await runBuilder(mode, project, join(work, 'result.json'));
    const built = join(miniprogramRoot, 'miniprogram_npm');
    if (existsSync(built)) cpSync(built, join(dir, 'miniprogram_npm'), { recursive: true });
    return made;
  });
  return { ...build, miniprogramNpm: join(build.dir, 'miniprogram_npm') };
}

/**
 * The example compiled by miniprogram-ci's getCompiledResult with its
 * project.config.json settings, after packNpmManually built its npm: the
 * record of the build (runBuilder's, with `files`, `notEs5` and
 * `whiteExtList`), `codePackage` (the compiled code package) and `cached`.
 */
export async function miniprogramCiCompiled() {
  const npm = await miniprogramCiNpm('packNpmManually');
  const packed = await packedTarball();
  const sources = sourceFiles(EXAMPLE_PROJECT).flat();
  const build = await cached(CACHE_DIR, 'compile', sha256(packed.sha256, 'compile', ...scriptsKey(), ...sources), async (dir) => {
    const work = mkdtempSync(join(packed.dir, 'compile-'));
    const project = join(work, 'project');
    const miniprogramRoot = copyExample(project);
    cpSync(npm.miniprogramNpm, join(miniprogramRoot, 'miniprogram_npm'), { recursive: true });
    const made = await runBuilder('compile', project, join(work, 'result.json'));
    cpSync(join(project, 'compiled'), join(dir, 'code'), { recursive: true });
    return made;
  });
  return { ...build, codePackage: join(build.dir, 'code') };
}
