"""One HTTP/2 request over cleartext (prior knowledge), for the host tests: requests only
HTTP/2 can carry, such as any token as the method, or trailers. Uses hyper-h2 (pinned in
scripts/requirements-test.txt).

    h2_request.py HOST:PORT METHOD PATH [--header NAME:VALUE]... [--body TEXT] [--trailer NAME:VALUE]...

Prints one JSON object: {"status": 403, "headers": {...}, "body": "..."}; exits 2 on a reset.
"""

import argparse
import json
import socket
import sys

import h2.config
import h2.connection
import h2.events


def pair(text):
    name, _, value = text.partition(":")
    return name.strip().lower(), value.strip()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("addr")
    p.add_argument("method")
    p.add_argument("path")
    p.add_argument("--header", action="append", default=[], type=pair)
    p.add_argument("--trailer", action="append", default=[], type=pair)
    p.add_argument("--body")
    a = p.parse_args()
    host, port = a.addr.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    headers = [(":method", a.method), (":path", a.path), (":scheme", "http"), (":authority", a.addr)]
    headers += a.header
    body = a.body.encode() if a.body is not None else None
    end_on_headers = body is None and not a.trailer
    conn.send_headers(1, headers, end_stream=end_on_headers)
    if body is not None:
        conn.send_data(1, body, end_stream=not a.trailer)
    if a.trailer:
        conn.send_headers(1, a.trailer, end_stream=True)
    sock.sendall(conn.data_to_send())
    status, resp_headers, data, done = None, {}, b"", False
    while not done:
        chunk = sock.recv(65536)
        if not chunk:
            break
        for ev in conn.receive_data(chunk):
            if isinstance(ev, h2.events.ResponseReceived):
                resp_headers = dict(ev.headers)
                status = int(resp_headers.get(":status", "0"))
            elif isinstance(ev, h2.events.DataReceived):
                data += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, (h2.events.StreamEnded, h2.events.ConnectionTerminated)):
                done = True
            elif isinstance(ev, h2.events.StreamReset):
                print(json.dumps({"reset": ev.error_code}))
                sys.exit(2)
        sock.sendall(conn.data_to_send())
    sock.close()
    print(json.dumps({"status": status, "headers": resp_headers, "body": data.decode("utf-8", "replace")}))


if __name__ == "__main__":
    main()
