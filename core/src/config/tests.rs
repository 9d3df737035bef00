use super::*;
use crate::detect::{Kind, KindSet};
use crate::policy::Mode;
use crate::policy::Verdict;
use crate::rules::Facts;
use serde_json::{json, Value};

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
  "agent_card": {"name": "Booking Agent", "description": "...", "url": "https://booking.example/", "version": "1.0.0",
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
    match p.evaluate(&facts(&[Kind::CREDIT_CARD])) {
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
    assert_eq!(p.evaluate(&facts(&[Kind::SSN])), Verdict::Allow);

    let mut v = minimal();
    v["manifest"]["privacy"]["retention"] = json!("permanent");
    let p = cfg(v).unwrap();
    assert!(
        matches!(p.evaluate(&facts(&[Kind::SSN])), Verdict::Block(r) if r.name == "ssn_to_permanent")
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
    assert_eq!(p.evaluate(&facts(&[])), Verdict::Warn(vec![low]));
    assert_eq!(
        p.evaluate(&facts(&[Kind::EMAIL])),
        Verdict::Warn(vec![low, "Personal data for a"])
    );
    // Overrides are off without a key (fail closed), on with one or the legacy form.
    assert!(p.allow_override && !p.overrides_possible());
    v["policy"]["legacy_override"] = json!(true);
    assert!(cfg(v.clone()).unwrap().overrides_possible());
    v["policy"]["legacy_override"] = json!(false);
    v["policy"]["override_key"] = json!("k".repeat(32));
    let p = cfg(v.clone()).unwrap();
    assert!(p.overrides_possible());
    assert_eq!(p.override_ttl_secs, 300);
    v["policy"]["allow_override"] = json!(false);
    assert!(!cfg(v.clone()).unwrap().overrides_possible());
    // Bounds, each naming its key.
    v["policy"]["override_key"] = json!("k".repeat(31));
    assert_eq!(cfg(v.clone()).unwrap_err().path(), "policy.override_key");
    v["policy"]["override_key"] = json!("k".repeat(32));
    for ttl in [0, 86_401] {
        v["policy"]["override_ttl_seconds"] = json!(ttl);
        assert_eq!(
            cfg(v.clone()).unwrap_err().path(),
            "policy.override_ttl_seconds"
        );
    }
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
        matches!(p.evaluate(&facts(&[Kind::EMAIL, Kind::SSN])), Verdict::Block(r) if r.name == "b1")
    );
    assert!(matches!(p.evaluate(&facts(&[Kind::SSN])), Verdict::Block(r) if r.name == "b2"));
    assert_eq!(
        p.evaluate(&facts(&[Kind::EMAIL])),
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
    assert_eq!(e.path(), "polcy");
    assert!(
        matches!(e.position(), Some(Position::Text { line: 3, .. })),
        "{e}"
    );
    assert!(e.message().contains("unknown field `polcy`"), "{e}");
    assert!(matches!(e, ConfigError::Json { .. }));

    let mut v = minimal();
    v["policy"] = json!({"block_rules": [{"name": "x", "condition": "has_ssn", "action": "blok"}]});
    let e = cfg(v).unwrap_err();
    assert_eq!(e.path(), "policy.block_rules[0].action");
    assert!(e.message().contains("unknown variant `blok`"), "{e}");

    let mut v = minimal();
    v["mode"] = json!("audit");
    assert_eq!(cfg(v).unwrap_err().path(), "mode");
    let mut v = minimal();
    v["policy"] = json!({"trust_threshold": "3"});
    assert_eq!(cfg(v).unwrap_err().path(), "policy.trust_threshold");
    let mut v = minimal();
    v["manifest"]["privacy"]["retention"] = json!("for-a-while");
    assert_eq!(cfg(v).unwrap_err().path(), "manifest.privacy.retention");

    let e = parse(b"{\"manifest\": ").unwrap_err();
    assert!(
        matches!(e.position(), Some(Position::Text { line: 1, .. })),
        "{e}"
    );
    let e = parse(b"[]").unwrap_err();
    assert!(e.to_string().contains("(top level)"), "{e}");
    let e = parse(b"{} {}").unwrap_err();
    assert!(e.message().contains("trailing"), "{e}");
    assert!(matches!(e, ConfigError::Json { ref path, .. } if path.is_empty()));
    assert!(parse(b"  ").unwrap_err().message().contains("empty"));
    assert_eq!(parse(b"  ").unwrap_err(), ConfigError::Empty);
}

#[test]
fn semantic_errors_name_the_key() {
    let e = cfg(json!({})).unwrap_err();
    assert_eq!(e.path(), "manifest");
    assert_eq!(e, ConfigError::NoManifest);
    let mut v = minimal();
    v["policy"] = json!({"trust_threshold": 11});
    let e = cfg(v).unwrap_err();
    assert_eq!(e.path(), "policy.trust_threshold");
    assert!(matches!(e, ConfigError::OutOfRange { .. }));
    let mut v = minimal();
    v["detectors"] = json!({"enabled": ["email", "cc"]});
    let e = cfg(v).unwrap_err();
    assert_eq!(e.path(), "detectors.enabled[1]");
    assert!(e.message().contains("credit_card"));
    assert!(matches!(e, ConfigError::UnknownDetector { ref name, .. } if name == "cc"));
    let mut v = minimal();
    v["limits"] = json!({"max_body_bytes": 1u64 << 40});
    assert_eq!(cfg(v).unwrap_err().path(), "limits.max_body_bytes");
    let mut v = minimal();
    v["policy"] = json!({"block_rules": [
        {"name": "dup", "condition": "has_ssn", "action": "block"},
        {"name": "dup", "condition": "has_email", "action": "block"}]});
    let e = cfg(v).unwrap_err();
    assert_eq!(e.path(), "policy.block_rules[1].name");
    assert!(matches!(e, ConfigError::Duplicate { .. }));
    let mut v = minimal();
    v["policy"] =
        json!({"block_rules": [{"name": "bad name", "condition": "has_ssn", "action": "block"}]});
    let e = cfg(v).unwrap_err();
    assert_eq!(e.path(), "policy.block_rules[0].name");
    assert!(matches!(e, ConfigError::InvalidName { .. }));
    // The manifest's and the card's own errors keep their kind.
    let mut v = minimal();
    v["manifest"]["agent_id"] = json!("a");
    assert!(matches!(
        cfg(v).unwrap_err(),
        ConfigError::Manifest(crate::manifest::ManifestError::BothShapes)
    ));
    let mut v = minimal();
    v["agent_card"] = json!({"skills": "none"});
    let e = cfg(v).unwrap_err();
    assert_eq!(
        e.to_string(),
        "agent_card.skills: must be an array of skills"
    );
    assert!(matches!(e, ConfigError::AgentCard(_)));
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn rule_errors_name_rule_and_column() {
    let mut v = minimal();
    v["policy"] = json!({"block_rules": [
        {"name": "ok", "condition": "has_ssn", "action": "block"},
        {"name": "ssn_perm", "condition": "has_ssn & retention == 'permanent'", "action": "block"}]});
    let e = cfg(v).unwrap_err();
    assert_eq!(e.path(), "policy.block_rules[1].condition");
    assert_eq!(
        e.position(),
        Some(Position::Condition {
            rule: "ssn_perm".into(),
            column: 9
        })
    );
    assert_eq!(
        e.to_string(),
        "policy.block_rules[1].condition of rule 'ssn_perm', column 9: unexpected `&`; did you mean `&&`?"
    );
    assert!(matches!(e, ConfigError::Rule { ref rule, .. } if rule == "ssn_perm"));
    // Default rules need their detectors.
    let mut v = minimal();
    v["detectors"] = json!({"enabled": ["email"]});
    let e = cfg(v).unwrap_err();
    assert!(e.path().contains("default rule 0"), "{e}");
    assert!(e.message().contains("credit_card"), "{e}");
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

#[test]
fn well_known_endpoints_can_be_switched_off_and_the_card_needs_a_configured_url() {
    let mut v = minimal();
    v["well_known"] = json!({"agent_card": true});
    let e = parse(v.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.path(), "agent_card.url");
    v["agent_card"] = json!({"url": "https://a.example/"});
    let p = parse(v.to_string().as_bytes()).unwrap();
    assert!(p.agent_card.is_some() && p.manifest_json.is_some());
    v["well_known"] = json!({"agent_card": false, "agent_manifest": false});
    let p = parse(v.to_string().as_bytes()).unwrap();
    assert!(p.agent_card.is_none() && p.manifest_json.is_none());
    v["well_known"] = json!({"agent_cards": false});
    assert_eq!(
        parse(v.to_string().as_bytes()).unwrap_err().path(),
        "well_known.agent_cards"
    );
    // Unset and no url: not served, and the operator is told.
    let p = parse(minimal().to_string().as_bytes()).unwrap();
    assert!(p.agent_card.is_none());
    assert!(
        p.notes.iter().any(|n| n.contains("agent_card.url")),
        "{:?}",
        p.notes
    );
}
