//! The response phases: its headers (from the agent, or from Envoy itself), then its body or
//! stream, whose end says whether the response went through whole.
//!
//! A response is inspected when the configuration reads responses
//! ([`crate::response::Responses::inspect`]) and its media type is scanned: buffered whole
//! and judged before any of it leaves when it declares a small enough length (its headers are
//! held meanwhile, when `hold_headers` allows), else scanned as a stream, chunk by chunk or
//! event by event, holding back only what could still become part of a value
//! ([`crate::response::window`]). Response rules decide as values are found: block (the
//! response replaced by the filter's refusal, or a stream ended with one), redact (values
//! replaced in place), or nothing.

use crate::charset::{Charset, Encoding};
use crate::contract::moderation::{self, Moderated, ModerationError};
use crate::contract::terms::TermState;
use crate::contract::{self, Contract, Counts, Violation};
use crate::detect::{Decoding, Finding, Findings, Format, KindSet};
use crate::events::{self, PHASE_RESPONSE};
use crate::header_map::HeaderMap;
use crate::policy::{Decision, Mode, Policy, PolicyResult, ResponseVerdict, Rule};
use crate::protocol::{Endpoint, Protocol};
use crate::replies::{self, Outcome, Reply, ReplyKind};
use crate::response::stream::{Chunks, Events, Pushed, Rendering, StreamError};
use crate::response::unescape::JsonUnescape;
use crate::response::{is_json_document, media_type, Shape};
use crate::scrub::{self, BodyFormat};
use crate::time::rfc3339_millis;

use super::caller::RequestLookup;
use super::request::stamp;
use super::{coding_name, header, Callout, Exchange, HeaderValue, Headers, Host, Phase, Step};

/// How an inspected response's body is being read.
#[derive(Debug)]
enum Reading {
    /// Buffered by Envoy until its end.
    Buffered,
    Chunks(Chunks),
    Events(Events),
}

/// An inspected response, from its headers to its end.
#[derive(Debug)]
pub(super) struct Inspection {
    reading: Reading,
    /// Bytes of body from the agent, and bytes passed on.
    bytes_in: u64,
    bytes_out: u64,
    /// The response headers are held until the body is judged (buffered, `hold_headers`).
    headers_held: bool,
    /// The response declared a `content-length` still in place, which a rewrite must follow.
    declares_length: bool,
    /// Refused mid-stream: everything after is dropped.
    pub(super) ended: bool,
    /// The redact rule that rewrote values, how many, and of which kinds.
    redacted_by: Option<String>,
    redacted_values: usize,
    redacted_kinds: KindSet,
    /// The response line's `payload` was cut.
    payload_truncated: bool,
    /// The response line is written.
    pub(super) recorded: bool,
    /// A chunk was not scanned whole (its views over budget).
    incomplete: bool,
    /// A response rule refused it (enforced or, in monitor mode, reported).
    refused: bool,
    /// What the detectors found so far: values per kind (the rules' kinds and count, and the
    /// contract's bounds).
    counts: Counts,
    /// The first denied term found, by index, and where each text stream's search stands.
    denied_term: Option<usize>,
    terms: Vec<TermState>,
    /// What the moderation service said (or how it failed).
    moderation: Option<Moderated>,
    /// A buffered response waiting for the moderation service's answer.
    waiting: Option<Waiting>,
    /// When the callout started (nanoseconds), to tell a timeout from a failure.
    call_started: u64,
    /// How many inputs it sent (its answer must score each).
    call_inputs: usize,
    /// The body's declared charset (a buffered UTF-16/32 body is read as its text).
    charset: Charset,
    /// A JSON or NDJSON media type (denied terms are searched with its escapes undone).
    json: bool,
    /// A JSON text's escapes undone as a stream's chunks come, for the denied terms.
    unescape: JsonUnescape,
    /// The `response` line's `payload` of a stream: the start of what left, as the log writes
    /// it (every value the stream's windows found replaced).
    log: Vec<u8>,
}

/// A buffered response, read and scanned, held while the moderation service is asked about
/// it.
#[derive(Debug)]
struct Waiting {
    /// Its text (a UTF-16/32 body transcoded).
    body: Vec<u8>,
    spans: Vec<Finding>,
    format: BodyFormat,
    /// A UTF-16/32 body's encoding, to write a redacted text back in.
    encoding: Option<Encoding>,
    /// Its bytes, read as they are, hold values too: a redaction of its text would leave them.
    two_readings: bool,
}

/// Why a response was refused.
enum Refused<'p> {
    Rule(&'p Rule),
    Contract(Violation<'p>),
    /// The contract needs moderation, which failed, and fails closed.
    Unmoderated(&'p Contract, ModerationError),
    /// A stream past one of its bounds (the stream ends).
    Limit(StreamError),
}

/// The `rule` of the error event that ends a stream past one of its bounds.
fn limit_rule(e: StreamError) -> &'static str {
    match e {
        StreamError::EventTooLarge(_) => "response_event_too_large",
        StreamError::TooManyTexts => "response_too_many_texts",
        StreamError::HeldTooMuch => "response_held_too_much",
    }
}

/// The `reason` of a `blocked` line for a contract violation.
pub const CONTRACT_VIOLATION: &str = "contract_violation";

impl Inspection {
    fn new(reading: Reading, headers_held: bool, declares_length: bool) -> Inspection {
        Inspection {
            reading,
            bytes_in: 0,
            bytes_out: 0,
            headers_held,
            declares_length,
            ended: false,
            redacted_by: None,
            redacted_values: 0,
            redacted_kinds: KindSet::default(),
            payload_truncated: false,
            recorded: false,
            incomplete: false,
            refused: false,
            counts: Counts::default(),
            denied_term: None,
            terms: Vec::new(),
            moderation: None,
            waiting: None,
            call_started: 0,
            call_inputs: 1,
            charset: Charset::Utf8,
            json: false,
            unescape: JsonUnescape::default(),
            log: Vec::new(),
        }
    }

    fn streamed(&self) -> bool {
        !matches!(self.reading, Reading::Buffered)
    }
}

impl Exchange {
    /// Phase 3: the response headers. Every response carries the trace id and the trust score
    /// (and `X-Agent-Quarantined`, `X-Agent-Policy` when they apply). An inspected response
    /// is held (buffered) or set up as a stream.
    pub fn response_headers(&mut self, end_of_stream: bool, host: &impl Host) -> Step {
        if matches!(self.phase, Phase::Replied | Phase::RequestHeaders) || self.response_replied {
            // Our own local reply passing through the encoder chain (already complete), or a
            // stream whose request this filter never saw.
            return Step::Continue;
        }
        let Some(policy) = self.policy.clone() else {
            return Step::Continue;
        };
        let status = host.response_status().unwrap_or(0);
        let now = host.now_nanos();
        let ts = rfc3339_millis(now / 1_000_000);
        self.response_status = Some(status);
        // A switched protocol (WebSocket) or an established CONNECT tunnel carries no HTTP
        // response body whose end the filter would see: its response is complete here.
        if status == 101 || (self.method == "CONNECT" && (200..300).contains(&status)) {
            self.response_complete = true;
        }
        let mut step = Step::Continue;
        if !self.decided() {
            // A response started before the filter had the whole request: Envoy's own answer
            // (a timeout, its buffer limit), or, without hold_headers, an agent answering early.
            self.push_error(
                &policy,
                "the response started before the request was evaluated",
                Some(status),
                &ts,
            );
        } else if let Some(s) = self.inspect_headers(&policy, status, end_of_stream, host) {
            step = s;
        } else {
            self.record_response(&policy, now);
        }
        if matches!(step, Step::Reply(_)) {
            return step;
        }
        self.edit_identity(Headers::Response);
        self.edit_rate_headers();
        if self.quarantined {
            self.edit(
                Headers::Response,
                header::QUARANTINED,
                Some(HeaderValue::True),
            );
        }
        if let Some(result) = self.policy_header {
            self.edit(
                Headers::Response,
                header::POLICY,
                Some(HeaderValue::Policy(result)),
            );
        }
        if end_of_stream {
            self.response_complete = true;
        }
        step
    }

    /// Sets up the inspection of a response, when it is inspected; `None` when it is not
    /// (its line is written now). A response without a body is judged now.
    fn inspect_headers(
        &mut self,
        policy: &Policy,
        status: u16,
        end_of_stream: bool,
        host: &impl Host,
    ) -> Option<Step> {
        let r = &policy.responses;
        if !r.inspect || status == 101 {
            return None;
        }
        if self.method == "HEAD" || matches!(status, 204 | 304) {
            // No body to read; the rules still see the status.
            return self.judge_unread(policy, host);
        }
        let raw = host.response_headers();
        let headers = HeaderMap::parse(&raw);
        let content_type = headers.get("content-type");
        if !r.scans(content_type) {
            // Not read (an image, say): the rules still see the status.
            return self.judge_unread(policy, host);
        }
        if end_of_stream {
            // Nothing to scan; the rules still see the status.
            self.resp = Some(Box::new(Inspection::new(Reading::Buffered, false, false)));
            return Some(self.judge_buffered(policy, &[], host));
        }
        let coding = headers
            .get_all("content-encoding")
            .flat_map(|v| v.split(|&b| b == b','))
            .map(<[u8]>::trim_ascii)
            .find(|c| !c.is_empty() && !c.eq_ignore_ascii_case(b"identity"));
        if let Some(coding) = coding {
            return Some(self.unreadable_response(policy, coding_name(coding), status, host));
        }
        let declared = headers
            .get("content-length")
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|s| s.trim().parse::<u64>().ok());
        let shape = r.shape(content_type, declared);
        let charset = Charset::declared(content_type);
        if shape != Shape::Buffered && charset != Charset::Utf8 {
            // A UTF-16 or UTF-32 stream would be read across chunk boundaries that may split
            // its code units: it is not read as it passes, so it does not pass.
            return Some(self.unreadable_response(policy, "utf-16/32 stream", status, host));
        }
        let json = content_type.is_some_and(|ct| {
            let m = media_type(ct);
            is_json_document(ct)
                || m.eq_ignore_ascii_case(b"application/x-ndjson")
                || m.eq_ignore_ascii_case(b"application/jsonl")
        });
        let terms = self
            .contract(policy)
            .is_some_and(|c| !c.envelope.denied_terms.is_empty());
        let may_rewrite = policy.may_redact_responses();
        let reading = match shape {
            Shape::Buffered => Reading::Buffered,
            Shape::Chunks => Reading::Chunks(Chunks::new(r.hold_bytes, r.release, json)),
            Shape::Events => Reading::Events(Events::new(
                r.hold_bytes,
                r.release,
                r.max_event_bytes,
                terms,
            )),
        };
        let held = shape == Shape::Buffered && policy.hold_headers;
        let declares_length = declared.is_some();
        if declares_length && !held && may_rewrite {
            // The headers leave now and the body may change length: Envoy frames it instead
            // (chunked in HTTP/1.1).
            self.edit(Headers::Response, "content-length", None);
        }
        self.resp = Some(Box::new(Inspection::new(
            reading,
            held,
            declares_length && held,
        )));
        if let Some(r) = self.resp.as_mut() {
            r.charset = charset;
            r.json = json;
        }
        if shape != Shape::Buffered {
            if let (Some(c), Some(m)) = (self.contract(policy), policy.moderation.as_ref()) {
                if c.needs_moderation() {
                    // A stream leaves as it comes: there is no whole text to ask about first.
                    // The contract's fail mode decides, now, while the headers can still say.
                    let moderated = Moderated::new(m.fail, Err(ModerationError::Stream));
                    let blocks = moderated.blocks();
                    if let Some(r) = self.resp.as_mut() {
                        r.moderation = Some(moderated);
                    }
                    if blocks {
                        let refused = Refused::Unmoderated(c, ModerationError::Stream);
                        let now = host.now_nanos();
                        let ts = rfc3339_millis(now / 1_000_000);
                        self.response_blocked(policy, &refused, &ts);
                        if policy.mode == Mode::Enforce {
                            let reply = self.response_refusal(policy, &refused);
                            self.record_response(policy, now);
                            return Some(Step::Reply(reply));
                        }
                        self.policy_header = Some(PolicyResult::Block);
                    }
                }
            }
        }
        Some(if held { Step::Pause } else { Step::Continue })
    }

    /// Bytes of response body Envoy holds for the filter (a buffered response, while the
    /// moderation service is asked about it).
    pub fn response_bytes_buffered(&self) -> usize {
        self.resp
            .as_deref()
            .and_then(|r| usize::try_from(r.bytes_in).ok())
            .unwrap_or(0)
    }

    /// A response whose body is not read (no body, or a media type not scanned): the response
    /// rules still decide on its status and the request (`response_status == 404`), with
    /// nothing found in it. A block replaces it while its headers are still here; otherwise
    /// its line is the plain one of a response not read. `None` when it goes on.
    fn judge_unread(&mut self, policy: &Policy, host: &impl Host) -> Option<Step> {
        // Nothing to decide without a response rule.
        policy.response_rules().next()?;
        self.resp = Some(Box::new(Inspection::new(Reading::Buffered, false, false)));
        let refused = match self.response_verdict(policy) {
            ResponseVerdict::Block(rule) => Some(Refused::Rule(rule)),
            ResponseVerdict::Redact(_) | ResponseVerdict::Allow => None,
        };
        let step = refused.and_then(|refused| {
            let now = host.now_nanos();
            let ts = rfc3339_millis(now / 1_000_000);
            self.response_blocked(policy, &refused, &ts);
            if policy.mode == Mode::Monitor {
                self.policy_header = Some(PolicyResult::Block);
                return None;
            }
            let reply = self.response_refusal(policy, &refused);
            self.record_response(policy, now);
            Some(Step::Reply(reply))
        });
        if step.is_none() {
            // Not read: the plain `response` line, counted as before.
            self.resp = None;
        }
        step
    }

    /// Phase 4: `body_size` bytes of response body are buffered (all so far when the filter
    /// buffers; this chunk when it streams). Its end of stream means the whole response went
    /// through.
    pub fn response_body(
        &mut self,
        body_size: usize,
        end_of_stream: bool,
        host: &impl Host,
    ) -> Step {
        if end_of_stream {
            self.response_complete = true;
        }
        if self.response_replied {
            return Step::Continue;
        }
        let Some(policy) = self.policy.clone() else {
            return Step::Continue;
        };
        let Some(resp) = self.resp.as_mut() else {
            return Step::Continue;
        };
        if resp.recorded && !resp.streamed() {
            return Step::Continue;
        }
        if resp.ended {
            // Refused mid-stream: nothing more leaves.
            return Step::Rewrite(Vec::new());
        }
        match resp.reading {
            Reading::Buffered => {
                if !end_of_stream {
                    if body_size <= policy.responses.max_body_bytes {
                        return Step::Pause;
                    }
                    // Longer than a buffered response may be (a JSON document sent without a
                    // length): it is read on as a stream, what Envoy holds being its first
                    // chunk, and its headers go on.
                    let json = resp.json;
                    let r = &policy.responses;
                    resp.reading = Reading::Chunks(Chunks::new(r.hold_bytes, r.release, json));
                    if resp.headers_held && policy.may_redact_responses() {
                        self.edit(Headers::Response, "content-length", None);
                    }
                    let chunk = host.response_body(body_size);
                    return self.stream_chunk(&policy, &chunk, false, host);
                }
                let body = if body_size == 0 {
                    Vec::new()
                } else {
                    host.response_body(body_size)
                };
                self.judge_buffered(&policy, &body, host)
            }
            Reading::Chunks(_) | Reading::Events(_) => {
                let chunk = if body_size == 0 {
                    Vec::new()
                } else {
                    host.response_body(body_size)
                };
                self.stream_chunk(&policy, &chunk, end_of_stream, host)
            }
        }
    }

    /// Trailers end the response stream. Text a stream still holds cannot follow them (a
    /// filter cannot add body in the trailers' callback): it is lost, and said so.
    pub fn response_trailers(&mut self, host: &impl Host) -> Step {
        self.response_complete = true;
        let Some(policy) = self.policy.clone() else {
            return Step::Continue;
        };
        let held = match self.resp.as_deref() {
            Some(Inspection {
                reading: Reading::Chunks(c),
                recorded: false,
                ..
            }) => c.held(),
            Some(Inspection {
                reading: Reading::Events(e),
                recorded: false,
                ..
            }) => e.held(),
            _ => 0,
        };
        if self.resp.as_ref().is_some_and(|r| !r.recorded) {
            let now = host.now_nanos();
            if held > 0 {
                let ts = rfc3339_millis(now / 1_000_000);
                let error = format!(
                    "the response's trailers came while {held} bytes of its stream were held back; they were not sent"
                );
                self.push_error(&policy, &error, self.response_status, &ts);
            }
            self.record_response(&policy, now);
        }
        Step::Continue
    }

    /// A whole buffered response: scanned, measured against its contract (the moderation
    /// service asked first when the contract needs it), judged, passed on, rewritten or
    /// replaced.
    fn judge_buffered(&mut self, policy: &Policy, body: &[u8], host: &impl Host) -> Step {
        let declared = self.resp.as_ref().map_or(Charset::Utf8, |r| r.charset);
        // A UTF-16 or UTF-32 body is read as its text (and written back in its encoding).
        let (text, encoding) = match Charset::detect(declared, body) {
            Some(t) => (Some(t.text), Some(t.encoding)),
            None => (None, None),
        };
        let read: &[u8] = text.as_deref().unwrap_or(body);
        let mut findings = Findings::default();
        let mut spans: Vec<Finding> = Vec::new();
        let format = match read
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(read)
            .trim_ascii_start()
            .first()
        {
            Some(b'{' | b'[') => BodyFormat::Json,
            _ => BodyFormat::Text,
        };
        let scan_format = match format {
            BodyFormat::Json => Format::Json,
            BodyFormat::Form | BodyFormat::Text => Format::Text,
        };
        policy
            .scanner
            .scan_input(read, Decoding::BODY, scan_format, &mut findings, |f| {
                spans.push(f)
            });
        // Its bytes, read as they are (a client may ignore the label), count too.
        let mut two_readings = Vec::new();
        if text.is_some() {
            policy
                .scanner
                .scan_input(body, Decoding::BODY, Format::Text, &mut findings, |f| {
                    two_readings.push(f.kind)
                });
        }
        let contract = self.contract(policy);
        let Some(resp) = self.resp.as_mut() else {
            return Step::Continue;
        };
        resp.bytes_in = size_u64(body.len());
        resp.incomplete = findings.incomplete;
        for kind in spans
            .iter()
            .map(|f| f.kind)
            .chain(two_readings.iter().copied())
        {
            resp.counts.add(kind);
        }
        if let Some(c) = contract.filter(|c| !c.envelope.denied_terms.is_empty()) {
            // What a JSON parser reads: its escapes undone.
            let searched = match format {
                BodyFormat::Json => JsonUnescape::default().feed(read),
                BodyFormat::Form | BodyFormat::Text => read.to_vec(),
            };
            resp.denied_term = c
                .envelope
                .denied_terms
                .find(&String::from_utf8_lossy(&searched));
        }
        let waiting = Waiting {
            body: read.to_vec(),
            spans,
            format,
            encoding,
            two_readings: !two_readings.is_empty(),
        };
        if let (Some(c), Some(m)) = (contract, policy.moderation.as_ref()) {
            if c.needs_moderation() && resp.moderation.is_none() {
                match m.request_all(&String::from_utf8_lossy(read)) {
                    Ok((body, inputs)) => {
                        resp.call_started = host.now_nanos();
                        resp.call_inputs = inputs;
                        resp.waiting = Some(waiting);
                        return Step::Call(Callout {
                            cluster: m.cluster.clone(),
                            headers: m
                                .headers()
                                .iter()
                                .map(|(k, v)| (k.to_string(), v.to_string()))
                                .collect(),
                            body,
                            timeout_ms: m.timeout_ms,
                        });
                    }
                    Err(e) => resp.moderation = Some(Moderated::new(m.fail, Err(e))),
                }
            }
        }
        self.conclude_buffered(policy, waiting, host)
    }

    /// The answer to the exchange's callout (the moderation service's): `status` is `None`
    /// when the call failed (Envoy's timeout, a connection failure, or the call could not be
    /// made). The response waiting for it is then judged.
    pub fn callout_answer(&mut self, status: Option<u16>, body: &[u8], host: &impl Host) -> Step {
        if self.awaits_target() {
            return self.target_answer(status, body, host);
        }
        let Some(policy) = self.policy.clone() else {
            return Step::Continue;
        };
        let Some(m) = policy.moderation.as_ref() else {
            return Step::Continue;
        };
        let now = host.now_nanos();
        let Some(resp) = self.resp.as_mut() else {
            return Step::Continue;
        };
        let Some(waiting) = resp.waiting.take() else {
            return Step::Continue;
        };
        let waited_ms = now.saturating_sub(resp.call_started) / 1_000_000;
        // Envoy ends a call at its timeout with an answer of its own (504) or none at all: a
        // call that failed after its whole timeout timed out.
        let timed_out = waited_ms + 5 >= u64::from(m.timeout_ms);
        let result = match status {
            Some(s) if (200..300).contains(&s) || !timed_out => {
                moderation::parse_answer(s, body, resp.call_inputs)
            }
            Some(_) => Err(ModerationError::Timeout),
            None if timed_out => Err(ModerationError::Timeout),
            None => Err(ModerationError::Unreachable),
        };
        resp.moderation = Some(Moderated::new(m.fail, result));
        self.conclude_buffered(&policy, waiting, host)
    }

    /// A buffered response, measured: the response rules, then its contract, then redaction.
    fn conclude_buffered(&mut self, policy: &Policy, waiting: Waiting, host: &impl Host) -> Step {
        let Waiting {
            body,
            mut spans,
            format,
            encoding,
            two_readings,
        } = waiting;
        let body = body.as_slice();
        let now = host.now_nanos();
        let verdict = self.response_verdict(policy);
        let ts = rfc3339_millis(now / 1_000_000);
        let report_only = policy.mode == Mode::Monitor;
        let refusal = match verdict {
            ResponseVerdict::Block(rule) => Some(Refused::Rule(rule)),
            // Redacting its text would leave what its bytes hold when read as they are.
            ResponseVerdict::Redact(rule) if two_readings => Some(Refused::Rule(rule)),
            ResponseVerdict::Redact(_) | ResponseVerdict::Allow => self.contract_refusal(policy),
        };
        if let Some(refusal) = refusal {
            self.response_blocked(policy, &refusal, &ts);
            if !report_only {
                let reply = self.response_refusal(policy, &refusal);
                self.record_response_with(policy, now, &[], &[]);
                return Step::Reply(reply);
            }
            // What enforcement would have done, while the headers can still say it.
            self.policy_header = Some(PolicyResult::Block);
            if self.resp.as_ref().is_some_and(|r| r.headers_held) {
                self.edit(
                    Headers::Response,
                    header::POLICY,
                    Some(HeaderValue::Policy(PolicyResult::Block)),
                );
            }
        }
        // What leaves, its size, and its text as the payload shows it.
        let (step, out_len, text, left_spans) = match verdict {
            ResponseVerdict::Redact(rule) if !spans.is_empty() => {
                let values = spans.len();
                // The payload is written from the body as it came, as every payload is.
                let logged = spans.clone();
                let redacted = scrub::redact(body, &mut spans, format, &policy.scanner);
                // In the body's own encoding, placeholders included.
                let rewritten = match encoding {
                    Some(e) => e.encode(&redacted),
                    None => redacted.clone(),
                };
                self.note_redacted(policy, rule, values, size_u64(rewritten.len()), &ts);
                if report_only {
                    (Step::Continue, body.len(), body.to_vec(), spans)
                } else {
                    let n = rewritten.len();
                    (Step::Rewrite(rewritten), n, body.to_vec(), logged)
                }
            }
            ResponseVerdict::Block(_) | ResponseVerdict::Redact(_) | ResponseVerdict::Allow => {
                let n = self.resp.as_ref().map_or(body.len(), |r| {
                    usize::try_from(r.bytes_in).unwrap_or(body.len())
                });
                (Step::Continue, n, body.to_vec(), spans)
            }
        };
        if let Some(resp) = self.resp.as_mut() {
            resp.bytes_out = size_u64(out_len);
            if matches!(step, Step::Rewrite(_)) && resp.declares_length {
                self.edit(
                    Headers::Response,
                    "content-length",
                    Some(HeaderValue::ContentLength(out_len)),
                );
            }
        }
        // The payload is what left, scrubbed of what is still in it.
        self.record_response_with(policy, now, &text, &left_spans);
        step
    }

    /// Whether the response so far breaks its contract (the inbound one): the bounds it
    /// exceeds, or a moderation service that failed under `fail: closed`.
    fn contract_refusal<'p>(&self, policy: &'p Policy) -> Option<Refused<'p>> {
        let contract = self.contract(policy)?;
        let resp = self.resp.as_deref()?;
        if let Some(Moderated::FailedClosed(e)) = resp.moderation {
            return Some(Refused::Unmoderated(contract, e));
        }
        let found = contract::Found {
            counts: &resp.counts,
            denied_term: resp.denied_term,
            moderation: resp.moderation.as_ref().and_then(Moderated::scores),
        };
        contract.check(&found).map(Refused::Contract)
    }

    /// One chunk of a streamed response: scanned with what is held, judged, and what can
    /// leave leaves (redacted when a redact rule says so).
    fn stream_chunk(
        &mut self,
        policy: &Policy,
        chunk: &[u8],
        end_of_stream: bool,
        host: &impl Host,
    ) -> Step {
        let scanner = &policy.scanner;
        let contract = self.contract(policy);
        let Some(resp) = self.resp.as_mut() else {
            return Step::Continue;
        };
        resp.bytes_in = resp.bytes_in.saturating_add(size_u64(chunk.len()));
        let pushed = match &mut resp.reading {
            Reading::Chunks(c) => Ok(c.push(chunk, scanner)),
            Reading::Events(e) => e.push(chunk, end_of_stream, scanner),
            Reading::Buffered => Ok(Pushed::default()),
        };
        let now = host.now_nanos();
        let ts = rfc3339_millis(now / 1_000_000);
        let mut pushed = match pushed {
            Ok(p) => p,
            Err(e) => return self.stream_limit(policy, e, now, &ts),
        };
        resp.incomplete |= pushed.incomplete;
        for f in &pushed.new {
            resp.counts.add(f.kind);
        }
        if let Some(c) =
            contract.filter(|c| !c.envelope.denied_terms.is_empty() && resp.denied_term.is_none())
        {
            let terms = &c.envelope.denied_terms;
            // Each text as it comes, its search resumed where its last chunk left it.
            // A chunked body is one text (its JSON escapes undone); events carry theirs.
            let texts: Vec<(usize, Vec<u8>)> = match resp.reading {
                Reading::Chunks(_) if resp.json => vec![(0, resp.unescape.feed(chunk))],
                Reading::Chunks(_) => vec![(0, chunk.to_vec())],
                Reading::Events(_) | Reading::Buffered => std::mem::take(&mut pushed.text),
            };
            let mut found = pushed.strings.iter().find_map(|s| terms.find(s));
            for (stream, text) in &texts {
                let stream = *stream;
                if resp.terms.len() <= stream {
                    resp.terms.resize_with(stream + 1, TermState::default);
                }
                let Some(state) = resp.terms.get_mut(stream) else {
                    continue;
                };
                let mut search = terms.resume(std::mem::take(state));
                search.feed_bytes(text);
                found = found.or(search.found());
                *state = search.into_state();
            }
            if end_of_stream {
                for state in resp.terms.drain(..) {
                    found = found.or(terms.resume(state).finish());
                }
            }
            resp.denied_term = found;
        }
        let verdict = self.response_verdict(policy);
        let report_only = policy.mode == Mode::Monitor;
        let refusal = match verdict {
            ResponseVerdict::Block(rule) => Some(Refused::Rule(rule)),
            ResponseVerdict::Redact(_) | ResponseVerdict::Allow => self.contract_refusal(policy),
        };
        let already = self.resp.as_ref().is_some_and(|r| r.refused);
        if let Some(refused) = refusal.filter(|_| !already) {
            // Reported once, however many chunks follow (monitor mode goes on).
            self.response_blocked(policy, &refused, &ts);
            if !report_only {
                let out = self.stream_refusal(policy, &refused);
                if let Some(resp) = self.resp.as_mut() {
                    resp.ended = true;
                    resp.bytes_out = resp.bytes_out.saturating_add(size_u64(out.len()));
                }
                self.record_response(policy, now);
                return match out.is_empty() {
                    // A stream that is not events has no way to say why: it is reset.
                    true => Step::Reset,
                    false => Step::Rewrite(out),
                };
            }
            self.policy_header = Some(PolicyResult::Block);
        }
        let redact = match verdict {
            ResponseVerdict::Redact(rule) if !report_only => Some(rule),
            _ => None,
        };
        let rendering = if redact.is_some() {
            Rendering::Redacted
        } else {
            Rendering::AsIs
        };
        let limit = policy.max_event_payload_bytes;
        let Some(resp) = self.resp.as_mut() else {
            return Step::Continue;
        };
        // The payload is what left as the log writes it: every value the stream's windows
        // found replaced, so that no value split across chunks or events is joined back.
        let wants_log = resp.log.len() < limit;
        let mut log = Vec::new();
        let out = match &mut resp.reading {
            Reading::Chunks(c) => c.emit(
                end_of_stream,
                rendering,
                scanner,
                wants_log.then_some(&mut log),
            ),
            Reading::Events(e) => {
                match e.emit(
                    end_of_stream,
                    rendering,
                    scanner,
                    wants_log.then_some(&mut log),
                ) {
                    Ok(out) => out,
                    Err(err) => return self.stream_limit(policy, err, now, &ts),
                }
            }
            Reading::Buffered => chunk.to_vec(),
        };
        resp.bytes_out = resp.bytes_out.saturating_add(size_u64(out.len()));
        if wants_log {
            let room = limit - resp.log.len();
            resp.payload_truncated |= log.len() > room;
            resp.log
                .extend_from_slice(log.get(..room.min(log.len())).unwrap_or_default());
        } else if !out.is_empty() {
            resp.payload_truncated = true;
        }
        if let Some(rule) = redact {
            let values = pushed.new.iter().filter(|f| !f.left).count();
            for f in pushed.new.iter().filter(|f| !f.left) {
                resp.redacted_kinds = resp.redacted_kinds.with(f.kind);
            }
            if values > 0 {
                resp.redacted_values = resp.redacted_values.saturating_add(values);
                if resp.redacted_by.is_none() {
                    resp.redacted_by = Some(rule.name.clone());
                }
            }
        }
        if end_of_stream {
            self.record_response(policy, now);
        }
        Step::Rewrite(out)
    }

    /// A stream past one of its bounds (an event over `responses.stream.max_event_bytes`,
    /// more texts than it follows, more events held than it may hold): it cannot be judged
    /// event by event without holding more, so it ends here (fail closed), with an error event
    /// in the protocol's shape so that the client's library sees a failure.
    fn stream_limit(&mut self, policy: &Policy, e: StreamError, now: u64, ts: &str) -> Step {
        let error = match e {
            StreamError::EventTooLarge(_) => "a server-sent event of the response is longer than responses.stream.max_event_bytes; the stream was ended",
            StreamError::TooManyTexts => "the response's events carry more texts than the filter follows; the stream was ended",
            StreamError::HeldTooMuch => "the response's events waiting for their text to be judged passed the bound; the stream was ended",
        };
        self.push_error(policy, error, self.response_status, ts);
        let out = self.stream_refusal(policy, &Refused::Limit(e));
        if let Some(resp) = self.resp.as_mut() {
            resp.ended = true;
            resp.bytes_out = resp.bytes_out.saturating_add(size_u64(out.len()));
        }
        self.record_response(policy, now);
        Step::Rewrite(out)
    }

    /// What the response rules say, over every call of the request's body (any call's block
    /// refuses the response).
    fn response_verdict<'p>(&self, policy: &'p Policy) -> ResponseVerdict<'p> {
        let Some(resp) = self.resp.as_deref() else {
            return ResponseVerdict::Allow;
        };
        let lookup = RequestLookup {
            lookups: &self.lookups,
            arguments: None,
        };
        let status = self.response_status.unwrap_or(0);
        let calls = self
            .proto
            .as_ref()
            .map(|p| p.calls.as_slice())
            .unwrap_or_default();
        let mut redact = None;
        let each = |call| {
            let facts = Exchange::with_call(
                self.facts(&self.request_found, &lookup),
                self.proto.as_ref(),
                call,
            )
            .with_response(
                status,
                resp.counts.kinds(),
                usize::try_from(resp.counts.total()).unwrap_or(usize::MAX),
            );
            policy.response_verdict(&facts)
        };
        if calls.is_empty() {
            return each(None);
        }
        for call in calls {
            match each(Some(call)) {
                v @ ResponseVerdict::Block(_) => return v,
                ResponseVerdict::Redact(r) => redact = redact.or(Some(r)),
                ResponseVerdict::Allow => {}
            }
        }
        redact.map_or(ResponseVerdict::Allow, ResponseVerdict::Redact)
    }

    /// The `blocked` line of a refused response.
    fn response_blocked(&mut self, policy: &Policy, refused: &Refused, ts: &str) {
        let Some(resp) = self.resp.as_deref() else {
            return;
        };
        let report_only = policy.mode == Mode::Monitor;
        let detected = policy.scanner.names(resp.counts.kinds());
        let (reason, contract, exceeded, moderation_error) = match refused {
            Refused::Rule(rule) => (rule.name.as_str(), None, None, None),
            Refused::Contract(v) => (
                CONTRACT_VIOLATION,
                Some(v.contract),
                Some(v.exceeded.as_slice()),
                None,
            ),
            Refused::Unmoderated(c, e) => (
                CONTRACT_VIOLATION,
                Some(c.id.as_str()),
                None,
                Some(e.code()),
            ),
            Refused::Limit(e) => (limit_rule(*e), None, None, None),
        };
        self.events.push(
            &stamp(&self.trace_id, policy, ts),
            &events::Blocked {
                reason,
                detected,
                status: policy.reply_statuses.of_kind(ReplyKind::ResponseBlocked),
                phase: PHASE_RESPONSE,
                contract,
                exceeded,
                moderation_error,
                target: None,
                mode: report_only.then_some(Mode::Monitor.as_str()),
            },
        );
        if let Some(r) = self.resp.as_mut() {
            r.refused = true;
        }
    }

    /// The `redacted` line of a buffered response.
    fn note_redacted(&mut self, policy: &Policy, rule: &Rule, values: usize, bytes: u64, ts: &str) {
        let Some(resp) = self.resp.as_deref() else {
            return;
        };
        let report_only = policy.mode == Mode::Monitor;
        self.events.push(
            &stamp(&self.trace_id, policy, ts),
            &events::Redacted {
                rule: &rule.name,
                detected: policy.scanner.names(resp.counts.kinds()),
                values,
                body_bytes: bytes,
                phase: PHASE_RESPONSE,
                mode: report_only.then_some(Mode::Monitor.as_str()),
            },
        );
    }

    /// The refusal that replaces a buffered response, in the request's protocol's shape:
    /// the rule's block, or the contract that was exceeded (each bound, its limit and the
    /// measure; never a value).
    fn response_refusal(&mut self, policy: &Policy, refused: &Refused) -> Reply {
        let detected: Vec<&str> = self
            .resp
            .as_deref()
            .map(|r| policy.scanner.names(r.counts.kinds()))
            .unwrap_or_default();
        let reply = match refused {
            Refused::Rule(rule) => {
                let iatp = replies::block(&rule.message, &rule.name, &detected, &self.trace_id);
                let outcome = Outcome::Blocked {
                    rule: &rule.name,
                    message: &rule.message,
                    detected: &detected,
                };
                self.shaped(policy, ReplyKind::ResponseBlocked, &outcome, iatp)
            }
            Refused::Contract(v) => {
                let message = v.message();
                let iatp = replies::contract_violation(
                    &message,
                    v.contract,
                    &v.exceeded,
                    &detected,
                    &self.trace_id,
                );
                let outcome = Outcome::ContractViolation {
                    contract: v.contract,
                    exceeded: &v.exceeded,
                    message: &message,
                };
                self.shaped(policy, ReplyKind::ResponseBlocked, &outcome, iatp)
            }
            Refused::Limit(e) => {
                let rule = limit_rule(*e);
                let message =
                    "The response stream was ended: it passed a bound of what the filter reads";
                let iatp = replies::block(message, rule, &detected, &self.trace_id);
                let outcome = Outcome::Blocked {
                    rule,
                    message,
                    detected: &detected,
                };
                self.shaped(policy, ReplyKind::ResponseBlocked, &outcome, iatp)
            }
            Refused::Unmoderated(c, e) => {
                let message = format!(
                    "contract '{}': {e}, and the contract's moderation fails closed",
                    c.id
                );
                let iatp =
                    replies::contract_violation(&message, &c.id, &[], &detected, &self.trace_id);
                let outcome = Outcome::ContractViolation {
                    contract: &c.id,
                    exceeded: &[],
                    message: &message,
                };
                self.shaped(policy, ReplyKind::ResponseBlocked, &outcome, iatp)
            }
        };
        self.response_replied = true;
        reply
    }

    /// The event that ends a refused stream of server-sent events, in the request's
    /// protocol's shape (a JSON-RPC error with the request's id for A2A, an OpenAI error
    /// object, else an `error` event with the IATP body); empty for a stream that is not
    /// events.
    fn stream_refusal(&mut self, policy: &Policy, refused: &Refused) -> Vec<u8> {
        if !matches!(
            self.resp.as_deref().map(|r| &r.reading),
            Some(Reading::Events(_))
        ) {
            return Vec::new();
        }
        let reply = self.response_refusal(policy, refused);
        self.response_replied = false;
        let mut out = Vec::with_capacity(reply.body.len() + 24);
        // The same choice of shape as `shaped`'s: a JSON-RPC error or an OpenAI error object
        // is the event's data as the protocol sends it; anything else is an `error` event.
        let plain = !(self
            .proto
            .as_ref()
            .is_some_and(|p| p.protocol.is_jsonrpc() || p.protocol == Protocol::OpenAi)
            || Endpoint::of_path(&self.path).is_some());
        if plain {
            out.extend_from_slice(b"event: error\n");
        }
        out.extend_from_slice(b"data: ");
        // The reply is compact JSON: one line.
        out.extend(reply.body.iter().filter(|&&b| b != b'\n' && b != b'\r'));
        out.extend_from_slice(b"\n\n");
        out
    }

    /// A response the filter must inspect but cannot read: replaced by a 502 (reported and
    /// passed on in monitor mode).
    fn unreadable_response(
        &mut self,
        policy: &Policy,
        coding: &str,
        status: u16,
        host: &impl Host,
    ) -> Step {
        let now = host.now_nanos();
        let ts = rfc3339_millis(now / 1_000_000);
        let error =
            format!("the response is in a content encoding the filter cannot read ({coding})");
        self.push_error(policy, &error, Some(status), &ts);
        self.record_response(policy, now);
        if policy.mode == Mode::Monitor {
            return Step::Continue;
        }
        self.response_replied = true;
        let body = replies::response_unreadable(coding, &self.trace_id);
        let status = policy.reply_statuses.of_kind(ReplyKind::ResponseUnreadable);
        Step::Reply(Reply {
            kind: ReplyKind::ResponseUnreadable,
            status,
            body,
        })
    }

    /// The `response` line, once: status and latency, and for an inspected response what was
    /// found and (`payload`) the start of what left, scrubbed.
    pub(super) fn record_response(&mut self, policy: &Policy, now: u64) {
        let payload = self.resp.as_deref().map(|r| {
            (
                String::from_utf8_lossy(&r.log).into_owned(),
                r.payload_truncated,
            )
        });
        self.write_response_line(policy, now, payload);
    }

    fn record_response_with(&mut self, policy: &Policy, now: u64, out: &[u8], spans: &[Finding]) {
        let limit = policy.max_event_payload_bytes;
        let payload = (limit > 0 && !out.is_empty()).then(|| {
            let s = scrub::scrub(out, spans, limit, &policy.scanner);
            (s.text, s.truncated)
        });
        self.write_response_line(policy, now, payload.or(Some((String::new(), false))));
    }

    fn write_response_line(&mut self, policy: &Policy, now: u64, payload: Option<(String, bool)>) {
        if self.resp.as_ref().is_some_and(|r| r.recorded) {
            return;
        }
        let status = self.response_status.unwrap_or(0);
        let micros = now.saturating_sub(self.started_nanos) / 1_000;
        // Microsecond precision, printed as milliseconds.
        let latency_ms = (micros as f64) / 1000.0;
        let ts = rfc3339_millis(now / 1_000_000);
        let resp = self.resp.as_deref();
        let contract = resp.and(self.contract(policy));
        let (text, truncated) = payload.unwrap_or_default();
        let line = events::Response {
            status,
            latency_ms,
            detected: resp.map(|r| policy.scanner.names(r.counts.kinds())),
            body_bytes: resp.map(|r| r.bytes_in),
            streamed: resp.map(Inspection::streamed),
            payload: resp.filter(|_| !text.is_empty()).map(|_| text.as_str()),
            payload_truncated: resp.is_some() && truncated,
            contract: contract.map(|c| c.id.as_str()),
            pii_risk: contract
                .filter(|c| c.envelope.pii)
                .zip(resp)
                .map(|(c, r)| c.envelope.pii_risk(r.counts.kinds())),
            moderation: resp
                .and_then(|r| r.moderation.as_ref())
                .map(|m| events::ModerationLine {
                    result: m.record(),
                    toxicity_score: m.scores().map(|s| s.toxicity_score),
                    bias_score: m.scores().map(|s| s.bias_score),
                    error: m.error().map(ModerationError::code),
                }),
        };
        self.events.push(&stamp(&self.trace_id, policy, &ts), &line);
        if let Some(r) = resp {
            let (decision, result) = if r.refused {
                (
                    Decision::of(PolicyResult::Block, policy.mode),
                    PolicyResult::Block,
                )
            } else {
                (Decision::Allow, PolicyResult::Allow)
            };
            let mut tally = self.tally_of(policy, decision, result);
            tally.detected = r.counts.kinds();
            tally.body_bytes = r.bytes_in;
            self.response_tally = Some(tally);
        }
        if let Some(r) = self.resp.as_mut() {
            r.recorded = true;
            if let Some(rule) = r.redacted_by.take() {
                if r.streamed() {
                    let values = r.redacted_values;
                    let bytes = r.bytes_out;
                    let kinds = r.redacted_kinds;
                    let mode = (policy.mode == Mode::Monitor).then_some(Mode::Monitor.as_str());
                    self.events.push(
                        &stamp(&self.trace_id, policy, &ts),
                        &events::Redacted {
                            rule: &rule,
                            detected: policy.scanner.names(kinds),
                            values,
                            body_bytes: bytes,
                            phase: PHASE_RESPONSE,
                            mode,
                        },
                    );
                }
            }
        }
    }
}

fn size_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
