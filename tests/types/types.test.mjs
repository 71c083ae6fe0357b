// The package's TypeScript declarations compile, accept real usage and
// reject misuse (usage.ts), checked with tsc against the built pkg/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, cpSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

test('index.d.ts type-checks real usage and rejects misuse', () => {
  const project = mkdtempSync(join(tmpdir(), 'miniauth-types-'));
  try {
    mkdirSync(join(project, 'node_modules'));
    cpSync(join(root, 'pkg'), join(project, 'node_modules', 'miniauth'), { recursive: true });
    cpSync(join(here, 'usage.ts'), join(project, 'usage.ts'));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'] },
        files: ['usage.ts'],
      }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    let output = '';
    try {
      output = execFileSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
    } catch (error) {
      output = `${error.stdout}${error.stderr}`;
    }
    assert.equal(output.trim(), '', `tsc reported:\n${output}`);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});
