// MiniAuthError: every failure the package reports, with a stable `code`.
// The codes come from the Rust core (and are jose's where jose has one);
// this file only gives them a JavaScript shape.

export class MiniAuthError extends Error {
  /**
   * @param {string} code stable machine-readable code, e.g. 'ERR_JWT_EXPIRED'
   * @param {string} message
   * @param {{ claim?: string, reason?: string, status?: number, error?: string, timeout?: boolean, cause?: unknown }} [details]
   */
  constructor(code, message, details = {}) {
    super(message);
    this.name = 'MiniAuthError';
    this.code = code;
    if (details.claim !== undefined) this.claim = details.claim;
    if (details.reason !== undefined) this.reason = details.reason;
    if (details.status !== undefined) this.status = details.status;
    if (details.error !== undefined) this.error = details.error;
    if (details.timeout !== undefined) this.timeout = details.timeout;
    if (details.cause !== undefined) this.cause = details.cause;
  }
}

/**
 * Calls into the wasm module and turns what it throws (the JSON text of a
 * core error) into a MiniAuthError. Anything else is rethrown as it is.
 */
export function callCore(fn) {
  try {
    return fn();
  } catch (thrown) {
    if (typeof thrown !== 'string') throw thrown;
    const { code, message, claim, reason } = JSON.parse(thrown);
    throw new MiniAuthError(code, message, { claim, reason });
  }
}
