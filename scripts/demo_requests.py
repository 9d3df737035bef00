#!/usr/bin/env python3
"""The demo's example requests against an Envoy running envoy/envoy.yaml (the booking agent
keeps data permanently: SSNs and cards are blocked, e-mail addresses need confirmation).

Prints each request, the answer, and the event lines it produced; exits non-zero when an
answer is not the one the demo promises (the host tests run this script too).

    demo_requests.py [--url http://127.0.0.1:10000] [--events target/iatp-events.jsonl]
"""
import argparse
import json
import sys
import time
import urllib.error
import urllib.request

# `{token}` is the override token of the last 449.
STEPS = [
    # (title, method, path, body, extra headers, expected status)
    ("A clean booking goes through", "POST", "/book",
     {"task": "book_flight", "from": "ZRH", "to": "SFO", "seats": 2}, {}, 200),
    ("An e-mail address for an agent that keeps data forever needs confirmation", "POST", "/book",
     {"task": "book_flight", "contact": "jane.doe@example.com"}, {"X-Agent-Trace-ID": "demo-confirm"}, 449),
    ("The caller confirms with the 449's token: forwarded, marked quarantined", "POST", "/book",
     {"task": "book_flight", "contact": "jane.doe@example.com"},
     {"X-Agent-Trace-ID": "demo-confirm", "X-User-Override": "{token}"}, 200),
    ("A card number is blocked", "POST", "/book",
     {"task": "pay", "card": "4111 1111 1111 1111"}, {}, 403),
    ("So is an SSN: no confirmation lifts a block", "POST", "/book",
     {"task": "verify", "ssn": "123-45-6789"}, {"X-User-Override": "true"}, 403),
    ("The agent's manifest, served by the filter", "GET", "/.well-known/agent-manifest", None, {}, 200),
]

SHOWN_HEADERS = ("x-agent-trace-id", "x-agent-trust-score", "x-agent-quarantined")


def send(url, method, path, body, headers):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in headers.items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def events_for(path, trace_id, want_type):
    """The event lines of one trace, waiting for Envoy's access log flush."""
    deadline = time.time() + 5
    lines = []
    while time.time() < deadline:
        try:
            with open(path, encoding="utf-8") as f:
                lines = [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            lines = []
        mine = [l for l in lines if l.get("trace_id") == trace_id]
        if any(l.get("type") == want_type for l in mine):
            return mine
        time.sleep(0.1)
    return [l for l in lines if l.get("trace_id") == trace_id]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:10000")
    p.add_argument("--events", default="target/iatp-events.jsonl")
    args = p.parse_args()
    failures = 0
    token = ""
    for n, (title, method, path, body, headers, want) in enumerate(STEPS, 1):
        headers = {k: v.replace("{token}", token) for k, v in headers.items()}
        print(f"\n=== {n}. {title}")
        extra = "".join(f" -H '{k}: {v}'" for k, v in headers.items())
        shown_body = f" -d '{json.dumps(body)}'" if body is not None else ""
        print(f"$ curl -X {method} {args.url}{path}{extra}{shown_body}")
        status, resp_headers, resp_body = send(args.url, method, path, body, headers)
        mark = "ok" if status == want else f"UNEXPECTED, the demo expects {want}"
        print(f"<- {status} ({mark})")
        lower = {k.lower(): v for k, v in resp_headers.items()}
        for h in SHOWN_HEADERS:
            if h in lower:
                print(f"   {h}: {lower[h]}")
        text = resp_body.decode("utf-8", "replace")
        if status == 449:
            token = json.loads(text).get("override_token", "")
        print("   " + (text if len(text) < 400 else text[:400] + "..."))
        trace = lower.get("x-agent-trace-id", "")
        final = {200: "response", 449: "warning", 403: "blocked"}.get(want, "request")
        if path.startswith("/.well-known/"):
            final = "request"
        lines = events_for(args.events, trace, final)
        for line in lines:
            print("   event: " + json.dumps(line, separators=(",", ":")))
        if not any(l.get("type") == final for l in lines):
            print(f"   (no '{final}' event line for trace {trace!r} in {args.events})")
            failures += 1
        elif status != want:
            failures += 1
    print()
    if failures:
        print(f"{failures} request(s) did not get the answer or event the demo expects", file=sys.stderr)
        return 1
    print("All demo requests got the expected answers.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
