//! Per-route policy in a real Envoy: profiles picked by a route's `filter_metadata`
//! (`iatp.profile`), and routes where Envoy turns the filter off (`disabled`), such as the
//! shipped configuration's health check.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::http::send_raw;
use crate::harness::{Request, Stack};

const SSN: &str = r#"{"note":"ssn 536-22-1234"}"#;

fn policy() -> Value {
    json!({
        "manifest": {"identity": {"agent_id": "routes-agent"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"allow_override": false,
                   "block_rules": [{"name": "no_ssn", "condition": "has_ssn", "action": "block"}]},
        "profiles": {
            "open": {"policy": {"block_rules": []}},
            "watch": {"mode": "monitor"},
            "tiny": {"limits": {"max_body_bytes": 4}}
        }
    })
}

/// A route for paths under `prefix` to the agent, whose metadata names `profile` (any JSON).
fn profile_route(prefix: &str, profile: Value) -> Value {
    json!({
        "match": {"prefix": prefix},
        "route": {"cluster": "agent", "timeout": "10s"},
        "metadata": {"filter_metadata": {"iatp": {"profile": profile}}}
    })
}

fn stack() -> Stack {
    Stack::builder()
        .plugin(&policy())
        .envoy(|c| {
            let routes = c.routes();
            for (i, (prefix, profile)) in [
                ("/open/", json!("open")),
                ("/watch/", json!("watch")),
                ("/tiny/", json!("tiny")),
                ("/typo/", json!("opne")),
                ("/number/", json!(7)),
                // Metadata of another filter's namespace names no profile of ours.
                ("/other/", Value::Null),
            ]
            .into_iter()
            .enumerate()
            {
                let mut route = profile_route(prefix, profile.clone());
                if profile.is_null() {
                    route["metadata"] = json!({"filter_metadata": {"other": {"profile": "open"}}});
                }
                routes.insert(i, route);
            }
        })
        .start()
}

fn post(stack: &Stack, path: &str, body: &str, trace: &str) -> crate::harness::http::Response {
    stack.send(
        Request::post(path, body)
            .header("content-type", "application/json")
            .header("x-agent-trace-id", trace),
    )
}

#[test]
fn a_routes_metadata_picks_the_profile_that_judges_its_requests() {
    let stack = stack();
    // The base policy blocks the SSN.
    let r = post(&stack, "/book", SSN, "route-base");
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["rule"], "no_ssn");
    stack.assert_never_reached_agent("route-base");
    let lines = stack.events_for("route-base", 2);
    assert!(
        lines.iter().all(|l| l.get("profile").is_none()),
        "{lines:?}"
    );

    // `open` has no rule: forwarded, the request line names the profile.
    let r = post(&stack, "/open/book", SSN, "route-open");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(stack.agent_requests_for("route-open").len(), 1);
    let lines = stack.events_for("route-open", 2);
    assert_eq!(lines[0]["type"], "request");
    assert_eq!(lines[0]["profile"], "open");
    assert_eq!(lines[0]["detected"], json!(["ssn"]));
    assert!(!format!("{lines:?}").contains("536-22"));

    // `watch` monitors: forwarded, and what enforcement would have done is said.
    let r = post(&stack, "/watch/book", SSN, "route-watch");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-agent-policy"), Some("block"));
    let lines = stack.events_for("route-watch", 3);
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "blocked" && l["mode"] == "monitor"),
        "{lines:?}"
    );

    // `tiny` has its own body limit; the base's is 10 MiB.
    let r = post(&stack, "/tiny/book", r#"{"a":"hello"}"#, "route-tiny");
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.json()["limit_bytes"], 4);
    let r = post(&stack, "/book", r#"{"a":"hello"}"#, "route-base-ok");
    assert_eq!(r.status, 200, "{}", r.text());

    // Another namespace's `profile` is not ours: the base judges.
    let r = post(&stack, "/other/book", SSN, "route-other");
    assert_eq!(r.status, 403, "{}", r.text());
}

#[test]
fn a_route_naming_a_profile_the_configuration_lacks_is_refused_fail_closed() {
    let stack = stack();
    let before = stack
        .envoy
        .prometheus(r#"iatp_local_replies_total{status="500"}"#);
    for (path, trace, says) in [
        ("/typo/book", "route-typo", "the route names profile 'opne'"),
        ("/number/book", "route-number", "is not a profile name"),
    ] {
        let r = post(&stack, path, r#"{"a":1}"#, trace);
        assert_eq!(r.status, 500, "{path}: {}", r.text());
        let body = r.json();
        assert_eq!(body["trace_id"], trace);
        assert!(
            body["error"].as_str().unwrap().contains("profile"),
            "{body}"
        );
        assert!(!r.text().contains("opne"), "{}", r.text());
        stack.assert_never_reached_agent(trace);
        let lines = stack.events_for(trace, 2);
        let error = lines.iter().find(|l| l["type"] == "error").unwrap();
        assert!(error["error"].as_str().unwrap().contains(says), "{error}");
        assert_eq!(error["status"], 500);
    }
    // Counted as the filter's replies (the counters reach Envoy once a second).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = stack
            .envoy
            .prometheus(r#"iatp_local_replies_total{status="500"}"#);
        if now - before >= 2.0 {
            break;
        }
        assert!(Instant::now() < deadline, "500s counted: {before} -> {now}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_health_check_route_is_not_seen_by_the_filter_and_reaches_nobody() {
    // The shipped inbound configurations' routes (the filter inline, or discovered through
    // ECDS under another name), with a policy that blocks an SSN anywhere.
    for file in ["envoy/envoy.yaml", "envoy/envoy-ecds.yaml"] {
        let stack = Stack::builder().config_file(file).plugin(&policy()).start();
        health_checks(&stack, file);
    }
}

fn health_checks(stack: &Stack, file: &str) {
    let r = stack.send(Request::get("/healthz").header("x-agent-trace-id", "health-probe"));
    assert_eq!(r.status, 200, "{file}: {}", r.text());
    assert_eq!(r.text(), "ok\n");
    // The filter sets these on every response it sees, its own replies included.
    assert_eq!(r.header("x-agent-trust-score"), None, "{file}");
    assert_eq!(r.header("x-agent-trace-id"), None);
    // Envoy answers: whatever a probe carries (a query, a body, chunked or not) reaches no
    // agent.
    let r = stack.send(
        Request::get("/healthz?ssn=536-22-1234")
            .header("x-agent-trace-id", "health-query")
            .body(SSN),
    );
    assert_eq!(r.status, 200, "{file}: {}", r.text());
    let chunked = format!(
        "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Agent-Trace-ID: health-chunked\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{SSN}\r\n0\r\n\r\n",
        SSN.len()
    );
    let r = send_raw(stack.addr(), chunked.as_bytes());
    assert_eq!(r.status, 200, "{file}: {}", r.text());
    for trace in ["health-probe", "health-query", "health-chunked"] {
        stack.assert_never_reached_agent(trace);
    }
    // Another method or path is an ordinary request: judged by the filter.
    let r = post(stack, "/healthz", SSN, "health-post");
    assert_eq!(r.status, 403, "{file}: {}", r.text());
    stack.assert_never_reached_agent("health-post");
    for path in ["/healthz/", "/HEALTHZ", "/healthz2"] {
        let r = stack.send(Request::get(path).header("x-agent-trace-id", "health-other"));
        assert_ne!(
            r.header("x-agent-trust-score"),
            None,
            "{path}: not filtered"
        );
    }

    // The probes wrote no event line: a later request's lines are there, theirs are not.
    let r = post(stack, "/book", r#"{"a":1}"#, "health-after");
    assert_eq!(r.status, 200);
    stack.events_for("health-after", 2);
    let probe_lines: Vec<Value> = stack
        .events()
        .into_iter()
        .filter(|l| {
            l["trace_id"]
                .as_str()
                .is_some_and(|t| t.starts_with("health-"))
        })
        .filter(|l| {
            !matches!(
                l["trace_id"].as_str(),
                Some("health-post" | "health-other" | "health-after")
            )
        })
        .collect();
    assert_eq!(probe_lines, Vec::<Value>::new(), "{file}");
}
