//! The reference IATP SDK's attestation record (PyPI `agentmesh-trust-protocol` 3.7.0,
//! `iatp/models/__init__.py` `AttestationRecord`, `iatp/attestation.py`
//! `AttestationValidator`): a control plane's Ed25519 (RFC 8032) signature that an agent runs a
//! given codebase and configuration, and its verification against configured public keys.
//!
//! The record is a JSON object of seven members, all strings except `expires_at`, which may be
//! `null` (the SDK's sidecar serves pydantic's `model_dump()`, so it is present):
//!
//! ```json
//! {"agent_id":"booking-agent","codebase_hash":"96f4…","config_hash":"4413…",
//!  "signature":"K8PE…DQ==","signing_key_id":"cp-1",
//!  "timestamp":"2026-11-30T14:40:14.128770Z","expires_at":"2026-12-01T14:40:14.128794Z"}
//! ```
//!
//! * `signature`: base64 (RFC 4648 §4, padded) of the 64-byte Ed25519 signature over the UTF-8
//!   bytes of `{agent_id}:{codebase_hash}:{config_hash}:{timestamp}` (the SDK's
//!   `create_attestation` / `_verify_signature`).
//! * `signing_key_id`: names the public key, configured as base64 of its raw 32 bytes (the
//!   SDK's `generate_ed25519_keypair`).
//! * `timestamp`, `expires_at`: Python's `datetime.isoformat()` in UTC with `+00:00` replaced
//!   by `Z` (`2026-11-30T14:20:31.123456Z`; no fraction when the microseconds are 0).
//!
//! Differences from the SDK, all stricter:
//! * `expires_at` is **not** covered by the signature, so anyone holding a record can rewrite
//!   it (or set it to `null`, which the SDK reads as "never expires"). Here it can only shorten
//!   the record's life: the record expires at the earlier of `expires_at` and `timestamp` +
//!   `max_age_ms` (default 24 h, the SDK's default lifetime).
//! * A `timestamp` more than [`MAX_CLOCK_SKEW_MS`] in the future is refused.
//! * Timestamps are read as instants (RFC 3339 §5.6), not compared as strings.
//! * Base64 is strict (the standard alphabet, padding, no white space, zero pad bits); the
//!   SDK's `base64.b64decode` skips characters outside the alphabet.
//! * A key that is not a valid Ed25519 point, or a point of small order, is refused at
//!   configure time; signatures are checked as `ed25519-compact` does (canonical `S`, no
//!   small-order `R` or `A`).
//!
//! What a valid record proves, and what not: that the control plane holding the private key
//! attested `agent_id`. The record is a bearer document: any server can serve a copy of
//! another agent's record. The caller must therefore check that [`Verified::agent_id`] is the
//! agent it expects (the manifest's `agent_id`, and whatever binds that agent to the target
//! host); [`verify`] does not. The signed message joins fields with `:`, which may also occur
//! inside them, so one signature also verifies the same bytes split differently (for example
//! agent `did:web` with codebase hash `a` for a record signed for agent `did:web:a`): another
//! reason to compare the whole `agent_id` with an expected one.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The largest record read, in bytes of JSON.
pub const MAX_RECORD_BYTES: usize = 8 * 1024;
/// The longest `agent_id` and `signing_key_id` (and configured key id), in bytes.
pub const MAX_ID_BYTES: usize = 256;
/// The longest `codebase_hash`, `config_hash` and `signature`, in bytes.
pub const MAX_FIELD_BYTES: usize = 1024;
/// The longest `timestamp` and `expires_at`, in bytes.
pub const MAX_TIMESTAMP_BYTES: usize = 64;
/// A record's life when nothing shorter is said: the SDK's `expires_in_hours=24`, in ms.
pub const DEFAULT_MAX_AGE_MS: u64 = 24 * 3600 * 1000;
/// How far in the future a `timestamp` may be (clocks differ), in ms: 5 minutes.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

/// An attestation record, as the SDK's `AttestationRecord` has it. Serializes (serde) to the
/// SDK's shape: these seven members in this order, `expires_at` as `null` when absent, which is
/// what the SDK's sidecar serves at `/.well-known/agent-attestation` ([`Self::to_json`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttestationRecord {
    pub agent_id: String,
    /// SHA-256 of the agent's codebase (the SDK writes lower-case hex; not checked here).
    pub codebase_hash: String,
    /// SHA-256 of the agent's configuration (as above).
    pub config_hash: String,
    /// Base64 of the 64-byte Ed25519 signature.
    pub signature: String,
    pub signing_key_id: String,
    /// When the control plane signed, RFC 3339 (signed as written).
    pub timestamp: String,
    /// When the record expires, RFC 3339 (not signed).
    pub expires_at: Option<String>,
}

/// Why a record is refused. `Display` and [`Self::as_str`] never include a value from the
/// record (they may be logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestationError {
    /// More than [`MAX_RECORD_BYTES`].
    TooLarge,
    /// Not one JSON object, or one with a known member twice.
    Malformed,
    /// A required member is absent (`expires_at` may be).
    Missing(&'static str),
    /// A member is not a string (`expires_at`: not a string or `null`).
    NotAString(&'static str),
    /// A member is longer than its bound ([`MAX_ID_BYTES`], [`MAX_FIELD_BYTES`],
    /// [`MAX_TIMESTAMP_BYTES`]).
    TooLong(&'static str),
    /// No configured key has the record's `signing_key_id`.
    UnknownKeyId,
    /// The signature is not base64 of 64 bytes, or does not verify with the key.
    BadSignature,
    /// `timestamp` or `expires_at` is not an RFC 3339 date-time with an offset.
    BadTimestamp(&'static str),
    /// `timestamp` is more than [`MAX_CLOCK_SKEW_MS`] ahead of now.
    NotYetValid,
    /// Now is past `expires_at`, or past `timestamp` + the maximum age.
    Expired,
}

impl AttestationError {
    /// A short fixed name, for events and log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            AttestationError::TooLarge => "too_large",
            AttestationError::Malformed => "malformed",
            AttestationError::Missing(_) => "missing_member",
            AttestationError::NotAString(_) => "not_a_string",
            AttestationError::TooLong(_) => "too_long",
            AttestationError::UnknownKeyId => "unknown_key_id",
            AttestationError::BadSignature => "bad_signature",
            AttestationError::BadTimestamp(_) => "bad_timestamp",
            AttestationError::NotYetValid => "not_yet_valid",
            AttestationError::Expired => "expired",
        }
    }
}

impl fmt::Display for AttestationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttestationError::TooLarge => {
                write!(f, "attestation record over {MAX_RECORD_BYTES} bytes")
            }
            AttestationError::Malformed => {
                f.write_str("attestation record is not one JSON object with each member once")
            }
            AttestationError::Missing(m) => write!(f, "attestation record has no `{m}`"),
            AttestationError::NotAString(m) => {
                write!(f, "attestation record's `{m}` is not a string")
            }
            AttestationError::TooLong(m) => write!(f, "attestation record's `{m}` is too long"),
            AttestationError::UnknownKeyId => {
                f.write_str("attestation signed with a key id that is not configured")
            }
            AttestationError::BadSignature => f.write_str("attestation signature does not verify"),
            AttestationError::BadTimestamp(m) => {
                write!(f, "attestation record's `{m}` is not an RFC 3339 date-time")
            }
            AttestationError::NotYetValid => f.write_str("attestation timestamp is in the future"),
            AttestationError::Expired => f.write_str("attestation has expired"),
        }
    }
}

impl AttestationRecord {
    /// Reads a record from JSON bytes (a `/.well-known/agent-attestation` body): at most
    /// [`MAX_RECORD_BYTES`], one object, each known member at most once; the members as
    /// [`Self::from_value`] reads them. Read without building a `serde_json::Value`: that
    /// parser would cost about 30 KB of Wasm, this reader about 11 KB.
    pub fn parse(json: &[u8]) -> Result<AttestationRecord, AttestationError> {
        if json.len() > MAX_RECORD_BYTES {
            return Err(AttestationError::TooLarge);
        }
        // serde's derived structs also read arrays (members by position): only an object here.
        let first = json
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        if first != Some(&b'{') {
            return Err(AttestationError::Malformed);
        }
        let wire: Wire = serde_json::from_slice(json).map_err(|_| AttestationError::Malformed)?;
        AttestationRecord::from_slots(|member| match member {
            "agent_id" => &wire.agent_id,
            "codebase_hash" => &wire.codebase_hash,
            "config_hash" => &wire.config_hash,
            "signature" => &wire.signature,
            "signing_key_id" => &wire.signing_key_id,
            "timestamp" => &wire.timestamp,
            _ => &wire.expires_at,
        })
    }

    /// Reads a record from a parsed JSON value (a manifest's embedded `attestation`): the seven
    /// known members strictly (strings within their bounds; `expires_at` a string, `null` or
    /// absent), other members ignored (the SDK may add some). The caller bounds the size of
    /// what it parsed.
    pub fn from_value(value: &Value) -> Result<AttestationRecord, AttestationError> {
        let object = value.as_object().ok_or(AttestationError::Malformed)?;
        let slots: Vec<(&str, Slot)> = MEMBERS
            .iter()
            .map(|&m| (m, Slot::of_value(object.get(m))))
            .collect();
        AttestationRecord::from_slots(|member| {
            slots
                .iter()
                .find(|(m, _)| *m == member)
                .map_or(&Slot::Absent, |(_, slot)| slot)
        })
    }

    fn from_slots<'s>(
        slot: impl Fn(&'static str) -> &'s Slot,
    ) -> Result<AttestationRecord, AttestationError> {
        let required = |member: &'static str, max: usize| match slot(member) {
            Slot::Absent => Err(AttestationError::Missing(member)),
            Slot::Text(s) if s.len() > max => Err(AttestationError::TooLong(member)),
            Slot::Text(s) => Ok(s.clone()),
            Slot::Null | Slot::Other => Err(AttestationError::NotAString(member)),
        };
        Ok(AttestationRecord {
            agent_id: required("agent_id", MAX_ID_BYTES)?,
            codebase_hash: required("codebase_hash", MAX_FIELD_BYTES)?,
            config_hash: required("config_hash", MAX_FIELD_BYTES)?,
            signature: required("signature", MAX_FIELD_BYTES)?,
            signing_key_id: required("signing_key_id", MAX_ID_BYTES)?,
            timestamp: required("timestamp", MAX_TIMESTAMP_BYTES)?,
            expires_at: match slot("expires_at") {
                Slot::Absent | Slot::Null => None,
                _ => Some(required("expires_at", MAX_TIMESTAMP_BYTES)?),
            },
        })
    }

    /// The record as the SDK's sidecar serves it (FastAPI's `JSONResponse` of `model_dump()`):
    /// compact JSON, the seven members in the model's order, `expires_at` `null` when absent.
    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings always serializes; the empty fallback is never taken.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The record's members, in the SDK model's order.
const MEMBERS: [&str; 7] = [
    "agent_id",
    "codebase_hash",
    "config_hash",
    "signature",
    "signing_key_id",
    "timestamp",
    "expires_at",
];

/// A known member as read, before its checks.
#[derive(Default)]
enum Slot {
    #[default]
    Absent,
    Null,
    Text(String),
    /// A number, a boolean, an array or an object.
    Other,
}

impl Slot {
    fn of_value(value: Option<&Value>) -> Slot {
        match value {
            None => Slot::Absent,
            Some(Value::Null) => Slot::Null,
            Some(Value::String(s)) => Slot::Text(s.clone()),
            Some(_) => Slot::Other,
        }
    }
}

impl<'de> Deserialize<'de> for Slot {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Slot, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Slot;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, s: &str) -> Result<Slot, E> {
                Ok(Slot::Text(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Slot, E> {
                Ok(Slot::Text(s))
            }
            fn visit_unit<E>(self) -> Result<Slot, E> {
                Ok(Slot::Null)
            }
            fn visit_none<E>(self) -> Result<Slot, E> {
                Ok(Slot::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Slot, E> {
                Ok(Slot::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Slot, E> {
                Ok(Slot::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Slot, E> {
                Ok(Slot::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Slot, E> {
                Ok(Slot::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Slot, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Slot::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slot, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Slot::Other)
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// The record on the wire: the known members whatever their type (checked after), unknown
/// ones skipped; serde refuses a known member given twice.
#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    agent_id: Slot,
    #[serde(default)]
    codebase_hash: Slot,
    #[serde(default)]
    config_hash: Slot,
    #[serde(default)]
    signature: Slot,
    #[serde(default)]
    signing_key_id: Slot,
    #[serde(default)]
    timestamp: Slot,
    #[serde(default)]
    expires_at: Slot,
}

/// Why a configured public key is refused. `Display` names the key id (configuration, not a
/// secret) and never the key's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    pub key_id: String,
    pub kind: KeyErrorKind,
}

/// What is wrong with a configured public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyErrorKind {
    /// An empty key id.
    EmptyId,
    /// A key id over [`MAX_ID_BYTES`].
    IdTooLong,
    /// Not standard padded base64 (RFC 4648 §4).
    Base64,
    /// Base64 of other than 32 bytes (the raw Ed25519 public key, RFC 8032 §5.1.5).
    Length,
    /// 32 bytes that are not the encoding of a curve point, or a point of small order (a
    /// "weak" key that could verify forged signatures).
    InvalidPoint,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            KeyErrorKind::EmptyId => "the key id is empty",
            KeyErrorKind::IdTooLong => "the key id is longer than 256 bytes",
            KeyErrorKind::Base64 => "the key is not standard base64 with padding",
            KeyErrorKind::Length => "the key is not base64 of 32 bytes (a raw Ed25519 public key)",
            KeyErrorKind::InvalidPoint => "the key is not a valid Ed25519 public key",
        };
        write!(f, "trusted key {:?}: {what}", self.key_id)
    }
}

/// The control planes' Ed25519 public keys a record may be signed with, by key id. Built at
/// configure time.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: BTreeMap<String, ed25519_compact::PublicKey>,
}

impl TrustedKeys {
    /// From pairs (key id, base64 of the raw 32-byte public key), as the SDK's
    /// `generate_ed25519_keypair` writes it. The first bad pair is the error.
    pub fn from_base64<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TrustedKeys, KeyError> {
        let mut keys = BTreeMap::new();
        for (key_id, b64) in pairs {
            let error = |kind| KeyError {
                key_id: key_id.to_owned(),
                kind,
            };
            if key_id.is_empty() {
                return Err(error(KeyErrorKind::EmptyId));
            }
            if key_id.len() > MAX_ID_BYTES {
                return Err(error(KeyErrorKind::IdTooLong));
            }
            let bytes = decode_base64(b64).ok_or_else(|| error(KeyErrorKind::Base64))?;
            let key = ed25519_compact::PublicKey::from_slice(&bytes)
                .map_err(|_| error(KeyErrorKind::Length))?;
            key.validate()
                .map_err(|_| error(KeyErrorKind::InvalidPoint))?;
            keys.insert(key_id.to_owned(), key);
        }
        Ok(TrustedKeys { keys })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

/// A record that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The attested agent. The caller compares it with the agent it expects (see the module).
    pub agent_id: String,
    /// The configured key that verified the signature.
    pub key_id: String,
    /// `timestamp`, in ms since the Unix epoch (negative before 1970).
    pub issued_unix_ms: i64,
    /// Until when the record holds, in ms since the Unix epoch: the earlier of `expires_at`
    /// and `timestamp` + the maximum age. A cache of the verdict should not outlive it.
    pub expires_unix_ms: i64,
}

/// Verifies `record` at `now_unix_ms` (ms since the Unix epoch) with `keys`: the signing key
/// is configured, the signature verifies, `timestamp` is at most [`MAX_CLOCK_SKEW_MS`] ahead,
/// and now is not past the earlier of `expires_at` and `timestamp` + `max_age_ms`
/// ([`DEFAULT_MAX_AGE_MS`] unless configured). The checks run in that order, so a record that
/// is both forged and expired is reported as [`AttestationError::BadSignature`].
///
/// Does not check that `record.agent_id` is the agent the caller expects: the caller does.
pub fn verify(
    record: &AttestationRecord,
    keys: &TrustedKeys,
    now_unix_ms: u64,
    max_age_ms: u64,
) -> Result<Verified, AttestationError> {
    let (key_id, key) = keys
        .keys
        .get_key_value(record.signing_key_id.as_str())
        .ok_or(AttestationError::UnknownKeyId)?;
    let signature = decode_base64(&record.signature)
        .and_then(|bytes| ed25519_compact::Signature::from_slice(&bytes).ok())
        .ok_or(AttestationError::BadSignature)?;
    // The SDK's message, fed in parts rather than joined into a new string.
    let mut state = key
        .verify_incremental(&signature)
        .map_err(|_| AttestationError::BadSignature)?;
    for (i, part) in [
        &record.agent_id,
        &record.codebase_hash,
        &record.config_hash,
        &record.timestamp,
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            state.absorb(b":");
        }
        state.absorb(part.as_bytes());
    }
    state.verify().map_err(|_| AttestationError::BadSignature)?;

    let issued =
        parse_rfc3339_ms(&record.timestamp).ok_or(AttestationError::BadTimestamp("timestamp"))?;
    let stated_expiry = match &record.expires_at {
        None => None,
        Some(s) => Some(parse_rfc3339_ms(s).ok_or(AttestationError::BadTimestamp("expires_at"))?),
    };
    let now = i64::try_from(now_unix_ms).unwrap_or(i64::MAX);
    let skew = i64::try_from(MAX_CLOCK_SKEW_MS).unwrap_or(i64::MAX);
    if issued > now.saturating_add(skew) {
        return Err(AttestationError::NotYetValid);
    }
    let aged_out = issued.saturating_add(i64::try_from(max_age_ms).unwrap_or(i64::MAX));
    let expires = stated_expiry.map_or(aged_out, |e| e.min(aged_out));
    if now > expires {
        return Err(AttestationError::Expired);
    }
    Ok(Verified {
        agent_id: record.agent_id.clone(),
        key_id: key_id.clone(),
        issued_unix_ms: issued,
        expires_unix_ms: expires,
    })
}

/// Standard base64 with padding (RFC 4648 §4): length a multiple of 4, `=` only at the end,
/// pad bits zero (§3.5), no white space. Written here: no base64 crate is in the tree, and
/// decoding two short values at configure and verify time needs nothing more.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        Some(u32::from(v))
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let quads = bytes.len() / 4;
    let mut out = Vec::with_capacity(quads * 3);
    for (i, quad) in bytes.chunks_exact(4).enumerate() {
        let [a, b, c, d] = <[u8; 4]>::try_from(quad).ok()?;
        let last = i + 1 == quads;
        let (pad, c, d) = match (c, d) {
            (b'=', b'=') if last => (2, b'A', b'A'),
            (_, b'=') if last => (1, c, b'A'),
            _ => (0, c, d),
        };
        let n = (sextet(a)? << 18) | (sextet(b)? << 12) | (sextet(c)? << 6) | sextet(d)?;
        let [_, x, y, z] = n.to_be_bytes();
        match pad {
            0 => out.extend_from_slice(&[x, y, z]),
            1 if z == 0 => out.extend_from_slice(&[x, y]),
            2 if y == 0 && z == 0 => out.push(x),
            _ => return None,
        }
    }
    Some(out)
}

/// An RFC 3339 §5.6 `date-time` (`2026-11-30T14:20:31.123456Z`, `…+00:00`, `…+02:00`; `t` and
/// `z` in lower case too) as ms since the Unix epoch, the fraction truncated to ms. A missing
/// offset (a "naive" time) and a leap second (`:60`, which Python cannot write) are refused.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| -> Option<i64> {
        let mut v = 0i64;
        for i in from..from + n {
            let c = *b.get(i)?;
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-')
        && at(7, b'-')
        && (at(10, b'T') || at(10, b't'))
        && at(13, b':')
        && at(16, b':'))
    {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if at(i, b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b.get(i).copied().unwrap_or(b'0') - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && at(i + 3, b':') => {
            let (h, m) = (digits(i + 1, 2)?, digits(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            if sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's `days_from_civil`: days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
