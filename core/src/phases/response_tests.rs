//! The response phases: buffered responses, streams (chunks and server-sent events), the
//! rules that read them, and what the events say.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{json, Value};

use super::*;
use crate::replies::ReplyKind;

pub(super) const NOW: u64 = 1_769_171_696_789_000_000;

/// Envoy as the response phases see it: the response's headers, and its body as Envoy holds
/// it at each callback. Shared with `response_attack_tests`.
#[derive(Default)]
pub(super) struct Fake {
    pub(super) status: u16,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: RefCell<Vec<u8>>,
    pub(super) request: Vec<u8>,
}

impl Host for Fake {
    fn now_nanos(&self) -> u64 {
        NOW
    }
    fn request_body(&self, size: usize) -> Vec<u8> {
        self.request.get(..size).unwrap_or(&self.request).to_vec()
    }
    fn response_status(&self) -> Option<u16> {
        Some(self.status)
    }
    fn response_code_details(&self) -> Vec<u8> {
        b"via_upstream".to_vec()
    }
    fn request_trailers(&self) -> Vec<u8> {
        Vec::new()
    }
    fn claim_once(&self, _: &str, _: SlotUpdate) -> bool {
        false
    }
    fn response_headers(&self) -> Vec<u8> {
        let pairs: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        crate::header_map::serialize(&pairs)
    }
    fn response_body(&self, size: usize) -> Vec<u8> {
        let b = self.body.borrow();
        b.get(..size).unwrap_or(&b).to_vec()
    }
}

fn policy(rules: Value, extra: Value) -> Rc<Policy> {
    policy_with_payload(rules, extra, 256)
}

/// The test policy: these rules, these other keys, event payloads of at most `payload` bytes.
pub(super) fn policy_with_payload(rules: Value, extra: Value, payload: usize) -> Rc<Policy> {
    let mut cfg = json!({
        "manifest": {"identity": {"agent_id": "a"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"block_rules": rules},
        "events": {"max_payload_bytes": payload}
    });
    if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    Rc::new(crate::config::parse(cfg.to_string().as_bytes()).unwrap())
}

/// A request decided and forwarded: `body` as JSON, at `path`.
pub(super) fn forwarded(p: &Rc<Policy>, path: &str, body: &str) -> Exchange {
    let mut ex = Exchange::new(Some(p.clone()));
    let head = RequestHead {
        method: b"POST",
        path: path.as_bytes(),
        trace_id: Some(b"t1"),
        content_type: Some(b"application/json"),
        content_length: Some(b"1"),
        ..RequestHead::default()
    };
    ex.request_headers(&head, false, &Fake::default());
    let host = Fake {
        request: body.as_bytes().to_vec(),
        ..Fake::default()
    };
    let step = ex.request_body(body.len(), true, &host);
    assert!(matches!(step, Step::Continue), "{step:?}");
    ex
}

pub(super) fn response(status: u16, headers: &[(&'static str, &str)]) -> Fake {
    Fake {
        status,
        headers: headers.iter().map(|(n, v)| (*n, v.to_string())).collect(),
        ..Fake::default()
    }
}

/// The response body arrives in `chunks` (each a callback, the last one ending the stream);
/// what the client receives, and the last step.
fn stream(ex: &mut Exchange, host: &Fake, chunks: &[&str]) -> (Vec<u8>, Vec<Step>) {
    let bytes: Vec<Vec<u8>> = chunks.iter().map(|c| c.as_bytes().to_vec()).collect();
    body_callbacks(ex, host, &bytes)
}

/// `chunks` handed to `response_body` as Envoy does: while the filter answers `Pause`, Envoy
/// keeps what came and hands it all over with the next chunk (a buffered response); after
/// `Continue` or a rewrite, each callback has its chunk only. What the client receives, and
/// every step.
pub(super) fn body_callbacks(
    ex: &mut Exchange,
    host: &Fake,
    chunks: &[Vec<u8>],
) -> (Vec<u8>, Vec<Step>) {
    let mut out = Vec::new();
    let mut steps = Vec::new();
    let mut held: Vec<u8> = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        held.extend_from_slice(c);
        *host.body.borrow_mut() = held.clone();
        let step = ex.response_body(held.len(), i + 1 == chunks.len(), host);
        match &step {
            Step::Pause => {
                steps.push(step);
                continue;
            }
            Step::Rewrite(b) => out.extend_from_slice(b),
            Step::Continue => out.extend_from_slice(&held),
            _ => {}
        }
        held.clear();
        steps.push(step);
    }
    (out, steps)
}

pub(super) fn lines(ex: &Exchange) -> Vec<Value> {
    std::str::from_utf8(ex.events())
        .unwrap()
        .split('\n')
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub(super) fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == t).collect()
}

const CARD: &str = "4111 1111 1111 1111";

fn card_rules(action: &str) -> Value {
    json!([{"name": "no_cards_back", "condition": "response_has_credit_card", "action": action}])
}

#[test]
fn a_card_in_a_buffered_response_is_blocked_before_anything_leaves() {
    let p = policy(card_rules("block"), json!({}));
    let mut ex = forwarded(&p, "/book", r#"{"q":"hi"}"#);
    let body = format!(r#"{{"card":"{CARD}"}}"#);
    let len = body.len().to_string();
    let host = response(
        200,
        &[
            ("content-type", "application/json"),
            ("content-length", &len),
        ],
    );
    // The headers are held while the body is buffered.
    assert_eq!(ex.response_headers(false, &host), Step::Pause);
    *host.body.borrow_mut() = body.as_bytes()[..5].to_vec();
    assert_eq!(ex.response_body(5, false, &host), Step::Pause);
    *host.body.borrow_mut() = body.as_bytes().to_vec();
    let step = ex.response_body(body.len(), true, &host);
    let Step::Reply(reply) = step else {
        panic!("{step:?}")
    };
    assert_eq!(reply.status, 403);
    assert_eq!(reply.kind, ReplyKind::ResponseBlocked);
    let text = String::from_utf8(reply.body).unwrap();
    assert!(!text.contains("4111"), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["rule"], "no_cards_back");
    assert_eq!(v["detected"], json!(["credit_card"]));
    let l = lines(&ex);
    let blocked = of_type(&l, "blocked");
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0]["phase"], "response");
    assert_eq!(blocked[0]["reason"], "no_cards_back");
    let resp = of_type(&l, "response");
    assert_eq!(resp.len(), 1);
    assert_eq!(resp[0]["detected"], json!(["credit_card"]));
    assert!(!String::from_utf8_lossy(ex.events()).contains("4111"));
    // The reply passes the response phases untouched.
    assert_eq!(ex.response_headers(false, &host), Step::Continue);
}

#[test]
fn a_json_rpc_caller_gets_its_refused_response_as_a_json_rpc_error_with_its_id() {
    let p = policy(card_rules("block"), json!({}));
    let mut ex = forwarded(
        &p,
        "/a2a",
        r#"{"jsonrpc":"2.0","id":"req-7","method":"message/send","params":{"message":{"role":"user","parts":[{"kind":"text","text":"hi"}],"messageId":"m1"}}}"#,
    );
    let body = format!(r#"{{"jsonrpc":"2.0","id":"req-7","result":{{"text":"{CARD}"}}}}"#);
    let len = body.len().to_string();
    let host = response(
        200,
        &[
            ("content-type", "application/json"),
            ("content-length", &len),
        ],
    );
    ex.response_headers(false, &host);
    *host.body.borrow_mut() = body.as_bytes().to_vec();
    let Step::Reply(reply) = ex.response_body(body.len(), true, &host) else {
        panic!()
    };
    let v: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(v["id"], "req-7");
    assert_eq!(v["error"]["code"], -31001);
    assert_eq!(
        reply.status, 200,
        "JSON-RPC errors are sent with 200 by default"
    );
}

#[test]
fn a_redacted_buffered_response_keeps_its_shape_and_its_length_follows() {
    let p = policy(card_rules("redact"), json!({}));
    let mut ex = forwarded(&p, "/book", r#"{"q":"hi"}"#);
    let body = format!(r#"{{"card":"{CARD}","n":4111111111111111}}"#);
    let len = body.len().to_string();
    let host = response(
        200,
        &[
            ("content-type", "application/json"),
            ("content-length", &len),
        ],
    );
    assert_eq!(ex.response_headers(false, &host), Step::Pause);
    let _ = edits(&mut ex);
    *host.body.borrow_mut() = body.as_bytes().to_vec();
    let Step::Rewrite(out) = ex.response_body(body.len(), true, &host) else {
        panic!()
    };
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v, json!({"card": "[CREDIT_CARD]", "n": "[CREDIT_CARD]"}));
    let e = edits(&mut ex);
    assert!(
        e.contains(&(
            Headers::Response,
            "content-length".into(),
            Some(out.len().to_string())
        )),
        "{e:?}"
    );
    let l = lines(&ex);
    let redacted = of_type(&l, "redacted");
    assert_eq!(redacted[0]["phase"], "response");
    assert_eq!(redacted[0]["values"], 2);
}

#[test]
fn response_rules_read_the_caller_and_the_request_too() {
    let rules = json!([{"name": "ssn_back", "action": "block",
        "condition": "response_has_ssn && caller_trust_level != 'trusted' && method == 'POST'"}]);
    let p = policy(rules, json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let body = r#"{"note":"SSN 078-05-1120"}"#;
    let len = body.len().to_string();
    let host = response(
        200,
        &[
            ("content-type", "application/json"),
            ("content-length", &len),
        ],
    );
    ex.response_headers(false, &host);
    *host.body.borrow_mut() = body.as_bytes().to_vec();
    assert!(matches!(
        ex.response_body(body.len(), true, &host),
        Step::Reply(_)
    ));
}

fn openai_chunk(piece: &str) -> String {
    let data = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "m",
        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]});
    format!("data: {data}\n\n")
}

/// The text of the deltas of a stream as the client reads it; fails on invalid framing.
fn deltas(stream: &[u8]) -> String {
    let mut framer = crate::sse::Framer::new(1 << 20);
    let mut events = framer.push(stream).unwrap();
    assert!(framer.finish().is_none(), "the stream ends inside an event");
    let mut text = String::new();
    for e in events.drain(..) {
        let Some(data) = e.data else { continue };
        if data == "[DONE]" {
            continue;
        }
        let v: Value = serde_json::from_str(&data).unwrap();
        text.push_str(v["choices"][0]["delta"]["content"].as_str().unwrap_or(""));
    }
    text
}

#[test]
fn a_card_split_across_two_three_and_four_events_is_redacted_and_the_stream_stays_valid() {
    for split in [2, 3, 4] {
        let p = policy(card_rules("redact"), json!({}));
        let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
        let host = response(200, &[("content-type", "text/event-stream")]);
        assert_eq!(ex.response_headers(false, &host), Step::Continue);
        let text = format!("Your card is {CARD}, keep it safe. Bye now");
        let at = text.find('4').unwrap();
        let card_end = at + CARD.len();
        // The card cut in `split` pieces, each its own event and its own chunk.
        let mut cuts = vec![0, at];
        for i in 1..split {
            cuts.push(at + i * CARD.len() / split);
        }
        cuts.push(card_end);
        cuts.push(text.len());
        let chunks: Vec<String> = cuts
            .windows(2)
            .map(|w| openai_chunk(text.get(w[0]..w[1]).unwrap()))
            .chain(["data: [DONE]\n\n".to_string()])
            .collect();
        let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
        let (out, steps) = stream(&mut ex, &host, &refs);
        let got = deltas(&out);
        assert_eq!(
            got, "Your card is [CREDIT_CARD], keep it safe. Bye now",
            "split {split}"
        );
        assert!(!String::from_utf8_lossy(&out).contains("1111"));
        assert!(steps.iter().all(|s| matches!(s, Step::Rewrite(_))));
        let l = lines(&ex);
        assert_eq!(of_type(&l, "redacted")[0]["phase"], "response");
        let resp = of_type(&l, "response");
        assert_eq!(resp[0]["streamed"], true);
        assert_eq!(resp[0]["detected"], json!(["credit_card"]));
        assert!(!String::from_utf8_lossy(ex.events()).contains("1111"));
    }
}

#[test]
fn a_clean_stream_flows_event_by_event() {
    let p = policy(card_rules("redact"), json!({}));
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let chunks = [
        openai_chunk("The weather "),
        openai_chunk("is fine "),
        openai_chunk("today "),
    ];
    let mut held_back = 0;
    for c in &chunks {
        *host.body.borrow_mut() = c.as_bytes().to_vec();
        let Step::Rewrite(out) = ex.response_body(c.len(), false, &host) else {
            panic!()
        };
        if out.is_empty() {
            held_back += 1;
        }
    }
    // Words end with a space: no event needs to wait past the next one.
    assert!(held_back <= 1, "{held_back} events held back");
}

#[test]
fn a_refused_stream_ends_with_an_error_event_in_the_protocol_shape() {
    let p = policy(card_rules("block"), json!({}));
    let mut ex = forwarded(
        &p,
        "/a2a",
        r#"{"jsonrpc":"2.0","id":9,"method":"message/stream","params":{"message":{"role":"user","parts":[{"kind":"text","text":"hi"}],"messageId":"m1"}}}"#,
    );
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let event = |t: &str| {
        let data = json!({"jsonrpc": "2.0", "id": 9, "result": {"kind": "artifact-update",
            "taskId": "t", "contextId": "c",
            "artifact": {"artifactId": "a", "parts": [{"kind": "text", "text": t}]}}});
        format!("data: {data}\n\n")
    };
    let chunks = [
        event("card 4111 1111 "),
        event("1111 1111 ok"),
        event("more"),
    ];
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let (out, _) = stream(&mut ex, &host, &refs);
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("4111"), "{text}");
    let mut framer = crate::sse::Framer::new(1 << 20);
    let events = framer.push(text.as_bytes()).unwrap();
    let last: Value =
        serde_json::from_str(events.last().unwrap().data.as_deref().unwrap()).unwrap();
    assert_eq!(last["id"], 9);
    assert_eq!(last["error"]["code"], -31001);
    assert!(!text.contains("more"), "nothing after the refusal");
    let l = lines(&ex);
    assert_eq!(of_type(&l, "blocked")[0]["phase"], "response");
}

#[test]
fn a_chunked_text_response_is_redacted_across_chunks() {
    let p = policy(card_rules("redact"), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let host = response(200, &[("content-type", "text/plain")]);
    assert_eq!(ex.response_headers(false, &host), Step::Continue);
    let (out, _) = stream(
        &mut ex,
        &host,
        &["pay with 4111 11", "11 1111 1111 now", " thanks"],
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "pay with [CREDIT_CARD] now thanks"
    );
}

#[test]
fn monitor_mode_reports_a_refusal_and_changes_nothing() {
    let p = policy(card_rules("block"), json!({"mode": "monitor"}));
    let mut ex = forwarded(&p, "/book", r#"{"q":"hi"}"#);
    let body = format!(r#"{{"card":"{CARD}"}}"#);
    let len = body.len().to_string();
    let host = response(
        200,
        &[
            ("content-type", "application/json"),
            ("content-length", &len),
        ],
    );
    ex.response_headers(false, &host);
    *host.body.borrow_mut() = body.as_bytes().to_vec();
    assert_eq!(ex.response_body(body.len(), true, &host), Step::Continue);
    let l = lines(&ex);
    assert_eq!(of_type(&l, "blocked")[0]["mode"], "monitor");
}

#[test]
fn responses_the_configuration_does_not_read_pass_untouched() {
    // No response rule: not even the headers are read.
    let p = policy(json!([]), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let host = response(200, &[("content-type", "application/json")]);
    assert_eq!(ex.response_headers(false, &host), Step::Continue);
    *host.body.borrow_mut() = CARD.as_bytes().to_vec();
    assert_eq!(ex.response_body(CARD.len(), true, &host), Step::Continue);
    // A media type not listed passes too.
    let p = policy(card_rules("block"), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let host = response(200, &[("content-type", "image/png")]);
    assert_eq!(ex.response_headers(false, &host), Step::Continue);
    *host.body.borrow_mut() = CARD.as_bytes().to_vec();
    assert_eq!(ex.response_body(CARD.len(), true, &host), Step::Continue);
}

#[test]
fn a_response_the_filter_cannot_read_is_refused_with_502() {
    let p = policy(card_rules("block"), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let host = response(
        200,
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ],
    );
    let Step::Reply(r) = ex.response_headers(false, &host) else {
        panic!()
    };
    assert_eq!(r.status, 502);
    assert_eq!(r.kind, ReplyKind::ResponseUnreadable);
}

#[test]
fn response_rules_cannot_warn_and_actions_cannot_read_the_response() {
    let base =
        json!({"manifest": {"identity": {"agent_id": "a"}, "privacy": {"retention": "ephemeral"}}});
    let with = |policy: Value| {
        let mut c = base.clone();
        c["policy"] = policy;
        crate::config::parse(c.to_string().as_bytes()).unwrap_err()
    };
    let e = with(json!({"block_rules": [
        {"name": "w", "condition": "response_has_email", "action": "warn"}]}));
    assert_eq!(e.path(), "policy.block_rules[0].action");
    assert!(e.to_string().contains("block"), "{e}");
    let e = with(json!({"actions": [
        {"name": "a", "when": "response_status == 200", "required_tier": 1}]}));
    assert_eq!(e.path(), "policy.actions[0].when");
    let e = with(json!({"block_rules": [
        {"name": "w", "condition": "has_ssn_in_response", "action": "block"}]}));
    assert!(e.to_string().contains("response_has_ssn"), "{e}");
}

fn edits(ex: &mut Exchange) -> Vec<(Headers, String, Option<String>)> {
    let mut out = Vec::new();
    ex.apply_edits(|h, name, value| out.push((h, name.to_string(), value.map(str::to_string))));
    out
}

// Contracts (ACVPS) and the moderation service.

fn contract_policy(envelope: Value, extra: Value) -> Rc<Policy> {
    let mut cfg = json!({
        "contracts": [{"id": "pii-strict/v1", "envelope": envelope}],
        "contract": "pii-strict/v1"
    });
    if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    policy(json!([]), cfg)
}

fn buffered(ex: &mut Exchange, body: &str) -> (Fake, Step) {
    let len = body.len().to_string();
    let host = response(
        200,
        &[
            ("content-type", "application/json"),
            ("content-length", &len),
        ],
    );
    assert_eq!(ex.response_headers(false, &host), Step::Pause);
    *host.body.borrow_mut() = body.as_bytes().to_vec();
    let step = ex.response_body(body.len(), true, &host);
    (host, step)
}

#[test]
fn a_response_over_its_contract_is_refused_naming_the_contract_and_the_bound() {
    let p = contract_policy(json!({"findings": {"credit_card": {"max": 0}}}), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let (_, step) = buffered(&mut ex, &format!(r#"{{"a":"{CARD}","b":"{CARD}"}}"#));
    let Step::Reply(r) = step else {
        panic!("{step:?}")
    };
    assert_eq!(r.status, 403);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["contract"], "pii-strict/v1");
    assert_eq!(
        v["exceeded"],
        json!([{"bound": "findings.credit_card", "limit": 0, "value": 2}])
    );
    assert!(!String::from_utf8_lossy(&r.body).contains("4111"));
    let l = lines(&ex);
    let blocked = of_type(&l, "blocked");
    assert_eq!(blocked[0]["reason"], "contract_violation");
    assert_eq!(blocked[0]["contract"], "pii-strict/v1");
    assert_eq!(blocked[0]["exceeded"][0]["bound"], "findings.credit_card");
    let resp = of_type(&l, "response");
    assert_eq!(resp[0]["contract"], "pii-strict/v1");
    assert_eq!(resp[0]["pii_risk"], 1.0);
}

#[test]
fn pii_risk_and_denied_terms_are_bounds_too_and_a_term_is_never_named() {
    let p = contract_policy(
        json!({"pii_risk": {"max": 0.5}, "denied_terms": ["project zeus"]}),
        json!({}),
    );
    // An e-mail address weighs 0.5: within the bound.
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let (_, step) = buffered(&mut ex, r#"{"to":"jane.doe@example.com"}"#);
    assert_eq!(step, Step::Continue);
    // A denied term, in any case.
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let (_, step) = buffered(&mut ex, r#"{"note":"about PROJECT Zeus"}"#);
    let Step::Reply(r) = step else {
        panic!("{step:?}")
    };
    let text = String::from_utf8(r.body).unwrap();
    assert!(text.contains("denied_terms[0]"), "{text}");
    assert!(!text.to_lowercase().contains("zeus"), "{text}");
    // A term split across events is found too.
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let chunks = [
        openai_chunk("the proj"),
        openai_chunk("ect ze"),
        openai_chunk("us plan"),
    ];
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let (out, _) = stream(&mut ex, &host, &refs);
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("iatp_contract_violation"), "{out}");
    assert!(!out.contains("us plan"), "{out}");
}

fn moderated(fail: &str) -> Rc<Policy> {
    contract_policy(
        json!({"toxicity_score": {"max": 0.3}}),
        json!({"moderation": {"cluster": "moderation", "timeout_ms": 200, "fail": fail}}),
    )
}

fn scores(harassment: f64) -> Vec<u8> {
    json!({"id": "modr-1", "model": "omni-moderation-latest", "results": [{"flagged": harassment > 0.5,
        "categories": {}, "category_scores": {"harassment": harassment, "hate": 0.01, "violence": 0.0}}]})
    .to_string()
    .into_bytes()
}

#[test]
fn a_buffered_response_waits_for_the_moderation_service_and_its_scores_decide() {
    let p = moderated("closed");
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let (host, step) = buffered(&mut ex, r#"{"text":"you are awful"}"#);
    let Step::Call(call) = step else {
        panic!("{step:?}")
    };
    assert_eq!(call.cluster, "moderation");
    assert_eq!(call.timeout_ms, 200);
    assert!(call
        .headers
        .contains(&(":path".into(), "/v1/moderations".into())));
    let sent: Value = serde_json::from_slice(&call.body).unwrap();
    assert_eq!(sent["input"], r#"{"text":"you are awful"}"#);
    // Toxic: refused, the score named.
    let step = ex.callout_answer(Some(200), &scores(0.9), &host);
    let Step::Reply(r) = step else {
        panic!("{step:?}")
    };
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["exceeded"][0]["bound"], "toxicity_score");
    assert_eq!(lines(&ex).last().unwrap()["moderation"]["result"], "scored");
    // Clean: passes, with the scores in its line.
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let (host, _) = buffered(&mut ex, r#"{"text":"hello"}"#);
    assert_eq!(
        ex.callout_answer(Some(200), &scores(0.01), &host),
        Step::Continue
    );
    let l = lines(&ex);
    let resp = of_type(&l, "response");
    assert_eq!(resp[0]["moderation"]["result"], "scored");
    assert_eq!(resp[0]["moderation"]["toxicity_score"], 0.01);
}

#[test]
fn a_failed_moderation_call_refuses_or_passes_as_the_operator_chose() {
    for (fail, refused) in [("closed", true), ("open", false)] {
        let p = moderated(fail);
        for status in [None, Some(500)] {
            let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
            let (host, step) = buffered(&mut ex, r#"{"text":"hello"}"#);
            assert!(matches!(step, Step::Call(_)));
            let step = ex.callout_answer(status, b"oops", &host);
            assert_eq!(matches!(step, Step::Reply(_)), refused, "{fail} {status:?}");
            let l = lines(&ex);
            let resp = of_type(&l, "response");
            assert_eq!(
                resp[0]["moderation"]["result"],
                format!("failed_{fail}"),
                "{fail} {status:?}"
            );
            let error = if status.is_some() {
                "status"
            } else {
                "unreachable"
            };
            assert_eq!(resp[0]["moderation"]["error"], error);
        }
    }
}

#[test]
fn a_stream_under_a_moderated_contract_follows_the_fail_mode_at_its_headers() {
    let p = moderated("closed");
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    let Step::Reply(r) = ex.response_headers(false, &host) else {
        panic!()
    };
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["error"]["code"], "iatp_contract_violation", "{v}");
    let p = moderated("open");
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    assert_eq!(ex.response_headers(false, &host), Step::Continue);
}

// What a new user tried (round 2).

#[test]
fn response_rules_decide_on_responses_whose_body_is_not_read() {
    let rules =
        json!([{"name": "no_404", "condition": "response_status == 404", "action": "block"}]);
    let p = policy(rules, json!({}));
    // A media type not scanned: the status still counts.
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let host = response(
        404,
        &[("content-type", "image/png"), ("content-length", "10")],
    );
    let Step::Reply(r) = ex.response_headers(false, &host) else {
        panic!("an image's 404 passed")
    };
    assert_eq!(r.status, 403);
    assert_eq!(of_type(&lines(&ex), "blocked")[0]["phase"], "response");
    // No body at all (HEAD, 204): the same.
    let rules =
        json!([{"name": "no_204", "condition": "response_status == 204", "action": "block"}]);
    let p = policy(rules, json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    assert!(matches!(
        ex.response_headers(true, &response(204, &[])),
        Step::Reply(_)
    ));
    // A status the rule does not name: the plain response line, nothing read.
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let host = response(
        200,
        &[("content-type", "image/png"), ("content-length", "10")],
    );
    assert_eq!(ex.response_headers(false, &host), Step::Continue);
    let resp = of_type(&lines(&ex), "response")[0].clone();
    assert!(resp.get("detected").is_none(), "{resp}");
}

#[test]
fn a_response_rule_the_request_already_makes_certain_blocks_the_request() {
    let rules = json!([{"name": "cards", "action": "block",
        "condition": "has_credit_card || response_has_credit_card"}]);
    let p = policy(rules, json!({}));
    let mut ex = Exchange::new(Some(p.clone()));
    let head = RequestHead {
        method: b"POST",
        path: b"/x",
        trace_id: Some(b"t1"),
        content_type: Some(b"application/json"),
        content_length: Some(b"1"),
        ..RequestHead::default()
    };
    ex.request_headers(&head, false, &Fake::default());
    let body = format!(r#"{{"card":"{CARD}"}}"#);
    let host = Fake {
        request: body.as_bytes().to_vec(),
        ..Fake::default()
    };
    let step = ex.request_body(body.len(), true, &host);
    assert!(
        matches!(step, Step::Reply(_)),
        "the request's card reached the agent: {step:?}"
    );
    assert_eq!(of_type(&lines(&ex), "blocked")[0]["phase"], "request");
    // A request without one goes on: the rule waits for the response.
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let (_, step) = buffered(&mut ex, &format!(r#"{{"card":"{CARD}"}}"#));
    assert!(matches!(step, Step::Reply(_)));
}

#[test]
fn a_json_document_without_a_length_is_judged_whole_then_read_on_as_a_stream_if_too_long() {
    let p = policy(
        card_rules("block"),
        json!({"responses": {"max_body_bytes": 64}}),
    );
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let host = response(200, &[("content-type", "application/json")]);
    // Held like a buffered response: a refusal can still be a 403.
    assert_eq!(ex.response_headers(false, &host), Step::Pause);
    let body = format!(r#"{{"card":"{CARD}"}}"#);
    *host.body.borrow_mut() = body.as_bytes().to_vec();
    assert!(matches!(
        ex.response_body(body.len(), true, &host),
        Step::Reply(_)
    ));
    // Longer than `max_body_bytes`: read on as a stream from what Envoy held.
    let p = policy(
        card_rules("redact"),
        json!({"responses": {"max_body_bytes": 64}}),
    );
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    assert_eq!(ex.response_headers(false, &host), Step::Pause);
    let first = format!(r#"{{"note":"{}","card":"{CARD}","#, "a ".repeat(40));
    *host.body.borrow_mut() = first.as_bytes().to_vec();
    let Step::Rewrite(mut out) = ex.response_body(first.len(), false, &host) else {
        panic!()
    };
    let rest = r#""end":true}"#;
    *host.body.borrow_mut() = rest.as_bytes().to_vec();
    let Step::Rewrite(tail) = ex.response_body(rest.len(), true, &host) else {
        panic!()
    };
    out.extend(tail);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["card"], "[CREDIT_CARD]");
    assert_eq!(of_type(&lines(&ex), "response")[0]["streamed"], true);
}

#[test]
fn lines_say_what_was_replaced_and_payloads_use_the_log_placeholders() {
    let p = policy(card_rules("redact"), json!({}));
    let mut ex = forwarded(&p, "/x", r#"{"q":"hi"}"#);
    let (_, step) = buffered(&mut ex, &format!(r#"{{"card":"{CARD}"}}"#));
    assert!(matches!(step, Step::Rewrite(_)));
    let l = lines(&ex);
    let payload = of_type(&l, "response")[0]["payload"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(payload.contains("[CREDIT_CARD_REDACTED]"), "{payload}");
    // A stream: the `redacted` line names what was replaced, not all that was seen.
    let rules = json!([
        {"name": "no_cards", "condition": "response_has_credit_card", "action": "redact"}]);
    let p = policy(rules, json!({}));
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let chunks = [
        openai_chunk(&format!("card {CARD} here ")),
        openai_chunk("done now ok"),
    ];
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    stream(&mut ex, &host, &refs);
    let l = lines(&ex);
    assert_eq!(
        of_type(&l, "redacted")[0]["detected"],
        json!(["credit_card"])
    );
}

#[test]
fn content_types_say_why_an_entry_is_refused() {
    let bad = |t: &str| {
        let c = json!({"manifest": {"identity": {"agent_id": "a"}, "privacy": {"retention": "ephemeral"}},
            "responses": {"content_types": [t]}});
        crate::config::parse(c.to_string().as_bytes())
            .unwrap_err()
            .to_string()
    };
    assert!(bad("application/json; charset=utf-8").contains("parameters"));
    assert!(bad("*/*").contains("list the types"));
    assert!(bad("json").contains("must be a media type"));
}

/// Envoy merges what a fast upstream writes: one callback can bring thousands of events (a
/// 100 MiB stream came in chunks of up to 1 MiB). Events that may leave leave before the bound
/// on what is held is looked at.
#[test]
fn a_burst_of_thousands_of_events_in_one_chunk_passes() {
    let p = policy(card_rules("redact"), json!({}));
    let mut ex = forwarded(&p, "/v1/chat/completions", r#"{"model":"m","stream":true}"#);
    let host = response(200, &[("content-type", "text/event-stream")]);
    ex.response_headers(false, &host);
    let words = ["lorem ", "ipsum ", "dolor ", "sit ", "amet "];
    let burst: String = (0..8000)
        .map(|i| openai_chunk(words[i % words.len()]))
        .collect();
    assert!(burst.len() > 1_000_000);
    let (out, _) = stream(&mut ex, &host, &[&burst, "data: [DONE]\n\n"]);
    assert_eq!(out.len(), burst.len() + "data: [DONE]\n\n".len());
    assert!(of_type(&lines(&ex), "error").is_empty());
}
