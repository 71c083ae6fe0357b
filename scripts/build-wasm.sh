#!/usr/bin/env bash
# Builds the one WebAssembly MVP module and its wasm-bindgen glue into
# target/wasm-out/, and refuses a module that WeChat on iOS would refuse.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/wasm-out
raw=target/wasm32v1-none/wasm/miniauth.wasm

cargo build --lib --profile wasm --target wasm32v1-none --no-default-features
rm -rf "$out" && mkdir -p "$out"
wasm-bindgen --target web --out-dir "$out" --out-name miniauth "$raw"

# wasm-bindgen's two exported Globals must go (see scripts/wasm-exports.mjs);
# wasm-opt then drops what only they kept alive. --mvp-features keeps its
# output to WebAssembly 1.0.
node scripts/wasm-exports.mjs strip "$out/miniauth_bg.wasm" "$out/stripped.wasm"
wasm-opt -Oz --mvp-features "$out/stripped.wasm" -o "$out/miniauth_bg.wasm"
rm "$out/stripped.wasm"

scripts/check-wasm.sh "$out/miniauth_bg.wasm"
