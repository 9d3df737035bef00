"""One HTTPS request (HTTP/1.1) with an optional client certificate, for the host tests
(standard library only).

    https_request.py HOST:PORT METHOD PATH --cacert CA [--cert CRT --key KEY]
                     [--header NAME:VALUE]... [--body TEXT]

Prints one JSON object: {"status": 200, "headers": [[name, value], ...], "body": "..."}, or,
when no HTTP response came (the TLS handshake failed, the connection was closed):
{"error": "<exception class>", "detail": "..."}.
"""

import argparse
import http.client
import json
import ssl


def main():
    p = argparse.ArgumentParser()
    p.add_argument("addr")
    p.add_argument("method")
    p.add_argument("path")
    p.add_argument("--cacert", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--body")
    a = p.parse_args()
    host, port = a.addr.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=a.cacert)
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    headers = {}
    for h in a.header:
        name, _, value = h.partition(":")
        headers[name.strip()] = value.strip()
    try:
        conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=20)
        conn.request(a.method, a.path, body=a.body.encode() if a.body is not None else None, headers=headers)
        r = conn.getresponse()
        body = r.read()
        print(json.dumps({"status": r.status, "headers": [[k.lower(), v] for k, v in r.getheaders()],
                          "body": body.decode("utf-8", "replace")}))
    except (OSError, http.client.HTTPException) as e:
        print(json.dumps({"error": type(e).__name__, "detail": str(e)}))


if __name__ == "__main__":
    main()
