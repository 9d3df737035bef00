"""The reference IATP sidecar (`iatp.main:app` of PyPI's agentmesh-trust-protocol), as
scripts/bench.sh runs it: unchanged, except that its flight recorder writes under
$IATP_BENCH_LOG_DIR instead of its hard-coded /tmp/iatp_logs (it still writes its files, one
per request, as it does in production).

    IATP_BENCH_LOG_DIR=... IATP_AGENT_URL=... uvicorn --app-dir scripts bench_sidecar:app
"""
import os
from pathlib import Path

import iatp.telemetry

iatp.telemetry.FlightRecorder.__init__.__defaults__ = (Path(os.environ["IATP_BENCH_LOG_DIR"]),)

from iatp.main import app  # noqa: E402  (after the patch: main.py builds its recorder at import)

__all__ = ["app"]
