"""A remote agent for the gateway host tests: the target a client names in X-Target-Endpoint.

    target_agent.py [--name NAME] [--manifest FILE] [--attestation FILE] [--embed-attestation]
                    [--tls-cert FILE --tls-key FILE] [--record FILE]

It serves, on a free loopback port (HTTP, or HTTPS with --tls-cert/--tls-key):

  GET /.well-known/agent-manifest     the manifest (JSON object from --manifest; `{}` without
                                      one). With --embed-attestation and an attestation, the
                                      manifest carries it as member `attestation`, as the IATP
                                      SDK's sidecar does (pydantic `model_dump()`).
  GET /.well-known/agent-attestation  the attestation (JSON object from --attestation, e.g. made
                                      by sign_attestation.py), or 404 when there is none (the
                                      SDK's sidecar answers 404 then too).
  GET /__counts                       `{"<path>": n, ...}`: requests received per path (query
                                      left out), control paths (`/__...`) not counted.
  GET /__requests                     every request received so far (the echo objects below,
                                      oldest first), control paths left out.
  POST /__set                         JSON object; each member given replaces that setting:
                                        "manifest": object | null (null: `{}`),
                                        "attestation": object | null (null: none, 404),
                                        "embed_attestation": bool,
                                        "manifest_status": int (default 200; the body stays the
                                          manifest, or is `{"error": "status N"}` when N is not
                                          2xx),
                                        "manifest_delay_ms": int (pause before answering both
                                          well-known paths; at most 30000),
                                        "reset_counts": true (counts and recorded requests
                                          cleared).
                                      Answers the whole setting as JSON. Unknown member, wrong
                                      type: 400.
  anything else                       200, JSON echo of what arrived:
                                      {"agent": NAME, "method", "path" (with query),
                                       "headers": {lower-cased name: value, repeated names
                                       joined with ", "}, "body" (text, invalid UTF-8
                                       replaced), "tls": bool, "sni": the TLS server name the
                                       client sent, or null}.

Prints `listening on 127.0.0.1:PORT`, then `control on 127.0.0.1:PORT` (with TLS, a second,
plain-HTTP port with the same endpoints, for the harness's control requests; without, the same
port), then serves (one thread per connection, HTTP/1.1 keep-alive) until killed. With
--record, every request (control paths left out) is appended to FILE as one JSON line (the echo
object) before it is answered. Standard library only.
"""

import argparse
import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MANIFEST_PATH = "/.well-known/agent-manifest"
ATTESTATION_PATH = "/.well-known/agent-attestation"
MAX_DELAY_MS = 30000

LOCK = threading.Lock()
STATE = {
    "manifest": {},
    "attestation": None,
    "embed_attestation": False,
    "manifest_status": 200,
    "manifest_delay_ms": 0,
}
COUNTS = {}
REQUESTS = []
SETTINGS = {
    "manifest": (dict, type(None)),
    "attestation": (dict, type(None)),
    "embed_attestation": (bool,),
    "manifest_status": (int,),
    "manifest_delay_ms": (int,),
    "reset_counts": (bool,),
}


def load_json(path):
    with open(path, encoding="utf-8") as f:
        value = json.load(f)
    if not isinstance(value, dict):
        sys.exit(f"{path}: not a JSON object")
    return value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "iatp-target-agent"
    # The status line and headers go out in one write, the body in another: with Nagle's
    # algorithm on a kept-alive connection (Envoy's upstream pool), the body then waits for
    # the peer's delayed ACK, about 40 ms per request.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        # TLS: the handshake runs in this connection's thread, not in the accept loop. A failed
        # one (the client refused our certificate) ends the connection quietly.
        self.handshake_failed = False
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.handshake_failed = True
        super().setup()

    def handle(self):
        if not self.handshake_failed:
            super().handle()

    def send_json(self, status, value, extra=()):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        for name, v in extra:
            self.send_header(name, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("content-length") or 0)
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(length) if length else b""

    def echo(self, body):
        headers = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return {
            "agent": self.server.agent_name,
            "method": self.command,
            "path": self.path,
            "headers": headers,
            "body": body.decode("utf-8", "replace"),
            "tls": isinstance(self.connection, ssl.SSLSocket),
            "sni": getattr(self.connection, "iatp_sni", None),
        }

    def handle_any(self):
        body = self.read_body()
        path = self.path.split("?", 1)[0]
        if path.startswith("/__"):
            return self.control(path, body)
        record = self.echo(body)
        with LOCK:
            COUNTS[path] = COUNTS.get(path, 0) + 1
            REQUESTS.append(record)
            state = dict(STATE)
            if self.server.record:
                with open(self.server.record, "a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")
        if path in (MANIFEST_PATH, ATTESTATION_PATH) and self.command in ("GET", "HEAD"):
            if state["manifest_delay_ms"] > 0:
                time.sleep(state["manifest_delay_ms"] / 1000)
            if path == ATTESTATION_PATH:
                if state["attestation"] is None:
                    return self.send_json(404, {"error": "no attestation"})
                return self.send_json(200, state["attestation"])
            status = state["manifest_status"]
            if not 200 <= status < 300:
                return self.send_json(status, {"error": f"status {status}"})
            manifest = dict(state["manifest"])
            if state["embed_attestation"] and state["attestation"] is not None:
                manifest["attestation"] = state["attestation"]
            return self.send_json(status, manifest)
        self.send_json(200, record)

    def control(self, path, body):
        if path == "/__counts" and self.command == "GET":
            with LOCK:
                return self.send_json(200, dict(COUNTS))
        if path == "/__requests" and self.command == "GET":
            with LOCK:
                return self.send_json(200, list(REQUESTS))
        if path == "/__set" and self.command == "POST":
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
                # bool is an int in Python: refuse true/false for the integer settings.
                if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                    return self.send_json(400, {"error": f"{key}: wrong type"})
            if not 0 <= update.get("manifest_delay_ms", 0) <= MAX_DELAY_MS:
                return self.send_json(400, {"error": "manifest_delay_ms out of range"})
            if not 100 <= update.get("manifest_status", 200) <= 599:
                return self.send_json(400, {"error": "manifest_status out of range"})
            with LOCK:
                if update.pop("reset_counts", False):
                    COUNTS.clear()
                    REQUESTS.clear()
                if update.get("manifest", {}) is None:
                    update["manifest"] = {}
                STATE.update(update)
                return self.send_json(200, dict(STATE))
        self.send_json(404, {"error": f"no control endpoint {self.command} {path}"})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    tls = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="target")
    p.add_argument("--manifest")
    p.add_argument("--attestation")
    p.add_argument("--embed-attestation", action="store_true")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--record")
    args = p.parse_args()
    if args.manifest:
        STATE["manifest"] = load_json(args.manifest)
    if args.attestation:
        STATE["attestation"] = load_json(args.attestation)
    STATE["embed_attestation"] = args.embed_attestation
    server = Server(("127.0.0.1", 0), Handler)
    server.agent_name = args.name
    server.record = args.record
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            sys.exit("--tls-cert and --tls-key go together")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)

        def remember_sni(sock, server_name, _ctx):
            sock.iatp_sni = server_name

        ctx.sni_callback = remember_sni
        server.tls = ctx
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)
    control_port = port
    if server.tls is not None:
        # The harness reads counts and changes settings over plain HTTP, without a TLS client.
        control = Server(("127.0.0.1", 0), Handler)
        control.agent_name = args.name
        control.record = args.record
        control_port = control.server_address[1]
        threading.Thread(target=control.serve_forever, daemon=True).start()
    print(f"control on {host}:{control_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
