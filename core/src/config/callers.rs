//! `callers` (who is calling: sources, directory, default, claims) and `policy.actions` (named
//! conditions and the tier they require), compiled into a [`Directory`] and [`Actions`].

use std::collections::BTreeMap;

use serde::Deserialize;

use super::strict::{object, objects};
use super::ConfigError;
use crate::caller::ratelimit::{Limit, MAX_BURST, MAX_REQUESTS_PER_MINUTE};
use crate::caller::{
    is_trust_domain, Action, ActionSet, Actions, DefaultCaller, Directory, DirectoryParts, Entry,
    JwtSource, Match, Profile, Sources, SpiffeId, SpiffePrefix, DEFAULT_CALLER_NAME, MAX_ACTIONS,
    MAX_TIER,
};
use crate::manifest::{Manifest, TrustLevel};
use crate::rules::{self, Env};

/// At most this many directory entries.
pub const MAX_DIRECTORY_ENTRIES: usize = 10_000;
/// Names of entries, actions and claims: 1 to this many characters.
const MAX_NAME: usize = 64;
/// A matched value (`jwt_issuer`, `jwt_subject`, a claim's value, `header_value`).
const MAX_MATCH_VALUE: usize = 1024;
/// Claims one entry can require.
const MAX_MATCH_CLAIMS: usize = 16;
pub const DEFAULT_JWT_NAMESPACE: &str = "envoy.filters.http.jwt_authn";
pub const DEFAULT_JWT_PAYLOAD_KEY: &str = "jwt_payload";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCallers {
    #[serde(default, deserialize_with = "object")]
    sources: Option<RawSources>,
    #[serde(default, deserialize_with = "objects")]
    directory: Option<Vec<RawEntry>>,
    #[serde(default, deserialize_with = "object")]
    default: Option<RawProfile>,
    tier_claim: Option<String>,
    permitted_actions_claim: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSources {
    spiffe: Option<bool>,
    #[serde(default, deserialize_with = "object")]
    jwt: Option<RawJwtSource>,
    header: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJwtSource {
    metadata_namespace: Option<String>,
    payload_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    #[serde(rename = "match", default, deserialize_with = "object")]
    matcher: Option<RawMatch>,
    trust_level: Option<TrustLevel>,
    tier: Option<u8>,
    permitted_actions: Option<Vec<String>>,
    #[serde(default, deserialize_with = "object")]
    rate_limit: Option<RawRateLimit>,
}

/// `callers.default`: an entry without `match`, every part optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Option<String>,
    trust_level: Option<TrustLevel>,
    tier: Option<u8>,
    permitted_actions: Option<Vec<String>>,
    #[serde(default, deserialize_with = "object")]
    rate_limit: Option<RawRateLimit>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    spiffe_id: Option<String>,
    spiffe_id_prefix: Option<String>,
    spiffe_trust_domain: Option<String>,
    jwt_issuer: Option<String>,
    jwt_subject: Option<String>,
    claims: Option<BTreeMap<String, String>>,
    header_value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    requests_per_minute: Option<u32>,
    burst: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAction {
    name: String,
    when: String,
    required_tier: Option<u8>,
}

fn out_of_range(path: impl Into<String>, bound: impl Into<String>) -> ConfigError {
    ConfigError::OutOfRange {
        path: path.into(),
        bound: bound.into(),
    }
}

fn invalid(path: impl Into<String>, rule: impl Into<String>) -> ConfigError {
    ConfigError::InvalidName {
        path: path.into(),
        rule: rule.into(),
    }
}

/// Entry, action and claim names: 1 to 64 characters of `[A-Za-z0-9_.:-]`.
fn check_name(name: &str, path: &str, what: &str) -> Result<(), ConfigError> {
    if super::rules::is_name(name, MAX_NAME) {
        Ok(())
    } else {
        Err(invalid(
            path,
            format!("{what} are 1 to {MAX_NAME} characters of [A-Za-z0-9_.:-]"),
        ))
    }
}

/// A value to match: 1 to 1024 bytes.
fn check_value(v: &str, path: &str) -> Result<(), ConfigError> {
    if v.is_empty() || v.len() > MAX_MATCH_VALUE {
        return Err(out_of_range(
            path,
            format!("must be 1 to {MAX_MATCH_VALUE} bytes"),
        ));
    }
    Ok(())
}

/// `policy.actions`: each named, its `when` compiled like a rule's condition.
pub(super) fn actions(
    raw: Option<Vec<RawAction>>,
    env: &Env,
    notes: &mut Vec<String>,
) -> Result<Actions, ConfigError> {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_ACTIONS {
        return Err(out_of_range(
            "policy.actions",
            format!("at most {MAX_ACTIONS} actions"),
        ));
    }
    let mut list: Vec<Action> = Vec::with_capacity(raw.len());
    for (i, a) in raw.into_iter().enumerate() {
        let path = format!("policy.actions[{i}]");
        check_name(&a.name, &format!("{path}.name"), "action names")?;
        if list.iter().any(|x| x.name == a.name) {
            return Err(ConfigError::Duplicate {
                path: format!("{path}.name"),
                message: format!("action name '{}' is used twice", a.name),
            });
        }
        let required_tier = a.required_tier.unwrap_or(0);
        if required_tier > MAX_TIER {
            return Err(out_of_range(
                format!("{path}.required_tier"),
                format!("must be between 0 and {MAX_TIER}"),
            ));
        }
        let (when, warnings) =
            rules::compile_checked(&a.when, env).map_err(|error| ConfigError::Rule {
                path: format!("{path}.when"),
                rule: a.name.clone(),
                error,
            })?;
        if when.uses().reads(rules::Var::Action) {
            // `action` is the first action whose condition matched: an action's own condition
            // cannot depend on it.
            let column = a
                .when
                .match_indices("action")
                .map(|(i, _)| a.when.get(..i).map_or(1, |p| p.chars().count() + 1))
                .next()
                .unwrap_or(1);
            return Err(ConfigError::Rule {
                path: format!("{path}.when"),
                rule: a.name.clone(),
                error: rules::RuleError {
                    column,
                    message: "an action's condition cannot use `action` (the action it is \
                              deciding)"
                        .into(),
                },
            });
        }
        if when.uses().reads_response() {
            // An action is authorized before the request leaves: the response is not there.
            return Err(ConfigError::Rule {
                path: format!("{path}.when"),
                rule: a.name.clone(),
                error: rules::RuleError {
                    column: a
                        .when
                        .find("response_")
                        .map_or(1, |i| a.when.get(..i).map_or(1, |p| p.chars().count() + 1)),
                    message: "an action is decided on the request: its condition cannot read \
                              the response"
                        .into(),
                },
            });
        }
        for w in warnings {
            notes.push(format!(
                "{path}.when of action '{}', column {}: {}",
                a.name, w.column, w.message
            ));
        }
        if when.constant() == Some(false) {
            notes.push(format!(
                "action '{}' can never match this agent's manifest; it is kept but never applies",
                a.name
            ));
        }
        list.push(Action {
            name: a.name,
            when,
            required_tier,
        });
    }
    Ok(Actions::new(list))
}

/// The manifest's `rate_limiting` (`requests_per_minute`, `burst`, default the former): the
/// limit when neither the entry nor the default gives one. 0 requests per minute: no limit.
/// Both are bounded as a directory entry's are (1..=1,000,000).
pub(super) fn manifest_limit(manifest: &Manifest) -> Result<Option<Limit>, ConfigError> {
    let Some(rpm) = manifest.requests_per_minute.filter(|n| *n > 0) else {
        return Ok(None);
    };
    let bound =
        |path: &str| out_of_range(path, format!("must be at most {MAX_REQUESTS_PER_MINUTE}"));
    if rpm > MAX_REQUESTS_PER_MINUTE {
        return Err(bound("manifest.rate_limiting.requests_per_minute"));
    }
    let burst = match manifest
        .extra
        .get("burst")
        .and_then(serde_json::Value::as_u64)
    {
        Some(b) if b > u64::from(MAX_BURST) => return Err(bound("manifest.rate_limiting.burst")),
        Some(b) if b > 0 => u32::try_from(b).unwrap_or(rpm),
        _ => rpm,
    };
    Ok(Some(Limit {
        requests_per_minute: rpm,
        burst,
    }))
}

/// `callers`, compiled against `policy.actions`; absent: SPIFFE peers told apart, everyone
/// else anonymous, the manifest's limit.
pub(super) fn compile(
    raw: Option<RawCallers>,
    actions: &Actions,
    manifest: &Manifest,
) -> Result<Directory, ConfigError> {
    let fallback = manifest_limit(manifest)?;
    let Some(raw) = raw else {
        return Ok(Directory::empty(fallback));
    };
    let sources = sources(raw.sources.unwrap_or_default())?;
    let entries = raw.directory.unwrap_or_default();
    if entries.len() > MAX_DIRECTORY_ENTRIES {
        return Err(out_of_range(
            "callers.directory",
            format!("at most {MAX_DIRECTORY_ENTRIES} entries"),
        ));
    }
    let mut compiled: Vec<Entry> = Vec::with_capacity(entries.len());
    let mut names = std::collections::HashSet::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        let path = format!("callers.directory[{i}]");
        check_name(&e.name, &format!("{path}.name"), "caller names")?;
        if !names.insert(e.name.clone()) {
            return Err(ConfigError::Duplicate {
                path: format!("{path}.name"),
                message: format!("caller name '{}' is used twice", e.name),
            });
        }
        let matcher = matcher(e.matcher, &format!("{path}.match"), &sources)?;
        let profile = profile(
            &path,
            e.trust_level,
            e.tier,
            e.permitted_actions,
            e.rate_limit,
            actions,
        )?;
        compiled.push(Entry {
            name: e.name.into(),
            matcher,
            profile,
        });
    }
    let default = raw.default.unwrap_or_default();
    let named = default.name.is_some();
    let default_name = default.name.unwrap_or_else(|| DEFAULT_CALLER_NAME.into());
    check_name(&default_name, "callers.default.name", "caller names")?;
    if names.contains(&default_name) {
        // Name the key the operator wrote: the default's name, or (when it was left to its
        // `anonymous`) the entry that takes it.
        let entry = compiled.iter().position(|e| *e.name == *default_name);
        return Err(ConfigError::Duplicate {
            path: match entry {
                Some(i) if !named => format!("callers.directory[{i}].name"),
                _ => "callers.default.name".into(),
            },
            message: if named {
                format!("caller name '{default_name}' is also a directory entry's")
            } else {
                format!(
                    "caller name '{default_name}' is the default caller's (callers.default.name \
                     is not set): name the entry otherwise, or the default"
                )
            },
        });
    }
    let p = profile(
        "callers.default",
        default.trust_level,
        default.tier,
        default.permitted_actions,
        default.rate_limit,
        actions,
    )?;
    // Trust Gateway V2's token payload names its claims `tier` and `permitted_actions`: read
    // by default from a JWT the operator's jwt_authn verified.
    let tier_claim = claim_name(
        Some(raw.tier_claim.unwrap_or_else(|| "tier".into())),
        "callers.tier_claim",
    )?;
    let permitted_actions_claim = claim_name(
        Some(
            raw.permitted_actions_claim
                .unwrap_or_else(|| "permitted_actions".into()),
        ),
        "callers.permitted_actions_claim",
    )?;
    Directory::build(DirectoryParts {
        sources,
        entries: compiled,
        default: DefaultCaller {
            name: default_name.into(),
            trust_level: p.trust_level.unwrap_or(TrustLevel::Unknown),
            tier: p.tier.unwrap_or(0),
            permitted: p.permitted,
            rate_limit: p.rate_limit.or(fallback),
        },
        tier_claim,
        permitted_actions_claim,
        action_names: actions.iter().map(|a| a.name.clone()).collect(),
    })
    .map_err(|s| ConfigError::Duplicate {
        path: format!("callers.directory[{}].match", s.entry),
        message: format!(
            "matches exactly what callers.directory[{}] matches; this entry could never match",
            s.by
        ),
    })
}

fn claim_name(name: Option<String>, path: &str) -> Result<Option<String>, ConfigError> {
    if let Some(n) = &name {
        check_value(n, path)?;
    }
    Ok(name)
}

fn sources(raw: RawSources) -> Result<Sources, ConfigError> {
    let jwt = raw
        .jwt
        .map(|j| {
            let ns = j
                .metadata_namespace
                .unwrap_or_else(|| DEFAULT_JWT_NAMESPACE.into());
            let key = j
                .payload_key
                .unwrap_or_else(|| DEFAULT_JWT_PAYLOAD_KEY.into());
            check_value(&ns, "callers.sources.jwt.metadata_namespace")?;
            check_value(&key, "callers.sources.jwt.payload_key")?;
            Ok::<_, ConfigError>(JwtSource {
                metadata_namespace: ns,
                payload_key: key,
            })
        })
        .transpose()?;
    let header = raw
        .header
        .map(|h| {
            // RFC 9110 §5.1: a field name is a token (§5.6.2), compared case-insensitively.
            let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            if h.is_empty() || h.len() > MAX_NAME || !h.bytes().all(tchar) {
                return Err(invalid(
                    "callers.sources.header",
                    format!(
                        "a header name is 1 to {MAX_NAME} token characters (RFC 9110 §5.6.2: letters, digits and !#$%&'*+-.^_`|~)"
                    ),
                ));
            }
            Ok(h.to_ascii_lowercase())
        })
        .transpose()?;
    Ok(Sources {
        spiffe: raw.spiffe.unwrap_or(true),
        jwt,
        header,
    })
}

/// One entry's `match`: exactly one source, and valid values.
fn matcher(raw: Option<RawMatch>, path: &str, sources: &Sources) -> Result<Match, ConfigError> {
    let Some(m) = raw else {
        return Err(out_of_range(
            path,
            "is required: what the entry matches (spiffe_id, spiffe_id_prefix, spiffe_trust_domain, jwt_issuer (with jwt_subject and/or claims), or header_value)",
        ));
    };
    let spiffe = [
        m.spiffe_id.is_some(),
        m.spiffe_id_prefix.is_some(),
        m.spiffe_trust_domain.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    let jwt = m.jwt_issuer.is_some() || m.jwt_subject.is_some() || m.claims.is_some();
    let header = m.header_value.is_some();
    let kinds = usize::from(spiffe > 0) + usize::from(jwt) + usize::from(header);
    if kinds != 1 || spiffe > 1 {
        return Err(out_of_range(
            path,
            "must use exactly one source: one of spiffe_id, spiffe_id_prefix, spiffe_trust_domain; or jwt_issuer (with jwt_subject and/or claims); or header_value",
        ));
    }
    if let Some(id) = m.spiffe_id {
        return SpiffeId::parse(&id)
            .map(|id| Match::SpiffeId(id.into_string()))
            .ok_or_else(|| invalid(format!("{path}.spiffe_id"), SPIFFE_ID_RULE));
    }
    if let Some(p) = m.spiffe_id_prefix {
        return SpiffePrefix::parse(&p)
            .map(Match::SpiffeIdPrefix)
            .ok_or_else(|| invalid(format!("{path}.spiffe_id_prefix"), SPIFFE_ID_RULE));
    }
    if let Some(td) = m.spiffe_trust_domain {
        return if is_trust_domain(&td) {
            Ok(Match::SpiffeTrustDomain(td))
        } else {
            Err(invalid(
                format!("{path}.spiffe_trust_domain"),
                "a SPIFFE trust domain is 1 to 255 characters of [a-z0-9.-_] (lower-case; no scheme, port or path)",
            ))
        };
    }
    if let Some(v) = m.header_value {
        if sources.header.is_none() {
            return Err(out_of_range(
                format!("{path}.header_value"),
                "matches the header callers.sources.header names, which is not set",
            ));
        }
        if v.is_empty()
            || v.len() > crate::caller::MAX_HEADER_ID_BYTES
            || !v.bytes().all(|b| (0x21..=0x7e).contains(&b))
        {
            return Err(invalid(
                format!("{path}.header_value"),
                "a header identity is 1 to 256 visible ASCII characters (no spaces)",
            ));
        }
        return Ok(Match::HeaderValue(v));
    }
    // A JWT match.
    if sources.jwt.is_none() {
        return Err(out_of_range(
            path,
            "matches JWT claims, but callers.sources.jwt is not set",
        ));
    }
    let Some(issuer) = m.jwt_issuer else {
        return Err(out_of_range(
            format!("{path}.jwt_issuer"),
            "is required with jwt_subject or claims: a subject or claim is only meaningful for its issuer (RFC 7519 §4.1.2)",
        ));
    };
    check_value(&issuer, &format!("{path}.jwt_issuer"))?;
    if let Some(s) = &m.jwt_subject {
        check_value(s, &format!("{path}.jwt_subject"))?;
    }
    let claims = m.claims.unwrap_or_default();
    if claims.len() > MAX_MATCH_CLAIMS {
        return Err(out_of_range(
            format!("{path}.claims"),
            format!("at most {MAX_MATCH_CLAIMS} claims"),
        ));
    }
    for (k, v) in &claims {
        check_value(k, &format!("{path}.claims"))?;
        check_value(v, &format!("{path}.claims.{k}"))?;
    }
    Ok(Match::Jwt {
        issuer,
        subject: m.jwt_subject,
        claims: claims.into_iter().collect(),
    })
}

const SPIFFE_ID_RULE: &str = "a SPIFFE ID is spiffe://<trust domain>/<path>: a trust domain of [a-z0-9.-_], path segments of [A-Za-z0-9.-_] (none empty, `.` or `..`), no query, fragment, port or user info, at most 2048 bytes";

/// An entry's (or the default's) trust level, tier, permitted actions and rate limit.
fn profile(
    path: &str,
    trust_level: Option<TrustLevel>,
    tier: Option<u8>,
    permitted: Option<Vec<String>>,
    rate_limit: Option<RawRateLimit>,
    actions: &Actions,
) -> Result<Profile, ConfigError> {
    if tier.is_some_and(|t| t > MAX_TIER) {
        return Err(out_of_range(
            format!("{path}.tier"),
            format!("must be between 0 and {MAX_TIER}"),
        ));
    }
    let permitted = permitted
        .map(|names| {
            let mut set = ActionSet::NONE;
            for (j, n) in names.iter().enumerate() {
                if n == "*" {
                    set = ActionSet::ALL;
                    continue;
                }
                let i = actions.index_of(n).ok_or_else(|| {
                    out_of_range(
                        format!("{path}.permitted_actions[{j}]"),
                        format!(
                            "'{n}' is not one of policy.actions ({}), nor \"*\"",
                            actions
                                .iter()
                                .map(|a| a.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?;
                set = set.with(i);
            }
            Ok::<_, ConfigError>(set)
        })
        .transpose()?;
    let rate_limit = rate_limit
        .map(|r| {
            let rpm = r.requests_per_minute.ok_or_else(|| {
                out_of_range(
                    format!("{path}.rate_limit.requests_per_minute"),
                    "is required",
                )
            })?;
            if !(1..=MAX_REQUESTS_PER_MINUTE).contains(&rpm) {
                return Err(out_of_range(
                    format!("{path}.rate_limit.requests_per_minute"),
                    format!("must be between 1 and {MAX_REQUESTS_PER_MINUTE}"),
                ));
            }
            let burst = r.burst.unwrap_or(rpm.min(MAX_BURST));
            if !(1..=MAX_BURST).contains(&burst) {
                return Err(out_of_range(
                    format!("{path}.rate_limit.burst"),
                    format!("must be between 1 and {MAX_BURST}"),
                ));
            }
            Ok(Limit {
                requests_per_minute: rpm,
                burst,
            })
        })
        .transpose()?;
    Ok(Profile {
        trust_level,
        tier,
        permitted,
        rate_limit,
    })
}
