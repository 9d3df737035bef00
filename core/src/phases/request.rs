//! The request phases: its headers, then its body, and the decision on them.
//!
//! The decision runs in named steps: [`Exchange::scan`] (detection over the path and the body),
//! `Policy::evaluate` (the rules), [`Exchange::record_request`] (the `request` line), and
//! [`Exchange::enforce`], the one place where `mode` matters: it records what was decided and
//! carries it out, or in monitor mode only reports it.

use crate::charset::{Charset, Encoding};
use crate::detect::{Decoding, Finding, Findings, Format, KindSet};
use crate::events::{self, Stamp};
use crate::metrics::Tally;
use crate::policy::{is_override, Decision, Mode, Policy, Rule, Verdict};
use crate::replies::{self, Reply, ReplyKind};
use crate::rules::Facts;
use crate::scrub::{self, scrub, BodyFormat};
use crate::time::rfc3339_millis;
use crate::{agent_card, trace};

use super::{
    header, is_tunnel, Content, Exchange, HeaderValue, Headers, Host, Phase, RequestHead, Step,
    WELL_KNOWN_CARD, WELL_KNOWN_MANIFEST,
};

/// Paths in events are bounded like payloads: a path can be up to Envoy's header limit.
pub(super) const MAX_EVENT_PATH_BYTES: usize = 2048;

/// Paths and query strings are percent-encoded, and `+` is a space in query strings.
const PATH_DECODING: Decoding = Decoding {
    plus_is_space: true,
    json: false,
    ..Decoding::BODY
};

/// Any body may carry JSON and percent escapes, look-alikes and nested encodings (JSON is
/// sniffed, not trusted to its content type).
const BODY_DECODING: Decoding = Decoding::BODY;

/// Form bodies are percent-encoded, with `+` for a space.
const FORM_DECODING: Decoding = Decoding {
    plus_is_space: true,
    ..Decoding::BODY
};

/// Which well-known document a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WellKnown {
    Manifest,
    Card,
}

/// What detection found in one request: the totals the rules see, and the values to scrub
/// from the path and the body (in input order).
struct Scan {
    findings: Findings,
    path_spans: Vec<Finding>,
    /// Spans in the body as scanned: `text` when there is one.
    body_spans: Vec<Finding>,
    format: BodyFormat,
    /// A UTF-16 or UTF-32 body, transcoded to UTF-8: what is scanned, scrubbed and redacted
    /// (and encoded back, [`Scan::encoding`]) instead of the body's bytes.
    text: Option<Vec<u8>>,
    encoding: Option<Encoding>,
    /// The body's length as received.
    body_bytes: usize,
}

impl Exchange {
    /// Phase 1: the request headers (`end_of_stream`: there is no body).
    pub fn request_headers(
        &mut self,
        head: &RequestHead,
        end_of_stream: bool,
        host: &impl Host,
    ) -> Step {
        let now = host.now_nanos();
        let policy = self.policy.clone();
        self.trace_id = trace::resolve(
            head.trace_id,
            head.traceparent,
            |id| {
                policy
                    .as_deref()
                    .is_some_and(|p| !p.findings_in(id).is_empty())
            },
            || trace::random_bytes(now),
        );
        let Some(policy) = policy else {
            // No valid configuration (cannot happen with `failure_policy: FAIL_CLOSED`, which
            // makes Envoy refuse the filter): 503 rather than let the request through unchecked.
            self.phase = Phase::Replied;
            return Step::Reply(Reply {
                kind: ReplyKind::Unconfigured,
                body: replies::unconfigured(),
            });
        };
        self.method = String::from_utf8_lossy(head.method).into_owned();
        self.path = String::from_utf8_lossy(head.path).into_owned();
        self.content = Content::of(head.content_type);
        self.charset = Charset::declared(head.content_type);
        self.grpc = head
            .content_type
            .is_some_and(|ct| ct.starts_with(b"application/grpc"));
        self.override_requested = is_override(head.user_override);
        self.declares_length = head.content_length.is_some();
        self.started_nanos = now;

        if let Some(which) = self.well_known() {
            let base = agent_card::base_url(head.scheme, head.authority);
            return self.serve_well_known(&policy, which, &base, now);
        }

        // The agent can trust these headers: the filter sets them, whatever the caller sent.
        self.edit_identity(Headers::Request);
        if head.quarantined {
            self.edit(Headers::Request, header::QUARANTINED, None);
        }

        let declared = head.content_length.and_then(|v| {
            std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
        });
        if let Some(len) = declared.filter(|len| *len > policy.max_body_bytes) {
            // Answered before any byte of the body is read.
            return self.too_large(&policy, len, now);
        }
        let declares_body = head.content_length.is_some() || head.transfer_encoding;
        if end_of_stream || is_tunnel(head.method, head.upgrade, declares_body) {
            self.headers_held = true;
            return self.decide(&policy, &[], host.now_nanos(), host);
        }
        self.phase = Phase::RequestBody;
        self.headers_held = policy.hold_headers;
        if policy.hold_headers {
            // Hold the headers back until the body is decided: a blocked request must never
            // reach the agent, not even its headers. Needs `allow_on_headers_stop_iteration`
            // in the Wasm filter config; without it Envoy stops feeding this filter the body
            // and the request hangs.
            Step::Pause
        } else {
            // Istio's WasmPlugin cannot set that flag: the headers go on now and the body is
            // still held; a blocked request is reset before its body reaches the agent.
            Step::Continue
        }
    }

    /// Phase 2: Envoy has buffered `body_size` bytes of request body so far.
    pub fn request_body(
        &mut self,
        body_size: usize,
        end_of_stream: bool,
        host: &impl Host,
    ) -> Step {
        let Some(policy) = self.policy.clone() else {
            return Step::Continue;
        };
        if self.phase != Phase::RequestBody {
            return Step::Continue;
        }
        self.body_size = body_size;
        if end_of_stream || size_u64(body_size) > policy.max_body_bytes {
            return self.decide_buffered(&policy, host);
        }
        Step::Pause
    }

    /// Trailers end the request stream: the body is complete.
    pub fn request_trailers(&mut self, host: &impl Host) -> Step {
        let Some(policy) = self.policy.clone() else {
            return Step::Continue;
        };
        if self.phase != Phase::RequestBody {
            return Step::Continue;
        }
        self.decide_buffered(&policy, host)
    }

    /// Envoy refused the redacted body: the request is answered 500 instead, and an `error`
    /// line says why.
    pub fn redaction_failed(&mut self, host: &impl Host) -> Step {
        self.edits.clear();
        if let Some(policy) = self.policy.clone() {
            let ts = rfc3339_millis(host.now_nanos() / 1_000_000);
            self.push_error(
                &policy,
                "the request body could not be redacted",
                Some(500),
                &ts,
            );
        }
        self.reply(ReplyKind::RedactionFailed, replies::redaction_failed())
    }

    /// Decides on the body Envoy has buffered: too large, or read, scanned and decided.
    fn decide_buffered(&mut self, policy: &Policy, host: &impl Host) -> Step {
        let now = host.now_nanos();
        let size = self.body_size;
        if size_u64(size) > policy.max_body_bytes {
            // No need to copy a body that is too large just to measure it.
            return self.too_large(policy, size_u64(size), now);
        }
        if size == 0 {
            return self.decide(policy, &[], now, host);
        }
        let body = host.request_body(size);
        self.decide(policy, &body, now, host)
    }

    pub fn well_known(&self) -> Option<WellKnown> {
        match self.bare_path() {
            WELL_KNOWN_MANIFEST => Some(WellKnown::Manifest),
            WELL_KNOWN_CARD => Some(WellKnown::Card),
            _ => None,
        }
    }

    /// Answers a well-known endpoint: 200 with the document on GET/HEAD, 405 otherwise.
    fn serve_well_known(
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
        if !matches!(self.method.as_str(), "GET" | "HEAD") {
            let body = replies::method_not_allowed(&self.trace_id);
            return self.reply(ReplyKind::MethodNotAllowed, body);
        }
        let body = match which {
            WellKnown::Manifest => policy.manifest_json.clone(),
            WellKnown::Card => policy.agent_card.render(base_url),
        };
        self.reply(ReplyKind::WellKnown, body)
    }

    /// The body is over the limit (declared, or found while buffering): 413, nothing forwarded.
    fn too_large(&mut self, policy: &Policy, body_bytes: u64, now_nanos: u64) -> Step {
        let mut findings = Findings::default();
        let path_spans = self.scan_path(policy, &mut findings);
        let ts = rfc3339_millis(now_nanos / 1_000_000);
        self.record_request(policy, &path_spans, &[], &[], &findings, body_bytes, &ts);
        self.push_error(policy, "request body exceeds limit", Some(413), &ts);
        let body = replies::too_large(policy.max_body_bytes, &self.trace_id);
        self.reply(ReplyKind::TooLarge, body)
    }

    /// The whole request is here: scan it, evaluate the rules, record it, carry out the verdict.
    fn decide(&mut self, policy: &Policy, body: &[u8], now: u64, host: &impl Host) -> Step {
        let mut scan = self.scan(policy, body);
        // A UTF-16/32 body is reasoned about as its UTF-8 text from here on.
        let text = scan.text.take();
        let body_len = size_u64(body.len());
        let body = text.as_deref().unwrap_or(body);
        let facts = self.facts(&scan.findings);
        let verdict = policy.evaluate(&facts, self.override_requested);
        let redaction = match verdict {
            Verdict::Allow | Verdict::Override(_) => policy.redaction(&facts),
            Verdict::Block(_) | Verdict::Warn(_) => None,
        };
        let ts = rfc3339_millis(now / 1_000_000);
        self.record_request(
            policy,
            &scan.path_spans,
            body,
            &scan.body_spans,
            &scan.findings,
            body_len,
            &ts,
        );
        let step = self.enforce(policy, &verdict, redaction, body, scan, &ts);
        if let Some(t) = self.tally.as_mut() {
            t.scan_us = host.now_nanos().saturating_sub(now) / 1_000;
        }
        step
    }

    /// What the rules see of this request. Every per-request variable
    /// (`rules::Var::per_request`) gets its value here.
    pub(super) fn facts(&self, findings: &Findings) -> Facts<'_> {
        Facts::new(self.method.as_str(), self.bare_path())
            .with_detected(findings.kinds, findings.count)
    }

    /// Detection over the path (query string included, percent-decoded) and the body.
    fn scan(&self, policy: &Policy, body: &[u8]) -> Scan {
        let body_bytes = body.len();
        let (encoding, text) = match Charset::detect(self.charset, body) {
            Some(t) => (Some(t.encoding), Some(t.text)),
            None => (None, None),
        };
        let body = text.as_deref().unwrap_or(body);
        let format = self.body_format(body);
        let (scan_format, decoding) = match format {
            BodyFormat::Json => (Format::Json, BODY_DECODING),
            BodyFormat::Form => (Format::Text, FORM_DECODING),
            BodyFormat::Text => (Format::Text, BODY_DECODING),
        };
        let limit = policy.max_event_payload_bytes;
        // Redaction needs every value of the body; the payload only those within its limit.
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
        Scan {
            findings,
            path_spans,
            body_spans,
            format,
            text,
            encoding,
            body_bytes,
        }
    }

    /// Scans the path (query string included, percent-decoded): its values count for the
    /// rules and are scrubbed from events.
    pub(super) fn scan_path(&self, policy: &Policy, findings: &mut Findings) -> Vec<Finding> {
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

    /// Records the verdict and carries it out. The one place where the mode acts: in monitor
    /// mode the same lines are written (marked `"mode":"monitor"`), `X-Agent-Policy` says what
    /// enforcement would have done, and the request goes on unchanged.
    fn enforce(
        &mut self,
        policy: &Policy,
        verdict: &Verdict,
        redaction: Option<&Rule>,
        body: &[u8],
        mut scan: Scan,
        ts: &str,
    ) -> Step {
        let result = verdict.result();
        let decision = Decision::of(result, policy.mode);
        let report_only = decision == Decision::Monitor;
        let mode = report_only.then_some(Mode::Monitor.as_str());
        if report_only {
            self.policy_header = Some(result);
        }
        self.tally = Some(Tally {
            decision,
            result,
            detected: scan.findings.kinds,
            body_bytes: size_u64(scan.body_bytes),
            trust_score: policy.trust_score,
            scan_us: 0,
        });
        let detected = policy.scanner.names(scan.findings.kinds);
        let stamp = stamp(&self.trace_id, policy, ts);
        let reply = match verdict {
            Verdict::Allow => None,
            Verdict::Block(rule) => {
                self.events.push(
                    &stamp,
                    &events::Blocked {
                        reason: &rule.name,
                        detected: detected.clone(),
                        status: ReplyKind::Blocked.status(),
                        mode,
                    },
                );
                Some(Reply {
                    kind: ReplyKind::Blocked,
                    body: replies::block(&rule.message, &rule.name, &detected, &self.trace_id),
                })
            }
            Verdict::Warn(warnings) => {
                self.events.push(
                    &stamp,
                    &events::Warning {
                        warnings,
                        trust_score: policy.trust_score,
                        status: ReplyKind::ConfirmationRequired.status(),
                        mode,
                    },
                );
                Some(Reply {
                    kind: ReplyKind::ConfirmationRequired,
                    body: replies::warn(
                        warnings,
                        policy.trust_score,
                        policy.allow_override,
                        &self.trace_id,
                    ),
                })
            }
            Verdict::Override(warnings) => {
                self.events.push(&stamp, &events::Override { warnings });
                self.quarantined = true;
                None
            }
        };
        let redact_by = redaction.filter(|_| reply.is_none() && !scan.body_spans.is_empty());
        let redacted = redact_by.map(|rule| {
            let rewritten = (!report_only).then(|| {
                let out = scrub::redact(body, &mut scan.body_spans, scan.format, &policy.scanner);
                // A UTF-16/32 body goes on in its own encoding, placeholders included.
                match scan.encoding {
                    Some(e) => e.encode(&out),
                    None => out,
                }
            });
            let kinds = scan
                .body_spans
                .iter()
                .fold(KindSet::default(), |s, f| s.with(f.kind));
            self.events.push(
                &stamp,
                &events::Redacted {
                    rule: &rule.name,
                    detected: policy.scanner.names(kinds),
                    values: scan.body_spans.len(),
                    body_bytes: size_u64(rewritten.as_ref().map_or(body.len(), Vec::len)),
                    mode,
                },
            );
            rewritten
        });
        match (reply, redacted) {
            (Some(reply), _) if !report_only => self.reply(reply.kind, reply.body),
            (_, Some(Some(body))) => {
                if self.declares_length {
                    self.edit(
                        Headers::Request,
                        "content-length",
                        Some(HeaderValue::ContentLength(body.len())),
                    );
                }
                self.forward();
                Step::Redact(body)
            }
            _ => {
                self.forward();
                Step::Continue
            }
        }
    }

    /// The request goes on to the agent.
    fn forward(&mut self) {
        self.phase = Phase::Forwarded;
        if self.quarantined && self.headers_held {
            self.edit(
                Headers::Request,
                header::QUARANTINED,
                Some(HeaderValue::True),
            );
        }
    }

    pub(super) fn reply(&mut self, kind: ReplyKind, body: Vec<u8>) -> Step {
        self.phase = Phase::Replied;
        Step::Reply(Reply { kind, body })
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

    /// The `request` line: method, path and payload scrubbed.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_request(
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

    /// An `error` line.
    pub(super) fn push_error(
        &mut self,
        policy: &Policy,
        error: &str,
        status: Option<u16>,
        timestamp: &str,
    ) {
        self.events.push(
            &stamp(&self.trace_id, policy, timestamp),
            &events::Failure { error, status },
        );
    }
}

/// The fields every event line of an exchange shares.
pub(super) fn stamp<'a>(trace_id: &'a str, policy: &'a Policy, timestamp: &'a str) -> Stamp<'a> {
    Stamp {
        trace_id,
        timestamp,
        agent_id: &policy.manifest.agent_id,
    }
}

fn size_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
