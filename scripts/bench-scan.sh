#!/usr/bin/env bash
# Scan throughput of the built-in detectors (all on), native and compiled to Wasm (run by
# Node's V8, the engine family Envoy embeds), on JSON bodies of 1 KiB, 64 KiB and 1 MiB,
# clean and with sensitive values. One run, one machine, one table.
#   scripts/bench-scan.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
command -v node >/dev/null || { echo "node (Node.js) is needed to run the Wasm build" >&2; exit 1; }
say "building the benchmark (release), native and wasm32-wasip1"
run_example_native_and_wasm scan_bench
echo
echo "| body | bytes | values found | native MB/s | Wasm (Node $(node --version), V8 $(node -p process.versions.v8)) MB/s | Wasm / native |"
echo "|---|---|---|---|---|---|"
paste <(printf '%s\n' "$native") <(printf '%s\n' "$wasm") | while IFS=$'\t' read -r case bytes n_mbps found _case2 _bytes2 w_mbps _found2; do
  ratio=$(python3 -c "print(f'{$w_mbps / $n_mbps:.2f}')")
  echo "| $case | $bytes | $found | $n_mbps | $w_mbps | $ratio |"
done
echo
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; $(rustc --version)"
