// The wasm-bindgen glue that scripts/assemble-pkg.mjs aliases as
// 'miniauth-wasm-glue' (target/wasm-out/glue.js), as far as the entries use
// it; the bindings themselves are the core's boundary (src/boundary.rs).
declare module 'miniauth-wasm-glue' {
  export default function init(options: { module_or_path: unknown }): Promise<unknown>;
  export function initSync(options: { module: unknown }): unknown;
  export function __wbg_get_imports(): object;
  export function __wbg_finalize_init(instance: unknown, module: unknown): unknown;
  export const KeyStore: any;
  export const Policy: any;
  export const SessionCore: any;
  export function decode_jwt(token: string): string;
  export function decode_protected_header(token: string): string;
  export function storage_key(): string;
  export function contract(): string;
}
