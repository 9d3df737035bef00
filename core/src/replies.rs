//! Bodies of the filter's local replies. Field names follow the reference Python SDK so its
//! clients keep working. No reply ever carries a detected value.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::registry::registry;

/// The prefix of every local reply's `%RESPONSE_CODE_DETAILS%`.
pub const DETAILS_PREFIX: &str = "iatp_";

/// What a kind of local reply is, to Envoy and to operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplySpec {
    /// The HTTP status.
    pub status: u16,
    /// Envoy's `%RESPONSE_CODE_DETAILS%` for the reply, so that access logs tell the filter's
    /// answers from the agent's. Always starts with `iatp_`.
    pub details: &'static str,
    /// Counted in `iatp_local_replies_total{status}`. The 503 of a filter without a valid
    /// configuration is not: that filter has no metrics either.
    pub metered: bool,
    /// When the filter sends it (the docs' table of response details).
    pub when: &'static str,
}

registry! {
    /// The filter's local replies. Bodies are built by the functions below.
    pub enum ReplyKind: ReplySpec {
        /// `/.well-known/agent-manifest` or `/.well-known/agent-card.json`.
        WellKnown => ReplySpec { status: 200, details: "iatp_well_known", metered: true,
            when: "200, manifest or agent card" },
        /// A well-known endpoint asked with another method than GET or HEAD.
        MethodNotAllowed => ReplySpec { status: 405, details: "iatp_method_not_allowed",
            metered: true, when: "405 on a well-known endpoint" },
        /// A block rule matched.
        Blocked => ReplySpec { status: 403, details: "iatp_blocked", metered: true,
            when: "403, a block rule matched" },
        /// Warnings, and no (allowed) override.
        ConfirmationRequired => ReplySpec { status: 449, details: "iatp_confirmation_required",
            metered: true, when: "449, warnings without override" },
        /// The caller's token bucket is empty.
        RateLimited => ReplySpec { status: 429, details: "iatp_rate_limited", metered: true,
            when: "429, the caller's rate limit" },
        /// An action (`policy.actions`) the caller may not do, or not at its tier.
        Forbidden => ReplySpec { status: 403, details: "iatp_forbidden", metered: true,
            when: "403, an action the caller may not do at its tier" },
        /// A JSON-RPC body the filter refuses to read: ambiguous members, a batch too large,
        /// not JSON-RPC 2.0 (`protocol::Refusal`).
        InvalidRequest => ReplySpec { status: 400, details: "iatp_invalid_request",
            metered: true, when: "400, a JSON-RPC body that is ambiguous or invalid (JSON-RPC error -32600)" },
        /// The request body is over `limits.max_body_bytes`.
        TooLarge => ReplySpec { status: 413, details: "iatp_body_too_large", metered: true,
            when: "413" },
        /// The request's decoded views would take more memory than the scan allows
        /// ([`crate::detect::decode::view_budget`]): it cannot be said what it holds.
        TooComplex => ReplySpec { status: 413, details: "iatp_too_complex", metered: true,
            when: "413, a request whose decoded views would take more memory than the scan allows" },
        /// The request body is in a content coding the filter cannot read (Envoy's
        /// decompressor, ahead of the filter, did not undo it).
        UnsupportedEncoding => ReplySpec { status: 415, details: "iatp_unsupported_encoding",
            metered: true, when: "415, a request body in a content coding the filter cannot read" },
        /// A response rule (or contract) refused the agent's response: this reply replaces it.
        ResponseBlocked => ReplySpec { status: 403, details: "iatp_response_blocked",
            metered: true, when: "403 in place of a response that a response rule refused" },
        /// A response the filter must inspect, in a content coding it cannot read.
        ResponseUnreadable => ReplySpec { status: 502, details: "iatp_response_unreadable",
            metered: true, when: "502 in place of a response the filter must inspect but cannot read (a content coding Envoy's decompressor did not undo)" },
        /// A `redact` rule matched and Envoy refused the rewritten body.
        RedactionFailed => ReplySpec { status: 500, details: "iatp_redaction_failed",
            metered: true, when: "500, a redacted body Envoy refused" },
        /// A well-known document this filter serves does not exist (an unknown contract id).
        NotFound => ReplySpec { status: 404, details: "iatp_not_found", metered: true,
            when: "404, an unknown contract at /.well-known/acvps/contracts/<id>" },
        /// Gateway mode: no target or contract named, a target URL that does not parse, an
        /// ACVPS header sent twice.
        TargetInvalid => ReplySpec { status: 400, details: "iatp_target_invalid", metered: true,
            when: "400, a gateway request without a usable X-Target-Endpoint or X-Contract-ID" },
        /// Gateway mode: an unknown contract, or a target its contract does not allow
        /// (scheme, host, port, or a loopback, private, link-local or metadata address).
        TargetForbidden => ReplySpec { status: 403, details: "iatp_target_forbidden",
            metered: true, when: "403, an unknown contract or a target the contract does not allow" },
        /// Gateway mode: the contract registers certificates and none was presented (ACVPS
        /// `DC_REQUIRED`).
        DcRequired => ReplySpec { status: 409, details: "iatp_dc_required", metered: true,
            when: "409, no X-DC-Id or X-DC-Digest for a contract that registers certificates" },
        /// Gateway mode: a certificate the contract does not register, or the wrong digest.
        DcInvalid => ReplySpec { status: 403, details: "iatp_dc_invalid", metered: true,
            when: "403, an X-DC-Id the contract does not register or an X-DC-Digest that is not its digest" },
        /// Gateway mode: the target's manifest could not be had and `gateway.manifests.fail`
        /// is `closed`.
        TargetUnavailable => ReplySpec { status: 502, details: "iatp_target_unavailable",
            metered: true, when: "502, a target whose manifest could not be fetched (fail: closed)" },
        /// The route names a profile (its `filter_metadata` `iatp.profile`) that the
        /// configuration does not define: the route's judgement is unknown, so nothing passes.
        UnknownProfile => ReplySpec { status: 500, details: "iatp_unknown_profile",
            metered: true, when: "500, a route whose `iatp.profile` metadata names a profile the configuration does not define" },
        /// The filter has no valid configuration.
        Unconfigured => ReplySpec { status: 503, details: "iatp_unconfigured", metered: false,
            when: "503; cannot happen with `FAIL_CLOSED`, since Envoy refuses a filter whose configuration failed" },
    }
}

impl ReplyKind {
    pub const fn status(self) -> u16 {
        self.spec().status
    }

    pub const fn details(self) -> &'static str {
        self.spec().details
    }

    /// Whether `%RESPONSE_CODE_DETAILS%` says an IATP filter answered: any `iatp_` details,
    /// this version's kinds or another's (two filters of different versions in one chain).
    pub fn is_ours(details: &str) -> bool {
        details.starts_with(DETAILS_PREFIX)
    }
}

/// A local reply: its kind, the HTTP status it is sent with (the kind's, or as
/// `replies.status` configures it; 200 for a JSON-RPC error under `replies.jsonrpc_status:
/// "ok"`) and its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub kind: ReplyKind,
    pub status: u16,
    pub body: Vec<u8>,
}

/// The legacy form's message (`policy.legacy_override`), as the reference SDK words it.
pub const OVERRIDE_MESSAGE: &str =
    "This request requires user confirmation. To proceed, retry with header 'X-User-Override: true'";
pub const OVERRIDE_DISABLED_MESSAGE: &str =
    "This request requires user confirmation, and this agent's policy does not allow overrides";

#[derive(Serialize)]
struct Warn<'a> {
    warning: String,
    warnings: &'a [&'a str],
    trust_score: u8,
    requires_override: bool,
    override_allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    override_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    override_expires_in: Option<u64>,
    trace_id: &'a str,
    message: String,
}

/// How the caller of a warned request can confirm it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm<'a> {
    /// Retry with this token in `X-User-Override` (and the same `X-Agent-Trace-ID`) within
    /// `ttl_secs`.
    Token { token: &'a str, ttl_secs: u64 },
    /// The unsafe legacy form: retry with `X-User-Override: true`.
    Legacy,
    /// Overrides are off (not allowed, or no key): the warning stands.
    Off,
}

#[derive(Serialize)]
struct Block<'a> {
    error: &'a str,
    blocked: bool,
    rule: &'a str,
    detected: &'a [&'a str],
    trace_id: &'a str,
}

#[derive(Serialize)]
struct TooLarge<'a> {
    error: &'static str,
    limit_bytes: u64,
    trace_id: &'a str,
}

#[derive(Serialize)]
struct TooComplex<'a> {
    error: &'static str,
    /// `headers` or `body`.
    part: &'static str,
    limit: &'static str,
    trace_id: &'a str,
}

#[derive(Serialize)]
struct UnsupportedEncoding<'a> {
    error: &'static str,
    content_encoding: &'a str,
    supported: [&'static str; 1],
    trace_id: &'a str,
}

#[derive(Serialize)]
struct MethodNotAllowed<'a> {
    error: &'static str,
    allowed: [&'static str; 2],
    trace_id: &'a str,
}

fn to_vec(v: &impl Serialize) -> Vec<u8> {
    // These types always serialize; an empty body is the fallback that cannot leak anything.
    serde_json::to_vec(v).unwrap_or_default()
}

/// 449: the request needs the caller's confirmation.
pub fn warn(warnings: &[&str], trust_score: u8, confirm: Confirm, trace_id: &str) -> Vec<u8> {
    let (token, expires_in) = match confirm {
        Confirm::Token { token, ttl_secs } => (Some(token), Some(ttl_secs)),
        Confirm::Legacy | Confirm::Off => (None, None),
    };
    let message = confirm_message(confirm, trace_id);
    to_vec(&Warn {
        warning: warnings.join("; "),
        warnings,
        trust_score,
        requires_override: true,
        override_allowed: confirm != Confirm::Off,
        override_token: token,
        override_expires_in: expires_in,
        trace_id,
        message,
    })
}

/// The 449's `message`: how to confirm, or that no confirmation is possible.
fn confirm_message(confirm: Confirm, trace_id: &str) -> String {
    match confirm {
        Confirm::Token { ttl_secs, .. } => format!(
            "This request requires user confirmation. To proceed, retry the same request within \
             {ttl_secs} seconds with headers 'X-User-Override: <override_token>' and \
             'X-Agent-Trace-ID: {trace_id}'"
        ),
        Confirm::Legacy => OVERRIDE_MESSAGE.to_string(),
        Confirm::Off => OVERRIDE_DISABLED_MESSAGE.to_string(),
    }
}

/// 403 in place of a response that exceeded its contract (ACVPS): which contract, and each
/// bound exceeded with its limit and the measured value.
pub fn contract_violation(
    error: &str,
    contract: &str,
    exceeded: &[crate::contract::Exceeded],
    detected: &[&str],
    trace_id: &str,
) -> Vec<u8> {
    to_vec(&ContractBlock {
        error,
        blocked: true,
        contract,
        exceeded,
        detected,
        trace_id,
    })
}

#[derive(Serialize)]
struct ContractBlock<'a> {
    error: &'a str,
    blocked: bool,
    contract: &'a str,
    exceeded: &'a [crate::contract::Exceeded<'a>],
    detected: &'a [&'a str],
    trace_id: &'a str,
}

/// 403: a block rule matched.
pub fn block(error: &str, rule: &str, detected: &[&str], trace_id: &str) -> Vec<u8> {
    to_vec(&Block {
        error,
        blocked: true,
        rule,
        detected,
        trace_id,
    })
}

#[derive(Serialize)]
struct RateLimitedBody<'a> {
    error: &'static str,
    rate_limited: bool,
    caller: &'a str,
    retry_after: u64,
    trace_id: &'a str,
}

/// 429: the caller's token bucket is empty (`Retry-After` and the `RateLimit` headers say
/// when it refills).
pub fn rate_limited(caller: &str, retry_after: u64, trace_id: &str) -> Vec<u8> {
    to_vec(&RateLimitedBody {
        error: "rate limit exceeded",
        rate_limited: true,
        caller,
        retry_after,
        trace_id,
    })
}

#[derive(Serialize)]
struct ForbiddenBody<'a> {
    error: &'a str,
    blocked: bool,
    action: &'a str,
    caller: &'a str,
    required_tier: u8,
    current_tier: u8,
    trace_id: &'a str,
}

/// 403: an action the caller may not do, in Trust Gateway V2's words (`error` is its
/// `reason`: "Action not permitted" or "Insufficient trust tier"; `required_tier`,
/// `current_tier`).
pub fn forbidden(denied: &crate::caller::Denied, caller: &str, trace_id: &str) -> Vec<u8> {
    to_vec(&ForbiddenBody {
        error: denied.reason.as_str(),
        blocked: true,
        action: denied.action,
        caller,
        required_tier: denied.required_tier,
        current_tier: denied.current_tier,
        trace_id,
    })
}

/// 413: the body is over `limits.max_body_bytes`.
pub fn too_large(limit_bytes: u64, trace_id: &str) -> Vec<u8> {
    to_vec(&TooLarge {
        error: "request body exceeds limit",
        limit_bytes,
        trace_id,
    })
}

/// The 403 `error` when a `redact` rule refuses a body it cannot redact: a body labelled
/// UTF-16/32 whose bytes, read as they are, hold values its text does not.
pub const UNREDACTABLE_MESSAGE: &str =
    "Request blocked: its body reads two ways (its charset and its bytes) and cannot be redacted";

/// 413: the request's `part` (`headers` or `body`) holds so many encoded layers and escapes
/// that its decoded views would be over [`crate::detect::decode::view_budget`].
pub fn too_complex(part: &'static str, trace_id: &str) -> Vec<u8> {
    to_vec(&TooComplex {
        error: "request too complex to scan",
        part,
        limit: TOO_COMPLEX_LIMIT,
        trace_id,
    })
}

/// How [`crate::detect::decode::view_budget`] reads in a reply.
pub const TOO_COMPLEX_LIMIT: &str = "decoded views of at most 8 times its size and 1 MiB";

/// 415: the body is in a content coding the filter cannot read. `coding` is the name of a
/// registered coding ([`crate::phases::coding_name`]), never the caller's text as sent.
pub fn unsupported_encoding(coding: &str, trace_id: &str) -> Vec<u8> {
    to_vec(&UnsupportedEncoding {
        error: "unsupported content encoding",
        content_encoding: coding,
        supported: ["identity"],
        trace_id,
    })
}

/// 502 in place of a response in a content coding the filter cannot read.
pub fn response_unreadable(coding: &str, trace_id: &str) -> Vec<u8> {
    to_vec(&ResponseUnreadable {
        error: "the response is in a content encoding the filter cannot read",
        content_encoding: coding,
        trace_id,
    })
}

#[derive(Serialize)]
struct ResponseUnreadable<'a> {
    error: &'a str,
    content_encoding: &'a str,
    trace_id: &'a str,
}

/// 405 on a well-known endpoint.
pub fn method_not_allowed(trace_id: &str) -> Vec<u8> {
    to_vec(&MethodNotAllowed {
        error: "method not allowed",
        allowed: ["GET", "HEAD"],
        trace_id,
    })
}

#[derive(Serialize)]
struct GatewayRefusal<'a> {
    error: &'a str,
    code: &'a str,
    blocked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    contract: Option<&'a str>,
    trace_id: &'a str,
}

/// A gateway refusal: `{"error", "code" (ACVPS's `DC_REQUIRED`, ...), "blocked": true,
/// "contract" (a configured id, never what the client sent), "trace_id"}`.
pub fn gateway_refusal(error: &str, code: &str, contract: Option<&str>, trace_id: &str) -> Vec<u8> {
    to_vec(&GatewayRefusal {
        error,
        code,
        blocked: true,
        contract,
        trace_id,
    })
}

#[derive(Serialize)]
struct NotFound<'a> {
    error: &'a str,
    trace_id: &'a str,
}

/// 404 on a document the filter serves.
pub fn not_found(error: &str, trace_id: &str) -> Vec<u8> {
    to_vec(&NotFound { error, trace_id })
}

/// 500: Envoy refused the redacted body.
pub fn redaction_failed() -> Vec<u8> {
    br#"{"error":"the request body could not be redacted"}"#.to_vec()
}

/// 503: no valid configuration (Envoy refuses such a filter with `FAIL_CLOSED`).
/// The body of [`ReplyKind::UnknownProfile`]: the profile's name is the operator's, for the
/// `error` line, not for the caller.
pub fn unknown_profile(trace_id: &str) -> Vec<u8> {
    to_vec(&UnknownProfile {
        error: "the route names an IATP profile this configuration does not define",
        trace_id,
    })
}

#[derive(Serialize)]
struct UnknownProfile<'a> {
    error: &'static str,
    trace_id: &'a str,
}

pub fn unconfigured() -> Vec<u8> {
    br#"{"error":"the IATP filter has no valid configuration"}"#.to_vec()
}

/// Which HTTP status a JSON-RPC refusal is sent with (`replies.jsonrpc_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonRpcStatus {
    /// `"ok"` (default): 200, the error in the body. The clients tried (see the notes of
    /// issue 12) surface a JSON-RPC error as their own error type only at 200: at 4xx,
    /// `mcp` 1.x raises `httpx.HTTPStatusError` and closes the session, `a2a-sdk` raises
    /// `A2AClientHTTPError` (0.3) / "HTTP Error 403" (1.x) without reading the body.
    #[default]
    Ok,
    /// `"outcome"`: the outcome's own status (`replies.status`).
    Outcome,
}

impl crate::config::strict::Named for JsonRpcStatus {
    const ALL: &'static [Self] = &[JsonRpcStatus::Ok, JsonRpcStatus::Outcome];
    const NAMES: &'static [&'static str] = &["ok", "outcome"];
    fn name(self) -> &'static str {
        match self {
            JsonRpcStatus::Ok => "ok",
            JsonRpcStatus::Outcome => "outcome",
        }
    }
}

crate::config::strict::deserialize_named!(JsonRpcStatus);

/// The HTTP status of each refusal (`replies.status.*`, `replies.jsonrpc_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statuses {
    /// A block rule matched. Default 403.
    pub block: u16,
    /// Warnings need confirmation. Default 449, as IATP defines it.
    pub warn: u16,
    /// The caller's rate limit. Default 429 (RFC 6585 §4).
    pub rate_limited: u16,
    /// An action the caller may not call at its tier. Default 403.
    pub forbidden: u16,
    /// The status of JSON-RPC refusals.
    pub jsonrpc: JsonRpcStatus,
}

impl Default for Statuses {
    fn default() -> Self {
        Statuses {
            block: 403,
            warn: 449,
            rate_limited: 429,
            forbidden: 403,
            jsonrpc: JsonRpcStatus::Ok,
        }
    }
}

/// The status of a refused body ([`Outcome::Invalid`]): 400 Bad Request (RFC 9110 §15.5.1).
pub const INVALID_STATUS: u16 = 400;

impl Statuses {
    /// The status of a kind of reply: configured for the four refusals, the registry's for
    /// the others.
    pub fn of_kind(&self, kind: ReplyKind) -> u16 {
        match kind {
            ReplyKind::Blocked | ReplyKind::ResponseBlocked => self.block,
            ReplyKind::ConfirmationRequired => self.warn,
            ReplyKind::RateLimited => self.rate_limited,
            ReplyKind::Forbidden => self.forbidden,
            other => other.status(),
        }
    }

    /// The statuses the filter's own replies can have under this configuration (the `status`
    /// label of `iatp_local_replies_total`), ascending, each once: a metered kind's status
    /// ([`Statuses::of_kind`]).
    pub fn metered(&self) -> Vec<u16> {
        let mut s: Vec<u16> = ReplyKind::ALL
            .iter()
            .filter(|k| k.spec().metered)
            .map(|k| self.of_kind(*k))
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    /// The outcome's own status.
    pub fn of(&self, outcome: &Outcome) -> u16 {
        match outcome {
            Outcome::Blocked { .. } | Outcome::ContractViolation { .. } => self.block,
            Outcome::ConfirmationRequired { .. } => self.warn,
            Outcome::RateLimited { .. } => self.rate_limited,
            Outcome::Forbidden { .. } => self.forbidden,
            Outcome::Invalid(_) => INVALID_STATUS,
        }
    }

    /// The status a JSON-RPC refusal is sent with: 200 (`"ok"`) or [`Statuses::of`].
    pub fn jsonrpc(&self, outcome: &Outcome) -> u16 {
        match self.jsonrpc {
            JsonRpcStatus::Ok => 200,
            JsonRpcStatus::Outcome => self.of(outcome),
        }
    }

    /// Whether a configured status can carry a refusal: 200..=599 (RFC 9110 §15: a final
    /// status), but not 204, 205 (no content allowed, RFC 9110 §15.3.5, §15.3.6) nor 3xx (a
    /// redirection without a `Location`, which clients would try to follow).
    pub fn allowed(status: u16) -> bool {
        matches!(status, 200..=599) && !matches!(status, 204 | 205 | 300..=399)
    }
}

/// What a refusal in a protocol's own shape ([`jsonrpc_error`], [`openai_error`]) reports.
/// Every string is the configuration's (rule names, messages, action and caller names) or a
/// registry's (detector names), never request text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome<'a> {
    /// A block rule matched: `message` is its configured text.
    Blocked {
        rule: &'a str,
        message: &'a str,
        detected: &'a [&'a str],
    },
    /// Warnings without an (allowed) override: IATP's 449.
    ConfirmationRequired {
        warnings: &'a [&'a str],
        detected: &'a [&'a str],
        trust_score: u8,
        confirm: Confirm<'a>,
    },
    /// The caller's token bucket is empty: retry after `retry_after` seconds.
    RateLimited { retry_after: u64 },
    /// An action the caller may not call, or not at its tier (Trust Gateway's
    /// `required_tier` / `current_tier`).
    Forbidden {
        action: &'a str,
        required_tier: u8,
        current_tier: u8,
        caller: &'a str,
        /// Not permitted at all, or not at this tier (Trust Gateway V2's `reason`).
        reason: crate::caller::DenyReason,
    },
    /// The body was refused before any rule: ambiguous, or not valid JSON-RPC
    /// ([`crate::protocol::Refusal`]).
    Invalid(crate::protocol::Refusal),
    /// A response exceeded its contract's envelope (ACVPS): the contract and each bound
    /// exceeded, with its limit and the measured value, never a detected value or a term.
    ContractViolation {
        contract: &'a str,
        exceeded: &'a [crate::contract::Exceeded<'a>],
        message: &'a str,
    },
}

/// The JSON-RPC error codes of IATP's refusals. JSON-RPC 2.0 §5.1 leaves codes outside
/// -32768..-32000 to applications; inside it, the server-error range -32000..-32099 is all
/// claimed: A2A uses -32001..-32009 and says its errors use -32001..-32099 (A2A v1.0
/// `docs/specification.md` §5.4, §9), and MCP reserves -32020..-32099 for its own codes and
/// tells new implementations not to use -32000..-32019 (MCP `basic/index.mdx`, revision
/// 2026-07-28, "Error Codes"; its Python SDK uses -32000 and -32001 for local errors). So
/// IATP's codes are application codes, where no protocol the filter sees has any.
pub mod code {
    /// A block rule matched (HTTP default 403).
    pub const BLOCKED: i32 = -31001;
    /// Warnings need the caller's confirmation (IATP's 449).
    pub const CONFIRMATION_REQUIRED: i32 = -31002;
    /// The caller's rate limit (HTTP default 429).
    pub const RATE_LIMITED: i32 = -31003;
    /// An action the caller may not call at its tier (HTTP default 403).
    pub const FORBIDDEN: i32 = -31004;
    /// JSON-RPC 2.0 §5.1 Invalid Request: an ambiguous body, a batch too large, not valid
    /// JSON-RPC 2.0 ([`crate::protocol::Refusal`]).
    pub const INVALID_REQUEST: i32 = crate::protocol::Refusal::CODE;
}

impl Outcome<'_> {
    /// Its JSON-RPC error code ([`code`]).
    pub fn code(&self) -> i32 {
        match self {
            Outcome::Blocked { .. } | Outcome::ContractViolation { .. } => code::BLOCKED,
            Outcome::ConfirmationRequired { .. } => code::CONFIRMATION_REQUIRED,
            Outcome::RateLimited { .. } => code::RATE_LIMITED,
            Outcome::Forbidden { .. } => code::FORBIDDEN,
            Outcome::Invalid(r) => r.code(),
        }
    }

    /// The error's `message`.
    fn message(&self, trace_id: &str) -> String {
        match self {
            Outcome::Blocked { message, .. } | Outcome::ContractViolation { message, .. } => {
                (*message).to_string()
            }
            Outcome::ConfirmationRequired { confirm, .. } => confirm_message(*confirm, trace_id),
            Outcome::RateLimited { retry_after } => {
                let unit = if *retry_after == 1 { "second" } else { "seconds" };
                format!("Rate limit exceeded: retry after {retry_after} {unit}")
            }
            Outcome::Forbidden {
                action,
                caller,
                reason: crate::caller::DenyReason::NotPermitted,
                ..
            } => format!("Action '{action}' is not permitted to caller '{caller}'"),
            Outcome::Forbidden {
                action,
                required_tier,
                current_tier,
                ..
            } => format!(
                "Action '{action}' is not permitted: it requires tier {required_tier}, the caller has tier {current_tier}"
            ),
            Outcome::Invalid(r) => r.message(),
        }
    }

    /// The error's `data` (the OpenAI shape's `error.iatp`).
    fn data<'a>(&'a self, status: u16, trace_id: &'a str) -> Data<'a> {
        let mut d = Data {
            status,
            trace_id,
            ..Data::default()
        };
        match *self {
            Outcome::Blocked { rule, detected, .. } => {
                d.rule = Some(rule);
                d.detected = Some(detected);
            }
            Outcome::ConfirmationRequired {
                warnings,
                detected,
                trust_score,
                confirm,
            } => {
                d.warnings = Some(warnings);
                d.detected = Some(detected);
                d.trust_score = Some(trust_score);
                d.requires_override = Some(true);
                d.override_allowed = Some(confirm != Confirm::Off);
                if let Confirm::Token { token, ttl_secs } = confirm {
                    d.override_token = Some(token);
                    d.override_expires_in = Some(ttl_secs);
                }
            }
            Outcome::RateLimited { retry_after } => d.retry_after = Some(retry_after),
            Outcome::Forbidden {
                action,
                required_tier,
                current_tier,
                caller,
                reason,
            } => {
                d.reason = Some(reason.as_str());
                d.action = Some(action);
                d.required_tier = Some(required_tier);
                d.current_tier = Some(current_tier);
                d.caller = Some(caller);
            }
            Outcome::ContractViolation {
                contract, exceeded, ..
            } => {
                d.reason = Some("contract_violation");
                d.contract = Some(contract);
                d.exceeded = Some(exceeded);
            }
            Outcome::Invalid(r) => {
                d.reason = Some(match r {
                    crate::protocol::Refusal::Ambiguous(_) => "ambiguous",
                    crate::protocol::Refusal::TooManyCalls => "batch_too_large",
                    crate::protocol::Refusal::InvalidRequest(_) => "invalid_request",
                    crate::protocol::Refusal::Malformed => "parse_error",
                });
                d.member = match r {
                    crate::protocol::Refusal::Ambiguous(m)
                    | crate::protocol::Refusal::InvalidRequest(m) => Some(m),
                    crate::protocol::Refusal::TooManyCalls
                    | crate::protocol::Refusal::Malformed => None,
                };
            }
        }
        d
    }
}

/// A refusal's details: the IATP reply's fields, for machines. Absent members are left out.
#[derive(Serialize, Default, Clone, Copy)]
struct Data<'a> {
    /// The HTTP status IATP gives this outcome (`replies.status`), e.g. 449, even when the
    /// JSON-RPC reply itself is sent with 200 (`replies.jsonrpc_status: "ok"`).
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detected: Option<&'a [&'a str]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warnings: Option<&'a [&'a str]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trust_score: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requires_override: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    override_allowed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    override_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    override_expires_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    required_tier: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_tier: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contract: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exceeded: Option<&'a [crate::contract::Exceeded<'a>]>,
    trace_id: &'a str,
}

#[derive(Serialize)]
struct RpcError<'a> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    error: RpcErrorObject<'a>,
}

#[derive(Serialize, Clone, Copy)]
struct RpcErrorObject<'a> {
    code: i32,
    message: &'a str,
    data: &'a Data<'a>,
}

fn rpc_error<'a>(id: &'a RawValue, error: RpcErrorObject<'a>) -> RpcError<'a> {
    RpcError {
        jsonrpc: "2.0",
        id,
        error,
    }
}

/// An id as sent, or `null` ([`crate::protocol::Call::id`] is always valid JSON; `null` is
/// the fallback that cannot be wrong).
fn raw_id(id: &str) -> Option<&RawValue> {
    serde_json::from_str(id).ok()
}

/// A JSON-RPC 2.0 error reply (§5, §5.1) to `body`: one error object `{"jsonrpc": "2.0",
/// "id": <the request's id, byte for byte>, "error": {"code", "message", "data"}}`; for a
/// batch (§6), an array with one error object per call that has an id, in order
/// (notifications get none). A body with no call to answer (a notification, a batch of
/// notifications, a batch refused as too large) gets one error object with `"id": null`:
/// JSON-RPC §6 would send nothing, but MCP's transport says a server that does not accept a
/// notification answers with an error status and "MAY" carry "a JSON-RPC error response
/// that has no id" (MCP 2025-06-18 `basic/transports.mdx`, Sending Messages to the Server),
/// and the refusal must be visible. `status` is the outcome's HTTP status (`replies.status`),
/// carried in `data.status`.
pub fn jsonrpc_error(
    body: &crate::protocol::Body,
    outcome: &Outcome,
    status: u16,
    trace_id: &str,
) -> Vec<u8> {
    let message = outcome.message(trace_id);
    let data = outcome.data(status, trace_id);
    let error = RpcErrorObject {
        code: outcome.code(),
        message: &message,
        data: &data,
    };
    let one = |id| rpc_error(id, error);
    let ids: Vec<&RawValue> = body
        .calls
        .iter()
        .filter_map(|c| raw_id(c.id.as_deref()?))
        .collect();
    if body.batch && !ids.is_empty() {
        return to_vec(&ids.into_iter().map(one).collect::<Vec<_>>());
    }
    let id = if body.batch {
        None
    } else {
        body.first().and_then(|c| raw_id(c.id.as_deref()?))
    };
    match id.or_else(|| raw_id("null")) {
        Some(id) => to_vec(&one(id)),
        None => Vec::new(),
    }
}

#[derive(Serialize)]
struct OpenAiError<'a> {
    error: OpenAiErrorObject<'a>,
}

#[derive(Serialize)]
struct OpenAiErrorObject<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    param: Option<&'static str>,
    code: &'static str,
    /// IATP's fields: a member the OpenAI clients do not read (the Python client takes
    /// `error` as the exception's `body` and reads `message`, `type`, `param`, `code`), so
    /// `e.body["iatp"]` has them.
    iatp: &'a Data<'a>,
}

/// An OpenAI-shaped error reply, `{"error": {"message", "type", "param", "code", "iatp"}}`
/// (the shape of the OpenAI API's errors, <https://platform.openai.com/docs/guides/error-codes>):
/// `type` `invalid_request_error` (the API's type for requests it refuses; a refused body,
/// also `param` = the ambiguous member) except a rate limit, which reads as the API's own:
/// `type` `requests`, `code` `rate_limit_exceeded`. `code` says which IATP outcome:
/// `iatp_blocked`, `iatp_confirmation_required`, `iatp_forbidden`, `iatp_invalid_request`.
/// The Python client raises by status: 403 `PermissionDeniedError`, 429 `RateLimitError`
/// (retried, honouring `Retry-After`), 400 `BadRequestError`, 449 `APIStatusError`.
pub fn openai_error(outcome: &Outcome, status: u16, trace_id: &str) -> Vec<u8> {
    let message = outcome.message(trace_id);
    let data = outcome.data(status, trace_id);
    let (kind, code, param) = match outcome {
        Outcome::Blocked { .. } => ("invalid_request_error", "iatp_blocked", None),
        Outcome::ContractViolation { .. } => {
            ("invalid_request_error", "iatp_contract_violation", None)
        }
        Outcome::ConfirmationRequired { .. } => {
            ("invalid_request_error", "iatp_confirmation_required", None)
        }
        Outcome::RateLimited { .. } => ("requests", "rate_limit_exceeded", None),
        Outcome::Forbidden { .. } => ("invalid_request_error", "iatp_forbidden", None),
        Outcome::Invalid(r) => (
            "invalid_request_error",
            "iatp_invalid_request",
            match r {
                crate::protocol::Refusal::Ambiguous(m)
                | crate::protocol::Refusal::InvalidRequest(m) => Some(*m),
                crate::protocol::Refusal::TooManyCalls | crate::protocol::Refusal::Malformed => {
                    None
                }
            },
        ),
    };
    to_vec(&OpenAiError {
        error: OpenAiErrorObject {
            message: &message,
            kind,
            param,
            code,
            iatp: &data,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse(b: Vec<u8>) -> Value {
        serde_json::from_slice(&b).unwrap()
    }

    #[test]
    fn shapes() {
        assert_eq!(
            parse(warn(&["low trust", "rule x"], 2, Confirm::Legacy, "t")),
            json!({"warning": "low trust; rule x", "warnings": ["low trust", "rule x"], "trust_score": 2,
                   "requires_override": true, "override_allowed": true, "trace_id": "t",
                   "message": OVERRIDE_MESSAGE})
        );
        let off = parse(warn(&["w"], 2, Confirm::Off, "t"));
        assert_eq!(off["message"], OVERRIDE_DISABLED_MESSAGE);
        assert_eq!(off["override_allowed"], false);
        let confirm = Confirm::Token {
            token: "iatp1.x",
            ttl_secs: 300,
        };
        let v = parse(warn(&["w"], 2, confirm, "t-9"));
        assert_eq!(v["override_token"], "iatp1.x");
        assert_eq!(v["override_expires_in"], 300);
        assert_eq!(
            v["message"],
            "This request requires user confirmation. To proceed, retry the same request within \
             300 seconds with headers 'X-User-Override: <override_token>' and \
             'X-Agent-Trace-ID: t-9'"
        );
        assert_eq!(
            parse(block(
                "nope",
                "credit_card_to_untrusted",
                &["credit_card"],
                "t"
            )),
            json!({"error": "nope", "blocked": true, "rule": "credit_card_to_untrusted",
                   "detected": ["credit_card"], "trace_id": "t"})
        );
        assert_eq!(
            parse(too_large(10, "t")),
            json!({"error": "request body exceeds limit", "limit_bytes": 10, "trace_id": "t"})
        );
        assert_eq!(
            parse(unsupported_encoding("gzip", "t")),
            json!({"error": "unsupported content encoding", "content_encoding": "gzip",
                   "supported": ["identity"], "trace_id": "t"})
        );
        assert_eq!(
            parse(method_not_allowed("t"))["allowed"],
            json!(["GET", "HEAD"])
        );
    }

    #[test]
    fn details_name_their_kind() {
        for (i, k) in ReplyKind::ALL.iter().enumerate() {
            assert!(ReplyKind::is_ours(k.details()));
            // Each details code names one kind.
            let same: Vec<usize> = (0..ReplyKind::ALL.len())
                .filter(|j| ReplyKind::ALL[*j].details() == k.details())
                .collect();
            assert_eq!(same, vec![i]);
        }
        assert!(ReplyKind::is_ours("iatp_from_another_version"));
        assert!(!ReplyKind::is_ours("via_upstream"));
        assert_eq!(
            Statuses::default().metered(),
            vec![200, 400, 403, 404, 405, 409, 413, 415, 429, 449, 500, 502]
        );
    }

    fn body(text: &str) -> crate::protocol::Body {
        crate::protocol::Body::parse("/mcp", text.as_bytes())
    }

    const BLOCKED: Outcome = Outcome::Blocked {
        rule: "no_delete",
        message: "Deleting files is not allowed",
        detected: &["ssn"],
    };

    #[test]
    fn jsonrpc_error_echoes_the_id() {
        for id in [
            "1",
            "-7",
            "12345678901234567890123456789",
            "1.5e300",
            "null",
            r#""a\"b\u00e9""#,
            r#""""#,
        ] {
            let b = body(&format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"x"}}}}"#
            ));
            let out = jsonrpc_error(&b, &BLOCKED, 403, "t-1");
            let text = String::from_utf8(out.clone()).unwrap();
            // Byte for byte.
            assert!(text.contains(&format!(r#""id":{id},"#)), "{text}");
            let v = parse(out);
            assert_eq!(v["jsonrpc"], "2.0");
            assert_eq!(v["error"]["code"], -31001);
            assert_eq!(v["error"]["message"], "Deleting files is not allowed");
            assert_eq!(
                v["error"]["data"],
                json!({"status": 403, "rule": "no_delete", "detected": ["ssn"], "trace_id": "t-1"})
            );
        }
    }

    #[test]
    fn jsonrpc_error_for_batches_and_notifications() {
        let b = body(
            r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":"b","method":"tools/call"}]"#,
        );
        let v = parse(jsonrpc_error(&b, &BLOCKED, 403, "t"));
        let a = v.as_array().unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0]["id"], 1);
        assert_eq!(a[1]["id"], "b");
        assert!(a.iter().all(|e| e["error"]["code"] == -31001));
        // Notifications only, a single notification, a batch too large: one error, id null.
        for text in [
            r#"[{"jsonrpc":"2.0","method":"notifications/a"}]"#.to_string(),
            r#"{"jsonrpc":"2.0","method":"notifications/a"}"#.to_string(),
            format!(
                "[{}]",
                vec![r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#; 129].join(",")
            ),
        ] {
            let b = body(&text);
            let v = parse(jsonrpc_error(&b, &BLOCKED, 403, "t"));
            assert!(v.is_object(), "{v}");
            assert_eq!(v["id"], Value::Null);
            assert!(v.as_object().unwrap().contains_key("id"));
        }
    }

    #[test]
    fn jsonrpc_error_data_of_each_outcome() {
        let b = body(
            r#"{"jsonrpc":"2.0","id":5,"method":"message/send","params":{"message":{"role":"user"}}}"#,
        );
        let warn = Outcome::ConfirmationRequired {
            warnings: &["low trust"],
            detected: &["email"],
            trust_score: 2,
            confirm: Confirm::Token {
                token: "iatp1.x",
                ttl_secs: 300,
            },
        };
        let v = parse(jsonrpc_error(&b, &warn, 449, "t-9"));
        assert_eq!(v["error"]["code"], -31002);
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("X-User-Override"));
        assert_eq!(
            v["error"]["data"],
            json!({"status": 449, "detected": ["email"], "warnings": ["low trust"], "trust_score": 2,
                   "requires_override": true, "override_allowed": true, "override_token": "iatp1.x",
                   "override_expires_in": 300, "trace_id": "t-9"})
        );
        let off = Outcome::ConfirmationRequired {
            warnings: &["w"],
            detected: &[],
            trust_score: 2,
            confirm: Confirm::Off,
        };
        let v = parse(jsonrpc_error(&b, &off, 449, "t"));
        assert_eq!(v["error"]["data"]["override_allowed"], false);
        assert!(v["error"]["data"].get("override_token").is_none());
        let v = parse(jsonrpc_error(
            &b,
            &Outcome::RateLimited { retry_after: 7 },
            429,
            "t",
        ));
        assert_eq!(v["error"]["code"], -31003);
        assert_eq!(
            v["error"]["data"],
            json!({"status": 429, "retry_after": 7, "trace_id": "t"})
        );
        let forbidden = Outcome::Forbidden {
            action: "delete_file",
            required_tier: 3,
            current_tier: 1,
            caller: "partners",
            reason: crate::caller::DenyReason::InsufficientTier,
        };
        let v = parse(jsonrpc_error(&b, &forbidden, 403, "t"));
        assert_eq!(v["error"]["code"], -31004);
        assert_eq!(
            v["error"]["message"],
            "Action 'delete_file' is not permitted: it requires tier 3, the caller has tier 1"
        );
        assert_eq!(
            v["error"]["data"],
            json!({"status": 403, "reason": "Insufficient trust tier", "action": "delete_file",
                   "required_tier": 3, "current_tier": 1,
                   "caller": "partners", "trace_id": "t"})
        );
        // A refused body: -32600 Invalid Request, its own id when it could be read.
        let b = body(
            r#"{"jsonrpc":"2.0","id":"q","method":"tools/call","params":{"name":"a","name":"b"}}"#,
        );
        let r = b.refusal.unwrap();
        let v = parse(jsonrpc_error(&b, &Outcome::Invalid(r), 400, "t"));
        assert_eq!(v["id"], "q");
        assert_eq!(v["error"]["code"], -32600);
        assert_eq!(
            v["error"]["data"],
            json!({"status": 400, "reason": "ambiguous", "member": "params.name", "trace_id": "t"})
        );
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid Request"));
        let v = parse(jsonrpc_error(
            &b,
            &Outcome::Invalid(crate::protocol::Refusal::TooManyCalls),
            400,
            "t",
        ));
        assert_eq!(v["error"]["data"]["reason"], "batch_too_large");
        // Our codes collide with no protocol's: outside JSON-RPC's reserved -32768..-32000.
        for c in [
            code::BLOCKED,
            code::CONFIRMATION_REQUIRED,
            code::RATE_LIMITED,
            code::FORBIDDEN,
        ] {
            assert!(!(-32768..=-32000).contains(&c));
        }
    }

    #[test]
    fn openai_shapes() {
        let v = parse(openai_error(&BLOCKED, 403, "t"));
        assert_eq!(
            v,
            json!({"error": {"message": "Deleting files is not allowed", "type": "invalid_request_error",
                   "param": null, "code": "iatp_blocked",
                   "iatp": {"status": 403, "rule": "no_delete", "detected": ["ssn"], "trace_id": "t"}}})
        );
        let v = parse(openai_error(
            &Outcome::RateLimited { retry_after: 3 },
            429,
            "t",
        ));
        assert_eq!(v["error"]["type"], "requests");
        assert_eq!(v["error"]["code"], "rate_limit_exceeded");
        assert_eq!(v["error"]["iatp"]["retry_after"], 3);
        let warn = Outcome::ConfirmationRequired {
            warnings: &["w"],
            detected: &[],
            trust_score: 1,
            confirm: Confirm::Legacy,
        };
        let v = parse(openai_error(&warn, 449, "t"));
        assert_eq!(v["error"]["code"], "iatp_confirmation_required");
        assert_eq!(v["error"]["message"], OVERRIDE_MESSAGE);
        let f = Outcome::Forbidden {
            action: "a",
            required_tier: 2,
            current_tier: 0,
            caller: "anonymous",
            reason: crate::caller::DenyReason::NotPermitted,
        };
        assert_eq!(
            parse(openai_error(&f, 403, "t"))["error"]["code"],
            "iatp_forbidden"
        );
        let r = Outcome::Invalid(crate::protocol::Refusal::Ambiguous("model"));
        let v = parse(openai_error(&r, 400, "t"));
        assert_eq!(v["error"]["param"], "model");
        assert_eq!(v["error"]["code"], "iatp_invalid_request");
    }

    #[test]
    fn statuses() {
        let s = Statuses::default();
        assert_eq!(s.of(&BLOCKED), 403);
        assert_eq!(s.jsonrpc(&BLOCKED), 200);
        assert_eq!(s.of(&Outcome::RateLimited { retry_after: 1 }), 429);
        assert_eq!(
            s.of(&Outcome::Invalid(crate::protocol::Refusal::TooManyCalls)),
            400
        );
        let s = Statuses {
            jsonrpc: JsonRpcStatus::Outcome,
            ..s
        };
        assert_eq!(s.jsonrpc(&BLOCKED), 403);
        assert!(Statuses::allowed(200) && Statuses::allowed(449) && Statuses::allowed(599));
        assert!(!Statuses::allowed(199) && !Statuses::allowed(204) && !Statuses::allowed(302));
        assert!(!Statuses::allowed(600));
    }

    /// docs/operations.md's table of response details is the registry's.
    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn docs_list_every_reply() {
        use crate::registry::docs::{assert_table, doc, markdown_table};
        let rows = markdown_table(&doc("docs/operations.md"), "## Response details");
        let want: Vec<Vec<String>> = ReplyKind::ALL
            .iter()
            .map(|k| vec![format!("`{}`", k.details()), k.spec().when.to_string()])
            .collect();
        assert_table("docs/operations.md", "response details", &rows, &want);
    }
}
