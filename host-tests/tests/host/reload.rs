//! Reload without restarts (issue 16): envoy/envoy-ecds.yaml discovers the filter's
//! configuration from a watched file (extension config discovery, the mechanism a control plane
//! uses over ADS). Under a steady load the policy file is swapped several times by
//! write-then-rename, as envoy/ecds/iatp.yaml tells an operator to: no request fails that is
//! not a policy answer, each new policy is seen deciding requests soon after its rename, an
//! invalid configuration is refused while the last good one keeps deciding, and the events
//! file's hash chains verify across the reloads.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{http, paths, read_jsonl, EnvoyConfig, Request, Stack};

const SSN: &str = "123-45-6789";
/// Client connections, each sending one request at a time (keep-alive).
const CONNECTIONS: usize = 3;
/// Requests per second over all connections (a fixed schedule; a late request is sent at once,
/// never made up for by a burst).
const RATE: u64 = 1500;
/// How long each policy is left in place before the next swap.
const PHASE: Duration = Duration::from_millis(1200);
/// The end of every phase in which every decision must be the phase's policy's.
const SETTLED: Duration = Duration::from_millis(300);
/// The key the invalid configuration misspells, and which Envoy's log must name.
const BAD_KEY: &str = "detectorz";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// The shipped policy: SSNs blocked (403).
    Enforce,
    /// The same in monitor mode: SSNs let through, `X-Agent-Policy: block` says so.
    Monitor,
}

/// What a response says about who decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// A clean request the agent answered (200): without `X-Agent-Policy` (enforce), or with
    /// `X-Agent-Policy: allow` (monitor mode says what enforcement would have done).
    Allowed(Policy),
    /// An SSN request answered by the agent with `X-Agent-Policy: block` (monitor mode).
    Monitored,
    /// An SSN request refused by the filter: 403 with its JSON body naming the rule.
    Blocked,
    /// Anything else: a 5xx, a reset, a connection error, an answer no policy gives.
    Failed(String),
}

impl Outcome {
    fn policy(&self) -> Option<Policy> {
        match self {
            Outcome::Allowed(p) => Some(*p),
            Outcome::Monitored => Some(Policy::Monitor),
            Outcome::Blocked => Some(Policy::Enforce),
            Outcome::Failed(_) => None,
        }
    }
}

struct Sample {
    sent: Instant,
    received: Instant,
    outcome: Outcome,
    trace: String,
}

/// The three plugin configurations, derived from the shipped envoy/ecds/iatp.yaml: its own
/// (enforce), the same in monitor mode, and that one with a misspelled key. Also the name of
/// the block rule an SSN meets under the shipped one. The shipped manifest's rate limit (600
/// requests a minute per caller) is left out: this test's load is one caller at 1,500 a second,
/// and every answer must be a decision of the policy under test, not a 429.
fn policies() -> (String, String, String, String) {
    let shipped = EnvoyConfig::load(&paths::repo().join("envoy/envoy-ecds.yaml")).plugin_config();
    let mut enforce: Value = serde_json::from_str(&shipped).unwrap();
    enforce["manifest"]
        .as_object_mut()
        .unwrap()
        .remove("rate_limiting");
    assert_eq!(enforce["mode"], "enforce");
    assert_eq!(enforce["manifest"]["privacy"]["retention"], "permanent");
    let rule = enforce["policy"]["block_rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["action"] == "block"
                && r["condition"].as_str().unwrap().contains("has_ssn")
                && r["condition"].as_str().unwrap().contains("'permanent'")
        })
        .expect("the shipped policy blocks SSNs to an agent that keeps data permanently")["name"]
        .as_str()
        .unwrap()
        .to_string();
    let mut monitor = enforce.clone();
    monitor["mode"] = json!("monitor");
    let mut invalid = monitor.clone();
    let detectors = invalid
        .as_object_mut()
        .unwrap()
        .remove("detectors")
        .unwrap();
    invalid[BAD_KEY] = detectors;
    (
        enforce.to_string(),
        monitor.to_string(),
        invalid.to_string(),
        rule,
    )
}

/// Reads what decided one response: see `Outcome`.
fn classify(r: &http::Response, ssn: bool, trace: &str, rule: &str) -> Outcome {
    let echoed = r.header("x-agent-trace-id") == Some(trace);
    match (r.status, ssn) {
        (200, false) if echoed && r.header("x-agent-policy").is_none() => {
            Outcome::Allowed(Policy::Enforce)
        }
        (200, false) if echoed && r.header("x-agent-policy") == Some("allow") => {
            Outcome::Allowed(Policy::Monitor)
        }
        (200, true) if echoed && r.header("x-agent-policy") == Some("block") => Outcome::Monitored,
        (403, true) => {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            if body["blocked"] == true
                && body["rule"] == rule
                && body["detected"] == json!(["ssn"])
                && body["trace_id"] == trace
            {
                Outcome::Blocked
            } else {
                Outcome::Failed(format!("403 with body {}", r.text()))
            }
        }
        (status, _) => Outcome::Failed(format!(
            "{status} (ssn: {ssn}, x-agent-policy: {:?}, trace echoed: {echoed}): {}",
            r.header("x-agent-policy"),
            r.text()
        )),
    }
}

/// One connection's requests, on a fixed schedule from `start` until `stop` (or `deadline`),
/// alternating clean requests and requests carrying an SSN, each with its own trace id.
fn client(
    addr: SocketAddr,
    conn: usize,
    start: Instant,
    deadline: Instant,
    stop: Arc<AtomicBool>,
    rule: String,
) -> Vec<Sample> {
    let interval = Duration::from_nanos(1_000_000_000 * CONNECTIONS as u64 / RATE);
    let mut samples = Vec::new();
    let mut stream: Option<TcpStream> = None;
    for k in 0u32.. {
        let due = start + interval * k + interval * conn as u32 / CONNECTIONS as u32;
        let now = Instant::now();
        if stop.load(Ordering::Relaxed) || now > deadline {
            break;
        }
        if due > now {
            std::thread::sleep(due - now);
        }
        let ssn = k % 2 == 1;
        let trace = format!("reload-{conn}-{k}");
        let body = if ssn {
            format!(r#"{{"guest":"Jane","note":"my ssn is {SSN}"}}"#)
        } else {
            r#"{"guest":"Jane","note":"a room for two"}"#.to_string()
        };
        let bytes = Request::post("/book", body)
            .header("content-type", "application/json")
            .header("x-agent-trace-id", &trace)
            .header("connection", "keep-alive")
            .to_bytes();
        let sent = Instant::now();
        let result = exchange(&mut stream, addr, &bytes);
        let received = Instant::now();
        let outcome = match result {
            Ok(r) => {
                if r.header("connection") == Some("close") {
                    stream = None;
                }
                classify(&r, ssn, &trace, &rule)
            }
            Err(e) => {
                stream = None;
                Outcome::Failed(e)
            }
        };
        samples.push(Sample {
            sent,
            received,
            outcome,
            trace,
        });
    }
    samples
}

/// Sends one request on the connection (made first when there is none) and reads its response.
fn exchange(
    stream: &mut Option<TcpStream>,
    addr: SocketAddr,
    bytes: &[u8],
) -> Result<http::Response, String> {
    if stream.is_none() {
        *stream = Some(TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?);
    }
    let s = stream.as_mut().expect("a connection");
    s.write_all(bytes).map_err(|e| format!("write: {e}"))?;
    http::try_read_response(s)
}

/// Writes the discovery response with `plugin` next to `ecds_dir/iatp.yaml`, then renames it
/// over it (Envoy reloads on the move into the watched directory); the time of the rename.
fn swap(ecds_dir: &Path, template: &Value, plugin: &str) -> Instant {
    let mut doc = template.clone();
    doc["resources"][0]["typed_config"]["config"]["configuration"]["value"] = json!(plugin);
    let tmp = ecds_dir.join(".iatp.yaml.new");
    fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let at = Instant::now();
    fs::rename(&tmp, ecds_dir.join("iatp.yaml")).unwrap();
    at
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[test]
fn policies_swapped_under_load_apply_without_a_failed_request_and_an_invalid_one_is_refused() {
    let began = Instant::now();
    let (enforce, monitor, invalid, rule) = policies();
    let stack = Stack::builder()
        .config_file("envoy/envoy-ecds.yaml")
        .plugin_text(&enforce)
        .workers(2)
        .start();
    let ecds_dir = stack.dir.path.join("ecds");
    let template: Value =
        serde_json::from_str(&fs::read_to_string(ecds_dir.join("iatp.yaml")).unwrap()).unwrap();
    let stat = |name: &str| {
        stack.envoy.stat(&format!(
            "extension_config_discovery.http_filter.iatp.{name}"
        ))
    };
    assert_eq!(stat("update_success"), 1, "the first configuration");
    assert_eq!(stat("config_fail"), 0);

    // The swaps: six valid ones between the two policies, an invalid one in the middle.
    let swaps: [(Option<Policy>, &str); 7] = [
        (Some(Policy::Monitor), &monitor),
        (Some(Policy::Enforce), &enforce),
        (None, &invalid),
        (Some(Policy::Monitor), &monitor),
        (Some(Policy::Enforce), &enforce),
        (Some(Policy::Monitor), &monitor),
        (Some(Policy::Enforce), &enforce),
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let deadline = start + PHASE * (swaps.len() as u32 + 2);
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let (addr, stop, rule) = (stack.addr(), stop.clone(), rule.clone());
            std::thread::spawn(move || client(addr, c, start, deadline, stop, rule))
        })
        .collect();
    // (when, the policy that decides from then on, whether it is a swap that must apply)
    let mut phases = vec![(start, Policy::Enforce, false)];
    std::thread::sleep(PHASE);
    for (policy, plugin) in swaps {
        let at = swap(&ecds_dir, &template, plugin);
        let current = phases.last().unwrap().1;
        phases.push((at, policy.unwrap_or(current), policy.is_some()));
        std::thread::sleep(PHASE);
    }
    let end = Instant::now();
    stop.store(true, Ordering::Relaxed);
    let mut samples: Vec<Sample> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    samples.sort_by_key(|s| s.sent);

    // No request failed that is not a policy answer.
    let failed: Vec<String> = samples
        .iter()
        .filter_map(|s| match &s.outcome {
            Outcome::Failed(why) => Some(format!("{}: {why}", s.trace)),
            _ => None,
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed; the first: {:#?}",
        failed.len(),
        samples.len(),
        &failed[..failed.len().min(10)]
    );
    assert_eq!(stack.envoy.stat("http.iatp_inbound.downstream_rq_5xx"), 0);

    // Each phase: the new policy decides soon after its rename, and only it at the phase's
    // end; the invalid configuration's phase is decided by the last good policy throughout.
    let mut to_new = Vec::new();
    let mut report = Vec::new();
    for (i, &(at, policy, applies)) in phases.iter().enumerate() {
        let until = phases.get(i + 1).map_or(end, |p| p.0);
        let decided: Vec<(&Sample, Policy)> = samples
            .iter()
            .filter(|s| s.sent >= at && s.sent < until)
            .filter_map(|s| s.outcome.policy().map(|p| (s, p)))
            .collect();
        assert!(
            decided.len() >= 40,
            "phase {i}: only {} requests decided",
            decided.len()
        );
        let settled = until - SETTLED;
        // A request sent before the next rename but still in flight at it may be decided by
        // the next policy (the filter chain is made when Envoy reads the headers): that is
        // the next phase's decision, not this one's.
        let next = phases.get(i + 1).map(|p| p.1);
        let stale: Vec<&str> = decided
            .iter()
            .filter(|(s, p)| !(Some(*p) == next && s.received > until))
            .filter(|(s, p)| *p != policy && (!applies || s.sent >= settled))
            .map(|(s, _)| s.trace.as_str())
            .collect();
        assert!(
            stale.is_empty(),
            "phase {i} ({policy:?}{}): {} of {} requests decided by the other policy, the first: {:?}",
            if applies {
                ""
            } else {
                ", after an invalid configuration"
            },
            stale.len(),
            decided.len(),
            &stale[..stale.len().min(10)]
        );
        if i > 0 && applies {
            let first = decided
                .iter()
                .filter(|(_, p)| *p == policy)
                .map(|(s, _)| s.received)
                .min()
                .expect("the new policy decided a request");
            let last_old = decided
                .iter()
                .filter(|(_, p)| *p != policy)
                .map(|(s, _)| s.received)
                .max()
                .map_or(Duration::ZERO, |t| t - at);
            to_new.push(first - at);
            report.push(format!(
                "swap {i} to {policy:?}: first decision by it {:.1} ms after the rename, last by the old one {:.1} ms after",
                ms(first - at),
                ms(last_old)
            ));
        } else if i > 0 {
            report.push(format!(
                "swap {i} (invalid): {} requests after it, all decided by the last good policy ({policy:?})",
                decided.len()
            ));
        }
    }

    // Envoy counted seven configurations applied and one refused, and its log names the key.
    assert_eq!(stat("update_success"), 7);
    assert_eq!(stat("update_rejected"), 1);
    assert_eq!(stat("config_fail"), 1);
    let log = stack.envoy.log_text();
    for line in [
        format!("wasm log iatp iatp: configuration rejected: {BAD_KEY} (line 1, column"),
        "Filesystem config update rejected: Unable to create Wasm plugin iatp".to_string(),
    ] {
        assert_eq!(
            log.matches(&line).count(),
            1,
            "{line:?} in Envoy's log:\n{log}"
        );
    }

    // The events: a line for every request, chains that verify across the reloads, one policy
    // per chain (each configuration starts its own), at least one chain per configuration.
    let wanted: HashSet<&str> = samples.iter().map(|s| s.trace.as_str()).collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    let events = loop {
        let events = read_jsonl(&stack.events_path());
        let seen: HashSet<&str> = events
            .iter()
            .filter_map(|e| e["trace_id"].as_str())
            .collect();
        let missing = wanted.iter().filter(|t| !seen.contains(*t)).count();
        if missing == 0 {
            break events;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} requests have no event line"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut modes: BTreeMap<&str, HashSet<String>> = BTreeMap::new();
    let mut lines: HashMap<&str, usize> = HashMap::new();
    for e in &events {
        let chain = e["chain"].as_str().expect("a chain id");
        *lines.entry(chain).or_default() += 1;
        if e["type"] == "blocked" {
            modes
                .entry(chain)
                .or_default()
                .insert(e["mode"].as_str().unwrap_or("enforce").to_string());
        }
    }
    for (chain, m) in &modes {
        assert_eq!(
            m.len(),
            1,
            "chain {chain} holds lines of both policies: {m:?}"
        );
    }
    let count = |mode: &str| modes.values().filter(|m| m.contains(mode)).count();
    assert!(
        count("enforce") >= 4 && count("monitor") >= 3,
        "expected a chain per configuration (4 enforcing, 3 monitoring): {modes:?}"
    );
    let out = Command::new(paths::verifier())
        .arg(stack.events_path())
        .output()
        .expect("run iatp-verify");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "iatp-verify:\n{text}");
    assert!(
        text.starts_with(&format!(
            "{} line(s), {} chain(s), in ",
            events.len(),
            lines.len()
        )),
        "iatp-verify:\n{text}"
    );
    assert!(text.trim_end().ends_with("\nverified"), "{text}");

    let mut sorted = to_new.clone();
    sorted.sort();
    let n = sorted.len();
    let median = (sorted[(n - 1) / 2] + sorted[n / 2]) / 2;
    let secs = (end - start).as_secs_f64();
    eprintln!(
        "reload: {} requests in {:.1} s ({:.0}/s over {CONNECTIONS} connections, 2 workers), 0 failed; \
         {} valid swaps and 1 invalid; time from rename to the first decision by the new policy: \
         min {:.1} ms, median {:.1} ms, max {:.1} ms; events: {} lines in {} chains, verified; \
         the test took {:.1} s\n{}",
        samples.len(),
        secs,
        samples.len() as f64 / secs,
        sorted.len(),
        ms(sorted[0]),
        ms(median),
        ms(sorted[n - 1]),
        events.len(),
        lines.len(),
        began.elapsed().as_secs_f64(),
        report.join("\n")
    );
}
