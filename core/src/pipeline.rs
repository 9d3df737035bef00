//! One request through the IATP pipeline, as pure state transitions: the glue feeds in what
//! Envoy gives it (method, path, headers, body, response status, clock) and carries out the
//! returned [`Step`]s. Everything observable (replies, headers, event lines) is decided here.

use crate::detect::{Decoding, Finding, Findings, Format, KindSet};
use crate::events::{self, EventLog, Stamp};
use crate::metrics::{self, Tally};
use crate::policy::{Mode, Policy, Verdict};
use crate::replies;
use crate::rules::Facts;
use crate::scrub::{self, scrub, BodyFormat};
use crate::time::rfc3339_millis;

pub const WELL_KNOWN_MANIFEST: &str = "/.well-known/agent-manifest";
pub const WELL_KNOWN_CARD: &str = "/.well-known/agent-card.json";

/// Paths in events are bounded like payloads: a path can be up to Envoy's header limit.
const MAX_EVENT_PATH_BYTES: usize = 2048;

/// Paths and query strings are percent-encoded, and `+` is a space in query strings.
const PATH_DECODING: Decoding = Decoding {
    percent: true,
    plus_is_space: true,
    json: false,
};

/// Any body may carry JSON `\u` escapes (JSON is sniffed, not trusted to its content type).
const JSON_DECODING: Decoding = Decoding {
    percent: false,
    plus_is_space: false,
    json: true,
};

/// Form bodies are percent-encoded, with `+` for a space; JSON escapes are undone too.
const FORM_DECODING: Decoding = Decoding {
    percent: true,
    plus_is_space: true,
    json: true,
};

/// The body's content type, as far as scanning and redaction care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    Json,
    Form,
    Other,
}

impl Content {
    fn of(content_type: Option<&[u8]>) -> Content {
        let Some(ct) = content_type else {
            return Content::Other;
        };
        let media = ct
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        let is = |m: &[u8]| media.eq_ignore_ascii_case(m);
        if is(b"application/json")
            || media.len() > 5
                && media
                    .get(media.len() - 5..)
                    .is_some_and(|s| s.eq_ignore_ascii_case(b"+json"))
        {
            Content::Json
        } else if is(b"application/x-www-form-urlencoded") {
            Content::Form
        } else {
            Content::Other
        }
    }
}

/// What the glue must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Let the request go on to the agent.
    Forward,
    /// Let it go on with this body instead (a `redact` rule matched).
    ForwardRedacted(Vec<u8>),
    /// Answer locally with this status and JSON body. `details` is what Envoy's
    /// `%RESPONSE_CODE_DETAILS%` shows for the reply.
    Reply {
        status: u16,
        body: Vec<u8>,
        details: &'static str,
    },
}

/// An upgrade (WebSocket) or CONNECT request that declares no body never ends its request
/// stream: it is a tunnel, decided on its headers and path alone. A request that declares a
/// body keeps having it scanned, `Upgrade` header or not.
pub fn is_tunnel(method: &[u8], upgrade: bool, declares_body: bool) -> bool {
    !declares_body && (method == b"CONNECT" || (upgrade && method == b"GET"))
}

/// What the request headers say, as the glue read them.
#[derive(Debug, Clone, Default)]
pub struct RequestHead<'a> {
    pub method: &'a [u8],
    pub path: &'a [u8],
    pub content_type: Option<&'a [u8]>,
    pub trace_id: String,
    pub override_requested: bool,
}

/// The request's state, from its headers to its response.
#[derive(Debug)]
pub struct Exchange {
    pub trace_id: String,
    method: String,
    path: String,
    content: Content,
    override_requested: bool,
    started_nanos: u64,
    events: EventLog,
    /// The request was forwarded after an override: the agent and caller see
    /// `X-Agent-Quarantined: true`.
    pub quarantined: bool,
    /// In monitor mode: what enforcement would have done, for `X-Agent-Policy`.
    pub policy_header: Option<&'static str>,
    decided: bool,
    /// Response headers came back (from the agent or from Envoy): their status.
    response_status: Option<u16>,
    /// The whole response went through (its end of stream was seen).
    response_complete: bool,
    /// A gRPC request: Envoy reports its failures as 200 with a `grpc-status`, so the end of
    /// its stream is always looked at.
    grpc: bool,
    /// What the evaluation adds to the metrics (none for requests answered before it).
    pub tally: Option<Tally>,
}

/// How a stream ended, as Envoy tells at its end (the filter's `on_log`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ending<'a> {
    /// Envoy's `%RESPONSE_CODE_DETAILS%`: `via_upstream` for the agent's own answer, else why
    /// Envoy answered or ended the stream (`upstream_reset_before_response_started{…}`,
    /// `upstream_response_timeout`, `downstream_remote_disconnect`…). Empty if unknown.
    pub details: &'a str,
    /// Request body bytes received (for a request that never completed).
    pub body_bytes: u64,
    /// The filter answered the request itself.
    pub replied_locally: bool,
}

/// Which well-known document a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WellKnown {
    Manifest,
    Card,
}

impl Exchange {
    pub fn new(head: RequestHead, now_nanos: u64) -> Exchange {
        Exchange {
            trace_id: head.trace_id,
            method: String::from_utf8_lossy(head.method).into_owned(),
            path: String::from_utf8_lossy(head.path).into_owned(),
            content: Content::of(head.content_type),
            grpc: head
                .content_type
                .is_some_and(|ct| ct.starts_with(b"application/grpc")),
            override_requested: head.override_requested,
            started_nanos: now_nanos,
            events: EventLog::default(),
            quarantined: false,
            policy_header: None,
            decided: false,
            response_status: None,
            response_complete: false,
            tally: None,
        }
    }

    /// The event lines so far, newline-separated.
    pub fn events(&self) -> &[u8] {
        self.events.as_bytes()
    }

    /// The type of each event line so far.
    pub fn event_types(&self) -> &[&'static str] {
        self.events.types()
    }

    /// True once the request has been decided (forwarded or answered).
    pub fn decided(&self) -> bool {
        self.decided
    }

    /// The path without its query string or fragment.
    fn bare_path(&self) -> &str {
        let end = self.path.find(['?', '#']).unwrap_or(self.path.len());
        self.path.get(..end).unwrap_or(&self.path)
    }

    pub fn well_known(&self) -> Option<WellKnown> {
        match self.bare_path() {
            WELL_KNOWN_MANIFEST => Some(WellKnown::Manifest),
            WELL_KNOWN_CARD => Some(WellKnown::Card),
            _ => None,
        }
    }

    /// Scans the path (query string included, percent-decoded): its values count for the
    /// rules and are scrubbed from events.
    fn scan_path(&self, policy: &Policy, findings: &mut Findings) -> Vec<Finding> {
        let mut spans = Vec::new();
        policy.scanner.scan_input(
            self.path.as_bytes(),
            PATH_DECODING,
            Format::Text,
            findings,
            |f| spans.push(f),
        );
        spans
    }

    /// Answers a well-known endpoint: 200 with the document on GET/HEAD, 405 otherwise.
    pub fn serve_well_known(
        &mut self,
        policy: &Policy,
        which: WellKnown,
        base_url: &str,
        now_nanos: u64,
    ) -> Step {
        let mut findings = Findings::default();
        let path_spans = self.scan_path(policy, &mut findings);
        let ts = rfc3339_millis(now_nanos / 1_000_000);
        self.record_request(policy, &path_spans, &[], &[], &findings, 0, &ts);
        self.decided = true;
        if !matches!(self.method.as_str(), "GET" | "HEAD") {
            return Step::Reply {
                status: 405,
                body: replies::method_not_allowed(&self.trace_id),
                details: "iatp_method_not_allowed",
            };
        }
        let body = match which {
            WellKnown::Manifest => policy.manifest_json.clone(),
            WellKnown::Card => policy.agent_card.render(base_url),
        };
        Step::Reply {
            status: 200,
            body,
            details: "iatp_well_known",
        }
    }

    /// A declared body size over the limit is answered before any byte of it is read.
    pub fn check_declared_length(
        &mut self,
        policy: &Policy,
        content_length: Option<u64>,
        now_nanos: u64,
    ) -> Option<Step> {
        let len = content_length?;
        (len > policy.max_body_bytes).then(|| self.too_large(policy, len, now_nanos))
    }

    /// The body is over the limit (declared, or found while buffering): 413, nothing forwarded.
    pub fn too_large(&mut self, policy: &Policy, body_bytes: u64, now_nanos: u64) -> Step {
        let mut findings = Findings::default();
        let path_spans = self.scan_path(policy, &mut findings);
        let ts = rfc3339_millis(now_nanos / 1_000_000);
        self.record_request(policy, &path_spans, &[], &[], &findings, body_bytes, &ts);
        self.push_error(policy, "request body exceeds limit", 413, &ts);
        self.decided = true;
        Step::Reply {
            status: 413,
            body: replies::too_large(policy.max_body_bytes, &self.trace_id),
            details: "iatp_body_too_large",
        }
    }

    /// Scans the path and the complete body, evaluates the rules, records the events and says
    /// whether to forward (perhaps redacted) or answer.
    pub fn decide(&mut self, policy: &Policy, body: &[u8], now_nanos: u64) -> Step {
        let format = self.body_format(body);
        let (scan_format, decoding) = match format {
            BodyFormat::Json => (Format::Json, JSON_DECODING),
            BodyFormat::Form => (Format::Text, FORM_DECODING),
            BodyFormat::Text => (Format::Text, JSON_DECODING),
        };
        let limit = policy.max_event_payload_bytes;
        let keep_all = policy.may_redact();
        let mut findings = Findings::default();
        let path_spans = self.scan_path(policy, &mut findings);
        let mut body_spans = Vec::new();
        policy
            .scanner
            .scan_input(body, decoding, scan_format, &mut findings, |f| {
                if keep_all || f.span.start < limit {
                    body_spans.push(f);
                }
            });
        let facts = Facts {
            detected: findings.kinds,
            detected_count: findings.count,
            method: &self.method,
            path: self.bare_path(),
        };
        let verdict = policy.evaluate(&facts, self.override_requested);
        let redaction = match verdict {
            Verdict::Allow | Verdict::Override(_) => policy.redaction(&facts),
            Verdict::Block(_) | Verdict::Warn(_) => None,
        };
        let ts = rfc3339_millis(now_nanos / 1_000_000);
        let body_len = u64::try_from(body.len()).unwrap_or(u64::MAX);
        self.record_request(
            policy,
            &path_spans,
            body,
            &body_spans,
            &findings,
            body_len,
            &ts,
        );
        self.decided = true;

        let stamp = stamp(&self.trace_id, policy, &ts);
        let monitor = policy.mode == Mode::Monitor;
        let mode = monitor.then_some(Mode::Monitor.as_str());
        if monitor {
            self.policy_header = Some(verdict.name());
        }
        self.tally = Some(Tally {
            decision: metrics::decision_index(if monitor {
                Mode::Monitor.as_str()
            } else {
                verdict.name()
            }),
            result: metrics::result_index(verdict.name()),
            detected: findings.kinds,
            body_bytes: body_len,
            trust_score: policy.trust_score,
        });
        let detected = policy.scanner.names(findings.kinds);
        let step = match verdict {
            Verdict::Allow => Step::Forward,
            Verdict::Block(rule) => {
                self.events.push(
                    &stamp,
                    &events::Blocked {
                        reason: &rule.name,
                        detected: detected.clone(),
                        status: 403,
                        mode,
                    },
                );
                Step::Reply {
                    status: 403,
                    body: replies::block(&rule.message, &rule.name, &detected, &self.trace_id),
                    details: "iatp_blocked",
                }
            }
            Verdict::Warn(warnings) => {
                self.events.push(
                    &stamp,
                    &events::Warning {
                        warnings: &warnings,
                        trust_score: policy.trust_score,
                        status: 449,
                        mode,
                    },
                );
                Step::Reply {
                    status: 449,
                    body: replies::warn(
                        &warnings,
                        policy.trust_score,
                        policy.allow_override,
                        &self.trace_id,
                    ),
                    details: "iatp_confirmation_required",
                }
            }
            Verdict::Override(warnings) => {
                self.events.push(
                    &stamp,
                    &events::Override {
                        warnings: &warnings,
                    },
                );
                self.quarantined = true;
                Step::Forward
            }
        };
        let redact_by = match (redaction, &step) {
            (Some(rule), Step::Forward) if !body_spans.is_empty() => Some(rule),
            _ => None,
        };
        // Monitor mode reports what enforcement would do and changes nothing.
        let step = if monitor { Step::Forward } else { step };
        let Some(rule) = redact_by else {
            return step;
        };
        let (step, body_bytes) = if monitor {
            (step, body_len)
        } else {
            let redacted = scrub::redact(body, &mut body_spans, format, &policy.scanner);
            let len = u64::try_from(redacted.len()).unwrap_or(u64::MAX);
            (Step::ForwardRedacted(redacted), len)
        };
        let kinds = body_spans
            .iter()
            .fold(KindSet::default(), |s, f| s.with(f.kind));
        self.events.push(
            &stamp,
            &events::Redacted {
                rule: &rule.name,
                detected: policy.scanner.names(kinds),
                values: body_spans.len(),
                body_bytes,
                mode,
            },
        );
        step
    }

    /// How the body is written: by its content type, else JSON if it looks like JSON.
    fn body_format(&self, body: &[u8]) -> BodyFormat {
        match self.content {
            Content::Json => BodyFormat::Json,
            Content::Form => BodyFormat::Form,
            Content::Other => match body.trim_ascii_start().first() {
                Some(b'{' | b'[') => BodyFormat::Json,
                _ => BodyFormat::Text,
            },
        }
    }

    /// The response headers came back (from the agent, or from Envoy itself).
    pub fn on_response(&mut self, policy: &Policy, status: u16, now_nanos: u64) {
        let ts = rfc3339_millis(now_nanos / 1_000_000);
        self.response_status = Some(status);
        // A switched protocol (WebSocket) or an established CONNECT tunnel carries no HTTP
        // response body whose end the filter would see: its response is complete here.
        if status == 101 || (self.method == "CONNECT" && (200..300).contains(&status)) {
            self.response_complete = true;
        }
        if !self.decided {
            // A response started before the filter had the whole request: Envoy's own answer
            // (a timeout, its buffer limit), or, without hold_headers, an agent answering early.
            self.push_error(
                policy,
                "the response started before the request was evaluated",
                status,
                &ts,
            );
            return;
        }
        let stamp = stamp(&self.trace_id, policy, &ts);
        let micros = now_nanos.saturating_sub(self.started_nanos) / 1_000;
        // Microsecond precision, printed as milliseconds.
        let latency_ms = (micros as f64) / 1000.0;
        self.events
            .push(&stamp, &events::Response { status, latency_ms });
    }

    /// The response's end of stream went through.
    pub fn response_completed(&mut self) {
        self.response_complete = true;
    }

    /// Whether the end of the stream can still have something to record, so that the glue
    /// asks Envoy how it ended (a host call) only then: not for the usual request that was
    /// decided and answered in full by the agent.
    pub fn ending_matters(&self) -> bool {
        !self.decided
            || self.grpc
            || !self.response_complete
            || self.response_status.is_none_or(|s| s >= 400)
    }

    /// The stream is over: records what went wrong, if anything did, that no earlier step saw.
    /// - the request never completed (the client went away mid-body, or Envoy ended the stream):
    ///   a request line with what is known, and an error;
    /// - the request was forwarded but no response started (the client went away, or the
    ///   stream was reset): an error;
    /// - Envoy answered 5xx itself (upstream reset, connection failure, timeout): an error
    ///   naming Envoy's reason.
    pub fn finish(&mut self, policy: &Policy, ending: Ending, now_nanos: u64) {
        let ts = rfc3339_millis(now_nanos / 1_000_000);
        let why = |what: &str| match ending.details {
            "" | "via_upstream" => what.to_string(),
            d => format!("{what} ({d})"),
        };
        if !self.decided {
            if self.response_status.is_some() {
                return; // on_response recorded it
            }
            let mut findings = Findings::default();
            let path_spans = self.scan_path(policy, &mut findings);
            self.record_request(
                policy,
                &path_spans,
                &[],
                &[],
                &findings,
                ending.body_bytes,
                &ts,
            );
            let error = why("the stream ended before the request was complete");
            self.push_error_without_status(policy, &error, &ts);
            self.decided = true;
            return;
        }
        if self.response_status.is_none() {
            if ending.replied_locally {
                return;
            }
            let error = why("the stream ended before the response started");
            self.push_error_without_status(policy, &error, &ts);
            return;
        }
        // Anything but the agent's own complete answer (or a configured direct response) is
        // an error: Envoy answered instead of the agent, or cut the response short.
        let failed = !matches!(ending.details, "via_upstream" | "" | "direct_response")
            && !ending.details.starts_with("iatp_");
        let Some(status) = self.response_status else {
            return;
        };
        if failed {
            let error = if ending.details.contains("after_response_started") {
                format!("the response was cut short: {}", ending.details)
            } else {
                format!("Envoy answered {status}: {}", ending.details)
            };
            self.push_error(policy, &error, status, &ts);
        } else if !self.response_complete {
            // The agent's answer started but its end never went through: the client went away
            // while it was being sent.
            let error = why("the stream ended before the response was complete");
            self.push_error(policy, &error, status, &ts);
        }
    }

    /// A failure of the glue's own (a redaction it could not write): an error event.
    pub fn record_error(&mut self, policy: &Policy, error: &str, status: u16, now_nanos: u64) {
        let ts = rfc3339_millis(now_nanos / 1_000_000);
        self.push_error(policy, error, status, &ts);
    }

    #[allow(clippy::too_many_arguments)]
    fn record_request(
        &mut self,
        policy: &Policy,
        path_spans: &[Finding],
        body: &[u8],
        body_spans: &[Finding],
        findings: &Findings,
        body_bytes: u64,
        timestamp: &str,
    ) {
        let path = scrub(
            self.path.as_bytes(),
            path_spans,
            MAX_EVENT_PATH_BYTES,
            &policy.scanner,
        );
        // Envoy takes any token as a method over HTTP/2 (`123-45-6789` included): only the
        // standard ones go into the line unscanned.
        let standard = matches!(
            self.method.as_str(),
            "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" | "CONNECT" | "TRACE"
        );
        let scrubbed_method = (!standard).then(|| {
            let spans = policy.findings_in(self.method.as_bytes());
            scrub(
                self.method.as_bytes(),
                &spans,
                MAX_EVENT_PATH_BYTES,
                &policy.scanner,
            )
            .text
        });
        let limit = policy.max_event_payload_bytes;
        let payload = (limit > 0 && !body.is_empty())
            .then(|| scrub(body, body_spans, limit, &policy.scanner));
        self.events.push(
            &stamp(&self.trace_id, policy, timestamp),
            &events::Request {
                method: scrubbed_method.as_deref().unwrap_or(&self.method),
                path: &path.text,
                trust_score: policy.trust_score,
                detected: policy.scanner.names(findings.kinds),
                body_bytes,
                payload: payload.as_ref().map(|p| p.text.as_str()),
                payload_truncated: payload.as_ref().is_some_and(|p| p.truncated),
            },
        );
    }

    fn push_error_without_status(&mut self, policy: &Policy, error: &str, timestamp: &str) {
        self.events.push(
            &stamp(&self.trace_id, policy, timestamp),
            &events::Error {
                error,
                status: None,
            },
        );
    }

    fn push_error(&mut self, policy: &Policy, error: &str, status: u16, timestamp: &str) {
        self.events.push(
            &stamp(&self.trace_id, policy, timestamp),
            &events::Error {
                error,
                status: Some(status),
            },
        );
    }
}

/// The fields every event line of this request shares.
fn stamp<'a>(trace_id: &'a str, policy: &'a Policy, timestamp: &'a str) -> Stamp<'a> {
    Stamp {
        trace_id,
        timestamp,
        agent_id: &policy.manifest.agent_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const NOW: u64 = 1_769_171_696_789_000_000; // 2026-01-23T12:34:56.789Z

    fn policy(extra: Value) -> Policy {
        let mut cfg = json!({
            "manifest": {"identity": {"agent_id": "a"}, "trust_level": "standard",
                         "privacy": {"retention": "ephemeral"}},
            "policy": {"block_rules": [
                {"name": "no_ssn", "condition": "has_ssn", "action": "block"},
                {"name": "mail", "condition": "has_email", "action": "warn", "message": "mail"}]},
            "events": {"max_payload_bytes": 64}
        });
        if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                c.insert(k.clone(), v.clone());
            }
        }
        crate::config::parse(cfg.to_string().as_bytes()).unwrap()
    }

    fn exchange(method: &str, path: &str, over: bool) -> Exchange {
        Exchange::new(
            RequestHead {
                method: method.as_bytes(),
                path: path.as_bytes(),
                content_type: None,
                trace_id: "t1".into(),
                override_requested: over,
            },
            NOW,
        )
    }

    fn lines(ex: &Exchange) -> Vec<Value> {
        std::str::from_utf8(ex.events())
            .unwrap()
            .split('\n')
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn reply_status(step: &Step) -> Option<u16> {
        match step {
            Step::Reply { status, .. } => Some(*status),
            Step::Forward | Step::ForwardRedacted(_) => None,
        }
    }

    #[test]
    fn allow_records_request_then_response() {
        let p = policy(json!({}));
        let mut ex = exchange("POST", "/x", false);
        assert_eq!(ex.decide(&p, b"{\"a\":1}", NOW), Step::Forward);
        ex.on_response(&p, 201, NOW + 2_500_000);
        let l = lines(&ex);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0]["timestamp"], "2026-01-23T12:34:56.789Z");
        assert_eq!(l[0]["payload"], "{\"a\":1}");
        assert_eq!(l[1]["status"], 201);
        assert_eq!(l[1]["latency_ms"], 2.5);
        assert!(!ex.quarantined && ex.policy_header.is_none());
    }

    #[test]
    fn block_warn_override() {
        let p = policy(json!({}));
        let mut ex = exchange("POST", "/x", false);
        let step = ex.decide(&p, b"ssn 123-45-6789", NOW);
        assert_eq!(reply_status(&step), Some(403));
        assert_eq!(lines(&ex)[1]["type"], "blocked");
        assert!(!String::from_utf8_lossy(ex.events()).contains("6789"));

        let mut ex = exchange("POST", "/x", false);
        assert_eq!(reply_status(&ex.decide(&p, b"a@b.io", NOW)), Some(449));
        assert_eq!(lines(&ex)[1]["warnings"], json!(["mail"]));

        let mut ex = exchange("POST", "/x", true);
        assert_eq!(ex.decide(&p, b"a@b.io", NOW), Step::Forward);
        assert!(ex.quarantined);
        assert_eq!(lines(&ex)[1]["type"], "override");
    }

    #[test]
    fn monitor_forwards_and_reports() {
        let p = policy(json!({"mode": "monitor"}));
        let mut ex = exchange("POST", "/x", false);
        assert_eq!(ex.decide(&p, b"123-45-6789", NOW), Step::Forward);
        assert_eq!(ex.policy_header, Some("block"));
        assert_eq!(lines(&ex)[1]["mode"], "monitor");
    }

    #[test]
    fn path_counts_and_is_scrubbed_and_rules_see_it_without_query() {
        let p = policy(json!({"policy": {"block_rules": [
            {"name": "health", "condition": "path == '/health' && method == 'GET'", "action": "block"}]}}));
        let mut ex = exchange("GET", "/health?token=a@b.io", false);
        assert_eq!(reply_status(&ex.decide(&p, b"", NOW)), Some(403));
        let l = lines(&ex);
        assert_eq!(l[0]["path"], "/health?token=[EMAIL_REDACTED]");
        assert_eq!(l[0]["detected"], json!(["email"]));
        assert!(l[0].get("payload").is_none());
    }

    #[test]
    fn payload_is_cut_at_the_limit() {
        let p = policy(json!({}));
        let mut ex = exchange("POST", "/x", false);
        let body = format!("{} 123-45-6789", "x".repeat(59));
        ex.decide(&p, body.as_bytes(), NOW);
        let l = lines(&ex);
        assert_eq!(
            l[0]["payload"],
            format!("{} [SSN_REDACTED]", "x".repeat(59))
        );
        assert!(l[0].get("payload_truncated").is_none());
        let mut ex = exchange("POST", "/x", false);
        ex.decide(&p, "y".repeat(100).as_bytes(), NOW);
        let l = lines(&ex);
        assert_eq!(l[0]["payload"], "y".repeat(64));
        assert_eq!(l[0]["payload_truncated"], true);
    }

    #[test]
    fn encoded_values_in_path_and_body_count_and_are_scrubbed() {
        let p = policy(json!({}));
        let mut ex = exchange("GET", "/q?n=123%2D45%2D6789", false);
        assert_eq!(reply_status(&ex.decide(&p, b"", NOW)), Some(403));
        assert_eq!(lines(&ex)[0]["path"], "/q?n=[SSN_REDACTED]");
        let mut ex = exchange("POST", "/x", false);
        assert_eq!(
            reply_status(&ex.decide(&p, br#"{"s":"123\u002d45-6789"}"#, NOW)),
            Some(403)
        );
        assert_eq!(lines(&ex)[0]["payload"], r#"{"s":"[SSN_REDACTED]"}"#);
        // Form bodies are percent-encoded; other bodies are not decoded that way.
        let mut ex = Exchange::new(
            RequestHead {
                method: b"POST",
                path: b"/f",
                content_type: Some(b"application/x-www-form-urlencoded; charset=utf-8"),
                trace_id: "t".into(),
                override_requested: false,
            },
            NOW,
        );
        assert_eq!(
            reply_status(&ex.decide(&p, b"mail=jane%40example.com", NOW)),
            Some(449)
        );
        let mut ex = exchange("POST", "/x", false);
        assert_eq!(
            ex.decide(&p, b"mail=jane%40example.com", NOW),
            Step::Forward
        );
    }

    #[test]
    fn every_request_line_is_scrubbed_even_when_nothing_is_decided_on_the_body() {
        let p = policy(json!({"limits": {"max_body_bytes": 1}}));
        let mut ex = exchange("POST", "/x?ssn=123-45-6789", false);
        ex.check_declared_length(&p, Some(5), NOW).unwrap();
        assert_eq!(lines(&ex)[0]["path"], "/x?ssn=[SSN_REDACTED]");
        assert_eq!(lines(&ex)[0]["detected"], json!(["ssn"]));
        let mut ex = exchange("GET", "/.well-known/agent-manifest?e=a%40b.io", false);
        ex.serve_well_known(&p, WellKnown::Manifest, "http://h/", NOW);
        assert_eq!(
            lines(&ex)[0]["path"],
            "/.well-known/agent-manifest?e=[EMAIL_REDACTED]"
        );
    }

    #[test]
    fn redaction_rewrites_forwarded_bodies_and_monitor_only_reports_it() {
        let rules = json!({"block_rules": [{"name": "scrub", "condition": "has_email", "action": "redact"}]});
        let p = policy(json!({"policy": rules.clone()}));
        let mut ex = exchange("POST", "/x", false);
        let step = ex.decide(&p, br#"{"to":"a@b.io","n":1}"#, NOW);
        assert_eq!(
            step,
            Step::ForwardRedacted(br#"{"to":"[EMAIL]","n":1}"#.to_vec())
        );
        let l = lines(&ex);
        assert_eq!(l[1]["type"], "redacted");
        assert_eq!(l[1]["values"], 1);
        assert_eq!(l[1]["body_bytes"], 22);
        let p = policy(json!({"policy": rules, "mode": "monitor"}));
        let mut ex = exchange("POST", "/x", false);
        assert_eq!(ex.decide(&p, br#"{"to":"a@b.io"}"#, NOW), Step::Forward);
        assert_eq!(lines(&ex)[1]["mode"], "monitor");
        // Nothing to replace in the body (the address is in the path): forwarded as it is.
        let p = policy(
            json!({"policy": {"block_rules": [{"name": "scrub", "condition": "has_email", "action": "redact"}]}}),
        );
        let mut ex = exchange("POST", "/x?to=a@b.io", false);
        assert_eq!(ex.decide(&p, b"{}", NOW), Step::Forward);
    }

    #[test]
    fn tunnels() {
        assert!(is_tunnel(b"GET", true, false));
        assert!(is_tunnel(b"CONNECT", false, false));
        assert!(!is_tunnel(b"POST", true, false));
        assert!(!is_tunnel(b"GET", true, true));
        assert!(!is_tunnel(b"GET", false, false));
    }

    #[test]
    fn size_limits() {
        let p = policy(json!({"limits": {"max_body_bytes": 10}}));
        let mut ex = exchange("POST", "/x", false);
        assert_eq!(ex.check_declared_length(&p, Some(10), NOW), None);
        let step = ex.check_declared_length(&p, Some(11), NOW).unwrap();
        assert_eq!(reply_status(&step), Some(413));
        let l = lines(&ex);
        assert_eq!(l[0]["body_bytes"], 11);
        assert_eq!(l[1]["type"], "error");
        assert!(ex.decided());
    }

    #[test]
    fn well_known() {
        let p = policy(json!({}));
        let ex = exchange("GET", "/x", false);
        assert_eq!(ex.well_known(), None);
        let mut ex = exchange("GET", "/.well-known/agent-manifest?x", false);
        assert_eq!(ex.well_known(), Some(WellKnown::Manifest));
        let step = ex.serve_well_known(&p, WellKnown::Manifest, "http://h/", NOW);
        assert_eq!(reply_status(&step), Some(200));
        let mut ex = exchange("DELETE", "/.well-known/agent-card.json", false);
        let which = ex.well_known().unwrap();
        assert_eq!(
            reply_status(&ex.serve_well_known(&p, which, "http://h/", NOW)),
            Some(405)
        );
    }

    #[test]
    fn a_response_before_a_decision_is_an_error_event() {
        let p = policy(json!({}));
        let mut ex = exchange("POST", "/x", false);
        ex.on_response(&p, 408, NOW);
        let l = lines(&ex);
        assert_eq!(l[0]["type"], "error");
        assert_eq!(l[0]["status"], 408);
        // The end of the stream adds nothing to that.
        ex.finish(&p, Ending::default(), NOW);
        assert_eq!(lines(&ex).len(), 1);
    }

    #[test]
    fn the_end_of_the_stream_records_what_went_wrong_after_the_decision() {
        let p = policy(json!({}));
        let ending = |details| Ending {
            details,
            body_bytes: 0,
            replied_locally: false,
        };

        // A client gone mid-body: the request as far as it came, then an error.
        let mut ex = exchange("POST", "/x?email=jane%40example.com", false);
        ex.finish(
            &p,
            Ending {
                details: "downstream_remote_disconnect",
                body_bytes: 10,
                replied_locally: false,
            },
            NOW,
        );
        let l = lines(&ex);
        assert_eq!(l[0]["type"], "request");
        assert_eq!(l[0]["body_bytes"], 10);
        assert_eq!(l[0]["path"], "/x?email=[EMAIL_REDACTED]");
        assert_eq!(
            l[1]["error"],
            "the stream ended before the request was complete (downstream_remote_disconnect)"
        );
        assert!(l[1].get("status").is_none());
        assert!(ex.tally.is_none(), "not an evaluation");

        // Forwarded, and Envoy answered 503 for the agent: an error naming Envoy's reason.
        let mut ex = exchange("POST", "/x", false);
        ex.decide(&p, b"{}", NOW);
        assert!(ex.tally.is_some());
        ex.on_response(&p, 503, NOW);
        ex.finish(
            &p,
            ending("upstream_reset_before_response_started{connection_termination}"),
            NOW,
        );
        let l = lines(&ex);
        assert_eq!(l[1]["type"], "response");
        assert_eq!(l[2]["type"], "error");
        assert_eq!(l[2]["status"], 503);

        // A reset after the response started: the agent's 200 was cut short.
        let mut ex = exchange("POST", "/x", false);
        ex.decide(&p, b"{}", NOW);
        ex.on_response(&p, 200, NOW);
        ex.finish(
            &p,
            ending("upstream_reset_after_response_started{protocol_error}"),
            NOW,
        );
        let l = lines(&ex);
        assert_eq!(
            l[2]["error"],
            "the response was cut short: upstream_reset_after_response_started{protocol_error}"
        );
        assert_eq!(l[2]["status"], 200);

        // The agent's own 503 is its answer, not an error of the path to it.
        let mut ex = exchange("POST", "/x", false);
        ex.decide(&p, b"{}", NOW);
        ex.on_response(&p, 503, NOW);
        ex.response_completed();
        assert!(ex.ending_matters(), "a 5xx is looked at");
        ex.finish(&p, ending("via_upstream"), NOW);
        assert_eq!(lines(&ex).len(), 2);

        // A WebSocket upgrade is complete at its 101; a gRPC call is always looked at (Envoy
        // answers its failures with 200).
        let mut ex = exchange("GET", "/ws", false);
        ex.decide(&p, b"", NOW);
        ex.on_response(&p, 101, NOW);
        assert!(!ex.ending_matters());
        let mut ex = Exchange::new(
            RequestHead {
                method: b"POST",
                path: b"/pkg.Svc/Call",
                content_type: Some(b"application/grpc+proto"),
                trace_id: "t1".into(),
                override_requested: false,
            },
            NOW,
        );
        ex.decide(&p, b"", NOW);
        ex.on_response(&p, 200, NOW);
        ex.response_completed();
        assert!(ex.ending_matters());
        ex.finish(
            &p,
            ending("upstream_reset_before_response_started{connection_failure}"),
            NOW,
        );
        assert_eq!(
            lines(&ex).last().unwrap()["error"],
            "Envoy answered 200: upstream_reset_before_response_started{connection_failure}"
        );

        // A complete 200 from the agent: nothing to look at.
        let mut ex = exchange("POST", "/x", false);
        ex.decide(&p, b"{}", NOW);
        ex.on_response(&p, 200, NOW);
        ex.response_completed();
        assert!(!ex.ending_matters());

        // The stream ended while the agent's 200 was being sent, or before any response:
        // errors.
        for (status, error) in [
            (
                Some(200),
                "the stream ended before the response was complete",
            ),
            (None, "the stream ended before the response started"),
        ] {
            let mut ex = exchange("POST", "/x", false);
            ex.decide(&p, b"{}", NOW);
            if let Some(s) = status {
                ex.on_response(&p, s, NOW);
            }
            assert!(ex.ending_matters());
            ex.finish(&p, ending("via_upstream"), NOW);
            assert_eq!(lines(&ex).last().unwrap()["error"], error);
        }

        // Answered locally: nothing more to say.
        let mut ex = exchange("POST", "/x", false);
        ex.decide(&p, br#"{"ssn":"123-45-6789"}"#, NOW);
        ex.finish(
            &p,
            Ending {
                details: "iatp_blocked",
                body_bytes: 21,
                replied_locally: true,
            },
            NOW,
        );
        let l = lines(&ex);
        assert_eq!(l.len(), 2);
        assert_eq!(l[1]["type"], "blocked");
        let t = ex.tally.as_ref().unwrap();
        assert_eq!(crate::metrics::DECISIONS[t.decision], "block");
        assert_eq!(t.body_bytes, 21);
    }

    #[test]
    fn every_line_has_the_schema_version() {
        let p = policy(json!({}));
        let mut ex = exchange("POST", "/x", false);
        ex.decide(&p, b"{}", NOW);
        ex.on_response(&p, 200, NOW);
        for l in lines(&ex) {
            assert_eq!(l["v"], 1);
            assert_eq!(l["agent_id"], "a");
            assert_eq!(l["trace_id"], "t1");
            assert_eq!(l["timestamp"], "2026-01-23T12:34:56.789Z");
        }
    }
}
