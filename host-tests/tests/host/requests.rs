//! Requests through a real Envoy running the filter: what the caller gets, what the agent
//! gets, what the events file says.

use serde_json::{json, Value};

use crate::harness::{read_text, Request, Stack};

const CARD: &str = "4111 1111 1111 1111";
const SSN: &str = "123-45-6789";
const EMAIL: &str = "jane.doe@example.com";

/// The key override tokens are minted under in these tests.
const OVERRIDE_KEY: &str = "host-tests-override-key-0123456789abcdef";

/// `base()` with the unsafe legacy override (`X-User-Override: true`).
fn legacy() -> Value {
    with(base(), |v| v["policy"]["legacy_override"] = json!(true))
}

/// standard + partial reversibility + ephemeral: trust score 8.
fn base() -> Value {
    json!({
        "manifest": {
            "identity": {"agent_id": "test-agent", "name": "Test Agent"},
            "trust_level": "standard",
            "reversibility": {"level": "partial"},
            "privacy": {"retention": "ephemeral"}
        },
        "policy": {"override_key": OVERRIDE_KEY, "block_rules": [
            {"name": "ssn_anywhere", "condition": "has_ssn", "action": "block", "message": "no SSNs here"},
            {"name": "card_anywhere", "condition": "has_credit_card", "action": "block"},
            {"name": "email_confirm", "condition": "has_email", "action": "warn", "message": "contains an e-mail address"}
        ]}
    })
}

fn with(mut v: Value, f: impl FnOnce(&mut Value)) -> Value {
    f(&mut v);
    v
}

fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
        && s.chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

#[test]
fn clean_request_reaches_the_agent_unchanged_with_trace_id_and_score() {
    let stack = Stack::with_plugin(&base());
    let body = r#"{"task":"book_flight","to":"Zürich","seats":2}"#;
    let r = stack.send(Request::post("/book?x=1", body));
    assert_eq!(r.status, 200, "{}", r.text());
    let trace = r
        .header("x-agent-trace-id")
        .expect("trace id header")
        .to_string();
    assert!(is_uuid_v4(&trace), "{trace}");
    assert_eq!(r.header("x-agent-trust-score"), Some("8"));

    let got = stack.agent_requests_for(&trace);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0]["body"], body,
        "the agent must receive the body unchanged"
    );
    assert_eq!(got[0]["path"], "/book?x=1");
    assert_eq!(got[0]["headers"]["x-agent-trust-score"], "8");
    assert!(got[0]["headers"].get("x-agent-quarantined").is_none());

    let events = stack.events_for(&trace, 2);
    assert_eq!(events[0]["type"], "request");
    assert_eq!(events[0]["method"], "POST");
    assert_eq!(events[0]["path"], "/book?x=1");
    assert_eq!(events[0]["trust_score"], 8);
    assert_eq!(events[0]["detected"], json!([]));
    assert_eq!(events[0]["payload"], body);
    assert_eq!(events[0]["body_bytes"], body.len());
    assert_eq!(events[0]["agent_id"], "test-agent");
    assert_eq!(events[1]["type"], "response");
    assert_eq!(events[1]["status"], 200);
    assert!(events[1]["latency_ms"].as_f64().is_some_and(|l| l >= 0.0));
}

#[test]
fn trace_id_comes_from_the_caller_then_traceparent_then_a_new_uuid() {
    let stack = Stack::with_plugin(&base());
    let r = stack.send(Request::get("/t").header("x-agent-trace-id", "caller-trace.1_A"));
    assert_eq!(r.header("x-agent-trace-id"), Some("caller-trace.1_A"));
    assert_eq!(stack.agent_requests_for("caller-trace.1_A").len(), 1);

    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let r = stack.send(Request::get("/t").header("traceparent", tp));
    assert_eq!(
        r.header("x-agent-trace-id"),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );

    let r = stack.send(
        Request::get("/t")
            .header("x-agent-trace-id", "not valid!")
            .header(
                "traceparent",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            ),
    );
    let id = r.header("x-agent-trace-id").unwrap();
    assert!(is_uuid_v4(id), "{id}");

    let long = "a".repeat(129);
    let r = stack.send(Request::get("/t").header("x-agent-trace-id", &long));
    assert!(is_uuid_v4(r.header("x-agent-trace-id").unwrap()));
}

#[test]
fn callers_cannot_forge_the_headers_the_filter_sets() {
    let stack = Stack::with_plugin(&base());
    let r = stack.send(
        Request::post("/x", "{}")
            .header("x-agent-trace-id", "forge-1")
            .header("x-agent-trust-score", "10")
            .header("x-agent-quarantined", "true"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header_count("x-agent-trust-score"), 1);
    let got = &stack.agent_requests_for("forge-1")[0];
    assert_eq!(got["headers"]["x-agent-trust-score"], "8");
    assert!(got["headers"].get("x-agent-quarantined").is_none());
}

#[test]
fn block_rule_answers_403_and_the_agent_never_sees_the_request() {
    let stack = Stack::with_plugin(&base());
    let r = stack.send(Request::post(
        "/book",
        format!(r#"{{"name":"Jane","ssn":"{SSN}"}}"#),
    ));
    assert_eq!(r.status, 403);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let trace = r
        .header("x-agent-trace-id")
        .expect("trace id on local replies")
        .to_string();
    assert_eq!(
        r.json(),
        json!({"error": "no SSNs here", "blocked": true, "rule": "ssn_anywhere",
               "detected": ["ssn"], "trace_id": trace})
    );
    assert!(!r.text().contains(SSN));
    stack.assert_never_reached_agent(&trace);
    // Envoy agrees: the only request it sent upstream was the probe.
    assert_eq!(stack.envoy.stat("cluster.agent.upstream_rq_total"), 1);
    assert_eq!(stack.envoy.stat("http.iatp_inbound.downstream_rq_4xx"), 1);

    let events = stack.events_for(&trace, 2);
    assert_eq!(events[0]["type"], "request");
    assert_eq!(events[0]["detected"], json!(["ssn"]));
    assert_eq!(
        events[0]["payload"],
        r#"{"name":"Jane","ssn":"[SSN_REDACTED]"}"#
    );
    // Consecutive lines of the worker's chain.
    assert_eq!(events[1]["chain"], events[0]["chain"]);
    assert_eq!(
        events[1]["seq"].as_u64().unwrap(),
        events[0]["seq"].as_u64().unwrap() + 1
    );
    assert_eq!(events[1]["hash"].as_str().unwrap().len(), 64);
    assert_eq!(
        events[1],
        json!({"type": "blocked", "trace_id": trace, "timestamp": events[1]["timestamp"],
               "agent_id": "test-agent", "v": 1, "reason": "ssn_anywhere", "detected": ["ssn"],
               "status": 403, "phase": "request", "chain": events[1]["chain"], "seq": events[1]["seq"],
               "hash": events[1]["hash"]})
    );
}

#[test]
fn default_rules_block_cards_to_untrusted_agents_and_ssns_to_permanent_ones() {
    let untrusted = json!({
        "manifest": {"identity": {"agent_id": "shady"}, "trust_level": "untrusted",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"trust_threshold": 0}
    });
    let stack = Stack::with_plugin(&untrusted);
    let r = stack.send(Request::post("/pay", format!(r#"{{"card":"{CARD}"}}"#)));
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["rule"], "credit_card_to_untrusted");
    assert_eq!(r.json()["detected"], json!(["credit_card"]));
    // An SSN to an agent that forgets it at once is fine.
    let r = stack.send(Request::post("/pay", format!(r#"{{"ssn":"{SSN}"}}"#)));
    assert_eq!(r.status, 200);
    drop(stack);

    let permanent = json!({
        "manifest": {"agent_id": "archive", "trust_level": "trusted",
                     "capabilities": {"reversibility": "full"},
                     "privacy_contract": {"retention": "forever"}}
    });
    let stack = Stack::with_plugin(&permanent);
    let r = stack.send(Request::post("/file", format!("ssn {SSN}")));
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["rule"], "ssn_to_permanent");
    let r = stack.send(Request::post("/file", format!(r#"{{"card":"{CARD}"}}"#)));
    assert_eq!(r.status, 200, "cards are fine for a trusted agent");
}

#[test]
fn warning_answers_449_until_the_caller_confirms_with_its_token() {
    // Two workers: a token is single use in the whole Envoy, not per worker.
    let stack = Stack::builder().plugin(&base()).workers(2).start();
    let body = format!(r#"{{"contact":"{EMAIL}"}}"#);
    let r = stack.send(Request::post("/book", &body).header("x-agent-trace-id", "confirm-1"));
    assert_eq!(r.status, 449);
    let v = r.json();
    let token = v["override_token"].as_str().expect("a token").to_string();
    assert_eq!(v["warnings"], json!(["contains an e-mail address"]));
    assert_eq!(v["override_allowed"], true);
    assert_eq!(v["override_expires_in"], 300);
    assert_eq!(v["trace_id"], "confirm-1");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("'X-Agent-Trace-ID: confirm-1'"));
    stack.assert_never_reached_agent("confirm-1");
    let events = stack.events_for("confirm-1", 2);
    assert_eq!(events[1]["type"], "warning");
    assert_eq!(events[1]["status"], 449);

    // Not an override: `true`, another trace id, another body, the header twice.
    let forged = [
        Request::post("/book", &body)
            .header("x-agent-trace-id", "confirm-1")
            .header("x-user-override", "true"),
        Request::post("/book", &body)
            .header("x-agent-trace-id", "confirm-2")
            .header("x-user-override", &token),
        Request::post("/book", format!(r#"{{"contact":"{EMAIL}","x":1}}"#))
            .header("x-agent-trace-id", "confirm-1")
            .header("x-user-override", &token),
        Request::post("/book", &body)
            .header("x-agent-trace-id", "confirm-1")
            .header("x-user-override", &token)
            .header("x-user-override", "false"),
    ];
    for req in forged {
        assert_eq!(stack.send(req).status, 449);
    }

    // The token, on the same request: forwarded, quarantined, once.
    let retry = || {
        Request::post("/book", &body)
            .header("x-agent-trace-id", "confirm-1")
            .header("x-user-override", &token)
    };
    let r = stack.send(retry());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-agent-quarantined"), Some("true"));
    let got = stack.agent_requests_for("confirm-1");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["headers"]["x-agent-quarantined"], "true");
    assert!(
        got[0]["headers"].get("x-user-override").is_none(),
        "the token is for the filter: {got:?}"
    );
    // Two lines for the first 449 and for each of the three forgeries on this trace id, then
    // the override's `request`, `override` and `response`: waiting for fewer lines raced
    // Envoy's log flush.
    let events = stack.events_for("confirm-1", 11);
    let over: Vec<&Value> = events.iter().filter(|e| e["type"] == "override").collect();
    assert_eq!(over.len(), 1);
    assert_eq!(over[0]["token_id"], token.split('.').nth(1).unwrap());
    assert!(!read_text(&stack.events_path()).contains(&token));
    for _ in 0..4 {
        assert_eq!(stack.send(retry()).status, 449, "a token is single use");
    }
}

#[test]
fn low_trust_warns_on_every_request_and_overrides_can_be_disabled() {
    // unknown (2) + permanent (-1) = 1, below the default threshold 3.
    let cfg = json!({
        "manifest": {"identity": {"agent_id": "low"}, "trust_level": "unknown",
                     "privacy": {"retention": "permanent"}},
        "policy": {"allow_override": false}
    });
    let stack = Stack::with_plugin(&cfg);
    let r = stack.send(Request::get("/anything").header("x-user-override", "true"));
    assert_eq!(r.status, 449);
    let v = r.json();
    assert_eq!(
        v["warnings"],
        json!(["Low trust score (1/10, threshold 3) for agent 'low'"])
    );
    assert_eq!(v["trust_score"], 1);
    assert_eq!(v["override_allowed"], false);
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("does not allow overrides"));
    stack.assert_never_reached_agent(v["trace_id"].as_str().unwrap());
}

#[test]
fn chunked_uploads_with_trailers_are_decided_on_the_whole_body() {
    let stack = Stack::with_plugin(&base());
    let chunks: Vec<Vec<u8>> = vec![
        b"{\"a\":\"".to_vec(),
        b"hello ".to_vec(),
        b"world\"}".to_vec(),
    ];
    let r = stack.send(
        Request::new("POST", "/stream")
            .header("x-agent-trace-id", "chunked-ok")
            .chunked(chunks, &[("x-checksum", "abc")]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        stack.agent_requests_for("chunked-ok")[0]["body"],
        r#"{"a":"hello world"}"#
    );

    // The SSN is split across chunks: only the whole body shows it.
    let chunks = vec![b"{\"x\":\"123-4".to_vec(), b"5-6789\"}".to_vec()];
    let r = stack.send(
        Request::new("POST", "/stream")
            .header("x-agent-trace-id", "chunked-ssn")
            .chunked(chunks.clone(), &[("x-checksum", "abc")]),
    );
    assert_eq!(r.status, 403);
    stack.assert_never_reached_agent("chunked-ssn");
    // And without trailers.
    let r = stack.send(Request::new("POST", "/stream").chunked(chunks, &[]));
    assert_eq!(r.status, 403);
}

#[test]
fn bodies_over_the_limit_get_413_and_go_nowhere() {
    let cfg = with(base(), |v| v["limits"] = json!({"max_body_bytes": 1024}));
    let stack = Stack::with_plugin(&cfg);
    let r = stack.send(Request::post("/big", "x".repeat(2000)).header("x-agent-trace-id", "big-1"));
    assert_eq!(r.status, 413);
    assert_eq!(
        r.json(),
        json!({"error": "request body exceeds limit", "limit_bytes": 1024, "trace_id": "big-1"})
    );
    assert_eq!(r.header("x-agent-trace-id"), Some("big-1"));
    let events = stack.events_for("big-1", 2);
    assert_eq!(events[0]["body_bytes"], 2000);
    assert_eq!(events[1]["type"], "error");
    assert_eq!(events[1]["status"], 413);

    // No content-length: the limit is found while buffering.
    let chunks = vec![vec![b'y'; 600], vec![b'y'; 600], vec![b'y'; 600]];
    let r = stack.send(
        Request::new("POST", "/big")
            .header("x-agent-trace-id", "big-2")
            .chunked(chunks, &[]),
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["limit_bytes"], 1024);
    stack.assert_never_reached_agent("big-1");
    stack.assert_never_reached_agent("big-2");
    // Exactly at the limit is fine.
    let r = stack.send(Request::post("/big", "z".repeat(1024)));
    assert_eq!(r.status, 200);
}

#[test]
fn bodies_that_are_not_json_are_scanned_as_text() {
    let stack = Stack::with_plugin(&base());
    let r = stack.send(
        Request::new("POST", "/note")
            .header("content-type", "text/plain")
            .body(format!("please charge {CARD} today")),
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["rule"], "card_anywhere");
    let mut binary = vec![0xff, 0xfe, 0x00, 0x80];
    binary.extend_from_slice(SSN.as_bytes());
    binary.push(0xc3);
    let r = stack.send(
        Request::new("POST", "/blob")
            .header("content-type", "application/octet-stream")
            .body(&binary),
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["rule"], "ssn_anywhere");
    // Malformed JSON is not rejected for being malformed.
    let r = stack.send(Request::post("/x", r#"{"unterminated": "#));
    assert_eq!(r.status, 200);
}

#[test]
fn sensitive_data_in_the_query_string_counts_and_is_scrubbed() {
    let stack = Stack::with_plugin(&base());
    let r =
        stack.send(Request::get("/lookup?ssn=123-45-6789&x=1").header("x-agent-trace-id", "q-1"));
    assert_eq!(r.status, 403);
    let events = stack.events_for("q-1", 2);
    assert_eq!(events[0]["path"], "/lookup?ssn=[SSN_REDACTED]&x=1");
}

#[test]
fn monitor_mode_reports_but_never_enforces() {
    let cfg = with(legacy(), |v| v["mode"] = json!("monitor"));
    let stack = Stack::with_plugin(&cfg);
    let r =
        stack.send(Request::post("/m", format!("ssn {SSN}")).header("x-agent-trace-id", "mon-1"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-agent-policy"), Some("block"));
    assert_eq!(stack.agent_requests_for("mon-1").len(), 1);
    let events = stack.events_for("mon-1", 3);
    assert_eq!(events[1]["type"], "blocked");
    assert_eq!(events[1]["mode"], "monitor");
    assert_eq!(events[1]["reason"], "ssn_anywhere");

    let r = stack.send(Request::post("/m", EMAIL).header("x-agent-trace-id", "mon-2"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-agent-policy"), Some("warn"));
    assert_eq!(stack.events_for("mon-2", 3)[1]["type"], "warning");

    let r = stack.send(Request::post("/m", EMAIL).header("x-user-override", "true"));
    assert_eq!(r.header("x-agent-policy"), Some("override"));
    let r = stack.send(Request::post("/m", "{}"));
    assert_eq!(r.header("x-agent-policy"), Some("allow"));
}

#[test]
fn well_known_endpoints_answer_locally() {
    let stack = Stack::with_plugin(&with(base(), |v| {
        v["agent_card"] = json!({"url": "https://test-agent.example/a2a"});
    }));
    let r = stack.send(Request::get("/.well-known/agent-manifest"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("x-agent-trace-id").is_some());
    let m = r.json();
    assert_eq!(m["identity"]["agent_id"], "test-agent");
    assert_eq!(m["agent_id"], "test-agent");
    assert_eq!(m["trust_level"], "standard");
    assert_eq!(m["reversibility"]["level"], "partial");
    assert_eq!(m["privacy"]["retention"], "ephemeral");
    assert_eq!(m["privacy_contract"]["retention"], "ephemeral");

    // The card's url is the configured one: a caller's Host never gets into it.
    let r =
        stack.send(Request::get("/.well-known/agent-card.json?v=1").header("host", "evil.example"));
    assert_eq!(r.status, 200);
    assert!(!r.text().contains("evil"), "{}", r.text());
    let card = r.json();
    for key in [
        "name",
        "description",
        "version",
        "url",
        "capabilities",
        "defaultInputModes",
        "defaultOutputModes",
        "skills",
    ] {
        assert!(card.get(key).is_some(), "card lacks {key}: {card}");
    }
    assert_eq!(card["name"], "Test Agent");
    assert_eq!(card["url"], "https://test-agent.example/a2a");

    let r = stack.send(Request::new("HEAD", "/.well-known/agent-manifest"));
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    let r = stack.send(Request::post("/.well-known/agent-card.json", "{}"));
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["allowed"], json!(["GET", "HEAD"]));
    assert_eq!(
        stack.agent.records(),
        Vec::<Value>::new(),
        "well-known requests stay in Envoy"
    );
}

#[test]
fn a_well_known_endpoint_the_filter_does_not_serve_goes_to_the_agent() {
    // No agent_card.url: the filter does not make up a card (nor a URL from the Host header).
    let stack = Stack::with_plugin(&with(base(), |v| {
        v["well_known"] = json!({"agent_manifest": false});
    }));
    for path in [
        "/.well-known/agent-card.json",
        "/.well-known/agent-manifest",
    ] {
        let r = stack.send(Request::get(path).header("host", "evil.example"));
        assert_eq!(r.status, 200, "{path}: the mock agent answers");
        let trace = r.header("x-agent-trace-id").unwrap().to_string();
        assert_eq!(stack.agent_requests_for(&trace)[0]["path"], path);
    }
    // Switched on without a url: Envoy refuses the configuration (host test in config.rs).
}

#[test]
fn the_events_file_holds_only_valid_json_lines_and_no_sensitive_value() {
    let stack = Stack::with_plugin(&legacy());
    let evil = "line1\n{\"type\":\"blocked\",\"trace_id\":\"forged\"}\r\n\u{0}\"\\";
    let requests = vec![
        Request::post("/ok", "{}"),
        Request::post("/ok", evil),
        Request::post("/pii", format!("{CARD} {SSN} {EMAIL}")),
        Request::post("/pii", format!(r#"{{"e":"{EMAIL}"}}"#)).header("x-user-override", "true"),
        Request::get(&format!("/q?email={EMAIL}")).header("x-user-override", "true"),
        Request::get("/.well-known/agent-manifest"),
        Request::new("POST", "/c").chunked(vec![CARD.as_bytes().to_vec()], &[]),
    ];
    let mut traces = Vec::new();
    for req in requests {
        let r = stack.send(req);
        traces.push(r.header("x-agent-trace-id").unwrap().to_string());
    }
    for t in &traces {
        stack.events_for(t, 1);
    }
    let text = read_text(&stack.events_path());
    for value in [CARD, "4111111111111111", SSN, EMAIL] {
        assert!(
            !text.contains(value),
            "the events file contains {value:?}:\n{text}"
        );
    }
    for line in text.lines() {
        assert!(
            !line.trim().is_empty() && line != "-",
            "blank or '-' line in:\n{text}"
        );
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for key in ["type", "trace_id", "timestamp", "agent_id"] {
            assert!(v[key].is_string(), "{key} missing in {line}");
        }
        let ts = v["timestamp"].as_str().unwrap();
        assert_eq!(ts.len(), 24, "{ts}");
        assert!(
            ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.',
            "{ts}"
        );
        assert_ne!(v["trace_id"], "forged");
    }
    assert!(text.ends_with('\n'));
    // Every request made a line, and only these requests did.
    let mut seen: Vec<String> = stack
        .events()
        .iter()
        .filter(|v| v["type"] == "request")
        .map(|v| v["trace_id"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    traces.sort();
    assert_eq!(seen, traces);
}

#[test]
fn an_unreachable_agent_still_gets_trace_headers_and_a_response_event() {
    let mut stack = Stack::with_plugin(&base());
    stack.agent.stop();
    let r = stack.send(Request::post("/x", "{}").header("x-agent-trace-id", "down-1"));
    assert_eq!(r.status, 503);
    assert_eq!(r.header("x-agent-trace-id"), Some("down-1"));
    let events = stack.events_for("down-1", 2);
    assert_eq!(events[1]["type"], "response");
    assert_eq!(events[1]["status"], 503);
}

#[test]
fn agent_errors_pass_through_with_headers() {
    let stack = Stack::with_plugin(&base());
    let r = stack.send(
        Request::post("/x", "{}")
            .header("x-agent-trace-id", "err-1")
            .header("x-mock-status", "500")
            .header("x-mock-body", r#"{"oops":true}"#),
    );
    assert_eq!(r.status, 500);
    assert_eq!(r.text(), r#"{"oops":true}"#);
    assert_eq!(r.header("x-agent-trace-id"), Some("err-1"));
    assert_eq!(stack.events_for("err-1", 2)[1]["status"], 500);
}

#[test]
fn header_values_that_are_not_utf8_do_not_break_the_filter() {
    let stack = Stack::with_plugin(&base());
    let r = stack.send(
        Request::post("/x", "{}")
            .header("x-agent-trace-id", [0xff, 0xfe])
            .header("x-user-override", [0xc3])
            .header("traceparent", [0x80, 0x81]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(is_uuid_v4(r.header("x-agent-trace-id").unwrap()));
    // The VM is still alive.
    assert_eq!(stack.send(Request::post("/x", "{}")).status, 200);
    assert!(!stack.envoy.log_text().contains("panicked"));
}

#[test]
fn without_header_hold_the_body_is_still_decided_before_the_agent_gets_it() {
    // What Istio's WasmPlugin gives: no allow_on_headers_stop_iteration.
    let stack = Stack::builder()
        .plugin(&with(legacy(), |v| v["hold_headers"] = json!(false)))
        .envoy(|c| c.set_allow_headers_stop(false))
        .start();
    let r = stack
        .send(Request::post("/s", format!("ssn {SSN}")).header("x-agent-trace-id", "stream-1"));
    assert_eq!(r.status, 403);
    // The headers went on before the body was decided; the body never did.
    stack.assert_body_never_reached_agent("stream-1");
    let r = stack.send(Request::post("/s", "fine").header("x-agent-trace-id", "stream-2"));
    assert_eq!(r.status, 200);
    assert_eq!(stack.agent_requests_for("stream-2")[0]["body"], "fine");
    let r = stack.send(Request::post("/s", EMAIL).header("x-user-override", "true"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-agent-quarantined"), Some("true"));
    assert!(!stack.envoy.log_text().contains("panicked"));
}

#[test]
fn upgrade_requests_are_decided_on_their_headers_without_waiting_for_a_body() {
    let stack = Stack::builder()
        .plugin(&base())
        .envoy(|c| c.enable_websocket())
        .start();
    let ws = |path: &str| {
        Request::get(path)
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    };
    // The mock agent does not speak WebSocket and answers 200: what matters is that the
    // request was decided and forwarded instead of waiting for a body that never ends.
    let r = stack.send(ws("/ws").header("x-agent-trace-id", "ws-1"));
    assert_eq!(r.status, 200);
    assert_eq!(stack.agent_requests_for("ws-1").len(), 1);
    let r = stack.send(ws("/ws?ssn=123-45-6789").header("x-agent-trace-id", "ws-2"));
    assert_eq!(r.status, 403);
    stack.assert_never_reached_agent("ws-2");
}

#[test]
fn encoded_values_are_seen_as_the_agent_will_see_them() {
    let stack = Stack::with_plugin(&base());
    // A percent-encoded e-mail in the query string.
    let r = stack
        .send(Request::get("/find?who=jane.doe%40example.com").header("x-agent-trace-id", "enc-1"));
    assert_eq!(r.status, 449);
    let events = stack.events_for("enc-1", 2);
    assert_eq!(events[0]["path"], "/find?who=[EMAIL_REDACTED]");
    // A JSON-escaped SSN.
    let r = stack.send(
        Request::post("/x", r#"{"ssn":"123\u002d45\u002d6789"}"#)
            .header("x-agent-trace-id", "enc-2"),
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        stack.events_for("enc-2", 2)[0]["payload"],
        r#"{"ssn":"[SSN_REDACTED]"}"#
    );
    // A form-encoded card.
    let r = stack.send(
        Request::new("POST", "/pay")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("card=4111+1111+1111+1111&amount=10"),
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["detected"], json!(["credit_card"]));
    stack.assert_never_reached_agent("enc-2");
}

#[test]
fn timestamps_and_ids_are_not_taken_for_cards() {
    let stack = Stack::with_plugin(&base());
    // Luhn-valid 13-digit epoch milliseconds and a 19-digit id.
    let body =
        r#"{"created_at":1700000000004,"id":1234567890123456785,"order":"4111111111111112"}"#;
    let r = stack.send(Request::post("/x", body));
    assert_eq!(r.status, 200, "{}", r.text());
}
