//! What comes back, through a real Envoy: response rules on buffered responses (blocked,
//! redacted, monitored), in the caller's protocol's shape, with their events and metrics.

use serde_json::{json, Value};

use crate::harness::{Request, Stack};

const CARD: &str = "4111 1111 1111 1111";

fn config(rules: Value) -> Value {
    json!({
        "manifest": {
            "identity": {"agent_id": "test-agent"},
            "trust_level": "standard",
            "privacy": {"retention": "ephemeral"}
        },
        "policy": {"block_rules": rules}
    })
}

fn card_rule(action: &str) -> Value {
    json!([{"name": "no_cards_back", "condition": "response_has_credit_card", "action": action}])
}

/// A request the mock agent answers with `body` (as `application/json`, with its length).
fn answered_with(path: &str, body: &str) -> Request {
    Request::post(path, r#"{"q":"what is on file?"}"#)
        .header("content-type", "application/json")
        .header("x-mock-body", body)
}

#[test]
fn a_card_in_a_buffered_response_is_blocked_and_never_reaches_the_caller() {
    let stack = Stack::with_plugin(&config(card_rule("block")));
    let r = stack.send(answered_with(
        "/records",
        &format!(r#"{{"card":"{CARD}"}}"#),
    ));
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(!r.text().contains("4111"), "{}", r.text());
    let v = r.json();
    assert_eq!(v["rule"], "no_cards_back");
    assert_eq!(v["detected"], json!(["credit_card"]));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let trace = r.header("x-agent-trace-id").unwrap().to_string();
    // The request reached the agent: only its answer was refused.
    assert_eq!(stack.agent_requests_for(&trace).len(), 1);
    let events = stack.events_for(&trace, 3);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["request", "blocked", "response"]);
    assert_eq!(events[1]["phase"], "response");
    assert_eq!(events[1]["reason"], "no_cards_back");
    assert_eq!(events[1]["status"], 403);
    assert_eq!(events[2]["detected"], json!(["credit_card"]));
    assert_eq!(events[2]["status"], 200, "the agent's status");
    let lines = std::fs::read_to_string(stack.events_path()).unwrap();
    assert!(!lines.contains("4111"));
    stack.envoy.wait_for_prometheus(
        r#"iatp_requests_total{phase="response",decision="block"}"#,
        1.0,
    );
    assert_eq!(
        stack
            .envoy
            .prometheus(r#"iatp_detections_total{phase="response",detector="credit_card"}"#),
        1.0
    );
    assert_eq!(
        stack
            .envoy
            .prometheus(r#"iatp_requests_total{phase="request",decision="allow"}"#),
        1.0
    );
}

#[test]
fn a_redacted_buffered_response_stays_json_and_its_length_follows() {
    let stack = Stack::with_plugin(&config(card_rule("redact")));
    let body = format!(r#"{{"card":"{CARD}","number":4111111111111111,"note":"ok"}}"#);
    let r = stack.send(answered_with("/records", &body));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        v,
        json!({"card": "[CREDIT_CARD]", "number": "[CREDIT_CARD]", "note": "ok"})
    );
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    let trace = r.header("x-agent-trace-id").unwrap().to_string();
    let events = stack.events_for(&trace, 3);
    let redacted = events.iter().find(|e| e["type"] == "redacted").unwrap();
    assert_eq!(redacted["phase"], "response");
    assert_eq!(redacted["values"], 2);
    let response = events.iter().find(|e| e["type"] == "response").unwrap();
    assert_eq!(response["detected"], json!(["credit_card"]));
    assert!(!response["payload"].as_str().unwrap().contains("4111"));
}

#[test]
fn a_clean_response_passes_unchanged() {
    let stack = Stack::with_plugin(&config(card_rule("block")));
    let body = r#"{"flight":"LX 318","seats":2}"#;
    let r = stack.send(answered_with("/book", body));
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), body);
    let trace = r.header("x-agent-trace-id").unwrap().to_string();
    let events = stack.events_for(&trace, 2);
    assert_eq!(events[1]["type"], "response");
    assert_eq!(events[1]["detected"], json!([]));
    assert_eq!(events[1]["streamed"], false);
    assert_eq!(events[1]["body_bytes"], body.len());
}

#[test]
fn a_json_rpc_caller_gets_the_refused_response_as_a_json_rpc_error_with_its_id() {
    let stack = Stack::with_plugin(&config(card_rule("block")));
    let call = json!({"jsonrpc": "2.0", "id": "call-42", "method": "tools/call",
        "params": {"name": "lookup", "arguments": {"who": "jane"}}});
    let answer = json!({"jsonrpc": "2.0", "id": "call-42",
        "result": {"content": [{"type": "text", "text": format!("card {CARD}")}]}});
    let r = stack.send(
        Request::post("/mcp", call.to_string())
            .header("content-type", "application/json")
            .header("x-mock-body", answer.to_string()),
    );
    assert_eq!(
        r.status, 200,
        "JSON-RPC errors come with 200 unless replies.jsonrpc_status says otherwise"
    );
    let v = r.json();
    assert_eq!(v["id"], "call-42");
    assert_eq!(v["error"]["code"], -31001);
    assert_eq!(v["error"]["data"]["rule"], "no_cards_back");
    assert!(!r.text().contains("4111"));
}

#[test]
fn monitor_mode_reports_what_it_would_have_refused() {
    let mut cfg = config(card_rule("block"));
    cfg["mode"] = json!("monitor");
    let stack = Stack::with_plugin(&cfg);
    let body = format!(r#"{{"card":"{CARD}"}}"#);
    let r = stack.send(answered_with("/records", &body));
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), body, "monitor mode changes nothing");
    assert_eq!(r.header("x-agent-policy"), Some("block"));
    let trace = r.header("x-agent-trace-id").unwrap().to_string();
    let events = stack.events_for(&trace, 3);
    let blocked = events.iter().find(|e| e["type"] == "blocked").unwrap();
    assert_eq!(blocked["mode"], "monitor");
    assert_eq!(blocked["phase"], "response");
}

#[test]
fn a_response_rule_sees_the_caller_and_the_request() {
    // Cards may go back on GET /cards only.
    let rules = json!([{"name": "cards_only_here", "action": "block",
        "condition": "response_has_credit_card && path != '/cards'"}]);
    let stack = Stack::with_plugin(&config(rules));
    let body = format!(r#"{{"card":"{CARD}"}}"#);
    let ok = stack.send(Request::get("/cards").header("x-mock-body", &body));
    assert_eq!(ok.status, 200);
    assert_eq!(ok.text(), body);
    let refused = stack.send(Request::get("/other").header("x-mock-body", &body));
    assert_eq!(refused.status, 403);
}
