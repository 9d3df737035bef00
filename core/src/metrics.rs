//! The filter's metrics: their names, types and labels (a public contract: dashboards and
//! alerts use them), and what one request adds to them. The glue defines every series once per
//! VM at configure time, from [`Metric::series`], and feeds them from [`Tally`] and the other
//! per-request counts.
//!
//! Envoy has no labels for Wasm metrics, only names (under the `wasmcustom.` prefix, which its
//! Prometheus output drops). Labels are written into the name the way Istio's own Wasm stats
//! are: `decision=.=allow;.;iatp_requests_total`. Envoy's `stats_tags` (and Istio's
//! `extraStatTags`) turn each `tag=.=value;.;` into a Prometheus label with the regex
//! `(tag=\.=(.*?);\.;)`, giving `iatp_requests_total{decision="allow"}`. Label values come from
//! closed sets (decisions, policy results, reply statuses, event types) and the configured
//! detector names, never from a request, so the number of series is bounded.

use crate::detect::{KindSet, Scanner};
use crate::events::EventType;
use crate::policy::Policy;
use crate::policy::{Decision, PolicyResult};
use crate::registry::registry;
use crate::replies::{ReplyKind, Statuses};

/// How Envoy keeps a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instrument {
    Counter,
    Histogram,
}

impl Instrument {
    pub const fn as_str(self) -> &'static str {
        match self {
            Instrument::Counter => "counter",
            Instrument::Histogram => "histogram",
        }
    }
}

registry! {
    /// The labels: each is one `stats_tags` entry in Envoy's bootstrap (and one
    /// `extraStatTags` name in Istio's).
    pub enum Label: &'static str {
        /// [`Decision`]: what the filter did.
        Decision => "decision",
        /// [`PolicyResult`]: what the policy said.
        Result => "result",
        /// A detector name: built-in or custom, enabled in the configuration.
        Detector => "detector",
        /// The status of a local reply ([`ReplyKind`], metered ones).
        Status => "status",
        /// [`EventType`].
        Event => "event",
        /// A caller's name: the `callers.directory` entries' and the default's.
        Caller => "caller",
        /// [`Side`]: whether the request or the response was judged (the second label of
        /// the metrics that count both).
        Phase => "phase",
        /// [`FetchResult`].
        Fetch => "fetch",
        /// [`CacheResult`].
        Cache => "cache",
    }
}

registry! {
    /// Which side of an exchange a series counts: the `phase` label.
    pub enum Side: &'static str {
        Request => "request",
        Response => "response",
    }
}

impl Side {
    pub const fn as_str(self) -> &'static str {
        self.spec()
    }
}

registry! {
    /// How a fetch went (the `fetch` label): remote manifests and the control plane's
    /// contracts.
    pub enum FetchResult: &'static str {
        /// A valid answer.
        Ok => "ok",
        /// The target publishes no manifest (404 or 410).
        NotFound => "not_found",
        /// No answer (timeout, connection failure, no such cluster) or another status.
        Failed => "failed",
        /// An answer that does not parse or does not validate.
        Invalid => "invalid",
    }
}

impl FetchResult {
    pub const fn as_str(self) -> &'static str {
        self.spec()
    }
}

/// What was fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchKind {
    /// A target's `/.well-known/agent-manifest` (or its attestation).
    Manifest,
    /// The control plane's contracts.
    ControlPlane,
}

registry! {
    /// How a gateway request's target manifest was had (the `cache` label).
    pub enum CacheResult: &'static str {
        /// A fresh entry.
        Hit => "hit",
        /// An expired entry, served while one worker refreshes it.
        Stale => "stale",
        /// Fetched for this request (or waited for another request's fetch).
        Miss => "miss",
        /// A recent fetch found no manifest, or failed: remembered for `negative_ttl_s`.
        Negative => "negative",
        /// The fetch failed and `fail: open` went on without a manifest.
        FailedOpen => "failed_open",
        /// The fetch failed and `fail: closed` refused the request (502).
        FailedClosed => "failed_closed",
    }
}

impl CacheResult {
    pub const fn as_str(self) -> &'static str {
        self.spec()
    }
}

impl Label {
    /// The tag name (`decision`).
    pub const fn tag(self) -> &'static str {
        self.spec()
    }

    /// The label's values for a configuration, each with the slot the glue keeps its series in:
    /// the member's `index()` for closed sets, the detector's kind index, the status's position
    /// in [`Statuses::metered`], the caller name's in `Directory::names`.
    pub fn values(self, ctx: &LabelContext) -> Vec<(usize, String)> {
        match self {
            Label::Decision => named(Decision::ALL.iter().map(|d| (d.index(), d.as_str()))),
            Label::Result => named(PolicyResult::ALL.iter().map(|r| (r.index(), r.as_str()))),
            Label::Event => named(EventType::ALL.iter().map(|e| (e.index(), e.as_str()))),
            Label::Detector => ctx
                .detectors
                .iter()
                .map(|k| (k.index(), ctx.scanner.name(k).to_string()))
                .collect(),
            Label::Caller => named(ctx.callers.iter().copied().enumerate()),
            Label::Phase => named(Side::ALL.iter().map(|s| (s.index(), s.as_str()))),
            Label::Fetch => named(FetchResult::ALL.iter().map(|s| (s.index(), s.as_str()))),
            Label::Cache => named(CacheResult::ALL.iter().map(|s| (s.index(), s.as_str()))),
            Label::Status => ctx
                .statuses
                .metered()
                .into_iter()
                .enumerate()
                .map(|(slot, s)| (slot, s.to_string()))
                .collect(),
        }
    }
}

/// What a configuration gives the labels whose values it decides: the detectors, the
/// callers' names, the statuses of the filter's replies.
pub struct LabelContext<'a> {
    pub scanner: &'a Scanner,
    /// The detectors with series: every one the base or a profile runs (their names are the
    /// base scanner's: profiles share its catalogue).
    pub detectors: crate::detect::KindSet,
    pub callers: Vec<&'a str>,
    pub statuses: Statuses,
}

impl<'a> LabelContext<'a> {
    pub fn of(policy: &'a Policy) -> LabelContext<'a> {
        LabelContext {
            scanner: &policy.scanner,
            detectors: policy.detectors_of_every_profile(),
            callers: policy.callers.names(),
            statuses: policy.reply_statuses,
        }
    }

    /// Only the detectors configured: the default caller, the default statuses.
    pub fn with_scanner(scanner: &'a Scanner) -> LabelContext<'a> {
        LabelContext {
            scanner,
            detectors: scanner.enabled(),
            callers: vec![crate::caller::DEFAULT_CALLER_NAME],
            statuses: Statuses::default(),
        }
    }
}

fn named<'a>(values: impl Iterator<Item = (usize, &'a str)>) -> Vec<(usize, String)> {
    values.map(|(i, v)| (i, v.to_string())).collect()
}

/// The slot of a reply's series in `iatp_local_replies_total`, if that reply is counted: its
/// status's position among the configuration's metered statuses ([`Statuses::metered`]).
pub fn status_slot(kind: ReplyKind, statuses: &Statuses) -> Option<usize> {
    if !kind.spec().metered {
        return None;
    }
    let status = statuses.of_kind(kind);
    statuses.metered().iter().position(|s| *s == status)
}

/// A metric: its name, how Envoy keeps it, its label, and what it counts (the docs row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricSpec {
    pub name: &'static str,
    pub instrument: Instrument,
    pub label: Option<Label>,
    /// Counted for requests and for responses alike: every series also has the `phase`
    /// label ([`Side`]).
    pub phased: bool,
    pub counts: &'static str,
}

registry! {
    /// Every metric the filter defines.
    pub enum Metric: MetricSpec {
        /// Requests by decision: what the filter did with each request it evaluated.
        Requests => MetricSpec { name: "iatp_requests_total", instrument: Instrument::Counter,
            label: Some(Label::Decision),
            phased: true,
            counts: "evaluated requests and inspected responses, by what the filter did (`monitor`: forwarded unchanged because `mode` is `monitor`; a response whose values were redacted counts as `allow`)" },
        /// Policy evaluations by result: what the policy said, in monitor mode too.
        PolicyEvaluations => MetricSpec { name: "iatp_policy_evaluations_total",
            instrument: Instrument::Counter, label: Some(Label::Result),
            phased: true,
            counts: "evaluated requests and inspected responses, by what the policy said, in monitor mode too" },
        /// Requests in which a detector found at least one value.
        Detections => MetricSpec { name: "iatp_detections_total", instrument: Instrument::Counter,
            label: Some(Label::Detector),
            phased: true,
            counts: "evaluated requests (and inspected responses) in which the detector found at least one value" },
        /// Local replies by status.
        LocalReplies => MetricSpec { name: "iatp_local_replies_total",
            instrument: Instrument::Counter, label: Some(Label::Status),
            phased: false,
            counts: "the filter's own replies (a 500 for a redacted body also counts as an allowed request; the 503 of a filter without a valid configuration is not counted: it has no metrics either)" },
        /// Request body bytes scanned (path bytes not counted).
        BodyBytesScanned => MetricSpec { name: "iatp_body_bytes_scanned_total",
            instrument: Instrument::Counter, label: None,
            phased: true,
            counts: "request (and response) body bytes scanned" },
        /// Event lines written, by type (the architecture document's "logs written").
        LogsWritten => MetricSpec { name: "iatp_logs_written_total",
            instrument: Instrument::Counter, label: Some(Label::Event),
            phased: false,
            counts: "event lines written (the architecture's \"logs written\")" },
        /// The trust score of every evaluated request.
        TrustScore => MetricSpec { name: "iatp_trust_score_distribution",
            instrument: Instrument::Histogram, label: None,
            phased: false,
            counts: "the trust score of each evaluated request (buckets 0.5, 1, 2 … 10 in `envoy/envoy.yaml`)" },
        /// Evaluated requests by caller.
        CallerRequests => MetricSpec { name: "iatp_caller_requests_total",
            instrument: Instrument::Counter, label: Some(Label::Caller),
            phased: false,
            counts: "evaluated requests, by caller (the directory entry's name, or the default's); only when the filter reads callers" },
        /// Requests refused for their caller's rate limit, by caller.
        CallerRateLimited => MetricSpec { name: "iatp_caller_rate_limited_total",
            instrument: Instrument::Counter, label: Some(Label::Caller),
            phased: false,
            counts: "requests whose caller's token bucket was empty (429, or reported in monitor mode), by caller" },
        /// Gateway requests by how their target's manifest was had.
        ManifestCache => MetricSpec { name: "iatp_manifest_cache_total",
            instrument: Instrument::Counter, label: Some(Label::Cache),
            phased: false,
            counts: "gateway requests whose target's manifest was looked up (`gateway.manifests`), by how it was had" },
        /// Fetches of targets' manifests by result.
        ManifestFetches => MetricSpec { name: "iatp_manifest_fetches_total",
            instrument: Instrument::Counter, label: Some(Label::Fetch),
            phased: false,
            counts: "fetches of targets' `/.well-known/agent-manifest` (and `agent-attestation`), by result" },
        /// Fetches of the control plane's contracts by result.
        ControlPlaneFetches => MetricSpec { name: "iatp_control_plane_fetches_total",
            instrument: Instrument::Counter, label: Some(Label::Fetch),
            phased: false,
            counts: "fetches of the control plane's contracts (`control_plane`), by result; a refused set keeps the last good one" },
        /// Microseconds spent reading, scanning and deciding one request's body.
        ScanDurationUs => MetricSpec { name: "iatp_scan_duration_us",
            instrument: Instrument::Histogram, label: None,
            phased: false,
            counts: "microseconds to copy one request's body out of Envoy, scan it and the path, and evaluate the rules" },
    }
}

/// One series of a metric: the slot the glue keeps it in, and the name Envoy gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub slot: usize,
    pub name: String,
}

impl Metric {
    pub const fn name(self) -> &'static str {
        self.spec().name
    }

    /// Every series of this metric for a configuration: one per label value, or the bare name
    /// (slot 0) for an unlabelled metric; a phased metric has them once per [`Side`], each
    /// at [`Metric::slot`].
    pub fn series(self, ctx: &LabelContext) -> Vec<Series> {
        let spec = self.spec();
        let plain: Vec<Series> = match spec.label {
            None => vec![Series {
                slot: 0,
                name: spec.name.to_string(),
            }],
            Some(label) => label
                .values(ctx)
                .into_iter()
                .map(|(slot, value)| Series {
                    slot,
                    name: tagged(spec.name, label.tag(), &value),
                })
                .collect(),
        };
        if !spec.phased {
            return plain;
        }
        Side::ALL
            .iter()
            .flat_map(|side| {
                plain.iter().map(move |s| Series {
                    slot: self.slot(s.slot, *side),
                    name: tagged(&s.name, Label::Phase.tag(), side.as_str()),
                })
            })
            .collect()
    }

    /// Where the glue keeps the series of label slot `slot` on `side` (for a metric that is
    /// not phased, `slot` itself).
    pub const fn slot(self, slot: usize, side: Side) -> usize {
        if self.spec().phased {
            slot * Side::ALL.len() + side.index()
        } else {
            slot
        }
    }
}

/// A metric name with one label, in the form Envoy's tag extraction takes apart.
pub fn tagged(name: &str, tag: &str, value: &str) -> String {
    format!("{tag}=.={value};.;{name}")
}

/// The `stats_tags` entry (Envoy bootstrap) that turns `tag` into a label.
pub fn tag_regex(tag: &str) -> String {
    format!(r"({tag}=\.=(.*?);\.;)")
}

/// What one evaluated request adds to the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub decision: Decision,
    pub result: PolicyResult,
    pub detected: KindSet,
    pub body_bytes: u64,
    pub trust_score: u8,
    /// Microseconds from the start of the decision (body read included) to its end.
    pub scan_us: u64,
    /// The caller's slot in the `caller` label (`Directory::name_slot`), when callers are read.
    pub caller: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_take_apart_with_the_documented_regex() {
        let name = tagged(Metric::Requests.name(), Label::Decision.tag(), "allow");
        assert_eq!(name, "decision=.=allow;.;iatp_requests_total");
        let re = regex_lite::Regex::new(&tag_regex(Label::Decision.tag())).unwrap();
        let caps = re.captures(&name).unwrap();
        assert_eq!(&caps[2], "allow");
        assert_eq!(name.replace(&caps[1], ""), Metric::Requests.name());
    }

    #[test]
    fn every_closed_set_member_has_a_series() {
        let scanner = Scanner::new(KindSet::all_built_ins());
        let names = |m: Metric| -> Vec<String> {
            m.series(&LabelContext::with_scanner(&scanner))
                .into_iter()
                .map(|s| s.name)
                .collect()
        };
        assert_eq!(
            names(Metric::LogsWritten),
            EventType::ALL
                .iter()
                .map(|t| tagged("iatp_logs_written_total", "event", t.as_str()))
                .collect::<Vec<_>>()
        );
        for m in Metric::ALL {
            for s in m.series(&LabelContext::with_scanner(&scanner)) {
                assert!(s.name.ends_with(m.name()), "{}", s.name);
            }
        }
        // Phased: every request series, then every response series.
        let requests = Metric::Requests.series(&LabelContext::with_scanner(&scanner));
        assert_eq!(requests.len(), 2 * Decision::ALL.len());
        assert_eq!(requests[4].slot, Metric::Requests.slot(4, Side::Request));
        assert_eq!(
            requests[4].name,
            "phase=.=request;.;decision=.=monitor;.;iatp_requests_total"
        );
        let back = &requests[Decision::ALL.len() + 2];
        assert_eq!(back.slot, Metric::Requests.slot(2, Side::Response));
        assert_eq!(
            back.name,
            "phase=.=response;.;decision=.=block;.;iatp_requests_total"
        );
        let slots: std::collections::BTreeSet<usize> = requests.iter().map(|s| s.slot).collect();
        assert_eq!(slots.len(), requests.len(), "slots are distinct");
        assert_eq!(
            names(Metric::BodyBytesScanned),
            [
                "phase=.=request;.;iatp_body_bytes_scanned_total",
                "phase=.=response;.;iatp_body_bytes_scanned_total"
            ]
        );
        let statuses = Statuses::default();
        assert_eq!(status_slot(ReplyKind::Unconfigured, &statuses), None);
        // 200 400 403 404 405 409 413 415 429 449 500 502
        assert_eq!(
            status_slot(ReplyKind::ConfirmationRequired, &statuses),
            Some(9)
        );
        for k in ReplyKind::ALL.iter().filter(|k| k.spec().metered) {
            let slot = status_slot(*k, &statuses).unwrap();
            assert_eq!(statuses.metered()[slot], k.status());
        }
        // A configured status is a series of its own.
        let teapot = Statuses {
            block: 418,
            ..Statuses::default()
        };
        let slot = status_slot(ReplyKind::Blocked, &teapot).unwrap();
        assert_eq!(teapot.metered()[slot], 418);
        assert_eq!(
            Metric::Detections
                .series(&LabelContext::with_scanner(&scanner))
                .len(),
            2 * crate::detect::BUILT_INS.len()
        );
    }

    /// docs/operations.md's metrics table is the registry's: names, types, label tags, and the
    /// values of the closed label sets.
    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn docs_list_every_metric() {
        use crate::registry::docs::{doc, markdown_table};
        let text = doc("docs/operations.md");
        let rows = markdown_table(&text, "## Metrics");
        let scanner = Scanner::new(KindSet::default());
        assert_eq!(rows.len(), Metric::ALL.len(), "docs/operations.md: metrics");
        for (row, m) in rows.iter().zip(Metric::ALL) {
            let spec = m.spec();
            assert_eq!(row[0], format!("`{}`", spec.name));
            assert_eq!(row[1], spec.instrument.as_str(), "{}", spec.name);
            assert_eq!(row[3], spec.counts, "{}", spec.name);
            let phase = "`phase`: `request`, `response`";
            let cell = if spec.phased {
                let cell = row[2].as_str();
                let rest = cell
                    .strip_suffix(phase)
                    .unwrap_or_else(|| panic!("{}: the cell ends with {phase}: {cell}", spec.name));
                rest.trim_end_matches("; ").to_string()
            } else {
                row[2].clone()
            };
            match spec.label {
                None => assert_eq!(cell, "", "{}", spec.name),
                Some(label) => {
                    let cell = &cell;
                    assert!(
                        cell.starts_with(&format!("`{}`", label.tag())),
                        "{}: {cell}",
                        spec.name
                    );
                    if !matches!(label, Label::Detector | Label::Event | Label::Caller) {
                        let quoted: Vec<String> = cell
                            .split('`')
                            .skip(3)
                            .step_by(2)
                            .map(str::to_string)
                            .collect();
                        let values: Vec<String> = label
                            .values(&LabelContext::with_scanner(&scanner))
                            .into_iter()
                            .map(|(_, v)| v)
                            .collect();
                        assert_eq!(quoted, values, "{}: {cell}", spec.name);
                    }
                }
            }
        }
    }

    /// Every shipped Envoy config, and the docs, turn every label into a Prometheus label.
    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn shipped_configs_extract_every_label() {
        use crate::registry::docs::doc;
        for file in [
            "envoy/envoy.yaml",
            "envoy/envoy-otel.yaml",
            "envoy/envoy-mtls-jwt.yaml",
            "envoy/envoy-gateway.yaml",
            "docs/operations.md",
        ] {
            let text = doc(file);
            for label in Label::ALL {
                let entry = format!(
                    "{{tag_name: {}, regex: '{}'}}",
                    label.tag(),
                    tag_regex(label.tag())
                );
                assert!(text.contains(&entry), "{file} lacks {entry}");
            }
        }
    }
}
