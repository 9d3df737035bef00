//! Issue 16 attack round: `profiles` read with inputs the authors did not write. These hold
//! (pins).

use serde_json::{json, Value};

use super::{parse, ConfigError};

fn base() -> Value {
    json!({
        "manifest": {"identity": {"agent_id": "a"}, "trust_level": "standard",
                     "privacy": {"retention": "permanent"}},
        "policy": {"block_rules": [{"name": "ssn_out", "condition": "has_ssn", "action": "block"}]},
        "detectors": {"enabled": ["ssn", "email"]},
    })
}

fn cfg(v: &Value) -> Result<super::Policy, ConfigError> {
    parse(v.to_string().as_bytes())
}

/// A profile's `policy` without `block_rules` gets the default rules, which read
/// `has_credit_card`, a detector the base does not run: refused, and the error says the rule
/// is a default one rather than pointing at a `block_rules` the operator never wrote.
#[test]
fn the_default_rules_a_profiles_policy_brings_are_named_as_default_rules() {
    let mut v = base();
    v["profiles"] = json!({"p": {"policy": {"trust_threshold": 5}}});
    let e = cfg(&v).unwrap_err();
    assert_eq!(
        e.path(),
        "profiles.p.policy.block_rules (default rule 0).condition",
        "{e}"
    );
    assert!(e.to_string().contains("credit_card"), "{e}");
}

/// The same profile name twice: refused by the strict reader, naming it (one would silently
/// replace the other).
#[test]
fn a_profile_named_twice_is_refused() {
    let mut text = base().to_string();
    text.pop();
    text.push_str(r#","profiles":{"p":{"mode":"monitor"},"p":{"mode":"enforce"}}}"#);
    let e = parse(text.as_bytes()).unwrap_err();
    assert_eq!(e.path(), "profiles.p", "{e}");
    assert!(e.to_string().contains("given twice"), "{e}");
}

/// A profile's secrets are checked as the base's are: a short override key in a profile is
/// refused naming the profile's key, and its text is not in the message.
#[test]
fn a_profiles_override_key_is_checked_and_not_repeated() {
    let mut v = base();
    v["profiles"] = json!({"p": {"policy": {"override_key": "short-secret-xyz",
        "block_rules": [{"name": "w", "condition": "has_email", "action": "warn"}]}}});
    let e = cfg(&v).unwrap_err();
    assert_eq!(e.path(), "profiles.p.policy.override_key", "{e}");
    assert!(!e.to_string().contains("short-secret-xyz"), "{e}");
}

/// A null anywhere in a profile is refused (as in the base): a profile cannot "unset" a base
/// key with null.
#[test]
fn a_null_in_a_profile_is_refused() {
    let mut v = base();
    v["profiles"] = json!({"p": {"limits": null}});
    let e = cfg(&v).unwrap_err();
    assert!(e.path().starts_with("profiles.p.limits"), "{e}");
}
