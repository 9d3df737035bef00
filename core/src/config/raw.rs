//! The configuration's shape, as serde reads it: strict (`deny_unknown_fields` everywhere), so
//! that a misspelt key is an error that names it, never a setting silently ignored.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::manifest::RawManifest;
use crate::policy::{Mode, RuleAction};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) mode: Option<Mode>,
    pub(super) hold_headers: Option<bool>,
    pub(super) manifest: Option<RawManifest>,
    pub(super) agent_card: Option<Map<String, Value>>,
    pub(super) well_known: Option<RawWellKnown>,
    pub(super) policy: Option<RawPolicy>,
    pub(super) detectors: Option<RawDetectors>,
    pub(super) limits: Option<RawLimits>,
    pub(super) events: Option<RawEvents>,
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
    pub(super) block_rules: Option<Vec<RawRule>>,
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

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub(super) max_body_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvents {
    pub(super) max_payload_bytes: Option<usize>,
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
