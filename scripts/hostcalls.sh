#!/usr/bin/env bash
# Host calls per request, by kind (issue 15's profile): builds the filter with its
# `hostcall-count` feature (into target/hostcalls, beside the shipped build), runs it in Envoy
# with scripts/bench.py's configurations and counts what each kind of request makes.
#   scripts/hostcalls.sh [-n N]      N requests of each kind (default 200)
source "$(dirname "$0")/lib.sh"
setup
build
cd "$ROOT"
cargo build -q --release --target wasm32-wasip1 -p iatp-filter --features hostcall-count \
  --target-dir "$ROOT/target/hostcalls"
COUNTING="$ROOT/target/hostcalls/wasm32-wasip1/release/iatp_filter.wasm"
# scripts/bench.py's virtualenv (PyYAML); made with only what this needs when there is none.
PY="$ROOT/.venv-bench/bin/python"
if ! "$PY" -c "import yaml" 2>/dev/null; then
  python3 -m venv "$ROOT/.venv-bench" && "$PY" -m pip install --quiet pyyaml
fi
cd scripts
"$PY" hostcalls.py --envoy "$ENVOY_BIN" --wasm "$COUNTING" \
  --mock-agent "$MOCK_AGENT" --out "$ROOT/target/hostcalls/run" "$@"
