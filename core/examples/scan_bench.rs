//! Scan throughput on realistic JSON bodies of 1 KiB, 64 KiB and 1 MiB: agent conversations
//! without and with sensitive values, and chat prose; all built-in detectors on. Built
//! natively and for wasm32-wasip1 and run by `scripts/bench-scan.sh`, which prints both in
//! one table.
//!
//! Output: one line per case, `case<TAB>bytes<TAB>MB/s<TAB>findings`.
//!
//! `scan_bench --rounds N [CASE]` scans each case (or the cases whose name contains CASE)
//! exactly N times and prints `case<TAB>bytes<TAB>findings`, without timing: for instruction
//! counts that do not depend on the machine's load, e.g.
//! `valgrind --tool=callgrind target/release/examples/scan_bench --rounds 40 "64KiB chat"`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use iatp_core::detect::{Decoding, Findings, Format, KindSet, Scanner};

/// A small deterministic generator (xorshift), so every run scans the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = (self.next() % items.len() as u64) as usize;
        items.get(i).copied().unwrap_or("")
    }
}

const WORDS: &[&str] = &[
    "the",
    "booking",
    "agent",
    "flight",
    "hotel",
    "please",
    "confirm",
    "reservation",
    "for",
    "two",
    "guests",
    "arriving",
    "late",
    "evening",
    "with",
    "breakfast",
    "included",
    "and",
    "a",
    "window",
    "seat",
    "if",
    "possible",
    "summarize",
    "itinerary",
    "changes",
    "since",
    "last",
    "request",
    "budget",
    "approved",
    "policy",
    "travel",
    "manager",
];

const PII: &[&str] = &[
    "jane.doe@example.com",
    "4111 1111 1111 1111",
    "+41 44 668 18 00",
    "123-45-6789",
    "DE89 3704 0044 0532 0130 00",
    "203.0.113.7",
];

/// A JSON body of about `size` bytes: an agent conversation with metadata. With `pii`, one
/// sensitive value every 2 KiB or so.
fn body(size: usize, pii: bool) -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = String::from("{\"conversation\":[");
    let mut i = 0u64;
    let mut since_pii = 2048usize;
    while out.len() < size.saturating_sub(64) {
        let start = out.len();
        let words: Vec<&str> = (0..12 + rng.next() % 20).map(|_| rng.pick(WORDS)).collect();
        let mut text = words.join(" ");
        if pii && since_pii >= 2048 {
            text.push_str(" contact ");
            text.push_str(rng.pick(PII));
            since_pii = 0;
        }
        out.push_str(&format!(
            "{{\"id\":{i},\"role\":\"{}\",\"created_at\":\"2026-01-{:02}T{:02}:{:02}:00Z\",\"tokens\":{},\"text\":\"{text}\",\"score\":0.{}}},",
            if i.is_multiple_of(2) { "user" } else { "assistant" },
            1 + i % 28,
            i % 24,
            i % 60,
            20 + rng.next() % 400,
            rng.next() % 1000
        ));
        since_pii += out.len() - start;
        i += 1;
    }
    out.push_str("{}],\"model\":\"agent-7\",\"trace\":\"4bf92f3577b34da6a3ce929d0e0e4736\"}");
    out.into_bytes()
}

/// A chat-completion request of about `size` bytes: long prose messages with the punctuation
/// people type (commas, colons, parentheses, dashes, times), the bytes a byte-class skip
/// finds hardest.
fn chat(size: usize) -> Vec<u8> {
    const PARA: &str = "Hi, I'd like to change my booking: the flight on Tuesday (the 9:40 one) \
        doesn't work anymore. Could you move it to Thursday, ideally before noon? Also, please \
        add breakfast for both guests - and check whether the hotel's late check-out is still \
        possible. Thanks! ";
    let mut out = String::from(
        "{\"model\":\"agent-7\",\"temperature\":0.2,\"max_tokens\":1024,\"messages\":[",
    );
    let mut i = 0u64;
    while out.len() < size.saturating_sub(300) {
        let role = if i.is_multiple_of(2) {
            "user"
        } else {
            "assistant"
        };
        out.push_str(&format!("{{\"role\":\"{role}\",\"content\":\"{PARA}\"}},"));
        i += 1;
    }
    out.push_str("{}]}");
    out.into_bytes()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let fixed: Option<u64> = (args.get(1).map(String::as_str) == Some("--rounds"))
        .then(|| args.get(2).and_then(|n| n.parse().ok()))
        .flatten();
    let only = if fixed.is_some() { args.get(3) } else { None };
    let scanner = Scanner::new(KindSet::all_built_ins());
    // What the filter undoes in a body (escapes, look-alikes, nested encodings).
    let decoding = Decoding::BODY;
    for (label, size) in [("1KiB", 1024), ("64KiB", 64 * 1024), ("1MiB", 1024 * 1024)] {
        for shape in ["clean", "with PII", "chat prose"] {
            let case = format!("{label} {shape}");
            if only.is_some_and(|o| !case.contains(o.as_str())) {
                continue;
            }
            let b = match shape {
                "chat prose" => chat(size),
                _ => body(size, shape == "with PII"),
            };
            let mut found = 0usize;
            let run = |found: &mut usize| {
                let mut f = Findings::default();
                scanner.scan_input(black_box(&b), decoding, Format::Json, &mut f, |_| {});
                *found = f.count;
            };
            if let Some(n) = fixed {
                for _ in 0..n {
                    run(&mut found);
                }
                println!("{case}\t{}\t{found}", b.len());
                continue;
            }
            // Warm up for a fifth of a second, then time whole rounds for at least half a
            // second. A few rounds were too few for V8: its optimizing tier compiles in the
            // background while the baseline code (Liftoff) runs, and the first case was timed
            // partly on the baseline code (0.5 to 0.65 of native where later cases were 0.8).
            let warm = Instant::now();
            while warm.elapsed() < Duration::from_millis(200) {
                run(&mut found);
            }
            let mut rounds = 0u64;
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(500) {
                for _ in 0..16 {
                    run(&mut found);
                }
                rounds += 16;
            }
            let secs = start.elapsed().as_secs_f64();
            let mbps = (b.len() as f64 * rounds as f64) / secs / 1e6;
            println!("{case}\t{}\t{mbps:.0}\t{found}", b.len());
        }
    }
}
