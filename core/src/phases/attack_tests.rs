//! Issue 12, attacked (branch i12-attack): inputs the authors did not write. Each test states
//! what a secure filter should do; a failing test is a finding (see /work/notes/i12-attack.md).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{json, Value};

use super::*;
use crate::caller::ratelimit::{self, BucketKey, Limit};
use crate::caller::Source;
use crate::policy::Policy;
use crate::replies::ReplyKind;

const NOW: u64 = 1_769_171_696_789_000_000;

use super::caller_tests::Envoy;

/// The shipped envoy/envoy-mtls-jwt.yaml's policy (rules, actions, directory), jwt left out.
fn shipped(extra_rules: Value) -> Rc<Policy> {
    let mut rules = vec![
        // As envoy/envoy-mtls-jwt.yaml ships it (since this review): the path resolved, and a
        // list's JSON text looked into.
        json!({"name": "no_etc", "condition": "rpc_method == 'tools/call' && (normalize_path(mcp_arg('path')) == '/etc' || starts_with(normalize_path(mcp_arg('path')), '/etc/') || contains(mcp_arg('path'), '\"/etc/'))",
               "action": "block", "message": "Files under /etc/ are not served."}),
    ];
    if let Some(a) = extra_rules.as_array() {
        rules.extend(a.iter().cloned());
    }
    let cfg = json!({
        "manifest": {"identity": {"agent_id": "file-agent"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "callers": {
            "sources": {"spiffe": true},
            "directory": [
                {"name": "billing", "match": {"spiffe_id": "spiffe://example.org/ns/billing/sa/agent"},
                 "trust_level": "trusted", "tier": 3, "permitted_actions": ["delete_file", "read_file"],
                 "rate_limit": {"requests_per_minute": 60, "burst": 10}}
            ],
            "default": {"name": "anonymous", "trust_level": "unknown", "tier": 0,
                        "rate_limit": {"requests_per_minute": 10}}
        },
        "policy": {"trust_threshold": 0, "block_rules": rules, "actions": [
            {"name": "read_file", "when": "mcp_tool == 'read_file'"},
            {"name": "delete_file", "when": "mcp_tool == 'delete_file'", "required_tier": 3}
        ]},
        "detectors": {"enabled": ["credit_card", "ssn", "email"]}
    });
    Rc::new(crate::config::parse(cfg.to_string().as_bytes()).unwrap())
}

fn run_ct(p: &Rc<Policy>, content_type: Option<&str>, path: &str, body: &[u8]) -> Step {
    let host = Envoy {
        san: Some("spiffe://example.org/ns/web/sa/anyone"),
        body: body.to_vec(),
        ..Envoy::default()
    };
    let len = body.len().to_string();
    let head = RequestHead {
        headers: &[],
        method: b"POST",
        path: path.as_bytes(),
        content_type: content_type.map(str::as_bytes),
        content_length: Some(len.as_bytes()),
        trace_id: Some(b"t1"),
        ..RequestHead::default()
    };
    let mut ex = Exchange::new(Some(p.clone()));
    let step = ex.request_headers(&head, false, &host);
    if step != Step::Pause {
        return step;
    }
    ex.request_body(body.len(), true, &host)
}

fn refused(step: &Step) -> bool {
    matches!(step, Step::Reply(r) if r.kind != ReplyKind::RateLimited)
}

// ---- mcp_arg(): a Go agent matches member names case-insensitively ----------------------

/// `strict.rs` says Go's `encoding/json` fills the struct field `Path` (tag `json:"path"`)
/// from `"PATH"`, `"Path"`, or `"pat\u{17F}h"`-style folds, and that every member the filter
/// reads is compared as the most lenient parser would. `mcp_arg()` walks the arguments with
/// an exact `map.get` (rules/lookup.rs `ArgStep::walk`), so a single `"PATH"` (no duplicate,
/// so no `ambiguous` refusal) is `''` to the rule and `/etc/passwd` to a Go MCP server
/// (modelcontextprotocol/go-sdk and mark3labs/mcp-go unmarshal tool input with encoding/json).
#[test]
fn attack_mcp_arg_member_spelled_in_another_case_is_read_by_the_rule() {
    let p = shipped(json!([]));
    for key in ["PATH", "Path", "pAtH"] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"read_file","arguments":{{"{key}":"/etc/passwd"}}}}}}"#
        );
        let step = run_ct(&p, Some("application/json"), "/mcp", body.as_bytes());
        assert!(
            refused(&step),
            "{key}: a Go agent reads /etc/passwd; the filter let it through: {step:?}"
        );
    }
}

// ---- mcp_arg(): paths are compared as text -------------------------------------------------

/// The shipped rule (envoy/envoy-mtls-jwt.yaml, docs/configuration.md "Examples": "a
/// tools/call of any tool whose path argument is /etc/passwd is blocked") compares text; the
/// same file has many other spellings that every file API resolves to it. The rule language
/// has no way to normalize a path, so the documented example is not a control.
#[test]
fn attack_shipped_no_etc_rule_resolves_other_spellings_of_etc() {
    let p = shipped(json!([]));
    let mut through = Vec::new();
    for path in [
        "/tmp/../etc/passwd",
        "//etc/passwd",
        "/./etc/passwd",
        "/etc//passwd",
        "/etc",
        "/srv/../../etc/shadow",
        "\\etc\\passwd",
    ] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"read_file","arguments":{{"path":"{path}"}}}}}}"#
        );
        if !refused(&run_ct(
            &p,
            Some("application/json"),
            "/mcp",
            body.as_bytes(),
        )) {
            through.push(path);
        }
    }
    assert!(
        through.is_empty(),
        "spellings of /etc/... forwarded past `no_etc`: {through:?}"
    );
    // Not the same file to the filter (documented): a relative path (the tool's directory is
    // unknown), another case (Linux file systems are case-sensitive), U+2044 (not a
    // separator anywhere).
    for path in ["etc/passwd", "/ETC/passwd", "/etc\u{2044}passwd"] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"read_file","arguments":{{"path":"{path}"}}}}}}"#
        );
        assert!(
            !refused(&run_ct(
                &p,
                Some("application/json"),
                "/mcp",
                body.as_bytes()
            )),
            "{path}"
        );
    }
}

/// Type confusion: `{"path": ["/etc/passwd"]}` reads `''`. An MCP server whose tool takes
/// `path: str | list[str]` (or JS `String(x)`, which turns `["/etc/passwd"]` into
/// "/etc/passwd") reads the file.
#[test]
fn attack_mcp_arg_array_instead_of_string_reads_its_json_text() {
    let p = shipped(json!([]));
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":["/etc/passwd"]}}}"#;
    let step = run_ct(&p, Some("application/json"), "/mcp", body.as_bytes());
    assert!(refused(&step), "forwarded: {step:?}");
}

// ---- Body parsing: what serde_json refuses and Python reads -------------------------------

/// The body is parsed only if serde_json reads it; if it does not, it is refused as malformed
/// only when declared JSON (`Content::of`: exactly `application/json` or `+json`) or when its
/// bytes hold the literal `"jsonrpc"`. The MCP Python SDK accepts `Content-Type:
/// application/json,text/plain` (transport_security: startswith("application/json"); the
/// legacy transport: any comma-separated part equal to application/json), and a2a-sdk any
/// type; both parse with Python's `json`/pydantic_core, which read `NaN`, `Infinity`, `1e400`
/// and (pydantic_core up to 200, json ~1000) deeper nesting than serde_json's 128. And
/// `"json\u0072pc"` is `jsonrpc` to every parser but hides from the byte search. Then the
/// filter sees `http`: no `mcp_tool`, no action, no `no_etc`.
#[test]
fn attack_unparseable_to_serde_but_not_to_python_is_refused() {
    let p = shipped(json!([]));
    let call = r#""json\u0072pc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/etc/passwd"}}"#;
    let deep = format!("{}{}", "[".repeat(130), "]".repeat(130));
    let mut through = Vec::new();
    for (ct, pad) in [
        ("application/json,text/plain", "NaN".to_string()),
        ("application/json,text/plain", "Infinity".to_string()),
        ("application/json,text/plain", "1e400".to_string()),
        ("application/json,text/plain", deep.clone()),
        ("text/plain", "NaN".to_string()),
        ("application/jsonx", "NaN".to_string()),
    ] {
        let body = format!("{{{call},\"pad\":{pad}}}");
        let step = run_ct(&p, Some(ct), "/mcp", body.as_bytes());
        if !refused(&step) {
            through.push(format!(
                "{ct} + {}",
                pad.chars().take(8).collect::<String>()
            ));
        }
    }
    assert!(
        through.is_empty(),
        "an anonymous tier-0 delete_file of /etc/passwd was forwarded: {through:?}"
    );
}

/// The same with `Content-Type: application/json` is refused (-32700): held. Kept as the
/// control for the test above.
#[test]
fn attack_control_declared_json_nan_is_refused() {
    let p = shipped(json!([]));
    let body = r#"{"json\u0072pc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/x"}},"pad":NaN}"#;
    let step = run_ct(&p, Some("application/json"), "/mcp", body.as_bytes());
    assert!(refused(&step), "{step:?}");
}

// ---- A2A: protobuf JSON reads enums by number ----------------------------------------------

/// a2a-sdk 1.x parses `params` with protobuf's `json_format.ParseDict`, which takes an enum
/// by its number, as a JSON number or a string: `"role": 2` and `"role": "2"` are
/// `ROLE_AGENT` (checked with the pinned a2a-sdk 1.3.0 / protobuf). The filter's `a2a_role`
/// reads `''` and `'2'`.
#[test]
fn attack_a2a_role_as_enum_number_is_agent_to_the_rule() {
    let p = shipped(json!([
        {"name": "no_agent_role", "condition": "a2a_role == 'agent'", "action": "block"}
    ]));
    let mut through = Vec::new();
    for role in ["2", "\"2\""] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{{"message":{{"role":{role},"messageId":"m1","parts":[{{"text":"hi"}}]}}}}}}"#
        );
        if !refused(&run_ct(
            &p,
            Some("application/json"),
            "/a2a",
            body.as_bytes(),
        )) {
            through.push(role);
        }
    }
    assert!(
        through.is_empty(),
        "ROLE_AGENT spelled {through:?} forwarded"
    );
}

// ---- Rate limits: other identities can take a verified caller's slots -----------------------

/// The header-source identities are free to choose, and share the slot space with SPIFFE
/// and JWT identities. Four identities whose home slot is the victim's hold its four probed
/// slots (one request each keeps their buckets from being full), a fifth drains the shared
/// overflow bucket; then the victim's very first request is 429. ratelimit.rs says the
/// overflow bucket exists so that finding identities hashing to a caller's slots does not
/// "deny it service"; it does.
#[test]
fn attack_rate_limit_of_an_exact_caller_cannot_be_taken_by_chosen_identities() {
    let shared: Rc<RefCell<HashMap<String, Vec<u8>>>> = Rc::default();
    let host = Envoy {
        shared: shared.clone(),
        ..Envoy::default()
    };
    let claim = |k: &str, u: SlotUpdate| host.update_shared(k, u);
    // Billing is an exact directory entry: the exchange keys it as the directory says.
    let p = shipped(json!([]));
    let billing_caller = p.callers.resolve(
        Some(b"spiffe://example.org/ns/billing/sa/agent"),
        None,
        None,
    );
    let victim = p.callers.bucket_key(&billing_caller);
    let home = BucketKey::of(Source::Spiffe, "spiffe://example.org/ns/billing/sa/agent")
        .slots()
        .next()
        .unwrap();
    let attackers: Vec<BucketKey> = (0u64..)
        .map(|n| BucketKey::of(Source::Header, &format!("a{n}")))
        .filter(|k| k.slots().next() == Some(home))
        .take(5)
        .collect();
    let anon = Limit {
        requests_per_minute: 10,
        burst: 10,
    };
    let now = NOW / 1_000_000;
    for a in &attackers[..4] {
        assert!(!ratelimit::charge(a, now, anon, &claim).overflow);
    }
    for _ in 0..10 {
        assert!(ratelimit::charge(&attackers[4], now, anon, &claim).overflow);
    }
    let billing = Limit {
        requests_per_minute: 60,
        burst: 10,
    };
    let first = ratelimit::charge(&victim, now + 1, billing, &claim);
    assert!(
        first.decision.allowed,
        "billing's first request in the minute was refused: {first:?}"
    );
}

// ---- Replies: the id is echoed byte for byte ------------------------------------------------

/// docs/configuration.md "Local replies": "No reply carries a detected value". A JSON-RPC id
/// is echoed byte for byte, detected values included, into a refusal.
#[test]
fn attack_jsonrpc_id_holding_a_card_number_is_answered_null() {
    let p = shipped(json!([]));
    let body = r#"{"jsonrpc":"2.0","id":"4111111111111111","method":"tools/call","params":{"name":"read_file","arguments":{"path":"/etc/passwd"}}}"#;
    let step = run_ct(&p, Some("application/json"), "/mcp", body.as_bytes());
    let Step::Reply(r) = &step else {
        panic!("not refused: {step:?}")
    };
    let text = String::from_utf8_lossy(&r.body);
    assert!(
        !text.contains("4111111111111111"),
        "the card number is in the reply: {text}"
    );
}

// ==== Round 2 (branch i12-attack2, /work/notes/i12-attack2.md) ==============================

fn mcp_path_call(path_json: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"read_file","arguments":{{"path":{path_json}}}}}}}"#
    )
}

/// `normalize_path()` reads `\` as a separator. On Linux it is an ordinary file-name byte,
/// and every lexical resolver an MCP tool uses there (Node `path.resolve` as in
/// @modelcontextprotocol/server-filesystem, Python `os.path.normpath`/`realpath`/
/// `pathlib.Path.resolve`, Go `filepath.Clean`) takes `x\y` as ONE segment, so one `..` pops
/// it whole. The filter pops only `y` and keeps `x`: `/x\y/../etc/passwd` is `/x/etc/passwd`
/// to the rule and `/etc/passwd` to the tool (checked: node and python3 print /etc/passwd).
/// The shipped `no_etc` rule (the fix of round 1's F5) forwards it.
#[test]
fn attack2_normalize_path_reads_a_backslash_as_posix_does_for_the_shipped_no_etc_rule() {
    let p = shipped(json!([]));
    let mut through = Vec::new();
    for path in [
        r#""/x\\y/../etc/passwd""#,
        r#""/tmp/a\\b\\c/../../etc/shadow""#,
    ] {
        let step = run_ct(
            &p,
            Some("application/json"),
            "/mcp",
            mcp_path_call(path).as_bytes(),
        );
        if !refused(&step) {
            through.push(path);
        }
    }
    assert!(
        through.is_empty(),
        "POSIX /etc/... forwarded past `no_etc`: {through:?}"
    );
}

/// The allow-list docs/configuration.md recommends ("Better still, allow what may be read":
/// `!starts_with(normalize_path(mcp_arg('path')), '/srv/')`) is escaped the same way: each
/// `\` adds a segment the filter's `..` pops instead of the real parent.
/// `/srv/a\b\c\d/../../etc/passwd` is `/srv/a/b/etc/passwd` to the rule, `/etc/passwd` to
/// Node's `path.resolve` and Python's `os.path.realpath`.
#[test]
fn attack2_normalize_path_backslash_does_not_escape_the_documented_srv_allow_list() {
    let p = shipped(json!([
        {"name": "only_srv", "condition": "rpc_method == 'tools/call' && !starts_with(normalize_path(mcp_arg('path')), '/srv/')", "action": "block"}
    ]));
    let ok = mcp_path_call(r#""/srv/data/report.txt""#);
    assert!(!refused(&run_ct(
        &p,
        Some("application/json"),
        "/mcp",
        ok.as_bytes()
    )));
    let body = mcp_path_call(r#""/srv/a\\b\\c\\d/../../etc/passwd""#);
    let step = run_ct(&p, Some("application/json"), "/mcp", body.as_bytes());
    assert!(refused(&step), "outside /srv/ forwarded: {step:?}");
}

/// Windows forms: `C:\..\Windows` is `C:\Windows` to Windows (a drive root has no parent),
/// but `normalize_path` treats `C:` as an ordinary first segment that `..` removes, giving a
/// relative `Windows/win.ini`. A rule guarding `C:/Windows/` misses it; `\\?\C:\Windows\...`
/// (the extended-length prefix) becomes `/?/C:/Windows/...`.
#[test]
fn attack2_normalize_windows_path_keeps_the_drive_as_its_root() {
    let p = shipped(json!([
        {"name": "no_windir", "condition": "rpc_method == 'tools/call' && starts_with(normalize_windows_path(mcp_arg('path')), 'c:/windows/')", "action": "block"}
    ]));
    let plain = mcp_path_call(r#""C:\\Windows\\win.ini""#);
    assert!(refused(&run_ct(
        &p,
        Some("application/json"),
        "/mcp",
        plain.as_bytes()
    )));
    let mut through = Vec::new();
    for path in [
        r#""C:\\..\\Windows\\win.ini""#,
        r#""\\\\?\\C:\\Windows\\win.ini""#,
    ] {
        if !refused(&run_ct(
            &p,
            Some("application/json"),
            "/mcp",
            mcp_path_call(path).as_bytes(),
        )) {
            through.push(path);
        }
    }
    assert!(
        through.is_empty(),
        "C:\\Windows\\win.ini forwarded as {through:?}"
    );
}

/// Round 1's F2 fix maps `2`/`"2"` to `agent`, only as exact text. protobuf's
/// `json_format.ParseDict` (a2a-sdk 1.3.0 in .venv) runs Python `int(value)` on an enum
/// string that is no name, so `"02"`, `" 2"`, `"2 "`, `"+2"`, `"2\n"` and `"２"` (fullwidth)
/// are all ROLE_AGENT (checked in .venv), and `a2a_role` reads them as sent.
#[test]
fn attack2_a2a_role_number_spelled_as_python_int_reads_it_is_agent() {
    let p = shipped(json!([
        {"name": "no_agent_role", "condition": "a2a_role == 'agent'", "action": "block"}
    ]));
    let mut through = Vec::new();
    for role in [
        r#""02""#,
        r#"" 2""#,
        r#""2 ""#,
        r#""+2""#,
        r#""2\n""#,
        "\"\u{FF12}\"",
    ] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{{"message":{{"role":{role},"messageId":"m1","parts":[{{"text":"hi"}}]}}}}}}"#
        );
        if !refused(&run_ct(
            &p,
            Some("application/json"),
            "/a2a",
            body.as_bytes(),
        )) {
            through.push(role);
        }
    }
    assert!(
        through.is_empty(),
        "ROLE_AGENT spelled {through:?} forwarded"
    );
}

/// Round 1's F7 fix answers an id holding a detected value with `null`, found by scanning
/// the id's raw text. With one digit written as a JSON escape the raw text holds no card
/// number, the id is echoed byte for byte, and the client's JSON parser decodes it to
/// 4111111111111111 again.
#[test]
fn attack2_jsonrpc_id_card_number_with_an_escaped_digit_is_answered_null() {
    let p = shipped(json!([]));
    let body = r#"{"jsonrpc":"2.0","id":"411111111111111\u0031","method":"tools/call","params":{"name":"read_file","arguments":{"path":"/etc/passwd"}}}"#;
    let step = run_ct(&p, Some("application/json"), "/mcp", body.as_bytes());
    let Step::Reply(r) = &step else {
        panic!("not refused: {step:?}")
    };
    let v: Value = serde_json::from_slice(&r.body).expect("reply is JSON");
    assert!(
        !v.to_string().contains("4111111111111111"),
        "the decoded reply holds the card number: {v}"
    );
}

/// Held (control): a batch of 128 whose last call is the forbidden one is refused; 129 calls
/// are refused whole; a Kelvin sign (U+212A, Go folds it to `K`) and `ſ` in an argument name
/// are read by `mcp_arg` as Go's `encoding/json` would.
#[test]
fn attack2_held_batch_edges_and_non_ascii_folds() {
    let p = shipped(json!([
        {"name": "no_secret_key", "condition": "mcp_arg('key') == 'secret'", "action": "block"},
        {"name": "no_secret_s", "condition": "mcp_arg('s') == 'secret'", "action": "block"}
    ]));
    let ok = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/srv/x"}}}"#;
    let bad = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/srv/x"}}}"#;
    for n in [128usize, 129] {
        let mut calls = vec![ok; n - 1];
        calls.push(bad);
        let body = format!("[{}]", calls.join(","));
        assert!(
            refused(&run_ct(
                &p,
                Some("application/json"),
                "/mcp",
                body.as_bytes()
            )),
            "{n}"
        );
    }
    for key in ["\u{212A}ey", "\u{17F}"] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"read_file","arguments":{{"{key}":"secret"}}}}}}"#
        );
        assert!(
            refused(&run_ct(
                &p,
                Some("application/json"),
                "/mcp",
                body.as_bytes()
            )),
            "{key}"
        );
    }
}

/// UTF-16LE without a byte order mark, declared `application/json` (no charset): Python's
/// `json.loads(bytes)` picks UTF-16-LE from `XX 00 XX`; the filter's sniff also needs half the
/// characters ASCII. Padding with CJK text: the card is still found (held).
#[test]
fn attack2_held_utf16_without_bom_padded_with_cjk_still_finds_a_card_number() {
    let p = shipped(json!([
        {"name": "no_cards", "condition": "has_credit_card", "action": "block"}
    ]));
    let text = format!(
        r#"{{"note":"4111 1111 1111 1111","pad":"{}"}}"#,
        "\u{4E00}".repeat(200)
    );
    let body: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let step = run_ct(&p, Some("application/json"), "/upload", &body);
    assert!(refused(&step), "UTF-16LE card number forwarded: {step:?}");
}
