//! Who is calling: the caller's identity (strongest source first: the SPIFFE ID of the TLS
//! peer, the claims of a JWT Envoy's `jwt_authn` verified, a declared header, else
//! anonymous), what the `callers` directory says about it (name, trust level, tier, permitted
//! actions, rate limit), whether it may do what it asks (actions and tiers, in Trust Gateway
//! V2's terms), and its token bucket ([`ratelimit`]).
//!
//! Everything here is pure: the glue reads Envoy's properties and shared data and hands the
//! bytes over.

pub(crate) mod claims;
mod directory;
pub mod ratelimit;
mod spiffe;

use std::sync::Arc;

#[cfg(test)]
pub(crate) use claims::encode as claims_encode;
pub use claims::{decode_struct, decode_value, ClaimValue, Claims, PbError};
pub use directory::{
    DefaultCaller, Directory, DirectoryParts, Entry, JwtSource, Match, Profile, Shadowed, Sources,
    DEFAULT_CALLER_NAME,
};
pub use spiffe::{is_trust_domain, SpiffeId, SpiffePrefix};

use crate::manifest::TrustLevel;
use crate::registry::registry;
use crate::rules::{Cond, Facts};
use ratelimit::{BucketKey, Limit};

/// The highest tier (tiers are `0..=MAX_TIER`).
pub const MAX_TIER: u8 = 9;
/// At most this many `policy.actions` (an [`ActionSet`] is a 64-bit set).
pub const MAX_ACTIONS: usize = 64;
/// A header value longer than this is no identity.
pub const MAX_HEADER_ID_BYTES: usize = 256;

registry! {
    /// Where the caller's identity comes from, strongest first: the `caller_source` rule
    /// variable and event field.
    pub enum Source: &'static str {
        /// The SPIFFE ID in the URI SAN of the downstream TLS peer's certificate.
        Spiffe => "spiffe",
        /// The claims of a JWT that Envoy's `jwt_authn` verified.
        Jwt => "jwt",
        /// The value of the header `callers.sources.header` declares.
        Header => "header",
        /// None of the above.
        Anonymous => "anonymous",
    }
}

impl Source {
    pub const fn as_str(self) -> &'static str {
        self.spec()
    }

    /// The names, in order (for the rule variable's closed set).
    pub const NAMES: [&'static str; 4] = ["spiffe", "jwt", "header", "anonymous"];
}

/// A set of actions, by their index in `policy.actions` (at most [`MAX_ACTIONS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActionSet(u64);

impl ActionSet {
    /// Every action (`"*"`, or nothing said).
    pub const ALL: ActionSet = ActionSet(u64::MAX);
    pub const NONE: ActionSet = ActionSet(0);

    pub fn with(self, index: usize) -> ActionSet {
        match u32::try_from(index).ok().and_then(|i| 1u64.checked_shl(i)) {
            Some(bit) => ActionSet(self.0 | bit),
            None => self,
        }
    }

    pub fn contains(self, index: usize) -> bool {
        u32::try_from(index)
            .ok()
            .and_then(|i| 1u64.checked_shl(i))
            .is_some_and(|bit| self.0 & bit != 0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The indices in the set, ascending.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..MAX_ACTIONS).filter(move |&i| self.contains(i))
    }
}

/// A resolved caller: its identity, and what the directory (or the default) says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The directory entry that matched (its index in `callers.directory`); `None`: the
    /// default.
    pub entry: Option<usize>,
    /// The entry's name, or the default's (`anonymous` unless configured).
    pub name: Arc<str>,
    pub source: Source,
    /// The identity: the SPIFFE ID, the JWT's `sub` (empty if it has none), the header
    /// value; empty when anonymous.
    pub id: String,
    /// The peer's SPIFFE ID (only with [`Source::Spiffe`]).
    pub spiffe_id: Option<SpiffeId>,
    /// The JWT's `iss` (only with [`Source::Jwt`]; empty if it has none).
    pub issuer: String,
    pub trust_level: TrustLevel,
    /// `0..=MAX_TIER`.
    pub tier: u8,
    /// `trust::base_score(trust_level)`, 0..10.
    pub trust_score: u8,
    pub permitted: ActionSet,
    /// `None`: not limited.
    pub rate_limit: Option<Limit>,
    /// The verified claims of the request's JWT, whatever the identity's source (for
    /// `claim('name')`); `None` without one, or when `callers.sources.jwt` is not set.
    pub claims: Option<Claims>,
}

impl Caller {
    /// The trust domain of the SPIFFE ID, or empty.
    pub fn trust_domain(&self) -> &str {
        self.spiffe_id.as_ref().map_or("", SpiffeId::trust_domain)
    }

    /// The SPIFFE ID, or empty.
    pub fn spiffe_id_str(&self) -> &str {
        self.spiffe_id.as_ref().map_or("", SpiffeId::as_str)
    }

    /// A claim of the request's JWT.
    pub fn claim(&self, name: &str) -> Option<&ClaimValue> {
        self.claims.as_ref().and_then(|c| c.get(name))
    }

    /// The caller's token bucket: per identity (source and id), not per directory entry, so
    /// that the callers one entry matches (a trust domain, a prefix) do not share one bucket.
    /// Anonymous callers share one.
    pub fn bucket_key(&self) -> BucketKey {
        BucketKey::of(self.source, &self.id)
    }
}

registry! {
    /// Why an action was refused: Trust Gateway V2's batch authorization `reason`s.
    pub enum DenyReason: &'static str {
        /// The action is not among the caller's permitted actions.
        NotPermitted => "Action not permitted",
        /// The caller's tier is below the action's `required_tier`.
        InsufficientTier => "Insufficient trust tier",
    }
}

impl DenyReason {
    pub const fn as_str(self) -> &'static str {
        self.spec()
    }
}

/// An action refused to a caller, in Trust Gateway V2's words (`current_tier`,
/// `required_tier`, `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied<'a> {
    pub action: &'a str,
    pub required_tier: u8,
    pub current_tier: u8,
    pub reason: DenyReason,
}

/// One of `policy.actions`: a named condition, and the tier it requires.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub name: String,
    pub when: Cond,
    pub required_tier: u8,
}

/// `policy.actions`, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Actions {
    list: Vec<Action>,
}

impl Actions {
    /// At most [`MAX_ACTIONS`] (more are ignored; the configuration refuses them).
    pub fn new(mut list: Vec<Action>) -> Actions {
        list.truncate(MAX_ACTIONS);
        Actions { list }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Action> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.list.iter().position(|a| a.name == name)
    }

    /// The actions whose condition matches the request.
    pub fn matched(&self, facts: &Facts) -> ActionSet {
        self.matched_by(|c| c.eval(facts))
    }

    /// The actions whose condition `holds` says yes to (on the headers: those the headers
    /// already decide, `Cond::decided`).
    pub fn matched_by(&self, holds: impl Fn(&Cond) -> bool) -> ActionSet {
        self.list
            .iter()
            .enumerate()
            .filter(|(_, a)| holds(&a.when))
            .fold(ActionSet::NONE, |s, (i, _)| s.with(i))
    }

    /// [`Actions::authorize`], at no cost when no action is configured or matched.
    pub fn authorize_opt(&self, caller: &Caller, matched: ActionSet) -> Result<(), Denied<'_>> {
        if matched.is_empty() {
            return Ok(());
        }
        self.authorize(caller, matched)
    }

    /// The name of the first action of `set` (the `action` rule variable), or `""`.
    pub fn first_name(&self, set: ActionSet) -> &str {
        set.iter()
            .next()
            .and_then(|i| self.list.get(i))
            .map_or("", |a| a.name.as_str())
    }

    /// Whether `caller` may do every action of `matched`: each must be permitted to it, and
    /// its tier at least the action's `required_tier`. The first refused action (in
    /// configuration order) says why; "not permitted" is checked before the tier.
    pub fn authorize(&self, caller: &Caller, matched: ActionSet) -> Result<(), Denied<'_>> {
        for i in matched.iter() {
            let Some(a) = self.list.get(i) else { continue };
            let reason = if !caller.permitted.contains(i) {
                DenyReason::NotPermitted
            } else if caller.tier < a.required_tier {
                DenyReason::InsufficientTier
            } else {
                continue;
            };
            return Err(Denied {
                action: &a.name,
                required_tier: a.required_tier,
                current_tier: caller.tier,
                reason,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
