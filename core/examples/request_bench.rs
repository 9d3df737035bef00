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
use iatp_core::pipeline::{Ending, Exchange, RequestHead};
use iatp_core::trace;

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

fn main() {
    let policy = match config::parse(CONFIG.as_bytes()) {
        Ok(p) => p,
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
            let s0 = Instant::now();
            let trace_id = trace::resolve(None, None, |_| false, || [i as u8; 16]);
            let mut ex = Exchange::new(
                RequestHead {
                    method: method.as_bytes(),
                    path: b"/book",
                    content_type: Some(b"application/json"),
                    trace_id,
                    override_requested: false,
                },
                now,
            );
            let s1 = Instant::now();
            black_box(ex.decide(&policy, payload.as_bytes(), now));
            let s2 = Instant::now();
            ex.on_response(&policy, 200, now + 500_000);
            ex.response_completed();
            // As the glue does: the end of the stream is looked at only when it may matter.
            if ex.ending_matters() {
                ex.finish(&policy, Ending::default(), now + 600_000);
            }
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
            ("request headers: trace id, exchange", t[0]),
            ("body: scan path and body, rules, request event", t[1]),
            ("response and end: response event", t[2]),
            ("seal the lines into the chain (SHA-256)", t[3]),
            ("total", t[4]),
        ] {
            println!("{phase}\t{label}\t{}", per(v));
        }
    }
}
