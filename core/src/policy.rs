//! The compiled policy and the per-request decision.
//!
//! Block rules are tried first, in order; the first that matches blocks (403). Otherwise the
//! warnings are collected: the trust score below `policy.trust_threshold`, and every `warn`
//! rule that matches. Warnings answer 449 unless the caller confirms them with the 449's
//! override token (`overrides`; the exchange decides that). In `monitor` mode the same decision
//! is made and reported, but the glue never enforces it.

use std::rc::Rc;

use crate::agent_card::AgentCard;
use crate::caller::{ActionSet, Actions, Caller, Denied, Directory};
use crate::chain::ChainKey;
use crate::config::strict::{deserialize_named, Named};
use crate::detect::Scanner;
use crate::manifest::Manifest;
use crate::overrides::OverrideKey;
use crate::registry::registry;
use crate::rules::{Cond, Facts};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Enforce,
    Monitor,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Monitor => "monitor",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    Block,
    Warn,
    /// Forward the body with every detected value replaced by a placeholder.
    Redact,
}

impl Named for Mode {
    const ALL: &'static [Self] = &[Mode::Enforce, Mode::Monitor];
    const NAMES: &'static [&'static str] = &["enforce", "monitor"];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Named for RuleAction {
    const ALL: &'static [Self] = &[RuleAction::Block, RuleAction::Warn, RuleAction::Redact];
    const NAMES: &'static [&'static str] = &["block", "warn", "redact"];
    fn name(self) -> &'static str {
        match self {
            RuleAction::Block => "block",
            RuleAction::Warn => "warn",
            RuleAction::Redact => "redact",
        }
    }
}

deserialize_named!(Mode, RuleAction);

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub action: RuleAction,
    pub cond: Cond,
    /// The text of the 403 `error` or of the warning; never contains request data.
    pub message: String,
    /// The condition reads the response (`response_has_<type>`, `response_status`, ...): the
    /// rule is decided on the response, never on the request. Its action is `block` or
    /// `redact` (a response cannot be confirmed by the caller).
    pub on_response: bool,
}

/// What the response rules say about a response so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ResponseVerdict<'p> {
    Allow,
    /// The response is replaced by a refusal (or a stream ended with one).
    Block(&'p Rule),
    /// The values found in the response are replaced by placeholders.
    Redact(&'p Rule),
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub mode: Mode,
    /// Hold the request headers back until the body is decided (needs Envoy's
    /// `allow_on_headers_stop_iteration`); when false, headers go on at once and a blocked
    /// request is reset before its body reaches the agent.
    pub hold_headers: bool,
    pub manifest: Manifest,
    pub trust_score: u8,
    /// `trust_score` as the `X-Agent-Trust-Score` header value.
    pub trust_score_text: String,
    pub trust_threshold: u8,
    /// `policy.allow_override`: whether a warning can be overridden at all.
    pub allow_override: bool,
    /// Override tokens are minted and checked under this key; without it (and without
    /// `legacy_override`) overrides are off: fail closed.
    pub override_key: Option<OverrideKey>,
    /// How long an override token holds, seconds.
    pub override_ttl_secs: u64,
    /// The unsafe legacy form: `X-User-Override: true` overrides (anyone can send it).
    pub legacy_override: bool,
    pub rules: Vec<Rule>,
    /// `policy.actions`: named conditions and the tier each requires (empty: none).
    pub actions: Actions,
    /// `callers`: who is calling, and what they get (an empty directory when absent).
    pub callers: Directory,
    /// Read the caller's identity from Envoy on each request: `callers` is configured, a
    /// condition reads the caller, or a rate limit applies (buckets are per caller).
    pub identity: bool,
    /// What the compiled rules and actions read per request (headers and claims they look
    /// up, body variables): the exchange keeps only these values.
    pub uses: crate::rules::Uses,
    pub scanner: Scanner,
    /// Request headers not scanned (`detectors.skip_headers`), lower-case.
    pub skip_headers: Vec<String>,
    pub max_body_bytes: u64,
    /// `responses`: which responses are scanned, and how.
    pub responses: crate::response::Responses,
    pub max_event_payload_bytes: usize,
    /// Seals event lines with HMAC-SHA256 instead of plain SHA-256.
    pub chain_key: Option<ChainKey>,
    /// The HTTP status of each refusal (`replies`).
    pub reply_statuses: crate::replies::Statuses,
    /// `/.well-known/agent-manifest`, rendered once; `None` when not served
    /// (`well_known.agent_manifest: false`).
    pub manifest_json: Option<Vec<u8>>,
    /// `/.well-known/agent-card.json`; `None` when not served (no `agent_card.url`, or
    /// `well_known.agent_card: false`).
    pub agent_card: Option<AgentCard>,
    /// `contracts`, and `contract`: the one every inbound exchange is held to.
    pub contracts: crate::contract::Contracts,
    /// `moderation`: the service that scores toxicity and bias for contracts.
    pub moderation: Option<crate::contract::moderation::Moderation>,
    /// `gateway`: ACVPS gateway mode (client-chosen targets, their manifests).
    pub gateway: Option<crate::gateway::Gateway>,
    /// `control_plane`: where `contracts` are refreshed from.
    pub control_plane: Option<crate::control_plane::ControlPlane>,
    /// `attestation`: the protected agent's own record, served at
    /// `/.well-known/agent-attestation` (and inside the served manifest) as configured.
    pub attestation_json: Option<Vec<u8>>,
    /// The warning every request gets when the trust score is below the threshold.
    pub low_trust_warning: Option<String>,
    /// Things an operator should know about this configuration (rules that can never match,
    /// or always match). Logged once at configure time.
    pub notes: Vec<String>,
    /// `profiles`, by name (sorted): the policies a route picks with its `filter_metadata`
    /// (`iatp.profile`). Empty without `profiles`; a profile's own is empty.
    pub profiles: Vec<(String, Rc<Policy>)>,
    /// This policy's profile name; `None` for the configuration's base policy.
    pub profile: Option<String>,
}

impl Policy {
    /// This policy with another set of contracts (a control plane's), its profiles too (each
    /// keeps its own inbound `contract`): exchanges that started under the old one keep it
    /// (they hold their `Rc<Policy>`).
    pub fn with_contracts(&self, contracts: crate::contract::Contracts) -> Policy {
        Policy {
            profiles: self
                .profiles
                .iter()
                .map(|(name, p)| {
                    // The same set, with the profile's own inbound contract (`contract`).
                    let own = p.contracts.replaced(contracts.iter().cloned().collect());
                    (name.clone(), Rc::new(p.with_contracts(own)))
                })
                .collect(),
            contracts,
            ..self.clone()
        }
    }

    /// The profile a route names (its `filter_metadata` `iatp.profile`, as Envoy gives it).
    pub fn profile_named(&self, name: &[u8]) -> Option<&Rc<Policy>> {
        self.profiles
            .iter()
            .find(|(n, _)| n.as_bytes() == name)
            .map(|(_, p)| p)
    }

    /// Every detector kind some profile (or the base) runs: the detectors' metric series.
    pub fn detectors_of_every_profile(&self) -> crate::detect::KindSet {
        self.profiles
            .iter()
            .fold(self.scanner.enabled(), |set, (_, p)| {
                set.union(p.scanner.enabled())
            })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict<'p> {
    Allow,
    /// 449: the caller must confirm.
    Warn(Vec<&'p str>),
    /// The caller confirmed (its override token, or the legacy `true`): forwarded, quarantined.
    Override(Vec<&'p str>),
    /// 403 by this rule.
    Block(&'p Rule),
    /// 403: the caller may not do this action (`policy.actions`).
    Deny(Denied<'p>),
}

registry! {
    /// What the policy says about a request: the `result` label of
    /// `iatp_policy_evaluations_total` and the value of `X-Agent-Policy` in monitor mode.
    pub enum PolicyResult: &'static str {
        Allow => "allow",
        Warn => "warn",
        Block => "block",
        Override => "override",
        /// An action of `policy.actions` the caller may not do (its tier, or not permitted).
        Deny => "deny",
        /// The caller's token bucket is empty.
        RateLimited => "rate_limited",
    }
}

registry! {
    /// What the filter did with an evaluated request: the `decision` label of
    /// `iatp_requests_total`. The policy's result when enforcing; `Monitor` when the request
    /// was forwarded unchanged because the filter only monitors.
    pub enum Decision: &'static str {
        Allow => "allow",
        Warn => "warn",
        Block => "block",
        Override => "override",
        Monitor => "monitor",
        Deny => "deny",
        RateLimited => "rate_limited",
    }
}

impl PolicyResult {
    pub const fn as_str(self) -> &'static str {
        self.spec()
    }
}

impl Decision {
    pub const fn as_str(self) -> &'static str {
        self.spec()
    }

    /// What the filter does with a policy result in `mode`. The one place where monitor mode
    /// turns a decision into "forward unchanged".
    pub const fn of(result: PolicyResult, mode: Mode) -> Decision {
        match (mode, result) {
            (Mode::Monitor, _) => Decision::Monitor,
            (Mode::Enforce, PolicyResult::Allow) => Decision::Allow,
            (Mode::Enforce, PolicyResult::Warn) => Decision::Warn,
            (Mode::Enforce, PolicyResult::Block) => Decision::Block,
            (Mode::Enforce, PolicyResult::Override) => Decision::Override,
            (Mode::Enforce, PolicyResult::Deny) => Decision::Deny,
            (Mode::Enforce, PolicyResult::RateLimited) => Decision::RateLimited,
        }
    }
}

impl Verdict<'_> {
    pub fn result(&self) -> PolicyResult {
        match self {
            Verdict::Allow => PolicyResult::Allow,
            Verdict::Warn(_) => PolicyResult::Warn,
            Verdict::Override(_) => PolicyResult::Override,
            Verdict::Block(_) => PolicyResult::Block,
            Verdict::Deny(_) => PolicyResult::Deny,
        }
    }
}

impl Policy {
    /// What the request's headers already decide (`facts` with a body still to come, see
    /// [`Facts::body_pending`]), or `None` when the body must be seen. A block rule the headers
    /// alone match blocks (the first such rule: an earlier one the body could still make
    /// match would block too). Otherwise warnings the headers alone make certain (the trust
    /// score, warn rules they match) are a warning now: a warned request is not forwarded
    /// unless overridden, and whatever the body adds is evaluated on the whole request.
    pub fn verdict_so_far(&self, facts: &Facts, caller: Option<&Caller>) -> Option<Verdict<'_>> {
        // Actions the headers already match: refused now if the caller may not do them.
        let matched = self.actions.matched_by(|c| c.decided(facts) == Some(true));
        if let Some(Err(denied)) = caller.map(|c| self.actions.authorize_opt(c, matched)) {
            return Some(Verdict::Deny(denied));
        }
        if let Some(rule) = self
            .request_rules()
            .find(|r| r.action == RuleAction::Block && r.cond.decided(facts) == Some(true))
            .or_else(|| self.response_block_certain(facts))
        {
            return Some(Verdict::Block(rule));
        }
        let warnings = self.warnings(|r| r.cond.decided(facts) == Some(true));
        (!warnings.is_empty()).then_some(Verdict::Warn(warnings))
    }

    /// The actions (`policy.actions`) first: one the caller may not do is refused; then block
    /// rules (the first that matches), then warnings. `matched` is
    /// `self.actions.matched(facts)` (the exchange computes it first, for the `action`
    /// variable). Never an override: whether the caller may override is the exchange's to
    /// decide (`overrides`).
    pub fn evaluate_with(
        &self,
        facts: &Facts,
        caller: Option<&Caller>,
        matched: ActionSet,
    ) -> Verdict<'_> {
        if let Some(Err(denied)) = caller.map(|c| self.actions.authorize_opt(c, matched)) {
            return Verdict::Deny(denied);
        }
        if let Some(rule) = self
            .request_rules()
            .find(|r| r.action == RuleAction::Block && r.cond.eval(facts))
            .or_else(|| self.response_block_certain(facts))
        {
            return Verdict::Block(rule);
        }
        let warnings = self.warnings(|r| r.cond.eval(facts));
        if warnings.is_empty() {
            Verdict::Allow
        } else {
            Verdict::Warn(warnings)
        }
    }

    /// [`Policy::evaluate_with`] without a caller: the rules alone.
    pub fn evaluate(&self, facts: &Facts) -> Verdict<'_> {
        self.evaluate_with(facts, None, ActionSet::NONE)
    }

    /// The low-trust warning and the message of every warn rule `matches` says yes to.
    fn warnings(&self, matches: impl Fn(&Rule) -> bool) -> Vec<&str> {
        let mut warnings: Vec<&str> = Vec::new();
        if let Some(w) = &self.low_trust_warning {
            warnings.push(w);
        }
        warnings.extend(
            self.request_rules()
                .filter(|r| r.action == RuleAction::Warn && matches(r))
                .map(|r| r.message.as_str()),
        );
        warnings
    }

    /// Whether a warning can be overridden at all: allowed, and a key (or the legacy form).
    pub fn overrides_possible(&self) -> bool {
        self.allow_override && (self.override_key.is_some() || self.legacy_override)
    }
}

impl Policy {
    /// The first `redact` rule that matches: a forwarded body is rewritten when there is one.
    pub fn redaction(&self, facts: &Facts) -> Option<&Rule> {
        self.request_rules()
            .find(|r| r.action == RuleAction::Redact && r.cond.eval(facts))
    }

    /// Whether any request rule can redact (so the scan must keep every span of the body).
    pub fn may_redact(&self) -> bool {
        self.request_rules()
            .any(|r| r.action == RuleAction::Redact && r.cond.constant() != Some(false))
    }

    /// A response `block` rule the request already makes certain, whatever the response holds
    /// (`has_credit_card || response_has_credit_card` with a card in the request): it blocks
    /// the request, before anything reaches the agent. Read with the request's facts as a
    /// lower bound ([`Facts::body_pending`]), so that only a certain match blocks.
    fn response_block_certain(&self, facts: &Facts) -> Option<&Rule> {
        let pending = facts.body_pending();
        self.response_rules()
            .find(|r| r.action == RuleAction::Block && r.cond.decided(&pending) == Some(true))
    }

    /// The rules decided on the request.
    pub fn request_rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| !r.on_response)
    }

    /// The rules decided on the response.
    pub fn response_rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.on_response)
    }

    /// What the response rules say about the response so far (`facts` has the request's
    /// values and [`Facts::with_response`]): the first block rule that matches, else the
    /// first redact rule that matches.
    pub fn response_verdict(&self, facts: &Facts) -> ResponseVerdict<'_> {
        if let Some(rule) = self
            .response_rules()
            .find(|r| r.action == RuleAction::Block && r.cond.eval(facts))
        {
            return ResponseVerdict::Block(rule);
        }
        match self
            .response_rules()
            .find(|r| r.action == RuleAction::Redact && r.cond.eval(facts))
        {
            Some(rule) => ResponseVerdict::Redact(rule),
            None => ResponseVerdict::Allow,
        }
    }

    /// Whether any response rule can redact (so a stream's values must be kept to be
    /// replaced, and a buffered response's `content-length` may change).
    pub fn may_redact_responses(&self) -> bool {
        self.response_rules()
            .any(|r| r.action == RuleAction::Redact && r.cond.constant() != Some(false))
    }
}
