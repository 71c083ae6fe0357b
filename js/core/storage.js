// Storage adapters for AuthClient: the in-memory default and the check that
// an adapter handed in has the shape AuthClient calls. The runtimes' own
// adapters (localStorage, wx storage, files) live in their platform entries.

/** A storage adapter that keeps values in memory (lost when the process ends). */
export function memoryStorage() {
  const values = new Map();
  return {
    get: (key) => (values.has(key) ? values.get(key) : null),
    set: (key, value) => {
      values.set(key, String(value));
    },
    remove: (key) => {
      values.delete(key);
    },
  };
}

/** Whether `storage` has get(key), set(key, value) and remove(key). */
export function isStorage(storage) {
  return (
    typeof storage === 'object' &&
    storage !== null &&
    typeof storage.get === 'function' &&
    typeof storage.set === 'function' &&
    typeof storage.remove === 'function'
  );
}
