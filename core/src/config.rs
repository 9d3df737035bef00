//! The plugin configuration: one pure function from JSON bytes to a compiled [`Policy`].
//!
//! Strict by design: unknown keys, wrong types, unknown enum values and rules that do not
//! compile are errors that name the key (or rule) and the position, and the filter refuses
//! to start. A bad configuration never silently becomes "allow everything".

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::agent_card::AgentCard;
use crate::chain::ChainKey;
use crate::detect::{self, Checksum, CustomDetector, Kind, KindSet, Scanner};
use crate::json_path;
use crate::manifest::RawManifest;
use crate::policy::{Mode, Policy, Rule, RuleAction};
use crate::rules::{self, Env};
use crate::trust;

pub const DEFAULT_MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;
/// Envoy's buffer limits are 32-bit; a larger body limit could never be reached.
pub const MAX_MAX_BODY_BYTES: u64 = u32::MAX as u64;
pub const DEFAULT_TRUST_THRESHOLD: u8 = 3;
pub const DEFAULT_MAX_EVENT_PAYLOAD_BYTES: usize = 4096;
pub const MAX_MAX_EVENT_PAYLOAD_BYTES: usize = 1024 * 1024;
/// HMAC keys shorter than this are guessable.
pub const MIN_CHAIN_KEY_BYTES: usize = 16;
const MAX_RULES: usize = 256;
const MAX_RULE_NAME: usize = 64;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    mode: Option<Mode>,
    hold_headers: Option<bool>,
    manifest: Option<RawManifest>,
    agent_card: Option<Map<String, Value>>,
    policy: Option<RawPolicy>,
    detectors: Option<RawDetectors>,
    limits: Option<RawLimits>,
    events: Option<RawEvents>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    trust_threshold: Option<u8>,
    allow_override: Option<bool>,
    block_rules: Option<Vec<RawRule>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    condition: String,
    action: RuleAction,
    message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDetectors {
    enabled: Option<Vec<String>>,
    custom: Option<Vec<RawCustomDetector>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustomDetector {
    name: String,
    pattern: String,
    checksum: Option<RawChecksum>,
    cues: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawChecksum {
    Luhn,
    Mod97,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_body_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvents {
    max_payload_bytes: Option<usize>,
    /// A secret: event lines are sealed with HMAC-SHA256 under it (see `chain`).
    chain_key: Option<String>,
}

/// Why a configuration was rejected. `path` is the key (`policy.block_rules[1].condition`),
/// `position` where in the text or in the condition the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub position: Option<Position>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// Line and column in the configuration text.
    Text { line: usize, column: usize },
    /// Column in a rule's condition, and the rule's name.
    Condition { rule: String, column: usize },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(top level)"
        } else {
            &self.path
        };
        match &self.position {
            Some(Position::Text { line, column }) => {
                write!(f, "{path} (line {line}, column {column}): {}", self.message)
            }
            Some(Position::Condition { rule, column }) => write!(
                f,
                "{path} of rule '{rule}', column {column}: {}",
                self.message
            ),
            None => write!(f, "{path}: {}", self.message),
        }
    }
}

fn error(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        path: path.into(),
        position: None,
        message: message.into(),
    }
}

/// The two rules of the architecture document, used when `policy.block_rules` is absent.
fn default_rules() -> Vec<RawRule> {
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

pub fn parse(bytes: &[u8]) -> Result<Policy, ConfigError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(error(
            "",
            "the configuration is empty; it needs at least a `manifest`",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let raw = RawConfig::deserialize(&mut de).map_err(|e| ConfigError {
        path: json_path::path_at(bytes, e.line(), e.column()),
        position: Some(Position::Text {
            line: e.line(),
            column: e.column(),
        }),
        message: strip_position(&e.to_string()),
    })?;
    de.end().map_err(|e| ConfigError {
        path: String::new(),
        position: Some(Position::Text {
            line: e.line(),
            column: e.column(),
        }),
        message: strip_position(&e.to_string()),
    })?;
    compile(raw)
}

/// serde_json appends " at line L column C" to its messages; the position is reported apart.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg).to_string(),
        None => msg.to_string(),
    }
}

fn compile(raw: RawConfig) -> Result<Policy, ConfigError> {
    let manifest = raw
        .manifest
        .ok_or_else(|| {
            error(
                "manifest",
                "is required: the capability manifest of the agent this filter protects",
            )
        })?
        .normalize()
        .map_err(|e| error(e.path, e.message))?;
    let trust_score = trust::trust_score(&manifest);

    let scanner = detectors(raw.detectors.unwrap_or_default())?;
    let hold_headers = raw.hold_headers.unwrap_or(true);

    let policy = raw.policy.unwrap_or_default();
    let trust_threshold = policy.trust_threshold.unwrap_or(DEFAULT_TRUST_THRESHOLD);
    if trust_threshold > trust::MAX_SCORE {
        return Err(error(
            "policy.trust_threshold",
            format!(
                "must be between 0 and {} (trust scores are 0..10)",
                trust::MAX_SCORE
            ),
        ));
    }
    let (raw_rules, defaulted) = match policy.block_rules {
        Some(r) => (r, false),
        None => (default_rules(), true),
    };
    if raw_rules.len() > MAX_RULES {
        return Err(error(
            "policy.block_rules",
            format!("at most {MAX_RULES} rules"),
        ));
    }
    let env = Env {
        manifest: &manifest,
        trust_score,
        scanner: &scanner,
    };
    let mut rules: Vec<Rule> = Vec::with_capacity(raw_rules.len());
    let mut notes = Vec::new();
    for (i, r) in raw_rules.into_iter().enumerate() {
        let path = if defaulted {
            format!("policy.block_rules (default rule {i})")
        } else {
            format!("policy.block_rules[{i}]")
        };
        check_rule_name(&r.name, &path)?;
        if r.action == RuleAction::Redact && !hold_headers {
            return Err(error(
                format!("{path}.action"),
                format!(
                    "rule '{}': `redact` rewrites the body, and its length, before the request leaves; that needs `hold_headers: true`",
                    r.name
                ),
            ));
        }
        if rules.iter().any(|x| x.name == r.name) {
            return Err(error(
                format!("{path}.name"),
                format!("rule name '{}' is used twice", r.name),
            ));
        }
        let cond = rules::compile(&r.condition, &env).map_err(|e| ConfigError {
            path: format!("{path}.condition"),
            position: Some(Position::Condition {
                rule: r.name.clone(),
                column: e.column,
            }),
            message: e.message,
        })?;
        match (cond.constant(), r.action) {
            (Some(false), _) => notes.push(format!(
                "rule '{}' can never match this agent's manifest; it is kept but never fires",
                r.name
            )),
            (Some(true), RuleAction::Block) => notes.push(format!(
                "rule '{}' matches every request: every request will be blocked",
                r.name
            )),
            (Some(true), RuleAction::Warn) => notes.push(format!(
                "rule '{}' matches every request: every request will need an override",
                r.name
            )),
            (Some(true), RuleAction::Redact) => notes.push(format!(
                "rule '{}' matches every request: every forwarded body is redacted",
                r.name
            )),
            (None, _) => {}
        }
        let message = r
            .message
            .unwrap_or_else(|| match r.action {
                RuleAction::Block => "Request blocked by policy rule '{rule}'".into(),
                RuleAction::Warn => "Request matched policy rule '{rule}'".into(),
                RuleAction::Redact => "Sensitive values redacted by policy rule '{rule}'".into(),
            })
            .replace("{agent_id}", &manifest.agent_id)
            .replace("{rule}", &r.name);
        rules.push(Rule {
            name: r.name,
            action: r.action,
            cond,
            message,
        });
    }

    let max_body_bytes = raw
        .limits
        .unwrap_or_default()
        .max_body_bytes
        .unwrap_or(DEFAULT_MAX_BODY_BYTES);
    if max_body_bytes > MAX_MAX_BODY_BYTES {
        return Err(error(
            "limits.max_body_bytes",
            format!("must be at most {MAX_MAX_BODY_BYTES} (Envoy's buffers are 32-bit)"),
        ));
    }
    let events = raw.events.unwrap_or_default();
    let max_event_payload_bytes = events
        .max_payload_bytes
        .unwrap_or(DEFAULT_MAX_EVENT_PAYLOAD_BYTES);
    let chain_key = match events.chain_key {
        Some(k) if k.len() < MIN_CHAIN_KEY_BYTES => {
            return Err(error(
                "events.chain_key",
                format!("must be at least {MIN_CHAIN_KEY_BYTES} bytes"),
            ))
        }
        k => k.map(|k| ChainKey::new(k.as_bytes())),
    };
    if max_event_payload_bytes > MAX_MAX_EVENT_PAYLOAD_BYTES {
        return Err(error(
            "events.max_payload_bytes",
            format!("must be at most {MAX_MAX_EVENT_PAYLOAD_BYTES}"),
        ));
    }

    let agent_card =
        AgentCard::new(raw.agent_card, &manifest).map_err(|e| error(e.path, e.message))?;
    let manifest_json = serde_json::to_vec(&manifest.to_well_known()).unwrap_or_default();
    let low_trust_warning = (trust_score < trust_threshold).then(|| {
        format!(
            "Low trust score ({trust_score}/10, threshold {trust_threshold}) for agent '{}'",
            manifest.agent_id
        )
    });

    Ok(Policy {
        mode: raw.mode.unwrap_or_default(),
        hold_headers,
        manifest,
        trust_score,
        trust_score_text: trust_score.to_string(),
        trust_threshold,
        allow_override: policy.allow_override.unwrap_or(true),
        rules,
        scanner,
        max_body_bytes,
        max_event_payload_bytes,
        chain_key,
        manifest_json,
        agent_card,
        low_trust_warning,
        notes,
    })
}

/// The detector catalogue: built-ins, the operator's own detectors (patterns compiled here,
/// once), and which of them run.
fn detectors(raw: RawDetectors) -> Result<Scanner, ConfigError> {
    let customs = raw.custom.unwrap_or_default();
    let room = detect::MAX_KINDS - detect::BUILT_INS.len();
    if customs.len() > room {
        return Err(error(
            "detectors.custom",
            format!("at most {room} custom detectors"),
        ));
    }
    let mut compiled: Vec<(String, CustomDetector)> = Vec::with_capacity(customs.len());
    for (i, c) in customs.into_iter().enumerate() {
        let path = format!("detectors.custom[{i}]");
        let name_ok = c.name.len() <= 32
            && c.name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase())
            && c.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(error(
                format!("{path}.name"),
                "detector names are 1 to 32 characters of [a-z0-9_], starting with a letter",
            ));
        }
        if detect::BUILT_INS.iter().any(|d| d.name == c.name)
            || compiled.iter().any(|(n, _)| *n == c.name)
        {
            return Err(error(
                format!("{path}.name"),
                format!("detector name '{}' is already taken", c.name),
            ));
        }
        let cues = c.cues.unwrap_or_default();
        if let Some(bad) = cues
            .iter()
            .position(|w| w.trim().is_empty() || w.len() > 32 || !w.is_ascii())
        {
            return Err(error(
                format!("{path}.cues[{bad}]"),
                "cue words are 1 to 32 ASCII characters",
            ));
        }
        let checksum = c.checksum.map(|k| match k {
            RawChecksum::Luhn => Checksum::Luhn,
            RawChecksum::Mod97 => Checksum::Mod97,
        });
        let detector = CustomDetector::compile(&c.pattern, checksum, &cues).map_err(|e| {
            error(
                format!("{path}.pattern"),
                format!("detector '{}': {}", c.name, e.replace('\n', " ")),
            )
        })?;
        compiled.push((c.name, detector));
    }
    let all_custom = (0..compiled.len()).fold(KindSet::default(), |s, k| s.with(Kind::custom(k)));
    let catalogue = Scanner::with_custom(KindSet::default(), compiled);
    let enabled = match raw.enabled {
        None => KindSet::all_built_ins().union(all_custom),
        Some(names) => {
            let mut set = KindSet::default();
            for (i, n) in names.iter().enumerate() {
                let kind = catalogue.kind_by_name(n).ok_or_else(|| {
                    error(
                        format!("detectors.enabled[{i}]"),
                        format!(
                            "unknown detector `{n}`; detectors are: {}",
                            catalogue.all_names().join(", ")
                        ),
                    )
                })?;
                if set.contains(kind) {
                    return Err(error(
                        format!("detectors.enabled[{i}]"),
                        format!("`{n}` is listed twice"),
                    ));
                }
                set = set.with(kind);
            }
            set
        }
    };
    Ok(catalogue.enable(enabled))
}

fn check_rule_name(name: &str, path: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_RULE_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(error(
            format!("{path}.name"),
            format!("rule names are 1 to {MAX_RULE_NAME} characters of [A-Za-z0-9_.:-]"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Kind;
    use crate::policy::Verdict;
    use crate::rules::Facts;
    use serde_json::json;

    const DESIGN_EXAMPLE: &str = r#"{
  "mode": "enforce",
  "manifest": {
    "$schema": "https://iatp.dev/schema/manifest-v1.json",
    "identity": {"agent_id": "booking-agent", "name": "Booking Agent", "version": "1.0.0"},
    "trust_level": "standard",
    "capabilities": {"idempotency": true},
    "reversibility": {"level": "partial", "undo_window": "24h"},
    "privacy": {"retention": "ephemeral", "human_in_loop": false, "training_consent": false},
    "rate_limiting": {"requests_per_minute": 600},
    "protocol_version": "1.0"
  },
  "agent_card": {"name": "Booking Agent", "description": "...", "url": "...", "version": "1.0.0",
                 "skills": []},
  "policy": {
    "trust_threshold": 3,
    "allow_override": true,
    "block_rules": [
      {"name": "credit_card_to_untrusted",
       "condition": "has_credit_card && trust_level == 'untrusted'", "action": "block"},
      {"name": "ssn_to_permanent",
       "condition": "has_ssn && retention == 'permanent'", "action": "block"}
    ]
  },
  "detectors": {"enabled": ["credit_card", "ssn", "email"]},
  "limits": {"max_body_bytes": 10485760}
}"#;

    fn cfg(v: Value) -> Result<Policy, ConfigError> {
        parse(v.to_string().as_bytes())
    }

    fn minimal() -> Value {
        json!({"manifest": {"identity": {"agent_id": "a"}, "trust_level": "standard",
                            "privacy": {"retention": "ephemeral"}}})
    }

    fn facts(kinds: &[Kind]) -> Facts<'static> {
        let set = kinds.iter().fold(KindSet::default(), |s, k| s.with(*k));
        Facts::new("POST", "/").with_detected(set, kinds.len())
    }

    #[test]
    fn design_example_parses() {
        let p = parse(DESIGN_EXAMPLE.as_bytes()).unwrap();
        assert_eq!(p.mode, Mode::Enforce);
        assert_eq!(p.trust_score, 8);
        assert_eq!(p.rules.len(), 2);
        assert_eq!(p.max_body_bytes, 10_485_760);
        assert!(p.low_trust_warning.is_none());
        // Both rules fold to false for a standard, ephemeral agent and say so.
        assert_eq!(p.notes.len(), 2);
    }

    #[test]
    fn defaults() {
        let p = cfg(minimal()).unwrap();
        assert_eq!(p.mode, Mode::Enforce);
        assert!(p.hold_headers);
        assert_eq!(p.trust_threshold, 3);
        assert!(p.allow_override);
        assert_eq!(p.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(p.max_event_payload_bytes, 4096);
        assert_eq!(
            p.rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            vec!["credit_card_to_untrusted", "ssn_to_permanent"]
        );
        assert_eq!(p.scanner.enabled(), KindSet::all_built_ins());
    }

    #[test]
    fn default_rules_block_as_documented() {
        let mut v = minimal();
        v["manifest"]["trust_level"] = json!("untrusted");
        v["policy"] = json!({"trust_threshold": 0});
        let p = cfg(v).unwrap();
        match p.evaluate(&facts(&[Kind::CREDIT_CARD]), false) {
            Verdict::Block(r) => {
                assert_eq!(r.name, "credit_card_to_untrusted");
                assert!(
                    r.message.contains("agent 'a' is untrusted"),
                    "{}",
                    r.message
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(p.evaluate(&facts(&[Kind::SSN]), false), Verdict::Allow);

        let mut v = minimal();
        v["manifest"]["privacy"]["retention"] = json!("permanent");
        let p = cfg(v).unwrap();
        assert!(
            matches!(p.evaluate(&facts(&[Kind::SSN]), false), Verdict::Block(r) if r.name == "ssn_to_permanent")
        );
    }

    #[test]
    fn warnings_and_override() {
        let mut v = minimal();
        v["manifest"]["trust_level"] = json!("unknown"); // 2 + 1 = 3
        v["policy"] = json!({"trust_threshold": 4, "block_rules": [
            {"name": "email_needs_ok", "condition": "has_email", "action": "warn", "message": "Personal data for {agent_id}"}
        ]});
        let p = cfg(v.clone()).unwrap();
        let low = "Low trust score (3/10, threshold 4) for agent 'a'";
        assert_eq!(p.evaluate(&facts(&[]), false), Verdict::Warn(vec![low]));
        assert_eq!(
            p.evaluate(&facts(&[Kind::EMAIL]), false),
            Verdict::Warn(vec![low, "Personal data for a"])
        );
        assert_eq!(p.evaluate(&facts(&[]), true), Verdict::Override(vec![low]));
        v["policy"]["allow_override"] = json!(false);
        let p = cfg(v).unwrap();
        assert_eq!(p.evaluate(&facts(&[]), true), Verdict::Warn(vec![low]));
    }

    #[test]
    fn block_rules_first_and_first_match_wins() {
        let mut v = minimal();
        v["policy"] = json!({"block_rules": [
            {"name": "w", "condition": "has_email", "action": "warn"},
            {"name": "b1", "condition": "has_email && has_ssn", "action": "block"},
            {"name": "b2", "condition": "has_ssn", "action": "block"}
        ]});
        let p = cfg(v).unwrap();
        assert!(
            matches!(p.evaluate(&facts(&[Kind::EMAIL, Kind::SSN]), false), Verdict::Block(r) if r.name == "b1")
        );
        assert!(
            matches!(p.evaluate(&facts(&[Kind::SSN]), false), Verdict::Block(r) if r.name == "b2")
        );
        assert_eq!(
            p.evaluate(&facts(&[Kind::EMAIL]), false),
            Verdict::Warn(vec!["Request matched policy rule 'w'"])
        );
        // An explicit empty list means no rules at all.
        let mut v = minimal();
        v["policy"] = json!({"block_rules": []});
        assert!(cfg(v).unwrap().rules.is_empty());
    }

    #[test]
    fn serde_errors_name_key_and_position() {
        let text = "{\n  \"manifest\": {\"identity\": {\"agent_id\": \"a\"}, \"privacy\": {\"retention\": \"ephemeral\"}},\n  \"polcy\": {}\n}";
        let e = parse(text.as_bytes()).unwrap_err();
        assert_eq!(e.path, "polcy");
        assert!(
            matches!(e.position, Some(Position::Text { line: 3, .. })),
            "{e}"
        );
        assert!(e.message.contains("unknown field `polcy`"), "{e}");

        let mut v = minimal();
        v["policy"] =
            json!({"block_rules": [{"name": "x", "condition": "has_ssn", "action": "blok"}]});
        let e = cfg(v).unwrap_err();
        assert_eq!(e.path, "policy.block_rules[0].action");
        assert!(e.message.contains("unknown variant `blok`"), "{e}");

        let mut v = minimal();
        v["mode"] = json!("audit");
        assert_eq!(cfg(v).unwrap_err().path, "mode");
        let mut v = minimal();
        v["policy"] = json!({"trust_threshold": "3"});
        assert_eq!(cfg(v).unwrap_err().path, "policy.trust_threshold");
        let mut v = minimal();
        v["manifest"]["privacy"]["retention"] = json!("for-a-while");
        assert_eq!(cfg(v).unwrap_err().path, "manifest.privacy.retention");

        let e = parse(b"{\"manifest\": ").unwrap_err();
        assert!(
            matches!(e.position, Some(Position::Text { line: 1, .. })),
            "{e}"
        );
        let e = parse(b"[]").unwrap_err();
        assert!(e.to_string().contains("(top level)"), "{e}");
        let e = parse(b"{} {}").unwrap_err();
        assert!(e.message.contains("trailing"), "{e}");
        assert!(parse(b"  ").unwrap_err().message.contains("empty"));
    }

    #[test]
    fn semantic_errors_name_the_key() {
        let e = cfg(json!({})).unwrap_err();
        assert_eq!(e.path, "manifest");
        let mut v = minimal();
        v["policy"] = json!({"trust_threshold": 11});
        assert_eq!(cfg(v).unwrap_err().path, "policy.trust_threshold");
        let mut v = minimal();
        v["detectors"] = json!({"enabled": ["email", "cc"]});
        let e = cfg(v).unwrap_err();
        assert_eq!(e.path, "detectors.enabled[1]");
        assert!(e.message.contains("credit_card"));
        let mut v = minimal();
        v["limits"] = json!({"max_body_bytes": 1u64 << 40});
        assert_eq!(cfg(v).unwrap_err().path, "limits.max_body_bytes");
        let mut v = minimal();
        v["policy"] = json!({"block_rules": [
            {"name": "dup", "condition": "has_ssn", "action": "block"},
            {"name": "dup", "condition": "has_email", "action": "block"}]});
        assert_eq!(cfg(v).unwrap_err().path, "policy.block_rules[1].name");
        let mut v = minimal();
        v["policy"] = json!({"block_rules": [{"name": "bad name", "condition": "has_ssn", "action": "block"}]});
        assert_eq!(cfg(v).unwrap_err().path, "policy.block_rules[0].name");
    }

    #[test]
    fn rule_errors_name_rule_and_column() {
        let mut v = minimal();
        v["policy"] = json!({"block_rules": [
            {"name": "ok", "condition": "has_ssn", "action": "block"},
            {"name": "ssn_perm", "condition": "has_ssn & retention == 'permanent'", "action": "block"}]});
        let e = cfg(v).unwrap_err();
        assert_eq!(e.path, "policy.block_rules[1].condition");
        assert_eq!(
            e.position,
            Some(Position::Condition {
                rule: "ssn_perm".into(),
                column: 9
            })
        );
        assert_eq!(
            e.to_string(),
            "policy.block_rules[1].condition of rule 'ssn_perm', column 9: unexpected `&`; did you mean `&&`?"
        );
        // Default rules need their detectors.
        let mut v = minimal();
        v["detectors"] = json!({"enabled": ["email"]});
        let e = cfg(v).unwrap_err();
        assert!(e.path.contains("default rule 0"), "{e}");
        assert!(e.message.contains("credit_card"), "{e}");
    }

    #[test]
    fn python_sdk_manifest_is_accepted() {
        let p = cfg(json!({"manifest": {
            "agent_id": "sdk-agent", "trust_level": "trusted",
            "capabilities": {"reversibility": "full", "idempotency": true},
            "privacy_contract": {"retention": "ephemeral", "human_review": false}
        }}))
        .unwrap();
        assert_eq!(p.manifest.agent_id, "sdk-agent");
        assert_eq!(p.trust_score, 10);
    }
}
