'use strict';
// One build of a Mini Program project with WeChat's miniprogram-ci, in a
// process of its own (tests/js/support/miniprogram-ci.mjs runs it and reads
// everything it prints): miniprogram-ci logs through the console, loads
// hundreds of modules and, to compile, forks a compiler process that keeps
// it alive, so it ends here with process.exit.
//
//   node miniprogram-ci-build.cjs <mode> <project> <result.json>
//
// <project> holds project.config.json, its miniprogramRoot holds app.json and
// package.json. Modes:
// - packNpmManually: ci.packNpmManually({ packageJsonPath, miniprogramNpmDistDir })
//   on the miniprogramRoot's package.json and node_modules; writes
//   <miniprogramRoot>/miniprogram_npm. Needs no AppID.
// - packNpm: ci.packNpm on a ci.Project, as DevTools' Tools → Build npm;
//   writes the same folder. The Project wants an AppID and a private key
//   but packNpm uses neither: a made-up AppID, and a placeholder for the key.
// - compile: ci.getCompiledResult, the code package as `upload` would send
//   it, compiled with project.config.json's settings (es6: "ES6 to ES5",
//   enhance, minified); written to <project>/compiled. The Project's attr()
//   (what WeChat's servers say about the AppID, fetched with a signature made
//   with the private key) is answered with ci.DefaultProjectAttr, the very
//   value miniprogram-ci itself falls back to when the server refuses: with
//   a made-up AppID and no key there is nothing to fetch.
//
// The result file: { mode, ms, warnings, ...what the mode reports }.

const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');

/** A made-up AppID, well-formed: nothing here reaches WeChat's servers with it. */
const FAKE_APPID = 'wx0000000000000000';

async function main() {
  const [mode, project, resultFile] = process.argv.slice(2);
  const started = Date.now();
  const ci = require('miniprogram-ci');
  const loadedMs = Date.now() - started;
  const config = JSON.parse(readFileSync(join(project, 'project.config.json'), 'utf8'));
  const miniprogramRoot = join(project, config.miniprogramRoot || '');
  const newProject = (extra = {}) =>
    new ci.Project({
      appid: FAKE_APPID,
      type: 'miniProgram',
      projectPath: project,
      privateKey: 'placeholder: nothing is signed',
      ...extra,
    });

  let result;
  const buildStarted = Date.now();
  if (mode === 'packNpmManually') {
    const answer = await ci.packNpmManually({
      packageJsonPath: join(miniprogramRoot, 'package.json'),
      miniprogramNpmDistDir: miniprogramRoot,
    });
    result = {
      warnings: answer.warnList,
      miniProgramPackNum: answer.miniProgramPackNum,
      otherNpmPackNum: answer.otherNpmPackNum,
    };
  } else if (mode === 'packNpm') {
    let report = null;
    const warnings = await ci.packNpm(newProject(), { reporter: (reported) => (report = reported) });
    result = { warnings, report };
  } else if (mode === 'compile') {
    const progress = [];
    const files = await ci.getCompiledResult({
      project: newProject({ attr: async () => structuredClone(ci.DefaultProjectAttr) }),
      setting: { useProjectConfig: true },
      onProgressUpdate: (task) => progress.push(typeof task === 'string' ? { message: task } : task),
    });
    const out = join(project, 'compiled');
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(out, path)), { recursive: true });
      writeFileSync(join(out, path), content);
    }
    // "ES6 to ES5": every script parses as ES5, by miniprogram-ci's own parser.
    const acorn = createRequire(require.resolve('miniprogram-ci'))('acorn');
    const notEs5 = [];
    for (const [path, content] of Object.entries(files)) {
      if (!path.endsWith('.js')) continue;
      try {
        acorn.parse(String(content), { ecmaVersion: 5, sourceType: 'script' });
      } catch (error) {
        notEs5.push(`${path}: ${error.message}`);
      }
    }
    result = {
      // A task reports "doing" then "done"; anything else is a complaint.
      warnings: progress.filter((task) => task.status !== 'doing' && task.status !== 'done'),
      files: Object.keys(files).sort(),
      notEs5,
      whiteExtList: [...(await ci.getWhiteExtList()).MiniProgramWhiteList],
    };
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  const ms = Date.now() - buildStarted;
  writeFileSync(resultFile, JSON.stringify({ mode, version: require('miniprogram-ci/package.json').version, loadedMs, ms, ...result }, null, 2));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error && error.stack ? error.stack : error);
    process.exit(1);
  },
);
