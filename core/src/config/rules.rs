//! `policy.block_rules`: each rule named, compiled against what the configuration fixes, and
//! given its message; rules that fold to a constant, and comparisons that no request can
//! change (`path == 'book'`), are noted for the log.

use crate::policy::{Rule, RuleAction};
use crate::rules::{self, Env};

use super::raw::{default_rules, RawRule};
use super::ConfigError;

const MAX_RULES: usize = 256;
const MAX_RULE_NAME: usize = 64;

/// The compiled rules, and notes for the operator (rules that never or always match).
pub(super) fn compile(
    raw: Option<Vec<RawRule>>,
    env: &Env,
    hold_headers: bool,
) -> Result<(Vec<Rule>, Vec<String>), ConfigError> {
    let (raw, defaulted) = match raw {
        Some(r) => (r, false),
        None => (default_rules(), true),
    };
    if raw.len() > MAX_RULES {
        return Err(ConfigError::OutOfRange {
            path: "policy.block_rules".into(),
            bound: format!("at most {MAX_RULES} rules"),
        });
    }
    let mut rules: Vec<Rule> = Vec::with_capacity(raw.len());
    let mut notes = Vec::new();
    for (i, r) in raw.into_iter().enumerate() {
        let path = if defaulted {
            format!("policy.block_rules (default rule {i})")
        } else {
            format!("policy.block_rules[{i}]")
        };
        check_name(&r.name, &path)?;
        if rules.iter().any(|x| x.name == r.name) {
            return Err(ConfigError::Duplicate {
                path: format!("{path}.name"),
                message: format!("rule name '{}' is used twice", r.name),
            });
        }
        let (cond, warnings) =
            rules::compile_checked(&r.condition, env).map_err(|error| ConfigError::Rule {
                path: format!("{path}.condition"),
                rule: r.name.clone(),
                error,
            })?;
        for w in warnings {
            notes.push(format!(
                "{path}.condition of rule '{}', column {}: {}",
                r.name, w.column, w.message
            ));
        }
        let on_response = cond.uses().reads_response();
        if on_response && r.action == RuleAction::Warn {
            return Err(ConfigError::ResponseRuleAction {
                path: format!("{path}.action"),
                rule: r.name,
            });
        }
        // A request body can be rewritten only while its headers are held (content-length
        // follows it); a response's headers are the filter's to hold or edit either way.
        if r.action == RuleAction::Redact && !on_response && !hold_headers {
            return Err(ConfigError::RedactNeedsHeldHeaders {
                path: format!("{path}.action"),
                rule: r.name,
            });
        }
        if let Some(note) = note(&r.name, cond.constant(), r.action) {
            notes.push(note);
        }
        let message = r
            .message
            .unwrap_or_else(|| {
                if on_response {
                    default_response_message(r.action).into()
                } else {
                    default_message(r.action).into()
                }
            })
            .replace("{agent_id}", &env.manifest.agent_id)
            .replace("{rule}", &r.name);
        rules.push(Rule {
            name: r.name,
            action: r.action,
            cond,
            message,
            on_response,
        });
    }
    Ok((rules, notes))
}

fn default_message(action: RuleAction) -> &'static str {
    match action {
        RuleAction::Block => "Request blocked by policy rule '{rule}'",
        RuleAction::Warn => "Request matched policy rule '{rule}'",
        RuleAction::Redact => "Sensitive values redacted by policy rule '{rule}'",
    }
}

/// A response rule's default message.
fn default_response_message(action: RuleAction) -> &'static str {
    match action {
        RuleAction::Block | RuleAction::Warn => "Response blocked by policy rule '{rule}'",
        RuleAction::Redact => "Sensitive values in the response redacted by policy rule '{rule}'",
    }
}

/// What the log says about a rule the configuration decides on its own.
fn note(name: &str, constant: Option<bool>, action: RuleAction) -> Option<String> {
    Some(match (constant?, action) {
        (false, _) => {
            format!(
                "rule '{name}' can never match this agent's manifest; it is kept but never fires"
            )
        }
        (true, RuleAction::Block) => {
            format!("rule '{name}' matches every request: every request will be blocked")
        }
        (true, RuleAction::Warn) => {
            format!("rule '{name}' matches every request: every request will need an override")
        }
        (true, RuleAction::Redact) => {
            format!("rule '{name}' matches every request: every forwarded body is redacted")
        }
    })
}

/// Whether `name` is 1 to `max` characters of `[A-Za-z0-9_.:-]`: rule, action and caller
/// names, which reach event lines, metric labels and headers as they are.
pub(super) fn is_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

fn check_name(name: &str, path: &str) -> Result<(), ConfigError> {
    if is_name(name, MAX_RULE_NAME) {
        Ok(())
    } else {
        Err(ConfigError::InvalidName {
            path: format!("{path}.name"),
            rule: format!("rule names are 1 to {MAX_RULE_NAME} characters of [A-Za-z0-9_.:-]"),
        })
    }
}
