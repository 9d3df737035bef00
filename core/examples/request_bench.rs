//! Per-request cost of the filter's core, phase by phase: what one request costs inside the
//! Wasm module before any host call (reading headers, writing headers and filter state, and
//! the proxy-wasm calls themselves are Envoy's side). Built natively and for wasm32-wasip1 and
//! run by `scripts/bench.sh`, which prints both.
//!
//! Output: one line per phase, `phase<TAB>request<TAB>ns`.

use std::hint::black_box;
use std::time::Instant;

use iatp_core::chain::Chain;
use iatp_core::config;
use iatp_core::phases::{Exchange, RequestHead};

#[path = "support/bench_host.rs"]
mod bench_host;
use bench_host::Bench;

const CONFIG: &str = r#"{
  "manifest": {"identity": {"agent_id": "booking-agent"}, "trust_level": "standard",
               "reversibility": {"level": "partial"}, "privacy": {"retention": "ephemeral"}},
  "policy": {"block_rules": [
    {"name": "no_cards", "condition": "has_credit_card", "action": "block"},
    {"name": "no_ssns", "condition": "has_ssn", "action": "block"}]}
}"#;

fn body_1k() -> String {
    let mut msgs = Vec::new();
    let mut i = 0;
    while msgs.iter().map(|m: &String| m.len() + 1).sum::<usize>() < 900 {
        msgs.push(format!(
            r#"{{"id":{i},"role":"user","created_at":"2026-01-{:02}T10:{:02}:00Z","tokens":{},"text":"please confirm the booking for two guests arriving late with breakfast"}}"#,
            1 + i % 28,
            i % 60,
            20 + i * 37 % 400
        ));
        i += 1;
    }
    format!(r#"{{"task":"book","messages":[{}]}}"#, msgs.join(","))
}

/// An MCP `tools/call` of about 1 KiB: what `protocol::Body::parse` reads when a rule needs
/// the protocol's variables (the exchange calls it only then).
fn mcp_1k() -> String {
    let mut notes = Vec::new();
    let mut i = 0;
    while notes.iter().map(|m: &String| m.len() + 1).sum::<usize>() < 820 {
        notes.push(format!(
            r#"{{"line":{i},"text":"please confirm the booking for two guests arriving late"}}"#
        ));
        i += 1;
    }
    format!(
        r#"{{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{{"name":"write_file","arguments":{{"path":"/srv/bookings/notes.json","mode":"append","notes":[{}]}},"_meta":{{"progressToken":7}}}}}}"#,
        notes.join(",")
    )
}

fn main() {
    let policy = match config::parse(CONFIG.as_bytes()) {
        Ok(p) => std::rc::Rc::new(p),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let body = body_1k();
    let mut chain = Chain::new([1; 8], None);
    for (label, method, payload) in [("GET", "GET", ""), ("POST 1 KiB", "POST", body.as_str())] {
        let n = 20_000u32;
        let mut t = [0u128; 5];
        for i in 0..n + 2_000 {
            let now = 1_769_171_696_789_000_000 + u64::from(i) * 1000;
            let host = Bench {
                now: std::cell::Cell::new(now),
                body: payload.as_bytes(),
                san: None,
            };
            // The headers wrk sends through Envoy's connection manager, as the filter sees them.
            let headers: &[(&[u8], &[u8])] = &[
                (b":authority", b"127.0.0.1:10000"),
                (b":path", b"/book"),
                (b":method", method.as_bytes()),
                (b":scheme", b"http"),
                (b"content-type", b"application/json"),
                (b"content-length", b"1024"),
                (b"x-forwarded-proto", b"http"),
                (b"x-request-id", b"3f2b6c1e-8d4a-4f6b-9c2e-7a1d5e9b0c4f"),
            ];
            let head = RequestHead {
                headers,
                method: method.as_bytes(),
                path: b"/book",
                content_type: Some(b"application/json"),
                content_length: (!payload.is_empty()).then_some(b"1024".as_slice()),
                ..RequestHead::default()
            };
            let s0 = Instant::now();
            let mut ex = Exchange::new(Some(policy.clone()));
            black_box(ex.request_headers(&head, payload.is_empty(), &host));
            ex.apply_edits(|_, _, v| {
                black_box(v);
            });
            let s1 = Instant::now();
            if !payload.is_empty() {
                black_box(ex.request_body(payload.len(), true, &host));
            }
            black_box(ex.take_tally());
            let s2 = Instant::now();
            host.now.set(now + 500_000);
            ex.response_headers(false, &host);
            ex.apply_edits(|_, _, v| {
                black_box(v);
            });
            ex.response_body(0, true, &host);
            // As the glue does: the end of the stream is looked at only when it may matter.
            host.now.set(now + 600_000);
            ex.log(&host);
            let s3 = Instant::now();
            let mut sealed = Vec::with_capacity(1024);
            chain.seal(ex.events(), &mut sealed);
            black_box(&sealed);
            let s4 = Instant::now();
            if i >= 2_000 {
                t[0] += (s1 - s0).as_nanos();
                t[1] += (s2 - s1).as_nanos();
                t[2] += (s3 - s2).as_nanos();
                t[3] += (s4 - s3).as_nanos();
                t[4] += (s4 - s0).as_nanos();
            }
        }
        let per = |x: u128| x / u128::from(n);
        for (phase, v) in [
            ("request headers: trace id, exchange, header edits", t[0]),
            ("body: scan path and body, rules, request event", t[1]),
            ("response and end: response event", t[2]),
            ("seal the lines into the chain (SHA-256)", t[3]),
            ("total", t[4]),
        ] {
            println!("{phase}\t{label}\t{}", per(v));
        }
    }
    // The protocol's variables, read from the body only when a rule needs them.
    // `--no-protocol`: only the exchanges (to compare instruction counts with earlier builds).
    if std::env::args().any(|a| a == "--no-protocol") {
        return;
    }
    let mcp = mcp_1k();
    let n = 20_000u32;
    let mut total = 0u128;
    for i in 0..n + 2_000 {
        let s0 = Instant::now();
        let b = iatp_core::protocol::Body::parse("/mcp", black_box(mcp.as_bytes()));
        black_box(b.first().and_then(|c| c.arg(&["path"])));
        black_box(b);
        if i >= 2_000 {
            total += s0.elapsed().as_nanos();
        }
    }
    println!(
        "protocol: Body::parse and one mcp_arg\tPOST {} B MCP tools/call\t{}",
        mcp.len(),
        total / u128::from(n)
    );
}
