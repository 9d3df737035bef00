#!/usr/bin/env bash
# Checks an Envoy configuration that runs the IATP filter, before it is deployed:
#
#   scripts/check-config.sh envoy/envoy.yaml
#
# 1. Envoy's own validation, `envoy --mode validate -c FILE`, run in the current directory (so
#    relative paths in FILE, such as the .wasm's, resolve as they will when Envoy starts there).
#    Envoy loads the Wasm module for it, so a configuration the filter refuses fails here too.
# 2. The filter's own checks (iatp-check-config, docs/operations.md): for every Wasm filter that
#    loads iatp_filter.wasm, its plugin configuration with the filter's parser (errors and load-
#    time warnings, naming the key or rule) and the Envoy settings the filter relies on:
#    `allow_on_headers_stop_iteration: true` while `hold_headers` is on (an error: without it
#    every request with a body hangs), the failure policy and the listener's buffer limit. A
#    filter whose configuration is discovered from a file (ECDS, envoy/envoy-ecds.yaml) is
#    checked with that file's resource: Envoy's validation does not read it.
#
# Exits non-zero when either finds an error. IATP_CHECK_CONFIG names a built iatp-check-config
# (scripts/build.sh builds it); otherwise it is built here.
CALLER_DIR="$PWD"
source "$(dirname "$0")/lib.sh"
if [ $# -ne 1 ]; then
  echo "usage: $0 ENVOY_CONFIG" >&2
  exit 2
fi
config="$1"
case "$config" in /*) ;; *) config="$CALLER_DIR/$config" ;; esac
[ -f "$config" ] || { echo "$0: no such file: $1" >&2; exit 2; }
setup
if [ -z "${IATP_CHECK_CONFIG:-}" ]; then
  cargo build -q --release -p iatp-verify --bin iatp-check-config
  IATP_CHECK_CONFIG="$ROOT/target/release/iatp-check-config"
fi
cd "$CALLER_DIR"
status=0
say "envoy --mode validate -c $1"
"$ENVOY_BIN" --mode validate --disable-hot-restart -l warning -c "$config" || status=1
say "the IATP filter's checks (iatp-check-config)"
"$IATP_CHECK_CONFIG" "$config" || status=1
if [ "$status" -eq 0 ]; then
  say "$1: OK"
else
  say "$1: FAILED"
fi
exit "$status"
