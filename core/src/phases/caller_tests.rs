//! The exchange with callers, protocols and rate limits: who is calling, what the body asks
//! for, and refusals in the caller's protocol's shape (issue 12's examples, through
//! `Exchange` with a fake Envoy).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{json, Value};

use super::*;
use crate::caller::ratelimit::RATELIMIT_POLICY_HEADER;
use crate::policy::Policy;
use crate::replies::ReplyKind;

const NOW: u64 = 1_769_171_696_789_000_000;

/// Envoy as the caller phases see it: the peer certificate's URI SAN, the dynamic metadata,
/// shared data, the body.
/// (Shared with `attack_tests`.)
pub(super) struct Envoy {
    pub(super) now: u64,
    pub(super) san: Option<&'static str>,
    pub(super) metadata: Option<Vec<u8>>,
    pub(super) body: Vec<u8>,
    pub(super) shared: Rc<RefCell<HashMap<String, Vec<u8>>>>,
}

impl Default for Envoy {
    fn default() -> Self {
        Envoy {
            now: NOW,
            san: None,
            metadata: None,
            body: Vec::new(),
            shared: Rc::default(),
        }
    }
}

impl Host for Envoy {
    fn now_nanos(&self) -> u64 {
        self.now
    }
    fn request_body(&self, size: usize) -> Vec<u8> {
        self.body.get(..size).unwrap_or(&self.body).to_vec()
    }
    fn response_status(&self) -> Option<u16> {
        Some(200)
    }
    fn response_code_details(&self) -> Vec<u8> {
        Vec::new()
    }
    fn request_trailers(&self) -> Vec<u8> {
        Vec::new()
    }
    fn claim_once(&self, _key: &str, _update: SlotUpdate) -> bool {
        false
    }
    fn peer_uri_san(&self) -> Option<Vec<u8>> {
        self.san.map(|s| s.as_bytes().to_vec())
    }
    fn dynamic_metadata(&self) -> Option<Vec<u8>> {
        self.metadata.clone()
    }
    fn update_shared(&self, key: &str, update: SlotUpdate) -> bool {
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

fn policy(extra: Value) -> Rc<Policy> {
    let mut cfg = json!({
        "manifest": {"identity": {"agent_id": "files"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "callers": {
            "sources": {"spiffe": true,
                        "jwt": {"metadata_namespace": "envoy.filters.http.jwt_authn",
                                "payload_key": "jwt_payload"},
                        "header": "x-caller-id"},
            "directory": [
                {"name": "billing", "match": {"spiffe_id": "spiffe://example.org/ns/billing/sa/agent"},
                 "trust_level": "trusted", "tier": 3},
                {"name": "ops", "match": {"spiffe_id_prefix": "spiffe://example.org/ns/ops/"},
                 "trust_level": "standard", "tier": 1,
                 "rate_limit": {"requests_per_minute": 6, "burst": 2}},
                {"name": "web", "match": {"jwt_issuer": "https://idp.example"}, "trust_level": "standard"}
            ]
        },
        "policy": {"trust_threshold": 0, "block_rules": [
            {"name": "delete_needs_tier_3", "condition": "mcp_tool == 'delete_file' && caller_tier < 3", "action": "block"},
            {"name": "no_etc", "condition": "rpc_method == 'tools/call' && starts_with(mcp_arg('path'), '/etc/')", "action": "block"},
            {"name": "ssn_from_unknown", "condition": "has_ssn && caller_trust_level == 'unknown'", "action": "warn", "message": "SSN from an unknown caller"}
        ]},
        "detectors": {"enabled": ["ssn", "credit_card", "email"]}
    });
    if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    Rc::new(crate::config::parse(cfg.to_string().as_bytes()).unwrap())
}

fn json_head<'a>(path: &'a str, headers: &'a [(&'a [u8], &'a [u8])]) -> RequestHead<'a> {
    RequestHead {
        headers,
        method: b"POST",
        path: path.as_bytes(),
        content_type: Some(b"application/json"),
        content_length: Some(b"10"),
        trace_id: Some(b"t1"),
        ..RequestHead::default()
    }
}

/// One request through the exchange: its headers, then (if they did not decide) its body.
fn run(
    p: &Rc<Policy>,
    envoy: &Envoy,
    path: &str,
    headers: &[(&[u8], &[u8])],
    body: &str,
) -> (Exchange, Step) {
    let mut ex = Exchange::new(Some(p.clone()));
    let host = Envoy {
        now: envoy.now,
        san: envoy.san,
        metadata: envoy.metadata.clone(),
        body: body.as_bytes().to_vec(),
        shared: envoy.shared.clone(),
    };
    let step = ex.request_headers(&json_head(path, headers), false, &host);
    if step != Step::Pause {
        return (ex, step);
    }
    let step = ex.request_body(body.len(), true, &host);
    (ex, step)
}

fn as_billing() -> Envoy {
    Envoy {
        now: NOW,
        san: Some("spiffe://example.org/ns/billing/sa/agent"),
        ..Envoy::default()
    }
}

/// A caller of the `ops` entry (rate limited: 6 a minute, burst 2), with a shared data of its
/// own.
fn ops_one() -> Envoy {
    Envoy {
        san: Some("spiffe://example.org/ns/ops/sa/one"),
        ..Envoy::default()
    }
}

fn anonymous() -> Envoy {
    Envoy {
        now: NOW,
        ..Envoy::default()
    }
}

fn reply(step: &Step) -> (ReplyKind, u16, Value) {
    match step {
        Step::Reply(r) => (r.kind, r.status, serde_json::from_slice(&r.body).unwrap()),
        other => panic!("not a reply: {other:?}"),
    }
}

fn lines(ex: &Exchange) -> Vec<Value> {
    std::str::from_utf8(ex.events())
        .unwrap()
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn tools_call(id: &str, tool: &str, path: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{{"path":"{path}"}}}}}}"#
    )
}

#[test]
fn delete_file_below_tier_3_is_a_jsonrpc_error_with_the_requests_own_id() {
    let p = policy(json!({}));
    let (ex, step) = run(
        &p,
        &anonymous(),
        "/mcp",
        &[],
        &tools_call("\"a-1\"", "delete_file", "/tmp/x"),
    );
    let (kind, status, body) = reply(&step);
    assert_eq!(kind, ReplyKind::Blocked);
    // JSON-RPC refusals go with 200 (`replies.jsonrpc_status: ok`); data keeps IATP's 403.
    assert_eq!(status, 200);
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["id"], "a-1");
    assert_eq!(body["error"]["code"], crate::replies::code::BLOCKED);
    assert_eq!(body["error"]["data"]["status"], 403);
    assert_eq!(body["error"]["data"]["rule"], "delete_needs_tier_3");
    let l = lines(&ex);
    assert_eq!(l[0]["caller"]["name"], "anonymous");
    assert_eq!(l[0]["caller"]["source"], "anonymous");
    assert_eq!(l[1]["type"], "blocked");
    // A tier-3 caller may.
    let (_, step) = run(
        &p,
        &as_billing(),
        "/mcp",
        &[],
        &tools_call("7", "delete_file", "/tmp/x"),
    );
    assert_eq!(step, Step::Continue);
}

#[test]
fn a_path_under_etc_in_the_tool_arguments_is_blocked() {
    let p = policy(json!({}));
    let (_, step) = run(
        &p,
        &as_billing(),
        "/mcp",
        &[],
        &tools_call("1", "read_file", "/etc/passwd"),
    );
    let (_, _, body) = reply(&step);
    assert_eq!(body["error"]["data"]["rule"], "no_etc");
    assert_eq!(body["id"], 1);
    let (_, step) = run(
        &p,
        &as_billing(),
        "/mcp",
        &[],
        &tools_call("1", "read_file", "/tmp/x"),
    );
    assert_eq!(step, Step::Continue);
}

#[test]
fn an_ssn_from_an_unknown_caller_is_a_warning_with_an_override_offer() {
    let p = policy(json!({}));
    let body = r#"{"jsonrpc":"2.0","id":3,"method":"message/send","params":{"message":{"role":"user","parts":[{"kind":"text","text":"my ssn is 123-45-6789"}],"messageId":"m1"}}}"#;
    let (_, step) = run(&p, &anonymous(), "/a2a", &[], body);
    let (kind, status, r) = reply(&step);
    assert_eq!((kind, status), (ReplyKind::ConfirmationRequired, 200));
    assert_eq!(r["id"], 3);
    assert_eq!(
        r["error"]["code"],
        crate::replies::code::CONFIRMATION_REQUIRED
    );
    assert_eq!(r["error"]["data"]["status"], 449);
    assert_eq!(
        r["error"]["data"]["warnings"][0],
        "SSN from an unknown caller"
    );
    assert!(!r.to_string().contains("123-45-6789"));
    // A trusted caller is not warned.
    let (_, step) = run(&p, &as_billing(), "/a2a", &[], body);
    assert_eq!(step, Step::Continue);
}

#[test]
fn a_batch_is_refused_whole_with_an_error_per_id() {
    let p = policy(json!({}));
    let batch = format!(
        "[{},{},{}]",
        tools_call("1", "read_file", "/tmp/a"),
        tools_call("2", "delete_file", "/tmp/b"),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
    );
    let (_, step) = run(&p, &anonymous(), "/mcp", &[], &batch);
    let (_, _, r) = reply(&step);
    let ids: Vec<&Value> = r.as_array().unwrap().iter().map(|e| &e["id"]).collect();
    assert_eq!(ids, vec![&json!(1), &json!(2)]);
}

#[test]
fn ambiguous_and_malformed_jsonrpc_is_refused_when_rules_read_it() {
    let p = policy(json!({}));
    let dup = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"delete_file","arguments":{}}}"#;
    let (ex, step) = run(&p, &anonymous(), "/mcp", &[], dup);
    let (kind, _, r) = reply(&step);
    assert_eq!(kind, ReplyKind::InvalidRequest);
    assert_eq!(r["error"]["code"], -32600);
    assert_eq!(lines(&ex)[1]["reason"], "invalid_jsonrpc");
    // Python's json reads NaN: a call the filter cannot read is not forwarded either.
    let nan = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_file","arguments":{"n":NaN}}}"#;
    let (_, step) = run(&p, &anonymous(), "/mcp", &[], nan);
    let (kind, _, r) = reply(&step);
    assert_eq!(kind, ReplyKind::InvalidRequest);
    assert_eq!(r["error"]["code"], -32700);
}

#[test]
fn a_verified_jwt_names_the_caller_and_its_claims_reach_the_rules() {
    let p = policy(json!({"policy": {"block_rules": [
        {"name": "admins_only", "condition": "path == '/admin' && claim('role') != 'admin'", "action": "block"}
    ]}}));
    let mut payload = serde_json::Map::new();
    payload.insert("iss".into(), json!("https://idp.example"));
    payload.insert("sub".into(), json!("user-1"));
    payload.insert("role".into(), json!("admin"));
    payload.insert("tier".into(), json!(2));
    let metadata = metadata_of(&payload);
    let envoy = Envoy {
        now: NOW,
        metadata: Some(metadata),
        ..Envoy::default()
    };
    let (ex, step) = run(&p, &envoy, "/admin", &[], "{}");
    assert_eq!(step, Step::Continue);
    let l = lines(&ex);
    assert_eq!(l[0]["caller"]["name"], "web");
    assert_eq!(l[0]["caller"]["source"], "jwt");
    assert_eq!(l[0]["caller"]["id"], "user-1");
    assert_eq!(l[0]["caller"]["tier"], 2, "the verified tier claim");
    payload.insert("role".into(), json!("user"));
    let envoy = Envoy {
        now: NOW,
        metadata: Some(metadata_of(&payload)),
        ..Envoy::default()
    };
    let (_, step) = run(&p, &envoy, "/admin", &[], "{}");
    assert_eq!(reply(&step).0, ReplyKind::Blocked);
}

/// `envoy.config.core.v3.Metadata` with the jwt_authn namespace holding `payload` (protobuf),
/// as Envoy hands it over.
fn metadata_of(payload: &serde_json::Map<String, Value>) -> Vec<u8> {
    let mut ns = serde_json::Map::new();
    ns.insert("jwt_payload".into(), Value::Object(payload.clone()));
    let structure = crate::caller::claims_encode::structure(&ns);
    fn len_field(number: u8, bytes: &[u8], out: &mut Vec<u8>) {
        out.push(number << 3 | 2);
        let mut n = bytes.len();
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out.extend_from_slice(bytes);
    }
    let mut entry = Vec::new();
    len_field(1, b"envoy.filters.http.jwt_authn", &mut entry);
    len_field(2, &structure, &mut entry);
    let mut metadata = Vec::new();
    len_field(1, &entry, &mut metadata);
    metadata
}

#[test]
fn the_rate_limit_holds_per_caller_and_the_429_says_when_to_retry() {
    let p = policy(json!({}));
    let shared = Rc::new(RefCell::new(HashMap::new()));
    let ops = |now: u64| Envoy {
        now,
        san: Some("spiffe://example.org/ns/ops/sa/one"),
        shared: shared.clone(),
        ..Envoy::default()
    };
    let plain = |path| RequestHead {
        method: b"GET",
        path,
        trace_id: Some(b"t1"),
        ..RequestHead::default()
    };
    let mut steps = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let mut ex = Exchange::new(Some(p.clone()));
        steps.push(ex.request_headers(&plain(b"/x"), true, &ops(NOW)));
        last = Some(ex);
    }
    assert_eq!(steps[0], Step::Continue);
    assert_eq!(steps[1], Step::Continue);
    let (kind, status, body) = reply(&steps[2]);
    assert_eq!((kind, status), (ReplyKind::RateLimited, 429));
    assert_eq!(body["caller"], "ops");
    let ex = last.unwrap();
    let headers = ex.reply_headers();
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.to_string())
    };
    assert_eq!(
        get(RATELIMIT_POLICY_HEADER).unwrap(),
        "\"default\";q=6;w=60;iatp-burst=2"
    );
    let retry: u64 = get("retry-after").unwrap().parse().unwrap();
    assert_eq!(retry, 10, "6 a minute: a token every 10 s");
    assert_eq!(lines(&ex)[1]["type"], "rate_limited");
    // Another ops identity has its own bucket; ten seconds later the first has a token again.
    let other = Envoy {
        now: NOW,
        san: Some("spiffe://example.org/ns/ops/sa/two"),
        shared: shared.clone(),
        ..Envoy::default()
    };
    let mut ex = Exchange::new(Some(p.clone()));
    assert_eq!(
        ex.request_headers(&plain(b"/x"), true, &other),
        Step::Continue
    );
    let mut ex = Exchange::new(Some(p.clone()));
    let later = NOW + 10_000_000_000;
    assert_eq!(
        ex.request_headers(&plain(b"/x"), true, &ops(later)),
        Step::Continue
    );
}

#[test]
fn a_rate_limited_jsonrpc_request_waits_for_its_body_to_answer_with_its_id() {
    let p = policy(json!({}));
    let ops = ops_one();
    let body = tools_call("42", "read_file", "/tmp/x");
    let mut last = Step::Continue;
    for _ in 0..3 {
        last = run(&p, &ops, "/mcp", &[], &body).1;
    }
    let (kind, status, r) = reply(&last);
    assert_eq!((kind, status), (ReplyKind::RateLimited, 200));
    assert_eq!(r["id"], 42);
    assert_eq!(r["error"]["code"], crate::replies::code::RATE_LIMITED);
    assert_eq!(r["error"]["data"]["retry_after"], 10);
}

#[test]
fn actions_need_their_tier_and_say_so() {
    let p = policy(json!({"policy": {"block_rules": [], "actions": [
        {"name": "delete_file", "when": "mcp_tool == 'delete_file'", "required_tier": 3}
    ]}}));
    let (ex, step) = run(
        &p,
        &anonymous(),
        "/mcp",
        &[],
        &tools_call("9", "delete_file", "/tmp/x"),
    );
    let (kind, _, r) = reply(&step);
    assert_eq!(kind, ReplyKind::Forbidden);
    assert_eq!(r["error"]["code"], crate::replies::code::FORBIDDEN);
    assert_eq!(r["error"]["data"]["required_tier"], 3);
    assert_eq!(r["error"]["data"]["current_tier"], 0);
    let denied = &lines(&ex)[1];
    assert_eq!(denied["type"], "denied");
    assert_eq!(denied["reason"], "Insufficient trust tier");
    let (_, step) = run(
        &p,
        &as_billing(),
        "/mcp",
        &[],
        &tools_call("9", "delete_file", "/tmp/x"),
    );
    assert_eq!(step, Step::Continue);
}

#[test]
fn an_openai_endpoint_gets_an_openai_error() {
    let p = policy(json!({"policy": {"block_rules": [
        {"name": "no_cards", "condition": "has_credit_card", "action": "block"}]}}));
    let body =
        r#"{"model":"gpt-x","messages":[{"role":"user","content":"card 4111 1111 1111 1111"}]}"#;
    let (_, step) = run(&p, &anonymous(), "/v1/chat/completions", &[], body);
    let (_, status, r) = reply(&step);
    assert_eq!(status, 403);
    assert_eq!(r["error"]["code"], "iatp_blocked");
    assert!(!r.to_string().contains("4111"));
}

#[test]
fn the_caller_header_is_the_filters_and_a_declared_header_needs_one_field() {
    let p = policy(json!({}));
    let spoof: &[(&[u8], &[u8])] = &[
        (b"x-iatp-caller", b"billing"),
        (b"x-caller-id", b"a"),
        (b"x-caller-id", b"b"),
    ];
    let mut ex = Exchange::new(Some(p.clone()));
    ex.request_headers(&json_head("/x", spoof), false, &anonymous());
    let mut set = Vec::new();
    ex.apply_edits(|_, n, v| set.push((n.to_string(), v.map(str::to_string))));
    assert!(set.contains(&("x-iatp-caller".to_string(), Some("anonymous".to_string()))));
    assert_eq!(
        ex.caller.as_ref().unwrap().source,
        crate::caller::Source::Anonymous
    );
}

#[test]
fn monitor_mode_reports_a_denial_and_a_rate_limit_and_forwards() {
    let p = policy(
        json!({"mode": "monitor", "policy": {"block_rules": [], "actions": [
        {"name": "delete_file", "when": "mcp_tool == 'delete_file'", "required_tier": 3}]}}),
    );
    let (ex, step) = run(
        &p,
        &anonymous(),
        "/mcp",
        &[],
        &tools_call("1", "delete_file", "/x"),
    );
    assert_eq!(step, Step::Continue);
    assert_eq!(ex.policy_header(), Some(crate::policy::PolicyResult::Deny));
    assert_eq!(lines(&ex)[1]["mode"], "monitor");
}

#[test]
fn monitor_mode_reports_an_empty_bucket_once_and_forwards_without_retry_after() {
    let p = policy(json!({"mode": "monitor"}));
    let ops = ops_one();
    let mut last = None;
    for _ in 0..3 {
        let (ex, step) = run(&p, &ops, "/x", &[], "{}");
        assert_eq!(step, Step::Continue);
        last = Some(ex);
    }
    let mut ex = last.unwrap();
    let l = lines(&ex);
    let types: Vec<&str> = l.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["request", "rate_limited"]);
    assert_eq!(l[1]["mode"], "monitor");
    assert_eq!(
        ex.policy_header(),
        Some(crate::policy::PolicyResult::RateLimited)
    );
    let t = ex.take_tally().unwrap();
    assert_eq!(
        (t.decision, t.result),
        (
            crate::policy::Decision::Monitor,
            crate::policy::PolicyResult::RateLimited
        )
    );
    let step = ex.response_headers(
        false,
        &Envoy {
            now: NOW,
            ..Envoy::default()
        },
    );
    assert_eq!(step, Step::Continue);
    let mut names = Vec::new();
    ex.apply_edits(|_, n, _| names.push(n.to_string()));
    assert!(names.contains(&"ratelimit".to_string()), "{names:?}");
    assert!(!names.contains(&"retry-after".to_string()), "{names:?}");
}

#[test]
fn an_ambiguous_openai_body_gets_an_openai_error() {
    let p = policy(json!({"policy": {"block_rules": [
        {"name": "no_big_model", "condition": "openai_model == 'gpt-big'", "action": "block"}]}}));
    let body = r#"{"model":"gpt-small","model":"gpt-big","messages":[]}"#;
    let (_, step) = run(&p, &anonymous(), "/v1/chat/completions", &[], body);
    let (kind, status, r) = reply(&step);
    assert_eq!((kind, status), (ReplyKind::InvalidRequest, 400));
    assert_eq!(r["error"]["code"], "iatp_invalid_request");
    assert!(r.get("jsonrpc").is_none());
}

#[test]
fn a_large_rate_limited_body_is_not_buffered_for_its_ids() {
    let p = policy(json!({}));
    let ops = ops_one();
    for _ in 0..2 {
        run(&p, &ops, "/mcp", &[], "{}");
    }
    let mut ex = Exchange::new(Some(p.clone()));
    assert_eq!(
        ex.request_headers(&json_head("/mcp", &[]), false, &ops),
        Step::Pause
    );
    let step = ex.request_body(100 * 1024, false, &ops);
    let (kind, status, _) = reply(&step);
    assert_eq!((kind, status), (ReplyKind::RateLimited, 429));
}

/// The attacks of the issue-12 review, each answered: a call hidden from serde_json but read by
/// Python, `..` and `//` in a path, a Go-style case-insensitive member, a list instead of a
/// string, a card number in the id.
#[test]
fn review_attacks_are_answered() {
    let robust = "rpc_method == 'tools/call' && (normalize_path(mcp_arg('path')) == '/etc' || starts_with(normalize_path(mcp_arg('path')), '/etc/') || contains(mcp_arg('path'), '\"/etc/'))";
    let p = policy(json!({"policy": {"block_rules": [
        {"name": "no_etc", "condition": robust, "action": "block"},
        {"name": "delete_needs_tier_3", "condition": "mcp_tool == 'delete_file' && caller_tier < 3", "action": "block"}
    ]}}));
    // `\u0072` hides `jsonrpc` from a byte search; NaN hides the call from serde_json; Python
    // reads both.
    let hidden = r#"{"json\u0072pc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/x"}},"pad":NaN}"#;
    let (_, step) = run(&p, &anonymous(), "/mcp", &[], hidden);
    let (kind, _, r) = reply(&step);
    assert_eq!(kind, ReplyKind::InvalidRequest);
    assert_eq!(r["error"]["code"], -32700);
    for path in [
        "/tmp/../etc/passwd",
        "//etc/passwd",
        "/./etc/passwd",
        "/etc",
        // `\` is a character of a name on POSIX: `x\y` is one segment that `..` removes.
        "/x\\\\y/../etc/passwd",
    ] {
        let body = tools_call("1", "read_file", path);
        let (_, step) = run(&p, &as_billing(), "/mcp", &[], &body);
        assert_eq!(reply(&step).0, ReplyKind::Blocked, "{path}");
    }
    let upper = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"PATH":"/etc/passwd"}}}"#;
    let (_, step) = run(&p, &as_billing(), "/mcp", &[], upper);
    assert_eq!(reply(&step).0, ReplyKind::Blocked, "PATH");
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":["/etc/passwd"]}}}"#;
    let (_, step) = run(&p, &as_billing(), "/mcp", &[], list);
    assert_eq!(reply(&step).0, ReplyKind::Blocked, "a list");
    let (_, step) = run(
        &p,
        &as_billing(),
        "/mcp",
        &[],
        &tools_call("1", "read_file", "/srv/etc/x"),
    );
    assert_eq!(step, Step::Continue);
    // A card number as the id is answered with `null`, never echoed.
    let card_id = tools_call("\"4111111111111111\"", "delete_file", "/x");
    let (_, step) = run(&p, &anonymous(), "/mcp", &[], &card_id);
    let (_, _, r) = reply(&step);
    assert_eq!(r["id"], Value::Null);
    assert!(!r.to_string().contains("4111111111111111"));
}

/// A reload that reorders the directory keeps an exactly named caller's bucket (its key is
/// its identity's, not its entry's position).
#[test]
fn a_reordered_directory_keeps_an_exact_callers_bucket() {
    let entry = |name: &str, id: &str| {
        json!({"name": name, "match": {"spiffe_id": id},
               "rate_limit": {"requests_per_minute": 6, "burst": 1}})
    };
    let a = entry("a", "spiffe://example.org/a");
    let b = entry("b", "spiffe://example.org/b");
    let with = |dir: Vec<Value>| policy(json!({"callers": {"directory": dir}}));
    let (first, reloaded) = (with(vec![a.clone(), b.clone()]), with(vec![b, a]));
    let shared = Rc::new(RefCell::new(HashMap::new()));
    let as_a = Envoy {
        now: NOW,
        san: Some("spiffe://example.org/a"),
        shared: shared.clone(),
        ..Envoy::default()
    };
    assert_eq!(run(&first, &as_a, "/x", &[], "{}").1, Step::Continue);
    let (_, step) = run(&reloaded, &as_a, "/x", &[], "{}");
    assert_eq!(reply(&step).0, ReplyKind::RateLimited);
}
