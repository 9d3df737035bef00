#!/usr/bin/env bash
# The proxy benchmark: Envoy without the filter, with it (GET; clean JSON of 1, 16 and
# 256 KiB; a card answered with 403; monitor mode) and the reference Python sidecar, on the
# same upstream and bodies, in one run on this machine. Prints a table of medians and ratios,
# also written to target/bench/results.md (and .json). See docs/performance.md.
#   scripts/bench.sh            the full run (about 16 minutes), then the core's own tables
#                               (scripts/bench-core.sh, scripts/bench-curves.sh: a minute)
#   scripts/bench.sh --smoke    each kind of scenario (1 KiB bodies) for a second: checks the
#                               script; the numbers it prints mean nothing
# Other options go to scripts/bench.py (--rounds, --duration, --connections, --workers;
# --baseline-wasm FILE runs an earlier build of the filter beside this one, interleaved;
# --idle-starts N measures only Envoy's idle memory, N starts of each variant in turn;
# --compare enforce,nohold,... runs only those variants beside the no-op filter on one request,
# --request get|post1k|mcp, and with --perf says where Envoy's CPU goes, by shared object).
source "$(dirname "$0")/lib.sh"
BENCH_VENV="$ROOT/.venv-bench"

setup
build
cd "$ROOT"

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk (Debian package)"
  sudo_=""
  [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get install -y wrk >/dev/null 2>&1 || {
    $sudo_ apt-get update >/dev/null && $sudo_ apt-get install -y wrk >/dev/null
  }
fi

if [ ! -x "$BENCH_VENV/bin/python" ]; then
  say "creating the virtualenv .venv-bench (the Python sidecar)"
  python3 -m venv "$BENCH_VENV"
fi
want_bench="$(cat scripts/requirements-bench.txt)"
have_bench="$(cat "$BENCH_VENV/.installed" 2>/dev/null || true)"
if [ "$want_bench" != "$have_bench" ]; then
  say "installing the reference Python sidecar (agentmesh-trust-protocol) into .venv-bench"
  "$BENCH_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    -r scripts/requirements-bench.txt
  printf '%s' "$want_bench" >"$BENCH_VENV/.installed"
fi

cargo build -q --release --target wasm32-wasip1 -p noop-filter
NOOP_WASM="$ROOT/target/wasm32-wasip1/release/noop_filter.wasm"

out="$ROOT/target/bench"
core_table=1
for arg in "$@"; do
  [ "$arg" = "--smoke" ] && out="$ROOT/target/bench-smoke"
  [ "$arg" = "--idle-starts" ] && core_table=0
  [ "$arg" = "--compare" ] && core_table=0
  if [ "$arg" = "--perf" ] && ! command -v perf >/dev/null 2>&1; then
    say "installing perf (Debian package linux-perf)"
    sudo_=""
    [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get install -y linux-perf >/dev/null 2>&1 || {
      $sudo_ apt-get update >/dev/null && $sudo_ apt-get install -y linux-perf >/dev/null
    }
  fi
done
"$BENCH_VENV/bin/python" scripts/bench.py --envoy "$ENVOY_BIN" --wasm "$WASM" \
  --noop-wasm "$NOOP_WASM" --mock-agent "$MOCK_AGENT" --out "$out" "$@"

# Where a request's time goes inside the filter: its core, phase by phase, natively and as Wasm
# (scripts/bench-core.sh).
if [ "$out" = "$ROOT/target/bench" ] && [ "$core_table" = 1 ] && command -v node >/dev/null 2>&1; then
  say "the filter's core per request, by phase (core/examples/request_bench.rs)"
  "$ROOT/scripts/bench-core.sh" | tee -a "$out/results.md"
fi

# Cost that grows with the work: the core per request as the body, rules, custom detectors,
# callers and cached manifests grow, natively and as Wasm (scripts/bench-curves.sh).
if [ "$out" = "$ROOT/target/bench" ] && [ "$core_table" = 1 ] && command -v node >/dev/null 2>&1; then
  say "cost that grows with the work (core/examples/curves.rs)"
  "$ROOT/scripts/bench-curves.sh" | tee -a "$out/results.md"
fi
