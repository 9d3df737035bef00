//! Second round of attacks on gateway mode (issue 14) in a real Envoy: the request's body and
//! trailers while its target's manifest is being fetched. A failing test is a finding of
//! `/work/notes/i14-attack2.md`; passing ones pin a property.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::http::send_h2;
use crate::harness::{Gateway, TargetSpec};

const SSN: &str = "123-45-6789";

/// A gateway whose manifests are fetched (fail closed), one contract allowing the loopback
/// mocks, and a rule that blocks any SSN whatever the target; `extra` merged in.
fn plugin(extra: Value) -> Value {
    let mut cfg = json!({
        "mode": "enforce",
        "manifest": {"identity": {"agent_id": "gw"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "well_known": {"agent_card": false},
        "policy": {"block_rules": [{"name": "no_ssn", "condition": "has_ssn", "action": "block"}]},
        "gateway": {"manifests": {"fail": "closed"}},
        "contracts": [{"id": "c1", "tenant_id": "t1",
                       "allowed_targets": {"address_classes": ["loopback"]}}],
    });
    if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    cfg
}

/// A target with a manifest that answers it after `delay_ms`: the request's body arrives
/// while the fetch is under way.
fn slow_target(gw_builder: crate::harness::gateway::GatewayBuilder) -> Gateway {
    let gw = gw_builder
        .http_target_with(TargetSpec {
            name: "slow".into(),
            manifest: Some(
                json!({"identity": {"agent_id": "slow"}, "trust_level": "standard",
                                  "privacy": {"retention": "ephemeral"}}),
            ),
            ..TargetSpec::default()
        })
        .start();
    gw.target(0).set(&json!({"manifest_delay_ms": 400}));
    gw
}

/// The bodies the target received with an SSN in them.
fn leaked(gw: &Gateway) -> Vec<String> {
    gw.target(0)
        .requests()
        .iter()
        .filter_map(|r| r["body"].as_str().map(str::to_string))
        .filter(|b| b.contains(SSN))
        .collect()
}

/// Finding 1 in Envoy: an HTTP/2 request whose body and trailers arrive while the target's
/// manifest is fetched. The filter then decides on a body of 0 bytes: the SSN reaches the
/// target. (Without trailers the same request is refused 403.)
#[test]
fn trailers_sent_while_the_manifest_is_fetched_do_not_hide_the_body() {
    let gw = slow_target(Gateway::builder().plugin(&plugin(json!({}))));
    let url = gw.target(0).url("");
    let body = format!(r#"{{"note": "my ssn is {SSN}"}}"#);
    let headers = [
        format!("x-target-endpoint: {url}"),
        "x-contract-id: c1".to_string(),
        "content-type: application/json".to_string(),
    ];
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    // The control (the same request without trailers) is the next test, on a fresh gateway.
    let with_trailers = send_h2(
        gw.addr(),
        "POST",
        "/v1/chat",
        &headers,
        Some(&body),
        &["x-checksum: abc"],
    );
    let leaks = leaked(&gw);
    assert!(
        with_trailers.status == 403 && leaks.is_empty(),
        "status {} {}; the target received: {leaks:#?}",
        with_trailers.status,
        with_trailers.text()
    );
}

/// Pinned: the same request without trailers, to a cold target, is refused.
#[test]
fn a_body_sent_while_the_manifest_is_fetched_is_scanned() {
    let gw = slow_target(Gateway::builder().plugin(&plugin(json!({}))));
    let url = gw.target(0).url("");
    let body = format!(r#"{{"note": "my ssn is {SSN}"}}"#);
    let headers = [
        format!("x-target-endpoint: {url}"),
        "x-contract-id: c1".to_string(),
        "content-type: application/json".to_string(),
    ];
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let r = send_h2(gw.addr(), "POST", "/v1/chat", &headers, Some(&body), &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(leaked(&gw).is_empty());
}

/// Finding 2 in Envoy: `hold_headers: false` with `gateway.manifests`. The client sends the
/// headers and the first part of its body (with the SSN) at once, then the rest a second later.
/// The first part arrives while the manifest is fetched and is buffered by Envoy; when the
/// manifest comes the filter resumes the request, and Envoy forwards the buffered part with
/// the headers, unscanned.
#[test]
fn without_hold_headers_a_body_part_sent_while_the_manifest_is_fetched_is_not_forwarded_unscanned()
{
    let gw = slow_target(Gateway::builder().plugin(&plugin(json!({"hold_headers": false}))));
    let url = gw.target(0).url("");
    let first = format!(r#"{{"note": "my ssn is {SSN}"#);
    let rest = r#"", "more": "text"}"#;
    let len = first.len() + rest.len();
    let mut s = TcpStream::connect(gw.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /v1/chat HTTP/1.1\r\nhost: gw\r\nx-target-endpoint: {url}\r\nx-contract-id: c1\r\n\
         content-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
    );
    s.write_all(format!("{head}{first}").as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let _ = s.write_all(rest.as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    let status_line = text.lines().next().unwrap_or("").to_string();
    std::thread::sleep(Duration::from_millis(200));
    let leaks = leaked(&gw);
    assert!(
        leaks.is_empty(),
        "the target received the SSN ({status_line}): {leaks:#?}"
    );
}

/// Pinned: the target's response is held to the contract the request was routed under (not
/// to an inbound contract): the same echo of an SSN is refused under a contract bounding SSN
/// findings to 0 and passes under one without bounds.
#[test]
fn a_targets_response_is_held_to_the_routes_contract() {
    let cfg = json!({
        "mode": "enforce",
        "manifest": {"identity": {"agent_id": "gw"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "well_known": {"agent_card": false},
        "gateway": {},
        "contracts": [
            {"id": "strict", "tenant_id": "t1", "envelope": {"findings": {"ssn": {"max": 0}}},
             "allowed_targets": {"address_classes": ["loopback"]}},
            {"id": "lax", "tenant_id": "t1",
             "allowed_targets": {"address_classes": ["loopback"]}}],
    });
    let gw = Gateway::builder().plugin(&cfg).http_targets(1).start();
    let url = gw.target(0).url("");
    let body = format!(r#"{{"note": "my ssn is {SSN}"}}"#);
    let send = |contract: &str| {
        gw.send(
            crate::harness::Request::post("/v1/chat", body.as_bytes())
                .header("content-type", "application/json")
                .header("x-target-endpoint", &url)
                .header("x-contract-id", contract),
        )
    };
    let lax = send("lax");
    assert_eq!(lax.status, 200, "{}", lax.text());
    let strict = send("strict");
    assert_eq!(strict.status, 403, "{}", strict.text());
    assert!(!strict.text().contains(SSN), "{}", strict.text());
    assert!(strict.text().contains("strict"), "{}", strict.text());
}

/// Request `i` of the waiters' tests, on its own connection: a clean body (`i % 3 == 0`), an
/// SSN (`i % 3 == 1`), or a clean body whose connection is closed 150 ms after it was sent,
/// while the fetch it waits for is out (`i % 3 == 2`, outcome `"reset"`). The outcome is the
/// whole answer as text.
fn waiter(addr: std::net::SocketAddr, url: &str, i: usize) -> (usize, String) {
    let body = if i % 3 == 1 {
        format!(r#"{{"i": {i}, "note": "{SSN}"}}"#)
    } else {
        format!(r#"{{"i": {i}}}"#)
    };
    let mut sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let req = format!(
        "POST /p{i} HTTP/1.1\r\nhost: gw\r\nx-target-endpoint: {url}\r\n\
         x-contract-id: c1\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    sock.write_all(req.as_bytes()).unwrap();
    if i % 3 == 2 {
        std::thread::sleep(Duration::from_millis(150));
        let _ = sock.shutdown(std::net::Shutdown::Both);
        return (i, "reset".to_string());
    }
    let mut out = Vec::new();
    let _ = sock.read_to_end(&mut out);
    (i, String::from_utf8_lossy(&out).into_owned())
}

/// Eighteen requests to one slow target (manifest answered after 600 ms) on a two-worker
/// gateway: request `first` alone, and once the target has seen its manifest fetch, the
/// other seventeen, which wait for that fetch (some woken by the fetcher's callback, others
/// by their root's 20 ms tick). Returns the gateway after every waiter has its outcome,
/// with the outcomes that were wrong: each one still answered is decided on its own body
/// and goes to its own path; the reset ones and the SSN-bearing ones never reach the target.
fn eighteen_waiters(first: usize) -> (Gateway, Vec<String>) {
    let gw = Gateway::builder()
        .plugin(&plugin(json!({})))
        .http_target_with(TargetSpec {
            name: "slow".into(),
            manifest: Some(
                json!({"identity": {"agent_id": "slow"}, "trust_level": "standard",
                                  "privacy": {"retention": "ephemeral"}}),
            ),
            ..TargetSpec::default()
        })
        .workers(2)
        .start();
    gw.target(0).set(&json!({"manifest_delay_ms": 600}));
    let url = gw.target(0).url("");
    let addr = gw.addr();
    let outcomes: Vec<(usize, String)> = std::thread::scope(|s| {
        let url = url.as_str();
        let mut handles = vec![s.spawn(move || waiter(addr, url, first))];
        // The first request is the fetcher only once its fetch is at the target; before
        // that, any of the others could take the lease.
        let t0 = std::time::Instant::now();
        while gw.target(0).count("/.well-known/agent-manifest") == 0 {
            assert!(t0.elapsed() < Duration::from_secs(5), "no manifest fetch");
            std::thread::sleep(Duration::from_millis(5));
        }
        handles.extend(
            (0..18)
                .filter(|&i| i != first)
                .map(|i| s.spawn(move || waiter(addr, url, i))),
        );
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut wrong = Vec::new();
    for (i, text) in &outcomes {
        let status = text.lines().next().unwrap_or("").to_string();
        let ok = match i % 3 {
            0 => status.contains(" 200 ") && text.contains(&format!("\"path\": \"/p{i}\"")),
            1 => status.contains(" 403 "),
            _ => true,
        };
        if !ok {
            wrong.push(format!("{i}: {text}"));
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut got: Vec<String> = gw
        .target(0)
        .requests()
        .iter()
        .filter_map(|r| r["path"].as_str().map(str::to_string))
        .filter(|p| p.starts_with("/p"))
        .collect();
    let mut want: Vec<String> = (0..18)
        .filter(|i| i % 3 == 0)
        .map(|i| format!("/p{i}"))
        .collect();
    want.sort();
    got.sort();
    if got != want {
        wrong.push(format!(
            "paths that reached the target: {got:?}, want {want:?}"
        ));
    }
    (gw, wrong)
}

/// Pinned: many requests wait for one fetch, the first request's, which stays to the end;
/// a third of them are reset while waiting. Each one still answered is decided on its own
/// body and goes to its own path (nothing is carried out against another stream), the reset
/// ones never reach the target, the SSN-bearing ones are refused, and the manifest is
/// fetched once.
#[test]
fn waiters_woken_from_other_contexts_are_each_decided_on_their_own_stream() {
    let (gw, wrong) = eighteen_waiters(0);
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(gw.target(0).count("/.well-known/agent-manifest"), 1);
}

/// Pinned: the request whose fetch the others wait for is reset while its fetch is out.
/// Envoy cancels a stream's calls with the stream, so that fetch never stores; the waiters
/// see the lease end without an entry, and their root fetches once more for them: every
/// waiter is still decided on its own stream, and the manifest is fetched exactly twice.
/// (Seen in CI when the first of the eighteen to reach the filter was a reset one.)
#[test]
fn waiters_whose_fetcher_is_reset_are_served_by_one_fetch_of_their_root() {
    let (gw, wrong) = eighteen_waiters(2);
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(gw.target(0).count("/.well-known/agent-manifest"), 2);
}
