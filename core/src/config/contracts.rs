//! `contracts`, `contract` and `moderation`: the ACVPS contracts a response is held to, which
//! one applies to inbound exchanges, and the moderation service that scores toxicity and bias
//! (see `crate::contract`).

use std::collections::BTreeMap;
use std::marker::PhantomData;

use serde::de::DeserializeSeed;
use serde::{Deserialize, Deserializer};

use super::strict::{deserialize_named, object, objects, Named, Object};
use super::ConfigError;
use crate::contract::moderation::{self, Fail, Moderation};
use crate::contract::terms::{self, DeniedTerms, TermError};
use crate::contract::{pii, Contract, Contracts, Envelope, FindingsBound};
use crate::contract::{MAX_CONTRACTS, MAX_ID_BYTES};
use crate::detect::Scanner;
use crate::rules::suggest;
use crate::target::{AddressClass, AllowedTargets, HostPattern, Scheme, Target};

/// Longest `target_endpoint` and `moderation.path` (bytes).
pub const MAX_URL_BYTES: usize = 2048;

/// One of `contracts` (ACVPS).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawContract {
    id: String,
    service_name: Option<String>,
    tenant_id: Option<String>,
    #[serde(default, deserialize_with = "object")]
    feature_extractors: Option<RawExtractors>,
    #[serde(default, deserialize_with = "object")]
    envelope: Option<RawEnvelope>,
    target_endpoint: Option<String>,
    #[serde(default, deserialize_with = "object")]
    allowed_targets: Option<RawAllowedTargets>,
    #[serde(default, deserialize_with = "objects")]
    certificates: Option<Vec<RawCertificate>>,
}

/// `allowed_targets`: where gateway mode may send data under a contract.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllowedTargets {
    schemes: Option<Vec<String>>,
    hosts: Option<Vec<String>>,
    ports: Option<Vec<u64>>,
    address_classes: Option<Vec<String>>,
}

/// One of `certificates`: an ACVPS digital certificate registered for the contract.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCertificate {
    id: String,
}

/// `feature_extractors`: what is measured.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtractors {
    #[serde(default, deserialize_with = "object")]
    pii_detector: Option<RawSwitch>,
    #[serde(default, deserialize_with = "object")]
    toxicity_detector: Option<RawSwitch>,
    #[serde(default, deserialize_with = "object")]
    bias_detector: Option<RawSwitch>,
}

/// `{"enabled": bool}` (`enabled` defaults to true: naming an extractor turns it on).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSwitch {
    enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope {
    #[serde(default, deserialize_with = "object")]
    pii_risk: Option<RawPiiRisk>,
    #[serde(default, deserialize_with = "object")]
    toxicity_score: Option<RawScore>,
    #[serde(default, deserialize_with = "object")]
    bias_score: Option<RawScore>,
    #[serde(default, deserialize_with = "object")]
    findings: Option<BTreeMap<String, Obj<RawCount>>>,
    denied_terms: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPiiRisk {
    max: f64,
    /// Detector name → its weight in `pii_risk` (0.0 to 1.0), instead of its category's.
    #[serde(default, deserialize_with = "object")]
    weights: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScore {
    max: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCount {
    max: u64,
}

/// A map's value read from an object only (see `strict::object`).
#[derive(Debug)]
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Object(PhantomData).deserialize(d).map(Obj)
    }
}

/// `moderation`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawModeration {
    cluster: String,
    authority: Option<String>,
    path: Option<String>,
    model: Option<String>,
    timeout_ms: Option<u64>,
    fail: Option<Fail>,
    max_input_bytes: Option<u64>,
}

impl Named for Fail {
    const ALL: &'static [Self] = &[Fail::Open, Fail::Closed];
    const NAMES: &'static [&'static str] = &["open", "closed"];
    fn name(self) -> &'static str {
        match self {
            Fail::Open => "open",
            Fail::Closed => "closed",
        }
    }
}

deserialize_named!(Fail);

/// 1 to `max` visible ASCII characters (`!` to `~`).
pub(super) fn visible(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_graphic())
}

pub(super) fn invalid(path: String, rule: &str) -> ConfigError {
    ConfigError::InvalidName {
        path,
        rule: rule.into(),
    }
}

fn score(path: String, max: f64) -> Result<f64, ConfigError> {
    if (0.0..=1.0).contains(&max) {
        Ok(max)
    } else {
        Err(ConfigError::OutOfRange {
            path,
            bound: format!("is {max}; must be between 0.0 and 1.0"),
        })
    }
}

/// Compiles the three keys; notes what will not be checked.
pub(super) fn compile(
    raw: Option<Vec<RawContract>>,
    gateway: bool,
    json: &[Vec<u8>],
    contract: Option<String>,
    moderation: Option<RawModeration>,
    scanner: &Scanner,
    notes: &mut Vec<String>,
) -> Result<(Contracts, Option<Moderation>), ConfigError> {
    let moderation = moderation.map(compile_moderation).transpose()?;
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_CONTRACTS {
        return Err(ConfigError::OutOfRange {
            path: "contracts".into(),
            bound: format!("{} contracts; at most {MAX_CONTRACTS}", raw.len()),
        });
    }
    let mut all: Vec<Contract> = Vec::with_capacity(raw.len());
    for (i, c) in raw.into_iter().enumerate() {
        let canonical = json.get(i).cloned().unwrap_or_default();
        let compiled = compile_contract(
            &format!("contracts[{i}]"),
            c,
            canonical,
            scanner,
            moderation.is_some(),
            notes,
        )?;
        if let Some(first) = all.iter().position(|o| o.id == compiled.id) {
            return Err(ConfigError::Duplicate {
                path: format!("contracts[{i}].id"),
                message: format!(
                    "contract id '{}' is already used by contracts[{first}]",
                    compiled.id
                ),
            });
        }
        all.push(compiled);
    }
    let inbound = match contract {
        None => {
            if !all.is_empty() && !gateway {
                notes.push(
                    "no contract applies to inbound exchanges: `contract` is not set \
                     (contracts apply only when named)"
                        .into(),
                );
            }
            None
        }
        Some(id) => match all.iter().position(|c| c.id == id) {
            Some(i) => Some(i),
            None => {
                let known: Vec<String> = all.iter().map(|c| c.id.clone()).collect();
                return Err(ConfigError::UnknownName {
                    path: "contract".into(),
                    what: "contract",
                    suggestion: suggest(&id, known.iter().map(String::as_str)).map(String::from),
                    name: id,
                    known,
                });
            }
        },
    };
    let contracts = Contracts::new(all, inbound);
    if moderation.is_some() && !contracts.need_moderation() {
        notes.push(
            "moderation is configured but never called: no contract bounds toxicity_score or \
             bias_score, or enables toxicity_detector or bias_detector"
                .into(),
        );
    }
    Ok((contracts, moderation))
}

fn compile_moderation(raw: RawModeration) -> Result<Moderation, ConfigError> {
    const NAME: &str = "1 to 256 visible ASCII characters";
    if !visible(&raw.cluster, MAX_ID_BYTES) {
        return Err(invalid(
            "moderation.cluster".into(),
            &format!("an Envoy cluster name: {NAME}"),
        ));
    }
    let authority = raw.authority.unwrap_or_else(|| raw.cluster.clone());
    if !visible(&authority, MAX_ID_BYTES) {
        return Err(invalid(
            "moderation.authority".into(),
            &format!("a host[:port]: {NAME}"),
        ));
    }
    let path = raw.path.unwrap_or_else(|| moderation::DEFAULT_PATH.into());
    if !path.starts_with('/') || !visible(&path, MAX_URL_BYTES) {
        return Err(invalid(
            "moderation.path".into(),
            "a request path: `/` then up to 2048 visible ASCII characters in all",
        ));
    }
    if raw
        .model
        .as_deref()
        .is_some_and(|m| !visible(m, MAX_ID_BYTES))
    {
        return Err(invalid(
            "moderation.model".into(),
            &format!("a model name: {NAME}"),
        ));
    }
    let timeout_ms = raw
        .timeout_ms
        .map_or(Ok(moderation::DEFAULT_TIMEOUT_MS), |t| {
            u32::try_from(t)
                .ok()
                .filter(|t| (1..=moderation::MAX_TIMEOUT_MS).contains(t))
                .ok_or_else(|| ConfigError::OutOfRange {
                    path: "moderation.timeout_ms".into(),
                    bound: format!(
                        "is {t}; must be between 1 and {} (a minute)",
                        moderation::MAX_TIMEOUT_MS
                    ),
                })
        })?;
    let max_input_bytes =
        raw.max_input_bytes
            .map_or(Ok(moderation::DEFAULT_MAX_INPUT_BYTES), |n| {
                usize::try_from(n)
                    .ok()
                    .filter(|n| (1..=moderation::MAX_MAX_INPUT_BYTES).contains(n))
                    .ok_or_else(|| ConfigError::OutOfRange {
                        path: "moderation.max_input_bytes".into(),
                        bound: format!(
                            "is {n}; must be between 1 and {} (1 MiB)",
                            moderation::MAX_MAX_INPUT_BYTES
                        ),
                    })
            })?;
    Ok(Moderation {
        cluster: raw.cluster,
        authority,
        path,
        model: raw.model,
        timeout_ms,
        fail: raw.fail.unwrap_or_default(),
        max_input_bytes,
    })
}

/// Free text kept for events (`service_name`, `tenant_id`, `target_endpoint`): 1 to `max`
/// bytes, no control characters.
fn text(path: String, v: Option<String>, max: usize) -> Result<Option<String>, ConfigError> {
    match v {
        Some(s) if s.is_empty() || s.len() > max || s.chars().any(char::is_control) => Err(
            invalid(path, &format!("1 to {max} bytes, no control characters")),
        ),
        v => Ok(v),
    }
}

/// One contract; `at` is its key path (`contracts[2]`, or the control plane's answer's), and
/// `canonical` its RFC 8785 form.
pub(super) fn compile_contract(
    at: &str,
    c: RawContract,
    canonical: Vec<u8>,
    scanner: &Scanner,
    moderation: bool,
    notes: &mut Vec<String>,
) -> Result<Contract, ConfigError> {
    let at = at.to_string();
    if !visible(&c.id, MAX_ID_BYTES) {
        return Err(invalid(
            format!("{at}.id"),
            "a contract id: 1 to 256 visible ASCII characters (`groq-llm/ai/us/v1.0`)",
        ));
    }
    let service_name = text(format!("{at}.service_name"), c.service_name, MAX_ID_BYTES)?;
    let tenant_id = text(format!("{at}.tenant_id"), c.tenant_id, MAX_ID_BYTES)?;
    let target_endpoint = text(
        format!("{at}.target_endpoint"),
        c.target_endpoint,
        MAX_URL_BYTES,
    )?;
    if let Some(url) = &target_endpoint {
        Target::parse(url).map_err(|e| {
            invalid(
                format!("{at}.target_endpoint"),
                &format!(
                    "an absolute http(s) URL the gateway can route to ({})",
                    e.as_str()
                ),
            )
        })?;
    }
    let allowed_targets = allowed_targets(&at, c.allowed_targets.unwrap_or_default())?;
    let certificates = certificates(&at, c.certificates.unwrap_or_default())?;
    let fx = c.feature_extractors.unwrap_or_default();
    let env = c.envelope.unwrap_or_default();
    let switch = |s: &Option<RawSwitch>, default: bool| {
        s.as_ref().map_or(default, |s| s.enabled.unwrap_or(true))
    };
    let pii = switch(&fx.pii_detector, true);
    let toxicity = switch(&fx.toxicity_detector, env.toxicity_score.is_some());
    let bias = switch(&fx.bias_detector, env.bias_score.is_some());

    // The moderation bounds first: without a service, nothing else matters.
    for (on, bound, name, extractor) in [
        (
            toxicity,
            env.toxicity_score.is_some(),
            "toxicity_score",
            "toxicity_detector",
        ),
        (
            bias,
            env.bias_score.is_some(),
            "bias_score",
            "bias_detector",
        ),
    ] {
        if !moderation && (on || bound) {
            let path = if bound {
                format!("{at}.envelope.{name}")
            } else {
                format!("{at}.feature_extractors.{extractor}")
            };
            return Err(ConfigError::NeedsModeration { path, what: name });
        }
        if bound && !on {
            notes.push(format!(
                "{at}.envelope.{name} is not checked: feature_extractors.{extractor} is disabled"
            ));
        }
    }
    let toxicity_score = env
        .toxicity_score
        .map(|s| score(format!("{at}.envelope.toxicity_score.max"), s.max))
        .transpose()?;
    let bias_score = env
        .bias_score
        .map(|s| score(format!("{at}.envelope.bias_score.max"), s.max))
        .transpose()?;

    let mut weights: Vec<f64> = scanner
        .all_names()
        .iter()
        .map(|n| pii::default_weight(n))
        .collect();
    let pii_risk = match env.pii_risk {
        None => None,
        Some(r) => {
            let max = score(format!("{at}.envelope.pii_risk.max"), r.max)?;
            for (name, w) in r.weights.unwrap_or_default() {
                let path = format!("{at}.envelope.pii_risk.weights.{name}");
                let kind = known_detector(scanner, &path, &name)?;
                let w = score(path, w)?;
                if let Some(slot) = weights.get_mut(kind.index()) {
                    *slot = w;
                }
            }
            Some(max)
        }
    };
    let mut findings = Vec::new();
    for (name, Obj(bound)) in env.findings.unwrap_or_default() {
        let path = format!("{at}.envelope.findings.{name}");
        let kind = known_detector(scanner, &path, &name)?;
        if !scanner.enabled().contains(kind) {
            return Err(ConfigError::DetectorNotEnabled { path, name });
        }
        findings.push(FindingsBound {
            kind,
            name,
            max: bound.max,
        });
    }
    if !pii && (pii_risk.is_some() || !findings.is_empty()) {
        notes.push(format!(
            "{at}.envelope.pii_risk and findings are not checked: \
             feature_extractors.pii_detector is disabled"
        ));
    }
    let denied_terms = denied_terms(&at, env.denied_terms.unwrap_or_default())?;
    let digest = crate::canonical::digest(&canonical);
    let sha256 = crate::canonical::sha256(&canonical);
    Ok(Contract {
        id: c.id,
        service_name,
        tenant_id,
        target_endpoint,
        allowed_targets,
        certificates,
        canonical,
        digest,
        sha256,
        envelope: Envelope {
            pii,
            toxicity,
            bias,
            pii_risk,
            weights,
            findings,
            denied_terms,
            toxicity_score,
            bias_score,
        },
    })
}

/// A detector name of the catalogue (built-in or custom, enabled or not).
fn known_detector(
    scanner: &Scanner,
    path: &str,
    name: &str,
) -> Result<crate::detect::Kind, ConfigError> {
    scanner
        .kind_by_name(name)
        .ok_or_else(|| ConfigError::UnknownName {
            path: path.into(),
            what: "detector",
            name: name.into(),
            suggestion: suggest(name, scanner.all_names().iter().map(String::as_str))
                .map(String::from),
            known: scanner.all_names().to_vec(),
        })
}

fn denied_terms(at: &str, list: Vec<String>) -> Result<DeniedTerms, ConfigError> {
    let path = format!("{at}.envelope.denied_terms");
    DeniedTerms::compile(&list).map_err(|e| match e {
        TermError::TooMany => ConfigError::OutOfRange {
            path,
            bound: format!("{} terms; at most {}", list.len(), terms::MAX_TERMS),
        },
        TermError::Length(i) => ConfigError::OutOfRange {
            path: format!("{path}[{i}]"),
            bound: format!(
                "a term is 1 to {} bytes, not only white space",
                terms::MAX_TERM_BYTES
            ),
        },
        TermError::Control(i) => invalid(
            format!("{path}[{i}]"),
            "a term holds no control characters (tabs and line breaks read as spaces)",
        ),
        TermError::Duplicate(first, i) => ConfigError::Duplicate {
            path: format!("{path}[{i}]"),
            message: format!(
                "the same term as denied_terms[{first}] (terms compare without case, \
                 with white space runs as one space)"
            ),
        },
    })
}

/// Most entries in each list of `allowed_targets`, and most `certificates`.
pub const MAX_TARGET_ENTRIES: usize = 256;

fn allowed_targets(at: &str, raw: RawAllowedTargets) -> Result<AllowedTargets, ConfigError> {
    let at = format!("{at}.allowed_targets");
    let bounded = |key: &str, n: usize| {
        if n > MAX_TARGET_ENTRIES {
            Err(ConfigError::OutOfRange {
                path: format!("{at}.{key}"),
                bound: format!("{n} entries; at most {MAX_TARGET_ENTRIES}"),
            })
        } else {
            Ok(())
        }
    };
    let mut out = AllowedTargets::default();
    let schemes = raw.schemes.unwrap_or_default();
    bounded("schemes", schemes.len())?;
    for (i, s) in schemes.iter().enumerate() {
        let scheme = match s.as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => {
                return Err(invalid(
                    format!("{at}.schemes[{i}]"),
                    "`http` or `https` (lower case)",
                ))
            }
        };
        if !out.schemes.contains(&scheme) {
            out.schemes.push(scheme);
        }
    }
    let hosts = raw.hosts.unwrap_or_default();
    bounded("hosts", hosts.len())?;
    for (i, h) in hosts.iter().enumerate() {
        out.hosts.push(HostPattern::parse(h).ok_or_else(|| {
            invalid(
                format!("{at}.hosts[{i}]"),
                "a host name (`api.groq.com`), `*.` and a domain (`*.example.com`), or an IP \
                 address (`10.1.2.3`, `::1`); ASCII only (punycode for other names)",
            )
        })?);
    }
    let ports = raw.ports.unwrap_or_default();
    bounded("ports", ports.len())?;
    for (i, p) in ports.iter().enumerate() {
        let port =
            u16::try_from(*p)
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| ConfigError::OutOfRange {
                    path: format!("{at}.ports[{i}]"),
                    bound: format!("is {p}; a port is 1 to 65535"),
                })?;
        out.ports.push(port);
    }
    let classes = raw.address_classes.unwrap_or_default();
    bounded("address_classes", classes.len())?;
    for (i, c) in classes.iter().enumerate() {
        let class = address_class(&format!("{at}.address_classes[{i}]"), c)?;
        if !out.classes.contains(&class) {
            out.classes.push(class);
        }
    }
    Ok(out)
}

fn certificates(at: &str, raw: Vec<RawCertificate>) -> Result<Vec<String>, ConfigError> {
    if raw.len() > MAX_TARGET_ENTRIES {
        return Err(ConfigError::OutOfRange {
            path: format!("{at}.certificates"),
            bound: format!("{} certificates; at most {MAX_TARGET_ENTRIES}", raw.len()),
        });
    }
    let mut ids: Vec<String> = Vec::with_capacity(raw.len());
    for (i, c) in raw.into_iter().enumerate() {
        if !visible(&c.id, MAX_ID_BYTES) {
            return Err(invalid(
                format!("{at}.certificates[{i}].id"),
                "a certificate id: 1 to 256 visible ASCII characters (`cert_abc123`)",
            ));
        }
        if let Some(first) = ids.iter().position(|x| *x == c.id) {
            return Err(ConfigError::Duplicate {
                path: format!("{at}.certificates[{i}].id"),
                message: format!("the same id as certificates[{first}]"),
            });
        }
        ids.push(c.id);
    }
    Ok(ids)
}

/// A contract's canonical JSON (RFC 8785, from its own text) without its `certificates`: the
/// document the gateway serves and `X-DC-Digest` hashes. The certificate ids stay out of it,
/// so that reading the served contract does not give a client a certificate to present.
pub(super) fn canonical(text: &str) -> Result<Vec<u8>, crate::canonical::CanonicalError> {
    let mut members: BTreeMap<String, &serde_json::value::RawValue> =
        serde_json::from_str(text).map_err(|_| crate::canonical::CanonicalError::Json)?;
    members.remove("certificates");
    let without =
        serde_json::to_string(&members).map_err(|_| crate::canonical::CanonicalError::Json)?;
    crate::canonical::canonicalize_json(&without)
}

/// An address class other than public, by name (`allowed_targets.address_classes`,
/// `control_plane.address_classes`).
pub(super) fn address_class(path: &str, name: &str) -> Result<AddressClass, ConfigError> {
    let inside = || {
        AddressClass::ALL
            .iter()
            .copied()
            .filter(|k| *k != AddressClass::Public)
    };
    inside().find(|k| k.as_str() == name).ok_or_else(|| {
        let known: Vec<String> = inside().map(|k| k.as_str().to_string()).collect();
        ConfigError::UnknownName {
            path: path.into(),
            what: "address class name",
            suggestion: suggest(name, known.iter().map(String::as_str)).map(String::from),
            name: name.into(),
            known,
        }
    })
}
