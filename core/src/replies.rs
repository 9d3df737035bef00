//! Bodies of the filter's local replies. Field names follow the reference Python SDK so its
//! clients keep working. No reply ever carries a detected value.

use serde::Serialize;

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
        /// A `redact` rule matched and Envoy refused the rewritten body.
        RedactionFailed => ReplySpec { status: 500, details: "iatp_redaction_failed",
            metered: true, when: "500, a redacted body Envoy refused" },
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

    /// The statuses counted in `iatp_local_replies_total`, ascending, each once.
    pub fn metered_statuses() -> Vec<u16> {
        let mut s: Vec<u16> = ReplyKind::ALL
            .iter()
            .filter(|k| k.spec().metered)
            .map(|k| k.status())
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    }
}

/// A local reply: its kind and its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub kind: ReplyKind,
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
    let message = match confirm {
        Confirm::Token { ttl_secs, .. } => format!(
            "This request requires user confirmation. To proceed, retry the same request within \
             {ttl_secs} seconds with headers 'X-User-Override: <override_token>' and \
             'X-Agent-Trace-ID: {trace_id}'"
        ),
        Confirm::Legacy => OVERRIDE_MESSAGE.to_string(),
        Confirm::Off => OVERRIDE_DISABLED_MESSAGE.to_string(),
    };
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

/// 405 on a well-known endpoint.
pub fn method_not_allowed(trace_id: &str) -> Vec<u8> {
    to_vec(&MethodNotAllowed {
        error: "method not allowed",
        allowed: ["GET", "HEAD"],
        trace_id,
    })
}

/// 500: Envoy refused the redacted body.
pub fn redaction_failed() -> Vec<u8> {
    br#"{"error":"the request body could not be redacted"}"#.to_vec()
}

/// 503: no valid configuration (Envoy refuses such a filter with `FAIL_CLOSED`).
pub fn unconfigured() -> Vec<u8> {
    br#"{"error":"the IATP filter has no valid configuration"}"#.to_vec()
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
            ReplyKind::metered_statuses(),
            vec![200, 403, 405, 413, 415, 449, 500]
        );
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
