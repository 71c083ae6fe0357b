// The Vite plugin (vite.js) for uni-app's Mini Program builds. Its shape
// is Vite's Plugin, declared here without depending on vite.

/** Options of the plugin. */
interface MiniauthViteOptions {
  /** Whether this is a Mini Program build; by default, whether uni-app's UNI_PLATFORM is `mp-*`. */
  miniprogram?: boolean;
}

/**
 * In a Mini Program build, resolves `'miniauth'` to its Mini Program build
 * (miniprogram_dist/) and emits the module to
 * miniprogram_npm/miniauth/miniauth.wasm.br; other builds are left as they are.
 */
declare function miniauth(options?: MiniauthViteOptions): {
  name: 'miniauth';
  enforce: 'pre';
  resolveId(source: string): string | null;
  generateBundle(): void;
};

declare namespace miniauth {
  export type { MiniauthViteOptions };
}

export = miniauth;
