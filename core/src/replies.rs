//! Bodies of the filter's local replies. Field names follow the reference Python SDK so its
//! clients keep working. No reply ever carries a detected value.

use serde::Serialize;

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
    trace_id: &'a str,
    message: &'static str,
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
pub fn warn(warnings: &[&str], trust_score: u8, allow_override: bool, trace_id: &str) -> Vec<u8> {
    to_vec(&Warn {
        warning: warnings.join("; "),
        warnings,
        trust_score,
        requires_override: true,
        override_allowed: allow_override,
        trace_id,
        message: if allow_override {
            OVERRIDE_MESSAGE
        } else {
            OVERRIDE_DISABLED_MESSAGE
        },
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

/// 405 on a well-known endpoint.
pub fn method_not_allowed(trace_id: &str) -> Vec<u8> {
    to_vec(&MethodNotAllowed {
        error: "method not allowed",
        allowed: ["GET", "HEAD"],
        trace_id,
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
            parse(warn(&["low trust", "rule x"], 2, true, "t")),
            json!({"warning": "low trust; rule x", "warnings": ["low trust", "rule x"], "trust_score": 2,
                   "requires_override": true, "override_allowed": true, "trace_id": "t",
                   "message": OVERRIDE_MESSAGE})
        );
        assert_eq!(
            parse(warn(&["w"], 2, false, "t"))["message"],
            OVERRIDE_DISABLED_MESSAGE
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
            parse(method_not_allowed("t"))["allowed"],
            json!(["GET", "HEAD"])
        );
    }
}
