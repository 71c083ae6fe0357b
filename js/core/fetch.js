// HTTP for runtimes with the Fetch API (Node 18+ and browsers).

import { MiniAuthError } from './errors.js';

/**
 * The most bytes read from a response; key sets are far smaller. The core's
 * `maxResponseBytes` (boundary::contract), which tests/js/contract.test.mjs
 * checks this against: it is needed before the module has loaded.
 */
export const MAX_RESPONSE_BYTES = 256 * 1024;

/** The error for an answer from `url` longer than MAX_RESPONSE_BYTES. */
export function responseTooLarge(url) {
  return new MiniAuthError('ERR_NETWORK', `response from ${url} exceeds ${MAX_RESPONSE_BYTES} bytes`);
}

/**
 * GETs `url` and resolves to `{ status, text }`. Rejects with a
 * MiniAuthError `ERR_NETWORK` (with `timeout: true` when `timeout` ms passed
 * first, body included) and never reads more than MAX_RESPONSE_BYTES.
 */
export async function fetchText(url, { timeout, headers }) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  try {
    const response = await fetch(url, { headers, signal: controller.signal });
    return { status: response.status, text: await readLimited(response, url) };
  } catch (cause) {
    if (cause instanceof MiniAuthError) throw cause;
    const timedOut = controller.signal.aborted;
    const message = timedOut ? `no answer from ${url} within ${timeout} ms` : `request to ${url} failed`;
    throw new MiniAuthError('ERR_NETWORK', message, { cause, timeout: timedOut });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The body of a Fetch API response as text, refused (ERR_NETWORK) past
 * MAX_RESPONSE_BYTES without reading further. A fetch function of another
 * shape, whose body is no stream, is read whole and then checked.
 */
export async function readLimited(response, url) {
  if (!response.body || typeof response.body.getReader !== 'function') {
    const text = await response.text();
    if (text.length > MAX_RESPONSE_BYTES) throw responseTooLarge(url);
    return text;
  }
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw responseTooLarge(url);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(body);
}
