//! `profiles`: the policy a route names is the one that judges its requests.

use std::cell::Cell;
use std::rc::Rc;

use serde_json::{json, Value};

use super::*;
use crate::replies::ReplyKind;

const NOW: u64 = 1_769_171_696_789_000_000;

/// Envoy with a route whose metadata may name a profile; counts how often it is asked.
#[derive(Default)]
struct Route {
    profile: Option<&'static [u8]>,
    body: Vec<u8>,
    asked: Cell<u32>,
}

impl Host for Route {
    fn now_nanos(&self) -> u64 {
        NOW
    }
    fn request_body(&self, size: usize) -> Vec<u8> {
        self.body.get(..size).unwrap_or(&self.body).to_vec()
    }
    fn response_status(&self) -> Option<u16> {
        Some(200)
    }
    fn response_code_details(&self) -> Vec<u8> {
        b"via_upstream".to_vec()
    }
    fn request_trailers(&self) -> Vec<u8> {
        Vec::new()
    }
    fn claim_once(&self, _key: &str, _update: SlotUpdate) -> bool {
        false
    }
    fn route_metadata(&self) -> Option<Vec<u8>> {
        self.asked.set(self.asked.get() + 1);
        self.profile
            .map(|p| metadata(json!({"profile": String::from_utf8_lossy(p)})))
    }
}

/// Route metadata as Envoy serializes it: `iatp` holding these fields, beside Istio's.
fn metadata(iatp: Value) -> Vec<u8> {
    use crate::caller::claims::encode;
    let mut out = Vec::new();
    for (name, fields) in [("istio", json!({"config": "/apis/x"})), ("iatp", iatp)] {
        let mut entry = Vec::new();
        encode::len_field(1, name.as_bytes(), &mut entry);
        encode::len_field(
            2,
            &encode::structure(fields.as_object().unwrap()),
            &mut entry,
        );
        encode::len_field(1, &entry, &mut out);
    }
    out
}

fn policy(profiles: Option<Value>) -> Rc<Policy> {
    let mut cfg = json!({
        "mode": "enforce",
        "manifest": {"identity": {"agent_id": "a"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"block_rules": [{"name": "no_ssn", "condition": "has_ssn", "action": "block"}]},
    });
    if let Some(p) = profiles {
        cfg["profiles"] = p;
    }
    Rc::new(crate::config::parse(cfg.to_string().as_bytes()).unwrap())
}

fn profiles() -> Rc<Policy> {
    policy(Some(json!({
        "open": {"policy": {"block_rules": []}},
        "watch": {"mode": "monitor"},
        "tiny": {"limits": {"max_body_bytes": 8}}
    })))
}

/// A POST of `body` on a route naming `profile`: the exchange, the headers' step, the
/// body's step, and the route as asked.
fn post(
    p: &Rc<Policy>,
    profile: Option<&'static [u8]>,
    body: &str,
) -> (Exchange, Step, Step, Route) {
    let route = Route {
        profile,
        body: body.as_bytes().to_vec(),
        ..Route::default()
    };
    let mut ex = Exchange::new(Some(p.clone()));
    let head = RequestHead {
        method: b"POST",
        path: b"/book",
        trace_id: Some(b"t1"),
        content_type: Some(b"application/json"),
        ..RequestHead::default()
    };
    let on_headers = ex.request_headers(&head, false, &route);
    let on_body = if on_headers == Step::Pause {
        ex.request_body(body.len(), true, &route)
    } else {
        on_headers.clone()
    };
    (ex, on_headers, on_body, route)
}

fn lines(ex: &Exchange) -> Vec<Value> {
    std::str::from_utf8(ex.events())
        .unwrap()
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn reply(step: &Step) -> Option<(ReplyKind, u16)> {
    match step {
        Step::Reply(r) => Some((r.kind, r.status)),
        _ => None,
    }
}

const SSN: &str = r#"{"ssn":"536-22-1234"}"#;

#[test]
fn the_route_names_the_policy_that_judges_it() {
    let p = profiles();
    // No profile named: the base blocks the SSN.
    let (ex, _, step, route) = post(&p, None, SSN);
    assert_eq!(reply(&step), Some((ReplyKind::Blocked, 403)));
    assert_eq!(route.asked.get(), 1);
    assert!(lines(&ex).iter().all(|l| l.get("profile").is_none()));
    // `open` has no rule: forwarded, and its request line says which profile judged it.
    let (ex, _, step, _) = post(&p, Some(b"open"), SSN);
    assert_eq!(step, Step::Continue);
    let request = &lines(&ex)[0];
    assert_eq!(request["type"], "request");
    assert_eq!(request["profile"], "open");
    assert_eq!(request["detected"], json!(["ssn"]));
    // `watch` only monitors: forwarded, the block reported.
    let (ex, _, step, _) = post(&p, Some(b"watch"), SSN);
    assert_eq!(step, Step::Continue);
    let all = lines(&ex);
    assert!(
        all.iter()
            .any(|l| l["type"] == "blocked" && l["mode"] == "monitor"),
        "{all:?}"
    );
    // `tiny` has its own body limit.
    let (_, _, step, _) = post(&p, Some(b"tiny"), SSN);
    assert_eq!(reply(&step), Some((ReplyKind::TooLarge, 413)));
    let (_, _, step, _) = post(&p, None, r#"{"a":"hello world"}"#);
    assert_eq!(step, Step::Continue);
}

#[test]
fn a_route_naming_a_profile_that_does_not_exist_is_refused_before_anything_passes() {
    let p = profiles();
    for (named, says) in [
        (b"opne".as_slice(), "the route names profile 'opne'"),
        (b"Open".as_slice(), "the route names profile 'Open'"),
        (b"", "(an empty string) is not a profile name"),
        (b"536-22-1234 x", "(13 bytes) is not a profile name"),
        // A valid name, but a value a detector finds: its length only.
        (b"536-22-1234", "(11 bytes) is not a profile name"),
    ] {
        let named: &'static [u8] = Box::leak(named.to_vec().into_boxed_slice());
        let (ex, on_headers, _, _) = post(&p, Some(named), r#"{"a":1}"#);
        assert_eq!(
            reply(&on_headers),
            Some((ReplyKind::UnknownProfile, 500)),
            "{named:?}"
        );
        let Step::Reply(r) = &on_headers else {
            panic!("{on_headers:?}")
        };
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["trace_id"], "t1");
        let text = String::from_utf8_lossy(&r.body);
        assert!(!text.contains("opne") && !text.contains("536"), "{text}");
        let all = lines(&ex);
        let error = all.iter().find(|l| l["type"] == "error").unwrap();
        assert!(error["error"].as_str().unwrap().contains(says), "{error}");
        // What the route says is the operator's text, but it never reaches a line as a
        // value: only valid names are quoted.
        assert!(!ex_text(&ex).contains("536-22"), "{}", ex_text(&ex));
    }
}

fn ex_text(ex: &Exchange) -> String {
    String::from_utf8_lossy(ex.events()).into_owned()
}

#[test]
fn without_profiles_the_route_is_never_asked() {
    let p = policy(None);
    let (_, _, step, route) = post(&p, Some(b"open"), SSN);
    assert_eq!(reply(&step), Some((ReplyKind::Blocked, 403)));
    assert_eq!(route.asked.get(), 0);
}
