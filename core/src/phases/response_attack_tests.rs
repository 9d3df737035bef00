//! Attacks on the response inspection (issue 13): inputs the authors did not write. Each test
//! states what should hold; a failing one is a finding (see /work/notes/i13-attack.md).

use std::rc::Rc;

use serde_json::{json, Value};

use super::response_tests::{
    body_callbacks, forwarded, lines, of_type, policy_with_payload, response, Fake,
};
use super::*;

fn policy(rules: Value, extra: Value) -> Rc<Policy> {
    policy_with_payload(rules, extra, 4096)
}

/// Feeds `chunks` (bytes) as the response body, as Envoy does; what the client receives, and
/// the steps.
fn stream_bytes(ex: &mut Exchange, host: &Fake, chunks: &[Vec<u8>]) -> (Vec<u8>, Vec<Step>) {
    body_callbacks(ex, host, chunks)
}

fn stream(ex: &mut Exchange, host: &Fake, chunks: &[String]) -> (Vec<u8>, Vec<Step>) {
    let bytes: Vec<Vec<u8>> = chunks.iter().map(|c| c.as_bytes().to_vec()).collect();
    stream_bytes(ex, host, &bytes)
}

/// A buffered (declared-length) response; the final step.
fn buffered(ex: &mut Exchange, content_type: &str, body: &[u8]) -> Step {
    let len = body.len().to_string();
    let host = response(
        200,
        &[("content-type", content_type), ("content-length", &len)],
    );
    let first = ex.response_headers(false, &host);
    if !matches!(first, Step::Pause | Step::Continue) {
        return first;
    }
    *host.body.borrow_mut() = body.to_vec();
    ex.response_body(body.len(), true, &host)
}

const CARD: &str = "4111 1111 1111 1111";

fn card_rules(action: &str) -> Value {
    json!([{"name": "no_cards_back", "condition": "response_has_credit_card", "action": action}])
}

fn sse(data: &Value) -> String {
    format!("data: {data}\n\n")
}

fn openai_chunk(piece: &str) -> String {
    sse(
        &json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "m",
        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]}),
    )
}

/// Every digit of the stream's text, in order: a card "leaks" when the 16 digits of
/// 4111111111111111 appear in what the client can assemble.
fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The events' data values as the client's SSE parser gives them.
fn datas(stream: &[u8]) -> Vec<String> {
    let mut framer = crate::sse::Framer::new(1 << 24);
    let mut events = framer.push(stream).unwrap();
    events.extend(framer.finish());
    events.into_iter().filter_map(|e| e.data).collect()
}

/// A card split in two across events of a shape the client reads as streamed text.
fn split_card_stream(shape: impl Fn(&str) -> String) -> Vec<String> {
    vec![
        shape("Your card is 4111 1111"),
        shape(" 1111 1111, keep it"),
        shape(" safe. Bye now"),
        "data: [DONE]\n\n".to_string(),
    ]
}

// ---------------------------------------------------------------------------------------------
// F1 (critical): streamed text in members the filter does not follow, split across events.
// ---------------------------------------------------------------------------------------------

/// A card split over two events in each streamed-text member that real OpenAI-compatible and
/// Anthropic streams use but `sse::TEXT_PATHS` does not list, or in `content` spelled with a
/// JSON escape in its key (any JSON parser reads `"c\u006fntent"` as `content`). Each event
/// alone holds no whole card, so the per-event scan of "the rest of the data" misses it.
#[test]
fn attack_streamed_text_in_unlisted_members_split_across_events_is_redacted() {
    type Shape = Box<dyn Fn(&str) -> String>;
    let shapes: Vec<(&str, Shape)> = vec![
        (
            "openai choices[].delta.reasoning_content (DeepSeek, vLLM, Qwen)",
            Box::new(|t| {
                sse(&json!({"choices": [{"index": 0, "delta": {"reasoning_content": t}}]}))
            }),
        ),
        (
            "openai choices[].delta.refusal",
            Box::new(|t| sse(&json!({"choices": [{"index": 0, "delta": {"refusal": t}}]}))),
        ),
        (
            "openai legacy choices[].delta.function_call.arguments",
            Box::new(|t| {
                sse(&json!({"choices": [{"index": 0,
                    "delta": {"function_call": {"name": "f", "arguments": t}}}]}))
            }),
        ),
        (
            "anthropic content_block_delta thinking_delta (delta.thinking)",
            Box::new(|t| {
                sse(&json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "thinking_delta", "thinking": t}}))
            }),
        ),
        (
            "openai content with an escaped key \"c\\u006fntent\"",
            Box::new(|t| {
                let piece = serde_json::to_string(t).unwrap();
                format!(
                    "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"c\\u006fntent\":{piece}}}}}]}}\n\n"
                )
            }),
        ),
        (
            "a2a v0.3 data part split across artifact updates (parts[].data.text)",
            Box::new(|t| {
                sse(
                    &json!({"jsonrpc": "2.0", "id": 1, "result": {"kind": "artifact-update",
                    "taskId": "t", "contextId": "c", "append": true,
                    "artifact": {"artifactId": "a", "parts": [{"kind": "data", "data": {"text": t}}]}}}),
                )
            }),
        ),
    ];
    let mut leaks = Vec::new();
    for (name, shape) in &shapes {
        let p = policy(card_rules("redact"), json!({}));
        let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
        let host = response(200, &[("content-type", "text/event-stream")]);
        ex.response_headers(false, &host);
        let (out, _) = stream(&mut ex, &host, &split_card_stream(shape));
        // What the client assembles: every event's data, parsed, its strings in order.
        let mut text = String::new();
        for d in datas(&out) {
            if let Ok(v) = serde_json::from_str::<Value>(&d) {
                collect_strings(&v, &mut text);
            }
        }
        if digits(&text).contains("4111111111111111") {
            leaks.push(*name);
        }
    }
    assert!(
        leaks.is_empty(),
        "a split card reached the client via: {leaks:#?}"
    );
}

fn collect_strings(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        // `jsonrpc: "2.0"` and such are not streamed text; skip the envelope's digits.
        Value::Object(o) => o
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "jsonrpc" | "id" | "index"))
            .for_each(|(_, x)| collect_strings(x, out)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// F2 (critical): `id:` and `event:` fields and comment lines are never scanned.
// ---------------------------------------------------------------------------------------------

#[test]
fn attack_a_card_in_an_sse_id_or_event_field_is_caught() {
    let cases = [
        // `id` is handed to the client (EventSource.lastEventId, openai's SSE `id`) and sent
        // back by it as Last-Event-ID.
        "id: 4111111111111111\ndata: hello there\n\n",
        "event: 4111111111111111\ndata: hello there\n\n",
        // A comment reaches the client's bytes (curl, a logging client, a proxy).
        ": 4111 1111 1111 1111\ndata: hello there\n\n",
    ];
    let mut leaks = Vec::new();
    for case in cases {
        for action in ["redact", "block"] {
            let p = policy(card_rules(action), json!({}));
            let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
            let host = response(200, &[("content-type", "text/event-stream")]);
            ex.response_headers(false, &host);
            let (out, _) = stream(
                &mut ex,
                &host,
                &[case.to_string(), "data: [DONE]\n\n".to_string()],
            );
            if digits(&String::from_utf8_lossy(&out)).contains("4111111111111111") {
                leaks.push(format!("{action}: {case:?}"));
            }
        }
    }
    assert!(leaks.is_empty(), "passed to the client: {leaks:#?}");
}

// ---------------------------------------------------------------------------------------------
// F3 (critical): the `response` line's payload assembles a value split across events or
// released in parts (each part is scrubbed alone).
// ---------------------------------------------------------------------------------------------

#[test]
fn attack_the_response_payload_never_holds_a_card_split_across_events() {
    // Monitor mode: the stream is reported, not rewritten; the event line must still be clean.
    for extra in [
        json!({"mode": "monitor"}),
        // Scanning on, no response rule: the stream flows, its payload is logged.
        json!({"responses": {"scan": true}}),
    ] {
        let rules = if extra.get("mode").is_some() {
            card_rules("redact")
        } else {
            json!([])
        };
        let p = policy(rules, extra.clone());
        let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
        let host = response(200, &[("content-type", "text/event-stream")]);
        ex.response_headers(false, &host);
        stream(&mut ex, &host, &split_card_stream(openai_chunk));
        let l = lines(&ex);
        let resp = of_type(&l, "response");
        assert_eq!(resp[0]["detected"], json!(["credit_card"]), "{extra}");
        let payload = resp[0]["payload"].as_str().unwrap_or("");
        assert!(
            !(payload.contains("4111 1111") && payload.contains(" 1111 1111")),
            "{extra}: the response line carries the card: {payload}"
        );
    }
}

#[test]
fn attack_the_response_payload_never_holds_an_ssn_whose_cue_left_earlier() {
    // The cue and the number leave in different steps: the number, scrubbed alone, is not an
    // SSN any more, and lands in the log as it is.
    let p = policy(json!([]), json!({"responses": {"scan": true}}));
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let chunks = vec![
        openai_chunk("Here is the social security number you asked for "),
        openai_chunk("078051120"),
        openai_chunk(" and that is all I have on file for them today"),
        "data: [DONE]\n\n".to_string(),
    ];
    stream(&mut ex, &host, &chunks);
    let l = lines(&ex);
    let resp = of_type(&l, "response");
    assert_eq!(resp[0]["detected"], json!(["ssn"]));
    let payload = resp[0]["payload"].as_str().unwrap_or("");
    assert!(
        !payload.contains("078051120"),
        "the response line carries the SSN: {payload}"
    );
}

// ---------------------------------------------------------------------------------------------
// F4 (high): unbounded memory — events with no text pile up behind one held piece.
// ---------------------------------------------------------------------------------------------

#[test]
fn attack_events_without_text_behind_a_held_piece_do_not_grow_memory_without_bound() {
    use crate::response::stream::{Events, Rendering};
    use crate::response::Release;
    let p = policy(card_rules("redact"), json!({}));
    let scanner = &p.scanner;
    let (hold, max_event) = (512, 65_536);
    let mut e = Events::new(hold, Release::Words, max_event, false);
    // A token with no word boundary after it is held (it may still become a value)...
    e.push(openai_chunk("4111").as_bytes(), false, scanner)
        .unwrap();
    let _ = e.emit(false, Rendering::Redacted, scanner, None);
    // ... and then the upstream sends blank lines (each an event with nothing in it) or
    // keep-alive comments, which never move the window: 4 MiB of them.
    let blank = vec![b'\n'; 64 * 1024];
    for _ in 0..64 {
        e.push(&blank, false, scanner).unwrap();
        match e.emit(false, Rendering::Redacted, scanner, None) {
            Ok(_) => {}
            // The bound's answer: the stream cannot go on (it ends with an error event).
            Err(crate::response::stream::StreamError::HeldTooMuch) => break,
            Err(other) => panic!("{other:?}"),
        }
    }
    // The documented bound (docs/configuration.md § Streams): one event of the largest size and
    // room for `hold_bytes` of text in small deltas, bookkeeping included.
    let bound = crate::response::stream::max_held_bytes(hold, max_event);
    assert!(
        e.held() <= bound + blank.len() + 1024,
        "{} bytes of events held (bound {bound}); each blank line is also a ~150-byte Held \
         struct, so 30 MB of newlines exhausts the 4 GiB wasm32 heap",
        e.held()
    );
}

// ---------------------------------------------------------------------------------------------
// F5 (high): contract denied terms hidden by JSON escapes (buffered and chunked).
// ---------------------------------------------------------------------------------------------

fn terms_policy() -> Rc<Policy> {
    policy(
        json!([]),
        json!({"contracts": [{"id": "c/v1", "envelope": {"denied_terms": ["project zeus"]}}],
               "contract": "c/v1"}),
    )
}

#[test]
fn attack_a_denied_term_behind_a_json_escape_in_a_buffered_response_is_found() {
    for body in [
        r#"{"note":"about project \u007aeus"}"#,
        r#"{"note":"about project\u0020zeus"}"#,
        r#"{"note":"about \u0070roject zeus"}"#,
    ] {
        let p = terms_policy();
        let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
        let step = buffered(&mut ex, "application/json", body.as_bytes());
        assert!(matches!(step, Step::Reply(_)), "{body}: {step:?}");
    }
}

#[test]
fn attack_a_denied_term_behind_a_json_escape_in_a_chunked_ndjson_response_is_found() {
    let p = terms_policy();
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let host = response(200, &[("content-type", "application/x-ndjson")]);
    ex.response_headers(false, &host);
    let chunks = vec![
        "{\"n\":1,\"text\":\"hello\"}\n".to_string(),
        "{\"n\":2,\"text\":\"about project \\u007aeus\"}\n".to_string(),
        "{\"n\":3,\"text\":\"bye\"}\n".to_string(),
    ];
    let (_, steps) = stream(&mut ex, &host, &chunks);
    assert!(
        steps.iter().any(|s| matches!(s, Step::Reset)),
        "the stream was not refused: {steps:?}"
    );
}

#[test]
fn attack_a_denied_term_in_a_non_text_member_of_an_event_is_found() {
    // The term is searched only in the followed text members (`pushed.text`); the reasoning
    // the client shows, or any other member, is not searched at all.
    let p = terms_policy();
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let chunks = vec![
        sse(
            &json!({"choices": [{"index": 0, "delta": {"reasoning_content": "about project zeus now"}}]}),
        ),
        openai_chunk("hello"),
        "data: [DONE]\n\n".to_string(),
    ];
    let (out, _) = stream(&mut ex, &host, &chunks);
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("iatp_contract_violation"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// F6 (critical): a UTF-16 response is scanned as bytes (the request side transcodes it).
// ---------------------------------------------------------------------------------------------

fn utf16le_with_bom(s: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

#[test]
fn attack_a_card_in_a_utf16_json_response_is_blocked() {
    let p = policy(card_rules("block"), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let body = utf16le_with_bom(&format!(r#"{{"card":"{CARD}"}}"#));
    let step = buffered(&mut ex, "application/json; charset=utf-16", &body);
    assert!(
        matches!(step, Step::Reply(_)),
        "a UTF-16 body passed with its card: {step:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// F7 (medium): a JSON response streamed as chunks (over max_body_bytes, or undeclared length):
// a card written as a JSON number is redacted into invalid JSON, and number forms that hide a
// card are not decoded at all (chunks are scanned as text).
// ---------------------------------------------------------------------------------------------

#[test]
fn attack_a_card_number_in_a_chunked_json_response_is_redacted_into_valid_json() {
    let p = policy(card_rules("redact"), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    // No content-length: read as chunks.
    let host = response(200, &[("content-type", "application/json")]);
    ex.response_headers(false, &host);
    let (out, _) = stream(
        &mut ex,
        &host,
        &[
            "{\"note\":\"on file\",\"n\":".to_string(),
            "4111111111111111}".to_string(),
        ],
    );
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(!text.contains("4111"), "{text}");
    assert!(
        serde_json::from_str::<Value>(&text).is_ok(),
        "the client gets invalid JSON: {text}"
    );
}

#[test]
fn attack_a_card_hidden_in_a_json_number_form_in_ndjson_is_found() {
    let p = policy(card_rules("block"), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let host = response(200, &[("content-type", "application/x-ndjson")]);
    ex.response_headers(false, &host);
    // The request side reads `4.111111111111111e15` as 4111111111111111 (RFC 8259 §6).
    let (_, steps) = stream(
        &mut ex,
        &host,
        &[
            "{\"n\":4.111111111111111e15}\n".to_string(),
            "{\"ok\":true}\n".to_string(),
        ],
    );
    assert!(
        steps.iter().any(|s| matches!(s, Step::Reset)),
        "the card passed: {steps:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// F8 (medium): monitor mode writes one `blocked` line per chunk after a refusal.
// ---------------------------------------------------------------------------------------------

#[test]
fn attack_monitor_mode_reports_a_refused_stream_once() {
    let p = policy(card_rules("block"), json!({"mode": "monitor"}));
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let mut chunks = vec![openai_chunk(&format!("card {CARD} ok then"))];
    for _ in 0..50 {
        chunks.push(openai_chunk("more words here "));
    }
    chunks.push("data: [DONE]\n\n".to_string());
    stream(&mut ex, &host, &chunks);
    let l = lines(&ex);
    assert_eq!(
        of_type(&l, "blocked").len(),
        1,
        "one refused stream, {} blocked lines",
        of_type(&l, "blocked").len()
    );
}

// ---------------------------------------------------------------------------------------------
// F9 (medium): an empty or parameter-only content-type skips scanning (an absent one does not).
// ---------------------------------------------------------------------------------------------

#[test]
fn attack_an_empty_content_type_is_scanned_like_an_absent_one() {
    for ct in ["", " ", ";charset=utf-8"] {
        let p = policy(card_rules("block"), json!({}));
        let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
        let body = format!(r#"{{"card":"{CARD}"}}"#);
        let step = buffered(&mut ex, ct, body.as_bytes());
        assert!(
            matches!(step, Step::Reply(_)),
            "content-type {ct:?}: the card passed ({step:?})"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// F10 (medium): an event over max_event_bytes ends the stream with no word to the client.
// ---------------------------------------------------------------------------------------------

#[test]
fn attack_an_oversized_event_ends_the_stream_with_an_error_event() {
    let p = policy(
        card_rules("redact"),
        json!({"responses": {"stream": {"max_event_bytes": 1024}}}),
    );
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let big = openai_chunk(&"word ".repeat(400));
    let (out, _) = stream(
        &mut ex,
        &host,
        &[openai_chunk("hello "), big, "data: [DONE]\n\n".to_string()],
    );
    let text = String::from_utf8_lossy(&out).into_owned();
    // The client's stream just stops (no [DONE], no error): openai's client returns a
    // truncated answer as if complete.
    assert!(
        text.contains("error"),
        "the client is not told its stream was cut: {text:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Attacks that held (kept as regression tests; they pass today).
// ---------------------------------------------------------------------------------------------

/// Encodings and tricks inside the followed text members, split across events.
#[test]
fn held_split_values_in_encodings_and_tricks_are_redacted() {
    let cases: Vec<Vec<&str>> = vec![
        // JSON escapes in the delta.
        vec!["card \\u0034111 1111", " 1111 11\\u00311 ok then fine"],
        // Full-width digits.
        vec![
            "card \u{ff14}\u{ff11}\u{ff11}\u{ff11} \u{ff11}\u{ff11}",
            "\u{ff11}\u{ff11} 1111 1111 ok then fine",
        ],
        // Zero-width characters inside.
        vec![
            "card 4111\u{200b}1111",
            "\u{200b}1111\u{200b}1111 ok then fine",
        ],
        // NBSP separators.
        vec!["card 4111\u{a0}1111\u{a0}", "1111\u{a0}1111 ok then fine"],
        // An e-mail address cut at the @.
        vec!["write to jane.doe", "@example.com ok then fine"],
    ];
    for pieces in cases {
        let rules =
            json!([{"name": "r", "condition": "response_detected_count > 0", "action": "redact"}]);
        let p = policy(rules, json!({}));
        let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
        let host = response(200, &[("content-type", "text/event-stream")]);
        ex.response_headers(false, &host);
        let mut chunks: Vec<String> = pieces
            .iter()
            .map(|p| {
                // Pieces are written raw into the JSON string (escapes kept as given).
                format!(
                    "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{p}\"}}}}]}}\n\n"
                )
            })
            .collect();
        chunks.push("data: [DONE]\n\n".to_string());
        let (out, _) = stream(&mut ex, &host, &chunks);
        let mut text = String::new();
        for d in datas(&out) {
            if let Ok(v) = serde_json::from_str::<Value>(&d) {
                collect_strings(&v, &mut text);
            }
        }
        assert!(!text.contains("jane.doe"), "{pieces:?}: {text}");
        let folded: String = text
            .chars()
            .filter_map(|c| c.to_digit(10).map(|d| char::from(b'0' + d as u8)))
            .collect();
        assert!(!folded.contains("41111111"), "{pieces:?}: {text}");
    }
}

/// CR-only line ends split between chunks, a BOM, and multi-line data.
#[test]
fn held_cr_line_ends_a_bom_and_byte_by_byte_chunks() {
    let p = policy(card_rules("redact"), json!({}));
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "TEXT/Event-Stream; charset=UTF-8")]);
    ex.response_headers(false, &host);
    let whole = format!(
        "\u{feff}{}{}data: [DONE]\r\r",
        openai_chunk("card 4111 1111").replace('\n', "\r"),
        openai_chunk(" 1111 1111 ok then fine").replace('\n', "\r"),
    );
    let chunks: Vec<Vec<u8>> = whole.as_bytes().iter().map(|b| vec![*b]).collect();
    let (out, _) = stream_bytes(&mut ex, &host, &chunks);
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(!digits(&text).contains("41111111"), "{text:?}");
}

/// A value in a non-text member of one event (not split) is found and redacted in place.
#[test]
fn held_values_in_ids_and_tool_call_members_of_one_event() {
    let p = policy(card_rules("redact"), json!({}));
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let chunks = vec![
        sse(&json!({"id": CARD, "choices": [{"index": 0, "delta": {"content": "hi "}}]})),
        sse(
            &json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "4111111111111111",
            "function": {"name": "f", "arguments": "{}"}}]}}]}),
        ),
        "data: [DONE]\n\n".to_string(),
    ];
    let (out, _) = stream(&mut ex, &host, &chunks);
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(!text.contains("4111"), "{text}");
    for d in datas(&out) {
        if d != "[DONE]" {
            serde_json::from_str::<Value>(&d).unwrap();
        }
    }
}

/// A token longer than hold_bytes cut into many pieces is still redacted (in parts).
#[test]
fn held_a_long_key_across_many_events_is_redacted() {
    let p = policy(
        json!([{"name": "r", "condition": "response_detected_count > 0", "action": "redact"}]),
        json!({"responses": {"stream": {"hold_bytes": 16}}}),
    );
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let key =
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8xYz1aBc4dEf7g";
    let mut chunks: Vec<String> = key
        .as_bytes()
        .chunks(5)
        .map(|c| openai_chunk(std::str::from_utf8(c).unwrap()))
        .collect();
    chunks.insert(0, openai_chunk("the key is "));
    chunks.push(openai_chunk(" ok then fine"));
    chunks.push("data: [DONE]\n\n".to_string());
    let (out, _) = stream(&mut ex, &host, &chunks);
    let mut text = String::new();
    for d in datas(&out) {
        if let Ok(v) = serde_json::from_str::<Value>(&d) {
            collect_strings(&v, &mut text);
        }
    }
    assert!(!text.contains("Ab3dEf6h"), "{text}");
    assert!(!text.contains("Gh3iJk6l"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// F11 (medium): moderation sees only the first max_input_bytes of a buffered response.
// ---------------------------------------------------------------------------------------------

#[test]
fn attack_a_toxic_tail_after_padding_is_sent_to_moderation() {
    let p = policy(
        json!([]),
        json!({"contracts": [{"id": "c/v1", "envelope": {"toxicity_score": {"max": 0.3}}}],
               "contract": "c/v1",
               "moderation": {"cluster": "moderation", "timeout_ms": 200, "fail": "closed",
                              "max_input_bytes": 1024}}),
    );
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let body = format!(
        r#"{{"pad":"{}","text":"TOXIC_TAIL_MARKER"}}"#,
        "lorem ipsum ".repeat(200)
    );
    let step = buffered(&mut ex, "application/json", body.as_bytes());
    let Step::Call(call) = step else {
        panic!("{step:?}")
    };
    let sent = String::from_utf8_lossy(&call.body).into_owned();
    assert!(
        sent.contains("TOXIC_TAIL_MARKER"),
        "the tail of the response is never moderated (and the response line says `scored`)"
    );
}

// ---------------------------------------------------------------------------------------------
// F12 (medium): a national identifier whose cue FOLLOWS it (the detectors accept
// `046 454 286 is my SIN`) is let go at a word boundary before its cue arrives.
// ---------------------------------------------------------------------------------------------

#[test]
fn attack_an_identifier_whose_cue_comes_after_it_is_caught_in_a_stream() {
    // Buffered, the same text is found: the detectors read cues after a value.
    let p = policy(
        json!([{"name": "r", "condition": "response_detected_count > 0", "action": "block"}]),
        json!({}),
    );
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let whole = "046 454 286 is my SIN";
    let step = buffered(&mut ex, "text/plain", whole.as_bytes());
    assert!(matches!(step, Step::Reply(_)), "buffered: {step:?}");
    // Streamed: the number and the words after it leave before the cue arrives.
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let host = response(200, &[("content-type", "text/plain")]);
    ex.response_headers(false, &host);
    let (out, steps) = stream(
        &mut ex,
        &host,
        &[
            "046 454 286 is my ".to_string(),
            "SIN and that is all".to_string(),
        ],
    );
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(
        !text.contains("046 454 286"),
        "streamed: the number reached the client ({text:?}, {steps:?})"
    );
}

// ---------------------------------------------------------------------------------------------
// Held: a PEM private key (longer than hold_bytes) streamed in small deltas.
// ---------------------------------------------------------------------------------------------

#[test]
fn held_a_pem_private_key_streamed_in_small_deltas_is_redacted() {
    let p = policy(
        json!([{"name": "r", "condition": "response_detected_count > 0", "action": "redact"}]),
        json!({}),
    );
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let body: String = (0..25)
        .map(|i| format!("MIIEowIBAAKCAQEA{i:02}xQ7bWvYkz3Jp8Lr5Tn2Hs9Fd4Gc6Vb1Nm0Kq7Wy3Ze5Ux\n"))
        .collect();
    let key = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\n");
    let mut chunks = vec![openai_chunk("here it is:\n")];
    chunks.extend(
        key.as_bytes()
            .chunks(24)
            .map(|c| openai_chunk(std::str::from_utf8(c).unwrap())),
    );
    chunks.push(openai_chunk(" that is the key ok"));
    chunks.push("data: [DONE]\n\n".to_string());
    let (out, _) = stream(&mut ex, &host, &chunks);
    let mut text = String::new();
    for d in datas(&out) {
        if let Ok(v) = serde_json::from_str::<Value>(&d) {
            collect_strings(&v, &mut text);
        }
    }
    assert!(!text.contains("xQ7bWvYkz3Jp8Lr5"), "{text}");
}
