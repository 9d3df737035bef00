//! Attacks on the response inspection, round 2 (issue 13): the round-1 fixes (a window per
//! text path, the held-bytes bound, the cue rule, SSE non-data lines, JSON chunk quoting,
//! UTF-16/32, moderation inputs). Tests named `attack_*` fail today (each is a finding, see
//! /work/notes/i13-attack2.md); `held_*` pass (attacks that held, kept as regression tests).

use std::rc::Rc;

use serde_json::{json, Value};

use super::response_tests::{forwarded, lines, of_type, policy_with_payload, response, Fake};
use super::*;

fn policy(rules: Value, extra: Value) -> Rc<Policy> {
    policy_with_payload(rules, extra, 4096)
}

fn card_rules(action: &str) -> Value {
    json!([{"name": "no_cards_back", "condition": "response_has_credit_card", "action": action}])
}

/// Feeds `chunks` as the response body; what the client receives, and the steps.
fn stream(ex: &mut Exchange, host: &Fake, chunks: &[String]) -> (Vec<u8>, Vec<Step>) {
    let bytes: Vec<Vec<u8>> = chunks.iter().map(|c| c.as_bytes().to_vec()).collect();
    super::response_tests::body_callbacks(ex, host, &bytes)
}

/// An SSE stream through a redact rule on `path` (an OpenAI chat completion request).
fn sse_through(rules: Value, extra: Value, chunks: &[String]) -> (Vec<u8>, Exchange) {
    let p = policy(rules, extra);
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let (out, _) = stream(&mut ex, &host, chunks);
    (out, ex)
}

fn sse(data: &str) -> String {
    format!("data: {data}\n\n")
}

/// The events' data values as a client's SSE parser gives them.
fn datas(stream: &[u8]) -> Vec<String> {
    let mut framer = crate::sse::Framer::new(1 << 24);
    let mut events = framer.push(stream).unwrap();
    events.extend(framer.finish());
    events.into_iter().filter_map(|e| e.data).collect()
}

/// What the `openai` client assembles: `choices[].delta.content` joined per choice by its
/// `index` member (openai-python `ChatCompletionStreamState`, openai-node
/// `ChatCompletionStream`: `choices[choice.index]`), each event parsed as JSON (duplicate keys:
/// the last wins, as in Python's `json`, `JSON.parse` and serde_json).
fn openai_assembled(stream: &[u8]) -> Vec<String> {
    let mut by_index: Vec<String> = vec![String::new(); 32];
    for d in datas(stream) {
        let Ok(v) = serde_json::from_str::<Value>(&d) else {
            continue;
        };
        for c in v["choices"].as_array().into_iter().flatten() {
            let i = c["index"].as_u64().unwrap_or(0) as usize;
            if let (Some(slot), Some(t)) = (by_index.get_mut(i), c["delta"]["content"].as_str()) {
                slot.push_str(t);
            }
        }
    }
    by_index
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

const FULL: &str = "4111111111111111";

// ---------------------------------------------------------------------------------------------
// A1 (critical): the text path is the array position; the client joins choices by `index`.
// ---------------------------------------------------------------------------------------------

/// Event 1 carries choice 0 at position 0; event 2 carries choice 0 at position 1 (after an
/// empty choice 1). The filter's windows are `choices.0.delta.content` and
/// `choices.1.delta.content`: neither holds a card. The openai client joins by `index`.
#[test]
fn attack_a_card_split_across_array_positions_of_one_choice_index_is_redacted() {
    let chunks = vec![
        sse(r#"{"choices":[{"index":0,"delta":{"content":"Your card is 4111 1111"}}]}"#),
        sse(
            r#"{"choices":[{"index":1,"delta":{"content":""}},{"index":0,"delta":{"content":" 1111 1111, keep it"}}]}"#,
        ),
        sse(r#"{"choices":[{"index":0,"delta":{"content":" safe. Bye now"}}]}"#),
        sse("[DONE]"),
    ];
    let (out, _) = sse_through(card_rules("redact"), json!({}), &chunks);
    let got = openai_assembled(&out);
    assert!(
        !digits(&got[0]).contains(FULL),
        "choice 0 as the client joins it: {:?}",
        got[0]
    );
}

// ---------------------------------------------------------------------------------------------
// A2 (critical): duplicate keys put text the client never sees into the window, between the
// halves of a value.
// ---------------------------------------------------------------------------------------------

/// `{"content":"zz","content":" 1111 1111"}`: every JSON parser keeps the last member; the
/// filter's walker feeds both to the path's window, so the window reads
/// `4111 1111zz 1111 1111` (no card) while the client reads `4111 1111 1111 1111`.
#[test]
fn attack_a_card_split_around_a_duplicate_key_is_redacted() {
    let chunks = vec![
        sse(r#"{"choices":[{"index":0,"delta":{"content":"Your card is 4111 1111"}}]}"#),
        sse(
            r#"{"choices":[{"index":0,"delta":{"content":"zz","content":" 1111 1111, keep it"}}]}"#,
        ),
        sse(r#"{"choices":[{"index":0,"delta":{"content":" safe. Bye now"}}]}"#),
        sse("[DONE]"),
    ];
    let (out, _) = sse_through(card_rules("redact"), json!({}), &chunks);
    let got = openai_assembled(&out);
    assert!(
        !digits(&got[0]).contains(FULL),
        "the client reads: {:?}",
        got[0]
    );
}

// ---------------------------------------------------------------------------------------------
// A3 (critical): 16 paths exhausted, two later paths share one window and interleave.
// ---------------------------------------------------------------------------------------------

/// Fifteen throw-away paths (`f0.text` … `f14.text`) take fifteen windows; the sixteenth is
/// shared by every later path. `content` and `reasoning_content` of choice 0 then share it,
/// interleaved: the window reads `4111 1111` + `thinking more` + ` 1111 1111` (no card); the
/// client joins `content` on its own. Without the fifteen fillers the same stream is redacted
/// (`held_two_paths_of_one_choice_interleaved_have_windows_of_their_own`).
fn interleaved(fillers: usize) -> Vec<String> {
    let mut chunks: Vec<String> = (0..fillers)
        .map(|i| sse(&format!(r#"{{"f{i}":{{"text":"ok "}}}}"#)))
        .collect();
    chunks.push(sse(
        r#"{"choices":[{"index":0,"delta":{"content":"Your card is 4111 1111"}}]}"#,
    ));
    chunks.push(sse(
        r#"{"choices":[{"index":0,"delta":{"reasoning_content":"thinking more"}}]}"#,
    ));
    chunks.push(sse(
        r#"{"choices":[{"index":0,"delta":{"content":" 1111 1111, keep it"}}]}"#,
    ));
    chunks.push(sse(
        r#"{"choices":[{"index":0,"delta":{"content":" safe. Bye now"}}]}"#,
    ));
    chunks.push(sse("[DONE]"));
    chunks
}

#[test]
fn attack_exhausting_the_text_streams_never_joins_two_paths_in_one_window() {
    let (out, _) = sse_through(card_rules("redact"), json!({}), &interleaved(15));
    let got = openai_assembled(&out);
    assert!(
        !digits(&got[0]).contains(FULL),
        "choice 0 as the client joins it: {:?}",
        got[0]
    );
}

#[test]
fn held_two_paths_of_one_choice_interleaved_have_windows_of_their_own() {
    let (out, _) = sse_through(card_rules("redact"), json!({}), &interleaved(0));
    let got = openai_assembled(&out);
    assert!(!digits(&got[0]).contains(FULL), "{:?}", got[0]);
}

// ---------------------------------------------------------------------------------------------
// A4 (critical): the held-bytes bound is a switch the upstream can flip: past it, everything
// held leaves, including the first part of a value whose end has not come yet.
// ---------------------------------------------------------------------------------------------

/// `4111 1111 1111 111` is held (no safe boundary after it). The upstream then sends ~200 KB
/// of small events without streamed text (`{"usage":null}`), which queue behind it: past
/// `max_held_bytes` (65536 + 512 × 256) everything leaves as found. The last digit comes
/// next: the card is found (context + held), but 15 of its 16 digits have already left.
#[test]
fn attack_forcing_the_held_bytes_bound_never_releases_a_card_unjudged() {
    let mut chunks = vec![sse(
        r#"{"choices":[{"index":0,"delta":{"content":"Your card is 4111 1111 1111 111"}}]}"#,
    )];
    let filler = sse(r#"{"usage":null}"#).repeat(100);
    for _ in 0..40 {
        chunks.push(filler.clone());
    }
    chunks.push(sse(
        r#"{"choices":[{"index":0,"delta":{"content":"1 and keep it safe"}}]}"#,
    ));
    chunks.push(sse(
        r#"{"choices":[{"index":0,"delta":{"content":" now. Bye bye"}}]}"#,
    ));
    chunks.push(sse("[DONE]"));
    let (out, ex) = sse_through(card_rules("redact"), json!({}), &chunks);
    let got = openai_assembled(&out);
    let leaked = digits(&got[0]);
    assert!(
        !leaked.contains("411111111111111"),
        "the client reads {:?} ({} digits of the card)",
        got[0],
        leaked.len()
    );
    // The events say it was redacted.
    let l = lines(&ex);
    assert!(!of_type(&l, "redacted").is_empty(), "{l:?}");
}

/// A legit stream at the bound: two choices (`n: 2`) streamed one character per event, as
/// vLLM and OpenAI do with small deltas, each text digit-heavy (held by age). The bound
/// (65536 + 512 × 256 bytes) is reached by a legit stream: a flush happens, and a card
/// written across it leaves in part.
#[test]
fn attack_a_legit_two_choice_stream_of_small_deltas_does_not_leak() {
    let text0 = format!("{} Your card is 4111 1111 1111 1111 ok", "7 ".repeat(300));
    let text1 = "9 ".repeat(400);
    let mut chunks = Vec::new();
    let mut a = text0.chars();
    let mut b = text1.chars();
    loop {
        let (x, y) = (a.next(), b.next());
        if x.is_none() && y.is_none() {
            break;
        }
        // Padding as a real chunk carries (id, object, created, model, system_fingerprint).
        let pad = r#""id":"chatcmpl-AbCdEfGhIjKlMnOpQrStUvWxYz012","object":"chat.completion.chunk","created":1769171696,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0123456789""#;
        if let Some(c) = x {
            chunks.push(sse(&format!(
                r#"{{{pad},"choices":[{{"index":0,"delta":{{"content":{}}},"logprobs":null,"finish_reason":null}}]}}"#,
                serde_json::to_string(&c.to_string()).unwrap()
            )));
        }
        if let Some(c) = y {
            chunks.push(sse(&format!(
                r#"{{{pad},"choices":[{{"index":1,"delta":{{"content":{}}},"logprobs":null,"finish_reason":null}}]}}"#,
                serde_json::to_string(&c.to_string()).unwrap()
            )));
        }
    }
    chunks.push(sse("[DONE]"));
    let (out, _) = sse_through(card_rules("redact"), json!({}), &chunks);
    let got = openai_assembled(&out);
    assert!(
        !digits(&got[0]).contains("41111111"),
        "choice 0 as the client joins it ends: {:?}",
        got[0].get(got[0].len().saturating_sub(60)..)
    );
}

// ---------------------------------------------------------------------------------------------
// A5 (critical, log): the events file's `payload` for the same streams.
// ---------------------------------------------------------------------------------------------

/// `responses.scan: true`, no rule: the `response` line's payload is written from the windows'
/// findings. A card split around a duplicate key is in no window, so its halves are written
/// as they came: a reader of the events file joins them.
#[test]
fn attack_the_response_payload_never_holds_a_card_split_around_a_duplicate_key() {
    let chunks = vec![
        sse(r#"{"choices":[{"index":0,"delta":{"content":"card 4111 1111"}}]}"#),
        sse(r#"{"choices":[{"index":0,"delta":{"content":"zz","content":" 1111 1111 ok"}}]}"#),
        sse("[DONE]"),
    ];
    let (_, ex) = sse_through(json!([]), json!({"responses": {"scan": true}}), &chunks);
    let l = lines(&ex);
    let payload = of_type(&l, "response")
        .first()
        .map(|r| r["payload"].to_string())
        .unwrap_or_default();
    assert!(
        !(payload.contains("4111 1111") && payload.contains(" 1111 1111 ok")),
        "the events file holds: {payload}"
    );
}

// ---------------------------------------------------------------------------------------------
// A6 (medium): JSON chunk quoting of a negative number.
// ---------------------------------------------------------------------------------------------

fn chunked_json(rules: Value, chunks: &[&str]) -> String {
    chunked_as(rules, chunks, "application/json")
}

/// The same, with another media type (`application/x-ndjson` is read as a stream).
fn chunked_as(rules: Value, chunks: &[&str], content_type: &str) -> String {
    let p = policy(rules, json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let host = response(200, &[("content-type", content_type)]);
    ex.response_headers(false, &host);
    let chunks: Vec<String> = chunks.iter().map(|c| c.to_string()).collect();
    let (out, _) = stream(&mut ex, &host, &chunks);
    String::from_utf8_lossy(&out).into_owned()
}

/// `{"n":-4111111111111111}` (a card as a negative number) redacted in a chunked JSON body:
/// the `-` stays outside the quoted placeholder: `{"n":-"[CREDIT_CARD]"}` is not JSON.
#[test]
fn attack_a_card_as_a_negative_number_in_chunked_json_is_redacted_into_valid_json() {
    let text = chunked_json(
        card_rules("redact"),
        &["{\"note\":\"on file\",\"n\":", "-4111111111111111}"],
    );
    assert!(!text.contains("4111"), "{text}");
    assert!(
        serde_json::from_str::<Value>(&text).is_ok(),
        "the client gets invalid JSON: {text}"
    );
    // NDJSON is read as a stream, chunk by chunk: the same.
    let text = chunked_as(
        card_rules("redact"),
        &["{\"note\":\"on file\",\"n\":", "-4111111111111111}\n"],
        "application/x-ndjson",
    );
    assert!(!text.contains("4111"), "{text}");
    assert!(
        serde_json::from_str::<Value>(text.trim_end()).is_ok(),
        "the client gets invalid JSON: {text}"
    );
}

/// The same in a buffered body.
#[test]
fn held_a_card_as_a_negative_number_in_buffered_json_is_redacted_into_valid_json() {
    let p = policy(card_rules("redact"), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let body = br#"{"note":"on file","n":-4111111111111111}"#;
    let len = body.len().to_string();
    let host = response(
        200,
        &[
            ("content-type", "application/json"),
            ("content-length", &len),
        ],
    );
    ex.response_headers(false, &host);
    *host.body.borrow_mut() = body.to_vec();
    let step = ex.response_body(body.len(), true, &host);
    let text = match step {
        Step::Rewrite(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{other:?}"),
    };
    assert!(
        serde_json::from_str::<Value>(&text).is_ok(),
        "the client gets invalid JSON: {text}"
    );
}

/// Held: a number right after a string ending in an escaped backslash, a card in a key,
/// NDJSON lines that are arrays.
#[test]
fn held_json_chunk_quoting_after_escaped_backslashes_in_keys_and_arrays() {
    let text = chunked_json(
        card_rules("redact"),
        &[
            "{\"a\":\"x\\\\\",\"n\":41111111",
            "11111111,\"4111111111111111\":1}",
        ],
    );
    assert!(!text.contains("4111"), "{text}");
    assert!(serde_json::from_str::<Value>(&text).is_ok(), "{text}");
    let p = policy(card_rules("redact"), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let host = response(200, &[("content-type", "application/x-ndjson")]);
    ex.response_headers(false, &host);
    let (out, _) = stream(
        &mut ex,
        &host,
        &["[1,4111111111111111]\n".into(), "[\"ok\",2]\n".into()],
    );
    let text = String::from_utf8_lossy(&out).into_owned();
    for line in text.lines() {
        assert!(serde_json::from_str::<Value>(line).is_ok(), "{text}");
    }
    assert!(!text.contains("4111"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Held: a UTF-16 body labelled so whose content does not decode.
// ---------------------------------------------------------------------------------------------

/// `charset=utf-16`, BOM, the card, then a lone high surrogate (`00 D8`): a client decodes
/// UTF-16 with replacement (Python `requests`' `.text`, `TextDecoder`) and reads the card.
/// Held: refused.
#[test]
fn held_a_utf16_body_with_a_lone_surrogate_is_not_passed_unread() {
    let p = policy(card_rules("block"), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let mut body = vec![0xFF, 0xFE];
    for u in r#"{"card":"4111 1111 1111 1111"}"#.encode_utf16() {
        body.extend_from_slice(&u.to_le_bytes());
    }
    body.extend_from_slice(&[0x00, 0xD8]);
    let len = body.len().to_string();
    let host = response(
        200,
        &[
            ("content-type", "application/json; charset=utf-16"),
            ("content-length", &len),
        ],
    );
    ex.response_headers(false, &host);
    *host.body.borrow_mut() = body.clone();
    let step = ex.response_body(body.len(), true, &host);
    assert!(
        matches!(step, Step::Reply(_)),
        "a UTF-16 card passed: {step:?}"
    );
}

/// Held: no label but a BOM (read as UTF-16), and a stream labelled `charset=utf-16` (502).
#[test]
fn held_utf16_by_bom_alone_and_a_utf16_stream_refused() {
    let p = policy(card_rules("block"), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let mut body = vec![0xFF, 0xFE];
    for u in r#"{"card":"4111 1111 1111 1111"}"#.encode_utf16() {
        body.extend_from_slice(&u.to_le_bytes());
    }
    let len = body.len().to_string();
    let host = response(
        200,
        &[
            ("content-type", "application/json"),
            ("content-length", &len),
        ],
    );
    ex.response_headers(false, &host);
    *host.body.borrow_mut() = body.clone();
    let step = ex.response_body(body.len(), true, &host);
    assert!(matches!(step, Step::Reply(_)), "{step:?}");
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(
        200,
        &[("content-type", "text/event-stream; charset=utf-16")],
    );
    let step = ex.response_headers(false, &host);
    assert!(
        matches!(&step, Step::Reply(r) if r.status == 502),
        "{step:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// A8 (medium): moderation inputs are cut with no overlap: toxic text across a cut is never
// read whole.
// ---------------------------------------------------------------------------------------------

/// With `max_input_bytes: 1024`, a response whose phrase straddles byte 1024 is sent as two
/// inputs, `…you worthless` and ` idiot…`: each is scored alone. (The same marker as the host
/// mock reads: `TOXIC` cut as `TOX` | `IC`.)
#[test]
fn attack_moderation_inputs_overlap_so_no_phrase_is_cut() {
    let p = policy(
        json!([]),
        json!({
            "contracts": [{"id": "c/v1", "envelope": {"toxicity_score": {"max": 0.3}}}],
            "contract": "c/v1",
            "moderation": {"cluster": "moderation", "authority": "moderation.local",
                           "max_input_bytes": 1024}
        }),
    );
    let m = p.moderation.as_ref().unwrap();
    let text = format!("{}TOXIC and more", "a".repeat(1021));
    let (body, _) = m.request_all(&text).unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    let inputs: Vec<&str> = v["input"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        inputs.iter().any(|i| i.contains("TOXIC")),
        "inputs: {:?}",
        inputs
            .iter()
            .map(|i| i.get(i.len().saturating_sub(8)..).unwrap_or(i))
            .collect::<Vec<_>>()
    );
}

/// A long response is sent as several inputs; an answer with fewer `results` than inputs (a
/// service or shim that scores only the first, as many OpenAI-compatible moderation shims
/// do) is taken as scored: the unscored inputs pass as clean.
#[test]
fn attack_a_moderation_answer_with_fewer_results_than_inputs_is_not_scored() {
    use crate::contract::moderation;
    let clean: serde_json::Map<String, Value> =
        ["harassment", "hate", "violence", "sexual", "self-harm"]
            .iter()
            .map(|c| (c.to_string(), json!(0.0001)))
            .collect();
    // Two inputs were sent (see the test above); one result came back.
    let answer = json!({"id": "modr-1", "model": "m",
        "results": [{"flagged": false, "categories": {}, "category_scores": clean}]});
    let got = moderation::parse_answer(200, answer.to_string().as_bytes(), 2);
    assert!(
        got.is_err(),
        "one result for two inputs was taken as scored: {got:?}"
    );
}
