//! The `callers` directory, compiled: which entry a caller's identity matches, and what the
//! caller gets from it.
//!
//! Entries are tried in order, only those of the identity's source (an entry's `match` uses
//! one source), and the first that matches wins. Exact SPIFFE IDs, `(issuer, subject)` pairs
//! and header values are looked up in hash maps; SPIFFE prefixes, trust domains and JWT
//! matches with claims (or without a subject) are scanned in order, only those before the
//! exact candidate, so the lowest index among all candidates wins as in a plain scan.

use std::collections::HashMap;
use std::sync::Arc;

use super::claims::Claims;
use super::ratelimit::{BucketKey, Limit};
use super::spiffe::{SpiffeId, SpiffePrefix};
use super::{ActionSet, Caller, Source, MAX_HEADER_ID_BYTES, MAX_TIER};
use crate::manifest::TrustLevel;
use crate::trust;

/// The default's name, when `callers.default.name` is not given.
pub const DEFAULT_CALLER_NAME: &str = "anonymous";

/// Where identities are read from (`callers.sources`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// Read the peer certificate's SPIFFE ID (default true).
    pub spiffe: bool,
    /// Read the JWT payload `jwt_authn` put in dynamic metadata; `None`: never.
    pub jwt: Option<JwtSource>,
    /// The header naming the caller (lower-case); `None`: never.
    pub header: Option<String>,
}

impl Default for Sources {
    fn default() -> Self {
        Sources {
            spiffe: true,
            jwt: None,
            header: None,
        }
    }
}

/// Where `jwt_authn` puts the verified payload: `metadata.filter_metadata[<namespace>][<key>]`
/// (its `payload_in_metadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSource {
    pub metadata_namespace: String,
    pub payload_key: String,
}

/// What an entry (or the default) gives a caller; `None`: not said (see [`Directory`] for
/// what applies then).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub trust_level: Option<TrustLevel>,
    pub tier: Option<u8>,
    pub permitted: Option<ActionSet>,
    pub rate_limit: Option<Limit>,
}

/// What one entry matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    SpiffeId(String),
    SpiffeIdPrefix(SpiffePrefix),
    SpiffeTrustDomain(String),
    /// A JWT of this issuer; with this subject, if given; whose claims say each value (see
    /// `ClaimValue::says`).
    Jwt {
        issuer: String,
        subject: Option<String>,
        claims: Vec<(String, String)>,
    },
    HeaderValue(String),
}

impl Match {
    /// Whether it matches one identity only (an exact SPIFFE ID, a JWT issuer and subject
    /// with no claims, a header value): such an entry's caller gets a bucket of its own.
    pub fn is_exact(&self) -> bool {
        match self {
            Match::SpiffeId(_) | Match::HeaderValue(_) => true,
            Match::Jwt {
                subject: Some(_),
                claims,
                ..
            } => claims.is_empty(),
            Match::SpiffeIdPrefix(_) | Match::SpiffeTrustDomain(_) | Match::Jwt { .. } => false,
        }
    }

    pub fn source(&self) -> Source {
        match self {
            Match::SpiffeId(_) | Match::SpiffeIdPrefix(_) | Match::SpiffeTrustDomain(_) => {
                Source::Spiffe
            }
            Match::Jwt { .. } => Source::Jwt,
            Match::HeaderValue(_) => Source::Header,
        }
    }
}

/// One entry of `callers.directory`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: Arc<str>,
    pub matcher: Match,
    pub profile: Profile,
}

/// The compiled `callers` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Directory {
    sources: Sources,
    entries: Vec<Entry>,
    spiffe_exact: HashMap<String, usize>,
    spiffe_scan: Vec<usize>,
    /// issuer → subject → entry.
    jwt_exact: HashMap<String, HashMap<String, usize>>,
    jwt_scan: Vec<usize>,
    header_exact: HashMap<String, usize>,
    default_name: Arc<str>,
    /// The default's position in [`Directory::names`], found once: a caller that no entry
    /// names is counted under it on every request.
    default_slot: usize,
    default_trust_level: TrustLevel,
    default_tier: u8,
    default_permitted: Option<ActionSet>,
    /// The default's `rate_limit`, else the manifest's.
    default_rate_limit: Option<Limit>,
    tier_claim: Option<String>,
    permitted_actions_claim: Option<String>,
    /// `policy.actions` names → index, for the permitted-actions claim.
    action_index: HashMap<String, usize>,
}

/// The default caller's profile (`callers.default`), every part filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultCaller {
    pub name: Arc<str>,
    pub trust_level: TrustLevel,
    pub tier: u8,
    pub permitted: Option<ActionSet>,
    pub rate_limit: Option<Limit>,
}

impl DefaultCaller {
    /// `anonymous`, `unknown`, tier 0, every action, the manifest's limit (if any).
    pub fn anonymous(rate_limit: Option<Limit>) -> DefaultCaller {
        DefaultCaller {
            name: DEFAULT_CALLER_NAME.into(),
            trust_level: TrustLevel::Unknown,
            tier: 0,
            permitted: None,
            rate_limit,
        }
    }
}

/// Two entries with the same exact match: the later could never match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shadowed {
    pub entry: usize,
    pub by: usize,
}

/// The parts of a [`Directory`] (validated by the configuration's compile step).
#[derive(Debug, Clone)]
pub struct DirectoryParts {
    pub sources: Sources,
    pub entries: Vec<Entry>,
    pub default: DefaultCaller,
    pub tier_claim: Option<String>,
    pub permitted_actions_claim: Option<String>,
    /// `policy.actions`, by name and index.
    pub action_names: Vec<String>,
}

impl Default for Directory {
    fn default() -> Self {
        Directory::empty(None)
    }
}

impl Directory {
    /// No `callers` section: SPIFFE peers are told apart, everyone else is anonymous; `limit`
    /// is the manifest's.
    pub fn empty(limit: Option<Limit>) -> Directory {
        let built = Directory::build(DirectoryParts {
            sources: Sources::default(),
            entries: Vec::new(),
            default: DefaultCaller::anonymous(limit),
            tier_claim: None,
            permitted_actions_claim: None,
            action_names: Vec::new(),
        });
        built.unwrap_or_else(|_| Directory {
            sources: Sources::default(),
            entries: Vec::new(),
            spiffe_exact: HashMap::new(),
            spiffe_scan: Vec::new(),
            jwt_exact: HashMap::new(),
            jwt_scan: Vec::new(),
            header_exact: HashMap::new(),
            default_name: DEFAULT_CALLER_NAME.into(),
            default_slot: 0,
            default_trust_level: TrustLevel::Unknown,
            default_tier: 0,
            default_permitted: None,
            default_rate_limit: limit,
            tier_claim: None,
            permitted_actions_claim: None,
            action_index: HashMap::new(),
        })
    }

    /// The directory of `parts`, or the first entry an earlier one shadows (the same exact
    /// SPIFFE ID, issuer and subject, or header value).
    pub fn build(parts: DirectoryParts) -> Result<Directory, Shadowed> {
        let mut d = Directory {
            sources: parts.sources,
            entries: Vec::with_capacity(parts.entries.len()),
            spiffe_exact: HashMap::new(),
            spiffe_scan: Vec::new(),
            jwt_exact: HashMap::new(),
            jwt_scan: Vec::new(),
            header_exact: HashMap::new(),
            default_name: parts.default.name,
            default_slot: 0,
            default_trust_level: parts.default.trust_level,
            default_tier: parts.default.tier.min(MAX_TIER),
            default_permitted: parts.default.permitted,
            default_rate_limit: parts.default.rate_limit,
            tier_claim: parts.tier_claim,
            permitted_actions_claim: parts.permitted_actions_claim,
            action_index: parts
                .action_names
                .into_iter()
                .enumerate()
                .map(|(i, n)| (n, i))
                .collect(),
        };
        for (i, e) in parts.entries.into_iter().enumerate() {
            let earlier = match &e.matcher {
                Match::SpiffeId(id) => insert(&mut d.spiffe_exact, id, i),
                Match::SpiffeIdPrefix(_) | Match::SpiffeTrustDomain(_) => {
                    d.spiffe_scan.push(i);
                    None
                }
                Match::Jwt {
                    issuer,
                    subject: Some(subject),
                    claims,
                } if claims.is_empty() => {
                    insert(d.jwt_exact.entry(issuer.clone()).or_default(), subject, i)
                }
                Match::Jwt { .. } => {
                    d.jwt_scan.push(i);
                    None
                }
                Match::HeaderValue(v) => insert(&mut d.header_exact, v, i),
            };
            if let Some(by) = earlier {
                return Err(Shadowed { entry: i, by });
            }
            d.entries.push(e);
        }
        d.default_slot = d
            .names()
            .iter()
            .position(|n| *n == &*d.default_name)
            .unwrap_or(0);
        Ok(d)
    }

    /// Whether any caller can be rate limited (an entry's, the default's or the manifest's
    /// limit).
    pub fn has_rate_limit(&self) -> bool {
        self.default_rate_limit.is_some()
            || self.entries.iter().any(|e| e.profile.rate_limit.is_some())
    }

    /// The callers' names, each once, in directory order, then the default's: the values of
    /// the `caller` metric label. A caller's slot is [`Directory::name_slot`].
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::with_capacity(self.entries.len() + 1);
        // A set, not a search of the list: 10,000 entries are 10,000 names, checked in every
        // worker at every configure.
        let mut seen = std::collections::HashSet::with_capacity(self.entries.len() + 1);
        for name in self
            .entries
            .iter()
            .map(|e| &*e.name)
            .chain(std::iter::once(&*self.default_name))
        {
            if seen.insert(name) {
                names.push(name);
            }
        }
        names
    }

    /// The position of `caller`'s name in [`Directory::names`].
    pub fn name_slot(&self, caller: &Caller) -> usize {
        // Entries' names are unique (the configuration says so); the default's may repeat
        // one, and then shares its slot.
        caller.entry.unwrap_or(self.default_slot)
    }

    /// Where `caller`'s token bucket lives: a key of its own for an entry that matches one
    /// identity (so that no other identity can take its place: the shared slots can be
    /// crowded by identities a caller chooses, a declared header's or a partner CA's), else
    /// the identity's slots ([`Caller::bucket_key`]).
    pub fn bucket_key(&self, caller: &Caller) -> BucketKey {
        let key = caller.bucket_key();
        match caller.entry.and_then(|i| self.entries.get(i)) {
            Some(e) if e.matcher.is_exact() => key.dedicated(),
            _ => key,
        }
    }

    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The caller of a request, strongest source first:
    ///
    /// * `peer_uri_san`: Envoy's `connection.uri_san_peer_certificate` (the first URI SAN of
    ///   the peer certificate), when `sources.spiffe`; only a valid SPIFFE ID is an identity;
    /// * `jwt`: the verified payload's claims, when `sources.jwt` is set;
    /// * `header`: the value of `sources.header`, when set; only 1 to
    ///   [`MAX_HEADER_ID_BYTES`] visible ASCII bytes (0x21..=0x7E) are an identity: the id is
    ///   written into events and the `caller_id` variable, and hashed into a rate-limit key,
    ///   so control bytes, spaces, non-ASCII (which could pass for another name once
    ///   rendered) and unbounded lengths are refused as identities; such a caller is
    ///   anonymous;
    /// * else anonymous.
    pub fn resolve(
        &self,
        peer_uri_san: Option<&[u8]>,
        jwt: Option<Claims>,
        header: Option<&[u8]>,
    ) -> Caller {
        let claims = jwt.filter(|_| self.sources.jwt.is_some());
        if let Some(id) = peer_uri_san
            .filter(|_| self.sources.spiffe)
            .and_then(SpiffeId::from_bytes)
        {
            let entry = self.spiffe_entry(&id);
            return self.caller(
                entry,
                Source::Spiffe,
                id.as_str().to_string(),
                Some(id),
                String::new(),
                claims,
            );
        }
        if let Some(c) = claims {
            let issuer = c.str("iss").unwrap_or("").to_string();
            let subject = c.str("sub").unwrap_or("").to_string();
            let entry = self.jwt_entry(&issuer, &subject, &c);
            return self.caller(entry, Source::Jwt, subject, None, issuer, Some(c));
        }
        if let Some(value) = header
            .filter(|_| self.sources.header.is_some())
            .and_then(header_identity)
        {
            let entry = self.header_exact.get(value).copied();
            return self.caller(
                entry,
                Source::Header,
                value.to_string(),
                None,
                String::new(),
                None,
            );
        }
        self.caller(
            None,
            Source::Anonymous,
            String::new(),
            None,
            String::new(),
            None,
        )
    }

    fn spiffe_entry(&self, id: &SpiffeId) -> Option<usize> {
        let exact = self.spiffe_exact.get(id.as_str()).copied();
        let scanned = self
            .spiffe_scan
            .iter()
            .copied()
            .take_while(|&i| exact.is_none_or(|x| i < x))
            .find(|&i| match self.entries.get(i).map(|e| &e.matcher) {
                Some(Match::SpiffeIdPrefix(p)) => p.matches(id),
                Some(Match::SpiffeTrustDomain(td)) => td == id.trust_domain(),
                _ => false,
            });
        scanned.or(exact)
    }

    fn jwt_entry(&self, issuer: &str, subject: &str, claims: &Claims) -> Option<usize> {
        let exact = self
            .jwt_exact
            .get(issuer)
            .and_then(|subjects| subjects.get(subject))
            .copied();
        let scanned = self
            .jwt_scan
            .iter()
            .copied()
            .take_while(|&i| exact.is_none_or(|x| i < x))
            .find(|&i| match self.entries.get(i).map(|e| &e.matcher) {
                Some(Match::Jwt {
                    issuer: iss,
                    subject: sub,
                    claims: want,
                }) => {
                    iss == issuer
                        && sub.as_deref().is_none_or(|s| s == subject)
                        && want
                            .iter()
                            .all(|(k, v)| claims.get(k).is_some_and(|c| c.says(v)))
                }
                _ => false,
            });
        scanned.or(exact)
    }

    fn caller(
        &self,
        entry: Option<usize>,
        source: Source,
        id: String,
        spiffe_id: Option<SpiffeId>,
        issuer: String,
        claims: Option<Claims>,
    ) -> Caller {
        let e = entry.and_then(|i| self.entries.get(i));
        let profile = e.map(|e| &e.profile);
        let jwt_claims = claims.as_ref().filter(|_| source == Source::Jwt);
        let trust_level = profile
            .and_then(|p| p.trust_level)
            .unwrap_or(self.default_trust_level);
        let tier = profile
            .and_then(|p| p.tier)
            .or_else(|| {
                let name = self.tier_claim.as_deref()?;
                jwt_claims?.get(name)?.small_int(MAX_TIER)
            })
            .unwrap_or(self.default_tier);
        let permitted = profile
            .and_then(|p| p.permitted)
            .or_else(|| {
                let name = self.permitted_actions_claim.as_deref()?;
                match jwt_claims?.get(name)? {
                    super::ClaimValue::StrList(l) => {
                        Some(l.iter().fold(ActionSet::NONE, |s, n| {
                            self.action_index.get(&**n).map_or(s, |&i| s.with(i))
                        }))
                    }
                    _ => None,
                }
            })
            .or(self.default_permitted)
            .unwrap_or(ActionSet::ALL);
        Caller {
            entry: entry.filter(|_| e.is_some()),
            name: e.map_or_else(|| self.default_name.clone(), |e| e.name.clone()),
            source,
            id,
            spiffe_id,
            issuer,
            trust_level,
            tier,
            trust_score: u8::try_from(trust::base_score(trust_level).clamp(0, 10)).unwrap_or(0),
            permitted,
            rate_limit: profile
                .and_then(|p| p.rate_limit)
                .or(self.default_rate_limit),
            claims,
        }
    }
}

/// `map[key] = i` unless already there: the earlier index, if any.
fn insert(map: &mut HashMap<String, usize>, key: &str, i: usize) -> Option<usize> {
    match map.get(key) {
        Some(&earlier) => Some(earlier),
        None => {
            map.insert(key.to_string(), i);
            None
        }
    }
}

/// A header value that can be an identity (see [`Directory::resolve`]).
fn header_identity(v: &[u8]) -> Option<&str> {
    let ok = !v.is_empty()
        && v.len() <= MAX_HEADER_ID_BYTES
        && v.iter().all(|b| (0x21..=0x7e).contains(b));
    ok.then(|| std::str::from_utf8(v).ok()).flatten()
}
