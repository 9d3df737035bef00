"""A control plane for the gateway host tests: serves the contracts the IATP filter polls.

    control_plane.py [--contracts FILE] [--path /v1/contracts]

It serves, on a free loopback port (plain HTTP):

  GET <path>?tenant_id=ID   `{"contracts": [...]}` (the current set, whatever the tenant: the
                            filter must drop another tenant's contracts itself), with the
                            current status (200 unless set) after the current delay. With
                            "body" set, that text is the answer's body instead (for answers
                            that are not JSON, or not the expected shape).
  GET /__counts             `{"fetches": n, "last": {"path", "query" (raw), "params"
                            ({name: [values]}), "headers" ({lower-cased name: value}),
                            "method"} | null}`: the contract fetches so far and the last one.
  POST /__set               JSON object; each member given replaces that setting:
                              "contracts": [...] (any JSON array, served as is),
                              "status": int (100..599),
                              "delay_ms": int (0..30000, pause before answering a fetch),
                              "body": text | null (null: the JSON document above),
                              "reset_counts": true.
                            Answers the whole setting as JSON. Unknown member, wrong type: 400.
  anything else             404 `{"error": ...}` (not counted).

--contracts FILE: the initial set (a JSON array, or an object with member "contracts"); empty
without. Prints `listening on 127.0.0.1:PORT` first, then serves (one thread per connection,
HTTP/1.1 keep-alive) until killed. Standard library only.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

MAX_DELAY_MS = 30000
LOCK = threading.Lock()
STATE = {"contracts": [], "status": 200, "delay_ms": 0, "body": None}
FETCHES = {"fetches": 0, "last": None}
SETTINGS = {
    "contracts": (list,),
    "status": (int,),
    "delay_ms": (int,),
    "body": (str, type(None)),
    "reset_counts": (bool,),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "iatp-control-plane"

    def log_message(self, fmt, *args):
        pass

    def send_body(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, value):
        self.send_body(status, json.dumps(value).encode())

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/__counts":
            with LOCK:
                return self.send_json(200, dict(FETCHES))
        if path != self.server.contracts_path:
            return self.send_json(404, {"error": f"no such path {path}"})
        headers = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        with LOCK:
            FETCHES["fetches"] += 1
            FETCHES["last"] = {
                "method": self.command,
                "path": path,
                "query": query,
                "params": parse_qs(query, keep_blank_values=True),
                "headers": headers,
            }
            state = dict(STATE)
        if state["delay_ms"] > 0:
            time.sleep(state["delay_ms"] / 1000)
        if state["body"] is not None:
            return self.send_body(state["status"], state["body"].encode())
        self.send_json(state["status"], {"contracts": state["contracts"]})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path != "/__set":
            return self.send_json(404, {"error": f"no such path {self.path}"})
        try:
            update = json.loads(body or b"{}")
        except ValueError as e:
            return self.send_json(400, {"error": f"not JSON: {e}"})
        if not isinstance(update, dict):
            return self.send_json(400, {"error": "not a JSON object"})
        for key, value in update.items():
            types = SETTINGS.get(key)
            if types is None:
                return self.send_json(400, {"error": f"unknown setting {key}"})
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                return self.send_json(400, {"error": f"{key}: wrong type"})
        if not 0 <= update.get("delay_ms", 0) <= MAX_DELAY_MS:
            return self.send_json(400, {"error": "delay_ms out of range"})
        if not 100 <= update.get("status", 200) <= 599:
            return self.send_json(400, {"error": "status out of range"})
        with LOCK:
            if update.pop("reset_counts", False):
                FETCHES.update({"fetches": 0, "last": None})
            STATE.update(update)
            return self.send_json(200, dict(STATE))


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--contracts")
    p.add_argument("--path", default="/v1/contracts")
    args = p.parse_args()
    if args.contracts:
        with open(args.contracts, encoding="utf-8") as f:
            value = json.load(f)
        if isinstance(value, dict):
            value = value.get("contracts")
        if not isinstance(value, list):
            sys.exit(f"{args.contracts}: neither a JSON array nor an object with `contracts`")
        STATE["contracts"] = value
    server = Server(("127.0.0.1", 0), Handler)
    server.contracts_path = args.path
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
