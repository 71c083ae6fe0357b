// How AuthClient talks to the identity server: `send(method, url, body?,
// headers?)` over a Fetch API function (web, Node) or a wx.request-shaped
// one (Mini Programs), resolving to `{ status, text }` (the body as text,
// for the core to parse) or rejecting with MiniAuthError ERR_NETWORK.

import { MiniAuthError } from './errors.js';
import { MAX_RESPONSE_BYTES, readLimited, responseTooLarge } from './fetch.js';

const DEFAULT_TIMEOUT = 10_000;

/** The headers of a request to the identity server: JSON when there is a body. */
function headersFor(body, headers) {
  return body === undefined ? { ...headers } : { 'content-type': 'application/json', ...headers };
}

/**
 * A transport over a Fetch API function (`fetch` of Node 18+ and browsers,
 * or any function of that shape): `send(method, url, body?, headers?)`
 * sends `body` as JSON and resolves to `{ status, text }`; rejects with
 * MiniAuthError ERR_NETWORK.
 */
export function fetchTransport(fetchFn, timeout = DEFAULT_TIMEOUT) {
  if (typeof fetchFn !== 'function') {
    throw new MiniAuthError('ERR_INVALID_ARGUMENT', 'no fetch function: pass "fetch" (or "request") to AuthClient');
  }
  return async function send(method, url, body, headers) {
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), timeout) : null;
    try {
      const init = { method, headers: headersFor(body, headers) };
      if (body !== undefined) init.body = JSON.stringify(body);
      if (controller) init.signal = controller.signal;
      // Called as a plain function: browsers refuse fetch called on another object.
      const response = await fetchFn(url, init);
      return { status: response.status, text: await readLimited(response, url) };
    } catch (cause) {
      if (cause instanceof MiniAuthError) throw cause;
      const timedOut = Boolean(controller && controller.signal.aborted);
      const message = timedOut ? `no answer from ${url} within ${timeout} ms` : `request to ${url} failed`;
      throw new MiniAuthError('ERR_NETWORK', message, { cause, timeout: timedOut });
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
  };
}

/** A transport over a `wx.request`-shaped function (Mini Programs). */
export function requestTransport(requestFn, timeout = DEFAULT_TIMEOUT) {
  if (typeof requestFn !== 'function') {
    throw new MiniAuthError('ERR_INVALID_ARGUMENT', 'no request function: pass "request" (or "fetch") to AuthClient');
  }
  return function send(method, url, body, headers) {
    return new Promise((resolve, reject) => {
      requestFn({
        url,
        method,
        header: headersFor(body, headers),
        data: body === undefined ? undefined : JSON.stringify(body),
        timeout,
        // The body as text: the core parses it (strictly), not wx.request.
        dataType: 'text',
        responseType: 'text',
        success: (res) => {
          const data = res.data;
          const text = typeof data === 'string' ? data : data == null ? '' : JSON.stringify(data);
          // wx.request has read the body already; the cap still keeps it from the core.
          if (text.length > MAX_RESPONSE_BYTES) {
            reject(responseTooLarge(url));
          } else {
            resolve({ status: res.statusCode, text });
          }
        },
        fail: (res) => {
          const errMsg = (res && res.errMsg) || 'request failed';
          reject(new MiniAuthError('ERR_NETWORK', `request to ${url} failed: ${errMsg}`, { timeout: /timeout/i.test(errMsg) }));
        },
      });
    });
  };
}
