//! One exchange (a request and its response) through the filter, phase by phase, as pure state
//! transitions. The glue calls one method per proxy-wasm callback and carries out what comes
//! back; it keeps no state of its own:
//!
//! | phase | method | decides |
//! |---|---|---|
//! | request headers | [`Exchange::request_headers`] | trace id, well-known endpoints, declared size, tunnels, whether to hold the headers |
//! | request body | [`Exchange::request_body`], [`Exchange::request_trailers`] | size limit; scan, rules, redaction, the request's events ([`request`]) |
//! | response headers | [`Exchange::response_headers`] | the headers every response carries, the `response` event |
//! | response body | [`Exchange::response_body`], [`Exchange::response_trailers`] | whether the response went through whole |
//! | log | [`Exchange::log`] | what went wrong that no earlier phase saw ([`end`]) |
//!
//! Writes are the glue's: it applies the header edits ([`Exchange::apply_edits`]) and carries
//! out the [`Step`]. Reads from Envoy go through [`Host`], only when a phase needs them (each
//! read is a host call).

#[cfg(test)]
mod attack_tests;
mod caller;
#[cfg(test)]
mod caller_tests;
mod confirm;
mod end;
mod fields;
mod gateway;
#[cfg(test)]
mod gateway_attack2_tests;
#[cfg(test)]
mod gateway_attack_tests;
#[cfg(test)]
mod gateway_fake;
#[cfg(test)]
mod gateway_tests;
#[cfg(test)]
mod profile_tests;
mod protocol;
mod request;
mod response;
#[cfg(test)]
mod response_attack2_tests;
#[cfg(test)]
mod response_attack_tests;
#[cfg(test)]
mod response_tests;
pub mod target;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::rc::Rc;

use crate::charset::Charset;
use crate::events::{EventLog, EventType};
use crate::header_map::HeaderMap;
use crate::metrics::Tally;
use crate::policy::{Policy, PolicyResult};
use crate::replies::Reply;

pub use caller::CALLER_HEADER;
pub use fields::holds_sensitive;
pub use request::WellKnown;

use confirm::{Granted, Presented};
use fields::FieldScan;

/// The filter's public headers (a contract with agents, callers and operators).
pub mod header {
    /// In from the caller (when well-formed), to the agent, on every response.
    pub const TRACE_ID: &str = "x-agent-trace-id";
    /// To the agent and on every response: the manifest's trust score.
    pub const TRUST_SCORE: &str = "x-agent-trust-score";
    /// In from the caller: the override token of a 449 (or `true`, the legacy form); never
    /// forwarded.
    pub const USER_OVERRIDE: &str = "x-user-override";
    /// To the agent (headers held) and on the response: `true` when a warning was overridden.
    pub const QUARANTINED: &str = "x-agent-quarantined";
    /// On the response, monitor mode only: what enforcement would have done.
    pub const POLICY: &str = "x-agent-policy";
    /// W3C trace context, read for its trace id.
    pub const TRACEPARENT: &str = "traceparent";
    /// W3C trace context's vendor part: removed with a `traceparent` whose id was refused.
    pub const TRACESTATE: &str = "tracestate";
}

/// `/.well-known/agent-manifest`: the protected agent's manifest.
pub const WELL_KNOWN_MANIFEST: &str = "/.well-known/agent-manifest";
/// `/.well-known/agent-card.json`: its A2A agent card.
pub const WELL_KNOWN_CARD: &str = "/.well-known/agent-card.json";
/// The protected agent's attestation record (the reference SDK's sidecar serves it there).
pub const WELL_KNOWN_ATTESTATION: &str = "/.well-known/agent-attestation";

/// What [`Host::claim_once`] makes of a shared value: its new value, or `None` to leave it.
pub type SlotUpdate<'a> = &'a dyn Fn(Option<&[u8]>) -> Option<Vec<u8>>;

/// What the core may read from Envoy. Each read is a host call, so a phase reads only what it
/// needs, when it needs it (the body only when it is decided, the end-of-stream details only
/// when they can matter).
pub trait Host {
    /// Wall-clock time, nanoseconds since the Unix epoch (0 if unknown).
    fn now_nanos(&self) -> u64;
    /// The first `size` bytes of the buffered request body.
    fn request_body(&self, size: usize) -> Vec<u8>;
    /// The response's `:status`, if it is a number.
    fn response_status(&self) -> Option<u16>;
    /// Envoy's `%RESPONSE_CODE_DETAILS%` at the end of the stream (empty if unknown).
    fn response_code_details(&self) -> Vec<u8>;
    /// The request trailers, serialized as [`HeaderMap::parse`] reads them (empty if none).
    fn request_trailers(&self) -> Vec<u8>;
    /// The response headers, serialized as [`HeaderMap::parse`] reads them (one host call;
    /// read only for a response the configuration inspects).
    fn response_headers(&self) -> Vec<u8> {
        Vec::new()
    }
    /// The first `size` bytes of the response body Envoy holds: all of it so far while the
    /// filter buffers, the current chunk while it streams.
    fn response_body(&self, size: usize) -> Vec<u8> {
        let _ = size;
        Vec::new()
    }
    /// Replaces the value at `key` in the data every worker of this Envoy shares (proxy-wasm
    /// shared data) with what `update` makes of it, atomically (compare-and-swap, retried a few
    /// times). True when stored; false when `update` says `None` or the store keeps failing.
    fn claim_once(&self, key: &str, update: SlotUpdate) -> bool;
    /// The first URI SAN of the downstream TLS peer's certificate, verbatim (Envoy's
    /// `connection.uri_san_peer_certificate`; Istio fills the same for mesh mTLS peers).
    /// `None` without TLS, without a client certificate, or without a URI SAN.
    fn peer_uri_san(&self) -> Option<Vec<u8>> {
        None
    }
    /// The stream's dynamic metadata as protobuf `envoy.config.core.v3.Metadata` wire format
    /// (`get_property(["metadata"])`: one host call for every namespace, typed, unlike paths
    /// into it, whose CEL serialization loses the claims' types). `None` when there is none.
    fn dynamic_metadata(&self) -> Option<Vec<u8>> {
        None
    }
    /// [`Host::claim_once`] on a key that may not exist yet (`update` sees `None` and the key is
    /// created): the rate-limit buckets, whose keys are not made in advance. True when stored;
    /// false when `update` says `None` or the store keeps failing.
    fn update_shared(&self, key: &str, update: SlotUpdate) -> bool {
        let _ = (key, update);
        false
    }
    /// The value at `key` in proxy-wasm shared data, if there is one (one host call).
    fn shared(&self, key: &str) -> Option<Vec<u8>> {
        let _ = key;
        None
    }
    /// The stream's route's metadata (Envoy's `xds.route_metadata`) as protobuf wire bytes of
    /// `envoy.config.core.v3.Metadata`, read by [`crate::route::profile`]. `None` when the
    /// route has none (or there is no route). Read only when the configuration has `profiles`
    /// (one host call).
    fn route_metadata(&self) -> Option<Vec<u8>> {
        None
    }
}

/// Where the request side of an exchange stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the request headers.
    RequestHeaders,
    /// Headers seen; waiting for the gateway target's manifest (the body, if any, is buffered
    /// meanwhile).
    AwaitingTarget,
    /// Headers seen; the body is buffered until it ends (the headers held, or already sent on
    /// with `hold_headers: false`).
    RequestBody,
    /// Decided and sent on to the agent.
    Forwarded,
    /// Answered locally by the filter.
    Replied,
    /// The stream ended before the request was decided.
    Ended,
}

/// What the glue does next, after applying the header edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Let the stream go on (`Action::Continue`).
    Continue,
    /// Hold it (`Action::Pause`) while another request fetches the gateway target's manifest:
    /// the glue asks [`Exchange::poll_target`] again (on its timer, and when a fetch in this
    /// VM ends) until it says otherwise.
    Wait,
    /// Hold it (`Action::Pause`): more body is needed before a decision.
    Pause,
    /// Replace the buffered request body with this one (a `redact` rule matched), then go on.
    /// If Envoy refuses, call [`Exchange::redaction_failed`].
    Redact(Vec<u8>),
    /// Answer locally with [`Exchange::reply_headers`]; `Action::Pause`. On the response
    /// path the reply replaces the agent's response (its headers are still held).
    Reply(Reply),
    /// Replace the response body Envoy holds (the whole body when buffered, the current chunk
    /// of a stream) with this, then go on.
    Rewrite(Vec<u8>),
    /// Reset the stream: a refused stream that has no way to say why (its headers are gone,
    /// and it is not server-sent events).
    Reset,
    /// Make this HTTP call through an Envoy cluster (`dispatch_http_call`) and hold the
    /// stream (`Action::Pause`) until its answer, which goes to [`Exchange::callout_answer`]
    /// (or [`Exchange::callout_answer`] with no status when the call cannot be made).
    Call(Callout),
}

/// An HTTP call the glue makes for the exchange (the moderation service's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callout {
    /// The Envoy cluster.
    pub cluster: String,
    /// `:method`, `:path`, `:authority` and the others, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Envoy ends the call after this long, milliseconds (its answer then has no status).
    pub timeout_ms: u32,
}

/// Which of Envoy's header maps an edit is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headers {
    Request,
    /// The request trailers (edited only in the trailers' callback).
    RequestTrailers,
    Response,
}

/// A header value, resolved by [`Exchange::apply_edits`] (values are symbolic so that edits are
/// plain data that borrow nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    TraceId,
    TrustScore,
    True,
    Policy(PolicyResult),
    ContentLength(usize),
    /// A request field rewritten by a `redact` rule.
    Redacted(String),
    /// A value the filter made (the caller's name, a `RateLimit` header).
    Text(String),
}

/// Set (`Some`) or remove (`None`) a header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HeaderEdit {
    headers: Headers,
    name: Cow<'static, str>,
    value: Option<HeaderValue>,
}

/// What the request headers say, as far as the filter cares. Read from the whole header map
/// ([`RequestHead::read`]), which the glue gets in one host call.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestHead<'a> {
    /// Every header, pseudo-headers included, in order: each is scanned.
    pub headers: &'a [(&'a [u8], &'a [u8])],
    pub method: &'a [u8],
    pub path: &'a [u8],
    pub scheme: Option<&'a [u8]>,
    pub authority: Option<&'a [u8]>,
    pub content_type: Option<&'a [u8]>,
    pub content_length: Option<&'a [u8]>,
    pub transfer_encoding: bool,
    /// The first content coding of the body other than `identity` (RFC 9110 §8.4), over every
    /// `Content-Encoding` header, or of a gRPC request's messages (`grpc-encoding`, the gRPC
    /// over HTTP/2 protocol): the filter cannot read such a body.
    pub content_coding: Option<&'a [u8]>,
    pub upgrade: bool,
    /// `X-Agent-Trace-ID`, as sent.
    pub trace_id: Option<&'a [u8]>,
    pub traceparent: Option<&'a [u8]>,
    /// `X-User-Override`, as sent (its first value).
    pub user_override: Option<&'a [u8]>,
    /// How many `X-User-Override` headers were sent: more than one never overrides.
    pub user_override_count: usize,
    /// The caller sent `X-Agent-Quarantined` (which only the filter may set).
    pub quarantined: bool,
    /// The ACVPS headers (gateway mode).
    pub acvps: crate::gateway::AcvpsHeaders<'a>,
}

impl<'a> RequestHead<'a> {
    pub fn read(h: &'a HeaderMap<'a>) -> RequestHead<'a> {
        RequestHead {
            headers: h.pairs(),
            method: h.get(":method").unwrap_or_default(),
            path: h.get(":path").unwrap_or_default(),
            scheme: h.get(":scheme"),
            authority: h.get(":authority"),
            content_type: h.get("content-type"),
            content_length: h.get("content-length"),
            transfer_encoding: h.contains("transfer-encoding"),
            content_coding: {
                let grpc = h
                    .get("content-type")
                    .is_some_and(|ct| ct.starts_with(b"application/grpc"));
                h.get_all("content-encoding")
                    .chain(h.get_all("grpc-encoding").filter(|_| grpc))
                    .flat_map(|v| v.split(|&b| b == b','))
                    .map(<[u8]>::trim_ascii)
                    .find(|c| !c.is_empty() && !c.eq_ignore_ascii_case(b"identity"))
            },
            upgrade: h.contains("upgrade"),
            trace_id: h.get(header::TRACE_ID),
            traceparent: h.get(header::TRACEPARENT),
            user_override: h.get(header::USER_OVERRIDE),
            user_override_count: h.get_all(header::USER_OVERRIDE).count(),
            quarantined: h.contains(header::QUARANTINED),
            acvps: {
                use crate::gateway::{Header, CONTRACT_ID, DC_DIGEST, DC_ID, TARGET_ENDPOINT};
                crate::gateway::AcvpsHeaders {
                    target: Header::of(h.get_all(TARGET_ENDPOINT)),
                    contract: Header::of(h.get_all(CONTRACT_ID)),
                    dc_id: Header::of(h.get_all(DC_ID)),
                    dc_digest: Header::of(h.get_all(DC_DIGEST)),
                }
            },
        }
    }
}

/// The registered name of a content coding (the IANA HTTP Content Coding Registry), for the
/// 415 reply and its event; anything else is `unrecognised`, so that no caller's text is echoed.
pub fn coding_name(coding: &[u8]) -> &'static str {
    const REGISTERED: [&str; 12] = [
        "gzip",
        "x-gzip",
        "deflate",
        "br",
        "zstd",
        "compress",
        "x-compress",
        "exi",
        "pack200-gzip",
        "aes128gcm",
        "dcb",
        "dcz",
    ];
    REGISTERED
        .iter()
        .find(|name| coding.eq_ignore_ascii_case(name.as_bytes()))
        .copied()
        .unwrap_or("unrecognised")
}

/// The body's content type, as far as scanning and redaction care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Content {
    Json,
    Form,
    #[default]
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

/// One exchange's state, from its request headers to its log. One per HTTP stream.
#[derive(Debug)]
pub struct Exchange {
    /// `None`: the filter has no valid configuration, and answers 503.
    policy: Option<Rc<Policy>>,
    phase: Phase,
    trace_id: String,
    method: String,
    path: String,
    /// What the request's own fields hold (method, path, headers, trailers).
    fields: FieldScan,
    content: Content,
    /// The body's encoding as the content type declares it (UTF-8 unless it names UTF-16/32).
    charset: Charset,
    /// A gRPC request: Envoy reports its failures as 200 with a `grpc-status`, so the end of
    /// its stream is always looked at.
    grpc: bool,
    /// What the caller presented in `X-User-Override`.
    presented: Presented,
    /// An override granted on the request headers.
    granted: Option<Granted>,
    /// The id of the token that overrode, for the `override` event.
    override_id: Option<String>,
    /// Decided on the request headers: the body was never read.
    decided_on_headers: bool,
    /// The request declared a `content-length`, which a redacted body must update.
    declares_length: bool,
    started_nanos: u64,
    /// The request headers have not gone upstream yet: they can still change.
    headers_held: bool,
    /// Bytes of request body Envoy has buffered so far.
    body_size: usize,
    events: EventLog,
    /// Forwarded after an override: the agent and caller see `X-Agent-Quarantined: true`.
    quarantined: bool,
    /// In monitor mode: what enforcement would have done, for `X-Agent-Policy`.
    policy_header: Option<PolicyResult>,
    /// Response headers came back (from the agent or from Envoy): their status.
    response_status: Option<u16>,
    /// The whole response went through (its end of stream was seen).
    response_complete: bool,
    /// What the decision adds to the metrics, until the glue takes it.
    tally: Option<Tally>,
    edits: Vec<HeaderEdit>,
    /// Who is calling (`None` when the policy does not read callers, [`Policy::identity`]).
    caller: Option<crate::caller::Caller>,
    /// The values conditions look up by name.
    lookups: caller::Lookups,
    /// The caller's bucket after this request, when it is limited.
    rate: Option<caller::RateState>,
    /// Refused on its headers for its rate limit; the reply waits for the body's JSON-RPC ids.
    rate_refused: bool,
    /// Monitor mode: the caller's bucket was empty (reported when the request is decided).
    rate_monitor: bool,
    /// What the body asks for, once read (by a condition that needs it, or a refusal).
    proto: Option<crate::protocol::Body>,
    /// What the request held (its fields and its body), for the response rules.
    request_found: crate::detect::Findings,
    /// The response's inspection, when the configuration inspects it.
    resp: Option<Box<response::Inspection>>,
    /// Gateway mode: where the request goes, under which contract, and what its target is.
    gw: Option<Box<gateway::GatewayState>>,
    /// What the request headers' phase still has to do once the target is known.
    tail: request::Tail,
    /// A contract served at `/.well-known/acvps/contracts/<id>`: its digest, for the reply's
    /// `X-DC-Digest`.
    served_digest: Option<String>,
    /// The response was replaced by the filter's own reply (its headers pass the filter too).
    response_replied: bool,
    /// What the response's decision adds to the metrics, until the glue takes it.
    response_tally: Option<Tally>,
}

impl Exchange {
    pub fn new(policy: Option<Rc<Policy>>) -> Exchange {
        Exchange {
            policy,
            phase: Phase::RequestHeaders,
            trace_id: String::new(),
            method: String::new(),
            path: String::new(),
            fields: FieldScan::default(),
            content: Content::Other,
            charset: Charset::Utf8,
            grpc: false,
            presented: Presented::Nothing,
            granted: None,
            override_id: None,
            decided_on_headers: false,
            declares_length: false,
            started_nanos: 0,
            headers_held: false,
            body_size: 0,
            events: EventLog::default(),
            quarantined: false,
            policy_header: None,
            response_status: None,
            response_complete: false,
            tally: None,
            edits: Vec::new(),
            caller: None,
            lookups: caller::Lookups::default(),
            rate: None,
            rate_refused: false,
            rate_monitor: false,
            proto: None,
            request_found: crate::detect::Findings::default(),
            resp: None,
            gw: None,
            tail: request::Tail::default(),
            served_digest: None,
            response_replied: false,
            response_tally: None,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// True once the request has been decided (forwarded or answered).
    pub fn decided(&self) -> bool {
        matches!(self.phase, Phase::Forwarded | Phase::Replied)
    }

    /// Forwarded after an override.
    pub fn quarantined(&self) -> bool {
        self.quarantined
    }

    /// In monitor mode, what enforcement would have done.
    pub fn policy_header(&self) -> Option<PolicyResult> {
        self.policy_header
    }

    /// When the request headers arrived (nanoseconds since the epoch; 0 before).
    pub fn started_nanos(&self) -> u64 {
        self.started_nanos
    }

    /// Bytes of request body Envoy has buffered so far.
    pub fn body_size(&self) -> usize {
        self.body_size
    }

    /// The event lines so far, newline-separated.
    pub fn events(&self) -> &[u8] {
        self.events.as_bytes()
    }

    /// The type of each event line so far.
    pub fn event_types(&self) -> &[EventType] {
        self.events.types()
    }

    /// What the decision adds to the metrics; `Some` once, after the phase that decided.
    pub fn take_tally(&mut self) -> Option<Tally> {
        self.tally.take()
    }

    /// What the response's decision adds to the metrics; `Some` once.
    pub fn take_response_tally(&mut self) -> Option<Tally> {
        self.response_tally.take()
    }

    /// The decision's tally, without taking it.
    pub fn tally(&self) -> Option<&Tally> {
        self.tally.as_ref()
    }

    /// Hands each pending header edit to `set` (`None`: remove the header) and forgets them.
    pub fn apply_edits(&mut self, mut set: impl FnMut(Headers, &str, Option<&str>)) {
        for e in &self.edits {
            let value = e.value.as_ref().map(|v| self.header_value(v));
            set(e.headers, &e.name, value.as_deref());
        }
        self.edits.clear();
    }

    fn header_value<'v>(&'v self, v: &'v HeaderValue) -> Cow<'v, str> {
        match v {
            HeaderValue::TraceId => Cow::Borrowed(&self.trace_id),
            HeaderValue::TrustScore => Cow::Borrowed(
                self.policy
                    .as_deref()
                    .map_or("", |p| p.trust_score_text.as_str()),
            ),
            HeaderValue::True => Cow::Borrowed("true"),
            HeaderValue::Policy(r) => Cow::Borrowed(r.as_str()),
            HeaderValue::ContentLength(n) => Cow::Owned(n.to_string()),
            HeaderValue::Redacted(text) | HeaderValue::Text(text) => Cow::Borrowed(text),
        }
    }

    /// Every request to the agent and every response says whose trace this is and the agent's
    /// trust score: the filter sets both, whatever the caller or the agent sent.
    fn edit_identity(&mut self, headers: Headers) {
        self.edit(headers, header::TRACE_ID, Some(HeaderValue::TraceId));
        self.edit(headers, header::TRUST_SCORE, Some(HeaderValue::TrustScore));
    }

    fn edit(
        &mut self,
        headers: Headers,
        name: impl Into<Cow<'static, str>>,
        value: Option<HeaderValue>,
    ) {
        self.edits.push(HeaderEdit {
            headers,
            name: name.into(),
            value,
        });
    }

    /// The headers of a local reply: always JSON, never cached, with the trace id (and the
    /// trust score, when there is a configuration to say it).
    pub fn reply_headers(&self) -> Vec<(&'static str, &str)> {
        match self.policy.as_deref() {
            Some(p) => {
                let mut h = vec![
                    ("content-type", "application/json"),
                    ("cache-control", "no-store"),
                    (header::TRACE_ID, self.trace_id.as_str()),
                    (header::TRUST_SCORE, p.trust_score_text.as_str()),
                ];
                h.extend(self.rate_headers());
                if let Some(d) = &self.served_digest {
                    h.push(("x-dc-digest", d.as_str()));
                }
                h
            }
            None => vec![
                ("content-type", "application/json"),
                (header::TRACE_ID, self.trace_id.as_str()),
            ],
        }
    }

    /// The path without its query string or fragment.
    fn bare_path(&self) -> &str {
        let end = self.path.find(['?', '#']).unwrap_or(self.path.len());
        self.path.get(..end).unwrap_or(&self.path)
    }
}

/// An upgrade (WebSocket) or CONNECT request that declares no body never ends its request
/// stream: it is a tunnel, decided on its headers and path alone. A request that declares a
/// body keeps having it scanned, `Upgrade` header or not.
pub fn is_tunnel(method: &[u8], upgrade: bool, declares_body: bool) -> bool {
    !declares_body && (method == b"CONNECT" || (upgrade && method == b"GET"))
}
