//! The filter's metrics in Envoy: defined once per VM at configure time (Envoy shares a metric
//! among the VMs that define the same name). Counters are added up in the VM and handed to
//! Envoy once a second (the root context's tick): a host call per counter per request cost more
//! than the rest of the metrics work. Histograms are recorded as values come. Names and labels
//! come from `iatp_core::metrics`.

use std::cell::Cell;

use proxy_wasm::types::MetricType;

use crate::abi;
use iatp_core::metrics::{self as names, Tally};
use iatp_core::policy::Policy;

/// A counter: Envoy's id, and what this VM has counted since the last flush.
#[derive(Debug, Default)]
struct Counter {
    id: Option<u32>,
    pending: Cell<u64>,
}

impl Counter {
    fn new(id: Option<u32>) -> Counter {
        Counter {
            id,
            pending: Cell::new(0),
        }
    }

    fn add(&self, n: u64) {
        self.pending.set(self.pending.get().saturating_add(n));
    }

    fn flush(&self) {
        let n = self.pending.replace(0);
        if let (Some(id), Ok(n)) = (self.id, i64::try_from(n)) {
            // Envoy refuses an increment of 0 for a counter.
            if n > 0 {
                let _ = abi::increment_metric(id, n);
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    decisions: Vec<Counter>,
    results: Vec<Counter>,
    /// By detector kind index.
    detections: Vec<Counter>,
    replies: Vec<(u16, Counter)>,
    events: Vec<(&'static str, Counter)>,
    body_bytes: Counter,
    trust_score: Option<u32>,
    scan_us: Option<u32>,
}

fn define(kind: MetricType, name: &str) -> Option<u32> {
    abi::define_metric(kind, name)
        .map_err(|s| log::warn!("could not define metric {name}: host status {s}"))
        .ok()
}

fn counters(name: &str, tag: &str, values: &[&str]) -> Vec<Counter> {
    values
        .iter()
        .map(|v| Counter::new(define(MetricType::Counter, &names::tagged(name, tag, v))))
        .collect()
}

fn record(id: Option<u32>, value: u64) {
    if let Some(id) = id {
        let _ = abi::record_metric(id, value);
    }
}

impl Metrics {
    pub fn define(policy: &Policy) -> Metrics {
        let scanner = &policy.scanner;
        let kinds = scanner.enabled();
        let mut detections: Vec<Counter> = Vec::new();
        for kind in kinds.iter() {
            let i = kind.index();
            if detections.len() <= i {
                detections.resize_with(i + 1, Counter::default);
            }
            if let Some(slot) = detections.get_mut(i) {
                *slot = Counter::new(define(
                    MetricType::Counter,
                    &names::tagged(names::DETECTIONS, names::DETECTOR_TAG, scanner.name(kind)),
                ));
            }
        }
        let statuses: Vec<String> = names::REPLY_STATUSES.iter().map(u16::to_string).collect();
        let status_refs: Vec<&str> = statuses.iter().map(String::as_str).collect();
        Metrics {
            decisions: counters(names::REQUESTS, names::DECISION_TAG, &names::DECISIONS),
            results: counters(
                names::POLICY_EVALUATIONS,
                names::RESULT_TAG,
                &names::RESULTS,
            ),
            detections,
            replies: names::REPLY_STATUSES
                .iter()
                .copied()
                .zip(counters(
                    names::LOCAL_REPLIES,
                    names::STATUS_TAG,
                    &status_refs,
                ))
                .collect(),
            events: names::EVENT_TYPES
                .iter()
                .copied()
                .zip(counters(
                    names::EVENTS,
                    names::EVENT_TAG,
                    &names::EVENT_TYPES,
                ))
                .collect(),
            body_bytes: Counter::new(define(MetricType::Counter, names::BODY_BYTES_SCANNED)),
            trust_score: define(MetricType::Histogram, names::TRUST_SCORE),
            scan_us: define(MetricType::Histogram, names::SCAN_DURATION_US),
        }
    }

    /// An evaluated request, which took `scan_us` microseconds to scan and decide.
    pub fn evaluated(&self, t: &Tally, scan_us: u64) {
        if let Some(c) = self.decisions.get(t.decision) {
            c.add(1);
        }
        if let Some(c) = self.results.get(t.result) {
            c.add(1);
        }
        for kind in t.detected.iter() {
            if let Some(c) = self.detections.get(kind.index()) {
                c.add(1);
            }
        }
        self.body_bytes.add(t.body_bytes);
        record(self.trust_score, u64::from(t.trust_score));
        record(self.scan_us, scan_us);
    }

    pub fn replied(&self, status: u16) {
        if let Some((_, c)) = self.replies.iter().find(|(s, _)| *s == status) {
            c.add(1);
        }
    }

    pub fn events(&self, types: &[&'static str]) {
        for t in types {
            if let Some((_, c)) = self.events.iter().find(|(name, _)| name == t) {
                c.add(1);
            }
        }
    }

    /// Hands what this VM counted to Envoy.
    pub fn flush(&self) {
        let all = self
            .decisions
            .iter()
            .chain(&self.results)
            .chain(&self.detections)
            .chain(self.replies.iter().map(|(_, c)| c))
            .chain(self.events.iter().map(|(_, c)| c))
            .chain(std::iter::once(&self.body_bytes));
        for c in all {
            c.flush();
        }
    }
}

impl Drop for Metrics {
    /// Counts not yet handed over when a configuration is replaced (the last request of the old
    /// one holds the last reference) still reach Envoy.
    fn drop(&mut self) {
        self.flush();
    }
}
