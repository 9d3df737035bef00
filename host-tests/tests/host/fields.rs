//! Every field of a request is scanned and decided on, in a real Envoy: headers (cookies
//! included), the method, trailers, and the path and query before anything is forwarded, with
//! or without held headers (the Istio path).

use serde_json::{json, Value};

use crate::harness::http::{send_h2, send_raw};
use crate::harness::{Request, Stack};

fn policy(hold_headers: bool) -> Value {
    json!({
        "hold_headers": hold_headers,
        "manifest": {"identity": {"agent_id": "fields-agent"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"block_rules": [
            {"name": "no_ssn", "condition": "has_ssn", "action": "block"},
            {"name": "no_card", "condition": "has_credit_card", "action": "block"},
            {"name": "mail", "condition": "has_email", "action": "warn", "message": "mail"}
        ]}
    })
}

#[test]
fn a_value_in_any_header_counts_and_is_never_logged() {
    let stack = Stack::with_plugin(&policy(true));
    for (name, value, kind) in [
        ("x-card", "4111 1111 1111 1111", "credit_card"),
        ("cookie", "session=abc; ssn=536-22-1234", "ssn"),
        ("x-note", "card\u{a0}4111111111111111", "credit_card"),
        ("x-metadata", r#"{"n":"536\u002d22-1234"}"#, "ssn"),
    ] {
        let trace = format!("header-{name}");
        let r = stack.send(
            Request::post("/book", "{}")
                .header(name, value)
                .header("x-agent-trace-id", &trace),
        );
        assert_eq!(r.status, 403, "{name}: {}", r.text());
        assert_eq!(r.json()["detected"], json!([kind]), "{name}");
        stack.assert_never_reached_agent(&trace);
        let events = stack.events_for(&trace, 2);
        assert_eq!(
            events[0]["headers"],
            json!([{"name": name, "detected": [kind]}]),
            "{name}"
        );
        let text = format!("{events:?}");
        assert!(
            !text.contains("4111 1111")
                && !text.contains("4111111111111111")
                && !text.contains("536-22")
                && !text.contains("536\\u002d22"),
            "{text}"
        );
    }
    // The credentials a request is expected to carry are not scanned (detectors.skip_headers).
    let r =
        stack.send(Request::post("/book", "{}").header("authorization", "Bearer 4111111111111111"));
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn a_header_name_is_scrubbed_too() {
    let stack = Stack::with_plugin(&policy(true));
    let r = stack.send(
        Request::post("/book", "{}")
            .header("x-536-22-1234", "1")
            .header("x-agent-trace-id", "header-name"),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let events = stack.events_for("header-name", 2);
    assert_eq!(
        events[0]["headers"],
        json!([{"name": "x-[SSN_REDACTED]", "detected": ["ssn"]}])
    );
}

#[test]
fn the_path_decides_before_anything_is_forwarded_even_without_held_headers() {
    // hold_headers: false is what Istio's WasmPlugin runs: the headers would go on at once.
    let stack = Stack::with_plugin(&policy(false));
    let r = stack.send(
        Request::post("/pay?ssn=536-22-1234", "{}").header("x-agent-trace-id", "istio-query"),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    stack.assert_never_reached_agent("istio-query");
    // A slow body: the card in the path is refused before the first body byte arrives.
    let raw = b"POST /pay/4111111111111111 HTTP/1.1\r\nHost: a\r\nX-Agent-Trace-ID: istio-slow\r\nTransfer-Encoding: chunked\r\n\r\n";
    let r = send_raw(stack.addr(), raw);
    assert_eq!(r.status, 403, "{}", r.text());
    stack.assert_never_reached_agent("istio-slow");
    // A warning the headers make certain: 449, and nothing forwarded.
    let r = stack.send(
        Request::post("/m?to=ann@example.com", "{}").header("x-agent-trace-id", "istio-warn"),
    );
    assert_eq!(r.status, 449, "{}", r.text());
    stack.assert_never_reached_agent("istio-warn");
}

#[test]
fn a_method_is_a_field_like_any_other() {
    // Envoy takes any token as a method over HTTP/2 (HTTP/1.1 answers 400 first).
    let stack = Stack::with_plugin(&policy(true));
    let r = send_h2(
        stack.addr(),
        "536-22-1234",
        "/x",
        &["x-agent-trace-id: odd-method"],
        None,
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    stack.assert_never_reached_agent("odd-method");
    let events = stack.events_for("odd-method", 2);
    assert_eq!(events[0]["method"], "[SSN_REDACTED]");
    assert_eq!(events[0]["detected"], json!(["ssn"]));
    assert!(!format!("{events:?}").contains("536-22"));
}

#[test]
fn trailers_are_scanned() {
    let stack = Stack::with_plugin(&policy(true));
    let r = send_h2(
        stack.addr(),
        "POST",
        "/book",
        &["x-agent-trace-id: trailer"],
        Some("{}"),
        &["x-checksum: 536-22-1234"],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    stack.assert_never_reached_agent("trailer");
    let events = stack.events_for("trailer", 2);
    assert_eq!(
        events[0]["trailers"],
        json!([{"name": "x-checksum", "detected": ["ssn"]}])
    );
}

#[test]
fn a_redact_rule_rewrites_the_path_headers_and_body_the_agent_gets() {
    let stack = Stack::with_plugin(&json!({
        "manifest": {"identity": {"agent_id": "fields-agent"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"block_rules": [
            {"name": "scrub", "condition": "has_credit_card || has_email", "action": "redact"}
        ]}
    }));
    let r = stack.send(
        Request::post(
            "/pay?to=ann%40example.com&n=1",
            r#"{"card":"4111111111111111"}"#,
        )
        .header("content-type", "application/json")
        .header("x-card", "card 4111 1111 1111 1111 ok")
        .header("x-agent-trace-id", "redact-fields"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = stack.agent_requests_for("redact-fields");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["path"], "/pay?to=%5BEMAIL%5D&n=1");
    assert_eq!(got[0]["headers"]["x-card"], "card [CREDIT_CARD] ok");
    assert_eq!(got[0]["body"], r#"{"card":"[CREDIT_CARD]"}"#);
    let text = format!("{got:?}");
    // Not "4111" alone: Envoy's random x-request-id may hold those digits.
    assert!(
        !text.contains("4111 1111")
            && !text.contains("4111111111111111")
            && !text.contains("ann%40"),
        "{text}"
    );
    let events = stack.events_for("redact-fields", 3);
    assert_eq!(events[1]["type"], "redacted");
    assert_eq!(events[1]["values"], 3);
}

#[test]
fn values_glued_to_words_in_fields_are_found() {
    let stack = Stack::with_plugin(&policy(true));
    for (i, req) in [
        Request::post("/book", "{}").header("x-note", "ref4111-1111-1111-1111"),
        Request::post("/book", "{}").header("ssn536-22-1234", "1"),
        Request::post("/u/acct4111111111111111", "{}"),
    ]
    .into_iter()
    .enumerate()
    {
        let trace = format!("glued-{i}");
        let r = stack.send(req.header("x-agent-trace-id", &trace));
        assert_eq!(r.status, 403, "{i}: {}", r.text());
        stack.assert_never_reached_agent(&trace);
        let text = format!("{:?}", stack.events_for(&trace, 2));
        // The values, not "4111" alone: a line's hash may hold those digits.
        assert!(
            !text.contains("4111-1111")
                && !text.contains("4111111111111111")
                && !text.contains("536-22"),
            "{text}"
        );
    }
    // A trace id with a value glued on is replaced (and counts: the SSN blocks).
    let r = stack.send(Request::post("/book", "{}").header("x-agent-trace-id", "ssn536-22-1234"));
    assert_eq!(r.status, 403, "{}", r.text());
    assert_ne!(r.header("x-agent-trace-id"), Some("ssn536-22-1234"));
}
