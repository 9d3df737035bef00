//! The configuration's shape, as serde reads it: strict (`deny_unknown_fields` everywhere), so
//! that a misspelt key is an error that names it, never a setting silently ignored. Every
//! struct position is read with `strict::object(s)` (objects only, never a positional array),
//! every closed set with `strict::named` (a string of the set); `null` and duplicate keys never
//! get here (`strict::check_keys_and_nulls`).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::strict::{deserialize_named, object, objects, Named};
use crate::manifest::RawManifest;
use crate::policy::{Mode, RuleAction};
use crate::replies::JsonRpcStatus;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) mode: Option<Mode>,
    pub(super) hold_headers: Option<bool>,
    #[serde(default, deserialize_with = "object")]
    pub(super) manifest: Option<RawManifest>,
    pub(super) agent_card: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "object")]
    pub(super) well_known: Option<RawWellKnown>,
    #[serde(default, deserialize_with = "object")]
    pub(super) policy: Option<RawPolicy>,
    #[serde(default, deserialize_with = "object")]
    pub(super) detectors: Option<RawDetectors>,
    #[serde(default, deserialize_with = "objects")]
    pub(super) contracts: Option<Vec<super::contracts::RawContract>>,
    pub(super) contract: Option<String>,
    #[serde(default, deserialize_with = "object")]
    pub(super) moderation: Option<super::contracts::RawModeration>,
    #[serde(default, deserialize_with = "object")]
    pub(super) limits: Option<RawLimits>,
    #[serde(default, deserialize_with = "object")]
    pub(super) events: Option<RawEvents>,
    #[serde(default, deserialize_with = "object")]
    pub(super) callers: Option<super::callers::RawCallers>,
    #[serde(default, deserialize_with = "object")]
    pub(super) replies: Option<RawReplies>,
    #[serde(default, deserialize_with = "object")]
    pub(super) responses: Option<super::responses::RawResponses>,
    #[serde(default, deserialize_with = "object")]
    pub(super) gateway: Option<super::gateway::RawGateway>,
    #[serde(default, deserialize_with = "object")]
    pub(super) control_plane: Option<super::gateway::RawControlPlane>,
    /// The protected agent's attestation record (the reference SDK's `AttestationRecord`).
    pub(super) attestation: Option<Map<String, Value>>,
    /// `profiles`: named variants of this configuration that a route picks with its
    /// `filter_metadata` (`iatp.profile`), each compiled into a policy of its own.
    #[serde(default, deserialize_with = "object")]
    pub(super) profiles: Option<std::collections::BTreeMap<String, ProfileObject>>,
}

/// One of `profiles`, read as a configuration of its own (the same reader: a profile's keys
/// have the same shapes), from an object only (a map's values are not read through
/// `deserialize_with`). Which keys a profile may set is checked when it is compiled.
#[derive(Debug)]
pub(super) struct ProfileObject(pub(super) Box<RawConfig>);

impl<'de> Deserialize<'de> for ProfileObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::DeserializeSeed;
        super::strict::Object(std::marker::PhantomData)
            .deserialize(d)
            .map(|raw| ProfileObject(Box::new(raw)))
    }
}

/// `replies`: the HTTP status of each refusal.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReplies {
    #[serde(default, deserialize_with = "object")]
    pub(super) status: Option<RawReplyStatus>,
    pub(super) jsonrpc_status: Option<JsonRpcStatus>,
}

/// `replies.status`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReplyStatus {
    pub(super) block: Option<u16>,
    pub(super) warn: Option<u16>,
    pub(super) rate_limited: Option<u16>,
    pub(super) forbidden: Option<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub(super) trust_threshold: Option<u8>,
    pub(super) allow_override: Option<bool>,
    /// A secret: override tokens are HMAC-SHA256 under it (see `overrides`).
    pub(super) override_key: Option<String>,
    pub(super) override_ttl_seconds: Option<u64>,
    /// The unsafe legacy form: `X-User-Override: true` overrides.
    pub(super) legacy_override: Option<bool>,
    #[serde(default, deserialize_with = "objects")]
    pub(super) block_rules: Option<Vec<RawRule>>,
    #[serde(default, deserialize_with = "objects")]
    pub(super) actions: Option<Vec<super::callers::RawAction>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub(super) name: String,
    pub(super) condition: String,
    pub(super) action: RuleAction,
    pub(super) message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDetectors {
    pub(super) enabled: Option<Vec<String>>,
    #[serde(default, deserialize_with = "objects")]
    pub(super) custom: Option<Vec<RawCustomDetector>>,
    pub(super) skip_headers: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCustomDetector {
    pub(super) name: String,
    pub(super) pattern: String,
    pub(super) checksum: Option<RawChecksum>,
    pub(super) cues: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum RawChecksum {
    Luhn,
    Mod97,
}

/// Which well-known documents the filter answers itself.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWellKnown {
    pub(super) agent_manifest: Option<bool>,
    pub(super) agent_card: Option<bool>,
}

impl Named for RawChecksum {
    const ALL: &'static [Self] = &[RawChecksum::Luhn, RawChecksum::Mod97];
    const NAMES: &'static [&'static str] = &["luhn", "mod97"];
    fn name(self) -> &'static str {
        match self {
            RawChecksum::Luhn => "luhn",
            RawChecksum::Mod97 => "mod97",
        }
    }
}

deserialize_named!(RawChecksum);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub(super) max_body_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvents {
    pub(super) max_payload_bytes: Option<u64>,
    /// A secret: event lines are sealed with HMAC-SHA256 under it (see `chain`).
    pub(super) chain_key: Option<String>,
}

/// The two rules of the architecture document, used when `policy.block_rules` is absent.
pub(super) fn default_rules() -> Vec<RawRule> {
    vec![
        RawRule {
            name: "credit_card_to_untrusted".into(),
            condition: "has_credit_card && trust_level == 'untrusted'".into(),
            action: RuleAction::Block,
            message: Some(
                "Privacy Violation: request contains credit card data and agent '{agent_id}' is untrusted. Request blocked for security."
                    .into(),
            ),
        },
        RawRule {
            name: "ssn_to_permanent".into(),
            condition: "has_ssn && retention == 'permanent'".into(),
            action: RuleAction::Block,
            message: Some(
                "Privacy Violation: agent '{agent_id}' stores data permanently and request contains SSN. Request blocked for security."
                    .into(),
            ),
        },
    ]
}
