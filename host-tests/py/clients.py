"""One call with a real client library, through Envoy, for the host tests: what a caller
using the MCP, A2A or OpenAI SDK sees (pinned in scripts/requirements-test.txt).

    clients.py URL [--cacert CA --cert CRT --key KEY] [--header NAME:VALUE]... SUBCOMMAND ...

  mcp-list-tools                    (URL: the MCP endpoint, e.g. https://127.0.0.1:PORT/mcp)
  mcp-call TOOL ARGUMENTS_JSON
  a2a-send TEXT                     (URL: the A2A JSON-RPC endpoint, e.g. .../a2a)
  a2a-stream TEXT [--protocol 1.0|0.3]
                                    the streaming call (1.0 SendStreamingMessage, or 0.3
                                    message/stream through the SDK's compatibility client):
                                    {"text": the artifact chunks' text joined, "chunks": how
                                    many artifact updates, "final_state": the last status
                                    update's state, "events": each event as a dict}
  openai-chat MODEL TEXT            (URL: the API base, e.g. .../v1)
  openai-chat-stream MODEL TEXT     chat.completions.create(stream=True): {"text": the deltas'
                                    content joined, "chunks": how many chunks,
                                    "finish_reason": the last chunk's, "deltas": [...]}
  openai-moderation INPUT           moderations.create(input=INPUT): the parsed
                                    ModerationCreateResponse (URL: the API base)

A stream the library cannot parse (bad JSON in an event, a JSON-RPC error event) ends in the
error line like any other failure, with the class the library raised.

Prints one JSON line and exits 0 whatever the call's outcome:
  {"ok": true, "result": ...}
  {"ok": false, "error": {"class": "MCPError", "module": "mcp.shared.exceptions",
                          "bases": [...], "message": ..., "code": ..., "data": ...,
                          "status": <HTTP status, for errors that carry one>, "body": ...}}
`class` is the exception's own class name: what the caller's code would catch.
"""

import argparse
import asyncio
import json
import ssl
import sys


def ssl_context(a):
    if not a.cacert:
        return None
    ctx = ssl.create_default_context(cafile=a.cacert)
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    return ctx


def headers(a):
    out = {}
    for h in a.header:
        name, _, value = h.partition(":")
        out[name.strip()] = value.strip()
    return out


def jsonable(v):
    try:
        json.dumps(v)
        return v
    except (TypeError, ValueError):
        if hasattr(v, "model_dump"):
            return v.model_dump(mode="json")
        return repr(v)


def describe(e):
    # Library errors wrapped in an ExceptionGroup (anyio task groups): the first leaf.
    while isinstance(e, BaseExceptionGroup) and e.exceptions:
        e = e.exceptions[0]
    err = {
        "class": type(e).__name__,
        "module": type(e).__module__,
        "bases": [c.__name__ for c in type(e).__mro__[1:] if c not in (object, BaseException, Exception)],
        "message": str(e),
    }
    for attr in ("code", "data", "status_code", "body"):
        if hasattr(e, attr):
            v = getattr(e, attr)
            if callable(v):
                continue
            err["status" if attr == "status_code" else attr] = jsonable(v)
    if hasattr(e, "error") and hasattr(e.error, "model_dump"):
        err["error"] = e.error.model_dump(mode="json")
    return err


async def mcp_call(a):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    http = httpx2.AsyncClient(verify=ssl_context(a) or True, headers=headers(a), timeout=20)
    async with http:
        async with Client(streamable_http_client(a.url, http_client=http)) as client:
            if a.cmd == "mcp-list-tools":
                r = await client.list_tools()
                return {"tools": sorted(t.name for t in r.tools), "protocol_version": client.protocol_version}
            r = await client.call_tool(a.tool, json.loads(a.arguments))
            return r.model_dump(mode="json", exclude_none=True)


async def a2a_send(a):
    import httpx
    from a2a.client import ClientConfig, ClientFactory
    from a2a.helpers.proto_helpers import new_text_message
    from a2a.types.a2a_pb2 import AgentCapabilities, AgentCard, AgentInterface, Role, SendMessageRequest
    from google.protobuf.json_format import MessageToDict

    http = httpx.AsyncClient(verify=ssl_context(a) or True, headers=headers(a), timeout=20)
    # The card names Envoy's URL (the caller knows where it sends; no card fetch).
    card = AgentCard(
        name="agent", description="", version="1",
        supported_interfaces=[AgentInterface(protocol_binding="JSONRPC", url=a.url, protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=False),
    )
    client = ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create(card)
    try:
        msg = new_text_message(a.text, role=Role.ROLE_USER)
        out = []
        async for event in client.send_message(SendMessageRequest(message=msg)):
            out.append(MessageToDict(event))
        return {"events": out}
    finally:
        await http.aclose()


async def a2a_stream(a):
    import httpx
    from a2a.client import ClientConfig, ClientFactory
    from a2a.helpers.proto_helpers import get_artifact_text, new_text_message
    from a2a.types.a2a_pb2 import AgentCapabilities, AgentCard, AgentInterface, Role, SendMessageRequest, TaskState
    from google.protobuf.json_format import MessageToDict

    http = httpx.AsyncClient(verify=ssl_context(a) or True, headers=headers(a), timeout=20)
    card = AgentCard(
        name="agent", description="", version="1",
        supported_interfaces=[AgentInterface(protocol_binding="JSONRPC", url=a.url, protocol_version=a.protocol)],
        capabilities=AgentCapabilities(streaming=True),
    )
    client = ClientFactory(ClientConfig(streaming=True, httpx_client=http)).create(card)
    try:
        msg = new_text_message(a.text, role=Role.ROLE_USER)
        events, texts, final_state = [], [], None
        async for event in client.send_message(SendMessageRequest(message=msg)):
            events.append(MessageToDict(event))
            if event.HasField("artifact_update"):
                texts.append(get_artifact_text(event.artifact_update.artifact, ""))
            elif event.HasField("status_update"):
                final_state = TaskState.Name(event.status_update.status.state)
        return {"text": "".join(texts), "chunks": len(texts), "final_state": final_state, "events": events}
    finally:
        await http.aclose()


def openai_client(a):
    import httpx2
    import openai

    http = httpx2.Client(verify=ssl_context(a) or True, headers=headers(a), timeout=20)
    return openai.OpenAI(base_url=a.url, api_key="test-key-not-secret", http_client=http, max_retries=0)


def openai_chat_stream(a):
    stream = openai_client(a).chat.completions.create(
        model=a.model, messages=[{"role": "user", "content": a.text}], stream=True)
    deltas, finish = [], None
    with stream:
        for chunk in stream:
            for choice in chunk.choices:
                deltas.append(choice.delta.content or "")
                finish = choice.finish_reason or finish
    return {"text": "".join(deltas), "chunks": len(deltas), "finish_reason": finish, "deltas": deltas}


def openai_moderation(a):
    r = openai_client(a).moderations.create(input=a.input)
    return r.model_dump(mode="json", by_alias=True)


def openai_chat(a):
    import httpx2
    import openai

    http = httpx2.Client(verify=ssl_context(a) or True, headers=headers(a), timeout=20)
    client = openai.OpenAI(base_url=a.url, api_key="test-key-not-secret", http_client=http, max_retries=0)
    r = client.chat.completions.create(model=a.model, messages=[{"role": "user", "content": a.text}])
    return r.model_dump(mode="json", exclude_none=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--cacert")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--header", action="append", default=[])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("mcp-list-tools")
    c = sub.add_parser("mcp-call")
    c.add_argument("tool")
    c.add_argument("arguments")
    s = sub.add_parser("a2a-send")
    s.add_argument("text")
    s = sub.add_parser("a2a-stream")
    s.add_argument("text")
    s.add_argument("--protocol", default="1.0", choices=["1.0", "0.3"])
    o = sub.add_parser("openai-chat")
    o.add_argument("model")
    o.add_argument("text")
    o = sub.add_parser("openai-chat-stream")
    o.add_argument("model")
    o.add_argument("text")
    o = sub.add_parser("openai-moderation")
    o.add_argument("input")
    a = p.parse_args()
    try:
        if a.cmd.startswith("mcp-"):
            result = asyncio.run(mcp_call(a))
        elif a.cmd == "a2a-send":
            result = asyncio.run(a2a_send(a))
        elif a.cmd == "a2a-stream":
            result = asyncio.run(a2a_stream(a))
        elif a.cmd == "openai-chat-stream":
            result = openai_chat_stream(a)
        elif a.cmd == "openai-moderation":
            result = openai_moderation(a)
        else:
            result = openai_chat(a)
        print(json.dumps({"ok": True, "result": result}))
    except BaseException as e:  # noqa: BLE001 - the outcome is what is reported
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        print(json.dumps({"ok": False, "error": describe(e)}))


if __name__ == "__main__":
    main()
