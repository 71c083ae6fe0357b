// A program the tests start and wait for until it says it is ready: the
// reference server, demo.sh, the node-backend example. Each prints its
// address once it accepts connections, so there is no port to guess and no
// polling.

import { spawn } from 'node:child_process';

// The tail of the output that is kept: enough for a failure message and the
// last lines a test checks, bounded for servers that log every request.
const OUTPUT_LIMIT = 64 * 1024;

/**
 * Spawns `command` with `args` (further `options` go to spawn, e.g. `env`,
 * `cwd`) and resolves once its output, stdout and stderr together, matches
 * `ready`. Rejects with the output so far when the program exits first or
 * nothing matches within `timeoutMs` (the program is then killed).
 *
 * Resolves to `{ child, match, exited, output }`: the child process, the
 * match of `ready`, a promise of `{ code, signal }` once it has exited, and
 * a getter of its output so far.
 */
export async function spawnReady(command, args, { ready, timeoutMs = 15_000, ...options }) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  // 'close', not 'exit': by then all of its output has been read.
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  let output = '';
  const match = await new Promise((resolve, reject) => {
    const settle = (outcome, value) => {
      clearTimeout(timer);
      outcome(value);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} printed nothing matching ${ready} within ${timeoutMs / 1000} s:\n${output}`));
    }, timeoutMs);
    let found = null;
    const collect = (chunk) => {
      output = (output + chunk).slice(-OUTPUT_LIMIT);
      found ??= ready.exec(output);
      if (found) settle(resolve, found);
    };
    child.once('error', (error) => settle(reject, error));
    for (const stream of [child.stdout, child.stderr]) stream.setEncoding('utf8').on('data', collect);
    exited.then(({ code, signal }) => settle(reject, new Error(`${command} exited (${code ?? signal}) before it was ready:\n${output}`)));
  });
  return {
    child,
    match,
    exited,
    get output() {
      return output;
    },
  };
}
