#!/usr/bin/env bash
# Every check, as CI runs it (.ci/run calls this): formatting, clippy on the native and the
# wasm build, unit tests (native, and compiled to Wasm under Node's V8), the host tests that
# run the built filter in a real Envoy (all on the pinned Envoy, a subset on the oldest
# supported one: scripts/envoy-range.txt), a run of the demo and a smoke run of the benchmark.
source "$(dirname "$0")/lib.sh"
start=$(date +%s)
command -v node >/dev/null || { echo "node (Node.js) is needed to run the unit tests as Wasm" >&2; exit 1; }
setup
cd "$ROOT"
say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy (native, all targets) -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
say "cargo clippy (wasm32-wasip1) -D warnings"
cargo clippy -p iatp-core -p iatp-filter --target wasm32-wasip1 -- -D warnings
build
say "unit tests and host tests (real Envoy: $ENVOY_BIN)"
cargo test --workspace
say "host-test subset (scripts/envoy-range.txt) on the oldest supported Envoy, $(envoy_range_oldest)"
# The supported range's other end; scripts/envoy-range.sh runs every wheel of the range.
envoy_range_run "$(envoy_range_oldest)"
say "unit tests compiled to wasm32-wasip1, run by Node's V8 ($(node --version))"
# A panic aborts a Wasm test run, so output is not captured: the failing test's message shows.
CARGO_TARGET_WASM32_WASIP1_RUNNER="node --no-warnings $ROOT/scripts/wasi-run.mjs" \
  cargo test -p iatp-core --target wasm32-wasip1 -- --nocapture
say "demo smoke run: scripts/demo.sh --once"
scripts/demo.sh --once >"$ROOT/target/demo-smoke.log" 2>&1 || { cat "$ROOT/target/demo-smoke.log"; exit 1; }
say "benchmark smoke run: scripts/bench.sh --smoke (every scenario for a second; no timing checks)"
scripts/bench.sh --smoke >"$ROOT/target/bench-smoke.log" 2>&1 || { cat "$ROOT/target/bench-smoke.log"; exit 1; }
say "benchmark smoke run: --compare (the floor, jwt_authn, gateway and JSON-RPC variants)"
scripts/bench.sh --smoke --compare floor,jsonrpc,jwt,gateway --request mcp >"$ROOT/target/bench-compare-smoke.log" 2>&1 ||
  { cat "$ROOT/target/bench-compare-smoke.log"; exit 1; }
say "all checks passed in $(( $(date +%s) - start ))s"
