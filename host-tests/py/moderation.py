"""A moderation service for the host tests: `POST /v1/moderations` answered in the OpenAI
moderation API's shape (https://platform.openai.com/docs/api-reference/moderations; the field
names are those of the `openai` package's `openai.types.moderation.Moderation` and
`ModerationCreateResponse`), with scores chosen by markers in the input text.

    moderation.py --record FILE

Request: {"input": TEXT | [TEXT, ...] | [{"type": "text", "text": TEXT}, ...], "model": M}.
Answer: {"id": "modr-<n>", "model": M (default "omni-moderation-latest"),
         "results": [{"flagged", "categories", "category_scores",
                      "category_applied_input_types"}, one per input text]}.

Per input text (markers are case-sensitive):
  contains `TOXIC`    harassment 0.92, harassment/threatening 0.64, violence 0.81 (flagged)
  contains `BIASED`   hate 0.88 (flagged)
  contains `SLOW`     the answer comes after 3 s (for the caller's timeout)
  contains `FAIL500`  the whole request is answered 500 with an OpenAI error object
  otherwise           every score 0.0001, not flagged
A category is true (and the result flagged) when its score is above 0.5. A body that is not
such JSON is answered 400 with an OpenAI error object; another path or method, 404.

Prints `listening on 127.0.0.1:PORT` (a free port) first, then serves (one thread per
request) until killed. Every request it receives is appended to FILE as one JSON line:
{"method", "path", "headers" (names lower-cased), "body" (text)}, before it is answered.
"""

import argparse
import itertools
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CATEGORIES = [
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/instructions", "self-harm/intent", "sexual",
    "sexual/minors", "violence", "violence/graphic",
]
# The input types each category applies to (the API's `category_applied_input_types`).
IMAGE_TOO = {"self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "violence",
             "violence/graphic"}
LOW = 0.0001
MARKERS = {
    "TOXIC": {"harassment": 0.92, "harassment/threatening": 0.64, "violence": 0.81},
    "BIASED": {"hate": 0.88},
}
SLOW_SECONDS = 3
IDS = itertools.count(1)
RECORD_LOCK = threading.Lock()


def texts(body):
    """The input texts of a request body, or None when it is not a moderation request."""
    if not isinstance(body, dict):
        return None
    value = body.get("input")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        out = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict) and item.get("type") == "text" and isinstance(item.get("text"), str):
                out.append(item["text"])
            elif isinstance(item, dict) and item.get("type") == "image_url":
                out.append("")
            else:
                return None
        return out
    return None


def result(text):
    scores = {c: LOW for c in CATEGORIES}
    for marker, high in MARKERS.items():
        if marker in text:
            scores.update(high)
    categories = {c: s > 0.5 for c, s in scores.items()}
    return {
        "flagged": any(categories.values()),
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": {c: (["text", "image"] if c in IMAGE_TOO else ["text"])
                                         for c in CATEGORIES},
    }


def error(message, kind, code):
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    record = None

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        line = {"method": "POST", "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": raw.decode("utf-8", "replace")}
        with RECORD_LOCK, open(self.record, "a") as f:
            f.write(json.dumps(line) + "\n")
        if self.path.split("?")[0] != "/v1/moderations":
            return self.reply(404, error("no such endpoint", "invalid_request_error", "not_found"))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        inputs = texts(body)
        if inputs is None:
            return self.reply(400, error("'input' must be a string or an array of strings or text parts",
                                         "invalid_request_error", "invalid_input"))
        if any("FAIL500" in t for t in inputs):
            return self.reply(500, error("the moderation mock failed on purpose", "server_error", None))
        if any("SLOW" in t for t in inputs):
            time.sleep(SLOW_SECONDS)
        self.reply(200, {
            "id": f"modr-mock-{next(IDS)}",
            "model": body.get("model") or "omni-moderation-latest",
            "results": [result(t) for t in inputs],
        })

    def do_GET(self):
        self.reply(404, error("no such endpoint", "invalid_request_error", "not_found"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--record", required=True)
    a = p.parse_args()
    Handler.record = a.record
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
