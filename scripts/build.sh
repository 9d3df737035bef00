#!/usr/bin/env bash
# Builds the release .wasm (target/wasm32-wasip1/release/iatp_filter.wasm) and the mock agent.
source "$(dirname "$0")/lib.sh"
setup
build
