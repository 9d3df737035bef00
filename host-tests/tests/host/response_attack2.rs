//! Attacks on the response inspection through a real Envoy, round 2 (issue 13); see
//! /work/notes/i13-attack2.md. `attack_*` fail today (findings); `held_*` pass.

use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{parse_sse, Request, Stack};
use crate::responses::{card_rule, config};

fn sse_chunks(chunks: &[String]) -> Request {
    Request::post(
        "/v1/chat/completions",
        r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
    )
    .header("x-mock-chunks", serde_json::to_string(chunks).unwrap())
    .header("x-mock-content-type", "text/event-stream")
}

/// What the openai client assembles for choice 0: `delta.content` of every choice whose
/// `index` is 0, wherever it stands in `choices`.
fn choice0(body: &[u8]) -> String {
    let mut text = String::new();
    for e in parse_sse(body).unwrap() {
        let Ok(v) = serde_json::from_str::<Value>(&e.data) else {
            continue;
        };
        for c in v["choices"].as_array().into_iter().flatten() {
            if c["index"] == 0 {
                text.push_str(c["delta"]["content"].as_str().unwrap_or(""));
            }
        }
    }
    text
}

/// A1 and A2 through Envoy: a card split across array positions of one choice `index`, and
/// around a duplicate `content` key.
#[test]
fn attack_a_card_split_by_choice_position_or_duplicate_key_never_reaches_the_client() {
    let stack = Stack::with_plugin(&config(card_rule("redact")));
    let shifted = [
        r#"data: {"choices":[{"index":0,"delta":{"content":"Your card is 4111 1111"}}]}"#,
        r#"data: {"choices":[{"index":1,"delta":{"content":""}},{"index":0,"delta":{"content":" 1111 1111, keep it"}}]}"#,
    ];
    let duplicate = [
        r#"data: {"choices":[{"index":0,"delta":{"content":"Your card is 4111 1111"}}]}"#,
        r#"data: {"choices":[{"index":0,"delta":{"content":"zz","content":" 1111 1111, keep it"}}]}"#,
    ];
    let mut leaks = Vec::new();
    for (name, events) in [("index shift", shifted), ("duplicate key", duplicate)] {
        let mut chunks: Vec<String> = events.iter().map(|e| format!("{e}\n\n")).collect();
        chunks.push(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" safe. Bye now\"}}]}\n\n"
                .into(),
        );
        chunks.push("data: [DONE]\n\n".into());
        let r = stack.send_streaming(sse_chunks(&chunks));
        assert!(r.complete, "{:?}", r.error);
        let text = choice0(&r.body());
        if text.contains("4111 1111 1111 1111") {
            leaks.push(format!("{name}: {text}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "the client assembled the card: {leaks:#?}"
    );
}

/// The moderation callout answers after the client has gone: `timeout_ms` 5000, the mock
/// answers `SLOW` text after 3 s; the client closes its connection 200 ms after sending.
/// Envoy must not call into a dead context (the SDK's dispatcher `unwrap`s
/// `set_effective_context`: a panic aborts the VM), and the next request must be served.
#[test]
fn held_a_client_gone_while_the_moderation_call_is_out_does_not_break_the_vm() {
    let mut c = config(json!([]));
    c["contracts"] = json!([{"id": "m/v1", "envelope": {"toxicity_score": {"max": 0.3}}}]);
    c["contract"] = json!("m/v1");
    c["moderation"] = json!({"cluster": "moderation", "timeout_ms": 5000, "fail": "closed"});
    let stack = Stack::builder().plugin(&c).moderation().start();
    for _ in 0..3 {
        let req = Request::post("/chat", r#"{"q":"what is on file?"}"#)
            .header("x-mock-body", r#"{"text":"SLOW answer"}"#)
            .header("connection", "keep-alive");
        let mut s = TcpStream::connect(stack.addr()).unwrap();
        s.write_all(&req.to_bytes()).unwrap();
        thread::sleep(Duration::from_millis(200));
        drop(s);
    }
    // The answers come at 3 s.
    thread::sleep(Duration::from_millis(3800));
    let r = stack.send(
        Request::post("/chat", r#"{"q":"what is on file?"}"#)
            .header("x-mock-body", r#"{"text":"have a nice day"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let log = stack.envoy.log_text();
    for bad in ["panicked", "unreachable", "Uncaught", "failed to"] {
        assert!(!log.contains(bad), "Envoy's log: {bad}\n{log}");
    }
}
