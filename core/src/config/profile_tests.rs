//! `profiles`: named variants of the configuration that a route picks.

use serde_json::{json, Value};

use super::{parse, ConfigError, MAX_PROFILES};
use crate::detect::Kind;
use crate::policy::{Mode, Policy};

fn base(profiles: Value) -> Value {
    json!({
        "mode": "monitor",
        "manifest": {"identity": {"agent_id": "a"}, "trust_level": "standard",
                     "privacy": {"retention": "permanent"}},
        "policy": {"block_rules": [{"name": "ssn_out", "condition": "has_ssn", "action": "block"}]},
        "detectors": {"enabled": ["ssn", "email", "emp"],
                      "custom": [{"name": "emp", "pattern": "EMP-\\d{6}"}]},
        "limits": {"max_body_bytes": 1000},
        "contracts": [{"id": "c1"}, {"id": "c2"}],
        "profiles": profiles
    })
}

fn cfg(v: Value) -> Result<Policy, ConfigError> {
    parse(v.to_string().as_bytes())
}

#[track_caller]
fn err(v: Value) -> ConfigError {
    match cfg(v) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    }
}

#[test]
fn a_profile_replaces_the_keys_it_sets_and_keeps_the_others() {
    let p = cfg(base(json!({
        "strict": {"mode": "enforce", "limits": {"max_body_bytes": 50},
                   "policy": {"block_rules": [{"name": "no_email", "condition": "has_email", "action": "block"}]},
                   "contract": "c2"},
        "same": {}
    })))
    .unwrap();
    assert_eq!(p.profile, None);
    let names: Vec<&str> = p.profiles.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["same", "strict"]);
    let strict = p.profile_named(b"strict").unwrap();
    assert_eq!(strict.profile.as_deref(), Some("strict"));
    assert_eq!(strict.mode, Mode::Enforce);
    assert_eq!(strict.max_body_bytes, 50);
    // `policy` replaced whole: the base's rule is not there.
    let rules: Vec<&str> = strict.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(rules, ["no_email"]);
    assert_eq!(
        strict.contracts.inbound().map(|c| c.id.as_str()),
        Some("c2")
    );
    // Keys it does not set are the base's.
    assert_eq!(strict.manifest.agent_id, p.manifest.agent_id);
    assert_eq!(strict.scanner.enabled(), p.scanner.enabled());
    let same = p.profile_named(b"same").unwrap();
    assert_eq!(same.mode, Mode::Monitor);
    assert_eq!(same.max_body_bytes, 1000);
    assert_eq!(same.rules.len(), p.rules.len());
    assert!(same.profiles.is_empty() && strict.profiles.is_empty());
    assert!(p.profile_named(b"nope").is_none());
    assert!(p.profile_named(b"Strict").is_none());
}

#[test]
fn a_profiles_detectors_replace_the_bases_member_by_member_and_keep_the_custom_ones() {
    let p = cfg(base(json!({
        "fewer": {"detectors": {"enabled": ["emp"]},
                  "policy": {"block_rules": [{"name": "emp", "condition": "has_emp", "action": "block"}]}},
        "headers": {"detectors": {"skip_headers": ["x-notes"]}}
    })))
    .unwrap();
    let fewer = p.profile_named(b"fewer").unwrap();
    assert_eq!(fewer.scanner.names(fewer.scanner.enabled()), ["emp"]);
    // The custom detector keeps its kind, so metrics of every profile share slots.
    assert_eq!(
        fewer.scanner.name(Kind::custom(0)),
        p.scanner.name(Kind::custom(0))
    );
    let headers = p.profile_named(b"headers").unwrap();
    assert_eq!(headers.scanner.enabled(), p.scanner.enabled());
    assert_eq!(headers.skip_headers, ["x-notes"]);
    // The metrics' detector series: the union of every profile's.
    assert_eq!(p.detectors_of_every_profile(), p.scanner.enabled());
}

#[test]
fn the_detector_series_are_the_union_of_every_profiles_detectors() {
    let mut v = base(json!({"cards": {"detectors": {"enabled": ["credit_card"]},
                                      "policy": {"block_rules": []}}}));
    v["detectors"]["enabled"] = json!(["ssn"]);
    v["policy"] =
        json!({"block_rules": [{"name": "ssn_out", "condition": "has_ssn", "action": "block"}]});
    let p = cfg(v).unwrap();
    let union = p.detectors_of_every_profile();
    let names = p.scanner.names(union);
    assert!(
        names.contains(&"ssn") && names.contains(&"credit_card"),
        "{names:?}"
    );
    let labels = crate::metrics::Label::Detector.values(&crate::metrics::LabelContext::of(&p));
    let labels: Vec<&str> = labels.iter().map(|(_, n)| n.as_str()).collect();
    assert!(
        labels.contains(&"credit_card") && labels.contains(&"ssn"),
        "{labels:?}"
    );
}

#[test]
fn keys_that_are_the_same_on_every_route_are_refused_in_a_profile_naming_the_key() {
    for (key, value) in [
        ("hold_headers", json!(false)),
        (
            "manifest",
            json!({"identity": {"agent_id": "b"}, "trust_level": "trusted",
                            "privacy": {"retention": "ephemeral"}}),
        ),
        ("agent_card", json!({"url": "https://x/"})),
        ("well_known", json!({"agent_card": false})),
        ("contracts", json!([{"id": "c3"}])),
        ("moderation", json!({"cluster": "m", "authority": "m"})),
        ("events", json!({"max_payload_bytes": 10})),
        ("callers", json!({"sources": {"spiffe": true}})),
        ("replies", json!({"status": {"block": 451}})),
        ("gateway", json!({"contract": "c1"})),
        (
            "control_plane",
            json!({"cluster": "cp", "authority": "cp", "tenant_id": "t"}),
        ),
        ("attestation", json!({"agent_id": "a"})),
        ("profiles", json!({})),
    ] {
        let e = err(base(json!({"p": {key: value}})));
        assert_eq!(e.path(), format!("profiles.p.{key}"), "{e}");
        assert!(e.to_string().contains("cannot set"), "{e}");
    }
    let e = err(base(
        json!({"p": {"detectors": {"custom": [{"name": "x", "pattern": "X-\\d+"}]}}}),
    ));
    assert_eq!(e.path(), "profiles.p.detectors.custom", "{e}");
}

#[test]
fn an_error_in_a_profile_names_the_profiles_key_and_its_position() {
    // Shape errors are the reader's, at their place in the text.
    let text = base(json!({"p": {"limits": {"max_body_bytes": "big"}}})).to_string();
    let e = parse(text.as_bytes()).unwrap_err();
    assert_eq!(e.path(), "profiles.p.limits.max_body_bytes", "{e}");
    let ConfigError::Json { line, column, .. } = e else {
        panic!("{e:?}")
    };
    let at = text.find("\"big\"").unwrap();
    // serde_json's column is the token's last character's (1-based).
    assert_eq!((line, column), (1, at + "\"big\"".len()), "{text}");
    let e = err(base(json!({"p": {"mode": "loud"}})));
    assert_eq!(e.path(), "profiles.p.mode", "{e}");
    let e = err(base(json!({"p": {"limit": {}}})));
    assert!(e.to_string().contains("limit"), "{e}");
    // Compile errors in keys the profile sets name the profile's key.
    let e = err(base(json!({"p": {"policy": {"block_rules": [
        {"name": "r", "condition": "has_ssn &&", "action": "block"}]}}})));
    assert_eq!(
        e.path(),
        "profiles.p.policy.block_rules[0].condition",
        "{e}"
    );
    assert!(e.to_string().contains("of rule 'r', column"), "{e}");
    let e = err(base(json!({"p": {"contract": "c9"}})));
    assert_eq!(e.path(), "profiles.p.contract", "{e}");
    let e = err(base(
        json!({"p": {"limits": {"max_body_bytes": 1u64 << 40}}}),
    ));
    assert_eq!(e.path(), "profiles.p.limits.max_body_bytes", "{e}");
    let e = err(base(
        json!({"p": {"detectors": {"enabled": ["ssn", "nope"]}}}),
    ));
    assert!(e.path().starts_with("profiles.p.detectors.enabled"), "{e}");
}

#[test]
fn a_base_key_that_a_profile_makes_invalid_is_named_with_the_profile() {
    // The base's rule reads `has_ssn`; this profile turns the SSN detector off.
    let e = err(base(json!({"p": {"detectors": {"enabled": ["email"]}}})));
    assert!(e.path().starts_with("policy.block_rules[0]"), "{e}");
    let text = e.to_string();
    assert!(text.contains("in profile 'p'"), "{text}");
}

#[test]
fn profile_names_and_counts_are_bounded() {
    for bad in ["", "a.b", "a b", "é", &"x".repeat(65)] {
        let e = err(base(json!({bad: {}})));
        assert_eq!(e.path(), "profiles", "{bad:?}: {e}");
    }
    assert!(cfg(base(json!({"x".repeat(64): {}, "A_z-09": {}}))).is_ok());
    let many: serde_json::Map<String, Value> = (0..=MAX_PROFILES)
        .map(|i| (format!("p{i}"), json!({})))
        .collect();
    let e = err(base(Value::Object(many.clone())));
    assert_eq!(e.path(), "profiles", "{e}");
    let mut fewer = many;
    fewer.remove("p0");
    assert_eq!(
        cfg(base(Value::Object(fewer))).unwrap().profiles.len(),
        MAX_PROFILES
    );
    // Not an object: refused by the reader.
    for v in [json!([]), json!("p"), json!({"p": []}), json!({"p": "x"})] {
        let e = err(base(v.clone()));
        assert!(e.path().starts_with("profiles"), "{v}: {e}");
    }
}

#[test]
fn a_profiles_notes_are_logged_with_its_name() {
    let p = cfg(base(json!({"p": {"policy": {"block_rules": [
        {"name": "never", "condition": "trust_score > 10", "action": "block"}]}}})))
    .unwrap();
    assert!(
        p.notes
            .iter()
            .any(|n| n.starts_with("profile 'p': ") && n.contains("never")),
        "{:?}",
        p.notes
    );
}

#[test]
fn new_contracts_reach_every_profile() {
    let mut v = base(json!({"p": {"contract": "c2"}}));
    v["control_plane"] = json!({"cluster": "cp", "authority": "cp", "tenant_id": "t"});
    let p = cfg(v).unwrap();
    let (contracts, _) = super::contracts_from_control_plane(
        br#"{"contracts":[{"id":"c1","tenant_id":"t"},{"id":"c2","tenant_id":"t","service_name":"new"}]}"#,
        &p,
    )
    .unwrap();
    let q = p.with_contracts(contracts);
    let prof = q.profile_named(b"p").unwrap();
    assert_eq!(prof.profile.as_deref(), Some("p"));
    // The new c2 (its digest is over its new text), as the profile's inbound contract.
    let own = prof.contracts.inbound().unwrap();
    let old = p.profile_named(b"p").unwrap().contracts.inbound().unwrap();
    assert_eq!(own.id, "c2");
    assert_ne!(own.digest, old.digest);
    assert_eq!(Some(&own.digest), q.contracts.get("c2").map(|c| &c.digest));
    assert!(q.contracts.inbound().is_none());
    // A set without the contract a profile names is refused, naming the profile.
    let e =
        super::contracts_from_control_plane(br#"{"contracts":[{"id":"c1","tenant_id":"t"}]}"#, &p)
            .unwrap_err();
    assert!(e.to_string().contains("in profile 'p'"), "{e}");
}

#[test]
fn a_profile_name_holding_a_detected_value_is_refused_and_the_bases_notes_are_said_once() {
    // Event lines carry the name.
    for name in ["536-22-1234", "4111111111111111"] {
        let e = err(base(json!({name: {}})));
        assert_eq!(e.path(), "profiles", "{e}");
        assert!(!e.to_string().contains(name), "{e}");
    }
    // A note about the base (here: no agent card) once, not once per profile.
    let p = cfg(base(json!({"a": {}, "b": {"mode": "enforce"}}))).unwrap();
    let card: Vec<&String> = p
        .notes
        .iter()
        .filter(|n| n.contains("agent card"))
        .collect();
    assert_eq!(card.len(), 1, "{:?}", p.notes);
}
