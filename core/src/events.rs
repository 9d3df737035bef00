//! Audit events: one JSON object per line.
//!
//! Every line starts with `type`, `trace_id`, `timestamp` and `agent_id`. Lines are built with
//! a JSON serializer, so a string that came from the request (a path, a header) is always
//! escaped: no request can end a line early, forge another line or break the JSON. Payloads
//! and paths are scrubbed by the caller before they get here.

use serde::Serialize;

use crate::registry::registry;

registry! {
    /// The event line types: each line's `type`, and the `event` label of
    /// `iatp_logs_written_total`. Each has its line body below ([`EventKind`]).
    pub enum EventType: &'static str {
        /// What came in: method, path, detections, the scrubbed payload.
        Request => "request",
        /// What came back: status and latency.
        Response => "response",
        /// A block rule matched (403).
        Blocked => "blocked",
        /// Warnings without an override (449).
        Warning => "warning",
        /// Warnings the caller overrode: forwarded, quarantined.
        Override => "override",
        /// A `redact` rule rewrote the forwarded body.
        Redacted => "redacted",
        /// The caller's token bucket was empty (429).
        RateLimited => "rate_limited",
        /// An action the caller may not do, or not at its tier (403).
        Denied => "denied",
        /// Something went wrong on the way (see [`Failure`]).
        Error => "error",
    }
}

impl EventType {
    /// The line's `type`, which is also its metric label.
    pub const fn as_str(self) -> &'static str {
        self.spec()
    }
}

/// The event lines of one request, newline-separated (no trailing newline: the access-log
/// format adds it).
#[derive(Debug, Default, Clone)]
pub struct EventLog {
    buf: Vec<u8>,
    /// The type of each line, in order (for the events metric).
    types: Vec<EventType>,
}

/// The fields every line of a request shares.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub trace_id: &'a str,
    pub timestamp: &'a str,
    pub agent_id: &'a str,
}

/// The version of the event line schema, in every line as `v`. It changes when a field
/// changes meaning or goes away; new fields may appear without a change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    trace_id: &'a str,
    timestamp: &'a str,
    agent_id: &'a str,
    v: u32,
    #[serde(flatten)]
    body: &'a T,
}

#[derive(Debug, Serialize)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Who called (absent when the filter does not read callers: no `callers`, no rate limit,
    /// no condition about the caller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<CallerFields<'a>>,
    pub trust_score: u8,
    pub detected: Vec<&'a str>,
    /// The request headers in which something was found (their names, never their values).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<FieldDetected<'a>>,
    /// The same for request trailers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trailers: Vec<FieldDetected<'a>>,
    pub body_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub payload_truncated: bool,
    /// Gateway mode: where the request goes and under which contract.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetFields<'a>>,
    /// The profile (`profiles`) the route picked; absent for the base configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<&'a str>,
}

/// The target of a gateway request (`request` lines): its origin (a value a detector finds
/// in it replaced by its placeholder), the contract, how its manifest was had, and what counts.
#[derive(Debug, Serialize)]
pub struct TargetFields<'a> {
    pub origin: std::borrow::Cow<'a, str>,
    pub contract: &'a str,
    /// `not_fetched`, `hit`, `stale`, `miss`, `negative` or `failed_open`.
    pub manifest: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<std::borrow::Cow<'a, str>>,
    /// What the manifest declares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_trust_level: Option<&'static str>,
    /// As it counts (capped unless listed or attested).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_level: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_score: Option<u8>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub attested: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub listed: bool,
}

/// What the moderation service said about a response: `scored` (with the scores),
/// `failed_open` or `failed_closed` (with why: `timeout`, `unreachable`, `status`, ...).
#[derive(Debug, Serialize)]
pub struct ModerationLine {
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toxicity_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bias_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

/// The caller of a `request` line: never a token, never a value a detector finds (an id
/// holding one is written scrubbed).
#[derive(Debug, Serialize)]
pub struct CallerFields<'a> {
    /// The directory entry's name, or the default's.
    pub name: &'a str,
    /// `spiffe`, `jwt`, `header` or `anonymous`.
    pub source: &'a str,
    /// The SPIFFE ID, the JWT's `sub` or the header value (absent when anonymous).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    /// The JWT's `iss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<&'a str>,
    pub tier: u8,
    pub trust_level: &'a str,
}

/// The `rate_limited` line: whose bucket was empty, its limit, and when to retry.
#[derive(Debug, Serialize)]
pub struct RateLimited<'a> {
    pub caller: &'a str,
    pub requests_per_minute: u32,
    pub burst: u32,
    /// Seconds (the reply's `Retry-After`).
    pub retry_after: u64,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'a str>,
}

/// The `denied` line: Trust Gateway V2's authorization refusal (`reason`, `required_tier`,
/// `current_tier`).
#[derive(Debug, Serialize)]
pub struct Denied<'a> {
    pub caller: &'a str,
    pub action: &'a str,
    pub reason: &'a str,
    pub required_tier: u8,
    pub current_tier: u8,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'a str>,
}

/// A header (or trailer) that held detected values: its name (scrubbed itself) and the types.
#[derive(Debug, Serialize)]
pub struct FieldDetected<'a> {
    pub name: &'a str,
    pub detected: Vec<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct Response<'a> {
    pub status: u16,
    pub latency_ms: f64,
    /// What the detectors found in the response (an inspected response only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected: Option<Vec<&'a str>>,
    /// The response's bytes as the agent sent them (an inspected response only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_bytes: Option<u64>,
    /// Read as a stream (server-sent events, or chunks) rather than buffered whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streamed: Option<bool>,
    /// The start of the response as it left the filter, scrubbed and bounded like a request's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub payload_truncated: bool,
    /// The contract the response was held to (ACVPS), its `pii_risk`, and what the
    /// moderation service said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pii_risk: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moderation: Option<ModerationLine>,
}

/// The `phase` of a `blocked` or `redacted` line about the request.
pub const PHASE_REQUEST: &str = "request";
/// ... about the response.
pub const PHASE_RESPONSE: &str = "response";

#[derive(Debug, Serialize)]
pub struct Blocked<'a> {
    pub reason: &'a str,
    pub detected: Vec<&'a str>,
    pub status: u16,
    /// `request` or `response`: what was refused.
    pub phase: &'a str,
    /// A contract the response exceeded (ACVPS), and each bound with its limit and measure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exceeded: Option<&'a [crate::contract::Exceeded<'a>]>,
    /// The moderation service failed and the contract's `fail: closed` refused: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moderation_error: Option<&'a str>,
    /// A gateway refusal: the target's origin as read (a value a detector finds in it replaced
    /// by its placeholder: `http://[IP_ADDRESS_REDACTED]:80`), when its URL parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct Warning<'a> {
    pub warnings: &'a [&'a str],
    pub trust_score: u8,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct Redacted<'a> {
    pub rule: &'a str,
    pub detected: Vec<&'a str>,
    /// How many values were replaced.
    pub values: usize,
    /// The size of the forwarded body (of a stream: as it left).
    pub body_bytes: u64,
    /// `request` or `response`: which body was rewritten.
    pub phase: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct Override<'a> {
    pub warnings: &'a [&'a str],
    /// The id of the token that confirmed (never the token); absent for the legacy form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<&'a str>,
}

/// The `error` line: what went wrong (a body over the limit, Envoy answering instead of the
/// agent, a stream cut short, a redaction Envoy refused).
#[derive(Debug, Serialize)]
pub struct Failure<'a> {
    pub error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// Which line an event body becomes.
pub trait EventKind: Serialize {
    const TYPE: EventType;
}
impl EventKind for Request<'_> {
    const TYPE: EventType = EventType::Request;
}
impl EventKind for Response<'_> {
    const TYPE: EventType = EventType::Response;
}
impl EventKind for Blocked<'_> {
    const TYPE: EventType = EventType::Blocked;
}
impl EventKind for Warning<'_> {
    const TYPE: EventType = EventType::Warning;
}
impl EventKind for Redacted<'_> {
    const TYPE: EventType = EventType::Redacted;
}
impl EventKind for Override<'_> {
    const TYPE: EventType = EventType::Override;
}
impl EventKind for RateLimited<'_> {
    const TYPE: EventType = EventType::RateLimited;
}
impl EventKind for Denied<'_> {
    const TYPE: EventType = EventType::Denied;
}
impl EventKind for Failure<'_> {
    const TYPE: EventType = EventType::Error;
}

impl EventLog {
    pub fn push<T: EventKind>(&mut self, stamp: &Stamp, body: &T) {
        let mark = self.buf.len();
        if !self.buf.is_empty() {
            self.buf.push(b'\n');
        }
        let line = Line {
            kind: T::TYPE.as_str(),
            trace_id: stamp.trace_id,
            timestamp: stamp.timestamp,
            agent_id: stamp.agent_id,
            v: SCHEMA_VERSION,
            body,
        };
        // Writing to a Vec cannot fail; should serialization ever fail, drop the partial line
        // rather than leave broken JSON behind.
        if serde_json::to_writer(&mut self.buf, &line).is_err() {
            self.buf.truncate(mark);
        } else {
            self.types.push(T::TYPE);
        }
    }

    /// The type of each line, in order.
    pub fn types(&self) -> &[EventType] {
        &self.types
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const STAMP: Stamp = Stamp {
        trace_id: "t-1",
        timestamp: "2026-01-23T12:34:56.789Z",
        agent_id: "booking-agent",
    };

    fn lines(log: &EventLog) -> Vec<Value> {
        std::str::from_utf8(log.as_bytes())
            .unwrap()
            .split('\n')
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn lines_in_order_with_common_fields_first() {
        let mut log = EventLog::default();
        log.push(
            &STAMP,
            &Request {
                caller: None,
                method: "POST",
                path: "/book",
                trust_score: 7,
                detected: vec!["email"],
                headers: vec![],
                trailers: vec![],
                body_bytes: 20,
                payload: Some(r#"{"email":"[EMAIL_REDACTED]"}"#),
                payload_truncated: false,
                target: None,
                profile: None,
            },
        );
        log.push(
            &STAMP,
            &Response {
                status: 200,
                latency_ms: 12.4,
                detected: None,
                body_bytes: None,
                streamed: None,
                payload: None,
                payload_truncated: false,
                contract: None,
                pii_risk: None,
                moderation: None,
            },
        );
        let text = std::str::from_utf8(log.as_bytes()).unwrap();
        assert!(text.starts_with(r#"{"type":"request","trace_id":"t-1","timestamp":"2026-01-23T12:34:56.789Z","agent_id":"booking-agent","v":1,"method":"POST""#));
        assert_eq!(log.types(), [EventType::Request, EventType::Response]);
        assert!(!text.contains("payload_truncated"));
        let v = lines(&log);
        assert_eq!(v.len(), 2);
        assert_eq!(v[1]["type"], "response");
        assert_eq!(v[1]["latency_ms"], 12.4);
    }

    #[test]
    fn request_strings_cannot_break_or_forge_lines() {
        let mut log = EventLog::default();
        let evil = "/x\n{\"type\":\"blocked\"}\r\u{0}\"\\\u{2028}";
        log.push(
            &STAMP,
            &Request {
                caller: None,
                method: "GE\nT",
                path: evil,
                trust_score: 0,
                detected: vec![],
                headers: vec![FieldDetected {
                    name: evil,
                    detected: vec!["ssn"],
                }],
                trailers: vec![],
                body_bytes: 0,
                payload: Some(evil),
                payload_truncated: true,
                target: None,
                profile: None,
            },
        );
        let text = std::str::from_utf8(log.as_bytes()).unwrap();
        assert!(!text.contains('\n') && !text.contains('\r') && !text.contains('\0'));
        let v = lines(&log);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0]["path"], evil);
        assert_eq!(v[0]["payload_truncated"], true);
    }

    /// The docs name every type, in registry order, in the list of `type` values and in the
    /// table of fields per type.
    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn docs_list_every_event_type() {
        use crate::registry::docs::{doc, markdown_table};
        let text = doc("docs/events.md");
        let names: Vec<String> = EventType::ALL
            .iter()
            .map(|t| format!("`{}`", t.as_str()))
            .collect();
        let common = markdown_table(&text, "Every line starts with:");
        let type_row = common.iter().find(|r| r[0] == "`type`").unwrap();
        assert_eq!(
            type_row[2],
            names.join(", "),
            "docs/events.md: `type` values"
        );
        let per_type: Vec<String> = markdown_table(&text, "A request's lines appear together")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(
            per_type, names,
            "docs/events.md: the table of fields per type"
        );
    }
}
