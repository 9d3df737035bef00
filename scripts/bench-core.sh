#!/usr/bin/env bash
# Where a request's time goes inside the filter: its core (core/examples/request_bench.rs),
# phase by phase, natively and compiled to Wasm (run by Node's V8). One markdown table on
# stdout; scripts/bench.sh appends it to its results. A few seconds once built.
#
# The Wasm build runs with --no-liftoff --no-wasm-lazy-compilation, as Envoy's V8 runs the
# filter: every function compiled by the optimizing tier when the module loads. Without them
# the first phases measured ran partly on baseline code (a GET's header phase at 8 µs instead
# of 3, scripts/bench-curves.sh says more).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
command -v node >/dev/null || { echo "node (Node.js) is needed to run the Wasm build" >&2; exit 1; }
run_example_native_and_wasm request_bench --no-liftoff --no-wasm-lazy-compilation
echo
echo "| phase | request | native µs | Wasm (Node $(node --version)) µs |"
echo "|---|---|---|---|"
paste <(printf '%s\n' "$native") <(printf '%s\n' "$wasm") |
  while IFS=$'\t' read -r phase req ns _p2 _r2 wns; do
    awk -v p="$phase" -v r="$req" -v n="$ns" -v w="$wns" \
      'BEGIN { printf "| %s | %s | %.1f | %.1f |\n", p, r, n / 1000, w / 1000 }'
  done
