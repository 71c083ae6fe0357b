'use strict';

// A small assertion library for the shared cases. It runs unchanged in Node,
// in a browser page and in the Mini Program sandbox, so it uses nothing but
// ECMAScript built-ins, and it compares values structurally (never by
// prototype), because values there may come from another realm.

class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AssertionError';
  }
}

function show(value) {
  if (typeof value === 'string') return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch (ignored) {
    // Not JSON-serialisable; fall through to String().
  }
  return String(value);
}

function fail(message, context) {
  throw new AssertionError(context ? `${context}: ${message}` : message);
}

function ok(value, context) {
  if (!value) fail(`expected a truthy value, got ${show(value)}`, context);
}

function equal(actual, expected, context) {
  if (!Object.is(actual, expected)) fail(`expected ${show(expected)}, got ${show(actual)}`, context);
}

function isRecord(value) {
  return typeof value === 'object' && value !== null;
}

/** Structural equality of JSON-like values: same keys, same values, same array order. */
function deepEqual(actual, expected, context) {
  const difference = firstDifference(actual, expected, '$');
  if (difference !== null) fail(`${difference}\n  expected ${show(expected)}\n  got      ${show(actual)}`, context);
}

function firstDifference(actual, expected, where) {
  if (!isRecord(actual) || !isRecord(expected)) {
    return Object.is(actual, expected) ? null : `${where} is ${show(actual)}, expected ${show(expected)}`;
  }
  if (Array.isArray(actual) !== Array.isArray(expected)) return `${where}: one is an array, the other is not`;
  const actualKeys = Object.keys(actual).sort();
  const expectedKeys = Object.keys(expected).sort();
  if (actualKeys.join('\u0000') !== expectedKeys.join('\u0000')) {
    return `${where} has keys ${show(actualKeys)}, expected ${show(expectedKeys)}`;
  }
  for (const key of expectedKeys) {
    const difference = firstDifference(actual[key], expected[key], `${where}.${key}`);
    if (difference !== null) return difference;
  }
  return null;
}

/**
 * Checks a thrown value against `expected`: `instanceOf` (a class) and any
 * other properties, compared with Object.is (`code`, `claim`, `reason`, ...).
 * A property expected to be `undefined` must be absent or undefined.
 */
function checkError(error, expected, context) {
  if (!isRecord(error)) fail(`expected an error object to be thrown, got ${show(error)}`, context);
  const { instanceOf, ...properties } = expected;
  if (instanceOf !== undefined && !(error instanceof instanceOf)) {
    fail(`expected an instance of ${instanceOf.name}, got ${error.name}: ${error.message}`, context);
  }
  for (const name of Object.keys(properties)) {
    if (!Object.is(error[name], properties[name])) {
      fail(`expected error.${name} to be ${show(properties[name])}, got ${show(error[name])} (${error.name}: ${error.message})`, context);
    }
  }
  if (typeof error.message !== 'string' || error.message === '') fail('the error has no message', context);
  return error;
}

/** Calls `fn`, which must throw synchronously an error matching `expected`; returns the error. */
function throws(fn, expected, context) {
  let threw = false;
  let error;
  try {
    fn();
  } catch (caught) {
    threw = true;
    error = caught;
  }
  if (!threw) fail('expected the call to throw, but it returned', context);
  return checkError(error, expected, context);
}

/**
 * Awaits `promiseOrFn` (a promise, or a function returning one), which must
 * reject with an error matching `expected`; resolves to the error. A function
 * that throws synchronously fails: async APIs must report errors by rejecting.
 */
async function rejects(promiseOrFn, expected, context) {
  let promise = promiseOrFn;
  if (typeof promiseOrFn === 'function') {
    try {
      promise = promiseOrFn();
    } catch (caught) {
      fail(`expected a rejected promise, but the call threw synchronously: ${caught && caught.message}`, context);
    }
  }
  if (!isRecord(promise) || typeof promise.then !== 'function') fail(`expected a promise, got ${show(promise)}`, context);
  let rejected = false;
  let error;
  try {
    await promise;
  } catch (caught) {
    rejected = true;
    error = caught;
  }
  if (!rejected) fail('expected the promise to reject, but it resolved', context);
  return checkError(error, expected, context);
}

module.exports = { AssertionError, ok, equal, deepEqual, throws, rejects, checkError, fail };
