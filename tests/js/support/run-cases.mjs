// Turns the shared cases into node:test subtests, one per case, whatever
// runtime actually runs them.
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { CASES_FILE } from './paths.mjs';

const require = createRequire(import.meta.url);

/** The case names, known without any runtime: they do not depend on the fixtures. */
export const caseNames = require(CASES_FILE).map((testCase) => testCase.name);

/**
 * Registers one test per shared case.
 * @param {() => (name: string) => Promise<{ok: boolean, message?: string, stack?: string}>} getRunner
 *   called when the tests run (after before() hooks), so a runtime may start late
 */
export function registerCases(getRunner) {
  for (const name of caseNames) {
    test(name, async () => {
      const outcome = await getRunner()(name);
      if (!outcome.ok) {
        const error = new Error(outcome.message);
        // The runtime's own stack is what points at the failing assertion.
        if (outcome.stack) error.stack = outcome.stack;
        throw error;
      }
    });
  }
}
