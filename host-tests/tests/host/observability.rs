//! The flight recorder and the metrics, in a real Envoy: counters and histograms at
//! `/stats/prometheus` after a known sequence of requests, error events for what goes wrong
//! after the decision, and the hash chain of a real events file checked by the verifier
//! command after concurrent load on two workers.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::http::send_raw;
use crate::harness::{paths, read_text, Request, Stack};

const SSN: &str = "123-45-6789";
const EMAIL: &str = "jane.doe@example.com";

/// trusted + partial reversibility + ephemeral retention: trust score 10.
fn plugin(mode: &str) -> Value {
    json!({
        "mode": mode,
        "manifest": {
            "identity": {"agent_id": "metrics-agent"},
            "trust_level": "trusted",
            "reversibility": {"level": "partial"},
            "privacy": {"retention": "ephemeral"}
        },
        "agent_card": {"url": "https://metrics-agent.example/"},
        "policy": {"block_rules": [
            {"name": "no_ssn", "condition": "has_ssn", "action": "block"},
            {"name": "confirm_email", "condition": "has_email", "action": "warn"}
        ], "legacy_override": true},
        "limits": {"max_body_bytes": 1024}
    })
}

fn iatp_series(stack: &Stack) -> String {
    stack
        .envoy
        .prometheus_text()
        .lines()
        .filter(|l| l.starts_with("iatp_"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn metrics_count_decisions_detections_replies_events_and_bytes() {
    let stack = Stack::builder()
        .plugin(&plugin("enforce"))
        .envoy(|c| c.set_stats_flush_interval("0.2s"))
        .start();
    let clean = r#"{"task":"book","seats":2}"#;
    let email = format!(r#"{{"contact":"{EMAIL}"}}"#);
    let ssn = format!(r#"{{"ssn":"{SSN}"}}"#);
    assert_eq!(stack.send(Request::get("/status")).status, 200);
    assert_eq!(stack.send(Request::post("/book", clean)).status, 200);
    assert_eq!(stack.send(Request::post("/book", &email)).status, 449);
    let over = Request::post("/book", &email).header("x-user-override", "true");
    assert_eq!(stack.send(over).status, 200);
    assert_eq!(stack.send(Request::post("/book", &ssn)).status, 403);
    assert_eq!(
        stack.send(Request::post("/big", "x".repeat(2000))).status,
        413
    );
    let card = Request::get("/.well-known/agent-card.json");
    assert_eq!(stack.send(card).status, 200);

    let p = |s: &str| stack.envoy.prometheus(s);
    stack
        .envoy
        .wait_for_prometheus(r#"iatp_logs_written_total{event="request"}"#, 7.0);
    for (decision, n) in [
        ("allow", 2.0),
        ("warn", 1.0),
        ("override", 1.0),
        ("block", 1.0),
        ("monitor", 0.0),
    ] {
        assert_eq!(
            p(&format!(
                r#"iatp_requests_total{{phase="request",decision="{decision}"}}"#
            )),
            n,
            "{decision}:\n{}",
            iatp_series(&stack)
        );
        // Enforcing: what the policy said is what was done.
        let result =
            format!(r#"iatp_policy_evaluations_total{{phase="request",result="{decision}"}}"#);
        assert_eq!(p(&result), n, "{result}");
    }
    assert_eq!(
        p(r#"iatp_detections_total{phase="request",detector="email"}"#),
        2.0
    );
    assert_eq!(
        p(r#"iatp_detections_total{phase="request",detector="ssn"}"#),
        1.0
    );
    assert_eq!(
        p(r#"iatp_detections_total{phase="request",detector="credit_card"}"#),
        0.0
    );
    for (status, n) in [("200", 1.0), ("403", 1.0), ("413", 1.0), ("449", 1.0)] {
        assert_eq!(
            p(&format!(r#"iatp_local_replies_total{{status="{status}"}}"#)),
            n,
            "{status}"
        );
    }
    // The five evaluated bodies (the GET has none, the 413 is never read).
    let scanned = (clean.len() + 2 * email.len() + ssn.len()) as f64;
    assert_eq!(
        p(r#"iatp_body_bytes_scanned_total{phase="request"}"#),
        scanned
    );
    for (event, n) in [
        ("response", 3.0),
        ("warning", 1.0),
        ("override", 1.0),
        ("blocked", 1.0),
        ("error", 1.0),
    ] {
        assert_eq!(
            p(&format!(r#"iatp_logs_written_total{{event="{event}"}}"#)),
            n,
            "{event}"
        );
    }
    // Histograms, once flushed: one trust score (10) and one scan time per evaluation.
    stack
        .envoy
        .wait_for_prometheus("iatp_trust_score_distribution_count", 5.0);
    assert_eq!(p(r#"iatp_trust_score_distribution_bucket{le="9"}"#), 0.0);
    assert_eq!(p(r#"iatp_trust_score_distribution_bucket{le="10"}"#), 5.0);
    stack
        .envoy
        .wait_for_prometheus("iatp_scan_duration_us_count", 5.0);
    // And Envoy's own counters agree on what reached the agent: the probe-free run sent the
    // GET, the clean POST and the overridden one.
    assert_eq!(stack.envoy.stat("cluster.agent.upstream_rq_total"), 3);
}

#[test]
fn monitor_mode_counts_what_it_did_and_what_enforcement_would_have_done() {
    let stack = Stack::builder()
        .plugin(&plugin("monitor"))
        .envoy(|c| c.set_stats_flush_interval("0.2s"))
        .start();
    let r = stack.send(Request::post("/book", format!(r#"{{"ssn":"{SSN}"}}"#)));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-agent-policy"), Some("block"));
    stack.envoy.wait_for_prometheus(
        r#"iatp_requests_total{phase="request",decision="monitor"}"#,
        1.0,
    );
    let p = |s: &str| stack.envoy.prometheus(s);
    assert_eq!(
        p(r#"iatp_requests_total{phase="request",decision="block"}"#),
        0.0
    );
    assert_eq!(
        p(r#"iatp_policy_evaluations_total{phase="request",result="block"}"#),
        1.0
    );
    assert_eq!(p(r#"iatp_local_replies_total{status="403"}"#), 0.0);
}

#[test]
fn error_events_for_upstream_reset_timeout_and_a_client_gone_mid_body() {
    // Keyed: the lines are sealed with HMAC-SHA256.
    let mut keyed = plugin("enforce");
    keyed["events"] = json!({"chain_key": CHAIN_KEY});
    let stack = Stack::builder()
        .plugin(&keyed)
        .envoy(|c| c.set_route_timeout("0.5s"))
        .start();

    let r = stack.send(Request::post("/book", "{}").header("x-mock-reset", "1"));
    assert_eq!(r.status, 503);
    let trace = r.header("x-agent-trace-id").unwrap().to_string();
    let ev = stack.events_for(&trace, 3);
    assert_eq!(ev[1]["type"], "response");
    assert_eq!(ev[1]["status"], 503);
    assert_eq!(ev[2]["type"], "error");
    assert_eq!(ev[2]["status"], 503);
    let error = ev[2]["error"].as_str().unwrap();
    assert!(
        error.starts_with("Envoy answered 503: upstream_reset_before_response_started"),
        "{error}"
    );

    let r = stack.send(Request::post("/book", "{}").header("x-mock-delay-ms", "3000"));
    assert_eq!(r.status, 504);
    let trace = r.header("x-agent-trace-id").unwrap().to_string();
    let ev = stack.events_for(&trace, 3);
    assert!(
        ev[1]["latency_ms"].as_f64().unwrap() >= 400.0,
        "{:?}",
        ev[1]
    );
    assert_eq!(
        ev[2]["error"], "Envoy answered 504: response_timeout",
        "{:?}",
        ev[2]
    );

    // A client that sends half its body and hangs up: the request is recorded with what came,
    // and an error says it never completed. No response line: there was no response.
    let partial = b"POST /half HTTP/1.1\r\nhost: x\r\nx-agent-trace-id: half-body-1\r\n\
        content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"a\":\"0123456789";
    assert!(try_send_raw_and_close(&stack, partial));
    let ev = stack.events_for("half-body-1", 2);
    assert_eq!(ev.len(), 2, "{ev:#?}");
    assert_eq!(ev[0]["type"], "request");
    assert_eq!(ev[0]["path"], "/half");
    assert_eq!(ev[0]["body_bytes"], 16);
    assert_eq!(ev[1]["type"], "error");
    let error = ev[1]["error"].as_str().unwrap();
    assert!(
        error.starts_with("the stream ended before the request was complete"),
        "{error}"
    );
    assert!(ev[1].get("status").is_none(), "{:?}", ev[1]);
    stack.assert_body_never_reached_agent("half-body-1");

    // Every line of the run is sealed into the worker's one chain, which verifies with the
    // key, and only with it.
    let events = stack.events_path();
    let out = verify_keyed(&[events.to_str().unwrap()], Some(CHAIN_KEY));
    assert!(out.0, "{}", out.1);
    assert!(out.1.contains("(HMAC-SHA256)"), "{}", out.1);
    let out = verify(&[events.to_str().unwrap()]);
    assert!(!out.0 && out.1.contains("hash mismatch"), "{}", out.1);
    let out = verify_keyed(
        &[events.to_str().unwrap()],
        Some("another key of 16+ bytes"),
    );
    assert!(!out.0, "{}", out.1);
    // Envoy's log names the chain.
    let chain = stack.events()[0]["chain"].as_str().unwrap().to_string();
    assert!(
        stack
            .envoy
            .log_text()
            .contains(&format!("events chain {chain} started (HMAC-SHA256)")),
        "{}",
        stack.envoy.log_text()
    );
}

const CHAIN_KEY: &str = "a test key, not a secret";

/// Writes `bytes`, then closes the connection without reading an answer.
fn try_send_raw_and_close(stack: &Stack, bytes: &[u8]) -> bool {
    use std::io::Write;
    let Ok(mut s) = std::net::TcpStream::connect(stack.addr()) else {
        return false;
    };
    let ok = s.write_all(bytes).is_ok() && s.flush().is_ok();
    // Give Envoy time to read what was sent before the hang-up.
    std::thread::sleep(Duration::from_millis(200));
    drop(s);
    ok
}

/// Runs the verifier command: (success, its output).
fn verify(files: &[&str]) -> (bool, String) {
    verify_keyed(files, None)
}

fn verify_keyed(files: &[&str], key: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(paths::verifier());
    if let Some(k) = key {
        cmd.env("IATP_TEST_CHAIN_KEY", k)
            .args(["--key-env", "IATP_TEST_CHAIN_KEY"]);
    }
    let out = cmd.args(files).output().expect("run iatp-verify");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "iatp-verify failed to run: {out:?}"
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_chain_verifies_after_concurrent_load_on_two_workers_and_breaks_when_a_line_changes() {
    let stack = Stack::builder()
        .plugin(&plugin("enforce"))
        .workers(2)
        .start();
    const THREADS: usize = 8;
    const PER_THREAD: usize = 25;
    let addr = stack.addr();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let body = match (t + i) % 3 {
                        0 => format!(r#"{{"n":{i},"note":"plain"}}"#),
                        1 => format!(r#"{{"n":{i},"contact":"{EMAIL}"}}"#),
                        _ => format!(r#"{{"n":{i},"ssn":"{SSN}"}}"#),
                    };
                    // A new connection per request: the kernel spreads them over both workers.
                    let r = send_raw(addr, &Request::post("/load", body).to_bytes());
                    assert!(matches!(r.status, 200 | 449 | 403), "{}", r.status);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("load thread");
    }
    // Two lines per request: request, then response, warning or blocked.
    let want = 2 * THREADS * PER_THREAD;
    let path = stack.events_path();
    let deadline = Instant::now() + Duration::from_secs(10);
    while read_text(&path).lines().count() < want {
        assert!(Instant::now() < deadline, "events file incomplete");
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = read_text(&path);
    assert_eq!(text.lines().count(), want);

    let (ok, report) = verify(&[path.to_str().unwrap()]);
    assert!(ok, "{report}");
    assert!(
        report.contains(&format!("{want} line(s), 2 chain(s)")),
        "{report}"
    );
    assert_eq!(report.matches(": ok").count(), 2, "{report}");

    // Change one value in one line, keeping it valid JSON: caught at that line.
    let lines: Vec<&str> = text.lines().collect();
    let victim = lines
        .iter()
        .position(|l| l.contains(r#""status":403"#))
        .expect("a blocked line");
    let mut altered = lines.clone();
    let edited = lines[victim].replace(r#""status":403"#, r#""status":200"#);
    altered[victim] = &edited;
    let tampered = stack.dir.path.join("tampered.jsonl");
    std::fs::write(&tampered, altered.join("\n") + "\n").unwrap();
    let (ok, report) = verify(&[tampered.to_str().unwrap()]);
    assert!(!ok, "{report}");
    assert!(
        report.contains(&format!(
            "BROKEN at {}:{}: hash mismatch",
            tampered.display(),
            victim + 1
        )),
        "{report}"
    );

    // Delete one line instead: the next line of its chain is out of sequence.
    let mut short = lines.clone();
    short.remove(victim);
    std::fs::write(&tampered, short.join("\n") + "\n").unwrap();
    let (ok, report) = verify(&[tampered.to_str().unwrap()]);
    assert!(!ok, "{report}");
    assert!(report.contains("line(s) missing before it"), "{report}");

    // Delete the first line of the file (the first of its chain): the chain's start is missing.
    std::fs::write(&tampered, lines[1..].join("\n") + "\n").unwrap();
    let (ok, report) = verify(&[tampered.to_str().unwrap()]);
    assert!(!ok, "{report}");
    assert!(
        report.contains("its first 1 line(s) are missing"),
        "{report}"
    );

    // Split the file in two: the second half verifies on its own when anchored where the
    // first half ended (as a rotated log would be checked).
    let (head, tail) = lines.split_at(lines.len() / 2);
    let first = stack.dir.path.join("part1.jsonl");
    let second = stack.dir.path.join("part2.jsonl");
    std::fs::write(&first, head.join("\n") + "\n").unwrap();
    std::fs::write(&second, tail.join("\n") + "\n").unwrap();
    let (ok, report) = verify(&[first.to_str().unwrap(), second.to_str().unwrap()]);
    assert!(ok, "{report}");
    let (ok, first_report) = verify(&[first.to_str().unwrap()]);
    assert!(ok, "{first_report}");
    let mut cmd = Command::new(paths::verifier());
    for l in first_report.lines().filter(|l| l.starts_with("chain ")) {
        let end = l
            .split(", ends ")
            .nth(1)
            .unwrap()
            .split(": ")
            .next()
            .unwrap();
        cmd.args(["--anchor", end]);
    }
    let out = cmd.arg(&second).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_trace_id_holding_a_sensitive_value_is_replaced() {
    let stack = Stack::with_plugin(&plugin("enforce"));
    // The header holds an SSN: it counts like one in the body (this policy blocks SSNs), and
    // the id is never used.
    let r = stack.send(Request::post("/book", "{}").header("x-agent-trace-id", SSN));
    assert_eq!(r.status, 403, "{}", r.text());
    let trace = r.header("x-agent-trace-id").unwrap().to_string();
    assert_ne!(trace, SSN);
    assert_eq!(trace.len(), 36, "a new UUID: {trace}");
    let events = stack.events_for(&trace, 2);
    assert_eq!(
        events[0]["headers"],
        json!([{"name": "x-agent-trace-id", "detected": ["ssn"]}])
    );
    assert!(!read_text(&stack.events_path()).contains(SSN));

    // A W3C trace id with a card number inside a hex word: not used, and its traceparent is
    // not forwarded (this policy has no rule on cards, so the request goes through).
    let tp = "00-4111111111111111abcdefabcdefabcd-00f067aa0ba902b7-01";
    let r = stack.send(
        Request::post("/book", "{}")
            .header("traceparent", tp)
            .header("tracestate", "v=1"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let trace = r.header("x-agent-trace-id").unwrap().to_string();
    assert!(!trace.contains("4111111111111111"), "{trace}");
    assert_eq!(trace.len(), 36, "a new UUID: {trace}");
    let got = stack.agent_requests_for(&trace);
    assert_eq!(got.len(), 1, "the agent gets the new id");
    assert!(got[0]["headers"].get("traceparent").is_none(), "{got:?}");
    assert!(got[0]["headers"].get("tracestate").is_none(), "{got:?}");
    // Digits inside a hex word do not count as a value for the rules (ids would turn into
    // false cards); the id is refused all the same, and nothing of it is written.
    let events = stack.events_for(&trace, 2);
    assert_eq!(events[0]["detected"], json!([]));
    assert!(!read_text(&stack.events_path()).contains("4111111111111111"));

    // An ordinary caller id is kept.
    let r = stack.send(Request::post("/book", "{}").header("x-agent-trace-id", "order-42.a"));
    assert_eq!(r.header("x-agent-trace-id"), Some("order-42.a"));
}

/// envoy/envoy-otel.yaml, with a mock standing in for the OpenTelemetry collector. OTLP/HTTP
/// sends protobuf; the event lines travel in it as plain strings, which is what is checked.
#[test]
fn the_opentelemetry_example_sends_event_lines_and_spans_to_the_collector() {
    let collector_dir = crate::harness::Scratch::new();
    let collector = crate::harness::MockAgent::start(&collector_dir.path);
    let port = collector.addr.port();
    let stack = Stack::builder()
        .config_file("envoy/envoy-otel.yaml")
        .plugin(&plugin("enforce"))
        .envoy(|c| c.set_cluster_port("otel_collector", port))
        .start();
    // A caller that sends a W3C traceparent: the filter's trace id is its trace id.
    let w3c = "4bf92f3577b34da6a3ce929d0e0e4736";
    let r = stack.send(
        Request::post("/book", format!(r#"{{"ssn":"{SSN}"}}"#))
            .header("traceparent", format!("00-{w3c}-00f067aa0ba902b7-01")),
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-agent-trace-id"), Some(w3c));
    let file_lines = stack.events_for(w3c, 2);

    let deadline = Instant::now() + Duration::from_secs(15);
    let (logs, traces) = loop {
        let records = collector.requests();
        let body_of = |path: &str| -> String {
            records
                .iter()
                .filter(|r| r["path"] == path)
                .filter_map(|r| r["body"].as_str())
                .collect()
        };
        let (logs, traces) = (body_of("/v1/logs"), body_of("/v1/traces"));
        // Protobuf carries a span's trace id as 16 raw bytes: look for them in the hex.
        let traces_hex: String = records
            .iter()
            .filter(|r| r["path"] == "/v1/traces")
            .filter_map(|r| r["body_hex"].as_str())
            .collect();
        if logs.contains("\"type\":\"blocked\"") && traces_hex.contains(w3c) {
            break (logs, traces);
        }
        assert!(
            Instant::now() < deadline,
            "collector got logs {logs:?} traces {traces:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // The log record's body is the request's event lines, exactly as the file has them.
    let text = read_text(&stack.events_path());
    let in_file: Vec<&str> = text.lines().filter(|l| l.contains(w3c)).collect();
    assert_eq!(in_file.len(), file_lines.len());
    assert!(logs.contains(&in_file.join("\n")), "{logs:?}");
    assert!(logs.contains("iatp.trace_id") && logs.contains("iatp-envoy"));
    // The span continues the caller's trace (its trace id, above) and carries the filter's
    // trace id as a tag.
    assert!(traces.contains("iatp.trace_id"), "{traces:?}");
    assert!(traces.contains(w3c), "{traces:?}");
}
