use std::rc::Rc;

use serde_json::{json, Value};

use super::*;
use crate::policy::Decision;
use crate::replies::ReplyKind;

const NOW: u64 = 1_769_171_696_789_000_000; // 2026-01-23T12:34:56.789Z

/// Envoy, as a phase sees it: a clock, the buffered body, the response status, how the stream
/// ended.
#[derive(Default)]
struct Fake {
    now: u64,
    body: Vec<u8>,
    status: Option<u16>,
    details: &'static str,
    trailers: Vec<(&'static str, &'static str)>,
    /// proxy-wasm shared data, as one Envoy keeps it for all its workers.
    shared: std::cell::RefCell<std::collections::HashMap<String, Vec<u8>>>,
}

impl Host for Fake {
    fn now_nanos(&self) -> u64 {
        self.now
    }
    fn request_body(&self, size: usize) -> Vec<u8> {
        self.body.get(..size).unwrap_or(&self.body).to_vec()
    }
    fn response_status(&self) -> Option<u16> {
        self.status
    }
    fn response_code_details(&self) -> Vec<u8> {
        self.details.as_bytes().to_vec()
    }
    fn request_trailers(&self) -> Vec<u8> {
        crate::header_map::serialize(&self.trailers)
    }
    fn claim_once(&self, key: &str, update: SlotUpdate) -> bool {
        let mut shared = self.shared.borrow_mut();
        match update(shared.get(key).map(Vec::as_slice)) {
            Some(v) => {
                shared.insert(key.to_string(), v);
                true
            }
            None => false,
        }
    }
}

fn at(now: u64) -> Fake {
    Fake {
        now,
        ..Fake::default()
    }
}

fn policy(extra: Value) -> Rc<Policy> {
    let mut cfg = json!({
        "manifest": {"identity": {"agent_id": "a"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"block_rules": [
            {"name": "no_ssn", "condition": "has_ssn", "action": "block"},
            {"name": "mail", "condition": "has_email", "action": "warn", "message": "mail"}]},
        "events": {"max_payload_bytes": 64}
    });
    if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    Rc::new(crate::config::parse(cfg.to_string().as_bytes()).unwrap())
}

fn head<'a>(method: &'a str, path: &'a str) -> RequestHead<'a> {
    RequestHead {
        method: method.as_bytes(),
        path: path.as_bytes(),
        trace_id: Some(b"t1"),
        ..RequestHead::default()
    }
}

/// An exchange whose request headers came, with a body to follow.
fn exchange(p: &Rc<Policy>, method: &str, path: &str, over: bool) -> Exchange {
    let mut ex = Exchange::new(Some(p.clone()));
    let h = RequestHead {
        user_override: over.then_some(b"true".as_slice()),
        ..head(method, path)
    };
    ex.request_headers(&h, false, &at(NOW));
    ex
}

/// The request headers of a request with a body to follow, and what the filter did with them.
fn headers_step(p: &Rc<Policy>, method: &str, path: &str) -> (Exchange, Step) {
    let mut ex = Exchange::new(Some(p.clone()));
    let step = ex.request_headers(&head(method, path), false, &at(NOW));
    (ex, step)
}

/// The whole body arrives.
fn decide(ex: &mut Exchange, body: &[u8]) -> Step {
    let host = Fake {
        now: NOW,
        body: body.to_vec(),
        ..Fake::default()
    };
    ex.request_body(body.len(), true, &host)
}

fn respond(ex: &mut Exchange, status: u16, now: u64) -> Step {
    let host = Fake {
        now,
        status: Some(status),
        ..Fake::default()
    };
    ex.response_headers(false, &host)
}

fn lines(ex: &Exchange) -> Vec<Value> {
    std::str::from_utf8(ex.events())
        .unwrap()
        .split('\n')
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn reply_status(step: &Step) -> Option<u16> {
    match step {
        Step::Reply(r) => Some(r.kind.status()),
        Step::Continue
        | Step::Pause
        | Step::Redact(_)
        | Step::Rewrite(_)
        | Step::Reset
        | Step::Call(_)
        | Step::Wait => None,
    }
}

fn edits(ex: &mut Exchange) -> Vec<(Headers, String, Option<String>)> {
    let mut out = Vec::new();
    ex.apply_edits(|h, name, value| out.push((h, name.to_string(), value.map(str::to_string))));
    out
}

fn set(h: Headers, name: &str, value: &str) -> (Headers, String, Option<String>) {
    (h, name.to_string(), Some(value.to_string()))
}

#[test]
fn allow_records_request_then_response() {
    let p = policy(json!({}));
    let mut ex = exchange(&p, "POST", "/x", false);
    assert_eq!(decide(&mut ex, b"{\"a\":1}"), Step::Continue);
    respond(&mut ex, 201, NOW + 2_500_000);
    let l = lines(&ex);
    assert_eq!(l.len(), 2);
    assert_eq!(l[0]["timestamp"], "2026-01-23T12:34:56.789Z");
    assert_eq!(l[0]["payload"], "{\"a\":1}");
    assert_eq!(l[1]["status"], 201);
    assert_eq!(l[1]["latency_ms"], 2.5);
    assert!(!ex.quarantined() && ex.policy_header().is_none());
}

/// The test policy's rules, with the unsafe legacy override (`X-User-Override: true`).
fn legacy() -> Rc<Policy> {
    policy(json!({"policy": {"legacy_override": true, "block_rules": [
        {"name": "no_ssn", "condition": "has_ssn", "action": "block"},
        {"name": "mail", "condition": "has_email", "action": "warn", "message": "mail"}]}}))
}

#[test]
fn block_warn_override() {
    let p = legacy();
    let mut ex = exchange(&p, "POST", "/x", false);
    let step = decide(&mut ex, b"ssn 123-45-6789");
    assert_eq!(reply_status(&step), Some(403));
    assert_eq!(lines(&ex)[1]["type"], "blocked");
    assert!(!String::from_utf8_lossy(ex.events()).contains("6789"));

    let mut ex = exchange(&p, "POST", "/x", false);
    assert_eq!(reply_status(&decide(&mut ex, b"a@b.io")), Some(449));
    assert_eq!(lines(&ex)[1]["warnings"], json!(["mail"]));

    let mut ex = exchange(&p, "POST", "/x", true);
    assert_eq!(decide(&mut ex, b"a@b.io"), Step::Continue);
    assert!(ex.quarantined());
    assert_eq!(lines(&ex)[1]["type"], "override");
}

#[test]
fn monitor_forwards_and_reports() {
    let p = policy(json!({"mode": "monitor"}));
    let mut ex = exchange(&p, "POST", "/x", false);
    assert_eq!(decide(&mut ex, b"123-45-6789"), Step::Continue);
    assert_eq!(ex.policy_header(), Some(PolicyResult::Block));
    assert_eq!(lines(&ex)[1]["mode"], "monitor");
    assert_eq!(ex.tally().unwrap().decision, Decision::Monitor);
    assert_eq!(ex.tally().unwrap().result, PolicyResult::Block);
}

#[test]
fn path_counts_and_is_scrubbed_and_rules_see_it_without_query() {
    let p = policy(json!({"policy": {"block_rules": [
        {"name": "health", "condition": "path == '/health' && method == 'GET'", "action": "block"}]}}));
    // Decided on the headers: the body cannot change it.
    let (ex, step) = headers_step(&p, "GET", "/health?token=a@b.io");
    assert_eq!(reply_status(&step), Some(403));
    let l = lines(&ex);
    assert_eq!(l[0]["path"], "/health?token=[EMAIL_REDACTED]");
    assert_eq!(l[0]["detected"], json!(["email"]));
    assert!(l[0].get("payload").is_none());
}

#[test]
fn payload_is_cut_at_the_limit() {
    let p = policy(json!({}));
    let mut ex = exchange(&p, "POST", "/x", false);
    let body = format!("{} 123-45-6789", "x".repeat(59));
    decide(&mut ex, body.as_bytes());
    let l = lines(&ex);
    assert_eq!(
        l[0]["payload"],
        format!("{} [SSN_REDACTED]", "x".repeat(59))
    );
    assert!(l[0].get("payload_truncated").is_none());
    let mut ex = exchange(&p, "POST", "/x", false);
    decide(&mut ex, "y".repeat(100).as_bytes());
    let l = lines(&ex);
    assert_eq!(l[0]["payload"], "y".repeat(64));
    assert_eq!(l[0]["payload_truncated"], true);
}

#[test]
fn encoded_values_in_path_and_body_count_and_are_scrubbed() {
    let p = policy(json!({}));
    let (ex, step) = headers_step(&p, "GET", "/q?n=123%2D45%2D6789");
    assert_eq!(reply_status(&step), Some(403));
    assert_eq!(lines(&ex)[0]["path"], "/q?n=[SSN_REDACTED]");
    let mut ex = exchange(&p, "POST", "/x", false);
    assert_eq!(
        reply_status(&decide(&mut ex, br#"{"s":"123\u002d45-6789"}"#)),
        Some(403)
    );
    assert_eq!(lines(&ex)[0]["payload"], r#"{"s":"[SSN_REDACTED]"}"#);
    // Form bodies are percent-encoded; other bodies are decoded that way too (a JSON value or
    // a text may hold a URL), but only forms take `+` for a space.
    let mut ex = Exchange::new(Some(p.clone()));
    let form = RequestHead {
        content_type: Some(b"application/x-www-form-urlencoded; charset=utf-8"),
        ..head("POST", "/f")
    };
    ex.request_headers(&form, false, &at(NOW));
    assert_eq!(
        reply_status(&decide(&mut ex, b"mail=jane%40example.com")),
        Some(449)
    );
    let mut ex = exchange(&p, "POST", "/x", false);
    assert_eq!(
        reply_status(&decide(&mut ex, b"mail=jane%40example.com")),
        Some(449)
    );
    let mut ex = exchange(&p, "POST", "/x", false);
    assert_eq!(decide(&mut ex, b"n=4111+1111+1111+1111"), Step::Continue);
}

#[test]
fn every_request_line_is_scrubbed_even_when_nothing_is_decided_on_the_body() {
    let p = policy(json!({"limits": {"max_body_bytes": 1}}));
    let mut ex = Exchange::new(Some(p.clone()));
    let h = RequestHead {
        content_length: Some(b"5"),
        ..head("POST", "/x?ssn=123-45-6789")
    };
    assert_eq!(
        reply_status(&ex.request_headers(&h, false, &at(NOW))),
        Some(413)
    );
    assert_eq!(lines(&ex)[0]["path"], "/x?ssn=[SSN_REDACTED]");
    assert_eq!(lines(&ex)[0]["detected"], json!(["ssn"]));
    let mut ex = Exchange::new(Some(p));
    ex.request_headers(
        &head("GET", "/.well-known/agent-manifest?e=a%40b.io"),
        true,
        &at(NOW),
    );
    assert_eq!(
        lines(&ex)[0]["path"],
        "/.well-known/agent-manifest?e=[EMAIL_REDACTED]"
    );
}

#[test]
fn redaction_rewrites_forwarded_bodies_and_monitor_only_reports_it() {
    let rules =
        json!({"block_rules": [{"name": "scrub", "condition": "has_email", "action": "redact"}]});
    let p = policy(json!({"policy": rules.clone()}));
    let mut ex = exchange(&p, "POST", "/x", false);
    let step = decide(&mut ex, br#"{"to":"a@b.io","n":1}"#);
    assert_eq!(step, Step::Redact(br#"{"to":"[EMAIL]","n":1}"#.to_vec()));
    let l = lines(&ex);
    assert_eq!(l[1]["type"], "redacted");
    assert_eq!(l[1]["values"], 1);
    assert_eq!(l[1]["body_bytes"], 22);
    let p = policy(json!({"policy": rules, "mode": "monitor"}));
    let mut ex = exchange(&p, "POST", "/x", false);
    assert_eq!(decide(&mut ex, br#"{"to":"a@b.io"}"#), Step::Continue);
    assert_eq!(lines(&ex)[1]["mode"], "monitor");
    // Nothing to replace in the body (the address is in the path): forwarded as it is.
    let p = policy(
        json!({"policy": {"block_rules": [{"name": "scrub", "condition": "has_email", "action": "redact"}]}}),
    );
    let mut ex = exchange(&p, "POST", "/x?to=a@b.io", false);
    assert_eq!(decide(&mut ex, b"{}"), Step::Continue);
}

#[test]
fn tunnels() {
    assert!(is_tunnel(b"GET", true, false));
    assert!(is_tunnel(b"CONNECT", false, false));
    assert!(!is_tunnel(b"POST", true, false));
    assert!(!is_tunnel(b"GET", true, true));
    assert!(!is_tunnel(b"GET", false, false));
}

#[test]
fn size_limits() {
    let p = policy(json!({"limits": {"max_body_bytes": 10}}));
    let declared = |len: &'static [u8]| {
        let mut ex = Exchange::new(Some(p.clone()));
        let h = RequestHead {
            content_length: Some(len),
            ..head("POST", "/x")
        };
        let step = ex.request_headers(&h, false, &at(NOW));
        (ex, step)
    };
    let (_, step) = declared(b"10");
    assert_eq!(step, Step::Pause);
    let (ex, step) = declared(b"11");
    assert_eq!(reply_status(&step), Some(413));
    let l = lines(&ex);
    assert_eq!(l[0]["body_bytes"], 11);
    assert_eq!(l[1]["type"], "error");
    assert!(ex.decided());
    // Found while buffering: answered without reading the body.
    let mut ex = exchange(&p, "POST", "/x", false);
    assert_eq!(ex.request_body(6, false, &at(NOW)), Step::Pause);
    let step = ex.request_body(12, false, &at(NOW));
    assert_eq!(reply_status(&step), Some(413));
    assert_eq!(lines(&ex)[0]["body_bytes"], 12);
    assert!(ex.tally().is_none(), "not an evaluation");
}

#[test]
fn a_body_in_a_coding_the_filter_cannot_read_is_refused() {
    let p = policy(json!({}));
    let sent = |coding: &'static [u8], end_of_stream: bool| {
        let mut ex = Exchange::new(Some(p.clone()));
        let h = RequestHead {
            content_coding: Some(coding),
            ..head("POST", "/x?ssn=536-22-1234")
        };
        let step = ex.request_headers(&h, end_of_stream, &at(NOW));
        (ex, step)
    };
    for (coding, named) in [
        (b"gzip".as_slice(), "gzip"),
        (b"DEFLATE", "deflate"),
        (b"br", "br"),
        (b"4111111111111111", "unrecognised"),
    ] {
        let (ex, step) = sent(coding, false);
        let Step::Reply(reply) = &step else {
            panic!("{step:?}")
        };
        assert_eq!(reply.kind, ReplyKind::UnsupportedEncoding);
        let body: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(body["content_encoding"], named);
        assert_eq!(body["trace_id"], "t1");
        assert!(ex.decided());
        let l = lines(&ex);
        assert_eq!(l[0]["path"], "/x?ssn=[SSN_REDACTED]");
        assert_eq!(l[1]["type"], "error");
        assert_eq!(l[1]["status"], 415);
        assert!(!String::from_utf8_lossy(ex.events()).contains("4111"));
    }
    // No body: nothing to read.
    let (_, step) = sent(b"gzip", true);
    assert_eq!(reply_status(&step), Some(403), "decided on its path");
}

#[test]
fn content_codings_are_read_from_every_header() {
    let raw = crate::header_map::serialize(&[
        (":method", "POST"),
        ("content-encoding", " identity "),
        ("content-encoding", "identity, Gzip"),
    ]);
    let map = HeaderMap::parse(&raw);
    assert_eq!(
        RequestHead::read(&map).content_coding,
        Some(b"Gzip".as_slice())
    );
    let raw = crate::header_map::serialize(&[("content-encoding", "identity,,")]);
    let map = HeaderMap::parse(&raw);
    assert_eq!(RequestHead::read(&map).content_coding, None);
    // gRPC compresses its messages under `grpc-encoding`.
    let raw = crate::header_map::serialize(&[
        ("content-type", "application/grpc+proto"),
        ("grpc-encoding", "gzip"),
    ]);
    let map = HeaderMap::parse(&raw);
    assert_eq!(
        RequestHead::read(&map).content_coding,
        Some(b"gzip".as_slice())
    );
    let raw = crate::header_map::serialize(&[("grpc-encoding", "gzip")]);
    let map = HeaderMap::parse(&raw);
    assert_eq!(RequestHead::read(&map).content_coding, None, "not gRPC");
}

#[test]
fn well_known() {
    let p = policy(json!({"agent_card": {"url": "https://a.example/"}}));
    let ex = exchange(&p, "GET", "/x", false);
    assert_eq!(ex.well_known(), None);
    let mut ex = Exchange::new(Some(p.clone()));
    let step = ex.request_headers(
        &head("GET", "/.well-known/agent-manifest?x"),
        true,
        &at(NOW),
    );
    assert_eq!(ex.well_known(), Some(WellKnown::Manifest));
    assert_eq!(reply_status(&step), Some(200));
    assert!(edits(&mut ex).is_empty(), "nothing goes to the agent");
    let mut ex = Exchange::new(Some(p.clone()));
    let step = ex.request_headers(
        &head("DELETE", "/.well-known/agent-card.json"),
        true,
        &at(NOW),
    );
    assert_eq!(ex.well_known(), Some(WellKnown::Card));
    assert_eq!(reply_status(&step), Some(405));
    // The card's url is the configured one, whatever the request's Host says.
    let mut ex = Exchange::new(Some(p));
    let h = RequestHead {
        authority: Some(b"evil.example"),
        scheme: Some(b"https"),
        ..head("GET", "/.well-known/agent-card.json")
    };
    let Step::Reply(reply) = ex.request_headers(&h, true, &at(NOW)) else {
        panic!("not served")
    };
    let card: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(card["url"], "https://a.example/");
    assert!(!String::from_utf8_lossy(&reply.body).contains("evil"));
}

#[test]
fn a_well_known_endpoint_switched_off_is_an_ordinary_request() {
    for (extra, path) in [
        (json!({}), "/.well-known/agent-card.json"),
        (
            json!({"agent_card": {"url": "https://a.example/"}, "well_known": {"agent_card": false}}),
            "/.well-known/agent-card.json",
        ),
        (
            json!({"well_known": {"agent_manifest": false}}),
            "/.well-known/agent-manifest",
        ),
    ] {
        let p = policy(extra);
        let mut ex = Exchange::new(Some(p));
        let step = ex.request_headers(&head("GET", path), true, &at(NOW));
        assert_eq!(step, Step::Continue, "{path}");
        assert_eq!(ex.phase(), Phase::Forwarded);
    }
}

#[test]
fn a_response_before_a_decision_is_an_error_event() {
    let p = policy(json!({}));
    let mut ex = exchange(&p, "POST", "/x", false);
    respond(&mut ex, 408, NOW);
    let l = lines(&ex);
    assert_eq!(l[0]["type"], "error");
    assert_eq!(l[0]["status"], 408);
    // The end of the stream adds nothing to that.
    ex.finish("", NOW);
    assert_eq!(lines(&ex).len(), 1);
}

#[test]
fn the_end_of_the_stream_records_what_went_wrong_after_the_decision() {
    let p = policy(json!({}));

    // A client gone mid-body: the request as far as it came, then an error.
    let mut ex = exchange(&p, "POST", "/x?ip=10%2E1.2.3", false);
    ex.request_body(10, false, &at(NOW));
    ex.finish("downstream_remote_disconnect", NOW);
    let l = lines(&ex);
    assert_eq!(l[0]["type"], "request");
    assert_eq!(l[0]["body_bytes"], 10);
    assert_eq!(l[0]["path"], "/x?ip=[IP_ADDRESS_REDACTED]");
    assert_eq!(
        l[1]["error"],
        "the stream ended before the request was complete (downstream_remote_disconnect)"
    );
    assert!(l[1].get("status").is_none());
    assert!(ex.tally().is_none(), "not an evaluation");

    // Forwarded, and Envoy answered 503 for the agent: an error naming Envoy's reason.
    let mut ex = exchange(&p, "POST", "/x", false);
    decide(&mut ex, b"{}");
    assert!(ex.tally().is_some());
    respond(&mut ex, 503, NOW);
    ex.finish(
        "upstream_reset_before_response_started{connection_termination}",
        NOW,
    );
    let l = lines(&ex);
    assert_eq!(l[1]["type"], "response");
    assert_eq!(l[2]["type"], "error");
    assert_eq!(l[2]["status"], 503);

    // A reset after the response started: the agent's 200 was cut short.
    let mut ex = exchange(&p, "POST", "/x", false);
    decide(&mut ex, b"{}");
    respond(&mut ex, 200, NOW);
    ex.finish("upstream_reset_after_response_started{protocol_error}", NOW);
    let l = lines(&ex);
    assert_eq!(
        l[2]["error"],
        "the response was cut short: upstream_reset_after_response_started{protocol_error}"
    );
    assert_eq!(l[2]["status"], 200);

    // The agent's own 503 is its answer, not an error of the path to it.
    let mut ex = exchange(&p, "POST", "/x", false);
    decide(&mut ex, b"{}");
    respond(&mut ex, 503, NOW);
    ex.response_body(0, true, &at(NOW));
    assert!(ex.ending_matters(), "a 5xx is looked at");
    ex.finish("via_upstream", NOW);
    assert_eq!(lines(&ex).len(), 2);

    // A WebSocket upgrade is complete at its 101; a gRPC call is always looked at (Envoy
    // answers its failures with 200).
    let mut ex = exchange(&p, "GET", "/ws", false);
    decide(&mut ex, b"");
    respond(&mut ex, 101, NOW);
    assert!(!ex.ending_matters());
    let mut ex = Exchange::new(Some(p.clone()));
    let grpc = RequestHead {
        content_type: Some(b"application/grpc+proto"),
        ..head("POST", "/pkg.Svc/Call")
    };
    ex.request_headers(&grpc, false, &at(NOW));
    decide(&mut ex, b"");
    respond(&mut ex, 200, NOW);
    ex.response_trailers(&at(NOW));
    assert!(ex.ending_matters());
    ex.finish(
        "upstream_reset_before_response_started{connection_failure}",
        NOW,
    );
    assert_eq!(
        lines(&ex).last().unwrap()["error"],
        "Envoy answered 200: upstream_reset_before_response_started{connection_failure}"
    );

    // A complete 200 from the agent: nothing to look at.
    let mut ex = exchange(&p, "POST", "/x", false);
    decide(&mut ex, b"{}");
    respond(&mut ex, 200, NOW);
    ex.response_body(0, true, &at(NOW));
    assert!(!ex.ending_matters());

    // The stream ended while the agent's 200 was being sent, or before any response:
    // errors.
    for (status, error) in [
        (
            Some(200),
            "the stream ended before the response was complete",
        ),
        (None, "the stream ended before the response started"),
    ] {
        let mut ex = exchange(&p, "POST", "/x", false);
        decide(&mut ex, b"{}");
        if let Some(s) = status {
            respond(&mut ex, s, NOW);
        }
        assert!(ex.ending_matters());
        ex.finish("via_upstream", NOW);
        assert_eq!(lines(&ex).last().unwrap()["error"], error);
    }

    // Answered locally: nothing more to say.
    let mut ex = exchange(&p, "POST", "/x", false);
    decide(&mut ex, br#"{"ssn":"123-45-6789"}"#);
    ex.finish("iatp_blocked", NOW);
    let l = lines(&ex);
    assert_eq!(l.len(), 2);
    assert_eq!(l[1]["type"], "blocked");
    let t = ex.tally().unwrap();
    assert_eq!(t.decision, Decision::Block);
    assert_eq!(t.body_bytes, 21);
}

#[test]
fn every_line_has_the_schema_version() {
    let p = policy(json!({}));
    let mut ex = exchange(&p, "POST", "/x", false);
    decide(&mut ex, b"{}");
    respond(&mut ex, 200, NOW);
    for l in lines(&ex) {
        assert_eq!(l["v"], 1);
        assert_eq!(l["agent_id"], "a");
        assert_eq!(l["trace_id"], "t1");
        assert_eq!(l["timestamp"], "2026-01-23T12:34:56.789Z");
    }
}

// What the glue carries out, phase by phase (the host tests check the same in Envoy).

#[test]
fn request_headers_say_the_trace_id_and_score_and_drop_a_forged_quarantine() {
    let p = policy(json!({}));
    let mut ex = Exchange::new(Some(p.clone()));
    let h = RequestHead {
        quarantined: true,
        ..head("POST", "/x")
    };
    assert_eq!(ex.request_headers(&h, false, &at(NOW)), Step::Pause);
    assert_eq!(ex.phase(), Phase::RequestBody);
    assert_eq!(
        edits(&mut ex),
        vec![
            set(Headers::Request, header::TRACE_ID, "t1"),
            set(Headers::Request, header::TRUST_SCORE, "6"),
            (Headers::Request, header::QUARANTINED.to_string(), None),
        ]
    );
    assert!(edits(&mut ex).is_empty(), "applied once");
    // Without hold_headers the headers go on at once; the body is still held.
    let p = policy(json!({"hold_headers": false}));
    let mut ex = Exchange::new(Some(p));
    assert_eq!(
        ex.request_headers(&head("POST", "/x"), false, &at(NOW)),
        Step::Continue
    );
    assert_eq!(ex.request_body(3, false, &at(NOW)), Step::Pause);
}

#[test]
fn requests_without_a_body_are_decided_on_their_headers() {
    let p = policy(json!({}));
    let mut ex = Exchange::new(Some(p.clone()));
    assert_eq!(
        ex.request_headers(&head("GET", "/x"), true, &at(NOW)),
        Step::Continue
    );
    assert_eq!(ex.phase(), Phase::Forwarded);
    assert!(ex.tally().is_some());
    // A WebSocket upgrade never ends its request stream.
    let mut ex = Exchange::new(Some(p.clone()));
    let ws = RequestHead {
        upgrade: true,
        ..head("GET", "/ws?ssn=123-45-6789")
    };
    assert_eq!(
        reply_status(&ex.request_headers(&ws, false, &at(NOW))),
        Some(403)
    );
    // A body that follows the decision is not looked at again.
    let mut ex = Exchange::new(Some(p));
    ex.request_headers(&head("GET", "/x"), true, &at(NOW));
    assert_eq!(ex.request_body(5, true, &at(NOW)), Step::Continue);
    assert_eq!(lines(&ex).len(), 1);
}

#[test]
fn an_overridden_request_is_marked_quarantined_where_headers_can_still_change() {
    let p = legacy();
    let mut ex = exchange(&p, "POST", "/x", true);
    edits(&mut ex);
    assert_eq!(decide(&mut ex, b"a@b.io"), Step::Continue);
    assert_eq!(
        edits(&mut ex),
        vec![set(Headers::Request, header::QUARANTINED, "true")]
    );
    respond(&mut ex, 200, NOW);
    assert_eq!(
        edits(&mut ex),
        vec![
            set(Headers::Response, header::TRACE_ID, "t1"),
            set(Headers::Response, header::TRUST_SCORE, "6"),
            set(Headers::Response, header::QUARANTINED, "true"),
        ]
    );
    // Headers already sent on (hold_headers: false): only the response says it.
    let p = policy(
        json!({"hold_headers": false, "policy": {"legacy_override": true,
        "block_rules": [{"name": "mail", "condition": "has_email", "action": "warn"}]}}),
    );
    let mut ex = exchange(&p, "POST", "/x", true);
    edits(&mut ex);
    decide(&mut ex, b"a@b.io");
    assert!(edits(&mut ex).is_empty());
}

#[test]
fn monitor_mode_says_what_enforcement_would_have_done() {
    let p = policy(json!({"mode": "monitor"}));
    let mut ex = exchange(&p, "POST", "/x", false);
    decide(&mut ex, b"a@b.io");
    edits(&mut ex);
    respond(&mut ex, 200, NOW);
    assert_eq!(
        edits(&mut ex).last(),
        Some(&set(Headers::Response, header::POLICY, "warn"))
    );
}

#[test]
fn a_redacted_body_updates_its_length_and_a_refused_one_is_answered_500() {
    let p = policy(
        json!({"policy": {"block_rules": [{"name": "scrub", "condition": "has_email", "action": "redact"}]}}),
    );
    let mut ex = Exchange::new(Some(p.clone()));
    let h = RequestHead {
        content_length: Some(b"15"),
        ..head("POST", "/x")
    };
    ex.request_headers(&h, false, &at(NOW));
    edits(&mut ex);
    let step = decide(&mut ex, br#"{"to":"a@b.io"}"#);
    assert_eq!(step, Step::Redact(br#"{"to":"[EMAIL]"}"#.to_vec()));
    assert_eq!(
        edits(&mut ex),
        vec![set(Headers::Request, "content-length", "16")]
    );
    // Envoy refused the new body.
    let mut ex = exchange(&p, "POST", "/x", false);
    decide(&mut ex, br#"{"to":"a@b.io"}"#);
    let step = ex.redaction_failed(&at(NOW));
    assert_eq!(reply_status(&step), Some(500));
    assert!(edits(&mut ex).is_empty());
    assert_eq!(ex.phase(), Phase::Replied);
    let l = lines(&ex);
    assert_eq!(
        l.last().unwrap()["error"],
        "the request body could not be redacted"
    );
    assert_eq!(l.last().unwrap()["status"], 500);
}

#[test]
fn a_local_reply_passes_the_response_phases_untouched() {
    let p = policy(json!({}));
    let mut ex = exchange(&p, "POST", "/x", false);
    decide(&mut ex, b"123-45-6789");
    edits(&mut ex);
    let n = lines(&ex).len();
    assert_eq!(respond(&mut ex, 403, NOW), Step::Continue);
    assert!(edits(&mut ex).is_empty());
    assert_eq!(lines(&ex).len(), n);
    let headers = ex.reply_headers();
    assert!(headers.contains(&("cache-control", "no-store")));
    assert!(headers.contains(&(header::TRACE_ID, "t1")));
}

#[test]
fn without_a_configuration_every_request_is_answered_503() {
    let mut ex = Exchange::new(None);
    let step = ex.request_headers(&head("POST", "/x"), false, &at(NOW));
    match step {
        Step::Reply(r) => {
            assert_eq!(r.kind, ReplyKind::Unconfigured);
            assert_eq!(r.kind.status(), 503);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ex.reply_headers(),
        vec![
            ("content-type", "application/json"),
            (header::TRACE_ID, "t1")
        ]
    );
    assert_eq!(ex.request_body(3, true, &at(NOW)), Step::Continue);
    ex.log(&at(NOW));
    assert!(ex.events().is_empty());
}

#[test]
fn the_log_phase_asks_how_the_stream_ended_only_when_it_can_matter() {
    struct Strict(Fake);
    impl Host for Strict {
        fn now_nanos(&self) -> u64 {
            self.0.now
        }
        fn request_body(&self, n: usize) -> Vec<u8> {
            self.0.request_body(n)
        }
        fn response_status(&self) -> Option<u16> {
            self.0.status
        }
        fn response_code_details(&self) -> Vec<u8> {
            panic!("read though nothing could be recorded")
        }
        fn request_trailers(&self) -> Vec<u8> {
            self.0.request_trailers()
        }
        fn claim_once(&self, key: &str, update: SlotUpdate) -> bool {
            self.0.claim_once(key, update)
        }
    }
    let p = policy(json!({}));
    let mut ex = exchange(&p, "POST", "/x", false);
    decide(&mut ex, b"{}");
    respond(&mut ex, 200, NOW);
    ex.response_body(0, true, &at(NOW));
    ex.log(&Strict(at(NOW)));
    assert_eq!(lines(&ex).len(), 2);
    // Reset: the details are read and recorded.
    let mut ex = exchange(&p, "POST", "/x", false);
    decide(&mut ex, b"{}");
    respond(&mut ex, 503, NOW);
    ex.log(&Fake {
        details: "upstream_reset_before_response_started{overflow}",
        ..at(NOW)
    });
    assert_eq!(
        lines(&ex).last().unwrap()["error"],
        "Envoy answered 503: upstream_reset_before_response_started{overflow}"
    );
}

#[test]
fn the_rules_see_every_per_request_variable() {
    let p = policy(json!({}));
    let ex = exchange(&p, "POST", "/x?q=1", false);
    let lookup = super::caller::RequestLookup {
        lookups: &ex.lookups,
        arguments: None,
    };
    let facts = ex.facts(&crate::detect::Findings::default(), &lookup);
    assert_eq!(facts.missing(), vec![]);
    assert_eq!(
        facts.get(crate::rules::Var::Path),
        crate::rules::Value::Str("/x")
    );
}

/// A Slack-like prefix must not carry a card past the filter: the card is found whole,
/// blocked or redacted, and no digit of it reaches the event line.
#[test]
fn a_token_prefix_does_not_hide_the_value_after_it() {
    let p = policy(json!({"policy": {"block_rules": [
        {"name": "scrub", "condition": "has_credit_card || has_slack_token", "action": "redact"}]}}));
    let mut ex = exchange(&p, "POST", "/x", false);
    let step = decide(
        &mut ex,
        br#"{"note":"xoxb--1234567890ab--4111 1111 1111 1111"}"#,
    );
    let Step::Redact(body) = step else {
        panic!("{step:?}")
    };
    let body = String::from_utf8(body).unwrap();
    assert!(body.ends_with(r#"--[CREDIT_CARD]"}"#), "{body}");
    let events = String::from_utf8_lossy(ex.events()).to_string();
    assert!(!events.contains("1111"), "{events}");
    let p = policy(json!({}));
    let mut ex = exchange(&p, "POST", "/x", false);
    assert_eq!(
        reply_status(&decide(&mut ex, br#"{"note":"xoxb--123-45-6789"}"#)),
        Some(403)
    );
}

/// Issue 11, item 2: Slack's `xoxc-`/`xapp-` tokens, PGP key blocks and LLM provider keys were
/// missed and written verbatim into the event line; they are redacted now, and no piece of
/// them reaches the events.
#[test]
fn secrets_of_agent_traffic_never_reach_the_event_line() {
    let pgp = r"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGVkZ2wBCADHv3q0uP9iJk1\n=Zx4c\n-----END PGP PRIVATE KEY BLOCK-----";
    for (v, piece) in [
        ("xoxc-17653672481-198746983231-5093847261530-8d6e7916ae6315168d0225072322208bb5ec1d5f6ea2b5991661a7e38d6315f3", "8d6e7916ae63"),
        ("xapp-1-A04R7N3TZ9K-5092714368251-5645d282760ee88e4ebf73422574d909c5b1268b44fbe5ab768873f4f88e5690", "5645d282760e"),
        (pgp, "lQOYBGVkZ2wB"),
        ("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", "T3BlbkFJPMPS"),
        ("sk-ant-api03-h1d0szAOZAnV4ah17kZCNnJEH1mvlYMyzWh6qQQ5x1Wugaj7wX98VJe6BOq_JqAjBo0hVRGyEGrdlU4H1dYO-VijuJZWtAA", "h1d0szAOZAnV"),
    ] {
        let p = policy(json!({"policy": {"block_rules": [
            {"name": "scrub", "condition": "detected_count > 0", "action": "redact"}]}}));
        let mut ex = exchange(&p, "POST", "/x", false);
        let body = format!(r#"{{"note":"{v}"}}"#);
        let step = decide(&mut ex, body.as_bytes());
        let Step::Redact(redacted) = step else {
            panic!("{v}: {step:?}")
        };
        assert!(!String::from_utf8_lossy(&redacted).contains(piece), "{v}");
        let events = String::from_utf8_lossy(ex.events()).to_string();
        assert!(!events.contains(piece), "{events}");
    }
}

#[test]
fn the_reply_of_any_iatp_filter_is_not_an_error() {
    let p = policy(json!({}));
    let mut ex = exchange(&p, "HEAD", "/x", false);
    decide(&mut ex, b"");
    respond(&mut ex, 403, NOW);
    ex.response_body(0, true, &at(NOW));
    ex.finish("iatp_from_another_version", NOW);
    assert_eq!(lines(&ex).len(), 2, "request and response only");
}

fn with_headers<'a>(h: RequestHead<'a>, headers: &'a [(&'a [u8], &'a [u8])]) -> RequestHead<'a> {
    RequestHead { headers, ..h }
}

#[test]
fn what_the_headers_decide_is_decided_before_anything_is_forwarded() {
    // The Istio path: headers are not held, yet a value in the query never reaches the agent.
    let p = policy(json!({"hold_headers": false}));
    let (ex, step) = headers_step(&p, "POST", "/pay?ssn=536-22-1234");
    assert_eq!(reply_status(&step), Some(403));
    assert!(ex.decided());
    let l = lines(&ex);
    assert_eq!(l[0]["path"], "/pay?ssn=[SSN_REDACTED]");
    assert_eq!(l[0]["body_bytes"], 0);
    assert_eq!(l[1]["type"], "blocked");
    // A warning nothing in the body can change: 449 at once.
    let (_, step) = headers_step(&p, "POST", "/m?to=ann@example.com");
    assert_eq!(reply_status(&step), Some(449));
    // Clean headers: the body decides.
    let (_, step) = headers_step(&p, "POST", "/pay");
    assert_eq!(step, Step::Continue);
    // Held headers: the same.
    let p = policy(json!({}));
    let (_, step) = headers_step(&p, "POST", "/pay?ssn=536-22-1234");
    assert_eq!(reply_status(&step), Some(403));
}

#[test]
fn the_headers_decide_only_what_the_body_cannot_change() {
    let p = policy(json!({"policy": {"block_rules": [
        {"name": "ssn_alone", "condition": "has_ssn && !has_email", "action": "block"},
        {"name": "many", "condition": "detected_count >= 2", "action": "block"},
        {"name": "mail", "condition": "has_email", "action": "warn", "message": "mail"}]}}));
    // `!has_email` is unknown until the body is scanned.
    let (mut ex, step) = headers_step(&p, "POST", "/x?ssn=536-22-1234");
    assert_eq!(step, Step::Pause);
    assert_eq!(
        reply_status(&decide(&mut ex, br#"{"e":"ann@example.com"}"#)),
        Some(403)
    );
    assert_eq!(lines(&ex)[1]["reason"], "many");
    // Two values already: `detected_count >= 2` holds whatever comes.
    let (ex, step) = headers_step(&p, "POST", "/x?ssn=536-22-1234&e=ann@example.com");
    assert_eq!(reply_status(&step), Some(403));
    assert_eq!(lines(&ex)[1]["reason"], "many");
    // Monitor mode decides once, on the whole request.
    let p = policy(json!({"mode": "monitor"}));
    let (mut ex, step) = headers_step(&p, "POST", "/x?ssn=536-22-1234");
    assert_eq!(step, Step::Pause);
    assert_eq!(decide(&mut ex, b"{}"), Step::Continue);
    assert_eq!(ex.policy_header(), Some(PolicyResult::Block));
}

#[test]
fn headers_count_like_the_body_and_events_name_them_never_their_values() {
    let p = policy(json!({}));
    let pairs: [(&[u8], &[u8]); 3] = [
        (b"cookie", b"session=1; ssn=536-22-1234"),
        (b"authorization", b"Bearer 123-45-6789"),
        (b"x-note", b"nothing here"),
    ];
    let mut ex = Exchange::new(Some(p.clone()));
    let step = ex.request_headers(&with_headers(head("POST", "/x"), &pairs), false, &at(NOW));
    assert_eq!(reply_status(&step), Some(403));
    let l = lines(&ex);
    assert_eq!(l[0]["detected"], json!(["ssn"]));
    assert_eq!(
        l[0]["headers"],
        json!([{"name": "cookie", "detected": ["ssn"]}])
    );
    let text = String::from_utf8_lossy(ex.events()).to_string();
    assert!(
        !text.contains("536-22") && !text.contains("123-45"),
        "{text}"
    );
    // The operator's list replaces the default: authorization is scanned now.
    let p = policy(json!({"detectors": {"skip_headers": ["Cookie"]}}));
    let mut ex = Exchange::new(Some(p));
    let step = ex.request_headers(&with_headers(head("POST", "/x"), &pairs), false, &at(NOW));
    assert_eq!(reply_status(&step), Some(403));
    assert_eq!(
        lines(&ex)[0]["headers"],
        json!([{"name": "authorization", "detected": ["ssn"]}])
    );
}

#[test]
fn trailers_are_fields_too() {
    let p = policy(json!({}));
    let mut ex = exchange(&p, "POST", "/x", false);
    let host = Fake {
        now: NOW,
        body: b"{}".to_vec(),
        trailers: vec![("x-checksum", "536-22-1234")],
        ..Fake::default()
    };
    assert_eq!(ex.request_body(2, false, &host), Step::Pause);
    assert_eq!(reply_status(&ex.request_trailers(&host)), Some(403));
    let l = lines(&ex);
    assert_eq!(
        l[0]["trailers"],
        json!([{"name": "x-checksum", "detected": ["ssn"]}])
    );
}

#[test]
fn a_method_is_scanned_like_any_field() {
    // Envoy takes any token as a method over HTTP/2.
    let p = policy(json!({}));
    let (ex, step) = headers_step(&p, "536-22-1234", "/x");
    assert_eq!(reply_status(&step), Some(403));
    let l = lines(&ex);
    assert_eq!(l[0]["method"], "[SSN_REDACTED]");
    assert_eq!(l[0]["detected"], json!(["ssn"]));
}

#[test]
fn a_trace_id_holding_a_value_is_replaced_and_its_traceparent_not_forwarded() {
    let p = policy(json!({"policy": {"block_rules": []}}));
    let tp: &[u8] = b"00-4111111111111111abcdefabcdefabcd-00f067aa0ba902b7-01";
    for h in [
        RequestHead {
            trace_id: None,
            traceparent: Some(tp),
            ..head("POST", "/x")
        },
        RequestHead {
            trace_id: Some(b"4111111111111111abc"),
            ..head("POST", "/x")
        },
    ] {
        let mut ex = Exchange::new(Some(p.clone()));
        ex.request_headers(&h, false, &at(NOW));
        assert!(!ex.trace_id().contains("4111"), "{}", ex.trace_id());
        assert_eq!(ex.trace_id().len(), 36, "a new UUIDv4");
        let e = edits(&mut ex);
        let removed = e
            .iter()
            .any(|(_, name, value)| name == "traceparent" && value.is_none());
        assert_eq!(removed, h.traceparent.is_some(), "{e:?}");
    }
    // A clean traceparent is used and left alone.
    let mut ex = Exchange::new(Some(p));
    let h = RequestHead {
        trace_id: None,
        traceparent: Some(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ..head("POST", "/x")
    };
    ex.request_headers(&h, false, &at(NOW));
    assert_eq!(ex.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
}

const KEY: &str = "an override key of at least 32 bytes!";

fn keyed(extra: Value) -> Rc<Policy> {
    let mut pol = json!({"override_key": KEY, "block_rules": [
        {"name": "no_ssn", "condition": "has_ssn", "action": "block"},
        {"name": "mail", "condition": "has_email", "action": "warn", "message": "mail"},
        {"name": "phone", "condition": "has_phone", "action": "warn", "message": "phone"}]});
    if let (Some(p), Some(e)) = (pol.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            p.insert(k.clone(), v.clone());
        }
    }
    policy(json!({ "policy": pol }))
}

/// A request (trace id `trace`, override header `over`) through headers and body, at `now`.
fn send(
    p: &Rc<Policy>,
    host: &Fake,
    trace: &'static str,
    path: &'static str,
    over: &[&'static [u8]],
    body: &[u8],
) -> (Exchange, Step) {
    let mut ex = Exchange::new(Some(p.clone()));
    let h = RequestHead {
        trace_id: Some(trace.as_bytes()),
        user_override: over.first().copied(),
        user_override_count: over.len(),
        ..head("POST", path)
    };
    let step = ex.request_headers(&h, false, host);
    if step != Step::Pause {
        return (ex, step);
    }
    let host_with_body = Fake {
        now: host.now,
        body: body.to_vec(),
        shared: std::cell::RefCell::new(host.shared.borrow().clone()),
        ..Fake::default()
    };
    let step = ex.request_body(body.len(), true, &host_with_body);
    *host.shared.borrow_mut() = host_with_body.shared.into_inner();
    (ex, step)
}

fn token(step: &Step) -> String {
    let Step::Reply(r) = step else {
        panic!("not a reply: {step:?}")
    };
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    v["override_token"].as_str().unwrap_or_default().to_string()
}

#[test]
fn an_override_needs_the_token_of_its_449_once() {
    let p = keyed(json!({}));
    let host = at(NOW);
    let body = br#"{"to":"ann@example.com"}"#;
    let (_, first) = send(&p, &host, "t-1", "/m", &[], body);
    assert_eq!(reply_status(&first), Some(449));
    let tok = token(&first);
    assert!(tok.starts_with("iatp1.") && tok.contains(".b."), "{tok}");
    // `true`, another trace id, another body, a forged or doubled header: no override.
    for (trace, over, b) in [
        ("t-1", vec![b"true".as_slice()], body.as_slice()),
        ("t-2", vec![tok.as_bytes()], body.as_slice()),
        ("t-1", vec![tok.as_bytes()], br#"{"to":"bob@example.com"}"#.as_slice()),
        ("t-1", vec![tok.as_bytes(), b"true"], body.as_slice()),
        ("t-1", vec![b"iatp1.0000000000000000.1.b.00000000000000000000000000000000.00000000000000000000000000000000"], body.as_slice()),
    ] {
        let over: Vec<&'static [u8]> = over
            .into_iter()
            .map(|o| &*Box::leak(o.to_vec().into_boxed_slice()))
            .collect();
        let (_, step) = send(&p, &host, trace, "/m", &over, b);
        assert_eq!(reply_status(&step), Some(449), "{trace} {over:?}");
    }
    let leaked: &'static [u8] = Box::leak(tok.clone().into_bytes().into_boxed_slice());
    // Expired.
    let late = at(NOW + 301 * 1_000_000_000);
    let (_, step) = send(&p, &late, "t-1", "/m", &[leaked], body);
    assert_eq!(reply_status(&step), Some(449));
    // The token, on the same request: overridden, once.
    let (ex, step) = send(&p, &host, "t-1", "/m", &[leaked], body);
    assert_eq!(step, Step::Continue);
    assert!(ex.quarantined());
    let l = lines(&ex);
    assert_eq!(l[1]["type"], "override");
    let id = tok.split('.').nth(1).unwrap();
    assert_eq!(l[1]["token_id"], id);
    assert!(!String::from_utf8_lossy(ex.events()).contains(&tok));
    let (_, step) = send(&p, &host, "t-1", "/m", &[leaked], body);
    assert_eq!(reply_status(&step), Some(449), "single use");
}

#[test]
fn a_token_issued_on_the_headers_lets_the_body_decide_the_rest() {
    let p = keyed(json!({}));
    let host = at(NOW);
    let (ex, first) = send(&p, &host, "t-h", "/m?to=ann@example.com", &[], b"");
    assert_eq!(reply_status(&first), Some(449));
    assert_eq!(lines(&ex)[0]["body_bytes"], 0);
    let tok = token(&first);
    assert!(tok.contains(".h."), "{tok}");
    let leaked: &'static [u8] = Box::leak(tok.into_bytes().into_boxed_slice());
    // Granted on the headers; the body still decides: an SSN blocks.
    let (_, step) = send(
        &p,
        &host,
        "t-h",
        "/m?to=ann@example.com",
        &[leaked],
        b"123-45-6789",
    );
    assert_eq!(reply_status(&step), Some(403));
    // The grant was used up by that request.
    let (_, step) = send(&p, &host, "t-h", "/m?to=ann@example.com", &[leaked], b"{}");
    assert_eq!(reply_status(&step), Some(449));
}

#[test]
fn a_warning_the_token_did_not_cover_asks_again() {
    let p = keyed(json!({}));
    let host = at(NOW);
    let (_, first) = send(&p, &host, "t-w", "/m?to=ann@example.com", &[], b"");
    let leaked: &'static [u8] = Box::leak(token(&first).into_bytes().into_boxed_slice());
    // The body adds a phone number: a new warning, a new confirmation.
    let (ex, step) = send(
        &p,
        &host,
        "t-w",
        "/m?to=ann@example.com",
        &[leaked],
        b"call +1 415 555 2671",
    );
    assert_eq!(reply_status(&step), Some(449));
    assert_eq!(lines(&ex)[1]["warnings"], json!(["mail", "phone"]));
    assert!(token(&step).contains(".b."));
}

#[test]
fn without_a_key_overrides_are_off() {
    let p = policy(json!({}));
    let host = at(NOW);
    let (_, step) = send(
        &p,
        &host,
        "t-o",
        "/m",
        &[b"true"],
        br#"{"to":"ann@example.com"}"#,
    );
    let Step::Reply(r) = &step else { panic!() };
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["override_allowed"], false);
    assert!(v.get("override_token").is_none());
    // The legacy form works only when asked for, and never doubled.
    let p = legacy();
    let (_, step) = send(
        &p,
        &host,
        "t-o",
        "/m",
        &[b"true", b"false"],
        br#"{"to":"ann@example.com"}"#,
    );
    assert_eq!(reply_status(&step), Some(449));
    let (_, step) = send(
        &p,
        &host,
        "t-o",
        "/m",
        &[b"TRUE"],
        br#"{"to":"ann@example.com"}"#,
    );
    assert_eq!(step, Step::Continue);
}

#[test]
fn a_redact_rule_rewrites_every_field_that_held_a_value() {
    let p = policy(json!({"policy": {"block_rules": [
        {"name": "scrub", "condition": "has_credit_card || has_email", "action": "redact"}]}}));
    let pairs: [(&[u8], &[u8]); 3] = [
        (b"x-card", b"card 4111 1111 1111 1111 ok"),
        (b"x-ann@example.com", b"1"),
        (b"x-clean", b"nothing"),
    ];
    let mut ex = Exchange::new(Some(p));
    let h = with_headers(head("POST", "/pay?to=ann%40example.com&n=1"), &pairs);
    assert_eq!(ex.request_headers(&h, false, &at(NOW)), Step::Pause);
    edits(&mut ex);
    let step = decide(&mut ex, br#"{"card":"4111111111111111"}"#);
    assert_eq!(step, Step::Redact(br#"{"card":"[CREDIT_CARD]"}"#.to_vec()));
    let e = edits(&mut ex);
    assert!(
        e.contains(&set(Headers::Request, ":path", "/pay?to=%5BEMAIL%5D&n=1")),
        "{e:?}"
    );
    assert!(
        e.contains(&set(Headers::Request, "x-card", "card [CREDIT_CARD] ok")),
        "{e:?}"
    );
    assert!(
        e.contains(&(Headers::Request, "x-ann@example.com".into(), None)),
        "{e:?}"
    );
    assert!(!e.iter().any(|(_, n, _)| n == "x-clean"), "{e:?}");
    let l = lines(&ex);
    assert_eq!(l[1]["type"], "redacted");
    assert_eq!(l[1]["values"], 4);
    assert_eq!(l[1]["detected"], json!(["credit_card", "email"]));
    let text = String::from_utf8_lossy(ex.events()).to_string();
    assert!(!text.contains("4111") && !text.contains("ann@"), "{text}");
}

fn utf16le(s: &str, bom: bool) -> Vec<u8> {
    let mut out: Vec<u8> = if bom { vec![0xFF, 0xFE] } else { vec![] };
    out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

/// Issue 10, class 4: a UTF-16 body (byte order mark, declared charset, or neither) is scanned
/// as text; its event payload is UTF-8 without the value, and a redacted one stays UTF-16.
#[test]
fn utf16_bodies_are_scanned_redacted_in_their_encoding_and_logged_as_text() {
    let p = policy(json!({}));
    for bom in [true, false] {
        let mut ex = exchange(&p, "POST", "/x", false);
        let body = utf16le(r#"{"ssn":"123-45-6789"}"#, bom);
        assert_eq!(
            reply_status(&decide(&mut ex, &body)),
            Some(403),
            "bom {bom}"
        );
        assert_eq!(lines(&ex)[0]["payload"], r#"{"ssn":"[SSN_REDACTED]"}"#);
        assert_eq!(lines(&ex)[0]["body_bytes"], body.len());
    }
    // Declared, and starting with a character that has no NUL byte.
    let mut ex = Exchange::new(Some(p.clone()));
    let h = RequestHead {
        content_type: Some(b"text/plain; charset=utf-16le"),
        ..head("POST", "/x")
    };
    ex.request_headers(&h, false, &at(NOW));
    let body = utf16le("\u{20ac}5 for 123-45-6789", false);
    assert_eq!(reply_status(&decide(&mut ex, &body)), Some(403));

    let p = policy(json!({"policy": {"block_rules": [
        {"name": "scrub", "condition": "has_credit_card || has_email", "action": "redact"}]}}));
    let mut ex = exchange(&p, "POST", "/x", false);
    let body = utf16le(
        r#"{"n":4111111111111111,"to":"ann@example.com","x":"é"}"#,
        true,
    );
    let Step::Redact(out) = decide(&mut ex, &body) else {
        panic!("not redacted")
    };
    assert_eq!(
        out,
        utf16le(r#"{"n":"[CREDIT_CARD]","to":"[EMAIL]","x":"é"}"#, true)
    );
    let events = String::from_utf8_lossy(ex.events()).to_string();
    assert!(
        !events.contains("1111") && !events.contains("ann@"),
        "{events}"
    );
}

/// Issue 10, classes 2 to 4: the values the scanner now sees through are blocked, and no
/// original byte of them reaches the event line.
#[test]
fn folded_and_encoded_values_are_blocked_and_scrubbed() {
    let p = policy(json!({}));
    for (body, leak) in [
        ("{\"ssn\":\"123\u{a0}45\u{a0}6789\"}", "6789"),
        ("{\"ssn\":\"123\u{200b}-45-6789\"}", "6789"),
        (r#"{"ssn":"123\u200b-45-6789"}"#, "6789"),
        ("{\"ssn\":\"\u{ff11}\u{ff12}\u{ff13}-45-6789\"}", "6789"),
        (r#"{"ssn":"123\t45\t6789"}"#, "6789"),
        (r#"{"ssn":"MTIzLTQ1LTY3ODk="}"#, "MTIzLTQ1LTY3ODk"),
        (
            r#"{"ssn":"3132332d34352d36373839"}"#,
            "3132332d34352d36373839",
        ),
        (r#"{"ssn":"123%2D45%2D6789"}"#, "6789"),
    ] {
        let mut ex = exchange(&p, "POST", "/x", false);
        assert_eq!(
            reply_status(&decide(&mut ex, body.as_bytes())),
            Some(403),
            "{body}"
        );
        let events = String::from_utf8_lossy(ex.events()).to_string();
        assert!(!events.contains(leak), "{body}: {events}");
        assert!(events.contains("[SSN_REDACTED]"), "{events}");
    }
    // Twice percent-encoded in the path: a warning the headers make certain.
    let (ex, step) = headers_step(&p, "GET", "/q?to=ann%2540example.com");
    assert_eq!(reply_status(&step), Some(449));
    assert_eq!(lines(&ex)[0]["path"], "/q?to=[EMAIL_REDACTED]");
}

#[test]
fn a_token_binds_the_headers_that_were_warned_about() {
    let p = keyed(json!({}));
    let host = at(NOW);
    let ask = |value: &'static [u8], over: Option<&'static [u8]>| {
        let pairs: Vec<(&[u8], &[u8])> = vec![(b"x-contact", value)];
        let pairs: &'static [(&'static [u8], &'static [u8])] = Box::leak(pairs.into_boxed_slice());
        let mut ex = Exchange::new(Some(p.clone()));
        let h = RequestHead {
            trace_id: Some(b"t-b"),
            user_override: over,
            user_override_count: usize::from(over.is_some()),
            ..with_headers(head("POST", "/h"), pairs)
        };
        ex.request_headers(&h, false, &host)
    };
    let first = ask(b"bob@example.org", None);
    assert_eq!(reply_status(&first), Some(449));
    let tok: &'static [u8] = Box::leak(token(&first).into_bytes().into_boxed_slice());
    // Another address in the same header: not what was confirmed.
    assert_eq!(
        reply_status(&ask(b"someone.else@example.com", Some(tok))),
        Some(449)
    );
    // The same: granted on the headers, the body decides the rest.
    assert_eq!(ask(b"bob@example.org", Some(tok)), Step::Pause);
}

#[test]
fn a_utf8_byte_order_mark_does_not_hide_json() {
    let p = policy(json!({"policy": {"block_rules": [
        {"name": "c", "condition": "has_credit_card", "action": "block"}]}}));
    let mut ex = exchange(&p, "POST", "/x", false);
    let body = b"\xEF\xBB\xBF{\"a\":4111111111111111.0}";
    assert_eq!(reply_status(&decide(&mut ex, body)), Some(403));
}

#[test]
fn a_body_labelled_utf16_is_read_as_bytes_too() {
    // A label is only a label: JSON parsers sniff UTF-8 whatever the content type says.
    let p = policy(json!({}));
    let mut ex = Exchange::new(Some(p));
    let h = RequestHead {
        content_type: Some(b"application/json; charset=utf-16"),
        ..head("POST", "/x")
    };
    ex.request_headers(&h, false, &at(NOW));
    let body = br#"{"ssn":"123-45-6789"}"#;
    assert_eq!(reply_status(&decide(&mut ex, body)), Some(403));
    assert!(!String::from_utf8_lossy(ex.events()).contains("6789"));
    // Its text (the bytes read two by two) would show the digits as other characters.
    assert!(lines(&ex)[0].get("payload").is_none(), "{}", lines(&ex)[0]);
}

#[test]
fn a_body_that_reads_two_ways_is_refused_rather_than_redacted_in_one() {
    // Redacting the UTF-16 reading (nothing there) would forward the bytes, which an agent
    // reads as UTF-8: the redact rule refuses instead. Monitor mode reports it.
    let rules = json!({"block_rules": [
        {"name": "scrub", "condition": "has_credit_card", "action": "redact"}]});
    for mode in ["enforce", "monitor"] {
        let p = policy(json!({"mode": mode, "policy": rules.clone()}));
        let mut ex = Exchange::new(Some(p));
        let h = RequestHead {
            content_type: Some(b"application/json; charset=utf-16"),
            ..head("POST", "/x")
        };
        ex.request_headers(&h, false, &at(NOW));
        let step = decide(&mut ex, br#"{"card":"4111111111111111","n":"xy"}"#);
        let l = lines(&ex);
        assert!(l[0].get("payload").is_none(), "{}", l[0]);
        assert_eq!(l[0]["detected"], json!(["credit_card"]));
        assert_eq!(l[1]["type"], "blocked");
        assert_eq!(l[1]["reason"], "scrub");
        if mode == "enforce" {
            let Step::Reply(reply) = &step else {
                panic!("{step:?}")
            };
            assert_eq!(reply.kind.status(), 403);
            let answer: Value = serde_json::from_slice(&reply.body).unwrap();
            assert_eq!(answer["error"], crate::replies::UNREDACTABLE_MESSAGE);
            assert_eq!(answer["rule"], "scrub");
        } else {
            assert_eq!(step, Step::Continue);
            assert_eq!(l[1]["mode"], "monitor");
        }
    }
    // A true UTF-16 body is redacted in its encoding, as before.
    let p = policy(json!({"policy": rules}));
    let mut ex = Exchange::new(Some(p));
    let h = RequestHead {
        content_type: Some(b"application/json; charset=utf-16le"),
        ..head("POST", "/x")
    };
    ex.request_headers(&h, false, &at(NOW));
    let text = r#"{"card":"4111111111111111"}"#;
    let body: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let Step::Redact(out) = decide(&mut ex, &body) else {
        panic!("not redacted")
    };
    let want: Vec<u8> =
        r#"{"card":"[CREDIT_CARD]"}"#.encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert_eq!(out, want);
}

/// Escapes whose decoded views would need more than the scan's memory budget
/// (`detect::decode::view_budget`): units that never form a run, just past a power of two.
fn too_complex() -> String {
    r"\u0041\\".repeat((1 << 17) + 100)
}

#[test]
fn a_request_too_complex_to_scan_is_refused_in_either_mode() {
    for mode in ["enforce", "monitor"] {
        let p = policy(json!({"mode": mode}));
        // The body: 413, nothing forwarded, no payload in the event.
        let mut ex = exchange(&p, "POST", "/x", false);
        let body = format!(r#"{{"t":"4111 1111 1111 1111 {}"}}"#, too_complex());
        let step = decide(&mut ex, body.as_bytes());
        let Step::Reply(reply) = &step else {
            panic!("{step:?}")
        };
        assert_eq!(reply.kind, ReplyKind::TooComplex);
        assert_eq!(reply.kind.status(), 413);
        let answer: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(answer["error"], "request too complex to scan");
        assert_eq!(answer["part"], "body");
        assert_eq!(answer["trace_id"], "t1");
        let l = lines(&ex);
        assert_eq!(l[0]["type"], "request");
        assert!(l[0].get("payload").is_none(), "{}", l[0]);
        assert_eq!(l[0]["body_bytes"], body.len());
        assert_eq!(l[1]["type"], "error");
        assert_eq!(l[1]["error"], "request too complex to scan");
        assert!(ex.decided());
        // A header: refused before any body, its path and header names not written.
        let mut ex = Exchange::new(Some(p.clone()));
        let value = too_complex();
        let headers = [(b"x-note".as_slice(), value.as_bytes())];
        let h = RequestHead {
            headers: &headers,
            ..head("POST", "/x?ssn=123-45-6789")
        };
        let step = ex.request_headers(&h, false, &at(NOW));
        let Step::Reply(reply) = &step else {
            panic!("{step:?}")
        };
        assert_eq!(reply.kind, ReplyKind::TooComplex);
        let answer: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(answer["part"], "headers");
        let l = lines(&ex);
        assert_eq!(l[0]["path"], "[UNSCANNED]");
        assert!(l[0].get("headers").is_none(), "{}", l[0]);
        assert_eq!(l[1]["type"], "error");
    }
    // Ordinary escaped text of the same size is scanned.
    let p = policy(json!({}));
    let mut ex = exchange(&p, "POST", "/x", false);
    let text = r"\u043f\u0440\u0438\u0432\u0435\u0442 ".repeat(30_000);
    let body = format!(r#"{{"t":"{text} 4111 1111 1111 1111"}}"#);
    assert_eq!(reply_status(&decide(&mut ex, body.as_bytes())), None);
    assert_eq!(lines(&ex)[0]["detected"], json!(["credit_card"]));
}

/// `X-User-Override` carries the filter's own token (random digits and hex), which it removes
/// before the request leaves: it is not scanned, so that its digits cannot pass for someone's
/// number and block the very confirmation they carry (seen with a token whose digits, read
/// with another header, made an SSN).
#[test]
fn the_override_header_is_not_read_as_data() {
    let p = policy(json!({}));
    let mut ex = Exchange::new(Some(p.clone()));
    let headers: Vec<(&[u8], &[u8])> = vec![
        (b"x-user-override", b"ssn 078-05-1120"),
        (b"x-other", b"ssn 078-05-1120"),
    ];
    let h = RequestHead {
        headers: &headers,
        ..head("POST", "/x")
    };
    ex.request_headers(&h, false, &at(NOW));
    let fields: Vec<&str> = ex.fields.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(fields, ["x-other"]);
}
