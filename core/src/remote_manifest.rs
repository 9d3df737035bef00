//! A target's published manifest (`GET /.well-known/agent-manifest`), read leniently: it is
//! data from the internet, not configuration, so members this reader does not use are ignored
//! whatever they hold, `null` is "not said", and only what the gateway needs is kept, as a
//! small [`Summary`] that the manifest cache (`manifest_cache`) stores.
//!
//! **Shapes.** Both shapes [`crate::manifest`] knows are read, and a document holding both
//! (what this filter serves itself, `Manifest::to_well_known`) too, as long as the two say
//! the same thing:
//!
//! | field | IATP shape | reference SDK (`CapabilityManifest.model_dump()`) | absent |
//! |---|---|---|---|
//! | agent id | `identity.agent_id` | `agent_id` | refused |
//! | trust level | `trust_level` | `trust_level` | `standard` (both shapes' default) |
//! | reversibility | `reversibility.level` | `capabilities.reversibility` | `none` |
//! | retention | `privacy.retention` (or `privacy.retention_policy`) | `privacy_contract.retention` | not said: scored as `permanent` |
//! | human in the loop | `privacy.human_in_loop` | `privacy_contract.human_review` | `false` |
//! | training consent | `privacy.training_consent` | — | `false` |
//! | attestation | `attestation` (the SDK's sidecar embeds its `AttestationRecord`) | same | none |
//!
//! The SDK's sidecar (PyPI `agentmesh-trust-protocol` 3.7.0, `iatp/sidecar/__init__.py`,
//! `get_manifest`) answers with `manifest.model_dump()` plus `attestation` =
//! `attestation.model_dump()` when it has one: every optional member is present, as `null`
//! when unset.
//!
//! **Refused** (the cache keeps a negative entry with reason `invalid`): a body over
//! [`MAX_BODY_BYTES`], not JSON, not a JSON object, no agent id, an agent id that is empty,
//! over [`MAX_AGENT_ID_LEN`] bytes or holds control characters, a member this reader uses with
//! another JSON type than its own, a value outside a closed set (`"trust_level": "trusty"`),
//! and two spellings of one field that disagree. A key given twice keeps its last value
//! (serde_json's reading): the document is the target's own claim, capped anyway.
//!
//! **Trust.** What a target says about itself is capped: [`capped`] lets the declared level
//! count at most as the operator's ceiling unless the target is listed in the operator's
//! directory or has a verified attestation; [`Summary::score`] is
//! [`crate::trust::trust_score`]'s formula over the capped level.

use serde_json::{Map, Value};

use crate::config::strict::Named;
use crate::manifest::{Retention, Reversibility, TrustLevel, MAX_AGENT_ID_LEN};
use crate::trust;

/// The largest manifest body read, in bytes; a longer one is refused whole.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The largest embedded attestation kept for verification (its JSON text as re-serialized
/// here), in bytes; a larger one is [`Attestation::Unusable`].
pub const MAX_ATTESTATION_BYTES: usize = 8 * 1024;
/// The size of an encoded [`Summary`] without its agent id: 4 bytes of levels and flags, the
/// attestation's expiry (u64), the agent id's length (u16).
pub const SUMMARY_FIXED_BYTES: usize = 4 + 8 + 2;
/// The largest encoded [`Summary`].
pub const MAX_SUMMARY_BYTES: usize = SUMMARY_FIXED_BYTES + MAX_AGENT_ID_LEN;

/// Whether the manifest embedded an attestation record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attestation {
    /// No `attestation` member (or `null`): the gateway may ask
    /// `/.well-known/agent-attestation`.
    Absent,
    /// An `attestation` object, handed over as [`Read::attestation`] to be verified.
    Embedded,
    /// An `attestation` member that is not an object, or over [`MAX_ATTESTATION_BYTES`]: not
    /// verifiable, and no reason to ask the attestation endpoint either.
    Unusable,
}

impl Attestation {
    const ALL: [Attestation; 3] = [
        Attestation::Absent,
        Attestation::Embedded,
        Attestation::Unusable,
    ];
}

/// What the gateway keeps of a target's manifest: the fields its trust score and rules read.
/// Encoded in at most [`MAX_SUMMARY_BYTES`] ([`Summary::encode`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The agent id the manifest declares: 1 to [`MAX_AGENT_ID_LEN`] bytes, no control
    /// characters. Target-supplied text: escape it wherever it is written.
    pub agent_id: String,
    /// The trust level the target declares about itself (uncapped; see [`capped`]).
    pub trust_level: TrustLevel,
    /// How long it keeps data; `None` when the manifest does not say.
    pub retention: Option<Retention>,
    pub reversibility: Reversibility,
    /// Humans may review the data (`privacy.human_in_loop`, the SDK's `human_review`).
    pub human_in_loop: bool,
    /// The data may be used for training (`privacy.training_consent`; the SDK has no such
    /// member).
    pub training_consent: bool,
    /// Whether an attestation record was embedded.
    pub attestation: Attestation,
    /// Until when (Unix ms, exclusive) a verified attestation vouches for this agent: `None`
    /// as read; the gateway fills it after verifying the record (its `expires_at`, or the
    /// cache entry's lifetime when the record has none) and stores the summary with it.
    pub attested_until_ms: Option<u64>,
}

/// A manifest read: its summary, and the embedded attestation's JSON text (at most
/// [`MAX_ATTESTATION_BYTES`], re-serialized from the parsed object, keys sorted) for the
/// attestation verifier. Nothing here is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub summary: Summary,
    pub attestation: Option<String>,
}

/// Why a manifest is refused. Members are named by their path in the manifest (never by
/// their value, which is target-supplied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Over [`MAX_BODY_BYTES`].
    TooLarge,
    /// Not JSON text (RFC 8259), UTF-8.
    NotJson,
    /// JSON, but not an object.
    NotObject,
    /// Neither `agent_id` nor `identity.agent_id`.
    NoAgentId,
    /// An agent id that is empty, over [`MAX_AGENT_ID_LEN`] bytes, or holds control
    /// characters.
    BadAgentId,
    /// A member this reader uses holds another JSON type than its own.
    Type { member: &'static str },
    /// A string outside the member's closed set.
    Value { member: &'static str },
    /// Two spellings of one field say different things.
    Conflict {
        first: &'static str,
        second: &'static str,
    },
}

impl Refusal {
    /// A short code for log lines and events: `too_large`, `not_json`, `not_object`,
    /// `no_agent_id`, `bad_agent_id`, `type`, `value`, `conflict`.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::TooLarge => "too_large",
            Refusal::NotJson => "not_json",
            Refusal::NotObject => "not_object",
            Refusal::NoAgentId => "no_agent_id",
            Refusal::BadAgentId => "bad_agent_id",
            Refusal::Type { .. } => "type",
            Refusal::Value { .. } => "value",
            Refusal::Conflict { .. } => "conflict",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::TooLarge => write!(f, "the manifest is over {MAX_BODY_BYTES} bytes"),
            Refusal::NotJson => write!(f, "the manifest is not JSON"),
            Refusal::NotObject => write!(f, "the manifest is not a JSON object"),
            Refusal::NoAgentId => write!(f, "the manifest has no `agent_id` or `identity.agent_id`"),
            Refusal::BadAgentId => write!(
                f,
                "the manifest's agent id must be 1 to {MAX_AGENT_ID_LEN} bytes without control characters"
            ),
            Refusal::Type { member } => write!(f, "the manifest's `{member}` has the wrong type"),
            Refusal::Value { member } => write!(f, "the manifest's `{member}` is not a known value"),
            Refusal::Conflict { first, second } => {
                write!(f, "the manifest's `{first}` and `{second}` disagree")
            }
        }
    }
}

/// Reads a manifest body (the bytes of a 200 answer). A UTF-8 byte order mark is skipped
/// (RFC 8259 §8.1 lets a parser ignore it).
pub fn read(body: &[u8]) -> Result<Read, Refusal> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Refusal::TooLarge);
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let value: Value = serde_json::from_slice(body).map_err(|_| Refusal::NotJson)?;
    let Value::Object(root) = value else {
        return Err(Refusal::NotObject);
    };
    let root = &root;
    let agent_id: String = agree([
        (string(root, "agent_id")?, "agent_id"),
        (string(root, "identity.agent_id")?, "identity.agent_id"),
    ])?
    .ok_or(Refusal::NoAgentId)?
    .to_string();
    if agent_id.is_empty()
        || agent_id.len() > MAX_AGENT_ID_LEN
        || agent_id.chars().any(char::is_control)
    {
        return Err(Refusal::BadAgentId);
    }
    let trust_level = named(root, "trust_level")?.unwrap_or(TrustLevel::Standard);
    let reversibility = agree([
        (named(root, "reversibility.level")?, "reversibility.level"),
        (
            named(root, "capabilities.reversibility")?,
            "capabilities.reversibility",
        ),
    ])?
    .unwrap_or_default();
    let retention = agree([
        (named(root, "privacy.retention")?, "privacy.retention"),
        (
            named(root, "privacy.retention_policy")?,
            "privacy.retention_policy",
        ),
        (
            named(root, "privacy_contract.retention")?,
            "privacy_contract.retention",
        ),
    ])?;
    let human_in_loop = agree([
        (
            boolean(root, "privacy.human_in_loop")?,
            "privacy.human_in_loop",
        ),
        (
            boolean(root, "privacy_contract.human_review")?,
            "privacy_contract.human_review",
        ),
    ])?
    .unwrap_or(false);
    let training_consent = boolean(root, "privacy.training_consent")?.unwrap_or(false);
    let (attestation, text) = match root.get("attestation") {
        None | Some(Value::Null) => (Attestation::Absent, None),
        Some(v @ Value::Object(_)) => match serde_json::to_string(v) {
            Ok(t) if t.len() <= MAX_ATTESTATION_BYTES => (Attestation::Embedded, Some(t)),
            _ => (Attestation::Unusable, None),
        },
        Some(_) => (Attestation::Unusable, None),
    };
    Ok(Read {
        summary: Summary {
            agent_id,
            trust_level,
            retention,
            reversibility,
            human_in_loop,
            training_consent,
            attestation,
            attested_until_ms: None,
        },
        attestation: text,
    })
}

/// The member at `path` (one or two names joined by `.`), `None` when it or its parent is
/// absent or `null`. A parent that is not an object is a [`Refusal::Type`].
fn member<'a>(
    root: &'a Map<String, Value>,
    path: &'static str,
) -> Result<Option<&'a Value>, Refusal> {
    let (map, name) = match path.split_once('.') {
        None => (root, path),
        Some((parent, name)) => match root.get(parent) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(m)) => (m, name),
            Some(_) => return Err(Refusal::Type { member: parent }),
        },
    };
    Ok(map.get(name).filter(|v| !v.is_null()))
}

fn string<'a>(
    root: &'a Map<String, Value>,
    path: &'static str,
) -> Result<Option<&'a str>, Refusal> {
    match member(root, path)? {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Refusal::Type { member: path }),
    }
}

fn boolean(root: &Map<String, Value>, path: &'static str) -> Result<Option<bool>, Refusal> {
    match member(root, path)? {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(Refusal::Type { member: path }),
    }
}

/// A member of a closed set, by its exact name (the SDK's enum values are these names).
fn named<T: Named>(root: &Map<String, Value>, path: &'static str) -> Result<Option<T>, Refusal> {
    let Some(name) = string(root, path)? else {
        return Ok(None);
    };
    T::NAMES
        .iter()
        .zip(T::ALL)
        .find(|(n, _)| **n == name)
        .map(|(_, v)| Some(*v))
        .ok_or(Refusal::Value { member: path })
}

/// The one value the spellings of a field give (those present must be equal).
fn agree<T: PartialEq, const N: usize>(
    spellings: [(Option<T>, &'static str); N],
) -> Result<Option<T>, Refusal> {
    let mut found: Option<(T, &'static str)> = None;
    for (value, path) in spellings {
        let Some(value) = value else { continue };
        match &found {
            None => found = Some((value, path)),
            Some((seen, first)) if *seen != value => {
                return Err(Refusal::Conflict {
                    first,
                    second: path,
                })
            }
            Some(_) => {}
        }
    }
    Ok(found.map(|(v, _)| v))
}

/// The trust level a target's declared level counts as: at most `ceiling`, unless the target
/// is `listed` in the operator's directory (`gateway.trust.directory`) or `attested` (a valid
/// attestation signed by a key the operator trusts; [`Summary::attested`]). A target declaring
/// less than the ceiling keeps its own, lower level.
pub fn capped(summary: &Summary, ceiling: TrustLevel, listed: bool, attested: bool) -> TrustLevel {
    let declared = summary.trust_level;
    if listed || attested || trust::base_score(declared) <= trust::base_score(ceiling) {
        declared
    } else {
        ceiling
    }
}

fn index_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter()
        .position(|x| x == v)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(0)
}

const FLAG_HUMAN: u8 = 1;
const FLAG_TRAINING: u8 = 2;
const FLAG_ATTESTED: u8 = 4;
/// The flags byte's bits 4 and 5: the [`Attestation`] index.
const ATTESTATION_SHIFT: u8 = 4;
const KNOWN_FLAGS: u8 = FLAG_HUMAN | FLAG_TRAINING | FLAG_ATTESTED | (3 << ATTESTATION_SHIFT);

impl Summary {
    /// The target's trust score (0..=10): [`crate::trust::score`], the formula of the
    /// protected agent's own score, over `level` (the capped level, [`capped`]) and this
    /// summary's fields; a retention the manifest does not state scores as `permanent`
    /// (the worst: data kept for ever until the target says otherwise).
    pub fn score(&self, level: TrustLevel) -> u8 {
        trust::score(
            level,
            self.reversibility,
            self.retention.unwrap_or(Retention::Permanent),
            self.human_in_loop,
            self.training_consent,
        )
    }

    /// Whether a verified attestation vouches for the target at `now_ms` (Unix ms).
    pub fn attested(&self, now_ms: u64) -> bool {
        self.attested_until_ms.is_some_and(|until| now_ms < until)
    }

    /// The summary's bytes (big-endian), at most [`MAX_SUMMARY_BYTES`]: the trust level,
    /// retention (0 = not said, else 1 + its index), reversibility (indexes into each type's
    /// `ALL`), flags (bit 0 human in the loop, 1 training consent, 2 attested, 4-5 the
    /// [`Attestation`]), the attestation's expiry (u64, 0 when not attested), the agent id's
    /// length (u16) and its UTF-8 bytes. `None` for an agent id that [`read`] would refuse.
    pub fn encode(&self) -> Option<Vec<u8>> {
        let id = self.agent_id.as_bytes();
        if id.is_empty() || id.len() > MAX_AGENT_ID_LEN {
            return None;
        }
        let id_len = u16::try_from(id.len()).ok()?;
        let mut out = Vec::with_capacity(SUMMARY_FIXED_BYTES + id.len());
        out.push(index_of(&TrustLevel::ALL, &self.trust_level));
        out.push(
            self.retention
                .map_or(0, |r| 1 + index_of(&Retention::ALL, &r)),
        );
        out.push(index_of(&Reversibility::ALL, &self.reversibility));
        let mut flags = index_of(&Attestation::ALL, &self.attestation) << ATTESTATION_SHIFT;
        if self.human_in_loop {
            flags |= FLAG_HUMAN;
        }
        if self.training_consent {
            flags |= FLAG_TRAINING;
        }
        if self.attested_until_ms.is_some() {
            flags |= FLAG_ATTESTED;
        }
        out.push(flags);
        out.extend_from_slice(&self.attested_until_ms.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&id_len.to_be_bytes());
        out.extend_from_slice(id);
        Some(out)
    }

    /// Reads what [`Summary::encode`] wrote, all of `b` and nothing else; `None` for anything
    /// else (an index out of its set, unknown flags, a length that does not match, an agent id
    /// that is not UTF-8 or out of bounds).
    pub fn decode(b: &[u8]) -> Option<Summary> {
        let byte = |i: usize| b.get(i).copied();
        let trust_level = *TrustLevel::ALL.get(usize::from(byte(0)?))?;
        let retention = match byte(1)? {
            0 => None,
            r => Some(*Retention::ALL.get(usize::from(r - 1))?),
        };
        let reversibility = *Reversibility::ALL.get(usize::from(byte(2)?))?;
        let flags = byte(3)?;
        if flags & !KNOWN_FLAGS != 0 {
            return None;
        }
        let attestation = *Attestation::ALL.get(usize::from(flags >> ATTESTATION_SHIFT))?;
        let mut until = [0u8; 8];
        until.copy_from_slice(b.get(4..12)?);
        let until = u64::from_be_bytes(until);
        let mut len = [0u8; 2];
        len.copy_from_slice(b.get(12..14)?);
        let len = usize::from(u16::from_be_bytes(len));
        let id = b.get(SUMMARY_FIXED_BYTES..)?;
        if id.len() != len || len == 0 || len > MAX_AGENT_ID_LEN {
            return None;
        }
        let agent_id = std::str::from_utf8(id).ok()?.to_string();
        Some(Summary {
            agent_id,
            trust_level,
            retention,
            reversibility,
            human_in_loop: flags & FLAG_HUMAN != 0,
            training_consent: flags & FLAG_TRAINING != 0,
            attestation,
            attested_until_ms: (flags & FLAG_ATTESTED != 0).then_some(until),
        })
    }
}

#[cfg(test)]
mod tests;
