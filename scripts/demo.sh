#!/usr/bin/env bash
# The demo: builds the filter, installs Envoy, starts the mock agent (127.0.0.1:8000) and
# Envoy with envoy/envoy.yaml (127.0.0.1:10000, admin 127.0.0.1:9901), then sends example
# requests that get 200, 449, an override and 403, and shows the event lines they produced.
# Everything keeps running until Ctrl-C.   --once: stop after the examples (used by the tests).
source "$(dirname "$0")/lib.sh"
once=false
[ "${1:-}" = "--once" ] && once=true

setup
build
cd "$ROOT"

for port in 8000 9901 10000; do
  if ! python3 -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $port))" 2>/dev/null; then
    echo "port 127.0.0.1:$port is in use; the demo needs 8000 (agent), 9901 (admin) and 10000 (Envoy)" >&2
    exit 1
  fi
done

EVENTS="$ROOT/target/iatp-events.jsonl"
rm -f "$EVENTS"
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 130' INT TERM

say "starting the mock agent on 127.0.0.1:8000"
"$MOCK_AGENT" --port 8000 >"$ROOT/target/demo-agent.log" 2>&1 &
pids+=($!)
say "starting Envoy $("$ENVOY_BIN" --version | sed -n 's/.*version: [^/]*\/\([^/]*\)\/.*/\1/p') with envoy/envoy.yaml on 127.0.0.1:10000"
"$ENVOY_BIN" -c envoy/envoy.yaml --concurrency 2 --file-flush-interval-msec 100 \
  >"$ROOT/target/demo-envoy.log" 2>&1 &
envoy_pid=$!
pids+=("$envoy_pid")

python3 - "$envoy_pid" <<'PY' || { tail -n 30 "$ROOT/target/demo-envoy.log" >&2; exit 1; }
import os, sys, time, urllib.request
pid = int(sys.argv[1])
deadline = time.time() + 60
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("Envoy exited; its log follows")
    try:
        if urllib.request.urlopen("http://127.0.0.1:9901/ready", timeout=1).read().strip() == b"LIVE":
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit("Envoy did not become ready within 60 s")
PY

status=0
python3 scripts/demo_requests.py --url http://127.0.0.1:10000 --events "$EVENTS" || status=$?
if $once; then
  exit $status
fi
cat <<EOT

Envoy with the IATP filter: http://127.0.0.1:10000 (admin: http://127.0.0.1:9901)
Agent: http://127.0.0.1:8000        Events: $EVENTS
Logs: target/demo-envoy.log, target/demo-agent.log
Try:  python3 scripts/demo_requests.py     or send your own requests.  Ctrl-C stops everything.
EOT
wait "$envoy_pid"
