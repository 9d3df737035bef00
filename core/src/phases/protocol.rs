//! The exchange's side of protocols: what the body asks for (JSON-RPC 2.0 with MCP or A2A,
//! OpenAI-style, [`crate::protocol`]) as the rules see it, one evaluation per call of a batch,
//! and refusals in the caller's own protocol's shape (a JSON-RPC error with the request's
//! `id`, an OpenAI error object, or the IATP body).

use serde_json::Value as Json;

use crate::detect::Findings;
use crate::events::{self, PHASE_REQUEST};
use crate::metrics::Tally;
use crate::policy::{Decision, Mode, Policy, PolicyResult, Rule, Verdict};
use crate::protocol::{Body, Call, Endpoint, Protocol, Refusal};
use crate::replies::{self, Outcome, Reply, ReplyKind};
use crate::rules::{Facts, Value, Var};
use crate::time::rfc3339_millis;

use super::caller::RequestLookup;
use super::request::stamp;
use super::{holds_sensitive, Exchange, Host, Phase, Step};

impl Exchange {
    /// What the body asks for. A JSON-RPC id that holds a detected value (`"id":
    /// "4111111111111111"`) is never echoed: a reply answers it with `null` (JSON-RPC 2.0 §5:
    /// the id of a request that could not be identified).
    pub(super) fn protocol_of(&self, body: &[u8]) -> Body {
        let mut b = Body::parse(&self.path, body);
        if let Some(policy) = self.policy.as_deref() {
            // The id as sent, and as the client reads it (a string's escapes undone:
            // `"411111111111111\u0031"`).
            let sensitive = |id: &str| {
                holds_sensitive(&policy.scanner, id.as_bytes())
                    || serde_json::from_str::<String>(id)
                        .is_ok_and(|s| holds_sensitive(&policy.scanner, s.as_bytes()))
            };
            for call in &mut b.calls {
                if call.id.as_deref().is_some_and(sensitive) {
                    call.id = Some("null".into());
                }
            }
        }
        b
    }

    /// The protocol's values of one call (the first of a batch, or `call`), over the values
    /// [`Exchange::facts`] gives a body that is none of the protocols.
    pub(super) fn with_call<'a>(
        mut f: Facts<'a>,
        proto: Option<&'a Body>,
        call: Option<&'a Call>,
    ) -> Facts<'a> {
        let Some(p) = proto else {
            return f;
        };
        let s = |v: &'a Option<String>| Value::Str(v.as_deref().unwrap_or(""));
        f.set(Var::Protocol, Value::Str(p.protocol.as_str()));
        if let Some(c) = call {
            f.set(Var::RpcMethod, Value::Str(&c.method));
            f.set(Var::McpTool, s(&c.mcp_tool));
            f.set(Var::McpResource, s(&c.mcp_resource));
            f.set(Var::McpPrompt, s(&c.mcp_prompt));
            f.set(Var::A2aTaskId, s(&c.a2a_task_id));
            f.set(Var::A2aContextId, s(&c.a2a_context_id));
            f.set(Var::A2aRole, s(&c.a2a_role));
        }
        if let Some(o) = &p.openai {
            f.set(Var::OpenaiModel, s(&o.model));
            f.set(Var::OpenaiStream, Value::Bool(o.stream));
        }
        f
    }

    /// The policy's verdict (and the redaction rule, if any) on the request, once per call of
    /// a JSON-RPC batch: an action refused or a block for any call refuses the whole batch (the
    /// first in call order says why); the warnings of every call are asked about together.
    pub(super) fn evaluate<'p>(
        &self,
        policy: &'p Policy,
        findings: &Findings,
        proto: Option<&Body>,
    ) -> (Verdict<'p>, Option<&'p Rule>) {
        // Each call of the body, or once with no call.
        let body_calls = proto.map(|p| p.calls.as_slice()).filter(|c| !c.is_empty());
        let calls = body_calls
            .into_iter()
            .flatten()
            .map(Some)
            .chain(body_calls.is_none().then_some(None));
        let mut warnings: Vec<&'p str> = Vec::new();
        let mut redaction = None;
        for call in calls {
            // The MCP arguments as JSON, only when a condition looks into them.
            let arguments: Option<Json> = call
                .filter(|_| policy.uses.mcp_args)
                .and_then(Call::arguments)
                .and_then(|text| serde_json::from_str(text).ok());
            let lookup = RequestLookup {
                lookups: &self.lookups,
                arguments: arguments.as_ref(),
            };
            let mut facts = Exchange::with_call(self.facts(findings, &lookup), proto, call);
            let matched = policy.actions.matched(&facts);
            facts.set(Var::Action, Value::Str(policy.actions.first_name(matched)));
            match policy.evaluate_with(&facts, self.caller.as_ref(), matched) {
                v @ (Verdict::Block(_) | Verdict::Deny(_)) => return (v, None),
                Verdict::Warn(w) => {
                    for m in w {
                        if !warnings.contains(&m) {
                            warnings.push(m);
                        }
                    }
                }
                Verdict::Allow | Verdict::Override(_) => {}
            }
            redaction = redaction.or_else(|| policy.redaction(&facts));
        }
        let verdict = if warnings.is_empty() {
            Verdict::Allow
        } else {
            Verdict::Warn(warnings)
        };
        (verdict, redaction)
    }

    /// A refusal in the shape the caller's protocol reads: a JSON-RPC 2.0 error per call with
    /// its own `id` (sent with 200 unless `replies.jsonrpc_status` says otherwise; `data.status`
    /// keeps the outcome's), an OpenAI error object on an OpenAI-style endpoint, else the IATP
    /// body `iatp`. The body must have been parsed ([`Exchange::protocol_of`]) when it is one.
    pub(super) fn shaped(
        &self,
        policy: &Policy,
        kind: ReplyKind,
        outcome: &Outcome,
        iatp: Vec<u8>,
    ) -> Reply {
        let status = policy.reply_statuses.of_kind(kind);
        match self.proto.as_ref() {
            Some(p) if p.protocol.is_jsonrpc() => Reply {
                kind,
                status: policy.reply_statuses.jsonrpc(outcome),
                body: replies::jsonrpc_error(p, outcome, status, &self.trace_id),
            },
            p if p.is_some_and(|p| p.protocol == Protocol::OpenAi)
                || Endpoint::of_path(&self.path).is_some() =>
            {
                Reply {
                    kind,
                    status,
                    body: replies::openai_error(outcome, status, &self.trace_id),
                }
            }
            _ => Reply {
                kind,
                status,
                body: iatp,
            },
        }
    }

    /// A JSON-RPC body the filter will not read (ambiguous members, a batch too large, not
    /// JSON-RPC 2.0): refused before any rule, with JSON-RPC -32600, as a block (`blocked`
    /// line, reason `invalid_jsonrpc`). In monitor mode it is reported and forwarded.
    pub(super) fn invalid_request(
        &mut self,
        policy: &Policy,
        refusal: Refusal,
        body: &[u8],
        scan: super::request::Scan,
        now: u64,
        host: &impl Host,
    ) -> Step {
        let ts = rfc3339_millis(now / 1_000_000);
        self.record_request(
            policy,
            body,
            &scan.body_spans,
            Some(&scan.findings),
            size_u64(scan.body_bytes),
            &ts,
        );
        let decision = Decision::of(PolicyResult::Block, policy.mode);
        let report_only = decision == Decision::Monitor;
        let mut tally = self.tally_of(policy, decision, PolicyResult::Block);
        tally.detected = scan.findings.kinds;
        tally.body_bytes = size_u64(scan.body_bytes);
        tally.scan_us = host.now_nanos().saturating_sub(now) / 1_000;
        self.tally = Some(tally);
        let outcome = Outcome::Invalid(refusal);
        self.events.push(
            &stamp(&self.trace_id, policy, &ts),
            &events::Blocked {
                reason: INVALID_JSONRPC,
                detected: policy.scanner.names(scan.findings.kinds),
                status: policy.reply_statuses.of(&outcome),
                phase: PHASE_REQUEST,
                contract: None,
                exceeded: None,
                moderation_error: None,
                target: None,
                mode: report_only.then_some(Mode::Monitor.as_str()),
            },
        );
        if report_only {
            self.policy_header = Some(PolicyResult::Block);
            self.forward();
            return Step::Continue;
        }
        let proto = self.protocol_of(body);
        // An OpenAI-style body gets the OpenAI shape (its client reads a 400 as
        // `BadRequestError`), anything else the JSON-RPC error it claims to be.
        let (status, reply) = if proto.protocol == Protocol::OpenAi
            || Endpoint::of_path(&self.path).is_some()
        {
            (
                replies::INVALID_STATUS,
                replies::openai_error(&outcome, replies::INVALID_STATUS, &self.trace_id),
            )
        } else {
            (
                policy.reply_statuses.jsonrpc(&outcome),
                replies::jsonrpc_error(&proto, &outcome, replies::INVALID_STATUS, &self.trace_id),
            )
        };
        self.proto = Some(proto);
        self.phase = Phase::Replied;
        Step::Reply(Reply {
            kind: ReplyKind::InvalidRequest,
            status,
            body: reply,
        })
    }

    /// The 429 of a request refused on its headers for its caller's rate limit, whose body was
    /// awaited for its shape (its JSON-RPC ids).
    pub(super) fn rate_refusal(&mut self, policy: &Policy, body: &[u8]) -> Step {
        self.rate_refused = false;
        let reply = self.rate_reply(policy, body);
        self.phase = Phase::Replied;
        Step::Reply(reply)
    }

    /// The 429 reply, shaped.
    pub(super) fn rate_reply(&mut self, policy: &Policy, body: &[u8]) -> Reply {
        let retry_after = self
            .rate
            .as_ref()
            .map_or(0, |r| r.decision.retry_after_secs);
        let caller = self.caller.as_ref().map(|c| c.name.clone());
        let iatp =
            replies::rate_limited(caller.as_deref().unwrap_or(""), retry_after, &self.trace_id);
        let outcome = Outcome::RateLimited { retry_after };
        if self.proto.is_none() && !body.is_empty() {
            self.proto = Some(self.protocol_of(body));
        }
        self.shaped(policy, ReplyKind::RateLimited, &outcome, iatp)
    }

    /// What a decision adds to the metrics (detections and sizes filled in by the caller).
    pub(super) fn tally_of(
        &self,
        policy: &Policy,
        decision: Decision,
        result: PolicyResult,
    ) -> Tally {
        Tally {
            decision,
            result,
            detected: crate::detect::KindSet::default(),
            body_bytes: 0,
            trust_score: policy.trust_score,
            scan_us: 0,
            caller: self.caller.as_ref().map(|c| policy.callers.name_slot(c)),
        }
    }
}

/// The `reason` of the `blocked` line of a JSON-RPC body refused as invalid or ambiguous.
pub const INVALID_JSONRPC: &str = "invalid_jsonrpc";

fn size_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
