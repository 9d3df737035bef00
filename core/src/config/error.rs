//! Why a configuration was rejected. Every error names the key (`policy.block_rules[1].condition`)
//! and, where there is one, the position: a line and column in the text, or a column in a
//! rule's condition. Its `Display` is the line Envoy's log shows after `configuration rejected: `.

use std::fmt;

use crate::agent_card::CardError;
use crate::manifest::ManifestError;
use crate::rules::RuleError;

/// Where in the configuration a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// Line and column in the configuration text.
    Text { line: usize, column: usize },
    /// Column in a rule's condition, and the rule's name.
    Condition { rule: String, column: usize },
}

/// A rejected configuration, by kind of problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// Nothing but whitespace.
    Empty,
    /// Not JSON, or not of the configuration's shape: a syntax error, an unknown key, a wrong
    /// type, an unknown value, trailing characters. `message` is the JSON parser's.
    Json {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// No `manifest`.
    NoManifest,
    /// The manifest does not make sense (mixed shapes, no agent id, no retention…).
    Manifest(ManifestError),
    /// The agent card is not a valid A2A card.
    AgentCard(CardError),
    /// A number, a length or a count outside its bounds; `bound` says which.
    OutOfRange { path: String, bound: String },
    /// A rule or detector name outside its alphabet or length; `rule` says which.
    InvalidName { path: String, rule: String },
    /// A name given twice (a rule, a detector, an entry of `detectors.enabled`).
    Duplicate { path: String, message: String },
    /// `detectors.enabled` names a detector that does not exist.
    UnknownDetector {
        path: String,
        name: String,
        known: Vec<String>,
    },
    /// A cue word that is empty, too long or not ASCII.
    InvalidCue { path: String },
    /// A custom detector's pattern does not compile (or matches the empty string).
    InvalidPattern {
        path: String,
        detector: String,
        error: String,
    },
    /// A `redact` rule without `hold_headers: true`.
    RedactNeedsHeldHeaders { path: String, rule: String },
    /// A rule that reads the response with the action `warn`: nobody can confirm a response.
    ResponseRuleAction { path: String, rule: String },
    /// A contract measures toxicity or bias (`what`) and no `moderation` service is configured.
    NeedsModeration { path: String, what: &'static str },
    /// A name that is not one of the configured ones (`what`: `contract`, `detector`), with
    /// the closest one when it looks like a typo.
    UnknownName {
        path: String,
        what: &'static str,
        name: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    /// A contract bounds the findings of a detector that does not run (`detectors.enabled`).
    DetectorNotEnabled { path: String, name: String },
    /// A rule's condition does not compile.
    Rule {
        path: String,
        rule: String,
        error: RuleError,
    },
    /// `inner` is what is wrong with the configuration as `profile` has it: its key is the
    /// profile's (`profiles.<name>.<key>`) when the profile sets it (`from_profile`), else the
    /// base's key, which the profile's keys made invalid.
    InProfile {
        profile: String,
        from_profile: bool,
        inner: Box<ConfigError>,
    },
}

impl ConfigError {
    /// The key: `policy.block_rules[1].condition`; empty for the whole document.
    pub fn path(&self) -> String {
        match self {
            ConfigError::Empty => String::new(),
            ConfigError::NoManifest => "manifest".into(),
            ConfigError::Manifest(e) => e.path(),
            ConfigError::AgentCard(e) => e.path(),
            ConfigError::Json { path, .. }
            | ConfigError::OutOfRange { path, .. }
            | ConfigError::InvalidName { path, .. }
            | ConfigError::Duplicate { path, .. }
            | ConfigError::UnknownDetector { path, .. }
            | ConfigError::InvalidCue { path }
            | ConfigError::InvalidPattern { path, .. }
            | ConfigError::RedactNeedsHeldHeaders { path, .. }
            | ConfigError::ResponseRuleAction { path, .. }
            | ConfigError::NeedsModeration { path, .. }
            | ConfigError::UnknownName { path, .. }
            | ConfigError::DetectorNotEnabled { path, .. }
            | ConfigError::Rule { path, .. } => path.clone(),
            ConfigError::InProfile {
                profile,
                from_profile: true,
                inner,
            } => format!("profiles.{profile}.{}", inner.path()),
            ConfigError::InProfile { inner, .. } => inner.path(),
        }
    }

    /// Where the problem is, when the key alone does not say.
    pub fn position(&self) -> Option<Position> {
        match self {
            ConfigError::Json { line, column, .. } => Some(Position::Text {
                line: *line,
                column: *column,
            }),
            ConfigError::Rule { rule, error, .. } => Some(Position::Condition {
                rule: rule.clone(),
                column: error.column,
            }),
            ConfigError::InProfile { inner, .. } => inner.position(),
            _ => None,
        }
    }

    /// What is wrong, without the key and position.
    pub fn message(&self) -> String {
        match self {
            ConfigError::Empty => {
                "the configuration is empty; it needs at least a `manifest`".into()
            }
            ConfigError::Json { message, .. } => message.clone(),
            ConfigError::NoManifest => {
                "is required: the capability manifest of the agent this filter protects".into()
            }
            ConfigError::Manifest(e) => e.message(),
            ConfigError::AgentCard(e) => e.message(),
            ConfigError::OutOfRange { bound, .. } => bound.clone(),
            ConfigError::InvalidName { rule, .. } => rule.clone(),
            ConfigError::Duplicate { message, .. } => message.clone(),
            ConfigError::UnknownDetector { name, known, .. } => format!(
                "unknown detector `{name}`; detectors are: {}",
                known.join(", ")
            ),
            ConfigError::InvalidCue { .. } => "cue words are 1 to 32 ASCII characters".into(),
            ConfigError::InvalidPattern {
                detector, error, ..
            } => format!("detector '{detector}': {error}"),
            ConfigError::RedactNeedsHeldHeaders { rule, .. } => format!(
                "rule '{rule}': `redact` rewrites the body, and its length, before the request leaves; that needs `hold_headers: true`"
            ),
            ConfigError::ResponseRuleAction { rule, .. } => format!(
                "rule '{rule}' reads the response, which nobody can confirm: its action must be `block` or `redact`"
            ),
            ConfigError::NeedsModeration { what, .. } => format!(
                "a contract that measures {what} needs a moderation service: configure \
                 `moderation` (an Envoy cluster speaking the OpenAI moderation API)"
            ),
            ConfigError::UnknownName {
                what,
                name,
                suggestion,
                known,
                ..
            } => {
                let mut m = format!("unknown {what} `{name}`");
                if let Some(s) = suggestion {
                    m.push_str(&format!("; did you mean `{s}`?"));
                }
                if known.is_empty() {
                    m.push_str(&format!("; no {what} is configured"));
                } else {
                    const SHOWN: usize = 20;
                    let shown: Vec<&str> = known.iter().take(SHOWN).map(String::as_str).collect();
                    let more = if known.len() > SHOWN { ", ..." } else { "" };
                    m.push_str(&format!("; {what}s are: {}{more}", shown.join(", ")));
                }
                m
            }
            ConfigError::DetectorNotEnabled { name, .. } => format!(
                "detector `{name}` is not enabled (detectors.enabled): a bound on its findings could never be exceeded"
            ),
            ConfigError::Rule { error, .. } => error.message.clone(),
            ConfigError::InProfile {
                from_profile: true,
                inner,
                ..
            } => inner.message(),
            ConfigError::InProfile { profile, inner, .. } => format!(
                "{} (in profile '{profile}', whose keys replace the base's)",
                inner.message()
            ),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        let path = if path.is_empty() {
            "(top level)"
        } else {
            &path
        };
        let message = self.message();
        match self.position() {
            Some(Position::Text { line, column }) => {
                write!(f, "{path} (line {line}, column {column}): {message}")
            }
            Some(Position::Condition { rule, column }) => {
                write!(f, "{path} of rule '{rule}', column {column}: {message}")
            }
            None => write!(f, "{path}: {message}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Manifest(e) => Some(e),
            ConfigError::AgentCard(e) => Some(e),
            ConfigError::Rule { error, .. } => Some(error),
            ConfigError::InProfile { inner, .. } => Some(inner.as_ref()),
            _ => None,
        }
    }
}

impl From<ManifestError> for ConfigError {
    fn from(e: ManifestError) -> Self {
        ConfigError::Manifest(e)
    }
}

impl From<CardError> for ConfigError {
    fn from(e: CardError) -> Self {
        ConfigError::AgentCard(e)
    }
}
