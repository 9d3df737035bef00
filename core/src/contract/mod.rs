//! Contracts: the ACVPS envelope a response must stay within (`contracts`, `contract` and
//! `moderation` in the configuration; see `config/contracts.rs` for the keys). A contract
//! names what is measured (`feature_extractors`) and the bounds (`envelope`): at most this
//! `pii_risk` ([`pii`]), at most so many findings of a detector, none of the denied terms
//! ([`terms`]), at most this toxicity and bias as the moderation service scores them
//! ([`moderation`]).
//!
//! The exchange measures, fills a [`Found`], and asks [`Envelope::check`] which bounds are
//! exceeded ([`Exceeded`]): each names the bound, its limit and the measured value, never what
//! was matched (a denied term is named by its index, `denied_terms[2]`: the term itself may be
//! the secret).

pub mod moderation;
pub mod pii;
pub mod terms;

use std::fmt;

use serde::ser::{Serialize, Serializer};

use crate::detect::{Kind, KindSet, MAX_KINDS};
use moderation::Scores;
use terms::DeniedTerms;

/// Most contracts in `contracts`.
pub const MAX_CONTRACTS: usize = 1000;
/// Longest contract id, service name, tenant id, target endpoint (bytes).
pub const MAX_ID_BYTES: usize = 256;

/// The configured contracts, and the one that applies to inbound exchanges (`contract`).
#[derive(Debug, Clone, Default)]
pub struct Contracts {
    all: Vec<Contract>,
    /// Indexes of `all`, sorted by id (lookup by binary search).
    by_id: Vec<u16>,
    /// `contract`: the index of the contract every inbound exchange is held to.
    inbound: Option<u16>,
}

impl Contracts {
    /// Another set (a control plane's) with the same inbound contract, found by its id.
    pub fn replaced(&self, all: Vec<Contract>) -> Contracts {
        let id = self.inbound().map(|c| c.id.clone());
        let inbound = id.and_then(|id| all.iter().position(|c| c.id == id));
        Contracts::new(all, inbound)
    }
}

impl Contracts {
    /// `all` in configuration order, ids unique (the configuration checks), at most
    /// [`MAX_CONTRACTS`]; `inbound` an index of `all`.
    pub(crate) fn new(all: Vec<Contract>, inbound: Option<usize>) -> Contracts {
        let all: Vec<Contract> = all.into_iter().take(MAX_CONTRACTS).collect();
        let mut by_id: Vec<u16> = (0..all.len())
            .filter_map(|i| u16::try_from(i).ok())
            .collect();
        by_id.sort_by(|a, b| {
            let id = |i: &u16| all.get(usize::from(*i)).map(|c| c.id.as_str());
            id(a).cmp(&id(b))
        });
        Contracts {
            inbound: inbound
                .filter(|i| *i < all.len())
                .and_then(|i| u16::try_from(i).ok()),
            all,
            by_id,
        }
    }

    /// The contract with this id (exact, case-sensitive).
    pub fn get(&self, id: &str) -> Option<&Contract> {
        self.index_of(id).and_then(|i| self.all.get(i))
    }

    /// The contract an `X-Contract-ID` header value names: its exact bytes (Envoy has
    /// trimmed the optional white space around a header value, RFC 9110 §5.5), no case folding
    /// (ids such as `groq-llm/ai/us/v1.0` are case-sensitive). `None` for an unknown id.
    pub fn by_header(&self, value: &[u8]) -> Option<&Contract> {
        std::str::from_utf8(value).ok().and_then(|id| self.get(id))
    }

    /// The contract every inbound exchange is held to (`contract`).
    pub fn inbound(&self) -> Option<&Contract> {
        self.inbound.and_then(|i| self.all.get(usize::from(i)))
    }

    /// The index (in configuration order) of the contract with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id
            .binary_search_by(|i| {
                self.all
                    .get(usize::from(*i))
                    .map_or("", |c| c.id.as_str())
                    .cmp(id)
            })
            .ok()
            .and_then(|p| self.by_id.get(p))
            .map(|i| usize::from(*i))
    }

    /// The contract at `index` (in configuration order).
    pub fn at(&self, index: usize) -> Option<&Contract> {
        self.all.get(index)
    }

    /// In configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &Contract> {
        self.all.iter()
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// Whether some contract needs the moderation service.
    pub fn need_moderation(&self) -> bool {
        self.all.iter().any(Contract::needs_moderation)
    }
}

/// One contract (ACVPS): who it is for, what is measured, and the bounds.
#[derive(Debug, Clone)]
pub struct Contract {
    /// `id`: 1 to 256 visible ASCII characters, unique (`groq-llm/ai/us/v1.0`).
    pub id: String,
    /// `service_name`, `tenant_id`: descriptive, kept for events.
    pub service_name: Option<String>,
    pub tenant_id: Option<String>,
    /// `target_endpoint`: the ACVPS fallback destination, used in gateway mode when a request
    /// has no `X-Target-Endpoint` (validated as a target URL when the configuration loads).
    pub target_endpoint: Option<String>,
    /// `allowed_targets`: where gateway mode may send data under this contract.
    pub allowed_targets: crate::target::AllowedTargets,
    /// `certificates[].id`: the ACVPS digital certificates (DC) registered for this contract.
    /// When there are any, a gateway request must present one in `X-DC-Id`, with the
    /// contract's digest in `X-DC-Digest`.
    pub certificates: Vec<String>,
    /// The contract's canonical JSON (RFC 8785) as configured or sent by the control plane:
    /// what [`Contract::digest`] is the hash of, served at
    /// `/.well-known/acvps/contracts/<id>`.
    pub canonical: Vec<u8>,
    /// `sha256:` and the lower-case hex SHA-256 of [`Contract::canonical`]: the value
    /// `X-DC-Digest` must carry.
    pub digest: String,
    /// The SHA-256 itself, for the constant-time comparison.
    pub sha256: [u8; 32],
    pub envelope: Envelope,
}

impl Contract {
    /// Whether checking this contract calls the moderation service (a toxicity or bias
    /// feature extractor on).
    pub fn needs_moderation(&self) -> bool {
        self.envelope.toxicity || self.envelope.bias
    }
}

/// A contract's bounds, and which of them are measured.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `feature_extractors.pii_detector.enabled` (default true): `pii_risk` and `findings`
    /// are checked.
    pub pii: bool,
    /// `feature_extractors.toxicity_detector.enabled` (default: when `toxicity_score` is
    /// bounded): the moderation service is called and `toxicity_score` checked.
    pub toxicity: bool,
    /// Same for `bias_detector` and `bias_score`.
    pub bias: bool,
    /// `pii_risk.max`, 0.0 to 1.0.
    pub pii_risk: Option<f64>,
    /// Each detector's weight in `pii_risk`, by kind index (built-ins by category, custom
    /// 1.0, and the contract's `pii_risk.weights`).
    pub weights: Vec<f64>,
    /// `findings`: at most `max` values of a detector, in name order.
    pub findings: Vec<FindingsBound>,
    pub denied_terms: DeniedTerms,
    /// `toxicity_score.max`, `bias_score.max`, 0.0 to 1.0.
    pub toxicity_score: Option<f64>,
    pub bias_score: Option<f64>,
}

/// `envelope.findings.<detector>.max`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingsBound {
    pub kind: Kind,
    /// The detector's name (for [`Bound::Findings`]).
    pub name: String,
    pub max: u64,
}

/// How many values of each kind a scan found. `detect::Findings` keeps the kinds and one
/// total, not counts per kind: the exchange adds each value as the scan reports it
/// (`Scanner::scan`'s `on_match`), with [`Counts::add`]. Inline, no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    n: [u32; MAX_KINDS],
    kinds: KindSet,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            n: [0; MAX_KINDS],
            kinds: KindSet::default(),
        }
    }
}

impl Counts {
    /// One more value of `kind`.
    pub fn add(&mut self, kind: Kind) {
        if let Some(c) = self.n.get_mut(kind.index()) {
            *c = c.saturating_add(1);
            self.kinds = self.kinds.with(kind);
        }
    }

    pub fn get(&self, kind: Kind) -> u32 {
        self.n.get(kind.index()).copied().unwrap_or(0)
    }

    /// The kinds with at least one value.
    pub fn kinds(&self) -> KindSet {
        self.kinds
    }

    /// All values, all kinds together.
    pub fn total(&self) -> u64 {
        self.n.iter().map(|c| u64::from(*c)).sum()
    }
}

/// What was measured on one exchange, for [`Envelope::check`].
#[derive(Debug, Clone, Copy)]
pub struct Found<'f> {
    /// Values found per detector (in the response, or what the contract is checked on).
    pub counts: &'f Counts,
    /// The first denied term found ([`DeniedTerms::find`]), by index.
    pub denied_term: Option<usize>,
    /// The moderation service's scores; `None` when it was not called or failed (see
    /// [`moderation::Moderated`]: a failure under `fail: closed` refuses by itself, under
    /// `fail: open` the toxicity and bias bounds go unchecked).
    pub moderation: Option<&'f Scores>,
}

/// Which bound. Serialized and displayed as its key under `envelope`: `pii_risk`,
/// `findings.credit_card`, `denied_terms[2]`, `toxicity_score`, `bias_score`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound<'c> {
    PiiRisk,
    Findings(&'c str),
    DeniedTerm(usize),
    ToxicityScore,
    BiasScore,
}

impl fmt::Display for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::PiiRisk => f.write_str("pii_risk"),
            Bound::Findings(name) => write!(f, "findings.{name}"),
            Bound::DeniedTerm(i) => write!(f, "denied_terms[{i}]"),
            Bound::ToxicityScore => f.write_str("toxicity_score"),
            Bound::BiasScore => f.write_str("bias_score"),
        }
    }
}

impl Serialize for Bound<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A limit or a measured value: a count (findings, denied terms found) or a score (0.0 to
/// 1.0). Serialized as a bare JSON number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    Count(u64),
    Score(f64),
}

impl Serialize for Measure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Measure::Count(n) => s.serialize_u64(*n),
            Measure::Score(x) => s.serialize_f64(*x),
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Measure::Count(n) => write!(f, "{n}"),
            Measure::Score(x) => write!(f, "{x}"),
        }
    }
}

/// One bound exceeded: `{"bound": "findings.credit_card", "limit": 0, "value": 2}`. A denied
/// term found is `{"bound": "denied_terms[2]", "limit": 0, "value": 1}`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Exceeded<'c> {
    pub bound: Bound<'c>,
    pub limit: Measure,
    pub value: Measure,
}

impl fmt::Display for Exceeded<'_> {
    /// `findings.credit_card: 2 > 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} > {}", self.bound, self.value, self.limit)
    }
}

/// A contract broken: for the 403 body and the event, `{"contract": "pii-strict/v1",
/// "exceeded": [...]}`. The id is the operator's (visible ASCII, checked at load).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Violation<'c> {
    pub contract: &'c str,
    pub exceeded: Vec<Exceeded<'c>>,
}

impl Violation<'_> {
    /// `contract 'pii-strict/v1' exceeded: findings.credit_card: 2 > 0; denied_terms[0]: 1 > 0`
    /// (a reply's message: no value, no term).
    pub fn message(&self) -> String {
        let parts: Vec<String> = self.exceeded.iter().map(ToString::to_string).collect();
        format!(
            "contract '{}' exceeded: {}",
            self.contract,
            parts.join("; ")
        )
    }
}

impl Contract {
    /// The bounds `found` exceeds, as a [`Violation`]; `None` when it is within them.
    pub fn check<'c>(&'c self, found: &Found) -> Option<Violation<'c>> {
        let exceeded = self.envelope.check(found);
        (!exceeded.is_empty()).then_some(Violation {
            contract: &self.id,
            exceeded,
        })
    }
}

impl Envelope {
    /// `pii_risk` of a set of kinds found: the highest weight among them, 0.0 for none (see
    /// [`pii`]).
    pub fn pii_risk(&self, kinds: KindSet) -> f64 {
        kinds
            .iter()
            .filter_map(|k| self.weights.get(k.index()).copied())
            .fold(0.0, f64::max)
    }

    /// The bounds `found` exceeds, in the order `pii_risk`, `findings` (by detector name),
    /// `denied_terms`, `toxicity_score`, `bias_score`. Bounds whose feature extractor is off
    /// are not checked, nor the moderation bounds without scores.
    pub fn check(&self, found: &Found) -> Vec<Exceeded<'_>> {
        let mut out = Vec::new();
        if self.pii {
            if let Some(max) = self.pii_risk {
                let risk = self.pii_risk(found.counts.kinds());
                if risk > max {
                    out.push(Exceeded {
                        bound: Bound::PiiRisk,
                        limit: Measure::Score(max),
                        value: Measure::Score(risk),
                    });
                }
            }
            for b in &self.findings {
                let n = u64::from(found.counts.get(b.kind));
                if n > b.max {
                    out.push(Exceeded {
                        bound: Bound::Findings(&b.name),
                        limit: Measure::Count(b.max),
                        value: Measure::Count(n),
                    });
                }
            }
        }
        if let Some(i) = found.denied_term.filter(|i| *i < self.denied_terms.len()) {
            out.push(Exceeded {
                bound: Bound::DeniedTerm(i),
                limit: Measure::Count(0),
                value: Measure::Count(1),
            });
        }
        if let Some(s) = found.moderation {
            let scored = [
                (
                    self.toxicity,
                    self.toxicity_score,
                    s.toxicity_score,
                    Bound::ToxicityScore,
                ),
                (self.bias, self.bias_score, s.bias_score, Bound::BiasScore),
            ];
            for (on, max, value, bound) in scored {
                if let Some(max) = max.filter(|m| on && value > *m) {
                    out.push(Exceeded {
                        bound,
                        limit: Measure::Score(max),
                        value: Measure::Score(value),
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
