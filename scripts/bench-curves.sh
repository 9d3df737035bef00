#!/usr/bin/env bash
# Cost that grows with the work (core/examples/curves.rs): the core's work for one request as
# the body (1 KiB to 1 MiB), the block rules and custom detectors (1 to 100), the callers in
# the directory and the cached manifests (1 to 10,000) grow; native and compiled to Wasm (run
# by Node's V8, the engine family Envoy embeds). One run, one machine, one markdown table on
# stdout; scripts/bench.sh appends it to its results. About 20 s once built.
#
# The Wasm build runs with --no-liftoff --no-wasm-lazy-compilation: V8 compiles every function
# with its optimizing tier (TurboFan) when the module loads, the code a long-running Envoy ends
# up running. With its baseline tier first, points were timed while a function's optimized
# code was still being compiled in the background (a 1 KiB POST at 2 to 3 times its cost for a
# second or two on a busy machine); compiled lazily, the first configuration that reached new
# code (custom detectors) took 50 ms more to parse.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
command -v node >/dev/null || { echo "node (Node.js) is needed to run the Wasm build" >&2; exit 1; }
say "building and running the curves (release), native and wasm32-wasip1"
run_example_native_and_wasm curves --no-liftoff --no-wasm-lazy-compilation
echo
echo "| curve | x | native µs | Wasm (Node $(node --version), V8 $(node -p process.versions.v8)) µs | Wasm per unit | Wasm / native | note (Wasm run) |"
echo "|---|---|---|---|---|---|---|"
python3 - "$native" "$wasm" <<'PY'
import sys

def rows(text):
    out = {}
    for line in text.splitlines():
        curve, x, ns, _median, unit, per, note = line.split("\t", 6)
        out[(curve, x)] = (float(ns), unit, per, note)
    return out

def us(ns):
    v = ns / 1000
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"

nat = rows(sys.argv[1])
was = rows(sys.argv[2])
for key, (w, unit, per, note) in was.items():
    curve, x = key
    n = nat.get(key, (float("nan"),))[0]
    if per == "-":
        per_unit = ""
    else:
        per_unit = f"{float(per) / 1000:.3g} µs/{unit}"
    print(f"| {curve} | {x} | {us(n)} | {us(w)} | {per_unit} | {w / n:.2f} | {note} |")
PY
echo
echo "Each figure: the fastest of seven batches of at least 30 ms of requests (other work on the"
echo "machine only slows a batch down). Per unit: per KiB for the body; for rules, detectors and"
echo "prefix entries, the cost each adds over the curve's first point; blank where the cost"
echo "should stay flat."
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; $(rustc --version)"
