//! The mTLS + JWT stack (envoy/envoy-mtls-jwt.yaml) with credentials made at test time, and
//! the real MCP, A2A and OpenAI client libraries through it: what Envoy does before and after
//! the filter (handshakes, jwt_authn's refusals, the local rate limit on `x-iatp-caller`), and
//! what each client library makes of a JSON-RPC refusal. The filter runs a plugin configuration
//! without `callers` here, except for the local rate limit keyed on the caller's name (the
//! shipped configuration); the identity tests of issue 12 are in callers.rs.

use serde_json::{json, Value};

use crate::harness::pki::BILLING;
use crate::harness::{ClientCert, Request, Stack, StackBuilder, Token};

/// A plugin configuration the filter knows today (no `callers`): it lets everything through
/// and writes the event lines.
fn plugin() -> Value {
    json!({"manifest": {"identity": {"agent_id": "file-agent"}, "trust_level": "standard",
                        "privacy": {"retention": "ephemeral"}}})
}

fn mtls() -> StackBuilder {
    Stack::builder().mtls_jwt().plugin(&plugin())
}

#[test]
fn a_client_certificate_of_the_ca_gets_through_and_no_certificate_gets_no_http_response() {
    let stack = mtls().start();
    let r = stack.send_tls(Request::get("/hello").header("x-agent-trace-id", "mtls-ok"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(stack.agent_requests_for("mtls-ok").len(), 1);
    stack.events_for("mtls-ok", 2);

    // Another SPIFFE ID, and a certificate whose first URI SAN is not a SPIFFE ID: the
    // handshake only checks the CA.
    let creds = stack.creds();
    let two = creds.client_with_sans(&format!("URI:https://example.com/not-spiffe,URI:{BILLING}"));
    let r = stack
        .send_tls_as(Some(&two), Request::get("/two-sans"))
        .expect("a response");
    assert_eq!(r.status, 200);

    let no_cert = stack.send_tls_as(
        None,
        Request::get("/no-cert").header("x-agent-trace-id", "mtls-none"),
    );
    assert!(
        no_cert.is_err(),
        "a request without a client certificate got {no_cert:?}"
    );
    let rogue = creds.client_of_another_ca(&format!("URI:{BILLING}"));
    let other_ca = stack.send_tls_as(
        Some(&rogue),
        Request::get("/rogue").header("x-agent-trace-id", "mtls-rogue"),
    );
    assert!(
        other_ca.is_err(),
        "a certificate of another CA got {other_ca:?}"
    );
    // Listener stats are named after the configured address (port 0 here).
    let stat = |name: &str| {
        stack
            .envoy
            .stat(&format!("listener.127.0.0.1_0.ssl.{name}"))
    };
    let ssl = crate::harness::http::get(stack.envoy.admin, "/stats?filter=ssl").text();
    assert_eq!(stat("fail_verify_no_cert"), 1, "{ssl}");
    assert_eq!(stat("fail_verify_error"), 1, "{ssl}");
    // Nothing of them reached the filter or the agent.
    stack.send_tls(Request::get("/after").header("x-agent-trace-id", "mtls-after"));
    stack.events_for("mtls-after", 2);
    for id in ["mtls-none", "mtls-rogue"] {
        assert!(stack.events().iter().all(|e| e["trace_id"] != id));
        assert!(stack.agent_requests_for(id).is_empty());
    }
}

#[test]
fn jwt_authn_refuses_bad_tokens_before_the_filter_and_passes_a_valid_one_or_none() {
    let stack = mtls().start();
    let creds = stack.creds();
    let bearer = |t: &str| format!("Bearer {t}");
    let cases = [
        (
            "jwt-expired",
            creds.token(&Token::valid("user-1").expired()),
            401,
            "Jwt is expired",
        ),
        (
            "jwt-issuer",
            creds.token(&Token::valid("user-1").issuer("https://evil.example")),
            401,
            "Jwt issuer is not configured",
        ),
        (
            "jwt-tampered",
            creds.token(&Token::valid("user-1").tampered()),
            401,
            "Jwt verification fails",
        ),
        (
            "jwt-other-key",
            creds.token_of_another_key(&Token::valid("user-1")),
            401,
            "Jwt verification fails",
        ),
        (
            "jwt-garbage",
            "not.a.jwt".to_string(),
            401,
            "Jwt header is an invalid JSON",
        ),
        (
            "jwt-audience",
            creds.token(&Token::valid("user-1").audience(Some("someone-else"))),
            403,
            "Audiences in Jwt are not allowed",
        ),
    ];
    for (id, token, status, text) in &cases {
        let r = stack.send_tls(
            Request::post("/a", "{}")
                .header("authorization", bearer(token))
                .header("x-agent-trace-id", id),
        );
        assert_eq!(r.status, *status, "{id}: {}", r.text());
        assert_eq!(r.text(), *text, "{id}");
        if *status == 401 {
            assert!(
                r.header("www-authenticate")
                    .is_some_and(|v| v.contains("error=\"invalid_token\"")),
                "{id}: {:?}",
                r.headers
            );
        }
        // Envoy's reply, not the filter's: the filter never saw the request.
        assert_eq!(r.header("x-agent-trace-id"), None, "{id}");
    }
    let valid = creds.token(&Token::valid("user-1").claims(json!({"tier": 2})));
    let r = stack.send_tls(
        Request::post("/a", "{}")
            .header("authorization", bearer(&valid))
            .header("x-agent-trace-id", "jwt-valid"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = stack.send_tls(Request::post("/a", "{}").header("x-agent-trace-id", "jwt-none"));
    assert_eq!(r.status, 200, "no token (allow_missing): {}", r.text());
    stack.events_for("jwt-valid", 2);
    stack.events_for("jwt-none", 2);
    for (id, ..) in &cases {
        assert!(
            stack.events().iter().all(|e| e["trace_id"] != *id),
            "{id}: an event line for a request Envoy refused"
        );
        assert!(stack.agent_requests_for(id).is_empty(), "{id}");
    }
    // jwt_authn removes the token (`forward: false`): the agent never sees it.
    let seen = stack.agent_requests_for("jwt-valid");
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0]["headers"].get("authorization").is_none(),
        "{seen:?}"
    );
    assert_eq!(
        stack.envoy.stat("http.iatp_inbound.jwt_authn.denied"),
        cases.len() as u64
    );
    assert_eq!(stack.envoy.stat("http.iatp_inbound.jwt_authn.allowed"), 2);
}

#[test]
fn the_client_libraries_call_through_envoy_and_the_filter() {
    let stack = mtls().python_upstream().start();
    let tools = stack.client_call("/mcp").run(&["mcp-list-tools"]);
    assert_eq!(tools["ok"], true, "{tools}");
    assert_eq!(
        tools["result"]["tools"],
        json!(["delete_file", "read_file"]),
        "{tools}"
    );
    let call =
        stack
            .client_call("/mcp")
            .run(&["mcp-call", "read_file", r#"{"path": "/srv/notes.txt"}"#]);
    assert_eq!(call["ok"], true, "{call}");
    assert_eq!(
        call["result"]["content"][0]["text"], "contents of /srv/notes.txt",
        "{call}"
    );
    let a2a = stack.client_call("/a2a").run(&["a2a-send", "hello agent"]);
    assert_eq!(a2a["ok"], true, "{a2a}");
    assert_eq!(
        a2a["result"]["events"][0]["message"]["parts"][0]["text"], "echo: hello agent",
        "{a2a}"
    );
    let chat = stack
        .client_call("/v1")
        .run(&["openai-chat", "gpt-test", "hi"]);
    assert_eq!(chat["ok"], true, "{chat}");
    assert_eq!(
        chat["result"]["choices"][0]["message"]["content"], "echo: hi",
        "{chat}"
    );

    // What went through, as the upstream received it (the filter added its headers).
    let seen = stack.upstream().requests();
    let methods: Vec<String> = seen
        .iter()
        .filter(|r| r["path"] != "/v1/chat/completions")
        .map(|r| {
            serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap()["method"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        methods,
        [
            "server/discover",
            "tools/list",
            "server/discover",
            "tools/call",
            "tools/list",
            "SendMessage"
        ],
        "{seen:#?}"
    );
    assert!(
        seen.iter()
            .all(|r| r["headers"]["x-agent-trace-id"].is_string()),
        "{seen:#?}"
    );
    // One `request` line per call the filter decided.
    let requests = stack
        .events()
        .into_iter()
        .filter(|e| e["type"] == "request")
        .count();
    assert_eq!(requests, seen.len());
}

/// What each library raises for a JSON-RPC (or OpenAI) error reply, at 403 and at 200: the
/// upstream answers with one when asked (`x-upstream-reply`), through Envoy. The filter's own
/// replies must fit these (see /work/notes/i12-envoy-facts.md).
#[test]
fn each_client_library_reports_a_refusal_as_its_own_error_type() {
    let stack = mtls().python_upstream().start();
    let refused = |path: &str, status: u16, args: &[&str]| {
        let mut call = stack.client_call(path);
        call.headers.push(format!("x-upstream-reply: {status}"));
        let out = call.run(args);
        assert_eq!(out["ok"], false, "{out}");
        out["error"].clone()
    };
    let mcp = refused(
        "/mcp",
        403,
        &["mcp-call", "delete_file", r#"{"path": "/x"}"#],
    );
    assert_eq!(mcp["class"], "MCPError", "{mcp}");
    assert_eq!(mcp["code"], -32001);
    assert_eq!(mcp["data"], json!({"rule": "test"}));
    // The A2A client reads a JSON-RPC error only from a 2xx reply; at 403 it raises an HTTP
    // error without the body's code.
    let a2a = refused("/a2a", 403, &["a2a-send", "hi"]);
    assert_eq!(a2a["class"], "A2AClientError", "{a2a}");
    assert!(
        a2a["message"]
            .as_str()
            .unwrap()
            .starts_with("HTTP Error 403"),
        "{a2a}"
    );
    let a2a = refused("/a2a", 200, &["a2a-send", "hi"]);
    assert_eq!(
        a2a["class"], "TaskNotFoundError",
        "-32001 is A2A's TaskNotFound: {a2a}"
    );
    let openai = refused("/v1", 403, &["openai-chat", "m", "hi"]);
    assert_eq!(openai["class"], "PermissionDeniedError", "{openai}");
    assert_eq!(openai["status"], 403);
    assert_eq!(openai["code"], "test_refusal");
}

/// The local rate limit after the filter keys on `x-iatp-caller`, which the filter sets to the
/// caller's directory name (the shipped plugin configuration): one bucket per caller, shared by
/// Envoy's two workers; a caller's own `x-iatp-caller` is replaced, so it cannot spend (or
/// escape into) another caller's bucket.
#[test]
fn the_local_rate_limit_after_the_filter_limits_per_x_iatp_caller_across_two_workers() {
    let stack = Stack::builder()
        .mtls_jwt()
        .workers(2)
        .envoy(|c| {
            let rl = c.http_filter("envoy.filters.http.local_ratelimit");
            rl["descriptors"] = json!([
                {"entries": [{"key": "iatp_caller", "value": "billing"}],
                 "token_bucket": {"max_tokens": 3, "tokens_per_fill": 3, "fill_interval": "3600s"}},
                {"entries": [{"key": "iatp_caller"}],
                 "token_bucket": {"max_tokens": 2, "tokens_per_fill": 2, "fill_interval": "3600s"}}
            ]);
        })
        .start();
    let creds = stack.creds();
    let ops = creds.client_with_sans("URI:spiffe://example.org/ns/ops/sa/deployer");
    let partner = creds.client_with_sans("URI:spiffe://partner.example/ns/a/sa/b");
    let nobody = creds.client_with_sans("DNS:nobody.example");
    // `cert` None: the default client certificate, billing's SPIFFE ID.
    let send = |cert: Option<&ClientCert>, spoof: Option<&str>, id: &str| {
        let mut req = Request::get("/r").header("x-agent-trace-id", id);
        if let Some(c) = spoof {
            req = req.header("x-iatp-caller", c);
        }
        let cert = cert.unwrap_or(&creds.client);
        stack
            .send_tls_as(Some(cert), req)
            .expect("a response")
            .status
    };
    // One connection per request: Envoy spreads them over both workers.
    let billing: Vec<u16> = (0..5)
        .map(|i| send(None, None, &format!("rl-b{i}")))
        .collect();
    assert_eq!(billing, [200, 200, 200, 429, 429]);
    // ops says it is billing: the filter replaces the header, so ops gets a bucket of its
    // own (the wildcard entry), not billing's empty one.
    let ops_says_billing: Vec<u16> = (0..3)
        .map(|i| send(Some(&ops), Some("billing"), &format!("rl-o{i}")))
        .collect();
    assert_eq!(
        ops_says_billing,
        [200, 200, 429],
        "the wildcard entry: a bucket of its own per caller, whatever it sends"
    );
    // Billing says it is someone else: still billing's (empty) bucket.
    assert_eq!(send(None, Some("partners"), "rl-b-spoof"), 429);
    let partners: Vec<u16> = (0..2)
        .map(|i| send(Some(&partner), None, &format!("rl-p{i}")))
        .collect();
    assert_eq!(partners, [200, 200], "partners' bucket was untouched");
    // A caller the directory does not know is `anonymous`: a bucket of its own too.
    let anonymous: Vec<u16> = (0..3)
        .map(|i| send(Some(&nobody), Some("partners"), &format!("rl-n{i}")))
        .collect();
    assert_eq!(anonymous, [200, 200, 429]);

    let limited = stack.send_tls(Request::get("/r").header("x-agent-trace-id", "rl-limited"));
    assert_eq!(limited.status, 429);
    assert_eq!(limited.text(), "local_rate_limited");
    assert_eq!(
        limited.header("x-ratelimit-limit"),
        Some("3"),
        "{:?}",
        limited.headers
    );
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    assert!(
        limited.header("x-ratelimit-reset").is_some(),
        "{:?}",
        limited.headers
    );
    assert!(stack.agent_requests_for("rl-limited").is_empty());
    // The filter decided the request before the limit refused it: its lines say 429.
    let lines = stack.events_for("rl-limited", 2);
    assert_eq!(lines[0]["caller"]["name"], "billing", "{lines:#?}");
    assert_eq!(lines[1]["type"], "response", "{lines:#?}");
    assert_eq!(lines[1]["status"], 429, "{lines:#?}");
    // What the agent saw: the name the filter set, once, never the caller's own value.
    for (id, name) in [
        ("rl-b0", "billing"),
        ("rl-o0", "ops"),
        ("rl-p0", "partners"),
        ("rl-n0", "anonymous"),
    ] {
        let seen = stack.agent_requests_for(id);
        assert_eq!(seen.len(), 1, "{id}");
        assert_eq!(seen[0]["headers"]["x-iatp-caller"], name, "{id}: {seen:?}");
    }
    assert_eq!(
        stack
            .envoy
            .stat("iatp_caller_ratelimit.http_local_rate_limit.rate_limited"),
        6
    );
    // Both workers took connections, so the buckets are shared, not per worker.
    for w in 0..2 {
        let n = stack.envoy.stat(&format!(
            "listener.127.0.0.1_0.worker_{w}.downstream_cx_total"
        ));
        assert!(n > 0, "worker {w} took no connection");
    }
}
