// The check that refresh retries back off: given when REFRESH_FAILED was
// emitted (ms, five or more times in a row), the delays between them must
// grow as the core's backoff does (200, 400, 800, 1600 ms before a jitter
// of 50-100 %, so each is at least the one before it).
import assert from 'node:assert/strict';

export function assertBackoffGrows(failures) {
  assert.ok(failures.length >= 5, `five failed refreshes, saw ${failures.length}`);
  const delays = failures.slice(1).map((at, i) => at - failures[i]);
  for (let i = 1; i < delays.length; i++) assert.ok(delays[i] >= delays[i - 1] - 20, `growing: ${delays}`);
  assert.ok(delays[3] >= 700, `backed off to at least 800 ms x jitter: ${delays}`);
}
