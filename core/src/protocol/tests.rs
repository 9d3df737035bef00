use super::*;

fn rpc(body: &str) -> Body {
    Body::parse("/mcp", body.as_bytes())
}

fn one(body: &str) -> Call {
    let b = rpc(body);
    assert_eq!(b.refusal, None, "{body}");
    assert!(!b.batch);
    assert_eq!(b.calls.len(), 1, "{body}");
    b.calls.into_iter().next().unwrap()
}

fn refused(body: &str) -> Refusal {
    rpc(body)
        .refusal
        .unwrap_or_else(|| panic!("not refused: {body}"))
}

#[test]
fn mcp_methods_are_mcp() {
    for m in mcp::METHODS
        .iter()
        .copied()
        .chain(["notifications/initialized", "notifications/cancelled"])
    {
        let b = rpc(&format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"{m}","params":{{}}}}"#
        ));
        assert_eq!(b.protocol, Protocol::Mcp, "{m}");
        assert_eq!(b.calls[0].family, Family::Mcp);
        assert_eq!(b.calls[0].method, m);
    }
}

#[test]
fn a2a_methods_are_a2a() {
    for m in a2a::METHODS_V0_3.iter().chain(a2a::METHODS_V1) {
        let b = rpc(&format!(
            r#"{{"jsonrpc":"2.0","id":"x","method":"{m}","params":{{}}}}"#
        ));
        assert_eq!(b.protocol, Protocol::A2a, "{m}");
        assert_eq!(b.calls[0].family, Family::A2a);
    }
}

#[test]
fn other_methods_are_jsonrpc() {
    let b = rpc(r#"{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[1,2]}"#);
    assert_eq!(b.protocol, Protocol::JsonRpc);
    assert_eq!(b.calls[0].method, "eth_call");
    assert_eq!(b.calls[0].family, Family::Other);
    // Method names are case-sensitive (JSON-RPC, MCP, A2A).
    assert_eq!(
        rpc(r#"{"jsonrpc":"2.0","id":1,"method":"Tools/Call"}"#).protocol,
        Protocol::JsonRpc
    );
}

#[test]
fn tools_call() {
    let c = one(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call",
            "params":{"name":"delete_file","arguments":{"path":"/etc/passwd","opts":{"force":true,"n":3,"list":["a",{"b":null}]},"f":1.5,"big":18446744073709551615}}}"#);
    assert_eq!(c.mcp_tool.as_deref(), Some("delete_file"));
    assert_eq!(c.id.as_deref(), Some("7"));
    assert_eq!(c.mcp_prompt, None);
    assert_eq!(c.arg(&["path"]), Some(Arg::Str("/etc/passwd".into())));
    assert_eq!(c.arg(&arg_path("opts.force")), Some(Arg::Bool(true)));
    assert_eq!(c.arg(&arg_path("opts.n")), Some(Arg::Int(3)));
    assert_eq!(c.arg(&arg_path("opts.list.0")), Some(Arg::Str("a".into())));
    assert_eq!(c.arg(&arg_path("opts.list.1.b")), Some(Arg::Null));
    assert_eq!(c.arg(&arg_path("opts.list.1")), Some(Arg::Composite));
    assert_eq!(c.arg(&arg_path("opts")), Some(Arg::Composite));
    assert_eq!(c.arg(&arg_path("f")), Some(Arg::Float(1.5)));
    assert_eq!(c.arg(&arg_path("big")), Some(Arg::Float(u64::MAX as f64)));
    assert_eq!(c.arg(&arg_path("opts.list.2")), None);
    assert_eq!(c.arg(&arg_path("opts.list.x")), None);
    assert_eq!(c.arg(&arg_path("path.deeper")), None);
    assert_eq!(c.arg(&arg_path("missing")), None);
    let empty: [&str; 0] = [];
    assert_eq!(c.arg(&empty), Some(Arg::Composite));
    // Steps are matched as an agent's lenient parser would (Go: case-insensitive).
    assert_eq!(c.arg(&["PATH"]), Some(Arg::Str("/etc/passwd".into())));
    // Escaped keys and values are read decoded.
    let c = one(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"del\u0065te","arguments":{"p\u0061th":"a\"b"}}}"#,
    );
    assert_eq!(c.mcp_tool.as_deref(), Some("delete"));
    assert_eq!(c.arg(&["path"]), Some(Arg::Str("a\"b".into())));
    // No arguments: nothing to look up.
    let c = one(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}}"#);
    assert_eq!(c.arg(&["x"]), None);
    assert_eq!(c.arguments(), None);
    // Members come in any order: params before method.
    let c = one(
        r#"{"params":{"arguments":{"a":1},"name":"t"},"id":1,"method":"tools/call","jsonrpc":"2.0"}"#,
    );
    assert_eq!(c.mcp_tool.as_deref(), Some("t"));
    assert_eq!(c.arguments(), Some(r#"{"a":1}"#));
}

#[test]
fn resources_and_prompts() {
    let c = one(
        r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///etc/shadow"}}"#,
    );
    assert_eq!(c.mcp_resource.as_deref(), Some("file:///etc/shadow"));
    for m in ["resources/subscribe", "resources/unsubscribe"] {
        let c = one(&format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"{m}","params":{{"uri":"u"}}}}"#
        ));
        assert_eq!(c.mcp_resource.as_deref(), Some("u"));
    }
    let c = one(
        r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p","arguments":{"code":"x"}}}"#,
    );
    assert_eq!(c.mcp_prompt.as_deref(), Some("p"));
    assert_eq!(c.mcp_tool, None);
    assert_eq!(c.arg(&["code"]), Some(Arg::Str("x".into())));
    // A member of another type than the schema's is no value.
    let c = one(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}"#);
    assert_eq!(c.mcp_tool, None);
}

#[test]
fn a2a_fields() {
    let c = one(
        r#"{"jsonrpc":"2.0","id":"r1","method":"message/send","params":{"message":{"role":"user",
            "parts":[{"kind":"text","text":"hi"}],"messageId":"m1","taskId":"t1","contextId":"c1","kind":"message"}}}"#,
    );
    assert_eq!(c.a2a_role.as_deref(), Some("user"));
    assert_eq!(c.a2a_task_id.as_deref(), Some("t1"));
    assert_eq!(c.a2a_context_id.as_deref(), Some("c1"));
    // v1.0: PascalCase methods, ROLE_ enum names.
    let c = one(
        r#"{"jsonrpc":"2.0","id":1,"method":"SendStreamingMessage","params":{"message":{"role":"ROLE_AGENT","parts":[],"messageId":"m","contextId":"c"}}}"#,
    );
    assert_eq!(c.a2a_role.as_deref(), Some("agent"));
    assert_eq!(c.a2a_context_id.as_deref(), Some("c"));
    assert_eq!(c.a2a_task_id, None);
    // The enum's number, as protobuf's JSON mapping (a2a-sdk 1.x) reads it.
    for (sent, seen) in [
        ("2", "agent"),
        ("\"2\"", "agent"),
        ("2.0", "agent"),
        ("1", "user"),
        ("\"1\"", "user"),
        ("0", "unspecified"),
        ("\"ROLE_UNSPECIFIED\"", "unspecified"),
        ("7", "7"),
    ] {
        let c = one(&format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{{"message":{{"role":{sent},"parts":[],"messageId":"m"}}}}}}"#
        ));
        assert_eq!(c.a2a_role.as_deref(), Some(seen), "{sent}");
    }
    for m in [
        "tasks/get",
        "tasks/cancel",
        "tasks/resubscribe",
        "tasks/pushNotificationConfig/get",
        "tasks/pushNotificationConfig/list",
        "tasks/pushNotificationConfig/delete",
        "GetTask",
        "CancelTask",
        "SubscribeToTask",
    ] {
        let c = one(&format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"{m}","params":{{"id":"t9","historyLength":2}}}}"#
        ));
        assert_eq!(c.a2a_task_id.as_deref(), Some("t9"), "{m}");
    }
    for m in [
        "tasks/pushNotificationConfig/set",
        "CreateTaskPushNotificationConfig",
        "GetTaskPushNotificationConfig",
        "ListTaskPushNotificationConfigs",
        "DeleteTaskPushNotificationConfig",
    ] {
        let c = one(&format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"{m}","params":{{"taskId":"t8","id":"cfg"}}}}"#
        ));
        assert_eq!(c.a2a_task_id.as_deref(), Some("t8"), "{m}");
    }
    let c = one(r#"{"jsonrpc":"2.0","id":1,"method":"ListTasks","params":{"contextId":"c7"}}"#);
    assert_eq!(c.a2a_context_id.as_deref(), Some("c7"));
}

#[test]
fn ids_are_kept_exactly() {
    for id in [
        "1",
        "-0",
        "12345678901234567890123456789",
        "1.5e300",
        "null",
        r#""abc""#,
        r#""a\"b\\c\u00e9\n""#,
        r#""""#,
    ] {
        let c = one(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#));
        assert_eq!(c.id.as_deref(), Some(id));
        assert!(!c.is_notification());
    }
    let c = one(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    assert_eq!(c.id, None);
    assert!(c.is_notification());
}

#[test]
fn batches() {
    let b = rpc(
        r#"[{"jsonrpc":"2.0","id":"a\u0041","method":"tools/call","params":{"name":"x"}},
            {"jsonrpc":"2.0","method":"notifications/progress"},
            {"jsonrpc":"2.0","id":99999999999999999999,"method":"message/send","params":{"message":{"role":"user"}}},
            {"jsonrpc":"2.0","id":null,"method":"other"}]"#,
    );
    assert!(b.batch);
    assert_eq!(b.refusal, None);
    assert_eq!(b.protocol, Protocol::Mcp);
    let ids: Vec<Option<&str>> = b.calls.iter().map(|c| c.id.as_deref()).collect();
    assert_eq!(
        ids,
        vec![
            Some(r#""a\u0041""#),
            None,
            Some("99999999999999999999"),
            Some("null")
        ]
    );
    assert_eq!(b.calls[0].mcp_tool.as_deref(), Some("x"));
    assert_eq!(b.calls[2].a2a_role.as_deref(), Some("user"));
    assert!(!b.nothing_to_answer());
    // A batch of one is a batch.
    let b = rpc(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#);
    assert!(b.batch);
    assert_eq!(b.calls.len(), 1);
    // Notifications only: nothing to answer.
    let b = rpc(
        r#"[{"jsonrpc":"2.0","method":"notifications/a"},{"jsonrpc":"2.0","method":"notifications/b"}]"#,
    );
    assert!(b.nothing_to_answer());
    // A2A alone.
    assert_eq!(
        rpc(r#"[{"jsonrpc":"2.0","id":1,"method":"tasks/get"}]"#).protocol,
        Protocol::A2a
    );
}

#[test]
fn batch_bounds() {
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let at = format!("[{}]", vec![call; MAX_BATCH_CALLS].join(","));
    let b = rpc(&at);
    assert_eq!(b.refusal, None);
    assert_eq!(b.calls.len(), MAX_BATCH_CALLS);
    let over = format!("[{}]", vec![call; MAX_BATCH_CALLS + 1].join(","));
    let b = rpc(&over);
    assert_eq!(b.refusal, Some(Refusal::TooManyCalls));
    assert!(b.batch);
    assert!(b.calls.is_empty());
    assert_eq!(b.protocol, Protocol::JsonRpc);
    // Padding with other values does not hide a call: the count is of all elements.
    let padded = format!("[{}{call}]", "1,".repeat(MAX_BATCH_CALLS));
    assert_eq!(rpc(&padded).refusal, Some(Refusal::TooManyCalls));
    // A plain JSON array is not a batch, however long.
    let plain = format!("[{}]", vec!["{\"a\":1}"; 1000].join(","));
    assert_eq!(rpc(&plain).protocol, Protocol::Http);
    // Nor is an empty one (it holds no call a rule could miss; JSON APIs take empty lists).
    assert_eq!(rpc("[]").protocol, Protocol::Http);
    assert_eq!(rpc("[]").refusal, None);
}

#[test]
fn invalid_batches_and_requests() {
    // A call among other values: the agent may run the call; refused.
    let b = rpc(r#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}, 5]"#);
    assert_eq!(b.refusal, Some(Refusal::InvalidRequest("batch element")));
    assert_eq!(b.calls[0].id.as_deref(), Some("1"));
    assert_eq!(
        refused(r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#),
        Refusal::InvalidRequest("jsonrpc")
    );
    assert_eq!(
        refused(r#"{"jsonrpc":2.0,"id":1,"method":"ping"}"#),
        Refusal::InvalidRequest("jsonrpc")
    );
    assert_eq!(
        refused(r#"{"jsonrpc":"2.0","id":1,"method":5}"#),
        Refusal::InvalidRequest("method")
    );
    assert_eq!(
        refused(r#"{"jsonrpc":"2.0","id":1}"#),
        Refusal::InvalidRequest("method")
    );
    let b = rpc(r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#);
    assert_eq!(b.refusal, Some(Refusal::InvalidRequest("id")));
    // Answered with a null id (§5).
    assert_eq!(b.calls[0].id.as_deref(), Some("null"));
    assert_eq!(
        refused(r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#),
        Refusal::InvalidRequest("id")
    );
    // A response (what an MCP client POSTs to answer `sampling/createMessage`).
    let b = rpc(r#"{"jsonrpc":"2.0","id":3,"result":{"content":{}}}"#);
    assert_eq!(b.refusal, None);
    assert!(b.calls[0].response);
    assert_eq!(b.calls[0].method, "");
    assert!(!b.calls[0].is_notification());
    assert_eq!(b.protocol, Protocol::JsonRpc);
}

#[test]
fn duplicates_are_refused_at_each_level() {
    let cases = [
        (
            r#"{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"ping"}"#,
            "jsonrpc",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call"}"#,
            "method",
        ),
        (r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#, "id"),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{},"params":{}}"#,
            "params",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}"#,
            "params.name",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{},"arguments":{}}}"#,
            "params.arguments",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"p":"/tmp","p":"/etc"}}}"#,
            "params.arguments",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"x":[{"deep":{"k":1,"k":2}}]}}}"#,
            "params.arguments",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"a","name":"b"}}"#,
            "params.name",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"a","uri":"b"}}"#,
            "params.uri",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"role":"user","role":"agent"}}}"#,
            "params.message",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"parts":[{"text":"a","text":"b"}]}}}"#,
            "params.message",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{},"message":{}}}"#,
            "params.message",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"id":"a","id":"b"}}"#,
            "params.id",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tasks/pushNotificationConfig/set","params":{"taskId":"a","taskId":"b"}}"#,
            "params.taskId",
        ),
        // Other spellings a lenient parser takes for the member (Go: case-insensitive,
        // `ſ` as `s`; pydantic validate_by_name: snake case).
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call"}"#,
            "method",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"METHOD":"tools/call"}"#,
            "method",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","param\u017f":{"name":"x"}}"#,
            "params",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"x"}}"#,
            "params.name",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"path":"/tmp","Path":"/etc"}}}"#,
            "params.arguments",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"taskId":"a","task_id":"b"}}}"#,
            "params.message",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"task_id":"b"}}}"#,
            "params.message",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"role":"user","\u0072ole":"agent"}}}"#,
            "params.message",
        ),
    ];
    for (body, member) in cases {
        assert_eq!(refused(body), Refusal::Ambiguous(member), "{body}");
    }
    // In a batch, one ambiguous call refuses the batch; the others' ids are kept for the
    // reply.
    let b = rpc(
        r#"[{"jsonrpc":"2.0","id":"ok","method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a","name":"b"}}]"#,
    );
    assert_eq!(b.refusal, Some(Refusal::Ambiguous("params.name")));
    assert_eq!(b.calls[0].id.as_deref(), Some(r#""ok""#));
    assert_eq!(b.calls[1].id.as_deref(), Some("2"));
    // The id of a body refused for its id is null.
    assert_eq!(
        rpc(r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#).calls[0]
            .id
            .as_deref(),
        Some("null")
    );
    // Members not read may repeat: the filter's reading does not depend on them.
    let c = one(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","x":1,"x":2,"params":{"name":"t","_meta":{},"_meta":{}}}"#,
    );
    assert_eq!(c.mcp_tool.as_deref(), Some("t"));
    let c = one(r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"name":"a","name":"b"}}"#);
    assert_eq!(c.method, "ping");
    // Nor is an object that is not JSON-RPC refused.
    assert_eq!(rpc(r#"{"id":1,"id":2,"method":"a"}"#).refusal, None);
}

#[test]
fn not_jsonrpc_is_http() {
    for body in [
        "",
        "hello",
        "   ",
        "42",
        r#""str""#,
        r#"{"method":"tools/call","id":1}"#,
        r#"{"a":[1,2,3]}"#,
        "[1,2]",
        "[[]]",
    ] {
        let b = rpc(body);
        assert_eq!(b.protocol, Protocol::Http, "{body}");
        assert!(!b.malformed_json, "{body}");
        assert!(b.calls.is_empty());
    }
    // Looks like JSON, is not: marked, still http, whatever names it hides (`\u0072` is
    // `r`: Python reads the key as `jsonrpc`).
    for body in [
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"a":NaN}}"#,
        r#"{"json\u0072pc":"2.0","id":7,"method":"tools/call","pad":NaN}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"x\ud800"}"#,
        r#"{"jsonrpc":"2.0",}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"} {"jsonrpc":"2.0","id":2,"method":"tools/call"}"#,
        "[",
        "{",
    ] {
        let b = Body::parse("/", body.as_bytes());
        assert_eq!(b.protocol, Protocol::Http, "{body}");
        assert!(b.malformed_json, "{body}");
    }
    // Text that does not start as JSON is not malformed JSON.
    for body in ["hello {", "INFO [x]", ""] {
        assert!(!Body::parse("/", body.as_bytes()).malformed_json, "{body}");
    }
    // Invalid UTF-8 in a string.
    let b = Body::parse("/", b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}");
    assert!(b.malformed_json && b.protocol == Protocol::Http);
    // The declared type does not decide: a JSON-RPC body sent as text/plain is JSON-RPC.
    let b = Body::parse(
        "/",
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}"#,
    );
    assert_eq!(b.protocol, Protocol::Mcp);
    // A UTF-8 byte order mark is skipped, as Python's json.loads(bytes) does.
    let b = Body::parse(
        "/",
        b"\xEF\xBB\xBF {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
    );
    assert_eq!(b.protocol, Protocol::Mcp);
}

#[test]
fn openai() {
    let body = br#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    for (path, endpoint) in [
        ("/v1/chat/completions", Endpoint::ChatCompletions),
        (
            "/openai/deployments/d/chat/completions?api-version=2024-10-21",
            Endpoint::ChatCompletions,
        ),
        ("/v1/chat/completions/", Endpoint::ChatCompletions),
        ("/v1/completions", Endpoint::Completions),
        ("/v1/responses", Endpoint::Responses),
        ("/embeddings", Endpoint::Embeddings),
    ] {
        let b = Body::parse(path, body);
        assert_eq!(b.protocol, Protocol::OpenAi, "{path}");
        assert_eq!(
            b.openai,
            Some(OpenAi {
                endpoint,
                model: Some("gpt-4o".into()),
                stream: true
            })
        );
        assert_eq!(b.refusal, None);
    }
    let b = Body::parse("/v1/chat/completions", br#"{"messages":[],"stream":"yes"}"#);
    assert_eq!(
        b.openai,
        Some(OpenAi {
            endpoint: Endpoint::ChatCompletions,
            model: None,
            stream: false
        })
    );
    // Not an OpenAI path, or not an object: not OpenAI.
    for (path, body) in [
        ("/v1/chat", &body[..]),
        ("/v1/chat/completions/x", &body[..]),
        ("/v1/chat/completions", b"[1]"),
        ("/v1/chat/completions", b"model=gpt"),
    ] {
        assert_eq!(Body::parse(path, body).protocol, Protocol::Http, "{path}");
    }
    // Ambiguous members are refused (an OpenAI-shaped 400 then).
    for (body, member) in [
        (r#"{"model":"a","model":"b"}"#, "model"),
        (r#"{"model":"a","Model":"b"}"#, "model"),
        (r#"{"stream":false,"stream":true}"#, "stream"),
    ] {
        let b = Body::parse("/v1/chat/completions", body.as_bytes());
        assert_eq!(b.protocol, Protocol::OpenAi);
        assert_eq!(b.refusal, Some(Refusal::Ambiguous(member)), "{body}");
    }
    // JSON-RPC on an OpenAI path is JSON-RPC.
    let b = Body::parse(
        "/v1/chat/completions",
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    );
    assert_eq!(b.protocol, Protocol::Mcp);
    assert_eq!(b.openai, None);
}

#[test]
fn names() {
    let names: Vec<&str> = Protocol::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(names, ["http", "jsonrpc", "a2a", "mcp", "openai"]);
    assert!(Protocol::Mcp.is_jsonrpc() && !Protocol::OpenAi.is_jsonrpc());
    assert!(Refusal::Ambiguous("params.name")
        .message()
        .contains("`params.name`"));
    assert!(Refusal::TooManyCalls.message().contains("128"));
}

/// Any bytes: no panic, and a refusal or calls only for JSON-RPC.
#[test]
fn any_prefix_of_a_body_is_read_without_panic() {
    let body = r#"[{"jsonrpc":"2.0","id":"a\"b","method":"tools/call","params":{"name":"x","arguments":{"p":[1,{"q":"r"}]}}},{"jsonrpc":"2.0","method":"message/send","params":{"message":{"role":"user","parts":[]}}}]"#;
    for i in 0..body.len() {
        let b = Body::parse("/mcp", &body.as_bytes()[..i]);
        assert!(b.protocol == Protocol::Http || b.refusal.is_some() || !b.calls.is_empty());
    }
}

/// Members in any order: `params` before `method` is read once the method is known, with
/// the same checks; the id after an ambiguous member is still read for the reply.
#[test]
fn order_of_members() {
    let b = rpc(
        r#"{"params":{"name":"a","name":"b"},"method":"tools/call","jsonrpc":"2.0","id":"late"}"#,
    );
    assert_eq!(b.refusal, Some(Refusal::Ambiguous("params.name")));
    assert_eq!(b.calls[0].id.as_deref(), Some(r#""late""#));
    let b = rpc(
        r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"a","arguments":{"k":1,"k":2}},"id":9}"#,
    );
    assert_eq!(b.refusal, Some(Refusal::Ambiguous("params.arguments")));
    assert_eq!(b.calls[0].id.as_deref(), Some("9"));
    let b = rpc(
        r#"{"params":{"message":{"role":"user","contextId":"c"}},"id":1,"method":"message/send","jsonrpc":"2.0"}"#,
    );
    assert_eq!(b.refusal, None);
    assert_eq!(b.calls[0].a2a_context_id.as_deref(), Some("c"));
}

/// Objects of many keys: a repeat is found however far apart (the first few keys are
/// compared in place, the rest sorted).
#[test]
fn repeats_among_many_keys() {
    let keys: Vec<String> = (0..40).map(|i| format!(r#""k{i}":{i}"#)).collect();
    let clean = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"t","arguments":{{{}}}}}}}"#,
        keys.join(",")
    );
    let b = rpc(&clean);
    assert_eq!(b.refusal, None);
    assert_eq!(b.calls[0].arg(&["k39"]), Some(Arg::Int(39)));
    for (a, z) in [(0, 39), (3, 7), (10, 30), (0, 8)] {
        let mut dup = keys.clone();
        dup[z] = format!(r#""K{a}":0"#);
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"t","arguments":{{{}}}}}}}"#,
            dup.join(",")
        );
        assert_eq!(
            rpc(&body).refusal,
            Some(Refusal::Ambiguous("params.arguments")),
            "{a} {z}"
        );
    }
}
