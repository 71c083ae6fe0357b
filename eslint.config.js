// ESLint for the package's JavaScript (js/): every file is written once for
// several hosts, so each folder declares only the globals its hosts have.
// The Wechaty plugin (plugins/wechaty/) runs in Node only.
import js from '@eslint/js';
import globals from 'globals';

/** What every host of js/core has: the ECMAScript built-ins plus timers and the console. */
const everyHost = { setTimeout: 'readonly', clearTimeout: 'readonly', console: 'readonly' };

export default [
  js.configs.recommended,
  {
    files: ['js/**/*.js', 'js/**/*.mjs', 'plugins/wechaty/src/**/*.js', 'plugins/wechaty/test/**/*.mjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: everyHost },
    rules: {
      'no-unused-vars': ['error', { ignoreRestSiblings: true, caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-var': 'error',
    },
  },
  {
    // Used only where the host has them: fetch and Request (web, Node),
    // crypto.getRandomValues (web, Node; Mini Programs pass wx's),
    // AbortController, TextDecoder (the Mini Program build injects its own),
    // and URL (asked for with typeof).
    files: ['js/core/**'],
    languageOptions: {
      globals: {
        fetch: 'readonly', Request: 'readonly', crypto: 'readonly', AbortController: 'readonly', TextDecoder: 'readonly', URL: 'readonly',
      },
    },
  },
  { files: ['js/node/**', 'plugins/wechaty/**'], languageOptions: { globals: { ...globals.node } } },
  // The build plugins (Taro, Vite) run in Node, as CommonJS.
  { files: ['js/build/**'], languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } } },
  { files: ['js/web/**'], languageOptions: { globals: { ...globals.browser } } },
  {
    files: ['js/miniprogram/**'],
    languageOptions: { globals: { wx: 'readonly', WXWebAssembly: 'readonly', tt: 'readonly', TTWebAssembly: 'readonly' } },
  },
];
