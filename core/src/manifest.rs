//! The capability manifest of the protected agent: accepted in two shapes, normalized to one.
//!
//! * The IATP manifest of the architecture document (`identity.agent_id`, `trust_level`,
//!   `reversibility.level`, `privacy.retention`, `privacy.human_in_loop`, ...).
//! * The reference Python SDK's `CapabilityManifest` (`agent_id`, `capabilities.reversibility`,
//!   `privacy_contract.retention`, `privacy_contract.human_review`, ...).
//!
//! Both deserialize into one strict raw struct (unknown keys are errors); [`RawManifest::normalize`]
//! then checks that the two shapes are not mixed and produces a [`Manifest`].

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::config::strict::{deserialize_named, object, Named};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustLevel {
    VerifiedPartner,
    Trusted,
    Standard,
    Unknown,
    Untrusted,
}

impl TrustLevel {
    /// The names, as configurations and rules write them.
    #[allow(clippy::indexing_slicing)] // const evaluation: `i` is below the length
    pub const NAMES: [&'static str; 5] = {
        let mut names = [""; 5];
        let mut i = 0;
        while i < 5 {
            names[i] = TrustLevel::ALL[i].as_str();
            i += 1;
        }
        names
    };

    pub const ALL: [TrustLevel; 5] = [
        TrustLevel::VerifiedPartner,
        TrustLevel::Trusted,
        TrustLevel::Standard,
        TrustLevel::Unknown,
        TrustLevel::Untrusted,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TrustLevel::VerifiedPartner => "verified_partner",
            TrustLevel::Trusted => "trusted",
            TrustLevel::Standard => "standard",
            TrustLevel::Unknown => "unknown",
            TrustLevel::Untrusted => "untrusted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Reversibility {
    Full,
    Partial,
    #[default]
    None,
}

impl Reversibility {
    /// The names, as configurations and rules write them.
    #[allow(clippy::indexing_slicing)] // const evaluation: `i` is below the length
    pub const NAMES: [&'static str; 3] = {
        let mut names = [""; 3];
        let mut i = 0;
        while i < 3 {
            names[i] = Reversibility::ALL[i].as_str();
            i += 1;
        }
        names
    };

    pub const ALL: [Reversibility; 3] = [
        Reversibility::Full,
        Reversibility::Partial,
        Reversibility::None,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Reversibility::Full => "full",
            Reversibility::Partial => "partial",
            Reversibility::None => "none",
        }
    }
}

/// `forever` is the SDK's alias of `permanent`: it is kept as written (the manifest is served
/// back as configured) but compares equal to `permanent` in rules and scores the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Retention {
    Ephemeral,
    Temporary,
    Permanent,
    Forever,
}

impl Retention {
    /// The names, as configurations and rules write them.
    #[allow(clippy::indexing_slicing)] // const evaluation: `i` is below the length
    pub const NAMES: [&'static str; 4] = {
        let mut names = [""; 4];
        let mut i = 0;
        while i < 4 {
            names[i] = Retention::ALL[i].as_str();
            i += 1;
        }
        names
    };

    pub const ALL: [Retention; 4] = [
        Retention::Ephemeral,
        Retention::Temporary,
        Retention::Permanent,
        Retention::Forever,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Retention::Ephemeral => "ephemeral",
            Retention::Temporary => "temporary",
            Retention::Permanent => "permanent",
            Retention::Forever => "forever",
        }
    }

    /// The retention class used for comparisons: `forever` is `permanent`.
    pub fn canonical(self) -> Retention {
        match self {
            Retention::Forever => Retention::Permanent,
            other => other,
        }
    }
}

impl Named for TrustLevel {
    const ALL: &'static [Self] = &TrustLevel::ALL;
    const NAMES: &'static [&'static str] = &TrustLevel::NAMES;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Named for Reversibility {
    const ALL: &'static [Self] = &Reversibility::ALL;
    const NAMES: &'static [&'static str] = &Reversibility::NAMES;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Named for Retention {
    const ALL: &'static [Self] = &Retention::ALL;
    const NAMES: &'static [&'static str] = &Retention::NAMES;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

deserialize_named!(TrustLevel, Reversibility, Retention);

/// The normalized manifest the policy works with.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub agent_id: String,
    pub name: Option<String>,
    pub version: Option<String>,
    pub trust_level: TrustLevel,
    pub reversibility: Reversibility,
    pub undo_window: Option<String>,
    pub retention: Retention,
    pub human_in_loop: bool,
    pub training_consent: bool,
    pub idempotency: bool,
    pub requests_per_minute: Option<u32>,
    pub protocol_version: String,
    /// Fields carried through to the well-known manifest unchanged (schema, authentication,
    /// storage location, SDK scopes, ...).
    pub extra: Map<String, Value>,
}

/// Both manifest shapes in one strict struct. Fields of the IATP shape first, then the SDK's.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawManifest {
    #[serde(rename = "$schema")]
    schema: Option<String>,
    #[serde(default, deserialize_with = "object")]
    identity: Option<RawIdentity>,
    trust_level: Option<TrustLevel>,
    #[serde(default, deserialize_with = "object")]
    capabilities: Option<RawCapabilities>,
    #[serde(default, deserialize_with = "object")]
    reversibility: Option<RawReversibility>,
    #[serde(default, deserialize_with = "object")]
    privacy: Option<RawPrivacy>,
    authentication: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "object")]
    rate_limiting: Option<RawRateLimiting>,
    protocol_version: Option<String>,
    manifest_version: Option<String>,
    updated_at: Option<String>,
    // Python SDK shape.
    agent_id: Option<String>,
    agent_version: Option<String>,
    #[serde(default, deserialize_with = "object")]
    privacy_contract: Option<RawPrivacyContract>,
    scopes: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    agent_id: String,
    name: Option<String>,
    version: Option<String>,
    verification_key: Option<String>,
    owner: Option<String>,
}

/// `capabilities` differs between the shapes; the keys of both are accepted here and checked
/// against the shape in use by `normalize`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapabilities {
    idempotency: Option<bool>,
    concurrency_limit: Option<u32>,
    sla_latency_ms: Option<u32>,
    // Python SDK shape.
    reversibility: Option<Reversibility>,
    undo_window: Option<String>,
    sla_latency: Option<String>,
    rate_limit: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReversibility {
    level: Reversibility,
    undo_window: Option<String>,
    undo_window_seconds: Option<u64>,
    compensation_method: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrivacy {
    #[serde(alias = "retention_policy")]
    retention: Retention,
    human_in_loop: Option<bool>,
    training_consent: Option<bool>,
    storage_location: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimiting {
    requests_per_minute: Option<u32>,
    burst: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrivacyContract {
    retention: Retention,
    storage_location: Option<String>,
    human_review: Option<bool>,
    encryption_at_rest: Option<bool>,
    encryption_in_transit: Option<bool>,
}

/// A manifest that deserialized but does not make sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestError {
    /// Both `identity` (IATP shape) and `agent_id` (Python SDK shape).
    BothShapes,
    /// Neither `identity.agent_id` nor `agent_id`.
    NoAgentId,
    /// A key of the other shape: `instead` is this shape's equivalent.
    OtherShape {
        key: &'static str,
        shape: &'static str,
        instead: &'static str,
    },
    /// The agent id is empty or longer than 256 bytes; `key` is where it is.
    AgentIdLength { key: &'static str },
    /// The agent id holds control characters.
    AgentIdControl { key: &'static str },
    /// No retention: `key` is `privacy` or `privacy_contract`.
    NoRetention { key: &'static str },
}

impl ManifestError {
    /// The configuration key: `manifest.identity.agent_id`.
    pub fn path(&self) -> String {
        let key = match self {
            ManifestError::BothShapes => "agent_id",
            ManifestError::NoAgentId => "identity",
            ManifestError::OtherShape { key, .. }
            | ManifestError::AgentIdLength { key }
            | ManifestError::AgentIdControl { key }
            | ManifestError::NoRetention { key } => key,
        };
        format!("manifest.{key}")
    }

    /// What is wrong with it.
    pub fn message(&self) -> String {
        match self {
            ManifestError::BothShapes => "the manifest has both `identity` (IATP shape) and `agent_id` (Python SDK shape); use one shape".into(),
            ManifestError::NoAgentId => "missing `identity.agent_id` (or `agent_id` in the Python SDK shape)".into(),
            ManifestError::OtherShape { key, shape, instead } => format!(
                "`{key}` belongs to the other manifest shape; this manifest uses the {shape}: use `{instead}`"
            ),
            ManifestError::AgentIdLength { .. } => {
                format!("must be 1 to {MAX_AGENT_ID_LEN} bytes long")
            }
            ManifestError::AgentIdControl { .. } => "must not contain control characters".into(),
            ManifestError::NoRetention { key } => {
                format!("missing `{key}.retention`: say how long the agent keeps data")
            }
        }
    }
}

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path(), self.message())
    }
}

impl std::error::Error for ManifestError {}

pub const DEFAULT_PROTOCOL_VERSION: &str = "1.0";
/// The longest agent id, in bytes (UTF-8).
pub const MAX_AGENT_ID_LEN: usize = 256;

impl RawManifest {
    pub fn normalize(self) -> Result<Manifest, ManifestError> {
        match (&self.identity, &self.agent_id) {
            (Some(_), Some(_)) => Err(ManifestError::BothShapes),
            (Some(_), None) => self.normalize_iatp(),
            (None, Some(_)) => self.normalize_sdk(),
            (None, None) => Err(ManifestError::NoAgentId),
        }
    }

    fn normalize_iatp(self) -> Result<Manifest, ManifestError> {
        let sdk_only = [
            (
                "agent_version",
                self.agent_version.is_some(),
                "identity.version",
            ),
            (
                "privacy_contract",
                self.privacy_contract.is_some(),
                "privacy",
            ),
            ("scopes", self.scopes.is_some(), "(no equivalent)"),
        ];
        reject_other_shape(&sdk_only, "IATP shape (it has `identity`)")?;
        let caps = self.capabilities.unwrap_or_default();
        let sdk_caps = [
            (
                "capabilities.reversibility",
                caps.reversibility.is_some(),
                "reversibility.level",
            ),
            (
                "capabilities.undo_window",
                caps.undo_window.is_some(),
                "reversibility.undo_window",
            ),
            (
                "capabilities.sla_latency",
                caps.sla_latency.is_some(),
                "capabilities.sla_latency_ms",
            ),
            (
                "capabilities.rate_limit",
                caps.rate_limit.is_some(),
                "rate_limiting.requests_per_minute",
            ),
        ];
        reject_other_shape(&sdk_caps, "IATP shape (it has `identity`)")?;

        let identity = self.identity.unwrap_or_default();
        check_agent_id(&identity.agent_id, "identity.agent_id")?;
        let privacy = self
            .privacy
            .ok_or(ManifestError::NoRetention { key: "privacy" })?;

        let mut extra = Map::new();
        put(&mut extra, "$schema", self.schema);
        put(&mut extra, "verification_key", identity.verification_key);
        put(&mut extra, "owner", identity.owner);
        put(&mut extra, "concurrency_limit", caps.concurrency_limit);
        put(&mut extra, "sla_latency_ms", caps.sla_latency_ms);
        put(&mut extra, "storage_location", privacy.storage_location);
        put(&mut extra, "authentication", self.authentication);
        put(&mut extra, "manifest_version", self.manifest_version);
        put(&mut extra, "updated_at", self.updated_at);
        let (undo_window, undo_window_seconds, compensation_method, reversibility) =
            match self.reversibility {
                Some(r) => (
                    r.undo_window,
                    r.undo_window_seconds,
                    r.compensation_method,
                    r.level,
                ),
                None => (None, None, None, Reversibility::None),
            };
        put(&mut extra, "undo_window_seconds", undo_window_seconds);
        put(&mut extra, "compensation_method", compensation_method);
        let burst = self.rate_limiting.as_ref().and_then(|r| r.burst);
        put(&mut extra, "burst", burst);

        Ok(Manifest {
            agent_id: identity.agent_id,
            name: identity.name,
            version: identity.version,
            trust_level: self.trust_level.unwrap_or(TrustLevel::Standard),
            reversibility,
            undo_window,
            retention: privacy.retention,
            human_in_loop: privacy.human_in_loop.unwrap_or(false),
            training_consent: privacy.training_consent.unwrap_or(false),
            idempotency: caps.idempotency.unwrap_or(false),
            requests_per_minute: self.rate_limiting.and_then(|r| r.requests_per_minute),
            protocol_version: self
                .protocol_version
                .unwrap_or_else(|| DEFAULT_PROTOCOL_VERSION.to_string()),
            extra,
        })
    }

    fn normalize_sdk(self) -> Result<Manifest, ManifestError> {
        let iatp_only = [
            (
                "reversibility",
                self.reversibility.is_some(),
                "capabilities.reversibility",
            ),
            ("privacy", self.privacy.is_some(), "privacy_contract"),
            (
                "rate_limiting",
                self.rate_limiting.is_some(),
                "capabilities.rate_limit",
            ),
        ];
        reject_other_shape(&iatp_only, "Python SDK shape (it has `agent_id`)")?;
        let caps = self.capabilities.unwrap_or_default();
        let iatp_caps = [
            (
                "capabilities.concurrency_limit",
                caps.concurrency_limit.is_some(),
                "(no equivalent)",
            ),
            (
                "capabilities.sla_latency_ms",
                caps.sla_latency_ms.is_some(),
                "capabilities.sla_latency",
            ),
        ];
        reject_other_shape(&iatp_caps, "Python SDK shape (it has `agent_id`)")?;

        let agent_id = self.agent_id.unwrap_or_default();
        check_agent_id(&agent_id, "agent_id")?;
        let privacy = self.privacy_contract.ok_or(ManifestError::NoRetention {
            key: "privacy_contract",
        })?;

        let mut extra = Map::new();
        put(&mut extra, "$schema", self.schema);
        put(&mut extra, "sla_latency", caps.sla_latency);
        put(&mut extra, "storage_location", privacy.storage_location);
        put(&mut extra, "encryption_at_rest", privacy.encryption_at_rest);
        put(
            &mut extra,
            "encryption_in_transit",
            privacy.encryption_in_transit,
        );
        put(&mut extra, "authentication", self.authentication);
        put(&mut extra, "manifest_version", self.manifest_version);
        put(&mut extra, "updated_at", self.updated_at);
        put(&mut extra, "scopes", self.scopes);

        Ok(Manifest {
            agent_id,
            name: None,
            version: self.agent_version,
            trust_level: self.trust_level.unwrap_or(TrustLevel::Standard),
            reversibility: caps.reversibility.unwrap_or_default(),
            undo_window: caps.undo_window,
            retention: privacy.retention,
            human_in_loop: privacy.human_review.unwrap_or(false),
            training_consent: false,
            idempotency: caps.idempotency.unwrap_or(false),
            requests_per_minute: caps.rate_limit,
            protocol_version: self
                .protocol_version
                .unwrap_or_else(|| DEFAULT_PROTOCOL_VERSION.to_string()),
            extra,
        })
    }
}

fn reject_other_shape(
    keys: &[(&'static str, bool, &'static str)],
    shape: &'static str,
) -> Result<(), ManifestError> {
    match keys.iter().find(|(_, present, _)| *present) {
        Some((key, _, instead)) => Err(ManifestError::OtherShape {
            key,
            shape,
            instead,
        }),
        None => Ok(()),
    }
}

fn check_agent_id(id: &str, key: &'static str) -> Result<(), ManifestError> {
    if id.is_empty() || id.len() > MAX_AGENT_ID_LEN {
        return Err(ManifestError::AgentIdLength { key });
    }
    if id.chars().any(char::is_control) {
        return Err(ManifestError::AgentIdControl { key });
    }
    Ok(())
}

fn put<T: Serialize>(map: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value.and_then(|v| serde_json::to_value(v).ok()) {
        map.insert(key.to_string(), v);
    }
}

fn take(extra: &Map<String, Value>, key: &str) -> Value {
    extra.get(key).cloned().unwrap_or(Value::Null)
}

impl Manifest {
    /// The manifest served at `/.well-known/agent-manifest`: the IATP shape with every default
    /// made explicit, plus the Python SDK's flat fields (`agent_id`, `agent_version`,
    /// `privacy_contract`, `capabilities.reversibility`, ...) so that clients of either kind
    /// parse it. Keys with no value are left out.
    pub fn to_well_known(&self) -> Value {
        let e = &self.extra;
        let mut doc = json!({
            "$schema": take(e, "$schema"),
            "identity": {
                "agent_id": self.agent_id,
                "name": self.name,
                "version": self.version,
                "verification_key": take(e, "verification_key"),
                "owner": take(e, "owner"),
            },
            "trust_level": self.trust_level.as_str(),
            "capabilities": {
                "idempotency": self.idempotency,
                "concurrency_limit": take(e, "concurrency_limit"),
                "sla_latency_ms": take(e, "sla_latency_ms"),
                "reversibility": self.reversibility.as_str(),
                "undo_window": self.undo_window,
                "sla_latency": take(e, "sla_latency"),
                "rate_limit": self.requests_per_minute,
            },
            "reversibility": {
                "level": self.reversibility.as_str(),
                "undo_window": self.undo_window,
                "undo_window_seconds": take(e, "undo_window_seconds"),
                "compensation_method": take(e, "compensation_method"),
            },
            "privacy": {
                "retention": self.retention.as_str(),
                "human_in_loop": self.human_in_loop,
                "training_consent": self.training_consent,
                "storage_location": take(e, "storage_location"),
            },
            "authentication": take(e, "authentication"),
            "rate_limiting": {
                "requests_per_minute": self.requests_per_minute,
                "burst": take(e, "burst"),
            },
            "protocol_version": self.protocol_version,
            "manifest_version": take(e, "manifest_version"),
            "updated_at": take(e, "updated_at"),
            "agent_id": self.agent_id,
            "agent_version": self.version,
            "privacy_contract": {
                "retention": self.retention.as_str(),
                "storage_location": take(e, "storage_location"),
                "human_review": self.human_in_loop,
                "encryption_at_rest": take(e, "encryption_at_rest"),
                "encryption_in_transit": take(e, "encryption_in_transit"),
            },
            "scopes": take(e, "scopes"),
        });
        drop_nulls(&mut doc);
        doc
    }
}

fn drop_nulls(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|_, v| !v.is_null());
        for v in map.values_mut() {
            drop_nulls(v);
        }
        map.retain(|_, v| !matches!(v, Value::Object(m) if m.is_empty()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<Manifest, ManifestError> {
        let raw: RawManifest = serde_json::from_value(v).unwrap();
        raw.normalize()
    }

    #[test]
    fn iatp_shape_with_defaults() {
        let m = parse(json!({
            "identity": {"agent_id": "booking-agent", "name": "Booking"},
            "trust_level": "trusted",
            "privacy": {"retention": "ephemeral"}
        }))
        .unwrap();
        assert_eq!(m.agent_id, "booking-agent");
        assert_eq!(m.trust_level, TrustLevel::Trusted);
        assert_eq!(m.reversibility, Reversibility::None);
        assert_eq!(m.retention, Retention::Ephemeral);
        assert!(!m.human_in_loop && !m.training_consent && !m.idempotency);
        assert_eq!(m.protocol_version, "1.0");
    }

    #[test]
    fn sdk_shape_means_the_same() {
        let sdk = parse(json!({
            "agent_id": "a1",
            "trust_level": "standard",
            "capabilities": {"reversibility": "partial", "idempotency": true, "undo_window": "24h", "rate_limit": 60},
            "privacy_contract": {"retention": "permanent", "human_review": true}
        }))
        .unwrap();
        let iatp = parse(json!({
            "identity": {"agent_id": "a1"},
            "trust_level": "standard",
            "capabilities": {"idempotency": true},
            "reversibility": {"level": "partial", "undo_window": "24h"},
            "privacy": {"retention": "permanent", "human_in_loop": true},
            "rate_limiting": {"requests_per_minute": 60}
        }))
        .unwrap();
        assert_eq!(sdk, iatp);
    }

    #[test]
    fn mixed_shapes_are_rejected_naming_the_key() {
        let err = parse(json!({
            "identity": {"agent_id": "a"},
            "privacy_contract": {"retention": "ephemeral"}
        }))
        .unwrap_err();
        assert_eq!(err.path(), "manifest.privacy_contract");
        assert!(matches!(
            err,
            ManifestError::OtherShape {
                instead: "privacy",
                ..
            }
        ));
        let err = parse(json!({
            "agent_id": "a",
            "capabilities": {"sla_latency_ms": 3},
            "privacy_contract": {"retention": "ephemeral"}
        }))
        .unwrap_err();
        assert_eq!(err.path(), "manifest.capabilities.sla_latency_ms");
        let err = parse(json!({"identity": {"agent_id": "a"}, "agent_id": "a"})).unwrap_err();
        assert_eq!(err.path(), "manifest.agent_id");
        assert_eq!(err, ManifestError::BothShapes);
    }

    #[test]
    fn missing_identity_or_retention_is_rejected() {
        assert_eq!(parse(json!({})).unwrap_err().path(), "manifest.identity");
        let err = parse(json!({"identity": {"agent_id": "a"}})).unwrap_err();
        assert_eq!(err.path(), "manifest.privacy");
        assert_eq!(
            err.to_string(),
            "manifest.privacy: missing `privacy.retention`: say how long the agent keeps data"
        );
        let err = parse(json!({"agent_id": "a"})).unwrap_err();
        assert_eq!(err.path(), "manifest.privacy_contract");
        let err =
            parse(json!({"identity": {"agent_id": ""}, "privacy": {"retention": "ephemeral"}}))
                .unwrap_err();
        assert_eq!(err.path(), "manifest.identity.agent_id");
        assert!(matches!(err, ManifestError::AgentIdLength { .. }));
        let err =
            parse(json!({"agent_id": "a\nb", "privacy_contract": {"retention": "ephemeral"}}))
                .unwrap_err();
        assert_eq!(err.path(), "manifest.agent_id");
        assert!(matches!(err, ManifestError::AgentIdControl { .. }));
    }

    #[test]
    fn unknown_keys_and_values_do_not_deserialize() {
        assert!(serde_json::from_value::<RawManifest>(json!({"identiti": {}})).is_err());
        assert!(serde_json::from_value::<RawManifest>(json!({"trust_level": "trusty"})).is_err());
        assert!(serde_json::from_value::<RawManifest>(
            json!({"privacy": {"retention": "ephemeral", "x": 1}})
        )
        .is_err());
    }

    #[test]
    fn well_known_carries_both_shapes() {
        let m = parse(json!({
            "$schema": "https://iatp.dev/schema/manifest-v1.json",
            "identity": {"agent_id": "booking-agent", "version": "1.0.0"},
            "trust_level": "standard",
            "reversibility": {"level": "partial", "undo_window": "24h"},
            "privacy": {"retention": "forever"}
        }))
        .unwrap();
        let doc = m.to_well_known();
        assert_eq!(doc["identity"]["agent_id"], "booking-agent");
        assert_eq!(doc["agent_id"], "booking-agent");
        assert_eq!(doc["agent_version"], "1.0.0");
        assert_eq!(doc["reversibility"]["level"], "partial");
        assert_eq!(doc["capabilities"]["reversibility"], "partial");
        assert_eq!(doc["privacy"]["retention"], "forever");
        assert_eq!(doc["privacy_contract"]["retention"], "forever");
        assert_eq!(doc["privacy_contract"]["human_review"], false);
        assert_eq!(doc["$schema"], "https://iatp.dev/schema/manifest-v1.json");
        assert!(doc.get("scopes").is_none());
        assert!(doc["identity"].get("name").is_none());
        // What we serve parses back into a manifest of the IATP shape once the SDK keys are
        // dropped, and means the same.
        let mut iatp = doc.clone();
        for k in ["agent_id", "agent_version", "privacy_contract"] {
            iatp.as_object_mut().unwrap().remove(k);
        }
        for k in ["reversibility", "undo_window", "sla_latency", "rate_limit"] {
            iatp["capabilities"].as_object_mut().unwrap().remove(k);
        }
        assert_eq!(parse(iatp).unwrap(), m);
    }

    #[test]
    fn forever_is_permanent_for_comparisons() {
        assert_eq!(Retention::Forever.canonical(), Retention::Permanent);
        assert_eq!(Retention::Ephemeral.canonical(), Retention::Ephemeral);
    }
}
