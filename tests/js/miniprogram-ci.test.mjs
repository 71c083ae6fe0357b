// examples/miniprogram built the way its developer builds it, with WeChat's
// own miniprogram-ci 2.1.42 (tests/js/support/miniprogram-ci.mjs), offline:
// pkg/ packed and installed from the tarball, its npm built by
// packNpmManually and by packNpm (DevTools' Tools → Build npm), and the
// whole code package compiled by getCompiledResult as project.config.json
// asks ("ES6 to ES5", enhance, minified). The builds must be warning-free
// and must leave the module where the package loads it from; then the
// example's flows (tests/js/support/miniprogram-example-flows.mjs) run on
// the npm build and on the compiled package in the strict simulator against
// the real reference server.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { EXAMPLE_PROJECT, miniprogramCiCompiled, miniprogramCiMissing, miniprogramCiNpm, packedTarball } from './support/miniprogram-ci.mjs';
import { describeExample } from './support/miniprogram-example-flows.mjs';
import { WASM_PATH } from './support/miniprogram.mjs';

const skip = miniprogramCiMissing() ?? false;

/** Every file under `dir`, as sorted paths relative to it. */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

const timing = (build) => `${build.mode}: ${build.cached ? 'cached, was built' : 'built'} in ${build.ms} ms (${build.processMs} ms with loading miniprogram-ci)`;

/** `dir`/miniprogram_npm/miniauth holds the tarball's miniprogram_dist, file for file and byte for byte. */
async function assertPackageCopied(miniprogramNpm) {
  const { miniprogramDist } = await packedTarball();
  const dist = filesUnder(miniprogramDist);
  assert.deepEqual(filesUnder(miniprogramNpm), dist.map((file) => join('miniauth', file)));
  for (const file of dist) {
    assert.ok(readFileSync(join(miniprogramNpm, 'miniauth', file)).equals(readFileSync(join(miniprogramDist, file))), `miniprogram_npm/miniauth/${file} is the package's, unchanged`);
  }
  // Where js/miniprogram loads the module from.
  assert.ok(dist.includes(WASM_PATH.slice('/miniprogram_npm/miniauth/'.length)), `the package holds ${WASM_PATH}`);
}

describe('miniprogram-ci 2.1.42 builds examples/miniprogram offline, without warnings', { skip, timeout: 240_000 }, () => {
  test('packNpmManually: miniprogram_npm/miniauth is the package\'s miniprogram_dist, the .wasm.br included', async (t) => {
    const build = await miniprogramCiNpm('packNpmManually');
    t.diagnostic(timing(build));
    assert.equal(build.version, '2.1.42');
    assert.deepEqual(build.warnings, [], 'packNpmManually\'s warnList');
    assert.deepEqual(build.unexpectedOutput, [], 'what it printed');
    assert.deepEqual(build.offlineFallback, []);
    assert.deepEqual([build.miniProgramPackNum, build.otherNpmPackNum], [1, 0], 'one Mini Program package (its "miniprogram" folder copied), nothing bundled from "main"');
    await assertPackageCopied(build.miniprogramNpm);
  });

  test('packNpm on a ci.Project (made-up AppID, no key): the same', async (t) => {
    const build = await miniprogramCiNpm('packNpm');
    t.diagnostic(timing(build));
    assert.deepEqual(build.warnings, [], 'packNpm\'s warnings');
    assert.deepEqual(build.unexpectedOutput, [], 'what it printed');
    assert.deepEqual(build.offlineFallback, []);
    assert.equal(build.report.miniprogram_pack_num, 1);
    assert.equal(build.report.other_pack_num, 0);
    assert.equal(build.report.warn_not_found_num + build.report.warn_require_var_num + build.report.warn_require_rename_num, 0);
    await assertPackageCopied(build.miniprogramNpm);
  });

  test('getCompiledResult with project.config.json\'s settings: every script ES5, the .wasm.br unchanged', async (t) => {
    const build = await miniprogramCiCompiled();
    t.diagnostic(timing(build));
    for (const line of build.offlineFallback) t.diagnostic(`offline: ${line}`);
    assert.deepEqual(build.warnings, [], 'the compile tasks\' reports');
    assert.deepEqual(build.unexpectedOutput, [], 'what it printed');
    assert.deepEqual(build.notEs5, [], 'scripts that do not parse as ES5');
    // The extensions it let into the package (WeChat's list, or offline the one it ships).
    assert.ok(build.whiteExtList.includes('.br') && build.whiteExtList.includes('.wasm'), build.whiteExtList.join(' '));

    // The package holds the example's files, the npm build and Babel's helpers, nothing else.
    const { miniprogramDist } = await packedTarball();
    const compiled = filesUnder(build.codePackage);
    assert.deepEqual(compiled, build.files.map((file) => join(...file.split('/'))).sort());
    const helpers = compiled.filter((file) => file.startsWith(join('@babel', 'runtime', 'helpers') + '/'));
    assert.ok(helpers.length > 0 && helpers.every((file) => file.endsWith('.js')), `Babel's helpers: ${helpers.join(', ')}`);
    const expected = [
      'project.config.json',
      ...filesUnder(join(EXAMPLE_PROJECT, 'miniprogram')).filter((file) => !/^(node_modules|miniprogram_npm)[\\/]/.test(file)),
      ...filesUnder(miniprogramDist).map((file) => join('miniprogram_npm', 'miniauth', file)),
    ].sort();
    assert.deepEqual(compiled.filter((file) => !helpers.includes(file)), expected);
    assert.ok(readFileSync(join(build.codePackage, WASM_PATH)).equals(readFileSync(join(miniprogramDist, 'miniauth.wasm.br'))), `${WASM_PATH} is the package's, unchanged`);
  });
});

describeExample('examples/miniprogram, its npm built by miniprogram-ci packNpmManually, in the simulator against the reference server', {
  skip,
  timeout: 120_000,
  layout: async () => ({ miniprogramNpm: (await miniprogramCiNpm('packNpmManually')).miniprogramNpm }),
});

describeExample('examples/miniprogram compiled by miniprogram-ci (ES6 to ES5, enhance, minified), in the simulator against the reference server', {
  skip,
  timeout: 120_000,
  layout: async () => ({ codePackage: (await miniprogramCiCompiled()).codePackage }),
});
