//! Issue 12, attacked (branch i12-attack) in a real Envoy with the shipped
//! envoy/envoy-mtls-jwt.yaml and the real MCP / A2A Python servers behind it. A failing test is
//! a finding (/work/notes/i12-attack.md).

use serde_json::Value;

use crate::harness::{Request, Stack};

/// An anonymous caller: a client certificate of the CA whose SPIFFE ID no directory entry
/// matches (tier 0, unknown trust, `anonymous`).
const WEB: &str = "spiffe://example.org/ns/web/sa/anyone";

fn mcp_post(body: &str, content_type: &str, trace: &str) -> Request {
    Request::new("POST", "/mcp")
        .header("content-type", content_type)
        .header("accept", "application/json, text/event-stream")
        .header("x-agent-trace-id", trace)
        .body(body)
}

/// The shipped policy: `delete_file` needs tier 3, `no_etc` blocks `/etc/` paths. An anonymous
/// caller hides its `tools/call` from the filter with a body serde_json refuses and Python
/// reads (`NaN`), a key that hides `jsonrpc` from the byte search (`"json\u0072pc"`), and a
/// Content-Type the MCP SDK takes for JSON and the filter does not
/// (`application/json,text/plain`). Expected: refused (-31004 or -32700). Control: the same
/// call written plainly is refused.
#[test]
fn attack_mcp_delete_file_hidden_by_nan_and_a_content_type_list_is_refused() {
    let stack = Stack::builder().mtls_jwt().python_upstream().start();
    let web = stack.creds().client_with_sans(&format!("URI:{WEB}"));
    let plain = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/etc/passwd"}}}"#;
    let r = stack
        .send_tls_as(
            Some(&web),
            mcp_post(plain, "application/json", "atk-control"),
        )
        .expect("a response");
    let v: Value = r.json();
    assert_eq!(v["error"]["code"], -31004, "control: {v}");

    let hidden = r#"{"json\u0072pc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/etc/passwd"}},"pad":NaN}"#;
    let r = stack
        .send_tls_as(
            Some(&web),
            mcp_post(hidden, "application/json,text/plain", "atk-nan"),
        )
        .expect("a response");
    let text = r.text();
    let reached: Vec<Value> = stack
        .upstream()
        .requests()
        .into_iter()
        .filter(|q| q["headers"]["x-agent-trace-id"] == "atk-nan")
        .collect();
    assert!(
        reached.is_empty() && !text.contains("deleted /etc/passwd"),
        "an anonymous tier-0 caller's delete_file of /etc/passwd reached the agent: HTTP {} {text}",
        r.status
    );
}

/// Identity spoofing attempts that should hold: two client-sent `x-iatp-caller: billing`
/// headers, and on `/v1/` (where jwt_authn has no requirement) an unsigned token claiming
/// tier 9 and billing's subject. The agent must see `x-iatp-caller: anonymous`, once.
#[test]
fn attack_spoofed_caller_header_and_unverified_token_stay_anonymous() {
    let stack = Stack::builder().mtls_jwt().python_upstream().start();
    let web = stack.creds().client_with_sans(&format!("URI:{WEB}"));
    // {"alg":"none"}.{"iss":"https://idp.example","sub":"billing","tier":9,"aud":"iatp-agent"}.
    let unsigned = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwic3ViIjoiYmlsbGluZyIsInRpZXIiOjksImF1ZCI6ImlhdHAtYWdlbnQifQ.";
    let r = stack
        .send_tls_as(
            Some(&web),
            Request::post(
                "/v1/chat/completions",
                r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
            )
            .header("x-iatp-caller", "billing")
            .header("x-iatp-caller", "billing")
            .header("authorization", format!("Bearer {unsigned}"))
            .header("x-agent-trace-id", "atk-spoof"),
        )
        .expect("a response");
    assert_eq!(r.status, 200, "{}", r.text());
    let seen: Vec<Value> = stack
        .upstream()
        .requests()
        .into_iter()
        .filter(|q| q["headers"]["x-agent-trace-id"] == "atk-spoof")
        .collect();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["headers"]["x-iatp-caller"], "anonymous", "{seen:?}");
    let line = stack
        .events_for("atk-spoof", 2)
        .into_iter()
        .find(|e| e["type"] == "request")
        .unwrap();
    assert_eq!(line["caller"]["name"], "anonymous", "{line}");
    assert_eq!(line["caller"]["source"], "spiffe", "{line}");
    assert!(!line.to_string().contains(unsigned), "{line}");
}

/// a2a-sdk 1.3.0 reads `params` with protobuf's ParseDict: `"role": 2` is ROLE_AGENT. A rule
/// `a2a_role == 'agent'` (block messages posing as the agent) reads `''`. Expected: refused.
#[test]
fn attack_a2a_role_as_protobuf_enum_number_is_refused_as_agent() {
    let rule = serde_json::json!({
        "manifest": {"identity": {"agent_id": "file-agent"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"block_rules": [
            {"name": "no_agent_role", "condition": "a2a_role == 'agent'", "action": "block"}]}
    });
    let stack = Stack::builder()
        .mtls_jwt()
        .plugin(&rule)
        .python_upstream()
        .start();
    let send = |role: &str, trace: &str| {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{{"message":{{"role":{role},"messageId":"m-{trace}","parts":[{{"text":"hi"}}]}}}}}}"#
        );
        stack.send_tls(
            Request::post("/a2a", body)
                .header("a2a-version", "1.0")
                .header("x-agent-trace-id", trace),
        )
    };
    let control = send("\"ROLE_AGENT\"", "atk-role-control");
    assert_eq!(
        control.json()["error"]["code"],
        -31001,
        "{}",
        control.text()
    );
    let r = send("2", "atk-role-2");
    let reached = stack
        .upstream()
        .requests()
        .into_iter()
        .any(|q| q["headers"]["x-agent-trace-id"] == "atk-role-2");
    assert!(
        !reached,
        "ROLE_AGENT as 2 reached the agent: HTTP {} {}",
        r.status,
        r.text()
    );
}
