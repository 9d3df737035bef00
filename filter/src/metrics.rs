//! The filter's metrics in Envoy: every series defined once per VM at configure time (Envoy
//! shares a metric among the VMs that define the same name), from the core's registry
//! (`iatp_core::metrics::Metric`). Counters are added up in the VM and handed to Envoy once a
//! second (the root context's tick): a host call per counter per request cost more than the
//! rest of the metrics work. Histograms are recorded as values come.

use std::cell::Cell;

use proxy_wasm::types::MetricType;

use crate::abi;
use iatp_core::events::EventType;
use iatp_core::metrics::{
    status_slot, CacheResult, FetchKind, FetchResult, Instrument, LabelContext, Metric, Side, Tally,
};
use iatp_core::policy::Policy;
use iatp_core::policy::{Decision, PolicyResult};
use iatp_core::replies::ReplyKind;

/// A counter: Envoy's id, and what this VM has counted since the last flush.
#[derive(Debug, Default)]
struct Counter {
    id: Option<u32>,
    pending: Cell<u64>,
}

impl Counter {
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

/// Every series of every metric, by metric (`Metric::index`) and slot (`Series::slot`).
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Vec<Vec<Counter>>,
    histograms: Vec<Option<u32>>,
    /// Each reply kind's slot in `iatp_local_replies_total` (by `ReplyKind::index`).
    reply_slots: Vec<Option<usize>>,
}

fn define(kind: MetricType, name: &str) -> Option<u32> {
    abi::define_metric(kind, name)
        .map_err(|s| log::warn!("could not define metric {name}: host status {s}"))
        .ok()
}

impl Metrics {
    pub fn define(policy: &Policy) -> Metrics {
        let ctx = LabelContext::of(policy);
        let mut counters: Vec<Vec<Counter>> = Vec::with_capacity(Metric::ALL.len());
        let mut histograms = Vec::with_capacity(Metric::ALL.len());
        for metric in Metric::ALL {
            let mut slots: Vec<Counter> = Vec::new();
            let mut histogram = None;
            for series in metric.series(&ctx) {
                match metric.spec().instrument {
                    Instrument::Counter => {
                        if slots.len() <= series.slot {
                            slots.resize_with(series.slot + 1, Counter::default);
                        }
                        if let Some(slot) = slots.get_mut(series.slot) {
                            slot.id = define(MetricType::Counter, &series.name);
                        }
                    }
                    Instrument::Histogram => {
                        histogram = define(MetricType::Histogram, &series.name);
                    }
                }
            }
            counters.push(slots);
            histograms.push(histogram);
        }
        Metrics {
            counters,
            histograms,
            reply_slots: ReplyKind::ALL
                .iter()
                .map(|k| status_slot(*k, &policy.reply_statuses))
                .collect(),
        }
    }

    fn add(&self, metric: Metric, slot: usize, n: u64) {
        if let Some(c) = self
            .counters
            .get(metric.index())
            .and_then(|slots| slots.get(slot))
        {
            c.add(n);
        }
    }

    fn record(&self, metric: Metric, value: u64) {
        if let Some(Some(id)) = self.histograms.get(metric.index()) {
            let _ = abi::record_metric(*id, value);
        }
    }

    /// A response that a response rule refused (the request was counted when it was
    /// evaluated).
    pub fn response_evaluated(&self, t: &Tally) {
        self.phased(t, Side::Response);
    }

    /// What a tally adds to the metrics that count both sides.
    fn phased(&self, t: &Tally, side: Side) {
        let add = |m: Metric, slot: usize, n: u64| self.add(m, m.slot(slot, side), n);
        add(Metric::Requests, t.decision.index(), 1);
        add(Metric::PolicyEvaluations, t.result.index(), 1);
        for kind in t.detected.iter() {
            add(Metric::Detections, kind.index(), 1);
        }
        add(Metric::BodyBytesScanned, 0, t.body_bytes);
    }

    /// An evaluated request.
    pub fn evaluated(&self, t: &Tally) {
        self.phased(t, Side::Request);
        self.record(Metric::TrustScore, u64::from(t.trust_score));
        self.record(Metric::ScanDurationUs, t.scan_us);
        if let Some(slot) = t.caller {
            self.add(Metric::CallerRequests, slot, 1);
            if t.decision == Decision::RateLimited
                || (t.decision == Decision::Monitor && t.result == PolicyResult::RateLimited)
            {
                self.add(Metric::CallerRateLimited, slot, 1);
            }
        }
    }

    /// A fetch (a target's manifest, the control plane's contracts) and how it went.
    pub fn fetched(&self, kind: FetchKind, result: FetchResult) {
        let metric = match kind {
            FetchKind::Manifest => Metric::ManifestFetches,
            FetchKind::ControlPlane => Metric::ControlPlaneFetches,
        };
        self.add(metric, result.index(), 1);
    }

    /// A gateway request's target manifest, and how it was had.
    pub fn cache(&self, result: CacheResult) {
        self.add(Metric::ManifestCache, result.index(), 1);
    }

    pub fn replied(&self, kind: ReplyKind) {
        if let Some(Some(slot)) = self.reply_slots.get(kind.index()) {
            self.add(Metric::LocalReplies, *slot, 1);
        }
    }

    pub fn events(&self, types: &[EventType]) {
        for t in types {
            self.add(Metric::LogsWritten, t.index(), 1);
        }
    }

    /// Hands what this VM counted to Envoy.
    pub fn flush(&self) {
        for c in self.counters.iter().flatten() {
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
