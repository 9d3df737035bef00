#!/usr/bin/env python3
"""Host calls per request, by kind: the filter built with its `hostcall-count` feature runs in
Envoy (envoy/envoy.yaml's configuration, as scripts/bench.py runs it; one worker), each kind of
request is sent `n` times, and the counts the filter logs on its timer are read before and
after. Issue 15's profile: every crossing between the Wasm VM and Envoy costs.

    scripts/hostcalls.sh            (builds the counting module, then runs this)
"""
import argparse
import json
import re
import sys
import time
import urllib.request

import bench
from bench import ROOT, Proc, free_port, json_body, wait_http

LINE = re.compile(r"\]\[(\d+)\]\[info\]\[wasm\].*hostcalls streams=(\d+) (.*)$")


def counts(log_path):
    """Every VM's last counts (keyed by its thread), added up."""
    last = {}
    for line in log_path.read_text(errors="replace").splitlines():
        m = LINE.search(line)
        if m:
            last[m.group(1)] = m
    if not last:
        return None
    total = {"streams": 0}
    for m in last.values():
        total["streams"] += int(m.group(2))
        for kv in m.group(3).split():
            k, v = kv.split("=")
            total[k] = total.get(k, 0) + int(v)
    return total


def settled(log_path, after):
    """The counts once two ticks in a row agree (the timer runs every second)."""
    deadline = time.time() + 10
    prev = None
    while time.time() < deadline:
        time.sleep(1.1)
        c = counts(log_path)
        if c and c == prev and c["streams"] >= after:
            return c
        prev = c
    sys.exit("the filter's host-call counts did not settle")


def send(url, body, headers, n):
    for _ in range(n):
        req = urllib.request.Request(url, data=body.encode() if body else None,
                                     headers={"content-type": "application/json", **headers},
                                     method="POST" if body else "GET")
        try:
            urllib.request.urlopen(req, timeout=10).read()
        except urllib.error.HTTPError as e:
            e.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--envoy", required=True)
    ap.add_argument("--wasm", required=True)
    ap.add_argument("--mock-agent", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("-n", type=int, default=200)
    args = ap.parse_args()
    work = bench.Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    agent_port = free_port()
    agent = Proc("mock agent", [args.mock_agent, "--port", str(agent_port), "--body",
                                '{"ok":true}', "--manifest", bench.AGENT_MANIFEST],
                 work / "agent.log")
    wait_http(f"http://127.0.0.1:{agent_port}/ready", agent)
    bench_args = argparse.Namespace(envoy=args.envoy, wasm=args.wasm, noop_wasm=args.wasm,
                                    baseline_wasm=None, workers=1, wasm_log=True)
    scenarios = [
        ("enforce", "GET", None, {}, "/status"),
        ("enforce", "POST 1 KiB clean", json_body(1024), {}, "/book"),
        ("enforce", "POST 1 KiB with a card (403)", json_body(1024, card=True), {}, "/book"),
        ("responses", "GET answered with 1 KiB JSON, inspected", None, bench.JSON_RESPONSE,
         "/answer"),
        ("callers", "POST 1 KiB MCP tools/call (callers, rate limit, rules)",
         bench.mcp_body(1024), {}, "/mcp"),
        ("gateway", "POST 1 KiB in gateway mode (a warm manifest-cache hit)",
         json_body(1024), {"X-Target-Endpoint": f"http://127.0.0.1:{agent_port}"}, "/book"),
    ]
    rows = []
    envs = {}
    try:
        for variant, what, body, headers, path in scenarios:
            if variant not in envs:
                envs[variant] = bench.EnvoyUnderTest(bench_args, work, variant, agent_port)
            env = envs[variant]
            log_path = work / f"envoy-{variant}.log"
            # Envoy logs at warning in bench.py: the counts are info lines.
            send(env.url + path, body, headers, 3)  # warm up (the gateway's first fetch)
            before = settled(log_path, 0)
            send(env.url + path, body, headers, args.n)
            after = settled(log_path, before["streams"] + args.n)
            streams = after["streams"] - before["streams"]
            per = {k: (after[k] - before[k]) / streams for k in after if k != "streams"}
            rows.append((what, per))
    finally:
        for p in reversed(bench.STARTED):
            p.stop()
    kinds = [k for k in rows[0][1]]
    out = ["| request | total | " + " | ".join(kinds) + " |",
           "|---|---|" + "---|" * len(kinds)]
    for what, per in rows:
        total = sum(per.values())
        out.append(f"| {what} | {total:.1f} | " +
                   " | ".join(f"{per[k]:.1f}" for k in kinds) + " |")
    print("\n".join(out))
    (work / "hostcalls.md").write_text("\n".join(out) + "\n")
    (work / "hostcalls.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
