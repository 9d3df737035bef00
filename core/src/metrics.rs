//! Metric names, and what one request adds to them. The glue defines the metrics once per VM
//! at configure time and feeds them from [`Tally`]; the names are a public contract
//! (dashboards and alerts use them).
//!
//! Envoy has no labels for Wasm metrics, only names (under the `wasmcustom.` prefix, which its
//! Prometheus output drops). Labels are written into the name the way Istio's own Wasm stats
//! are: `decision=.=allow;.;iatp_requests_total`. Envoy's `stats_tags` (and Istio's
//! `extraStatTags`) turn each `tag=.=value;.;` into a Prometheus label with the regex
//! `(tag=\.=(.*?);\.;)`, giving `iatp_requests_total{decision="allow"}`. Label values come from
//! fixed sets (decisions, detector names from the configuration, reply statuses, event
//! types), never from a request, so the number of metrics is bounded.

/// Requests by decision: what the filter did with each request it evaluated.
pub const REQUESTS: &str = "iatp_requests_total";
/// Policy evaluations by result: what the policy said, in monitor mode too.
pub const POLICY_EVALUATIONS: &str = "iatp_policy_evaluations_total";
/// Requests in which a detector found at least one value.
pub const DETECTIONS: &str = "iatp_detections_total";
/// Local replies by status.
pub const LOCAL_REPLIES: &str = "iatp_local_replies_total";
/// Request body bytes scanned (path bytes not counted).
pub const BODY_BYTES_SCANNED: &str = "iatp_body_bytes_scanned_total";
/// Event lines written, by type (the architecture document's "logs written").
pub const EVENTS: &str = "iatp_logs_written_total";
/// Histogram: the trust score of every evaluated request.
pub const TRUST_SCORE: &str = "iatp_trust_score_distribution";
/// Histogram: microseconds spent scanning the body and evaluating the rules, per request.
pub const SCAN_DURATION_US: &str = "iatp_scan_duration_us";

pub const DECISION_TAG: &str = "decision";
pub const RESULT_TAG: &str = "result";
pub const DETECTOR_TAG: &str = "detector";
pub const STATUS_TAG: &str = "status";
pub const EVENT_TAG: &str = "event";

/// `decision` values. `monitor`: forwarded unchanged because the filter only monitors
/// (`iatp_policy_evaluations_total` says what enforcement would have done).
pub const DECISIONS: [&str; 5] = ["allow", "warn", "block", "override", "monitor"];
/// `result` values.
pub const RESULTS: [&str; 4] = ["allow", "warn", "block", "override"];
/// The statuses of the filter's local replies: well-known documents, block, method not
/// allowed, body too large, warn, redaction failure. (The 503 of a filter without a valid
/// configuration cannot be counted: it has no metrics either.)
pub const REPLY_STATUSES: [u16; 6] = [200, 403, 405, 413, 449, 500];
/// Event line types.
pub const EVENT_TYPES: [&str; 7] = [
    "request", "response", "blocked", "warning", "override", "redacted", "error",
];

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
    /// Index into [`DECISIONS`].
    pub decision: usize,
    /// Index into [`RESULTS`].
    pub result: usize,
    pub detected: crate::detect::KindSet,
    pub body_bytes: u64,
    pub trust_score: u8,
}

pub fn decision_index(name: &str) -> usize {
    DECISIONS.iter().position(|d| *d == name).unwrap_or(0)
}

pub fn result_index(name: &str) -> usize {
    RESULTS.iter().position(|d| *d == name).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_take_apart_with_the_documented_regex() {
        let name = tagged(REQUESTS, DECISION_TAG, "allow");
        assert_eq!(name, "decision=.=allow;.;iatp_requests_total");
        let re = regex_lite::Regex::new(&tag_regex(DECISION_TAG)).unwrap();
        let caps = re.captures(&name).unwrap();
        assert_eq!(&caps[2], "allow");
        assert_eq!(name.replace(&caps[1], ""), REQUESTS);
    }

    #[test]
    fn every_event_type_has_a_metric() {
        use crate::events::*;
        let types = [
            <Request as EventKind>::TYPE,
            <Response as EventKind>::TYPE,
            <Blocked as EventKind>::TYPE,
            <Warning as EventKind>::TYPE,
            <Override as EventKind>::TYPE,
            <Redacted as EventKind>::TYPE,
            <Error as EventKind>::TYPE,
        ];
        assert_eq!(types, EVENT_TYPES);
        assert_eq!(decision_index("monitor"), 4);
        assert_eq!(result_index("override"), 3);
    }
}
