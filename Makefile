# Every target installs what it needs first (scripts/setup.sh skips what is
# already there), so each works on a fresh machine.

.PHONY: demo test lint setup wasm addon pkg test-js test-server schemathesis fuzz fuzz-smoke bench bench-server clean

## demo: the playground: the built package in a page served by the reference
## server in WeChat-simulator mode (Ctrl-C stops it)
demo: pkg
	scripts/demo.sh

## test: the gates (make lint), a few seconds of each fuzz target, then every
## test: Rust (unit, vectors, interop, again with the native addon's Ed25519
## verifier, the server over HTTP on SQLite, then
## the server's tests again on PostgreSQL), schemathesis against the server's
## OpenAPI document on both, then the built package in Node, headless
## Chromium and the Mini Program simulator
test: setup
	$(MAKE) lint
	$(MAKE) fuzz-smoke
	cargo test --lib --no-default-features
	cargo test --all-targets --features server
	cargo test --features fast-ed25519 --lib --test primitives --test interop
	scripts/with-postgres.sh cargo test --features server --test 'server_*'
	scripts/schemathesis.sh
	scripts/with-postgres.sh scripts/schemathesis.sh
	$(MAKE) pkg
	$(MAKE) test-js

## lint: the gates, warnings as errors: rustfmt, clippy and rustdoc over the
## workspace, ESLint and tsc --checkJs over the package's JavaScript (js/) and
## the Wechaty plugin's (plugins/wechaty/), tsc over the plugin's declarations
lint: setup
	cargo fmt --all --check
	cargo fmt --manifest-path fuzz/Cargo.toml --check
	cargo fmt --manifest-path bench/server/load/Cargo.toml --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings
	CARGO_TARGET_DIR=target/bench-server-load cargo clippy --manifest-path bench/server/load/Cargo.toml --locked -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --all-features
	npx eslint --max-warnings 0 js/ plugins/wechaty/src plugins/wechaty/test
	npx tsc -p js/tsconfig.json
	npx tsc -p plugins/wechaty/tsconfig.json
	npx tsc -p plugins/wechaty/test/tsconfig.json

setup:
	scripts/setup.sh

## wasm: the one WebAssembly MVP module, checked as WeChat on iOS checks it
wasm: setup
	scripts/build-wasm.sh

## addon: the native Node addon for this machine (bindings/node)
addon: setup
	scripts/build-addon.sh

## pkg: the npm package in pkg/
pkg: wasm addon
	node scripts/assemble-pkg.mjs

## test-server: the server's integration tests (real server over HTTP,
## injected clock, SIGKILL), on SQLite and on a throwaway PostgreSQL
test-server: setup
	cargo test --features server --test 'server_*'
	scripts/with-postgres.sh cargo test --features server --test 'server_*'

## schemathesis: property-based API tests of the server against its /openapi.json
schemathesis: setup
	scripts/schemathesis.sh

## fuzz: each cargo-fuzz target (fuzz/; stable Rust, so no sanitizer: -s none)
## for FUZZ_RUNS executions from the committed seeds in fuzz/corpus/ (new
## inputs go to fuzz/target/corpus/, crashes to fuzz/artifacts/); one target:
## make fuzz FUZZ_TARGETS=token
FUZZ_TARGETS ?= token claims jwk strict_json session server_body
FUZZ_RUNS ?= 2000000
FUZZ_SMOKE_SECONDS ?= 3
# Inputs up to 8 KiB (tokens and answers are smaller); 10 s for any one input.
FUZZ_OPTIONS = -max_len=8192 -timeout=10 -print_final_stats=1
define fuzz_each
	cargo fuzz build -s none
	for target in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/target/corpus/$$target && \
	  cargo fuzz run -s none $$target fuzz/target/corpus/$$target fuzz/corpus/$$target -- $(FUZZ_OPTIONS) $(1) || exit 1; \
	done
endef
fuzz: setup
	$(call fuzz_each,-runs=$(FUZZ_RUNS))

## fuzz-smoke: each fuzz target for FUZZ_SMOKE_SECONDS seconds (part of make test)
fuzz-smoke: setup
	$(call fuzz_each,-max_total_time=$(FUZZ_SMOKE_SECONDS))

## test-js: the JavaScript suite on the built package: everything with Node on
## the native addon (the Wechaty plugin on its mock puppet too), then the Node
## suites again on the WebAssembly module
NODE_SUITES = tests/js/node.test.mjs tests/js/remote-jwks.test.mjs tests/js/token-cache.test.mjs tests/js/auth-client.test.mjs
test-js:
	MINIAUTH_BACKEND=native node --test --test-concurrency=1 tests/js/ tests/miniprogram-sim/ tests/types/ plugins/wechaty/test/*.test.mjs
	MINIAUTH_BACKEND=wasm node --test --test-concurrency=1 $(NODE_SUITES)

## bench: verify throughput, size and cold start against other libraries
bench: pkg
	[ -d bench/node_modules/@node-rs/jsonwebtoken ] || npm install --prefix bench --no-audit --no-fund
	node bench/run.mjs

## bench-server: requests/s and p50/p99 latency of the reference server on loopback
## (code login, refresh with rotation, JWKS); writes bench/results/server-latest.json
bench-server:
	bench/server/run.sh

clean:
	rm -rf target/wasm-out target/addon-out pkg
