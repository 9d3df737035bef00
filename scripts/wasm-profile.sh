#!/usr/bin/env bash
# Where one request's time goes inside the Wasm VM: the whole filter module (glue and core),
# built unstripped so that V8's profile names its functions, run request after request in
# Node's V8 against a small proxy-wasm host (scripts/wasm-request-profile.mjs) with the
# benchmark's configuration (scripts/bench.py's enforce variant). Prints µs per request, host
# calls per request, and the functions with the most self time, for a GET and a clean 1 KiB
# POST. Options go to wasm-request-profile.mjs (--requests N, --top K).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
command -v node >/dev/null || { echo "node (Node.js) is needed" >&2; exit 1; }
names="$ROOT/target/names"
say "building the filter unstripped (release, wasm32-wasip1) into $names"
CARGO_TARGET_DIR="$names" CARGO_PROFILE_RELEASE_STRIP=false \
  cargo build -q --release --target wasm32-wasip1 -p iatp-filter
module="$names/wasm32-wasip1/release/iatp_filter.wasm"
config="$ROOT/target/wasm-profile-config.json"
python3 -c 'import sys; sys.path.insert(0, "scripts"); import bench; print(bench.bench_plugin("enforce"))' >"$config"
for req in --get ""; do
  # As Envoy's V8 runs the filter: every function compiled by the optimizing tier at load.
  node --no-warnings --no-liftoff --no-wasm-lazy-compilation scripts/wasm-request-profile.mjs \
    "$module" "$config" --profile $req "$@"
  echo
done
