//! The filter's metrics in Envoy: defined once per VM at configure time (Envoy shares a metric
//! among the VMs that define the same name), then incremented by id. Names and labels come
//! from `crate::metrics`.

use proxy_wasm::types::MetricType;

use super::abi;
use crate::metrics::{self as names, Tally};
use crate::policy::Policy;

#[derive(Debug, Default)]
pub struct Metrics {
    decisions: Vec<Option<u32>>,
    results: Vec<Option<u32>>,
    /// By detector kind index.
    detections: Vec<Option<u32>>,
    replies: Vec<(u16, Option<u32>)>,
    events: Vec<(&'static str, Option<u32>)>,
    body_bytes: Option<u32>,
    trust_score: Option<u32>,
    scan_us: Option<u32>,
}

fn define(kind: MetricType, name: &str) -> Option<u32> {
    abi::define_metric(kind, name)
        .map_err(|s| log::warn!("could not define metric {name}: host status {s}"))
        .ok()
}

fn counters(name: &str, tag: &str, values: &[&str]) -> Vec<Option<u32>> {
    values
        .iter()
        .map(|v| define(MetricType::Counter, &names::tagged(name, tag, v)))
        .collect()
}

fn add(id: Option<u32>, n: u64) {
    if let (Some(id), Ok(n)) = (id, i64::try_from(n)) {
        // Envoy refuses an increment of 0 for a counter.
        if n > 0 {
            let _ = abi::increment_metric(id, n);
        }
    }
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
        let mut detections = Vec::new();
        for kind in kinds.iter() {
            let i = kind.index();
            if detections.len() <= i {
                detections.resize(i + 1, None);
            }
            if let Some(slot) = detections.get_mut(i) {
                *slot = define(
                    MetricType::Counter,
                    &names::tagged(names::DETECTIONS, names::DETECTOR_TAG, scanner.name(kind)),
                );
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
            body_bytes: define(MetricType::Counter, names::BODY_BYTES_SCANNED),
            trust_score: define(MetricType::Histogram, names::TRUST_SCORE),
            scan_us: define(MetricType::Histogram, names::SCAN_DURATION_US),
        }
    }

    /// An evaluated request, which took `scan_us` microseconds to scan and decide.
    pub fn evaluated(&self, t: &Tally, scan_us: u64) {
        add(self.decisions.get(t.decision).copied().flatten(), 1);
        add(self.results.get(t.result).copied().flatten(), 1);
        for kind in t.detected.iter() {
            add(self.detections.get(kind.index()).copied().flatten(), 1);
        }
        add(self.body_bytes, t.body_bytes);
        record(self.trust_score, u64::from(t.trust_score));
        record(self.scan_us, scan_us);
    }

    pub fn replied(&self, status: u16) {
        if let Some((_, id)) = self.replies.iter().find(|(s, _)| *s == status) {
            add(*id, 1);
        }
    }

    pub fn events(&self, types: &[&'static str]) {
        for t in types {
            if let Some((_, id)) = self.events.iter().find(|(name, _)| name == t) {
                add(*id, 1);
            }
        }
    }
}
