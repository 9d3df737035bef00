//! Cost that grows with the work (issue 15, item 3): what the core does for one request as the
//! body, the rules, the custom detectors, the callers in the directory and the cached manifests
//! grow. Each point compiles its configuration once, outside the timed loop, then times whole
//! requests as `request_bench` does (headers, body, response, end, the lines sealed into the
//! chain), or one warm lookup in the manifest cache. Built natively and for wasm32-wasip1 and
//! run by `scripts/bench-curves.sh` (and `scripts/bench.sh`), which prints both in one table.
//!
//! Output: one line per point,
//! `curve<TAB>x<TAB>ns per request<TAB>median ns<TAB>unit<TAB>ns per unit<TAB>note`:
//! the fastest of seven batches (each at least 30 ms of requests, after 60 ms of warm-up) and
//! their median; ns per unit is ns per KiB for the body, the added ns per added rule,
//! detector or entry over the curve's first point for the curves meant to grow, `-` for those
//! meant to stay flat.
//!
//! Curves:
//! * `body`: POST of clean JSON (an agent conversation), 1 KiB to 1 MiB, two block rules;
//! * `rules`: 1 to 100 block rules over the path, the method, headers and detections, none
//!   matching, on a 1 KiB POST;
//! * `detectors`: 1 to 100 custom detectors (`detectors.custom`), none matching, on a 1 KiB
//!   POST (at most the room the built-ins leave: 128 types in all); `detector_body`: one
//!   custom detector, the body from 1 KiB to 1 MiB;
//! * `callers`: a GET from a TLS peer whose SPIFFE ID is the last of 1 to 10,000 exact
//!   `spiffe_id` entries; `callers_none`: a peer no entry names; `callers_resolve`:
//!   `Directory::resolve` alone, the last entry; `callers_prefix`: the last of as many
//!   `spiffe_id_prefix` entries (scanned in order, by design: linear);
//! * `cache`: one warm hit in the gateway's manifest cache holding 1 to 10,000 targets, in the
//!   most slots a configuration may ask for ([`manifest_cache::MAX_ENTRIES`]).
//!
//! `curves CURVE` runs only the curves whose name starts with CURVE.

use std::cell::Cell;
use std::collections::HashMap;
use std::hint::black_box;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

use iatp_core::chain::Chain;
use iatp_core::config;
use iatp_core::detect::{BUILT_INS, MAX_KINDS};
use iatp_core::manifest_cache::{self, Cache, Fetched, Lookup, Stored};
use iatp_core::metrics::LabelContext;
use iatp_core::phases::{Exchange, RequestHead, SlotUpdate};
use iatp_core::policy::Policy;
use serde_json::{json, Value};

#[path = "support/bench_host.rs"]
mod bench_host;
use bench_host::Bench;

/// Warm-up per point (V8 also tiers up the code a new point reaches), then batches of at
/// least this long, this many.
const WARM: Duration = Duration::from_millis(60);
const BATCH: Duration = Duration::from_millis(30);
const BATCHES: usize = 7;

/// Times `f`: the fastest and the median of [`BATCHES`] batches, in ns per call. The fastest
/// is the figure reported: other work on the machine only ever slows a batch down.
fn time<R>(mut f: impl FnMut() -> R) -> (f64, f64) {
    let warm = Instant::now();
    let mut calls = 0u32;
    while calls < 3 || warm.elapsed() < WARM {
        black_box(f());
        calls += 1;
    }
    let per = warm.elapsed().as_nanos() / u128::from(calls);
    let n = u32::try_from(BATCH.as_nanos() / per.max(1))
        .unwrap_or(u32::MAX)
        .max(2);
    let mut batches: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let s = Instant::now();
            for _ in 0..n {
                black_box(f());
            }
            s.elapsed().as_nanos() as f64 / f64::from(n)
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    let median = batches.get(BATCHES / 2).copied().unwrap_or(0.0);
    let min = batches.first().copied().unwrap_or(0.0);
    (min, median)
}

/// The manifest every configuration declares (as `request_bench`'s).
fn manifest() -> Value {
    json!({"identity": {"agent_id": "booking-agent"}, "trust_level": "standard",
           "reversibility": {"level": "partial"}, "privacy": {"retention": "ephemeral"}})
}

/// The two block rules of `request_bench`.
fn two_rules() -> Value {
    json!([
        {"name": "no_cards", "condition": "has_credit_card", "action": "block"},
        {"name": "no_ssns", "condition": "has_ssn", "action": "block"}
    ])
}

fn compile(cfg: &Value) -> Rc<Policy> {
    configured(cfg).0
}

/// The policy, and what configuring it took: the text's size, the time `config::parse` took
/// (once, not a median).
fn configured(cfg: &Value) -> (Rc<Policy>, String) {
    let text = cfg.to_string();
    let start = Instant::now();
    match config::parse(text.as_bytes()) {
        Ok(p) => {
            let ms = start.elapsed().as_secs_f64() * 1e3;
            let kib = text.len() as f64 / 1024.0;
            (
                Rc::new(p),
                format!("configuration {kib:.0} KiB parsed in {ms:.1} ms"),
            )
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

/// A clean JSON body of `size` bytes in `request_bench`'s shape (an agent conversation), the
/// last message's text filled up to the size.
fn body(size: usize) -> Vec<u8> {
    const TEXT: &str = "please confirm the booking for two guests arriving late with breakfast";
    let message = |i: usize, text: &str| {
        format!(
            r#"{{"id":{i},"role":"user","created_at":"2026-01-{:02}T10:{:02}:00Z","tokens":{},"text":"{text}"}}"#,
            1 + i % 28,
            i % 60,
            20 + i * 37 % 400
        )
    };
    let mut out = String::from(r#"{"task":"book","messages":["#);
    let mut i = 0usize;
    // Whole messages while two more fit, then one filled to the size.
    while out.len() + 2 * (message(i, TEXT).len() + 1) + 2 <= size {
        out.push_str(&message(i, TEXT));
        out.push(',');
        i += 1;
    }
    let bare = message(i, "").len();
    let room = size.saturating_sub(out.len() + bare + 2);
    let mut text = String::with_capacity(room);
    while text.len() < room {
        let word = TEXT.split(' ').nth(text.len() % 11).unwrap_or("late");
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(word);
    }
    let cut = room.min(text.len());
    let text = text.get(..cut).unwrap_or("").trim_end();
    out.push_str(&message(i, text));
    out.push_str("]}");
    out.into_bytes()
}

/// One request through the whole exchange, as `request_bench` runs it.
struct Request {
    method: &'static str,
    body: Vec<u8>,
    length: String,
    san: Option<Vec<u8>>,
}

impl Request {
    fn post(body: Vec<u8>) -> Request {
        Request {
            method: "POST",
            length: body.len().to_string(),
            body,
            san: None,
        }
    }

    fn get(san: &str) -> Request {
        Request {
            method: "GET",
            body: Vec::new(),
            length: String::new(),
            san: Some(san.as_bytes().to_vec()),
        }
    }
}

/// Runs `req` through the exchange under `policy` and seals its lines into `chain`: the bytes
/// of the sealed lines.
fn exchange(policy: &Rc<Policy>, chain: &mut Chain, req: &Request, clock: &Cell<u64>) -> usize {
    let now = clock.get();
    clock.set(now + 1_000_000);
    let host = Bench {
        now: Cell::new(now),
        body: &req.body,
        san: req.san.as_deref(),
    };
    let has_body = !req.body.is_empty();
    // The headers wrk sends through Envoy's connection manager, as the filter sees them, and
    // two that the rules curve reads.
    let headers: &[(&[u8], &[u8])] = &[
        (b":authority", b"127.0.0.1:10000"),
        (b":path", b"/book"),
        (b":method", req.method.as_bytes()),
        (b":scheme", b"http"),
        (b"content-type", b"application/json"),
        (b"content-length", req.length.as_bytes()),
        (b"user-agent", b"python-httpx/0.27.0"),
        (b"x-tenant", b"acme"),
        (b"x-forwarded-proto", b"http"),
        (b"x-request-id", b"3f2b6c1e-8d4a-4f6b-9c2e-7a1d5e9b0c4f"),
    ];
    let head = RequestHead {
        headers: if has_body {
            headers
        } else {
            headers.get(..4).unwrap_or(headers)
        },
        method: req.method.as_bytes(),
        path: b"/book",
        content_type: has_body.then_some(b"application/json".as_slice()),
        content_length: has_body.then_some(req.length.as_bytes()),
        ..RequestHead::default()
    };
    let mut ex = Exchange::new(Some(policy.clone()));
    black_box(ex.request_headers(&head, !has_body, &host));
    ex.apply_edits(|_, _, v| {
        black_box(v);
    });
    if has_body {
        black_box(ex.request_body(req.body.len(), true, &host));
    }
    black_box(ex.take_tally());
    host.now.set(now + 500_000);
    ex.response_headers(false, &host);
    ex.apply_edits(|_, _, v| {
        black_box(v);
    });
    ex.response_body(0, true, &host);
    host.now.set(now + 600_000);
    ex.log(&host);
    let mut sealed = Vec::with_capacity(1024);
    chain.seal(ex.events(), &mut sealed);
    sealed.len()
}

/// Prints the points of one curve as they are measured. `per_unit`: how ns per unit is
/// reported.
#[derive(Clone, Copy, PartialEq)]
enum PerUnit {
    /// ns / x (the body, per KiB).
    Ratio,
    /// (ns − first point's ns) / (x − first x).
    Marginal,
    /// `-`: meant to stay flat.
    Flat,
}

struct Curve {
    name: &'static str,
    unit: &'static str,
    per_unit: PerUnit,
    first: Option<(f64, f64)>,
}

impl Curve {
    fn new(name: &'static str, unit: &'static str, per_unit: PerUnit) -> Curve {
        Curve {
            name,
            unit,
            per_unit,
            first: None,
        }
    }

    fn point(&mut self, x: usize, units: f64, (ns, median): (f64, f64), note: &str) {
        let first = *self.first.get_or_insert((units, ns));
        let per = match self.per_unit {
            PerUnit::Ratio if units > 0.0 => format!("{:.1}", ns / units),
            PerUnit::Marginal if units > first.0 => {
                format!("{:.1}", (ns - first.1) / (units - first.0))
            }
            _ => "-".to_string(),
        };
        println!(
            "{}\t{x}\t{ns:.0}\t{median:.0}\t{}\t{per}\t{note}",
            self.name, self.unit
        );
        let _ = std::io::stdout().flush();
    }
}

const COUNTS: [usize; 4] = [1, 100, 1_000, 10_000];
const RULES: [usize; 4] = [1, 10, 30, 100];

/// Block rule `i`: distinct, realistic, never matching the benchmark's requests, each reading
/// what the request's headers or detections say (short-circuits as the language does).
fn rule(i: usize) -> Value {
    let condition = match i % 4 {
        0 => format!("starts_with(path, '/admin/{i}/') || header('x-tenant') == 'blocked-{i}'"),
        1 => format!("method == 'DELETE' || contains(header('user-agent'), 'scanner-{i}')"),
        2 => format!(
            "(has_email || detected_count > {}) && path == '/x{i}'",
            3 + i
        ),
        _ => {
            format!("header('x-tenant') in ['t{i}a', 't{i}b', 't{i}c'] || ends_with(path, '.{i}')")
        }
    };
    json!({"name": format!("rule_{i}"), "condition": condition, "action": "block"})
}

/// Custom detector `i`: an operator's identifier pattern, none found in the bodies.
fn detector(i: usize) -> Value {
    let name = format!("custom_{i}");
    match i % 4 {
        0 => json!({"name": name, "pattern": format!(r"\bEMP{i}-\d{{6}}\b")}),
        1 => json!({"name": name, "pattern": r"\b\d{12}\b", "checksum": "luhn",
                    "cues": [format!("member{i}")]}),
        2 => json!({"name": name, "pattern": format!(r"\bPRJ-{i}-[a-f0-9]{{8}}\b")}),
        _ => json!({"name": name, "pattern": format!(r"\b[A-Z]{{2}}{i}[0-9]{{7}}[A-Z]\b")}),
    }
}

fn request_curves(only: &dyn Fn(&str) -> bool) {
    let mut chain = Chain::new([1; 8], None);
    let clock = Cell::new(1_769_171_696_789_000_000u64);

    if only("body") {
        let policy =
            compile(&json!({"manifest": manifest(), "policy": {"block_rules": two_rules()}}));
        let mut curve = Curve::new("body", "KiB", PerUnit::Ratio);
        for kib in [1, 4, 16, 64, 256, 1024] {
            let req = Request::post(body(kib * 1024));
            let t = time(|| exchange(&policy, &mut chain, &req, &clock));
            let lines = exchange(&policy, &mut chain, &req, &clock);
            let kibs = req.body.len() as f64 / 1024.0;
            let note = format!(
                "{} bytes; {lines} bytes of event lines sealed (the payload at most 4 KiB)",
                req.body.len()
            );
            curve.point(kib, kibs, t, &note);
        }
    }

    // One custom detector over growing bodies: the patterns' cost is per byte of JSON string.
    if only("detector_body") {
        let policy = compile(&json!({"manifest": manifest(),
            "policy": {"block_rules": two_rules()}, "detectors": {"custom": [detector(0)]}}));
        let mut curve = Curve::new("detector_body", "KiB", PerUnit::Ratio);
        for kib in [1, 16, 256, 1024] {
            let req = Request::post(body(kib * 1024));
            let t = time(|| exchange(&policy, &mut chain, &req, &clock));
            let kibs = req.body.len() as f64 / 1024.0;
            let note = format!("{} bytes, one custom detector (custom_0)", req.body.len());
            curve.point(kib, kibs, t, &note);
        }
    }

    let post_1k = Request::post(body(1024));
    if only("rules") {
        let mut curve = Curve::new("rules", "rule", PerUnit::Marginal);
        for n in RULES {
            let rules: Vec<Value> = (0..n).map(rule).collect();
            let (policy, conf) =
                configured(&json!({"manifest": manifest(), "policy": {"block_rules": rules}}));
            let t = time(|| exchange(&policy, &mut chain, &post_1k, &clock));
            let note = format!("POST {} B; {conf}", post_1k.body.len());
            curve.point(n, n as f64, t, &note);
        }
    }

    if only("detectors") {
        let room = MAX_KINDS.saturating_sub(BUILT_INS.len());
        let mut curve = Curve::new("detectors", "detector", PerUnit::Marginal);
        for want in RULES {
            let n = want.min(room);
            let custom: Vec<Value> = (0..n).map(detector).collect();
            let (policy, conf) = configured(&json!({"manifest": manifest(),
                "policy": {"block_rules": two_rules()}, "detectors": {"custom": custom}}));
            let t = time(|| exchange(&policy, &mut chain, &post_1k, &clock));
            let room_note = if n < want {
                format!(
                    "{n}, not {want}: the most there is room for ({MAX_KINDS} types, {} built in)",
                    BUILT_INS.len()
                )
            } else {
                format!("and the {} built-ins", BUILT_INS.len())
            };
            let note = format!("POST {} B; {room_note}; {conf}", post_1k.body.len());
            curve.point(n, n as f64, t, &note);
        }
    }

    if [
        "callers",
        "callers_none",
        "callers_resolve",
        "callers_prefix",
    ]
    .iter()
    .any(|c| only(c))
    {
        callers_curves(only, &mut chain, &clock);
    }
}

fn callers_curves(only: &dyn Fn(&str) -> bool, chain: &mut Chain, clock: &Cell<u64>) {
    let mut exact = Curve::new("callers", "entry", PerUnit::Flat);
    let mut none = Curve::new("callers_none", "entry", PerUnit::Flat);
    let mut resolve = Curve::new("callers_resolve", "entry", PerUnit::Flat);
    let mut prefix = Curve::new("callers_prefix", "entry", PerUnit::Marginal);
    let stranger = Request::get("spiffe://example.org/sa/stranger");
    let id = |i: usize| format!("spiffe://example.org/sa/a{i}");
    for n in COUNTS {
        let entries: Vec<Value> = (0..n)
            .map(
                |i| json!({"name": format!("a{i}"), "match": {"spiffe_id": id(i)}, "tier": i % 10}),
            )
            .collect();
        let (policy, conf) =
            configured(&json!({"manifest": manifest(), "callers": {"directory": entries}}));
        // What the glue also does once at configure time: the `caller` label's values.
        let start = Instant::now();
        let labels = black_box(LabelContext::of(&policy)).callers.len();
        let labels_ms = start.elapsed().as_secs_f64() * 1e3;
        let last = Request::get(&id(n - 1));
        if only("callers") {
            let c = policy.callers.resolve(last.san.as_deref(), None, None);
            let t = time(|| exchange(&policy, chain, &last, clock));
            let note = format!(
                "GET, the last entry matches ({}); {conf}; {labels} caller labels in {labels_ms:.1} ms",
                c.name
            );
            exact.point(n, n as f64, t, &note);
        }
        if only("callers_none") {
            let c = policy.callers.resolve(stranger.san.as_deref(), None, None);
            let slot = time(|| {
                black_box(policy.callers.name_slot(black_box(&c)));
            });
            let t = time(|| exchange(&policy, chain, &stranger, clock));
            let note = format!(
                "GET, no entry matches (the default caller, {}); Directory::name_slot of it alone {:.0} ns",
                c.name, slot.0
            );
            none.point(n, n as f64, t, &note);
        }
        if only("callers_resolve") {
            let san = id(n - 1);
            let c = policy.callers.resolve(Some(san.as_bytes()), None, None);
            let t = time(|| {
                black_box(
                    policy
                        .callers
                        .resolve(Some(black_box(san.as_bytes())), None, None),
                );
            });
            let note = format!("Directory::resolve alone, the last entry ({})", c.name);
            resolve.point(n, n as f64, t, &note);
        }
        if only("callers_prefix") {
            let entries: Vec<Value> = (0..n)
                .map(|i| json!({"name": format!("p{i}"),
                                "match": {"spiffe_id_prefix": format!("spiffe://example.org/ns/t{i}")}}))
                .collect();
            let (policy, conf) =
                configured(&json!({"manifest": manifest(), "callers": {"directory": entries}}));
            let under = Request::get(&format!("spiffe://example.org/ns/t{}/sa/agent", n - 1));
            let c = policy.callers.resolve(under.san.as_deref(), None, None);
            let t = time(|| exchange(&policy, chain, &under, clock));
            let note = format!(
                "GET, the last prefix matches ({}): prefixes are scanned in order; {conf}",
                c.name
            );
            prefix.point(n, n as f64, t, &note);
        }
    }
}

/// A target's manifest as the gateway's cache keeps it.
fn summary(i: usize) -> Option<iatp_core::remote_manifest::Summary> {
    let text = json!({"identity": {"agent_id": format!("target-agent-{i}")},
                      "trust_level": "trusted", "reversibility": {"level": "partial"},
                      "privacy": {"retention": "ephemeral"}})
    .to_string();
    iatp_core::remote_manifest::read(text.as_bytes())
        .ok()
        .map(|r| r.summary)
}

fn cache_curve() {
    let slots = manifest_cache::MAX_ENTRIES;
    let Some(cache) = Cache::new(slots) else {
        eprintln!("Cache::new({slots}) refused");
        std::process::exit(1);
    };
    let origin = |i: usize| format!("https://agent-{i}.targets.example:443");
    let now_ms = 1_769_171_696_789u64;
    let mut curve = Curve::new("cache", "entry", PerUnit::Flat);
    for n in COUNTS {
        // Shared data as the glue makes it: every slot created empty at configure time, then
        // `n` targets stored (each through a compare-and-swap that always wins here).
        let shared: std::cell::RefCell<HashMap<String, Vec<u8>>> =
            std::cell::RefCell::new(cache.slot_keys().map(|k| (k, Vec::new())).collect());
        let claim = |key: &str, update: SlotUpdate| -> bool {
            let current = shared.borrow().get(key).cloned();
            let Some(current) = current else {
                return false;
            };
            match update(Some(&current)) {
                Some(next) => {
                    shared.borrow_mut().insert(key.to_string(), next);
                    true
                }
                None => false,
            }
        };
        let mut stored = 0usize;
        let mut last = None;
        for i in 0..n {
            let Some(s) = summary(i) else {
                eprintln!("the target's manifest was refused");
                std::process::exit(1);
            };
            if cache.store(&origin(i), now_ms, Fetched::Found(s), &claim) == Stored::Written {
                stored += 1;
                last = Some(i);
            }
        }
        let Some(last) = last else {
            eprintln!("nothing stored");
            std::process::exit(1);
        };
        let target = origin(last);
        let map = shared.into_inner();
        let reads = Cell::new(0u32);
        let read = |key: &str| -> Option<Vec<u8>> {
            reads.set(reads.get() + 1);
            map.get(key).cloned()
        };
        let hit = matches!(cache.lookup(&target, now_ms, &read), Lookup::Hit(_));
        let probes = reads.get();
        let t = time(|| {
            black_box(cache.lookup(black_box(&target), now_ms + 1_000, &read));
        });
        curve.point(
            n,
            n as f64,
            t,
            &format!(
                "{slots} slots, {stored} stored, lookup of the last stored: {} in {probes} read(s)",
                if hit { "hit" } else { "NOT A HIT" }
            ),
        );
    }
}

fn main() {
    let filter = std::env::args().nth(1);
    let only = |curve: &str| filter.as_deref().is_none_or(|f| curve.starts_with(f));
    // V8 compiles the module's hot code in the background while its baseline code runs: 1 KiB
    // POSTs and GETs first, in batches of 20 ms, until two batches in a row agree within 3 %
    // (at least 0.3 s, at most 2 s), so that the first points are not timed on baseline code.
    {
        let policy =
            compile(&json!({"manifest": manifest(), "policy": {"block_rules": two_rules()}}));
        let mut chain = Chain::new([1; 8], None);
        let clock = Cell::new(1_769_171_696_789_000_000u64);
        let post = Request::post(body(1024));
        let get = Request::get("spiffe://example.org/sa/warm-up");
        let warm = Instant::now();
        let mut last = f64::MAX;
        while warm.elapsed() < Duration::from_secs(2) {
            let batch = Instant::now();
            let mut n = 0u32;
            while batch.elapsed() < Duration::from_millis(20) {
                exchange(&policy, &mut chain, &post, &clock);
                exchange(&policy, &mut chain, &get, &clock);
                n += 1;
            }
            let per = batch.elapsed().as_nanos() as f64 / f64::from(n);
            if warm.elapsed() > Duration::from_millis(300) && (per - last).abs() < 0.03 * last {
                break;
            }
            last = per;
        }
    }
    request_curves(&only);
    if only("cache") {
        cache_curve();
    }
}
