//! The exchange in gateway mode (`crate::gateway`): on the request headers, the ACVPS headers
//! decide where the request goes and under which contract, or refuse it (400, 403, 409); the
//! forward proxy is told where to go, and the ACVPS headers never reach the target. The
//! contracts' canonical JSON is served for clients to compute their digest.

use super::request::stamp;
use super::{Exchange, HeaderValue, Headers, Phase, RequestHead, Step};
use crate::events;
use crate::gateway::{self, Header, Refusal, Route, ACVPS_HEADERS, CONTRACTS_PATH, TARGET_SCHEME};
use crate::metrics::CacheResult;
use crate::policy::Policy;
use crate::replies::{self, ReplyKind};
use crate::time::rfc3339_millis;

/// What the exchange knows about its gateway request.
#[derive(Debug, Clone)]
pub(super) struct GatewayState {
    pub(super) route: Route,
    /// `scheme://host:port`: the cache's key and the events' `target.origin`.
    pub(super) origin: String,
    /// The host as `target_host` reads it.
    pub(super) host: String,
    /// The target as judged from its manifest, once known.
    pub(super) target: super::target::TargetFacts,
    /// Where the exchange stands with the target's manifest.
    pub(super) pending: super::target::Pending,
    /// A stale entry was served and no one refreshes it: the root context should.
    pub(super) refresh: bool,
    /// This request's own fetch, for the metrics (taken once).
    pub(super) fetched: Option<crate::metrics::FetchResult>,
    /// The cache result was counted.
    pub(super) counted: bool,
}

impl Exchange {
    /// Gateway mode on the request headers: `None` when the request goes on (routed, its
    /// edits made), else the step that answers it.
    pub(super) fn gateway_headers(
        &mut self,
        policy: &Policy,
        head: &RequestHead,
        now_nanos: u64,
    ) -> Option<Step> {
        let gw = policy.gateway.as_ref()?;
        let acvps = &head.acvps;
        if acvps.target == Header::Absent && acvps.contract == Header::Absent {
            if let Some(id) = self.bare_path().strip_prefix(CONTRACTS_PATH) {
                if gw.serve_contracts {
                    // An id with `/` may come percent-encoded (`acme%2Fpii%2Fv1`), as a
                    // client's URL library writes a path segment.
                    let id = crate::target::percent_decode(id).unwrap_or_else(|| id.to_string());
                    return Some(self.serve_contract(policy, &id, now_nanos));
                }
            }
        }
        let route = match gateway::route(gw, &policy.contracts, acvps, head.path) {
            Ok(route) => route,
            Err(refusal) => {
                let contract = match acvps.contract {
                    Header::One(id) => std::str::from_utf8(id)
                        .ok()
                        .and_then(|id| policy.contracts.get(id)),
                    _ => gw
                        .contract
                        .as_deref()
                        .and_then(|id| policy.contracts.get(id)),
                };
                let contract = contract.map(|c| c.id.clone());
                // What was tried goes into the audit line (an SSRF attempt says where to),
                // when its URL parses.
                let tried = match acvps.target {
                    Header::One(url) => std::str::from_utf8(url)
                        .ok()
                        .and_then(|u| crate::target::Target::parse(u).ok())
                        .map(|t| t.origin()),
                    _ => None,
                };
                return Some(self.gateway_refusal(
                    policy,
                    refusal,
                    contract.as_deref(),
                    tried.as_deref(),
                    now_nanos,
                ));
            }
        };
        // Only the headers that came: each removal is a host call.
        for (name, h) in
            ACVPS_HEADERS
                .iter()
                .zip([acvps.target, acvps.contract, acvps.dc_id, acvps.dc_digest])
        {
            if h != Header::Absent {
                self.edit(Headers::Request, *name, None);
            }
        }
        self.edit(
            Headers::Request,
            TARGET_SCHEME,
            Some(HeaderValue::Text(route.target.scheme.as_str().into())),
        );
        self.edit(
            Headers::Request,
            ":authority",
            Some(HeaderValue::Text(route.authority.clone())),
        );
        if route.path.as_bytes() != head.path {
            self.edit(
                Headers::Request,
                ":path",
                Some(HeaderValue::Text(route.path.clone())),
            );
        }
        self.gw = Some(Box::new(GatewayState {
            origin: route.target.origin(),
            host: route.target.host.to_string(),
            route,
            target: super::target::TargetFacts::default(),
            pending: super::target::Pending::Nothing,
            refresh: false,
            fetched: None,
            counted: false,
        }));
        None
    }

    /// `GET /.well-known/acvps/contracts/<id>`: the contract's canonical JSON (RFC 8785), with
    /// its digest in `X-DC-Digest`; 404 for an id this gateway does not have.
    fn serve_contract(&mut self, policy: &Policy, id: &str, now_nanos: u64) -> Step {
        let ts = rfc3339_millis(now_nanos / 1_000_000);
        self.record_request(policy, &[], &[], None, 0, &ts);
        if !matches!(self.method.as_str(), "GET" | "HEAD") {
            let body = replies::method_not_allowed(&self.trace_id);
            return self.reply(ReplyKind::MethodNotAllowed, body);
        }
        match policy.contracts.get(id) {
            Some(c) => {
                self.served_digest = Some(c.digest.clone());
                self.reply(ReplyKind::WellKnown, c.canonical.clone())
            }
            None => {
                let body = replies::not_found("no such contract", &self.trace_id);
                self.reply(ReplyKind::NotFound, body)
            }
        }
    }

    /// A gateway request refused on its headers: the `request` line, a `blocked` line with
    /// the refusal's reason (and the contract, when known), and the reply. Enforced in
    /// monitor mode too: a request that cannot be routed, or whose target the contract
    /// forbids, cannot be forwarded "to see".
    pub(super) fn gateway_refusal(
        &mut self,
        policy: &Policy,
        refusal: Refusal,
        contract: Option<&str>,
        tried: Option<&str>,
        now_nanos: u64,
    ) -> Step {
        let ts = rfc3339_millis(now_nanos / 1_000_000);
        self.record_request(policy, &[], &[], None, 0, &ts);
        let kind = match refusal {
            Refusal::ContractRequired
            | Refusal::TargetRequired
            | Refusal::TargetInvalid(_)
            | Refusal::TargetQuery
            | Refusal::Ambiguous(_) => ReplyKind::TargetInvalid,
            Refusal::ContractUnknown | Refusal::TargetForbidden(_) => ReplyKind::TargetForbidden,
            Refusal::DcRequired => ReplyKind::DcRequired,
            Refusal::DcInvalid => ReplyKind::DcInvalid,
            Refusal::TargetUnavailable => ReplyKind::TargetUnavailable,
        };
        let status = policy.reply_statuses.of_kind(kind);
        let target = tried.map(|t| super::fields::scrubbed_field(&policy.scanner, t, 512));
        self.events.push(
            &stamp(&self.trace_id, policy, &ts),
            &events::Blocked {
                reason: refusal.reason(),
                detected: Vec::new(),
                status,
                phase: "request",
                contract,
                exceeded: None,
                moderation_error: None,
                target: target.as_deref(),
                mode: None,
            },
        );
        let body =
            replies::gateway_refusal(&refusal.message(), refusal.code(), contract, &self.trace_id);
        self.phase = Phase::Replied;
        self.reply(kind, body)
    }

    /// The `contract_id` and `target_*` facts.
    pub(super) fn target_facts<'a>(&'a self, f: &mut crate::rules::Facts<'a>) {
        use crate::rules::{Value, Var};
        let policy = self.policy.as_deref();
        let contract = policy
            .and_then(|p| self.contract(p))
            .map_or("", |c| c.id.as_str());
        f.set(Var::ContractId, Value::Str(contract));
        let g = self.gw.as_deref();
        f.set(
            Var::TargetHost,
            Value::Str(g.map_or("", |g| g.host.as_str())),
        );
        f.set(
            Var::TargetScheme,
            Value::Str(g.map_or("", |g| g.route.target.scheme.as_str())),
        );
        f.set(
            Var::TargetPort,
            Value::Int(g.map_or(0, |g| i64::from(g.route.target.port))),
        );
        let m = g.and_then(|g| g.target.manifest.as_ref());
        let unknown = crate::manifest::TrustLevel::Unknown;
        f.set(Var::TargetManifest, Value::Bool(m.is_some()));
        f.set(
            Var::TargetAgentId,
            Value::Str(m.map_or("", |m| m.agent_id.as_str())),
        );
        f.set(
            Var::TargetTrustLevel,
            Value::Str(m.map_or(unknown, |m| m.trust_level).as_str()),
        );
        f.set(
            Var::TargetTrustScore,
            Value::Int(m.map_or(i64::from(crate::trust::base_score(unknown)), |m| {
                i64::from(m.trust_score)
            })),
        );
        f.set(
            Var::TargetRetention,
            Value::Str(
                m.and_then(|m| m.retention)
                    .map_or("unknown", |r| r.canonical().as_str()),
            ),
        );
        f.set(
            Var::TargetReversibility,
            Value::Str(m.map_or("unknown", |m| m.reversibility.as_str())),
        );
        f.set(
            Var::TargetHumanInLoop,
            Value::Bool(m.is_some_and(|m| m.human_in_loop)),
        );
        f.set(
            Var::TargetTrainingConsent,
            Value::Bool(m.is_some_and(|m| m.training_consent)),
        );
        f.set(
            Var::TargetAttested,
            Value::Bool(m.is_some_and(|m| m.attested)),
        );
    }

    /// The `target` of the `request` line. Strings the client or the target chose (the
    /// origin, the target's agent id) are written only when no detector finds a value in them.
    pub(super) fn target_fields<'a>(
        gw: Option<&'a GatewayState>,
        policy: &'a Policy,
    ) -> Option<events::TargetFields<'a>> {
        let g = gw?;
        let clean = |s: &'a str| super::fields::scrubbed_field(&policy.scanner, s, 512);
        let m = g.target.manifest.as_ref();
        Some(events::TargetFields {
            origin: clean(&g.origin),
            contract: policy
                .contracts
                .at(g.route.contract)
                .map_or("", |c| c.id.as_str()),
            manifest: g.target.cache.map_or("not_fetched", CacheResult::as_str),
            agent_id: m.map(|m| clean(&m.agent_id)),
            declared_trust_level: m.map(|m| m.declared.as_str()),
            trust_level: m.map(|m| m.trust_level.as_str()),
            trust_score: m.map(|m| m.trust_score),
            attested: m.is_some_and(|m| m.attested),
            listed: m.is_some_and(|m| m.listed),
        })
    }

    /// The contract this exchange is held to: its gateway route's, else the inbound one.
    pub(super) fn contract<'p>(&self, policy: &'p Policy) -> Option<&'p crate::contract::Contract> {
        match &self.gw {
            Some(g) => policy.contracts.at(g.route.contract),
            None => policy.contracts.inbound(),
        }
    }
}
