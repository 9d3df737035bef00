//! The plugin configuration: one pure function from JSON bytes to a compiled [`Policy`].
//!
//! Strict by design: unknown keys, wrong types, unknown enum values and rules that do not
//! compile are errors ([`ConfigError`]) that name the key (or rule) and the position, and the
//! filter refuses to start. A bad configuration never silently becomes "allow everything".
//!
//! [`parse`] reads the text ([`raw`]), then compiles it section by section: the manifest and
//! its trust score, the detectors ([`detectors`]), the rules ([`rules`]), limits, events, and
//! the documents served at the well-known endpoints.

mod callers;
mod contracts;
mod detectors;
mod error;
mod gateway;
#[cfg(test)]
mod profile_attack2_tests;
#[cfg(test)]
mod profile_attack_tests;
#[cfg(test)]
mod profile_tests;
mod raw;
mod responses;
mod rules;
pub(crate) mod strict;
#[cfg(test)]
mod tests;

use std::marker::PhantomData;

use serde::de::DeserializeSeed;

use crate::agent_card::AgentCard;
use crate::chain::ChainKey;
use crate::manifest::Manifest;
use crate::overrides::OverrideKey;
use crate::policy::Policy;
use crate::rules::{Env, Uses, Var};
use crate::trust;

use crate::replies::Statuses;
pub use callers::MAX_DIRECTORY_ENTRIES;
pub use error::{ConfigError, Position};
use raw::{RawConfig, RawEvents, RawLimits, RawReplies};
pub use strict::MAX_CONFIG_BYTES;

/// The rule variables about the caller (read from Envoy on the request headers).
const CALLER_VARS: [Var; 8] = [
    Var::Caller,
    Var::CallerId,
    Var::CallerSource,
    Var::CallerSpiffeId,
    Var::CallerTrustDomain,
    Var::CallerTrustLevel,
    Var::CallerTier,
    Var::CallerTrustScore,
];

/// The rule variables a target's manifest decides.
const TARGET_MANIFEST_VARS: [Var; 9] = [
    Var::TargetManifest,
    Var::TargetAgentId,
    Var::TargetTrustLevel,
    Var::TargetTrustScore,
    Var::TargetRetention,
    Var::TargetReversibility,
    Var::TargetHumanInLoop,
    Var::TargetTrainingConsent,
    Var::TargetAttested,
];

pub const DEFAULT_MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;
/// 256 MiB. The body is copied into the Wasm VM, whose linear memory is at most 4 GiB (32-bit),
/// and its scan may take up to 13 times its size besides (the decoded views' budget,
/// `detect::decode::view_budget`, and what the token search decodes): a limit beyond this
/// could exhaust the VM instead of being answered.
pub const MAX_MAX_BODY_BYTES: u64 = 256 * 1024 * 1024;
pub const DEFAULT_TRUST_THRESHOLD: u8 = 3;
pub const DEFAULT_MAX_EVENT_PAYLOAD_BYTES: usize = 4096;
pub const MAX_MAX_EVENT_PAYLOAD_BYTES: usize = 1024 * 1024;
/// The largest manifest and agent card served at the well-known endpoints (as served, with
/// every default filled in): real ones are a few KiB, and every request for one copies it.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// HMAC keys shorter than this are guessable.
pub const MIN_CHAIN_KEY_BYTES: usize = 16;
/// An override key is an HMAC-SHA256 key: at least the hash's 32 bytes (RFC 2104 §3).
pub const MIN_OVERRIDE_KEY_BYTES: usize = 32;
pub const DEFAULT_OVERRIDE_TTL_SECS: u64 = 300;
pub const MAX_OVERRIDE_TTL_SECS: u64 = 86_400;

/// The configuration text (Envoy's `configuration` string, Istio's `pluginConfig` as JSON),
/// compiled. Load-time warnings (rules that can never match, ...) are in [`Policy::notes`].
pub fn parse(bytes: &[u8]) -> Result<Policy, ConfigError> {
    strict::check_text(bytes)?;
    strict::check_keys_and_nulls(bytes)?;
    let mut raw = read_raw(bytes)?;
    let profiles = raw.profiles.take();
    // The contracts as written, for their canonical JSON (their digest): each read from its
    // own text, so that every number is the one written (RFC 8785 hashes the text's double).
    let contract_json = match &raw.contracts {
        Some(c) if !c.is_empty() => contract_texts(bytes)
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                contracts::canonical(t.get()).map_err(|e| ConfigError::InvalidName {
                    path: format!("contracts[{i}]"),
                    rule: format!(
                        "a contract RFC 8785 can canonicalize (for its digest): {}",
                        e.as_str()
                    ),
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => Vec::new(),
    };
    let mut policy = compile(raw, &contract_json)?;
    if let Some(profiles) = profiles {
        let (compiled, notes) = compile_profiles(bytes, profiles, &contract_json, &policy)?;
        policy.profiles = compiled;
        policy.notes.extend(notes);
    }
    Ok(policy)
}

/// The text in the configuration's shape (strict: see [`strict`]).
fn read_raw(bytes: &[u8]) -> Result<RawConfig, ConfigError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let raw: RawConfig = strict::Object(PhantomData)
        .deserialize(&mut de)
        .map_err(|e| strict::json_error(bytes, &e))?;
    de.end().map_err(|e| strict::json_error(bytes, &e))?;
    Ok(raw)
}

/// The most `profiles` a configuration may name: each is a compiled policy of its own (its
/// scanner, rules and documents) in every worker's memory.
pub const MAX_PROFILES: usize = 32;

/// Compiled profiles by name, as [`Policy::profiles`] holds them.
type Profiles = Vec<(String, std::rc::Rc<Policy>)>;

/// `profiles`: each one the configuration (`bytes`, read again) with the profile's keys in
/// place of the base's, compiled as a whole, so that every check a configuration gets holds
/// for each profile too (a rule that reads a detector a profile turns off is refused, naming
/// the rule and the profile). Their load-time notes join the base's, named.
fn compile_profiles(
    bytes: &[u8],
    profiles: std::collections::BTreeMap<String, raw::ProfileObject>,
    contract_json: &[Vec<u8>],
    base: &Policy,
) -> Result<(Profiles, Vec<String>), ConfigError> {
    let mut notes = Vec::new();
    // Every built-in detector, whichever the base or a profile runs: a name is checked once.
    let every = base.scanner.clone().enable(
        base.scanner
            .enabled()
            .union(crate::detect::KindSet::all_built_ins()),
    );
    if profiles.len() > MAX_PROFILES {
        return Err(ConfigError::OutOfRange {
            path: "profiles".into(),
            bound: format!(
                "names {} profiles; at most {MAX_PROFILES} are accepted",
                profiles.len()
            ),
        });
    }
    let mut compiled = Vec::with_capacity(profiles.len());
    for (name, raw::ProfileObject(profile)) in profiles {
        let profile = *profile;
        if !is_profile_name(&name) {
            return Err(ConfigError::InvalidName {
                path: "profiles".into(),
                rule: format!(
                    "profile names are 1 to {MAX_PROFILE_NAME} characters of A-Z, a-z, 0-9, `_` and `-` (the value of a route's `filter_metadata` `iatp.profile`); {name:?} is not"
                ),
            });
        }
        // Event lines carry the name: it must not be a value a detector finds.
        if crate::phases::holds_sensitive(&every, name.as_bytes()) {
            return Err(ConfigError::InvalidName {
                path: "profiles".into(),
                rule: format!(
                    "a profile name ({} characters) holds a value a detector finds, and event lines carry the name: choose another",
                    name.len()
                ),
            });
        }
        let keys = profile_keys(&name, &profile)?;
        // In gateway mode a request's contract is the client's (`X-Contract-ID`, else
        // `gateway.contract`): a profile's `contract` would never apply.
        if base.gateway.is_some() && profile.contract.is_some() {
            return Err(ConfigError::InvalidName {
                path: format!("profiles.{name}.contract"),
                rule: "in gateway mode each request is held to the contract it names (`X-Contract-ID`, else `gateway.contract`); a profile's `contract` would never apply".into(),
            });
        }
        let mut raw = read_raw(bytes)?;
        raw.profiles = None;
        if let Some(mode) = profile.mode {
            raw.mode = Some(mode);
        }
        if let Some(policy) = profile.policy {
            raw.policy = Some(policy);
        }
        if let Some(d) = profile.detectors {
            let base = raw.detectors.get_or_insert_with(Default::default);
            if let Some(enabled) = d.enabled {
                base.enabled = Some(enabled);
            }
            if let Some(skip) = d.skip_headers {
                base.skip_headers = Some(skip);
            }
        }
        if let Some(responses) = profile.responses {
            raw.responses = Some(responses);
        }
        if let Some(limits) = profile.limits {
            raw.limits = Some(limits);
        }
        if let Some(contract) = profile.contract {
            raw.contract = Some(contract);
        }
        let mut policy = compile(raw, contract_json).map_err(|inner| {
            let top = inner.path();
            let first = top.split(['.', '[']).next().unwrap_or_default();
            ConfigError::InProfile {
                from_profile: keys.contains(&first),
                profile: name.clone(),
                inner: Box::new(inner),
            }
        })?;
        // The base's own notes are said once, not again for every profile.
        notes.extend(
            policy
                .notes
                .drain(..)
                .filter(|n| !base.notes.contains(n))
                .map(|n| format!("profile '{name}': {n}")),
        );
        policy.profile = Some(name.clone());
        compiled.push((name, std::rc::Rc::new(policy)));
    }
    Ok((compiled, notes))
}

/// The longest profile name.
const MAX_PROFILE_NAME: usize = 64;

/// A valid profile name: 1 to 64 of `A-Z a-z 0-9 _ -`.
pub fn is_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_PROFILE_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The keys a profile may set: what a route may judge differently. The others (`manifest`,
/// `hold_headers`, `callers`, `gateway`, `events`, `replies`, ...) are about the proxy or the
/// agent, the same on every route: the metrics' series, the events' chain and the shared
/// rate-limit buckets rest on them. `detectors` replaces the base's member by member, and not
/// `custom`: custom detectors are defined once (their kinds are the metrics' slots).
pub const PROFILE_KEYS: [&str; 6] = [
    "mode",
    "policy",
    "detectors",
    "responses",
    "limits",
    "contract",
];

/// The keys `profile` sets, or the first one it may not set. Every key of [`RawConfig`] is
/// named here (the pattern has no `..`): a new key does not compile until it is said whether a
/// profile may set it.
fn profile_keys(name: &str, p: &RawConfig) -> Result<Vec<&'static str>, ConfigError> {
    let RawConfig {
        mode,
        hold_headers,
        manifest,
        agent_card,
        well_known,
        policy,
        detectors,
        contracts,
        contract,
        moderation,
        limits,
        events,
        callers,
        replies,
        responses,
        gateway,
        control_plane,
        attestation,
        profiles,
    } = p;
    let refused = [
        ("hold_headers", hold_headers.is_some()),
        ("manifest", manifest.is_some()),
        ("agent_card", agent_card.is_some()),
        ("well_known", well_known.is_some()),
        ("contracts", contracts.is_some()),
        ("moderation", moderation.is_some()),
        ("events", events.is_some()),
        ("callers", callers.is_some()),
        ("replies", replies.is_some()),
        ("gateway", gateway.is_some()),
        ("control_plane", control_plane.is_some()),
        ("attestation", attestation.is_some()),
        ("profiles", profiles.is_some()),
        (
            "detectors.custom",
            detectors.as_ref().is_some_and(|d| d.custom.is_some()),
        ),
    ];
    if let Some((key, _)) = refused.iter().find(|(_, set)| *set) {
        return Err(ConfigError::InvalidName {
            path: format!("profiles.{name}.{key}"),
            rule: format!(
                "a profile cannot set `{key}`, which is the same on every route; a profile sets {} (of `detectors`: `enabled` and `skip_headers`)",
                PROFILE_KEYS.join(", ")
            ),
        });
    }
    Ok([
        ("mode", mode.is_some()),
        ("policy", policy.is_some()),
        ("detectors", detectors.is_some()),
        ("responses", responses.is_some()),
        ("limits", limits.is_some()),
        ("contract", contract.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect())
}

/// The text of each member of `contracts` in a JSON document (empty when there is none).
fn contract_texts(bytes: &[u8]) -> Vec<&serde_json::value::RawValue> {
    #[derive(serde::Deserialize)]
    struct Only<'a> {
        #[serde(borrow)]
        contracts: Option<Vec<&'a serde_json::value::RawValue>>,
    }
    serde_json::from_slice::<Only>(bytes)
        .ok()
        .and_then(|o| o.contracts)
        .unwrap_or_default()
}

/// A control plane's answer (`{"contracts": [...]}`) compiled against `policy`: contracts of
/// another tenant are dropped (their count is returned), the others checked exactly as the
/// configuration's `contracts` (errors name `control_plane.contracts[i]...`). The contracts
/// the configuration names (`contract`, `gateway.contract`) must be in the set: a set without
/// them is refused, so that a name never points at nothing. With `profiles`, the set is
/// checked against each profile too (its detectors, its `contract`), and refused whole when
/// one of them cannot take it; [`Policy::with_contracts`] hands it to every profile.
pub fn contracts_from_control_plane(
    body: &[u8],
    policy: &Policy,
) -> Result<(crate::contract::Contracts, usize), ConfigError> {
    let set = control_plane_set(body, policy)?;
    for (name, profile) in &policy.profiles {
        control_plane_set(body, profile).map_err(|inner| ConfigError::InProfile {
            profile: name.clone(),
            from_profile: false,
            inner: Box::new(inner),
        })?;
    }
    Ok(set)
}

/// [`contracts_from_control_plane`] for one policy.
fn control_plane_set(
    body: &[u8],
    policy: &Policy,
) -> Result<(crate::contract::Contracts, usize), ConfigError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Answer<'a> {
        #[serde(borrow)]
        contracts: Vec<&'a serde_json::value::RawValue>,
    }
    let Some(cp) = &policy.control_plane else {
        return Ok((policy.contracts.clone(), 0));
    };
    strict::check_text(body)?;
    strict::check_keys_and_nulls(body)?;
    let answer: Answer = serde_json::from_slice(body).map_err(|e| strict::json_error(body, &e))?;
    if answer.contracts.len() > crate::contract::MAX_CONTRACTS {
        return Err(ConfigError::OutOfRange {
            path: "control_plane.contracts".into(),
            bound: format!(
                "{} contracts; at most {}",
                answer.contracts.len(),
                crate::contract::MAX_CONTRACTS
            ),
        });
    }
    let mut all = Vec::with_capacity(answer.contracts.len());
    let mut dropped = 0;
    let mut notes = Vec::new();
    for (i, text) in answer.contracts.into_iter().enumerate() {
        let at = format!("control_plane.contracts[{i}]");
        let value: serde_json::Value =
            serde_json::from_str(text.get()).map_err(|e| strict::json_error(body, &e))?;
        if value.get("tenant_id").and_then(serde_json::Value::as_str) != Some(cp.tenant_id.as_str())
        {
            dropped += 1;
            continue;
        }
        let canonical = contracts::canonical(text.get()).map_err(|e| ConfigError::InvalidName {
            path: at.clone(),
            rule: format!(
                "a contract RFC 8785 can canonicalize (for its digest): {}",
                e.as_str()
            ),
        })?;
        let raw: contracts::RawContract =
            strict::Object(PhantomData)
                .deserialize(&value)
                .map_err(|e: serde_json::Error| ConfigError::Json {
                    path: at.clone(),
                    line: 0,
                    column: 0,
                    message: e.to_string(),
                })?;
        let c = contracts::compile_contract(
            &at,
            raw,
            canonical,
            &policy.scanner,
            policy.moderation.is_some(),
            &mut notes,
        )?;
        if let Some(class) = c
            .allowed_targets
            .classes
            .iter()
            .find(|k| !cp.address_classes.contains(k))
        {
            return Err(ConfigError::InvalidName {
                path: format!("{at}.allowed_targets.address_classes"),
                rule: format!(
                    "allows {} targets, which control_plane.address_classes does not let the \
                     control plane allow",
                    class.as_str()
                ),
            });
        }
        if let Some(first) = all
            .iter()
            .position(|o: &crate::contract::Contract| o.id == c.id)
        {
            return Err(ConfigError::Duplicate {
                path: format!("{at}.id"),
                message: format!(
                    "contract id '{}' is already used by contracts[{first}]",
                    c.id
                ),
            });
        }
        all.push(c);
    }
    let named = policy
        .contracts
        .inbound()
        .map(|c| ("contract", c.id.as_str()))
        .into_iter()
        .chain(
            policy
                .gateway
                .as_ref()
                .and_then(|g| g.contract.as_deref())
                .map(|id| ("gateway.contract", id)),
        );
    for (key, id) in named {
        if !all.iter().any(|c| c.id == id) {
            return Err(ConfigError::UnknownName {
                path: format!("control_plane.contracts ({key})"),
                what: "contract",
                name: id.into(),
                suggestion: None,
                known: all.iter().map(|c| c.id.clone()).collect(),
            });
        }
    }
    Ok((policy.contracts.replaced(all), dropped))
}

fn compile(raw: RawConfig, contract_json: &[Vec<u8>]) -> Result<Policy, ConfigError> {
    let manifest = raw.manifest.ok_or(ConfigError::NoManifest)?.normalize()?;
    let trust_score = trust::trust_score(&manifest);
    let mut raw_detectors = raw.detectors.unwrap_or_default();
    let skip_headers = detectors::skip_headers(raw_detectors.skip_headers.take())?;
    let scanner = detectors::compile(raw_detectors)?;
    let hold_headers = raw.hold_headers.unwrap_or(true);
    let mut policy = raw.policy.unwrap_or_default();
    let trust_threshold = trust_threshold(policy.trust_threshold)?;
    let (override_key, override_ttl_secs) =
        overrides(policy.override_key.take(), policy.override_ttl_seconds)?;
    let env = Env {
        manifest: &manifest,
        trust_score,
        scanner: &scanner,
    };
    let (rules, notes) = rules::compile(policy.block_rules, &env, hold_headers)?;
    let max_body_bytes = limits(raw.limits.unwrap_or_default())?;
    let (max_event_payload_bytes, chain_key) = events(raw.events.unwrap_or_default())?;
    let reply_statuses = replies(raw.replies.unwrap_or_default())?;
    let well_known = raw.well_known.unwrap_or_default();
    let agent_card = AgentCard::new(raw.agent_card, &manifest, well_known.agent_card)?;
    let mut notes = notes;
    let (contracts, moderation) = contracts::compile(
        raw.contracts,
        raw.gateway.is_some(),
        contract_json,
        raw.contract,
        raw.moderation,
        &scanner,
        &mut notes,
    )?;
    let control_plane = gateway::compile_control_plane(raw.control_plane)?;
    let gateway = gateway::compile(raw.gateway, &contracts, control_plane.is_some(), &mut notes)?;
    if gateway
        .as_ref()
        .and_then(|g| g.manifests.as_ref())
        .is_none()
    {
        // A rule about a target's manifest without manifests fetched would never see one:
        // `has_ssn && target_retention == 'permanent'` would never block.
        for (i, r) in rules.iter().enumerate() {
            let mut u = Uses::default();
            u.add(&r.cond);
            if let Some(v) = TARGET_MANIFEST_VARS.iter().find(|v| u.reads(**v)) {
                return Err(ConfigError::InvalidName {
                    path: format!("policy.block_rules[{i}].condition"),
                    rule: format!(
                        "reads {}, which only gateway.manifests can know (configure `gateway` \
                         with `manifests`)",
                        v.spec().name
                    ),
                });
            }
        }
    }
    // Responses are read when a rule reads them or a contract holds them to an envelope: the
    // inbound one, or in gateway mode each request's.
    let responses = responses::compile(
        raw.responses,
        rules.iter().any(|r| r.on_response)
            || contracts.inbound().is_some()
            || (gateway.is_some() && (!contracts.is_empty() || control_plane.is_some())),
    )?;
    let attestation_json = raw
        .attestation
        .map(|a| {
            let bytes = serde_json::to_vec(&a).unwrap_or_default();
            crate::attestation::AttestationRecord::parse(&bytes)
                .map(|_| bytes)
                .map_err(|e| ConfigError::InvalidName {
                    path: "attestation".into(),
                    rule: format!(
                        "the reference SDK's attestation record (agent_id, codebase_hash, \
                         config_hash, signature, signing_key_id, timestamp, expires_at): {e}"
                    ),
                })
        })
        .transpose()?;
    let actions = callers::actions(policy.actions.take(), &env, &mut notes)?;
    let callers_configured = raw.callers.is_some();
    let callers = callers::compile(raw.callers, &actions, &manifest)?;
    let mut uses = Uses::default();
    for cond in rules
        .iter()
        .map(|r| &r.cond)
        .chain(actions.iter().map(|a| &a.when))
    {
        uses.add(cond);
    }
    if !uses.claims.is_empty() && callers.sources().jwt.is_none() {
        let names: Vec<&str> = uses.claims.iter().map(String::as_str).collect();
        notes.push(format!(
            "claim('{}') is always '': no verified JWT is read without callers.sources.jwt",
            names.join("'), claim('")
        ));
    }
    // The caller is read from Envoy only when something needs it: a directory, a condition
    // about the caller, or a rate limit (buckets are per caller).
    let identity = callers_configured
        || CALLER_VARS.iter().any(|v| uses.reads(*v))
        || !uses.claims.is_empty()
        || callers.has_rate_limit();
    if agent_card.is_none() && well_known.agent_card.is_none() {
        notes.push(
            "the agent card is not served: agent_card.url is not configured \
             (set it, or well_known.agent_card: false to say so)"
                .into(),
        );
    }
    let legacy_override = policy.legacy_override.unwrap_or(false);
    let allow_override = policy.allow_override.unwrap_or(true);
    if allow_override && legacy_override {
        notes.push(
            "policy.legacy_override is on: any caller can override a warning with \
             `X-User-Override: true` (unsafe; use policy.override_key)"
                .into(),
        );
    } else if allow_override && override_key.is_none() {
        notes.push(
            "warnings cannot be overridden: policy.override_key is not set (overrides fail \
             closed; set a key of 32 bytes or more, or policy.allow_override: false to say so)"
                .into(),
        );
    }
    // The reference SDK's sidecar embeds its attestation in the manifest it serves.
    let manifest_json = well_known.agent_manifest.unwrap_or(true).then(|| {
        let mut doc = manifest.to_well_known();
        if let (Some(a), Some(obj)) = (&attestation_json, doc.as_object_mut()) {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(a) {
                obj.insert("attestation".into(), v);
            }
        }
        serde_json::to_vec(&doc).unwrap_or_default()
    });
    document_size("manifest", manifest_json.as_ref().map_or(0, Vec::len))?;
    document_size("agent_card", agent_card.as_ref().map_or(0, AgentCard::size))?;
    Ok(Policy {
        mode: raw.mode.unwrap_or_default(),
        hold_headers,
        trust_score,
        trust_score_text: trust_score.to_string(),
        trust_threshold,
        allow_override,
        override_key,
        override_ttl_secs,
        legacy_override,
        rules,
        actions,
        callers,
        identity,
        uses,
        scanner,
        skip_headers,
        max_body_bytes,
        responses,
        max_event_payload_bytes,
        chain_key,
        reply_statuses,
        manifest_json,
        agent_card,
        contracts,
        moderation,
        gateway,
        control_plane,
        attestation_json,
        low_trust_warning: low_trust_warning(&manifest, trust_score, trust_threshold),
        manifest,
        notes,
        profiles: Vec::new(),
        profile: None,
    })
}

/// A well-known document (the manifest, the agent card) as served, within
/// [`MAX_DOCUMENT_BYTES`].
fn document_size(path: &str, size: usize) -> Result<(), ConfigError> {
    if size > MAX_DOCUMENT_BYTES {
        return Err(ConfigError::OutOfRange {
            path: path.into(),
            bound: format!(
                "is {size} bytes as served; at most {MAX_DOCUMENT_BYTES} (64 KiB) are accepted"
            ),
        });
    }
    Ok(())
}

/// `policy.trust_threshold`: a score on the trust score's scale.
fn trust_threshold(raw: Option<u8>) -> Result<u8, ConfigError> {
    let threshold = raw.unwrap_or(DEFAULT_TRUST_THRESHOLD);
    if threshold > trust::MAX_SCORE {
        return Err(ConfigError::OutOfRange {
            path: "policy.trust_threshold".into(),
            bound: format!(
                "must be between 0 and {} (trust scores are 0..10)",
                trust::MAX_SCORE
            ),
        });
    }
    Ok(threshold)
}

/// `limits.max_body_bytes`.
fn limits(raw: RawLimits) -> Result<u64, ConfigError> {
    let max_body_bytes = raw.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
    if max_body_bytes > MAX_MAX_BODY_BYTES {
        return Err(ConfigError::OutOfRange {
            path: "limits.max_body_bytes".into(),
            bound: format!(
                "must be at most {MAX_MAX_BODY_BYTES} (256 MiB: the body and its scan must fit the Wasm VM's 4 GiB)"
            ),
        });
    }
    Ok(max_body_bytes)
}

/// `events`: the payload limit and the chain key.
fn events(raw: RawEvents) -> Result<(usize, Option<ChainKey>), ConfigError> {
    let max_payload = raw
        .max_payload_bytes
        .map_or(Ok(DEFAULT_MAX_EVENT_PAYLOAD_BYTES), |n| {
            usize::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_MAX_EVENT_PAYLOAD_BYTES)
                .ok_or_else(|| ConfigError::OutOfRange {
                    path: "events.max_payload_bytes".into(),
                    bound: format!("must be at most {MAX_MAX_EVENT_PAYLOAD_BYTES}"),
                })
        });
    let chain_key = match raw.chain_key {
        Some(k) if k.len() < MIN_CHAIN_KEY_BYTES => {
            return Err(ConfigError::OutOfRange {
                path: "events.chain_key".into(),
                bound: format!("must be at least {MIN_CHAIN_KEY_BYTES} bytes"),
            })
        }
        k => k.map(|k| ChainKey::new(k.as_bytes())),
    };
    Ok((max_payload?, chain_key))
}

/// `replies`: each refusal's status within [`Statuses::allowed`].
fn replies(raw: RawReplies) -> Result<Statuses, ConfigError> {
    let d = Statuses::default();
    let s = raw.status.unwrap_or_default();
    let one = |key: &str, v: Option<u16>, default: u16| match v {
        Some(n) if !Statuses::allowed(n) => Err(ConfigError::OutOfRange {
            path: format!("replies.status.{key}"),
            bound: format!(
                "is {n}; must be an HTTP status from 200 to 599, and not 204, 205 (no body) \
                 nor 3xx (a redirection without a Location)"
            ),
        }),
        v => Ok(v.unwrap_or(default)),
    };
    Ok(Statuses {
        block: one("block", s.block, d.block)?,
        warn: one("warn", s.warn, d.warn)?,
        rate_limited: one("rate_limited", s.rate_limited, d.rate_limited)?,
        forbidden: one("forbidden", s.forbidden, d.forbidden)?,
        jsonrpc: raw.jsonrpc_status.unwrap_or_default(),
    })
}

/// `policy.override_key` and `policy.override_ttl_seconds`.
fn overrides(
    key: Option<String>,
    ttl: Option<u64>,
) -> Result<(Option<OverrideKey>, u64), ConfigError> {
    let key = match key {
        Some(k) if k.len() < MIN_OVERRIDE_KEY_BYTES => {
            return Err(ConfigError::OutOfRange {
                path: "policy.override_key".into(),
                bound: format!("must be at least {MIN_OVERRIDE_KEY_BYTES} bytes"),
            })
        }
        k => k.map(|k| OverrideKey::new(k.as_bytes())),
    };
    let ttl = ttl.unwrap_or(DEFAULT_OVERRIDE_TTL_SECS);
    if !(1..=MAX_OVERRIDE_TTL_SECS).contains(&ttl) {
        return Err(ConfigError::OutOfRange {
            path: "policy.override_ttl_seconds".into(),
            bound: format!("must be between 1 and {MAX_OVERRIDE_TTL_SECS} (a day)"),
        });
    }
    Ok((key, ttl))
}

/// The warning every request gets when the trust score is below the threshold.
fn low_trust_warning(manifest: &Manifest, score: u8, threshold: u8) -> Option<String> {
    (score < threshold).then(|| {
        format!(
            "Low trust score ({score}/10, threshold {threshold}) for agent '{}'",
            manifest.agent_id
        )
    })
}
