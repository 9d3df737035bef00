//! The exchange's side of who is calling: the caller resolved on the request headers (its
//! identity read from Envoy only when the configuration needs it, [`Policy::identity`]), the
//! values conditions look up by name (`header()`, `claim()`, `mcp_arg()`), and the caller's
//! token bucket, charged before anything is forwarded.

use serde_json::Value as Json;

use crate::caller::ratelimit::{self, Decision as RateDecision, Limit};
use crate::caller::{Caller, ClaimValue, Claims};
use crate::events;
use crate::policy::{Decision, Mode, Policy, PolicyResult};
use crate::replies::ReplyKind;
use crate::rules::{ArgStep, Lookup};
use crate::time::rfc3339_millis;

use super::request::stamp;
use super::{Exchange, HeaderValue, Headers, Host, RequestHead, Step};

/// The request's values that conditions look up by name: only those the compiled rules and
/// actions read ([`Policy::uses`]).
#[derive(Debug, Clone, Default)]
pub(super) struct Lookups {
    /// `header('name')`: lower-case name, the values of every field of that name joined with
    /// `, ` (RFC 9110 §5.3).
    headers: Vec<(Box<str>, String)>,
    /// `claim('name')`: the verified claims, as JSON.
    claims: Vec<(Box<str>, Json)>,
}

impl Lookups {
    fn read(policy: &Policy, head: &RequestHead, caller: Option<&Caller>) -> Lookups {
        let headers = policy
            .uses
            .headers
            .iter()
            .filter_map(|name| {
                let mut joined: Option<String> = None;
                for (_, v) in head.headers.iter().filter(|(n, _)| *n == name.as_bytes()) {
                    let v = String::from_utf8_lossy(v);
                    match joined.as_mut() {
                        Some(j) => {
                            j.push_str(", ");
                            j.push_str(&v);
                        }
                        None => joined = Some(v.into_owned()),
                    }
                }
                joined.map(|j| (Box::from(name.as_str()), j))
            })
            .collect();
        let claims = caller
            .and_then(|c| c.claims.as_ref())
            .map(|claims| {
                policy
                    .uses
                    .claims
                    .iter()
                    .filter_map(|name| Some((Box::from(name.as_str()), json(claims.get(name)?))))
                    .collect()
            })
            .unwrap_or_default();
        Lookups { headers, claims }
    }
}

/// A claim as the rules read it.
fn json(v: &ClaimValue) -> Json {
    match v {
        ClaimValue::Str(s) => Json::String(s.to_string()),
        ClaimValue::Number(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        ClaimValue::Bool(b) => Json::Bool(*b),
        ClaimValue::StrList(l) => {
            Json::Array(l.iter().map(|s| Json::String(s.to_string())).collect())
        }
        ClaimValue::Other => Json::Null,
    }
}

/// What the rules look up in one evaluation: the request's [`Lookups`], and the arguments of
/// the MCP `tools/call` being evaluated (one per call of a batch).
pub(super) struct RequestLookup<'e> {
    pub(super) lookups: &'e Lookups,
    pub(super) arguments: Option<&'e Json>,
}

impl Lookup for RequestLookup<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.lookups
            .headers
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v.as_str())
    }

    fn claim(&self, name: &str) -> Option<&Json> {
        self.lookups
            .claims
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }

    fn mcp_arg(&self, path: &[ArgStep]) -> Option<&Json> {
        ArgStep::walk(self.arguments?, path)
    }
}

/// The caller's bucket after this request was charged: what the `RateLimit` headers say.
#[derive(Debug, Clone)]
pub(super) struct RateState {
    pub(super) decision: RateDecision,
    /// `RateLimit-Policy`, `RateLimit` and (refused) `Retry-After` values.
    pub(super) policy_header: String,
    pub(super) ratelimit_header: String,
    pub(super) retry_after: Option<String>,
}

impl RateState {
    fn new(limit: Limit, decision: RateDecision) -> RateState {
        RateState {
            policy_header: ratelimit::policy_header(limit),
            ratelimit_header: ratelimit::ratelimit_header(&decision),
            retry_after: ratelimit::retry_after_header(&decision).filter(|_| !decision.allowed),
            decision,
        }
    }
}

/// The request header the filter sets to the caller's name, for Envoy's rate-limit filters
/// and the agent: a mesh-wide limit keys on it (`docs/operations.md`). Whatever a caller sends
/// under this name is replaced or removed.
pub const CALLER_HEADER: &str = "x-iatp-caller";

impl Exchange {
    /// Who is calling, from what Envoy knows of the stream (the peer certificate, the
    /// metadata `jwt_authn` wrote) and the declared header; and the values conditions look up.
    pub(super) fn identify(&mut self, policy: &Policy, head: &RequestHead, host: &impl Host) {
        let caller = policy.identity.then(|| {
            let sources = policy.callers.sources();
            let san = if sources.spiffe {
                host.peer_uri_san()
            } else {
                None
            };
            let claims = sources.jwt.as_ref().and_then(|j| {
                let metadata = host.dynamic_metadata()?;
                Claims::from_metadata(&metadata, &j.metadata_namespace, &j.payload_key)
            });
            // One field of the declared header, or none: two are ambiguous (which one would
            // the agent read?), and no identity.
            let declared = sources.header.as_deref().and_then(|name| {
                let mut fields = head.headers.iter().filter(|(n, _)| *n == name.as_bytes());
                match (fields.next(), fields.next()) {
                    (Some((_, v)), None) => Some(*v),
                    _ => None,
                }
            });
            policy.callers.resolve(san.as_deref(), claims, declared)
        });
        self.lookups = Lookups::read(policy, head, caller.as_ref());
        let sent = head
            .headers
            .iter()
            .any(|(n, _)| *n == CALLER_HEADER.as_bytes());
        match &caller {
            Some(c) => self.edit(
                Headers::Request,
                CALLER_HEADER,
                Some(HeaderValue::Text(c.name.to_string())),
            ),
            None if sent => self.edit(Headers::Request, CALLER_HEADER, None),
            None => {}
        }
        self.caller = caller;
    }

    /// Charges the caller's token bucket; `Some(step)` when it is empty (429, or in monitor
    /// mode only reported). A store that keeps failing lets the request through (the bucket
    /// state is Envoy's shared data: rate limiting fails open, as Envoy's own rate-limit
    /// filters do by default).
    pub(super) fn charge(&mut self, policy: &Policy, host: &impl Host) -> Option<Step> {
        let caller = self.caller.as_ref()?;
        let limit = caller.rate_limit?;
        let now_ms = self.started_nanos / 1_000_000;
        let key = policy.callers.bucket_key(caller);
        let charge = ratelimit::charge(&key, now_ms, limit, &|k, u| host.update_shared(k, u));
        let mut state = RateState::new(limit, charge.decision);
        let allowed = state.decision.allowed;
        if policy.mode == Mode::Monitor {
            // Forwarded all the same: no `Retry-After` on the agent's answer. The request is
            // recorded once, when it is decided, with its `rate_limited` line
            // ([`Exchange::rate_limited_line`]).
            state.retry_after = None;
            self.rate = Some(state);
            self.rate_monitor = !allowed;
            return None;
        }
        self.rate = Some(state);
        if allowed {
            return None;
        }
        let ts = rfc3339_millis(now_ms);
        self.record_request(policy, &[], &[], None, 0, &ts);
        self.tally = Some(self.tally_of(policy, Decision::RateLimited, PolicyResult::RateLimited));
        self.rate_limited_line(policy, &ts, None);
        let reply = self.rate_reply(policy, &[]);
        self.phase = super::Phase::Replied;
        Some(Step::Reply(reply))
    }

    /// The `rate_limited` line (`mode`: monitor mode's mark).
    pub(super) fn rate_limited_line(&mut self, policy: &Policy, ts: &str, mode: Option<&str>) {
        let (Some(caller), Some(rate)) = (self.caller.as_ref(), self.rate.as_ref()) else {
            return;
        };
        let Some(limit) = caller.rate_limit else {
            return;
        };
        self.events.push(
            &stamp(&self.trace_id, policy, ts),
            &events::RateLimited {
                caller: &caller.name,
                requests_per_minute: limit.requests_per_minute,
                burst: limit.burst,
                retry_after: rate.decision.retry_after_secs,
                status: policy.reply_statuses.of_kind(ReplyKind::RateLimited),
                mode,
            },
        );
    }

    /// The `RateLimit-Policy` and `RateLimit` headers on the response (and `Retry-After` on a
    /// refusal), when the caller is limited.
    pub(super) fn rate_headers(&self) -> Vec<(&'static str, &str)> {
        let Some(r) = &self.rate else {
            return Vec::new();
        };
        let mut h = vec![
            (ratelimit::RATELIMIT_POLICY_HEADER, r.policy_header.as_str()),
            (ratelimit::RATELIMIT_HEADER, r.ratelimit_header.as_str()),
        ];
        if let Some(after) = &r.retry_after {
            h.push((ratelimit::RETRY_AFTER_HEADER, after.as_str()));
        }
        h
    }

    /// The same headers as edits of the agent's response.
    pub(super) fn edit_rate_headers(&mut self) {
        let headers: Vec<(&'static str, String)> = self
            .rate_headers()
            .into_iter()
            .map(|(n, v)| (n, v.to_string()))
            .collect();
        for (name, value) in headers {
            self.edit(Headers::Response, name, Some(HeaderValue::Text(value)));
        }
    }
}
