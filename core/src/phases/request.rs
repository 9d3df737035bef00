//! The request phases: its headers, then its body, and the decision on them.
//!
//! The decision runs in named steps: [`Exchange::scan`] (detection over the path and the body),
//! `Policy::evaluate` (the rules), [`Exchange::record_request`] (the `request` line), and
//! [`Exchange::enforce`], the one place where `mode` matters: it records what was decided and
//! carries it out, or in monitor mode only reports it.

use crate::caller::DEFAULT_CALLER_NAME;
use crate::charset::{Charset, Encoding};
use crate::detect::{Decoding, Finding, Findings, Format};
use crate::events::{self, Stamp, PHASE_REQUEST};
use crate::header_map::HeaderMap;
use crate::policy::{Decision, Mode, Policy, PolicyResult, Rule, RuleAction, Verdict};
use crate::protocol::Refusal;
use crate::replies::{self, Outcome, Reply, ReplyKind};
use crate::rules::{Facts, Lookup, Value, Var};

use super::caller::RequestLookup;
use crate::scrub::{self, scrub, BodyFormat};
use crate::time::rfc3339_millis;
use crate::trace;

use super::confirm::Presented;
use super::fields::{event_method, FieldDetection, Section};
use super::{
    coding_name, header, holds_sensitive, is_tunnel, Content, Exchange, FieldScan, HeaderValue,
    Headers, Host, Phase, RequestHead, Step, WELL_KNOWN_ATTESTATION, WELL_KNOWN_CARD,
    WELL_KNOWN_MANIFEST,
};

/// Paths in events are bounded like payloads: a path can be up to Envoy's header limit.
pub(super) const MAX_EVENT_PATH_BYTES: usize = 2048;

/// The most body a request refused for its rate limit is buffered for, to answer with its
/// JSON-RPC ids (a JSON-RPC request is small; a larger body is answered without them).
const RATE_REFUSAL_READ_BYTES: usize = 64 * 1024;

/// The caller id written in events in place of one that holds a detected value.
const REDACTED_ID: &str = "[REDACTED]";

/// The path written in events for a request whose fields were too complex to scan whole.
pub(super) const UNSCANNED: &str = "[UNSCANNED]";

/// Any body may carry JSON and percent escapes, look-alikes and nested encodings (JSON is
/// sniffed, not trusted to its content type).
const BODY_DECODING: Decoding = Decoding::BODY;

/// Form bodies are percent-encoded, with `+` for a space.
const FORM_DECODING: Decoding = Decoding {
    plus_is_space: true,
    ..Decoding::BODY
};

/// The request headers' phase, kept while the gateway target's manifest is awaited.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Tail {
    pub(super) end_of_stream: bool,
    pub(super) tunnel: bool,
    pub(super) to_body: bool,
    /// Body bytes Envoy buffered meanwhile, and whether they are all of it.
    pub(super) body: Option<(usize, bool)>,
    /// Trailers came meanwhile.
    pub(super) trailers: bool,
}

/// Which well-known document a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WellKnown {
    Manifest,
    Card,
    /// The protected agent's attestation record (`attestation`), as the reference SDK serves.
    Attestation,
}

impl WellKnown {
    /// The document, when the filter serves it (`well_known.*`); else the request is an
    /// ordinary one, for the agent.
    fn document(self, policy: &Policy) -> Option<&[u8]> {
        match self {
            WellKnown::Manifest => policy.manifest_json.as_deref(),
            WellKnown::Card => policy.agent_card.as_ref().map(|c| c.0.as_slice()),
            WellKnown::Attestation => policy.attestation_json.as_deref(),
        }
    }
}

/// What detection found in one request: the totals the rules see (the request's fields and its
/// body), and the values to scrub from the body (in input order).
pub(super) struct Scan {
    pub(super) findings: Findings,
    /// Spans in the body as scanned: `text` when there is one.
    pub(super) body_spans: Vec<Finding>,
    pub(super) format: BodyFormat,
    /// A UTF-16 or UTF-32 body, transcoded to UTF-8: what is scanned, scrubbed and redacted
    /// (and encoded back, [`Scan::encoding`]) instead of the body's bytes.
    pub(super) text: Option<Vec<u8>>,
    pub(super) encoding: Option<Encoding>,
    /// The body's length as received.
    pub(super) body_bytes: usize,
    /// A body read as UTF-16/32 text whose bytes, read as they are (as the agent may: a charset
    /// label is only a label), hold values too: neither its payload nor a redaction of its
    /// text can be trusted to leave them out.
    pub(super) two_readings: bool,
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
        // A route picks its profile before anything is judged: the trace id's scan included.
        let unknown_profile = self.choose_profile(host);
        let policy = self.policy.clone();
        // A caller's id that holds a detected value would print it in every event line and
        // header: such an id is replaced (and a `traceparent` carrying it is not forwarded).
        let sensitive = |id: &[u8]| {
            policy
                .as_deref()
                .is_some_and(|p| holds_sensitive(&p.scanner, id))
        };
        // Every `traceparent` the caller sent, whole: its parent id is forwarded too.
        let traceparent_refused = head
            .headers
            .iter()
            .filter(|(name, _)| *name == header::TRACEPARENT.as_bytes())
            .map(|(_, value)| *value)
            .chain(head.traceparent)
            .any(sensitive);
        self.trace_id = trace::resolve(
            head.trace_id,
            head.traceparent.filter(|_| !traceparent_refused),
            sensitive,
            || trace::random_bytes(now),
        );
        let Some(policy) = policy else {
            // No valid configuration (cannot happen with `failure_policy: FAIL_CLOSED`, which
            // makes Envoy refuse the filter): 503 rather than let the request through unchecked.
            return self.reply(ReplyKind::Unconfigured, replies::unconfigured());
        };
        self.method = String::from_utf8_lossy(head.method).into_owned();
        self.path = String::from_utf8_lossy(head.path).into_owned();
        if let Some(why) = unknown_profile {
            let body = replies::unknown_profile(&self.trace_id);
            return self.refuse(&policy, ReplyKind::UnknownProfile, &why, 0, body, now);
        }
        self.content = Content::of(head.content_type);
        self.charset = Charset::declared(head.content_type);
        self.grpc = head
            .content_type
            .is_some_and(|ct| ct.starts_with(b"application/grpc"));
        self.presented = Presented::read(head.user_override, head.user_override_count);
        self.declares_length = head.content_length.is_some();
        self.started_nanos = now;
        self.fields = FieldScan::of_request_line(&policy, head.method, head.path);
        self.fields
            .add_headers(&policy, head.headers, Section::Headers);
        if self.fields.findings.incomplete {
            return self.too_complex(&policy, "headers", 0, now);
        }

        // In gateway mode a request that names a target is for the target, well-known path
        // or not.
        let for_target = head.acvps.target != crate::gateway::Header::Absent;
        if let Some(document) = self
            .well_known()
            .filter(|_| !for_target)
            .and_then(|w| w.document(&policy))
        {
            return self.serve_well_known(&policy, document.to_vec(), now);
        }
        if let Some(step) = self.gateway_headers(&policy, head, now) {
            return step;
        }

        // The agent can trust these headers: the filter sets them, whatever the caller sent.
        self.edit_identity(Headers::Request);
        if head.quarantined {
            self.edit(Headers::Request, header::QUARANTINED, None);
        }
        if self.presented.is_something() {
            // The token is for the filter: the agent learns of an override from
            // `X-Agent-Quarantined`.
            self.edit(Headers::Request, header::USER_OVERRIDE, None);
        }
        if traceparent_refused {
            self.edit(Headers::Request, header::TRACEPARENT, None);
            self.edit(Headers::Request, header::TRACESTATE, None);
        }
        self.identify(&policy, head, host);

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
        let tunnel = is_tunnel(head.method, head.upgrade, declares_body);
        if let Some(coding) = head.content_coding.filter(|_| !end_of_stream && !tunnel) {
            // A body the filter cannot read is never forwarded unscanned. Envoy's decompressor
            // ahead of the filter undoes the codings it has (envoy/envoy.yaml).
            return self.unsupported_encoding(&policy, coding_name(coding), now);
        }
        // A refusal of a JSON request whose headers are held waits for its body: a JSON-RPC
        // caller gets its error with its own `id` (JSON-RPC 2.0 §5), which only the body
        // says. Nothing is forwarded meanwhile.
        let to_body = policy.hold_headers
            && !end_of_stream
            && !tunnel
            && self.content == Content::Json
            && policy.mode == Mode::Enforce;
        if let Some(step) = self.charge(&policy, host) {
            if !to_body {
                return step;
            }
            self.rate_refused = true;
        }
        self.tail = Tail {
            end_of_stream,
            tunnel,
            to_body,
            ..Tail::default()
        };
        // Gateway mode: the target's manifest, from the cache or fetched (the request waits
        // for it). Not for a request already refused for its rate limit.
        if !self.rate_refused {
            if let Some(step) = self.judge_target(&policy, host) {
                return step;
            }
        }
        self.headers_tail(&policy, host)
    }

    /// The rest of the request headers' phase, once the target is known: decide now (no
    /// body), or on the headers, or wait for the body.
    pub(super) fn headers_tail(&mut self, policy: &Policy, host: &impl Host) -> Step {
        let Tail {
            end_of_stream,
            tunnel,
            to_body,
            ..
        } = self.tail;
        if end_of_stream || tunnel {
            self.headers_held = true;
            return self.decide(policy, &[], host.now_nanos(), host);
        }
        if !to_body {
            if let Some(step) = self.decide_on_headers(policy, host) {
                return step;
            }
        }
        self.phase = Phase::RequestBody;
        self.headers_held = policy.hold_headers;
        if let Some((size, eos)) = self.tail.body {
            // The body came while the target's manifest was awaited: Envoy holds it with the
            // headers. It is judged before anything goes on (even with `hold_headers: false`:
            // Envoy would forward what it holds without handing it to this filter again).
            self.body_size = size;
            self.headers_held = true;
            if self.tail.trailers {
                return self.request_trailers(host);
            }
            if eos || size_u64(size) > policy.max_body_bytes {
                return self.request_body(size, eos, host);
            }
            return Step::Pause;
        }
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
        if self.phase == Phase::AwaitingTarget {
            // Buffered until the target's manifest is known (Envoy holds it meanwhile).
            self.tail.body = Some((body_size, end_of_stream));
            return Step::Pause;
        }
        if self.phase != Phase::RequestBody {
            return Step::Continue;
        }
        self.body_size = body_size;
        if self.rate_refused && body_size > RATE_REFUSAL_READ_BYTES {
            // Its ids are not worth more buffering: the 429 goes without them.
            return self.rate_refusal(&policy, &[]);
        }
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
        if self.phase == Phase::AwaitingTarget {
            self.tail.trailers = true;
            let size = self.tail.body.map_or(0, |(s, _)| s);
            self.tail.body = Some((size, true));
            return Step::Pause;
        }
        if self.phase != Phase::RequestBody {
            return Step::Continue;
        }
        let raw = host.request_trailers();
        let trailers = HeaderMap::parse(&raw);
        self.fields
            .add_headers(&policy, trailers.pairs(), Section::Trailers);
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
        if self.rate_refused {
            // Refused on its headers; the body is read only for its JSON-RPC ids.
            let body = if size_u64(size) > policy.max_body_bytes || size == 0 {
                Vec::new()
            } else {
                host.request_body(size)
            };
            return self.rate_refusal(policy, &body);
        }
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
            WELL_KNOWN_ATTESTATION => Some(WellKnown::Attestation),
            _ => None,
        }
    }

    /// Answers a well-known endpoint: 200 with the document on GET/HEAD, 405 otherwise.
    fn serve_well_known(&mut self, policy: &Policy, document: Vec<u8>, now_nanos: u64) -> Step {
        let ts = rfc3339_millis(now_nanos / 1_000_000);
        self.record_request(policy, &[], &[], None, 0, &ts);
        if !matches!(self.method.as_str(), "GET" | "HEAD") {
            let body = replies::method_not_allowed(&self.trace_id);
            return self.reply(ReplyKind::MethodNotAllowed, body);
        }
        self.reply(ReplyKind::WellKnown, document)
    }

    /// The body is over the limit (declared, or found while buffering): 413, nothing forwarded.
    fn too_large(&mut self, policy: &Policy, body_bytes: u64, now_nanos: u64) -> Step {
        let body = replies::too_large(policy.max_body_bytes, &self.trace_id);
        let error = "request body exceeds limit";
        self.refuse(
            policy,
            ReplyKind::TooLarge,
            error,
            body_bytes,
            body,
            now_nanos,
        )
    }

    /// The request's decoded views (of its `part`) were over their budget: 413, nothing
    /// forwarded, whatever the mode (as for a body over the limit).
    fn too_complex(
        &mut self,
        policy: &Policy,
        part: &'static str,
        body_bytes: u64,
        now_nanos: u64,
    ) -> Step {
        let body = replies::too_complex(part, &self.trace_id);
        let error = "request too complex to scan";
        self.refuse(
            policy,
            ReplyKind::TooComplex,
            error,
            body_bytes,
            body,
            now_nanos,
        )
    }

    /// The body is in a content coding the filter cannot read: 415, nothing forwarded.
    fn unsupported_encoding(&mut self, policy: &Policy, coding: &str, now_nanos: u64) -> Step {
        let body = replies::unsupported_encoding(coding, &self.trace_id);
        let error = "request body in an unsupported content encoding";
        let kind = ReplyKind::UnsupportedEncoding;
        self.refuse(policy, kind, error, 0, body, now_nanos)
    }

    /// With `profiles`, the policy the stream's route names ([`crate::route::profile`] of
    /// `Host::route_metadata`) in place of the base one. `Some(error)` when the route names a
    /// profile the configuration does not define, or something that is not a name: the
    /// request is refused (fail closed) under the base policy; the error quotes the name only
    /// when it is a valid one (route metadata is the operator's text, but it is not a log's).
    fn choose_profile(&mut self, host: &impl Host) -> Option<String> {
        // Without profiles: nothing read, nothing cloned.
        let base = self
            .policy
            .as_ref()
            .filter(|p| !p.profiles.is_empty())?
            .clone();
        let metadata = host.route_metadata().unwrap_or_default();
        match crate::route::profile(&metadata) {
            crate::route::RouteProfile::Base => None,
            crate::route::RouteProfile::Named(name) => match base.profile_named(name.as_bytes()) {
                Some(profile) => {
                    self.policy = Some(profile.clone());
                    None
                }
                // A name is the operator's, but a line never holds a value a detector finds.
                None if crate::config::is_profile_name(&name)
                    && !holds_sensitive(&base.scanner, name.as_bytes()) =>
                {
                    Some(format!(
                        "the route names profile '{name}', which the configuration does not define"
                    ))
                }
                None => Some(format!(
                    "the route's iatp.profile ({} bytes) is not a profile name",
                    name.len()
                )),
            },
            crate::route::RouteProfile::NotAName(what) => Some(format!(
                "the route's iatp.profile ({what}) is not a profile name"
            )),
        }
    }

    /// A request refused before its body is read: the `request` line (path scanned, no
    /// payload), an `error` line, and the reply.
    fn refuse(
        &mut self,
        policy: &Policy,
        kind: ReplyKind,
        error: &str,
        body_bytes: u64,
        reply: Vec<u8>,
        now_nanos: u64,
    ) -> Step {
        let ts = rfc3339_millis(now_nanos / 1_000_000);
        self.record_request(policy, &[], &[], None, body_bytes, &ts);
        self.push_error(policy, error, Some(kind.status()), &ts);
        self.reply(kind, reply)
    }

    /// The whole request is here: scan it, evaluate the rules, record it, carry out the verdict.
    fn decide(&mut self, policy: &Policy, body: &[u8], now: u64, host: &impl Host) -> Step {
        if self.rate_refused {
            return self.rate_refusal(policy, body);
        }
        let mut scan = self.scan(policy, body);
        if scan.findings.incomplete {
            let part = if self.fields.findings.incomplete {
                "headers" // the trailers
            } else {
                "body"
            };
            return self.too_complex(policy, part, size_u64(scan.body_bytes), now);
        }
        // A UTF-16/32 body is reasoned about as its UTF-8 text from here on.
        let text = scan.text.take();
        let body = text.as_deref().unwrap_or(body);
        // What the body asks for, read only when a condition needs it (a refusal reads it
        // later, for its shape).
        let proto = policy
            .uses
            .reads_body_protocol()
            .then(|| self.protocol_of(body));
        let refusal = proto.as_ref().and_then(|p| {
            p.refusal
                .or_else(|| p.malformed_json.then_some(Refusal::Malformed))
        });
        if let Some(refusal) = refusal {
            return self.invalid_request(policy, refusal, body, scan, now, host);
        }
        let (verdict, redaction) = self.evaluate(policy, &scan.findings, proto.as_ref());
        let verdict = match verdict {
            Verdict::Warn(w) if self.override_on_body(policy, &w, body, host) => {
                Verdict::Override(w)
            }
            v => v,
        };
        let (verdict, redaction) = match (verdict, redaction) {
            // Redacting the text would leave the values its bytes hold when read as they are:
            // the rule that would redact refuses instead.
            (Verdict::Allow | Verdict::Override(_), Some(rule)) if scan.two_readings => {
                (Verdict::Block(rule), None)
            }
            (v @ (Verdict::Allow | Verdict::Override(_)), r) => (v, r),
            (v @ (Verdict::Block(_) | Verdict::Warn(_) | Verdict::Deny(_)), _) => (v, None),
        };
        self.proto = proto;
        let step = self.conclude(policy, &verdict, redaction, body, scan, now, host);
        if policy.responses.inspect
            && self.proto.is_none()
            && self.body_format(body) == BodyFormat::Json
            && matches!(step, Step::Continue | Step::Redact(_))
        {
            // A refused response is answered in the request's protocol's shape (a JSON-RPC
            // error carries the request's id), which only its body says.
            self.proto = Some(self.protocol_of(body));
        }
        step
    }

    /// Decides on the request headers when they already decide, enforcing: a block rule they
    /// match, or warnings that nothing in the body can change. This happens before anything is
    /// forwarded, whether the headers are held or not (the Istio path): a value in the path,
    /// the query or a header never reaches the agent of a request the policy refuses. Anything
    /// else waits for the body (events carry the payload, `redact` rules need it).
    fn decide_on_headers(&mut self, policy: &Policy, host: &impl Host) -> Option<Step> {
        if policy.mode != Mode::Enforce {
            return None;
        }
        let lookup = RequestLookup {
            lookups: &self.lookups,
            arguments: None,
        };
        let facts = self.facts(&self.fields.findings, &lookup).body_pending();
        let verdict = policy.verdict_so_far(&facts, self.caller.as_ref())?;
        match &verdict {
            Verdict::Block(_) | Verdict::Deny(_) => {}
            Verdict::Warn(w) => {
                if self.override_on_headers(policy, w, host) {
                    return None;
                }
            }
            Verdict::Allow | Verdict::Override(_) => return None,
        }
        self.headers_held = true;
        self.decided_on_headers = true;
        let scan = Scan {
            findings: self.fields.findings.clone(),
            body_spans: Vec::new(),
            format: BodyFormat::Text,
            text: None,
            encoding: None,
            body_bytes: 0,
            two_readings: false,
        };
        Some(self.conclude(policy, &verdict, None, &[], scan, host.now_nanos(), host))
    }

    /// Records the request and carries out the verdict.
    #[allow(clippy::too_many_arguments)]
    fn conclude(
        &mut self,
        policy: &Policy,
        verdict: &Verdict,
        redaction: Option<&Rule>,
        body: &[u8],
        scan: Scan,
        now: u64,
        host: &impl Host,
    ) -> Step {
        let ts = rfc3339_millis(now / 1_000_000);
        self.request_found = scan.findings.clone();
        // The text of a body that reads two ways would show, as other characters, the values
        // of its other reading: no payload.
        let payload = if scan.two_readings { &[][..] } else { body };
        self.record_request(
            policy,
            payload,
            &scan.body_spans,
            Some(&scan.findings),
            size_u64(scan.body_bytes),
            &ts,
        );
        let step = self.enforce(policy, verdict, redaction, body, scan, now, &ts);
        if let Some(t) = self.tally.as_mut() {
            t.scan_us = host.now_nanos().saturating_sub(now) / 1_000;
        }
        step
    }

    /// What the rules see of this request. Every per-request variable
    /// (`rules::Var::per_request`) gets its value here: the request's own, the caller's, and
    /// (anything about a protocol) the body's, which [`Exchange::call_facts`] adds per call.
    pub(super) fn facts<'a>(&'a self, findings: &Findings, lookup: &'a dyn Lookup) -> Facts<'a> {
        let mut f = Facts::new(self.method.as_str(), self.bare_path())
            .with_detected(findings.kinds, findings.count)
            .with_lookup(lookup);
        // Callers not read (nothing in the configuration asks about them): every caller is the
        // default, anonymous one.
        let (name, id, source, spiffe_id, domain, level, tier, score) = match &self.caller {
            Some(c) => (
                &*c.name,
                c.id.as_str(),
                c.source.as_str(),
                c.spiffe_id_str(),
                c.trust_domain(),
                c.trust_level.as_str(),
                c.tier,
                c.trust_score,
            ),
            None => (
                crate::caller::DEFAULT_CALLER_NAME,
                "",
                crate::caller::Source::Anonymous.as_str(),
                "",
                "",
                crate::manifest::TrustLevel::Unknown.as_str(),
                0,
                u8::try_from(crate::trust::base_score(
                    crate::manifest::TrustLevel::Unknown,
                ))
                .unwrap_or(0),
            ),
        };
        f.set(Var::Caller, Value::Str(name));
        f.set(Var::CallerId, Value::Str(id));
        f.set(Var::CallerSource, Value::Str(source));
        f.set(Var::CallerSpiffeId, Value::Str(spiffe_id));
        f.set(Var::CallerTrustDomain, Value::Str(domain));
        f.set(Var::CallerTrustLevel, Value::Str(level));
        f.set(Var::CallerTier, Value::Int(i64::from(tier)));
        f.set(Var::CallerTrustScore, Value::Int(i64::from(score)));
        // A body that is none of the protocols; [`Exchange::with_call`] sets what it asks.
        f.set(Var::Protocol, Value::Str("http"));
        for v in [
            Var::RpcMethod,
            Var::McpTool,
            Var::McpResource,
            Var::McpPrompt,
            Var::A2aTaskId,
            Var::A2aContextId,
            Var::A2aRole,
            Var::OpenaiModel,
            Var::Action,
        ] {
            f.set(v, Value::Str(""));
        }
        f.set(Var::OpenaiStream, Value::Bool(false));
        self.target_facts(&mut f);
        f
    }

    /// Detection over the body, added to what the request's fields hold.
    fn scan(&self, policy: &Policy, body: &[u8]) -> Scan {
        let body_bytes = body.len();
        let (encoding, text) = match Charset::detect(self.charset, body) {
            Some(t) => (Some(t.encoding), Some(t.text)),
            None => (None, None),
        };
        let raw_body = text.is_some().then_some(body);
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
        let mut findings = self.fields.findings.clone();
        let mut body_spans = Vec::new();
        policy
            .scanner
            .scan_input(body, decoding, scan_format, &mut findings, |f| {
                if keep_all || f.span.start < limit {
                    body_spans.push(f);
                }
            });
        let mut two_readings = false;
        if let (Some(_), Some(raw)) = (&text, raw_body) {
            // A body read as UTF-16/32 may be read as bytes by the agent (a label is only a
            // label; JSON parsers sniff): what its bytes hold counts too.
            policy
                .scanner
                .scan_input(raw, BODY_DECODING, Format::Text, &mut findings, |_| {
                    two_readings = true;
                });
        }
        Scan {
            findings,
            body_spans,
            format,
            text,
            encoding,
            body_bytes,
            two_readings,
        }
    }

    /// Records the verdict and carries it out. The one place where the mode acts: in monitor
    /// mode the same lines are written (marked `"mode":"monitor"`), `X-Agent-Policy` says what
    /// enforcement would have done, and the request goes on unchanged.
    #[allow(clippy::too_many_arguments)]
    fn enforce(
        &mut self,
        policy: &Policy,
        verdict: &Verdict,
        redaction: Option<&Rule>,
        body: &[u8],
        mut scan: Scan,
        now: u64,
        ts: &str,
    ) -> Step {
        // Monitor mode: an empty bucket is what enforcement would have answered first.
        let result = if self.rate_monitor {
            PolicyResult::RateLimited
        } else {
            verdict.result()
        };
        let decision = Decision::of(result, policy.mode);
        let report_only = decision == Decision::Monitor;
        let mode = report_only.then_some(Mode::Monitor.as_str());
        if self.rate_monitor {
            self.rate_limited_line(policy, ts, mode);
        }
        if report_only {
            self.policy_header = Some(result);
        }
        let mut tally = self.tally_of(policy, decision, result);
        tally.detected = scan.findings.kinds;
        tally.body_bytes = size_u64(scan.body_bytes);
        self.tally = Some(tally);
        if !matches!(verdict, Verdict::Allow | Verdict::Override(_))
            && self.proto.is_none()
            && !body.is_empty()
        {
            // The refusal's shape: what the body is (JSON-RPC: its ids).
            self.proto = Some(self.protocol_of(body));
        }
        let detected = policy.scanner.names(scan.findings.kinds);
        let stamp = stamp(&self.trace_id, policy, ts);
        let reply = match verdict {
            Verdict::Allow => None,
            Verdict::Block(rule) => {
                let status = policy.reply_statuses.of_kind(ReplyKind::Blocked);
                self.events.push(
                    &stamp,
                    &events::Blocked {
                        reason: &rule.name,
                        detected: detected.clone(),
                        status,
                        phase: PHASE_REQUEST,
                        contract: None,
                        exceeded: None,
                        moderation_error: None,
                        target: None,
                        mode,
                    },
                );
                // A redact rule blocks only a body it cannot redact (one that reads two ways):
                // its own message would say the values were redacted.
                let message = match rule.action {
                    RuleAction::Redact => replies::UNREDACTABLE_MESSAGE,
                    RuleAction::Block | RuleAction::Warn => rule.message.as_str(),
                };
                let iatp = replies::block(message, &rule.name, &detected, &self.trace_id);
                let outcome = Outcome::Blocked {
                    rule: &rule.name,
                    message,
                    detected: &detected,
                };
                Some(self.shaped(policy, ReplyKind::Blocked, &outcome, iatp))
            }
            Verdict::Deny(denied) => {
                let status = policy.reply_statuses.of_kind(ReplyKind::Forbidden);
                let caller = self
                    .caller
                    .as_ref()
                    .map_or_else(|| DEFAULT_CALLER_NAME.into(), |c| c.name.clone());
                self.events.push(
                    &stamp,
                    &events::Denied {
                        caller: &caller,
                        action: denied.action,
                        reason: denied.reason.as_str(),
                        required_tier: denied.required_tier,
                        current_tier: denied.current_tier,
                        status,
                        mode,
                    },
                );
                let iatp = replies::forbidden(denied, &caller, &self.trace_id);
                let outcome = Outcome::Forbidden {
                    action: denied.action,
                    required_tier: denied.required_tier,
                    current_tier: denied.current_tier,
                    caller: &caller,
                    reason: denied.reason,
                };
                Some(self.shaped(policy, ReplyKind::Forbidden, &outcome, iatp))
            }
            Verdict::Warn(warnings) => {
                let status = policy
                    .reply_statuses
                    .of_kind(ReplyKind::ConfirmationRequired);
                self.events.push(
                    &stamp,
                    &events::Warning {
                        warnings,
                        trust_score: policy.trust_score,
                        status,
                        mode,
                    },
                );
                let read = (!self.decided_on_headers).then_some(body);
                let offer = self.confirmation(policy, warnings, read, now);
                let confirm = offer.confirm(policy.override_ttl_secs);
                let iatp = replies::warn(warnings, policy.trust_score, confirm, &self.trace_id);
                let outcome = Outcome::ConfirmationRequired {
                    warnings,
                    detected: &detected,
                    trust_score: policy.trust_score,
                    confirm,
                };
                Some(self.shaped(policy, ReplyKind::ConfirmationRequired, &outcome, iatp))
            }
            Verdict::Override(warnings) => {
                self.events.push(
                    &stamp,
                    &events::Override {
                        warnings,
                        token_id: self.override_id.as_deref(),
                    },
                );
                self.quarantined = true;
                None
            }
        };
        // The same fields that decided are rewritten: the body, and the path, headers and
        // trailers that held values.
        let fields = redaction
            .filter(|_| reply.is_none())
            .map(|_| self.fields.rewrite(policy, &self.path))
            .unwrap_or_default();
        let redact_by = redaction
            .filter(|_| reply.is_none() && (!scan.body_spans.is_empty() || fields.values > 0));
        let redacted = redact_by.map(|rule| {
            let rewritten = (!report_only && !scan.body_spans.is_empty()).then(|| {
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
                .fold(fields.kinds, |s, f| s.with(f.kind));
            self.events.push(
                &stamp,
                &events::Redacted {
                    rule: &rule.name,
                    detected: policy.scanner.names(kinds),
                    values: scan.body_spans.len() + fields.values,
                    body_bytes: size_u64(rewritten.as_ref().map_or(body.len(), Vec::len)),
                    phase: PHASE_REQUEST,
                    mode,
                },
            );
            rewritten
        });
        if redact_by.is_some() && !report_only {
            for (map, name, value) in fields.edits {
                self.edit(map, name, value.map(HeaderValue::Redacted));
            }
        }
        match (reply, redacted) {
            (Some(reply), _) if !report_only => {
                self.phase = Phase::Replied;
                Step::Reply(reply)
            }
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
    pub(super) fn forward(&mut self) {
        self.phase = Phase::Forwarded;
        if self.quarantined && self.headers_held {
            self.edit(
                Headers::Request,
                header::QUARANTINED,
                Some(HeaderValue::True),
            );
        }
    }

    /// Answers locally with the kind's status ([`replies::Statuses::of_kind`]).
    pub(super) fn reply(&mut self, kind: ReplyKind, body: Vec<u8>) -> Step {
        self.phase = Phase::Replied;
        let status = self
            .policy
            .as_deref()
            .map_or(kind.status(), |p| p.reply_statuses.of_kind(kind));
        Step::Reply(Reply { kind, status, body })
    }

    /// How the body is written: by its content type, else JSON if it looks like JSON.
    fn body_format(&self, body: &[u8]) -> BodyFormat {
        match self.content {
            Content::Json => BodyFormat::Json,
            Content::Form => BodyFormat::Form,
            // A UTF-8 byte order mark does not make a body any less JSON (JSON parsers skip it).
            Content::Other => match body
                .strip_prefix(b"\xEF\xBB\xBF")
                .unwrap_or(body)
                .trim_ascii_start()
                .first()
            {
                Some(b'{' | b'[') => BodyFormat::Json,
                _ => BodyFormat::Text,
            },
        }
    }

    /// The `request` line: method, path, header names and payload scrubbed. `findings` is what
    /// was decided on (the fields' and the body's); `None` before a decision, when only the
    /// fields are known.
    pub(super) fn record_request(
        &mut self,
        policy: &Policy,
        body: &[u8],
        body_spans: &[Finding],
        findings: Option<&Findings>,
        body_bytes: u64,
        timestamp: &str,
    ) {
        // Fields whose decoded views were over budget were not scanned whole: neither their
        // path nor the names of their headers are written.
        let unscanned = self.fields.findings.incomplete;
        let path = if unscanned {
            scrub::Scrubbed {
                text: UNSCANNED.to_string(),
                truncated: false,
            }
        } else {
            scrub(
                self.path.as_bytes(),
                &self.fields.path_spans,
                MAX_EVENT_PATH_BYTES,
                &policy.scanner,
            )
        };
        let method = event_method(policy, &self.method, &self.fields.method_spans);
        let limit = policy.max_event_payload_bytes;
        let payload = (limit > 0 && !body.is_empty())
            .then(|| scrub(body, body_spans, limit, &policy.scanner));
        let kinds = findings.unwrap_or(&self.fields.findings).kinds;
        let (headers, trailers) = if unscanned {
            (Vec::new(), Vec::new())
        } else {
            (
                named(policy, &self.fields.headers),
                named(policy, &self.fields.trailers),
            )
        };
        // An id that holds a detected value (a JWT `sub` that is an e-mail address) is never
        // written.
        let caller_id = self.caller.as_ref().map(|c| {
            if c.id.is_empty() {
                None
            } else if holds_sensitive(&policy.scanner, c.id.as_bytes()) {
                Some(REDACTED_ID)
            } else {
                Some(c.id.as_str())
            }
        });
        let caller = self.caller.as_ref().map(|c| events::CallerFields {
            name: &c.name,
            source: c.source.as_str(),
            id: caller_id.flatten(),
            issuer: Some(c.issuer.as_str())
                .filter(|i| !i.is_empty() && !holds_sensitive(&policy.scanner, i.as_bytes())),
            tier: c.tier,
            trust_level: c.trust_level.as_str(),
        });
        self.events.push(
            &stamp(&self.trace_id, policy, timestamp),
            &events::Request {
                method: &method,
                path: &path.text,
                caller,
                trust_score: policy.trust_score,
                detected: policy.scanner.names(kinds),
                headers,
                trailers,
                body_bytes,
                payload: payload.as_ref().map(|p| p.text.as_str()),
                payload_truncated: payload.as_ref().is_some_and(|p| p.truncated),
                target: Self::target_fields(self.gw.as_deref(), policy),
                profile: policy.profile.as_deref(),
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

/// The `headers` (or `trailers`) of a `request` line.
fn named<'a>(policy: &'a Policy, list: &'a [FieldDetection]) -> Vec<events::FieldDetected<'a>> {
    list.iter()
        .map(|h| events::FieldDetected {
            name: &h.name,
            detected: policy.scanner.names(h.kinds),
        })
        .collect()
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
