"""The agent behind Envoy for the host tests that use real client libraries: one HTTP/1.1
server speaking three protocols, built with the libraries' own server code (pinned in
scripts/requirements-test.txt).

    upstream.py --record FILE

  POST /mcp                    MCP, streamable HTTP, stateless, JSON responses (mcp's
                               MCPServer, the former FastMCP); tools read_file(path),
                               delete_file(path)
  POST /a2a                    A2A JSON-RPC (a2a-sdk; protocol 1.0, with 0.3 compatibility):
                               an agent that answers every message with "echo: <its text>";
                               to a streaming call (1.0 SendStreamingMessage, 0.3
                               message/stream) it answers with a task whose echo text comes
                               as artifact-update events of 4 characters each (the SDK's own
                               event stream: task, working status, artifact updates, final
                               completed status)
  GET  /.well-known/agent-card.json   its agent card (capabilities.streaming: true)
  POST /v1/chat/completions    an OpenAI-style chat completion answering
                               "echo: <last user message>"; with "stream": true, a
                               text/event-stream of chat.completion.chunk events carrying the
                               echo in deltas of 4 characters (a card number in the message is
                               split across several events), a last chunk with
                               finish_reason "stop", then `data: [DONE]`

`x-upstream-delay-ms: MS` (at most 2000) pauses between two streamed events (both
protocols), so that a test can tell events delivered one by one from a buffered stream.

A request with `x-upstream-reply: STATUS` (a test's stand-in for a refusal, so that the
tests can see what each client library makes of one) is answered with that HTTP status and,
for a JSON-RPC body, a JSON-RPC 2.0 error object with the request's own `id` (code -32001,
data {"rule": "test"}); for /v1/..., an OpenAI-shaped `{"error": {...}}`.

Prints `listening on 127.0.0.1:PORT` (a free port) once it accepts connections, then serves
until killed. Every request it receives whole is appended to FILE as one JSON line:
{"method", "path", "headers" (names lower-cased, last value wins), "body" (text)}.
"""

import argparse
import asyncio
import json
import socket
import sys
import time

import uvicorn
from a2a.helpers.proto_helpers import get_message_text, new_text_message, new_text_part
from a2a.server.agent_execution import AgentExecutor
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types.a2a_pb2 import (AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Role, Task,
                               TaskState, TaskStatus)
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Mount, Route


def mcp_app():
    server = MCPServer("iatp-test-files")

    @server.tool()
    def read_file(path: str) -> str:
        """Reads a file (a fixed text: this is a test double)."""
        return f"contents of {path}"

    @server.tool()
    def delete_file(path: str) -> str:
        """Deletes a file (nothing is deleted: this is a test double)."""
        return f"deleted {path}"

    return server.streamable_http_app(
        streamable_http_path="/mcp", stateless_http=True, json_response=True
    )


# How many characters a streamed delta or artifact chunk carries: small, so that a value in the
# echoed text (a card number) is split across several events.
PIECE = 4
# The JSON-RPC methods of a streaming A2A call (1.0, and 0.3 through the SDK's compatibility layer).
STREAMING_METHODS = ("SendStreamingMessage", "message/stream")


def pieces(text):
    return [text[i:i + PIECE] for i in range(0, len(text), PIECE)] or [""]


def delay_seconds(headers):
    """`x-upstream-delay-ms` (bounded to 2 s) in seconds; `headers` maps lower-case names."""
    try:
        return min(max(int(headers.get("x-upstream-delay-ms", "0")), 0), 2000) / 1000
    except ValueError:
        return 0


class Echo(AgentExecutor):
    async def execute(self, context, event_queue):
        text = get_message_text(context.message) if context.message else ""
        state = context.call_context.state if context.call_context else {}
        if state.get("method") not in STREAMING_METHODS:
            await event_queue.enqueue_event(
                new_text_message(f"echo: {text}", context_id=context.context_id, role=Role.ROLE_AGENT)
            )
            return
        # A streaming call: a task whose answer comes as artifact chunks, through the SDK's
        # own TaskUpdater (so the events are shaped by the SDK, not by this test double).
        delay = delay_seconds({k.lower(): v for k, v in state.get("headers", {}).items()})
        await event_queue.enqueue_event(Task(
            id=context.task_id, context_id=context.context_id,
            status=TaskStatus(state=TaskState.TASK_STATE_SUBMITTED),
            history=[context.message] if context.message else [],
        ))
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.start_work()
        chunks = pieces(f"echo: {text}")
        for i, piece in enumerate(chunks):
            if i and delay:
                await asyncio.sleep(delay)
            await updater.add_artifact([new_text_part(piece)], artifact_id="echo", name="echo",
                                       append=i > 0, last_chunk=i == len(chunks) - 1)
        await updater.complete()

    async def cancel(self, context, event_queue):
        return None


def agent_card(url):
    return AgentCard(
        name="iatp-test-agent",
        description="Echoes messages (host-test double)",
        version="1.0.0",
        supported_interfaces=[AgentInterface(protocol_binding="JSONRPC", url=url, protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="echo", name="echo", description="echoes", tags=["test"])],
    )


async def chat_completions(request):
    body = await request.json()
    last = next((m.get("content") for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
    if body.get("stream") is True:
        return StreamingResponse(chat_stream(body.get("model", ""), f"echo: {last}",
                                             delay_seconds(request.headers)),
                                 media_type="text/event-stream")
    return JSONResponse({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": f"echo: {last}"}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    })


async def chat_stream(model, text, delay):
    """The chunks of a streamed chat completion (the OpenAI API's `stream: true` shape), one
    event per body chunk: uvicorn writes each as its own HTTP chunk."""
    created = int(time.time())

    def event(delta, finish):
        chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": created,
                 "model": model, "system_fingerprint": None,
                 "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        return f"data: {json.dumps(chunk)}\n\n".encode()

    for i, piece in enumerate(pieces(text)):
        if i and delay:
            await asyncio.sleep(delay)
        yield event({"role": "assistant", "content": piece} if i == 0 else {"content": piece}, None)
    yield event({}, "stop")
    yield b"data: [DONE]\n\n"


class Recorder:
    """ASGI middleware: appends each whole request to the record file."""

    def __init__(self, app, path):
        self.app = app
        self.path = path

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        chunks = []
        wanted = dict(scope["headers"]).get(b"x-upstream-reply")
        if wanted is not None:
            return await self.refuse(scope, receive, send, int(wanted))

        async def recv():
            msg = await receive()
            if msg["type"] == "http.request":
                chunks.append(msg.get("body", b""))
                if not msg.get("more_body", False):
                    line = {
                        "method": scope["method"],
                        "path": scope["path"] + (("?" + scope["query_string"].decode()) if scope["query_string"] else ""),
                        "headers": {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
                        "body": b"".join(chunks).decode("utf-8", "replace"),
                    }
                    with open(self.path, "a") as f:
                        f.write(json.dumps(line) + "\n")
            return msg

        return await self.app(scope, recv, send)

    async def refuse(self, scope, receive, send, status):
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body", False):
                break
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        if scope["path"].startswith("/v1/"):
            reply = {"error": {"message": "refused by the test upstream", "type": "permission_denied",
                               "param": None, "code": "test_refusal"}}
        else:
            rid = request.get("id") if isinstance(request, dict) else None
            reply = {"jsonrpc": "2.0", "id": rid,
                     "error": {"code": -32001, "message": "refused by the test upstream", "data": {"rule": "test"}}}
        data = json.dumps(reply).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--record", required=True)
    p.add_argument("--card-url", default=None, help="the A2A endpoint URL the card names")
    a = p.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    card = agent_card(a.card_url or f"http://127.0.0.1:{port}/a2a")
    handler = DefaultRequestHandler(agent_executor=Echo(), task_store=InMemoryTaskStore(), agent_card=card)
    mcp = mcp_app()
    routes = (
        create_agent_card_routes(card)
        + create_jsonrpc_routes(handler, "/a2a", enable_v0_3_compat=True)
        + [Route("/v1/chat/completions", chat_completions, methods=["POST"]), Mount("/", app=mcp)]
    )
    # The MCP app's lifespan runs its session manager: the outer app must run it too.
    app = Starlette(routes=routes, lifespan=mcp.router.lifespan_context)
    config = uvicorn.Config(Recorder(app, a.record), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    asyncio.run(server.serve(sockets=[sock]))


if __name__ == "__main__":
    sys.exit(main())
