//! What comes back, through a real Envoy: response rules on buffered responses (blocked,
//! redacted, monitored), in the caller's protocol's shape, with their events and metrics.

use serde_json::{json, Value};

use crate::harness::{Request, Stack};

const CARD: &str = "4111 1111 1111 1111";

pub(crate) fn config(rules: Value) -> Value {
    json!({
        "manifest": {
            "identity": {"agent_id": "test-agent"},
            "trust_level": "standard",
            "privacy": {"retention": "ephemeral"}
        },
        "policy": {"block_rules": rules}
    })
}

pub(crate) fn card_rule(action: &str) -> Value {
    json!([{"name": "no_cards_back", "condition": "response_has_credit_card", "action": action}])
}

/// A request the mock agent answers with `body` (as `application/json`, with its length).
fn answered_with(path: &str, body: &str) -> Request {
    Request::post(path, r#"{"q":"what is on file?"}"#).header("x-mock-body", body)
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
        // Sent as `text/plain`: the body is JSON-RPC whatever its label says.
        Request::new("POST", "/mcp")
            .header("content-type", "text/plain")
            .body(call.to_string())
            .header("x-mock-body", answer.to_string()),
    );
    assert_eq!(
        r.status,
        200,
        "JSON-RPC errors come with 200 unless replies.jsonrpc_status says otherwise: {}",
        r.text()
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

// Streams: server-sent events and chunked bodies, scanned as they pass.

use std::time::{Duration, Instant};

use crate::harness::{
    parse_sse, rss_kib, send_streaming, ClientCall, RssSampler, StreamOptions, Streamed,
};

/// A GET the mock agent answers with the stream its headers describe.
fn stream_of(headers: &[(&str, &str)]) -> Request {
    headers
        .iter()
        .fold(Request::get("/stream"), |r, (k, v)| r.header(k, v))
}

/// The text an OpenAI or A2A event carries (the mock's shapes).
fn event_text(data: &str) -> String {
    let v: Value = serde_json::from_str(data).unwrap_or(Value::Null);
    let openai = v["choices"][0]["delta"]["content"].as_str();
    let a2a = v["result"]["artifact"]["parts"][0]["text"].as_str();
    openai.or(a2a).unwrap_or("").to_string()
}

/// Every event of a stream (it must be valid SSE) and the text they carry, joined.
fn streamed_text(r: &Streamed) -> (usize, String) {
    let events =
        parse_sse(&r.body()).unwrap_or_else(|e| panic!("not valid SSE: {e}\n{}", r.text()));
    let text = events.iter().map(|e| event_text(&e.data)).collect();
    (events.len(), text)
}

/// The card cut in `n` pieces, with text before and after: the mock sends each piece as its
/// own event, in its own chunk.
fn card_pieces(n: usize) -> Vec<String> {
    let mut pieces = vec!["Card on file: ".to_string()];
    let digits: Vec<char> = CARD.chars().collect();
    for i in 0..n {
        let (a, b) = (i * digits.len() / n, (i + 1) * digits.len() / n);
        pieces.push(digits[a..b].iter().collect());
    }
    pieces.push(". Anything else?".to_string());
    pieces
}

#[test]
fn a_card_split_across_two_three_and_four_events_is_redacted_and_the_stream_stays_valid() {
    let stack = Stack::with_plugin(&config(card_rule("redact")));
    for (shape, eol) in [
        ("openai", "lf"),
        ("a2a", "lf"),
        ("openai", "crlf"),
        ("a2a", "cr"),
    ] {
        for n in [2, 3, 4] {
            let pieces = serde_json::to_string(&card_pieces(n)).unwrap();
            let r = stack.send_streaming(stream_of(&[
                ("x-mock-sse", shape),
                ("x-mock-sse-pieces", &pieces),
                ("x-mock-sse-eol", eol),
            ]));
            assert_eq!(r.status, 200);
            assert!(r.complete, "{:?}", r.error);
            let (events, text) = streamed_text(&r);
            assert_eq!(
                text,
                "Card on file: [CREDIT_CARD]. Anything else?",
                "{shape} {eol}, {n} pieces:\n{}",
                r.text()
            );
            // Every event still there: the pieces, and the closing ones (OpenAI: the stop
            // chunk and `[DONE]`; A2A: the final status update).
            let closing = if shape == "openai" { 2 } else { 1 };
            assert_eq!(events, n + 2 + closing, "{shape} {eol} {n}: {}", r.text());
            assert!(!r.text().contains("1111"), "{}", r.text());
            let trace = r.header("x-agent-trace-id").unwrap().to_string();
            let lines = stack.events_for(&trace, 3);
            let redacted = lines.iter().find(|l| l["type"] == "redacted").unwrap();
            assert_eq!(redacted["phase"], "response");
            let response = lines.iter().find(|l| l["type"] == "response").unwrap();
            assert_eq!(response["streamed"], true);
            assert_eq!(response["detected"], json!(["credit_card"]));
        }
    }
    // No line holds a piece of the card; the chain's hashes and ids and the random trace ids
    // are hex, where "1111" turns up by chance, so they are left out of the search.
    for mut line in stack.events() {
        let fields = line.as_object_mut().unwrap();
        for random in ["hash", "chain", "trace_id"] {
            fields.remove(random);
        }
        let text = line.to_string();
        assert!(!text.contains("1111"), "{text}");
    }
}

#[test]
fn a_card_split_across_chunks_of_a_text_stream_is_redacted() {
    let stack = Stack::with_plugin(&config(card_rule("redact")));
    let chunks = json!(["pay with 4111 11", "11 1111 1", "111 now", " and thanks"]).to_string();
    let r = stack.send_streaming(stream_of(&[("x-mock-chunks", &chunks)]));
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "pay with [CREDIT_CARD] now and thanks");
}

#[test]
fn a_stream_that_breaks_a_block_rule_ends_with_an_error_event() {
    let stack = Stack::with_plugin(&config(card_rule("block")));
    let pieces = serde_json::to_string(&card_pieces(3)).unwrap();
    // An OpenAI-style call: the refusal is an OpenAI error event.
    let r = stack.send_streaming(
        Request::post("/v1/chat/completions", r#"{"model":"m","stream":true}"#)
            .header("x-mock-sse", "openai")
            .header("x-mock-sse-pieces", &pieces)
            // Apart, so that Envoy hands them over one by one (it merges what comes at once).
            .header("x-mock-chunk-delay-ms", "50"),
    );
    assert_eq!(r.status, 200, "the headers had left");
    assert!(!r.text().contains("1111"), "{}", r.text());
    let events = parse_sse(&r.body()).unwrap();
    let last: Value = serde_json::from_str(&events.last().unwrap().data).unwrap();
    assert_eq!(last["error"]["code"], "iatp_blocked", "{}", r.text());
    assert_eq!(
        last["error"]["iatp"]["rule"],
        "no_cards_back",
        "{}",
        r.text()
    );
    // What came before the card left before it; nothing after the refusal.
    assert_eq!(
        event_text(&events[0].data),
        "Card on file: ",
        "{}",
        r.text()
    );
    assert!(!r.text().contains("Anything else"));
    // Any other call: an `error` event with the IATP body.
    let r = stack.send_streaming(stream_of(&[
        ("x-mock-sse", "openai"),
        ("x-mock-sse-pieces", &pieces),
    ]));
    let events = parse_sse(&r.body()).unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.event, "error", "{}", r.text());
    let body: Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(body["rule"], "no_cards_back");
    assert!(!r.text().contains("Anything else"));
    let trace = r.header("x-agent-trace-id").unwrap().to_string();
    let lines = stack.events_for(&trace, 3);
    let blocked = lines.iter().find(|l| l["type"] == "blocked").unwrap();
    assert_eq!(blocked["phase"], "response");
}

/// The real clients read what the filter lets through: a redacted stream still parses, and a
/// refused one is the library's own error.
#[test]
fn real_clients_read_redacted_streams_and_get_refusals_as_their_own_errors() {
    let call = |stack: &Stack, path: &str| ClientCall {
        url: format!("http://{}{path}", stack.addr()),
        ca: None,
        cert: None,
        headers: Vec::new(),
    };
    let text = format!("pay with {CARD} please");
    let stack = Stack::builder()
        .plugin(&config(card_rule("redact")))
        .python_upstream()
        .start();
    let out = call(&stack, "/v1").run(&["openai-chat-stream", "gpt-test", &text]);
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(
        out["result"]["text"], "echo: pay with [CREDIT_CARD] please",
        "{out}"
    );
    assert_eq!(out["result"]["finish_reason"], "stop");
    for protocol in ["1.0", "0.3"] {
        let out = call(&stack, "/a2a").run(&["a2a-stream", &text, "--protocol", protocol]);
        assert_eq!(out["ok"], true, "{protocol}: {out}");
        assert_eq!(
            out["result"]["text"], "echo: pay with [CREDIT_CARD] please",
            "{protocol}: {out}"
        );
        assert!(!out.to_string().contains("1111"), "{protocol}: {out}");
    }
    drop(stack);

    let stack = Stack::builder()
        .plugin(&config(card_rule("block")))
        .python_upstream()
        .start();
    let out = call(&stack, "/v1").run(&["openai-chat-stream", "gpt-test", &text]);
    assert_eq!(out["ok"], false, "{out}");
    assert_eq!(out["error"]["class"], "APIError", "{out}");
    assert!(!out.to_string().contains("1111"), "{out}");
    for protocol in ["1.0", "0.3"] {
        let out = call(&stack, "/a2a").run(&["a2a-stream", &text, "--protocol", protocol]);
        assert_eq!(out["ok"], false, "{protocol}: {out}");
        assert_eq!(out["error"]["class"], "A2AClientError", "{protocol}: {out}");
        assert!(!out.to_string().contains("1111"), "{protocol}: {out}");
    }
}

/// Events whose words end in a space leave as they come: the filter adds no wait between
/// them (each arrives before the next is written, 150 ms later).
#[test]
fn clean_events_flow_without_waiting_for_the_next() {
    let stack = Stack::with_plugin(&config(card_rule("redact")));
    let pieces = json!([
        "The weather ",
        "today is ",
        "quite nice ",
        "and warm ",
        "again."
    ])
    .to_string();
    let r = stack.send_streaming(stream_of(&[
        ("x-mock-sse", "openai"),
        ("x-mock-sse-pieces", &pieces),
        ("x-mock-chunk-delay-ms", "150"),
    ]));
    assert!(r.complete);
    let (_, text) = streamed_text(&r);
    assert_eq!(text, "The weather today is quite nice and warm again.");
    let with_data: Vec<Duration> = r
        .chunks
        .iter()
        .filter(|c| c.len > 0)
        .map(|c| c.at)
        .collect();
    // Four of the five pieces are followed by a 150 ms pause: each reaches the caller during
    // its pause, so the chunks are at least ~150 ms apart.
    let apart = with_data
        .windows(2)
        .filter(|w| w[1] - w[0] >= Duration::from_millis(120))
        .count();
    assert!(
        apart >= 4,
        "{:?}",
        r.chunks.iter().map(|c| (c.at, c.len)).collect::<Vec<_>>()
    );
}

/// A 100 MiB stream, scanned as it passes, with Envoy's memory flat. Prints the figures.
#[test]
fn a_100_mib_inspected_stream_passes_with_envoy_memory_flat() {
    let stack = Stack::with_plugin(&config(card_rule("redact")));
    let pid = stack.envoy.pid();
    let warm = stack.send_streaming(stream_of(&[
        ("x-mock-stream-bytes", "1048576"),
        ("x-mock-stream-kind", "sse"),
    ]));
    assert!(warm.complete);
    for kind in ["sse", "text"] {
        let before = rss_kib(pid).unwrap();
        let sampler = RssSampler::start(pid, Duration::from_millis(20));
        let n: u64 = 100 * 1024 * 1024;
        let start = Instant::now();
        let r = send_streaming(
            stack.addr(),
            &stream_of(&[
                ("x-mock-stream-bytes", &n.to_string()),
                ("x-mock-stream-kind", kind),
            ]),
            &StreamOptions {
                keep_data: false,
                read_timeout: Duration::from_secs(60),
            },
        );
        let took = start.elapsed();
        let max = sampler.stop().iter().map(|s| s.1).max().unwrap_or(before);
        eprintln!(
            "inspected 100 MiB {kind} stream: {} bytes in {took:?} ({:.1} MiB/s); Envoy RSS \
             before {before} KiB, max during {max} KiB (+{} KiB)",
            r.body_bytes,
            r.body_bytes as f64 / 1048576.0 / took.as_secs_f64(),
            max.saturating_sub(before)
        );
        assert!(r.complete, "{:?}", r.error);
        assert!(
            r.body_bytes > n - 200 && r.body_bytes <= n,
            "{}",
            r.body_bytes
        );
        assert!(
            max.saturating_sub(before) < 16 * 1024,
            "Envoy grew by {} KiB",
            max - before
        );
    }
}

// Contracts (ACVPS) and the moderation service, through Envoy's `moderation` cluster.

fn contract_config(envelope: Value, moderation: Option<Value>) -> Value {
    let mut c = config(json!([]));
    c["contracts"] = json!([{"id": "acme/pii-strict/v1", "envelope": envelope}]);
    c["contract"] = json!("acme/pii-strict/v1");
    if let Some(m) = moderation {
        c["moderation"] = m;
    }
    c
}

#[test]
fn a_response_over_its_contract_is_refused_with_403_naming_the_contract() {
    let stack = Stack::with_plugin(&contract_config(
        json!({"findings": {"credit_card": {"max": 0}}, "pii_risk": {"max": 0.5}}),
        None,
    ));
    let r = stack.send(answered_with(
        "/records",
        &format!(r#"{{"card":"{CARD}"}}"#),
    ));
    assert_eq!(r.status, 403, "{}", r.text());
    let v = r.json();
    assert_eq!(v["contract"], "acme/pii-strict/v1");
    let bounds: Vec<&str> = v["exceeded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["bound"].as_str().unwrap())
        .collect();
    assert_eq!(bounds, ["pii_risk", "findings.credit_card"], "{v}");
    assert!(!r.text().contains("4111"));
    let trace = r.header("x-agent-trace-id").unwrap().to_string();
    let events = stack.events_for(&trace, 3);
    let blocked = events.iter().find(|e| e["type"] == "blocked").unwrap();
    assert_eq!(blocked["reason"], "contract_violation");
    assert_eq!(blocked["contract"], "acme/pii-strict/v1");
    // An e-mail address (pii_risk 0.5) is within the bound.
    let r = stack.send(answered_with(
        "/records",
        r#"{"to":"jane.doe@example.com"}"#,
    ));
    assert_eq!(r.status, 200, "{}", r.text());
}

fn moderated_stack(fail: &str) -> Stack {
    let moderation = json!({"cluster": "moderation", "timeout_ms": 500, "fail": fail});
    Stack::builder()
        .plugin(&contract_config(
            json!({"toxicity_score": {"max": 0.3}, "bias_score": {"max": 0.2}}),
            Some(moderation),
        ))
        .moderation()
        .start()
}

#[test]
fn the_moderation_service_scores_each_buffered_response_before_it_leaves() {
    let stack = moderated_stack("closed");
    let clean = r#"{"text":"have a nice day"}"#;
    let r = stack.send(answered_with("/chat", clean));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), clean);
    let inputs = stack.moderation().inputs();
    assert_eq!(inputs.len(), 1, "one call per response");
    assert_eq!(inputs[0]["input"], clean);
    let trace = r.header("x-agent-trace-id").unwrap().to_string();
    let events = stack.events_for(&trace, 2);
    assert_eq!(events[1]["moderation"]["result"], "scored");

    let r = stack.send(answered_with("/chat", r#"{"text":"you are TOXIC"}"#));
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["exceeded"][0]["bound"], "toxicity_score");
    let r = stack.send(answered_with("/chat", r#"{"text":"a BIASED remark"}"#));
    assert_eq!(r.status, 403, "{}", r.text());
    let bounds = r.json()["exceeded"].to_string();
    assert!(bounds.contains("bias_score"), "{bounds}");
}

#[test]
fn a_slow_or_failing_moderation_service_refuses_or_passes_as_the_operator_chose() {
    for (fail, status) in [("closed", 403), ("open", 200)] {
        let stack = moderated_stack(fail);
        for (text, error) in [("SLOW please", "timeout"), ("FAIL500 please", "status")] {
            let started = Instant::now();
            let r = stack.send(answered_with("/chat", &format!(r#"{{"text":"{text}"}}"#)));
            assert_eq!(r.status, status, "{fail} {text}: {}", r.text());
            if error == "timeout" {
                // Envoy ends the call at `timeout_ms`, not when the service answers (3 s).
                assert!(started.elapsed() < Duration::from_millis(2500));
            }
            let trace = r.header("x-agent-trace-id").unwrap().to_string();
            let events = stack.events_for(&trace, 2);
            let response = events.iter().find(|e| e["type"] == "response").unwrap();
            assert_eq!(response["moderation"]["result"], format!("failed_{fail}"));
            assert_eq!(response["moderation"]["error"], error, "{fail} {text}");
        }
    }
}

/// Without held headers (Istio's WasmPlugin cannot set `allow_on_headers_stop_iteration`), a
/// buffered response's headers leave before its body is judged: a refused one cannot become
/// a 403 any more, and the card must still never reach the caller.
#[test]
fn without_held_headers_a_refused_response_never_delivers_its_body() {
    let mut cfg = config(card_rule("block"));
    cfg["hold_headers"] = json!(false);
    let stack = Stack::with_plugin(&cfg);
    let r = stack.send_streaming(answered_with(
        "/records",
        &format!(r#"{{"card":"{CARD}"}}"#),
    ));
    eprintln!(
        "hold_headers false, refused response: status {}, complete {}, error {:?}, body {:?}",
        r.status,
        r.complete,
        r.error,
        r.text()
    );
    assert!(!r.text().contains("4111"), "{}", r.text());
    // The headers had left (200): Envoy resets the stream rather than send the body.
    assert_eq!(r.status, 200);
    assert!(!r.complete, "the stream must be cut, not ended as if whole");
    // Redaction works the same way: the length is removed and Envoy frames the new body.
    let mut cfg = config(card_rule("redact"));
    cfg["hold_headers"] = json!(false);
    let stack = Stack::with_plugin(&cfg);
    let r = stack.send(answered_with(
        "/records",
        &format!(r#"{{"card":"{CARD}"}}"#),
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"card": "[CREDIT_CARD]"}));
}
