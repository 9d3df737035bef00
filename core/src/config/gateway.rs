//! `gateway` (ACVPS gateway mode, remote manifests, how much targets are trusted),
//! `control_plane` (contracts fetched periodically) and `attestation` (the protected agent's
//! own record, served at `/.well-known/agent-attestation`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::strict::object;
use super::ConfigError;
use crate::contract::moderation::Fail;
use crate::contract::{Contracts, MAX_ID_BYTES};
use crate::control_plane::{self, ControlPlane};
use crate::gateway::{Gateway, ManifestFetch, TargetTrust};
use crate::manifest::TrustLevel;
use crate::target::HostPattern;

pub const DEFAULT_MANIFESTS_CLUSTER: &str = "iatp_manifests";
pub const DEFAULT_FETCH_TIMEOUT_MS: u32 = 2_000;
pub const MAX_FETCH_TIMEOUT_MS: u32 = 60_000;
pub const DEFAULT_TTL_S: u64 = 3_600;
pub const DEFAULT_NEGATIVE_TTL_S: u64 = 60;
pub const DEFAULT_STALE_S: u64 = 300;
/// A week: a manifest older than that is not what the target says any more.
pub const MAX_TTL_S: u64 = 7 * 86_400;
pub const DEFAULT_MAX_ENTRIES: u64 = 1_024;
pub const MAX_MAX_ENTRIES: u64 = 65_536;
/// The reference SDK's default attestation lifetime (`create_attestation`'s
/// `expires_in_hours=24`).
pub const DEFAULT_ATTESTATION_MAX_AGE_S: u64 = 86_400;
pub const MAX_DIRECTORY_PATTERNS: usize = 1_024;
pub const MAX_TRUSTED_KEYS: usize = 64;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGateway {
    contract: Option<String>,
    serve_contracts: Option<bool>,
    #[serde(default, deserialize_with = "object")]
    manifests: Option<RawManifests>,
    #[serde(default, deserialize_with = "object")]
    trust: Option<RawTrust>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifests {
    cluster: Option<String>,
    timeout_ms: Option<u64>,
    ttl_s: Option<u64>,
    negative_ttl_s: Option<u64>,
    stale_s: Option<u64>,
    max_entries: Option<u64>,
    fail: Option<Fail>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrust {
    ceiling: Option<TrustLevel>,
    directory: Option<Vec<String>>,
    #[serde(default, deserialize_with = "object")]
    keys: Option<BTreeMap<String, String>>,
    max_age_s: Option<u64>,
    #[serde(default, deserialize_with = "object")]
    agents: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawControlPlane {
    cluster: String,
    authority: Option<String>,
    path: Option<String>,
    tenant_id: String,
    interval_s: Option<u64>,
    timeout_ms: Option<u64>,
    address_classes: Option<Vec<String>>,
}

use super::contracts::{address_class, visible};

fn invalid(path: &str, rule: &str) -> ConfigError {
    super::contracts::invalid(path.into(), rule)
}

/// `value` (or `default`) within `min..=max`, else an error naming `path`.
fn ranged(
    path: &str,
    value: Option<u64>,
    default: u64,
    min: u64,
    max: u64,
    unit: &str,
) -> Result<u64, ConfigError> {
    let v = value.unwrap_or(default);
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(ConfigError::OutOfRange {
            path: path.into(),
            bound: format!("is {v}; must be between {min} and {max} {unit}"),
        })
    }
}

/// `gateway`, once `contracts` are compiled (`gateway.contract` names one of them unless a
/// control plane will send them).
pub(super) fn compile(
    raw: Option<RawGateway>,
    contracts: &Contracts,
    control_plane: bool,
    notes: &mut Vec<String>,
) -> Result<Option<Gateway>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    // Named contracts must be among the configured ones even with a control plane: its sets
    // must keep them (`crate::control_plane`), so a name never points at nothing.
    if let Some(id) = &raw.contract {
        if contracts.get(id).is_none() {
            return Err(ConfigError::UnknownName {
                path: "gateway.contract".into(),
                what: "contract",
                name: id.clone(),
                suggestion: crate::rules::suggest(id, contracts.iter().map(|c| c.id.as_str()))
                    .map(String::from),
                known: contracts.iter().map(|c| c.id.clone()).collect(),
            });
        }
    }
    if contracts.is_empty() && !control_plane {
        notes.push(
            "gateway mode without contracts: every gateway request is refused (no contract \
             to hold it to)"
                .into(),
        );
    }
    let mut manifests = raw.manifests.map(manifests).transpose()?;
    let trust = trust(raw.trust.unwrap_or_default())?;
    if let Some(m) = manifests.as_mut().filter(|_| !trust.keys.is_empty()) {
        // With trusted keys a fetch may be two calls (the manifest, then its attestation):
        // the lease covers both, so that no second fetch starts while the first runs.
        m.cache.lease_ms = u64::from(m.timeout_ms)
            .saturating_mul(2)
            .saturating_add(500);
    }
    if manifests.is_none() && (!trust.keys.is_empty() || !trust.directory.is_empty()) {
        notes.push(
            "gateway.trust is configured but gateway.manifests is not: targets' manifests are \
             never fetched, so neither the directory nor the keys are used"
                .into(),
        );
    }
    Ok(Some(Gateway {
        contract: raw.contract,
        serve_contracts: raw.serve_contracts.unwrap_or(true),
        manifests,
        trust,
    }))
}

fn manifests(raw: RawManifests) -> Result<ManifestFetch, ConfigError> {
    let cluster = raw
        .cluster
        .unwrap_or_else(|| DEFAULT_MANIFESTS_CLUSTER.into());
    if !visible(&cluster, MAX_ID_BYTES) {
        return Err(invalid(
            "gateway.manifests.cluster",
            "an Envoy cluster name: 1 to 256 visible ASCII characters",
        ));
    }
    let timeout_ms = ranged(
        "gateway.manifests.timeout_ms",
        raw.timeout_ms,
        u64::from(DEFAULT_FETCH_TIMEOUT_MS),
        1,
        u64::from(MAX_FETCH_TIMEOUT_MS),
        "milliseconds",
    )?;
    let ttl_s = ranged(
        "gateway.manifests.ttl_s",
        raw.ttl_s,
        DEFAULT_TTL_S,
        1,
        MAX_TTL_S,
        "seconds",
    )?;
    let negative_ttl_s = ranged(
        "gateway.manifests.negative_ttl_s",
        raw.negative_ttl_s,
        DEFAULT_NEGATIVE_TTL_S,
        1,
        MAX_TTL_S,
        "seconds",
    )?;
    let stale_s = ranged(
        "gateway.manifests.stale_s",
        raw.stale_s,
        DEFAULT_STALE_S,
        0,
        MAX_TTL_S,
        "seconds",
    )?;
    let max_entries = ranged(
        "gateway.manifests.max_entries",
        raw.max_entries,
        DEFAULT_MAX_ENTRIES,
        1,
        MAX_MAX_ENTRIES,
        "entries",
    )?;
    let mut cache = crate::manifest_cache::Cache::new(u32::try_from(max_entries).unwrap_or(1024))
        .ok_or_else(|| ConfigError::OutOfRange {
        path: "gateway.manifests.max_entries".into(),
        bound: format!("is {max_entries}; must be between 1 and {MAX_MAX_ENTRIES} entries"),
    })?;
    cache.ttl_ms = ttl_s.saturating_mul(1000);
    cache.negative_ttl_ms = negative_ttl_s.saturating_mul(1000);
    cache.stale_ms = stale_s.saturating_mul(1000);
    cache.lease_ms = timeout_ms.saturating_add(500);
    Ok(ManifestFetch {
        cache,
        cluster,
        timeout_ms: u32::try_from(timeout_ms).unwrap_or(DEFAULT_FETCH_TIMEOUT_MS),
        ttl_ms: ttl_s.saturating_mul(1000),
        negative_ttl_ms: negative_ttl_s.saturating_mul(1000),
        stale_ms: stale_s.saturating_mul(1000),
        max_entries: u32::try_from(max_entries).unwrap_or(1024),
        fail: raw.fail.unwrap_or_default(),
    })
}

fn trust(raw: RawTrust) -> Result<TargetTrust, ConfigError> {
    let directory = raw.directory.unwrap_or_default();
    if directory.len() > MAX_DIRECTORY_PATTERNS {
        return Err(ConfigError::OutOfRange {
            path: "gateway.trust.directory".into(),
            bound: format!(
                "{} patterns; at most {MAX_DIRECTORY_PATTERNS}",
                directory.len()
            ),
        });
    }
    let directory = directory
        .iter()
        .enumerate()
        .map(|(i, p)| {
            HostPattern::parse(p).ok_or_else(|| {
                invalid(
                    &format!("gateway.trust.directory[{i}]"),
                    "a host name, `*.` and a domain, or an IP address",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let keys = raw.keys.unwrap_or_default();
    if keys.len() > MAX_TRUSTED_KEYS {
        return Err(ConfigError::OutOfRange {
            path: "gateway.trust.keys".into(),
            bound: format!("{} keys; at most {MAX_TRUSTED_KEYS}", keys.len()),
        });
    }
    let keys = crate::attestation::TrustedKeys::from_base64(
        keys.iter().map(|(id, key)| (id.as_str(), key.as_str())),
    )
    .map_err(|e| {
        invalid(
            &format!("gateway.trust.keys.{}", e.key_id),
            &format!(
                "an Ed25519 public key, standard base64 of its raw 32 bytes (the reference \
                 SDK's generate_ed25519_keypair): {e}"
            ),
        )
    })?;
    let max_age_s = ranged(
        "gateway.trust.max_age_s",
        raw.max_age_s,
        DEFAULT_ATTESTATION_MAX_AGE_S,
        1,
        365 * 86_400,
        "seconds",
    )?;
    let agents = raw.agents.unwrap_or_default();
    if agents.len() > MAX_DIRECTORY_PATTERNS {
        return Err(ConfigError::OutOfRange {
            path: "gateway.trust.agents".into(),
            bound: format!("{} hosts; at most {MAX_DIRECTORY_PATTERNS}", agents.len()),
        });
    }
    let agents = agents
        .into_iter()
        .map(|(pattern, id)| {
            let path = format!("gateway.trust.agents.{pattern}");
            let p = HostPattern::parse(&pattern).ok_or_else(|| {
                invalid(&path, "a host name, `*.` and a domain, or an IP address")
            })?;
            if id.is_empty() || id.len() > MAX_ID_BYTES || id.chars().any(char::is_control) {
                return Err(invalid(
                    &path,
                    "an agent id: 1 to 256 bytes, no control characters",
                ));
            }
            Ok((p, id))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TargetTrust {
        ceiling: raw.ceiling.unwrap_or(TrustLevel::Unknown),
        directory,
        keys,
        max_age_ms: max_age_s.saturating_mul(1000),
        agents,
    })
}

/// `control_plane`.
pub(super) fn compile_control_plane(
    raw: Option<RawControlPlane>,
) -> Result<Option<ControlPlane>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    if !visible(&raw.cluster, MAX_ID_BYTES) {
        return Err(invalid(
            "control_plane.cluster",
            "an Envoy cluster name: 1 to 256 visible ASCII characters",
        ));
    }
    let authority = raw.authority.unwrap_or_else(|| raw.cluster.clone());
    if !visible(&authority, MAX_ID_BYTES) {
        return Err(invalid(
            "control_plane.authority",
            "a host[:port]: 1 to 256 visible ASCII characters",
        ));
    }
    let path = raw
        .path
        .unwrap_or_else(|| control_plane::DEFAULT_PATH.into());
    if !path.starts_with('/') || !visible(&path, 2048) || path.contains('#') {
        return Err(invalid(
            "control_plane.path",
            "a request path: `/` then up to 2048 visible ASCII characters, no fragment",
        ));
    }
    // A tenant id goes into the query: unreserved characters only (RFC 3986 §2.3), so that
    // it needs no escaping and cannot add parameters.
    if raw.tenant_id.is_empty()
        || raw.tenant_id.len() > MAX_ID_BYTES
        || !raw
            .tenant_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    {
        return Err(invalid(
            "control_plane.tenant_id",
            "1 to 256 letters, digits, `-`, `.`, `_` or `~` (RFC 3986 unreserved characters)",
        ));
    }
    let interval_s = ranged(
        "control_plane.interval_s",
        raw.interval_s,
        control_plane::DEFAULT_INTERVAL_S,
        1,
        86_400,
        "seconds",
    )?;
    let timeout_ms = ranged(
        "control_plane.timeout_ms",
        raw.timeout_ms,
        u64::from(control_plane::DEFAULT_TIMEOUT_MS),
        1,
        u64::from(MAX_FETCH_TIMEOUT_MS),
        "milliseconds",
    )?;
    let mut address_classes = Vec::new();
    for (i, c) in raw.address_classes.unwrap_or_default().iter().enumerate() {
        let class = address_class(&format!("control_plane.address_classes[{i}]"), c)?;
        if !address_classes.contains(&class) {
            address_classes.push(class);
        }
    }
    Ok(Some(ControlPlane {
        address_classes,
        cluster: raw.cluster,
        authority,
        path,
        tenant_id: raw.tenant_id,
        interval_ms: interval_s.saturating_mul(1000),
        timeout_ms: u32::try_from(timeout_ms).unwrap_or(control_plane::DEFAULT_TIMEOUT_MS),
    }))
}
