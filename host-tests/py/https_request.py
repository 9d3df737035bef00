"""One HTTPS request (HTTP/1.1) with an optional client certificate, for the host tests
(standard library only).

    https_request.py HOST:PORT METHOD PATH --cacert CA [--cert CRT --key KEY]
                     [--header NAME:VALUE]... [--body TEXT]

Headers are sent in order, each as given (a name given twice is sent twice).

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
    # A list, in order: a header given twice is sent twice.
    headers = []
    for h in a.header:
        name, _, value = h.partition(":")
        headers.append((name.strip(), value.strip()))
    names = {n.lower() for n, _ in headers}
    body = a.body.encode() if a.body is not None else None
    try:
        conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=20)
        conn.putrequest(a.method, a.path, skip_host="host" in names,
                        skip_accept_encoding="accept-encoding" in names)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None and "content-length" not in names:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        body = r.read()
        print(json.dumps({"status": r.status, "headers": [[k.lower(), v] for k, v in r.getheaders()],
                          "body": body.decode("utf-8", "replace")}))
    except (OSError, http.client.HTTPException) as e:
        print(json.dumps({"error": type(e).__name__, "detail": str(e)}))


if __name__ == "__main__":
    main()
