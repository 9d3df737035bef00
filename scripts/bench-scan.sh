#!/usr/bin/env bash
# Scan throughput of the built-in detectors (all on), native and compiled to Wasm (run by
# Node's V8, the engine family Envoy embeds), on JSON bodies of 1 KiB, 64 KiB and 1 MiB,
# clean and with sensitive values. One run, one machine, one table.
#   scripts/bench-scan.sh           one run of each build
#   scripts/bench-scan.sh --best N  N runs of each, native and Wasm in turn; the table keeps
#                                   each case's best (a machine shared with other work slows
#                                   some runs by 20 % and more, never speeds one up)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
command -v node >/dev/null || { echo "node (Node.js) is needed to run the Wasm build" >&2; exit 1; }
runs=1
if [ "${1:-}" = "--best" ]; then runs=${2:?--best needs a number}; fi
say "building the benchmark (release), native and wasm32-wasip1"
run_example_native_and_wasm scan_bench
all_native="$native"
all_wasm="$wasm"
for _ in $(seq 2 "$runs"); do
  all_native+=$'\n'"$(target/release/examples/scan_bench)"
  all_wasm+=$'\n'"$(node --no-warnings scripts/wasi-run.mjs target/wasm32-wasip1/release/examples/scan_bench.wasm)"
done
echo
echo "| body | bytes | values found | native MB/s | Wasm (Node $(node --version), V8 $(node -p process.versions.v8)) MB/s | Wasm / native |"
echo "|---|---|---|---|---|---|"
python3 - "$all_native" "$all_wasm" <<'PY'
import sys
def best(text):
    order, rows = [], {}
    for line in text.splitlines():
        case, size, mbps, found = line.split("\t")
        if case not in rows:
            order.append(case)
            rows[case] = (size, float(mbps), found)
        elif float(mbps) > rows[case][1]:
            rows[case] = (size, float(mbps), found)
    return order, rows
order, nat = best(sys.argv[1])
_, was = best(sys.argv[2])
for case in order:
    size, n, found = nat[case]
    w = was[case][1]
    print(f"| {case} | {size} | {found} | {n:.0f} | {w:.0f} | {w / n:.2f} |")
PY
echo
[ "$runs" -gt 1 ] && echo "Best of $runs runs of each build, run in turn."
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; $(rustc --version)"
