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
    // Both rules fold to false for a standard, ephemeral agent and say so; overrides are
    // allowed but have no key.
    assert_eq!(p.notes.len(), 3, "{:?}", p.notes);
    assert!(p.notes[2].contains("policy.override_key is not set"));
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
    let legacy = cfg(v.clone()).unwrap();
    assert!(legacy.overrides_possible());
    assert!(
        legacy.notes.iter().any(|n| n.contains("unsafe")),
        "{:?}",
        legacy.notes
    );
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
    assert_eq!(cfg(v.clone()).unwrap_err().path(), "limits.max_body_bytes");
    v["limits"] = json!({"max_body_bytes": (256u64 << 20) + 1});
    let e = cfg(v.clone()).unwrap_err();
    assert_eq!(e.path(), "limits.max_body_bytes");
    assert!(e.to_string().contains("at most 268435456"), "{e}");
    v["limits"] = json!({"max_body_bytes": 256u64 << 20});
    assert!(cfg(v).is_ok());
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

/// Every key the schema has, in both manifest shapes; free-form maps (`agent_card`'s own keys,
/// `manifest.authentication`) hold objects and arrays of their own.
fn full_configs() -> Vec<Value> {
    vec![
        json!({
            "mode": "monitor",
            "hold_headers": true,
            "manifest": {
                "$schema": "https://iatp.dev/schema/manifest-v1.json",
                "identity": {"agent_id": "a", "name": "A", "version": "1", "verification_key": "k", "owner": "o"},
                "trust_level": "trusted",
                "capabilities": {"idempotency": true, "concurrency_limit": 3, "sla_latency_ms": 100},
                "reversibility": {"level": "partial", "undo_window": "24h", "undo_window_seconds": 86400,
                                  "compensation_method": "refund"},
                "privacy": {"retention": "ephemeral", "human_in_loop": false, "training_consent": false,
                            "storage_location": "eu"},
                "authentication": {"schemes": ["mtls"], "jwks": {"url": "https://a/jwks"}},
                "rate_limiting": {"requests_per_minute": 60, "burst": 10},
                "protocol_version": "1.0", "manifest_version": "2", "updated_at": "2025-01-01"
            },
            "agent_card": {"name": "A", "description": "d", "url": "https://a/", "version": "1",
                           "protocolVersion": "0.3.0", "capabilities": {"streaming": false},
                           "defaultInputModes": ["application/json"], "defaultOutputModes": ["text/plain"],
                           "skills": [{"id": "s", "name": "S", "description": "x", "tags": ["t"]}],
                           "x-extra": {"k": [1, {"deep": true}]}},
            "well_known": {"agent_manifest": true, "agent_card": true},
            "policy": {"trust_threshold": 3, "allow_override": true,
                       "override_key": "0123456789abcdef0123456789abcdef", "override_ttl_seconds": 60,
                       "legacy_override": false,
                       "block_rules": [{"name": "r", "condition": "has_ssn", "action": "block", "message": "m"}],
                       "actions": [{"name": "delete", "when": "method == 'DELETE'", "required_tier": 3}]},
            "callers": {
                "sources": {"spiffe": true,
                            "jwt": {"metadata_namespace": "envoy.filters.http.jwt_authn", "payload_key": "jwt_payload"},
                            "header": "X-Caller-Id"},
                "directory": [
                    {"name": "billing", "match": {"spiffe_id": "spiffe://example.org/ns/billing/sa/agent"},
                     "trust_level": "trusted", "tier": 3, "permitted_actions": ["delete"],
                     "rate_limit": {"requests_per_minute": 60, "burst": 10}},
                    {"name": "admins", "match": {"jwt_issuer": "https://idp.example", "jwt_subject": "u",
                                                 "claims": {"role": "admin"}}, "tier": 4}
                ],
                "default": {"name": "nobody", "trust_level": "unknown", "tier": 0, "permitted_actions": ["*"],
                            "rate_limit": {"requests_per_minute": 600, "burst": 100}},
                "tier_claim": "tier",
                "permitted_actions_claim": "permitted_actions"
            },
            "detectors": {"enabled": ["ssn", "email", "employee_id"], "skip_headers": ["authorization"],
                          "custom": [{"name": "employee_id", "pattern": "EMP-\\d{6}", "checksum": "luhn",
                                      "cues": ["emp"]}]},
            "limits": {"max_body_bytes": 1000},
            "events": {"max_payload_bytes": 100, "chain_key": "0123456789abcdef0123"},
            "replies": {"status": {"block": 403, "warn": 449, "rate_limited": 429, "forbidden": 451},
                        "jsonrpc_status": "outcome"},
            "contracts": [
                {"id": "pii-strict/v1", "service_name": "billing", "tenant_id": "tenant_abc",
                 "feature_extractors": {"pii_detector": {"enabled": true}, "toxicity_detector": {"enabled": true},
                                        "bias_detector": {"enabled": true}},
                 "envelope": {"pii_risk": {"max": 0.0, "weights": {"ip_address": 0.1, "employee_id": 0.5}},
                              "toxicity_score": {"max": 0.3}, "bias_score": {"max": 0.2},
                              "findings": {"ssn": {"max": 0}, "employee_id": {"max": 3}},
                              "denied_terms": ["project zeus", "acme"]},
                 "target_endpoint": "https://api.groq.com",
                 "allowed_targets": {"schemes": ["https"], "hosts": ["api.groq.com", "*.example.com"],
                                     "ports": [443], "address_classes": ["private"]},
                 "certificates": [{"id": "cert_abc123"}]},
                {"id": "open/v1"}
            ],
            "contract": "pii-strict/v1",
            "gateway": {"contract": "open/v1", "serve_contracts": true,
                        "manifests": {"cluster": "iatp_manifests", "timeout_ms": 2000, "ttl_s": 3600,
                                      "negative_ttl_s": 60, "stale_s": 300, "max_entries": 1024,
                                      "fail": "open"},
                        "trust": {"ceiling": "unknown", "directory": ["*.agents.example.com"],
                                  "keys": {"cp-1": "XRoU8FF3AZeeamWuFkO/QjqkoLK9MzES4xPmxPWjlEw="},
                                  "max_age_s": 86400, "agents": {"api.partner.example": "partner-agent"}}},
            "control_plane": {"cluster": "cp", "authority": "cp.local", "path": "/v1/contracts",
                              "tenant_id": "tenant_abc", "interval_s": 30, "timeout_ms": 5000,
                              "address_classes": ["private"]},
            "attestation": {"agent_id": "a", "codebase_hash": "00", "config_hash": "11",
                            "signature": "AAAA", "signing_key_id": "cp-1",
                            "timestamp": "2026-11-30T14:40:14.128770Z",
                            "expires_at": "2026-12-01T14:40:14.128794Z"},
            "moderation": {"cluster": "moderation", "authority": "moderation.local", "path": "/v1/moderations",
                           "model": "omni-moderation-latest", "timeout_ms": 500, "fail": "closed",
                           "max_input_bytes": 32768},
            "profiles": {
                "public-api": {"mode": "enforce",
                               "policy": {"trust_threshold": 5, "allow_override": false,
                                          "block_rules": [{"name": "no_email", "condition": "has_email", "action": "block"}],
                                          "actions": [{"name": "delete", "when": "method == 'DELETE'", "required_tier": 4}]},
                               "detectors": {"enabled": ["ssn", "email", "employee_id"], "skip_headers": ["cookie"]},
                               "responses": {"scan": true, "content_types": ["application/json"], "max_body_bytes": 4096,
                                             "stream": {"hold_bytes": 512, "max_event_bytes": 65536, "release": "words"}},
                               "limits": {"max_body_bytes": 500}},
                "health": {}
            }
        }),
        json!({"manifest": {
            "agent_id": "a", "agent_version": "1", "trust_level": "standard",
            "capabilities": {"reversibility": "full", "idempotency": true, "undo_window": "1h",
                             "sla_latency": "1s", "rate_limit": 5},
            "privacy_contract": {"retention": "ephemeral", "storage_location": "eu", "human_review": false,
                                 "encryption_at_rest": true, "encryption_in_transit": true},
            "scopes": ["read"]
        }}),
        // A profile's `contract` (refused in gateway mode, where the client names it).
        json!({"manifest": {"identity": {"agent_id": "a"}, "trust_level": "standard",
                            "privacy": {"retention": "ephemeral"}},
               "contracts": [{"id": "c1"}, {"id": "c2", "envelope": {"findings": {"ssn": {"max": 0}}}}],
               "contract": "c1",
               "profiles": {"strict": {"contract": "c2"}}}),
    ]
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Every value of a document with its key path, as errors name it (the document itself is "").
fn positions<'v>(v: &'v Value, path: String, out: &mut Vec<(String, &'v Value)>) {
    out.push((path.clone(), v));
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| positions(x, join(&path, k), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| positions(x, format!("{path}[{i}]"), out)),
        _ => {}
    }
}

/// `v` with the value at `at` replaced.
fn replaced(v: &Value, path: &str, at: &str, with: &Value) -> Value {
    if path == at {
        return with.clone();
    }
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), replaced(x, &join(path, k), at, with)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| replaced(x, &format!("{path}[{i}]"), at, with))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `v` as JSON text, with the first key of the object at `at` given a second time.
fn with_duplicate(v: &Value, path: &str, at: &str) -> String {
    match v {
        Value::Object(m) => {
            let mut parts: Vec<String> = m
                .iter()
                .map(|(k, x)| format!("{}: {}", json!(k), with_duplicate(x, &join(path, k), at)))
                .collect();
            if path == at {
                parts.push(parts[0].clone());
            }
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(a) => {
            let parts: Vec<String> = a
                .iter()
                .enumerate()
                .map(|(i, x)| with_duplicate(x, &format!("{path}[{i}]"), at))
                .collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// Free-form places, where any JSON is the operator's: arrays are values there.
fn free_form(path: &str) -> bool {
    path.starts_with("agent_card.x-extra") || path.starts_with("manifest.authentication.")
}

#[test]
fn the_full_configurations_parse() {
    for v in full_configs() {
        let p = cfg(v.clone()).unwrap_or_else(|e| panic!("{e}\n{v:#}"));
        assert!(
            !p.notes.iter().any(|n| n.contains("for every request")),
            "{:?}",
            p.notes
        );
    }
}

/// Issue 10, class 11: a positional array where an object is expected (the whole
/// configuration, a rule, the manifest and its sections, the policy, detectors, a custom
/// detector, limits, events, the card's typed objects) is refused, naming the key.
#[test]
fn an_array_is_never_read_as_an_object() {
    let mut checked = 0;
    for v in full_configs() {
        let mut all = Vec::new();
        positions(&v, String::new(), &mut all);
        for (path, x) in all {
            let Value::Object(m) = x else { continue };
            if free_form(&path) {
                continue;
            }
            let positional = Value::Array(m.values().cloned().collect());
            let e = cfg(replaced(&v, "", &path, &positional))
                .expect_err(&format!("an array at `{path}` was accepted"));
            assert_eq!(e.path(), path, "{e}");
            assert!(
                e.message().contains("found an array")
                    || e.message().contains("must be an object")
                    || e.message().contains("must be a JSON object"),
                "{e}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
    // The examples of the issue: the whole configuration and a rule, positionally; one of them
    // used to switch on monitor mode.
    let e = parse(br#"["monitor", true, {"identity": {"agent_id": "a"}}]"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "(top level) (line 1, column 1): the configuration must be a JSON object (`{...}`), found an array"
    );
    let mut v = minimal();
    v["policy"] = json!({"block_rules": [["r", "has_ssn", "block"]]});
    assert_eq!(
        cfg(v).unwrap_err().to_string(),
        "policy.block_rules[0] (line 1, column 128): expected an object, found an array"
    );
}

/// Issue 10, class 11: `null` is refused wherever it stands, nested too, in free-form maps
/// too; it never silently means the default.
#[test]
fn null_is_never_a_value() {
    let mut checked = 0;
    for v in full_configs() {
        let mut all = Vec::new();
        positions(&v, String::new(), &mut all);
        for (path, _) in all.into_iter().skip(1) {
            let e = cfg(replaced(&v, "", &path, &Value::Null))
                .expect_err(&format!("null at `{path}` was accepted"));
            assert_eq!(e.path(), path, "{e}");
            assert!(e.message().starts_with("null is not a value here"), "{e}");
            checked += 1;
        }
    }
    assert!(checked >= 80, "{checked}");
    let mut v = minimal();
    v["policy"] = json!({"block_rules": null});
    let e = cfg(v).unwrap_err();
    assert_eq!(e.path(), "policy.block_rules");
    assert_eq!(
        e.message(),
        "null is not a value here: leave the key out for its default, or give a value of its type"
    );
    let mut v = minimal();
    v["mode"] = Value::Null;
    assert_eq!(cfg(v).unwrap_err().path(), "mode");
}

/// Issue 10, class 11: a key given twice is refused at any depth, in free-form maps too
/// (where serde_json would keep the last one silently).
#[test]
fn a_key_given_twice_is_refused_at_any_depth() {
    let mut checked = 0;
    for v in full_configs() {
        let mut all = Vec::new();
        positions(&v, String::new(), &mut all);
        for (path, x) in all {
            let Value::Object(m) = x else { continue };
            let Some(first) = m.keys().next() else {
                continue;
            };
            let text = with_duplicate(&v, "", &path);
            let e = parse(text.as_bytes()).expect_err(&format!("a duplicate in `{path}`: {text}"));
            assert_eq!(e.path(), join(&path, first), "{e}");
            assert!(
                e.message()
                    .starts_with(&format!("`{first}` is given twice in the same object")),
                "{e}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
    let text = r#"{"mode": "monitor", "manifest": {"identity": {"agent_id": "a"}, "privacy": {"retention": "ephemeral"}}, "mode": "enforce"}"#;
    let e = parse(text.as_bytes()).unwrap_err();
    assert_eq!(e.path(), "mode");
    assert!(matches!(e.position(), Some(Position::Text { line: 1, .. })));
}

/// Issue 10, class 11: the configuration's size is bounded (an 8 MB agent card does not
/// load), and so are the documents served at the well-known endpoints.
#[test]
fn sizes_are_bounded() {
    let mut v = minimal();
    v["agent_card"] = json!({"description": "x".repeat(8 << 20)});
    let e = cfg(v).unwrap_err();
    assert_eq!(e.path(), "");
    assert!(
        e.to_string()
            .starts_with("(top level): the configuration is 83")
            && e.to_string()
                .ends_with(" bytes; at most 1048576 (1 MiB) are accepted"),
        "{e}"
    );
    // The bound itself is accepted.
    let text = minimal().to_string();
    let padded = format!("{text}{}", " ".repeat(MAX_CONFIG_BYTES - text.len()));
    assert!(parse(padded.as_bytes()).is_ok());
    assert!(parse(format!("{padded} ").as_bytes()).is_err());

    let mut v = minimal();
    v["agent_card"] = json!({"url": "https://a/", "description": "x".repeat(MAX_DOCUMENT_BYTES)});
    let e = cfg(v).unwrap_err();
    assert_eq!(e.path(), "agent_card");
    assert!(e.message().contains("at most 65536 (64 KiB)"), "{e}");
    let mut v = minimal();
    v["manifest"]["identity"]["name"] = json!("x".repeat(MAX_DOCUMENT_BYTES));
    let e = cfg(v).unwrap_err();
    assert_eq!(e.path(), "manifest");
    assert!(e.message().contains("as served"), "{e}");
    // A large card within the bound is fine.
    let mut v = minimal();
    v["agent_card"] =
        json!({"url": "https://a/", "description": "x".repeat(MAX_DOCUMENT_BYTES - 1024)});
    assert!(cfg(v).is_ok());
}

/// Issue 10, class 11: messages name the type expected, never only "expected value".
#[test]
fn messages_name_the_expected_type() {
    let m = r#""manifest": {"identity": {"agent_id": "a"}, "privacy": {"retention": "ephemeral"}}"#;
    let cases = [
        (
            r#"{"mode": 1}"#.to_string(),
            r#"mode (line 1, column 10): expected one of "enforce", "monitor", found integer 1"#,
        ),
        (
            format!(
                r#"{{{m}, "policy": {{"block_rules": [{{"name": "x", "condition": "has_ssn", "action": true}}]}}}}"#
            ),
            r#"policy.block_rules[0].action (line 1, column 164): expected one of "block", "warn", "redact", found boolean true"#,
        ),
        (
            format!(r#"{{{m}, "policy": {{"trust_threshold": "3"}}}}"#),
            r#"policy.trust_threshold (line 1, column 118): expected an integer from 0 to 255, found string "3""#,
        ),
        (
            format!(r#"{{{m}, "policy": {{"block_rules": {{}}}}}}"#),
            "policy.block_rules (line 1, column 111): expected an array of objects, found an object",
        ),
        (
            format!(r#"{{{m}, "detectors": {{"enabled": "email"}}}}"#),
            r#"detectors.enabled (line 1, column 117): expected an array, found string "email""#,
        ),
        (
            format!(r#"{{{m}, "hold_headers": "yes"}}"#),
            r#"hold_headers (line 1, column 106): expected true or false, found string "yes""#,
        ),
        (
            format!(r#"{{{m}, "mode": enforce}}"#),
            "mode (line 1, column 94): expected a JSON value (a string in double quotes, a number, true, false, an object or an array)",
        ),
        (
            r#"{"manifest": {"trust_level": 5}}"#.to_string(),
            r#"manifest.trust_level (line 1, column 30): expected one of "verified_partner", "trusted", "standard", "unknown", "untrusted", found integer 5"#,
        ),
        (
            r#"{"manifest": {"privacy": {"retention": false}}}"#.to_string(),
            r#"manifest.privacy.retention (line 1, column 44): expected one of "ephemeral", "temporary", "permanent", "forever", found boolean false"#,
        ),
        (
            format!(
                r#"{{{m}, "detectors": {{"custom": [{{"name": "c", "pattern": "x", "checksum": 1}}]}}}}"#
            ),
            r#"detectors.custom[0].checksum (line 1, column 153): expected one of "luhn", "mod97", found integer 1"#,
        ),
        (
            "mode: enforce\nmanifest:\n  identity: {agent_id: a}\n".to_string(),
            "(top level) (line 1, column 1): the configuration must be a JSON object (`{...}`); this looks like YAML, which is not accepted: write it as JSON",
        ),
        (
            format!("\u{feff}{{{m}}}"),
            "(top level) (line 1, column 1): the configuration starts with a UTF-8 byte order mark (EF BB BF): remove it; the configuration must be a JSON object",
        ),
        (
            "{mode: enforce}".to_string(),
            "(top level) (line 1, column 2): expected a key in double quotes (the configuration is JSON, not YAML)",
        ),
        (
            "\n  \"manifest\"".to_string(),
            "(top level) (line 2, column 3): the configuration must be a JSON object (`{...}`), found a string",
        ),
    ];
    for (text, want) in cases {
        let e = parse(text.as_bytes()).unwrap_err();
        assert_eq!(e.to_string(), want, "for {text}");
        assert!(!e.message().contains("expected value"), "{e}");
    }
}

/// Issue 10, class 11: a comparison that no request can change loads, with a warning that
/// names the rule, the column and the comparison.
#[test]
fn comparisons_that_cannot_change_are_warned_about() {
    let rule = |condition: &str| {
        let mut v = minimal();
        v["well_known"] = json!({"agent_card": false});
        v["policy"] = json!({"allow_override": false,
            "block_rules": [{"name": "r", "condition": condition, "action": "block"}]});
        cfg(v).unwrap().notes
    };
    let never = [
        ("path == 'book'", "`path == 'book'` is false for every request: paths start with `/`"),
        ("'book' == path", "`path == 'book'` is false for every request: paths start with `/`"),
        ("path == '/book?id=1'", "`path == '/book?id=1'` is false for every request: `path` is the path without its query string or fragment"),
        ("method == 'post'", "`method == 'post'` is false for every request: methods are case-sensitive upper-case tokens (`POST`)"),
        ("method == ''", "`method == ''` is false for every request: methods are case-sensitive upper-case tokens (`POST`)"),
        ("detected_count < 0", "`detected_count < 0` is false for every request: `detected_count` is 0 or more"),
        ("-1 >= detected_count", "`detected_count <= -1` is false for every request: `detected_count` is 0 or more"),
        ("detected_count == -3", "`detected_count == -3` is false for every request: `detected_count` is 0 or more"),
        ("trust_score > 10", "`trust_score > 10` is false for every request: `trust_score` is 0..10"),
        ("trust_score == 11", "`trust_score == 11` is false for every request: `trust_score` is 0..10"),
    ];
    for (condition, want) in never {
        // (`trust_score` is folded: its rule also never fires, which has its own note.)
        assert_eq!(
            rule(&format!("has_ssn && {condition}"))[0],
            format!("policy.block_rules[0].condition of rule 'r', column 12: {want}"),
            "{condition}"
        );
    }
    let always = [
        ("path != 'book'", "`path != 'book'` is true for every request: paths start with `/`"),
        ("method != 'get'", "`method != 'get'` is true for every request: methods are case-sensitive upper-case tokens (`POST`)"),
        ("detected_count >= 0", "`detected_count >= 0` is true for every request: `detected_count` is 0 or more"),
        ("trust_score <= 10", "`trust_score <= 10` is true for every request: `trust_score` is 0..10"),
    ];
    for (condition, want) in always {
        let notes = rule(&format!("has_ssn && {condition}"));
        assert!(
            notes.iter().any(|n| n.ends_with(want)),
            "{condition}: {notes:?}"
        );
    }
    for fine in [
        "has_ssn && path == '/book'",
        "has_ssn && path == '*'",
        "has_ssn && path == ''",
        "has_ssn && method == 'POST'",
        "has_ssn && method == 'M-SEARCH'",
        "has_ssn && detected_count > 0",
        "has_ssn && detected_count == 0",
        "has_ssn && trust_score >= 5",
        "has_ssn && 3 < detected_count",
    ] {
        assert_eq!(rule(fine), Vec::<String>::new(), "{fine}");
    }
    // Several in one rule, each with its column.
    let notes = rule("path == 'a' || method == 'get'");
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[1].contains("column 16: `method == 'get'`"),
        "{notes:?}"
    );
}

fn with_callers(callers: Value, actions: Value) -> Result<Policy, ConfigError> {
    let mut v = minimal();
    v["callers"] = callers;
    v["policy"] = json!({"actions": actions});
    cfg(v)
}

/// The shared design's example `callers` section and actions.
#[test]
fn the_callers_example_parses_and_resolves() {
    use crate::caller::{ActionSet, Source};
    use crate::manifest::TrustLevel;
    let p = with_callers(
        json!({
            "sources": {"spiffe": true,
                        "jwt": {"metadata_namespace": "envoy.filters.http.jwt_authn", "payload_key": "jwt_payload"},
                        "header": "x-caller-id"},
            "directory": [
                {"name": "billing", "match": {"spiffe_id": "spiffe://example.org/ns/billing/sa/agent"},
                 "trust_level": "trusted", "tier": 3, "permitted_actions": ["delete_file", "read_file"],
                 "rate_limit": {"requests_per_minute": 60, "burst": 10}},
                {"name": "partners", "match": {"spiffe_trust_domain": "partner.example"}, "trust_level": "standard", "tier": 1},
                {"name": "ops", "match": {"spiffe_id_prefix": "spiffe://example.org/ns/ops/"}, "tier": 2},
                {"name": "web-user", "match": {"jwt_issuer": "https://idp.example", "jwt_subject": "user-1"}, "tier": 1},
                {"name": "admins", "match": {"jwt_issuer": "https://idp.example", "claims": {"role": "admin"}}, "tier": 4},
                {"name": "legacy-bot", "match": {"header_value": "legacy-bot"}, "trust_level": "unknown"}
            ],
            "default": {"name": "anonymous", "trust_level": "unknown", "tier": 0},
            "tier_claim": "tier",
            "permitted_actions_claim": "permitted_actions"
        }),
        json!([
            {"name": "read_file", "when": "method == 'GET'"},
            {"name": "delete_file", "when": "method == 'DELETE' || path == '/admin'", "required_tier": 3}
        ]),
    )
    .unwrap();
    assert_eq!(p.actions.len(), 2);
    assert_eq!(p.callers.entries().len(), 6);
    assert_eq!(p.callers.sources().header.as_deref(), Some("x-caller-id"));
    let c = p.callers.resolve(
        Some(b"spiffe://example.org/ns/billing/sa/agent"),
        None,
        None,
    );
    assert_eq!(
        (&*c.name, c.tier, c.trust_level),
        ("billing", 3, TrustLevel::Trusted)
    );
    assert_eq!(c.permitted, ActionSet::NONE.with(0).with(1));
    let facts = Facts::new("DELETE", "/x");
    let matched = p.actions.matched(&facts);
    assert_eq!(p.actions.first_name(matched), "delete_file");
    assert!(p.actions.authorize(&c, matched).is_ok());
    let ops = p
        .callers
        .resolve(Some(b"spiffe://example.org/ns/ops/a"), None, None);
    let denied = p.actions.authorize(&ops, matched).unwrap_err();
    assert_eq!(
        (denied.action, denied.required_tier, denied.current_tier),
        ("delete_file", 3, 2)
    );
    let bot = p.callers.resolve(None, None, Some(b"legacy-bot"));
    assert_eq!((&*bot.name, bot.source), ("legacy-bot", Source::Header));
    // No callers limit anywhere, no manifest limit: unlimited.
    assert_eq!(bot.rate_limit, None);
}

#[test]
fn callers_defaults_and_the_manifests_limit() {
    use crate::caller::ratelimit::Limit;
    use crate::caller::Source;
    // No callers section: SPIFFE peers told apart, the rest anonymous, no limit.
    let p = cfg(minimal()).unwrap();
    assert!(p.actions.is_empty());
    assert!(p.callers.sources().spiffe);
    assert_eq!(
        p.callers.resolve(Some(b"spiffe://td/x"), None, None).source,
        Source::Spiffe
    );
    assert_eq!(p.callers.resolve(None, None, None).rate_limit, None);
    // The manifest's rate_limiting, with its burst or without (burst = requests_per_minute).
    let mut v = minimal();
    v["manifest"]["rate_limiting"] = json!({"requests_per_minute": 60, "burst": 10});
    let c = cfg(v.clone()).unwrap().callers.resolve(None, None, None);
    assert_eq!(
        c.rate_limit,
        Some(Limit {
            requests_per_minute: 60,
            burst: 10
        })
    );
    v["manifest"]["rate_limiting"] = json!({"requests_per_minute": 30});
    let c = cfg(v.clone()).unwrap().callers.resolve(None, None, None);
    assert_eq!(
        c.rate_limit,
        Some(Limit {
            requests_per_minute: 30,
            burst: 30
        })
    );
    v["manifest"]["rate_limiting"] = json!({"requests_per_minute": 0});
    assert_eq!(
        cfg(v.clone())
            .unwrap()
            .callers
            .resolve(None, None, None)
            .rate_limit,
        None
    );
    // The default's limit wins over the manifest's; an entry's over both.
    v["manifest"]["rate_limiting"] = json!({"requests_per_minute": 30});
    v["callers"] = json!({"sources": {"header": "x-id"},
        "directory": [{"name": "a", "match": {"header_value": "a"}, "rate_limit": {"requests_per_minute": 5}}],
        "default": {"rate_limit": {"requests_per_minute": 7, "burst": 1}}});
    let p = cfg(v).unwrap();
    assert_eq!(
        p.callers.resolve(None, None, None).rate_limit,
        Some(Limit {
            requests_per_minute: 7,
            burst: 1
        })
    );
    assert_eq!(
        p.callers.resolve(None, None, Some(b"a")).rate_limit,
        Some(Limit {
            requests_per_minute: 5,
            burst: 5
        })
    );
    // An empty callers section: the defaults.
    let p = with_callers(json!({}), json!([])).unwrap();
    let c = p.callers.resolve(None, None, Some(b"x"));
    assert_eq!(
        (&*c.name, c.source, c.tier),
        ("anonymous", Source::Anonymous, 0)
    );
}

/// Every way a `callers` section or an action is refused, naming the key.
#[test]
fn callers_errors_name_the_key() {
    let src = json!({"spiffe": true, "jwt": {}, "header": "x-id"});
    let entry = |m: Value| json!({"sources": src, "directory": [{"name": "a", "match": m}]});
    let acts = json!([{"name": "del", "when": "method == 'DELETE'"}]);
    let cases: Vec<(Value, Value, &str, &str)> = vec![
        (
            entry(json!({})),
            json!([]),
            "callers.directory[0].match",
            "exactly one source",
        ),
        (
            entry(json!({"spiffe_id": "spiffe://td/x", "header_value": "h"})),
            json!([]),
            "callers.directory[0].match",
            "exactly one source",
        ),
        (
            entry(json!({"spiffe_id": "spiffe://td/x", "spiffe_trust_domain": "td"})),
            json!([]),
            "callers.directory[0].match",
            "exactly one source",
        ),
        (
            entry(json!({"jwt_subject": "s", "header_value": "h"})),
            json!([]),
            "callers.directory[0].match",
            "exactly one source",
        ),
        (
            json!({"directory": [{"name": "a"}]}),
            json!([]),
            "callers.directory[0].match",
            "is required",
        ),
        (
            entry(json!({"spiffe_id": "spiffe://TD/x"})),
            json!([]),
            "callers.directory[0].match.spiffe_id",
            "a SPIFFE ID is",
        ),
        (
            entry(json!({"spiffe_id": "spiffe://td/x/../y"})),
            json!([]),
            "callers.directory[0].match.spiffe_id",
            "a SPIFFE ID is",
        ),
        (
            entry(json!({"spiffe_id_prefix": "spiffe://td//"})),
            json!([]),
            "callers.directory[0].match.spiffe_id_prefix",
            "a SPIFFE ID is",
        ),
        (
            entry(json!({"spiffe_trust_domain": "spiffe://td"})),
            json!([]),
            "callers.directory[0].match.spiffe_trust_domain",
            "trust domain",
        ),
        (
            entry(json!({"spiffe_trust_domain": "Example.org"})),
            json!([]),
            "callers.directory[0].match.spiffe_trust_domain",
            "lower-case",
        ),
        (
            entry(json!({"jwt_subject": "s"})),
            json!([]),
            "callers.directory[0].match.jwt_issuer",
            "is required",
        ),
        (
            entry(json!({"jwt_issuer": ""})),
            json!([]),
            "callers.directory[0].match.jwt_issuer",
            "1 to 1024 bytes",
        ),
        (
            entry(json!({"jwt_issuer": "i", "claims": {"role": ""}})),
            json!([]),
            "callers.directory[0].match.claims.role",
            "1 to 1024 bytes",
        ),
        (
            entry(json!({"header_value": "a b"})),
            json!([]),
            "callers.directory[0].match.header_value",
            "visible ASCII",
        ),
        (
            json!({"directory": [{"name": "a", "match": {"header_value": "h"}}]}),
            json!([]),
            "callers.directory[0].match.header_value",
            "callers.sources.header",
        ),
        (
            json!({"directory": [{"name": "a", "match": {"jwt_issuer": "i"}}]}),
            json!([]),
            "callers.directory[0].match",
            "callers.sources.jwt is not set",
        ),
        (
            json!({"sources": src, "directory": [{"name": "", "match": {"header_value": "h"}}]}),
            json!([]),
            "callers.directory[0].name",
            "caller names are",
        ),
        (
            json!({"sources": src, "directory": [{"name": "a", "match": {"header_value": "h"}}, {"name": "a", "match": {"header_value": "g"}}]}),
            json!([]),
            "callers.directory[1].name",
            "used twice",
        ),
        (
            json!({"sources": src, "directory": [{"name": "a", "match": {"header_value": "h"}}], "default": {"name": "a"}}),
            json!([]),
            "callers.default.name",
            "directory entry",
        ),
        (
            json!({"sources": src, "directory": [{"name": "a", "match": {"header_value": "h"}}, {"name": "b", "match": {"header_value": "h"}}]}),
            json!([]),
            "callers.directory[1].match",
            "could never match",
        ),
        // An entry named as the default caller is by default: the entry's key is named.
        (
            json!({"sources": src, "directory": [{"name": "x", "match": {"header_value": "h"}}, {"name": "anonymous", "match": {"header_value": "i"}}]}),
            json!([]),
            "callers.directory[1].name",
            "callers.default.name is not set",
        ),
        (
            json!({"sources": src, "directory": [{"name": "a", "match": {"header_value": "h"}, "tier": 10}]}),
            json!([]),
            "callers.directory[0].tier",
            "between 0 and 9",
        ),
        (
            json!({"default": {"tier": 10}}),
            json!([]),
            "callers.default.tier",
            "between 0 and 9",
        ),
        (
            json!({"sources": {"header": "x id"}}),
            json!([]),
            "callers.sources.header",
            "RFC 9110",
        ),
        (
            json!({"sources": {"header": ":authority"}}),
            json!([]),
            "callers.sources.header",
            "RFC 9110",
        ),
        (
            json!({"sources": {"jwt": {"payload_key": ""}}}),
            json!([]),
            "callers.sources.jwt.payload_key",
            "1 to 1024",
        ),
        (
            json!({"tier_claim": ""}),
            json!([]),
            "callers.tier_claim",
            "1 to 1024",
        ),
        (
            json!({"default": {"rate_limit": {"requests_per_minute": 0}}}),
            json!([]),
            "callers.default.rate_limit.requests_per_minute",
            "between 1 and 1000000",
        ),
        (
            json!({"default": {"rate_limit": {"requests_per_minute": 1_000_001}}}),
            json!([]),
            "callers.default.rate_limit.requests_per_minute",
            "between 1 and 1000000",
        ),
        (
            json!({"default": {"rate_limit": {"burst": 5}}}),
            json!([]),
            "callers.default.rate_limit.requests_per_minute",
            "is required",
        ),
        (
            json!({"default": {"rate_limit": {"requests_per_minute": 5, "burst": 0}}}),
            json!([]),
            "callers.default.rate_limit.burst",
            "between 1 and 1000000",
        ),
        (
            json!({"default": {"permitted_actions": ["del", "nope"]}}),
            acts.clone(),
            "callers.default.permitted_actions[1]",
            "'nope' is not one of policy.actions (del)",
        ),
        (
            json!({}),
            json!([{"name": "a b", "when": "true"}]),
            "policy.actions[0].name",
            "action names are",
        ),
        (
            json!({}),
            json!([{"name": "a", "when": "true"}, {"name": "a", "when": "true"}]),
            "policy.actions[1].name",
            "used twice",
        ),
        (
            json!({}),
            json!([{"name": "a", "when": "true", "required_tier": 10}]),
            "policy.actions[0].required_tier",
            "between 0 and 9",
        ),
        (
            json!({}),
            json!([{"name": "a", "when": "methd == 'GET'"}]),
            "policy.actions[0].when",
            "unknown",
        ),
    ];
    for (callers, actions, path, message) in cases {
        let e = with_callers(callers.clone(), actions).expect_err(&format!("accepted: {callers}"));
        assert_eq!(e.path(), path, "{e}");
        assert!(e.to_string().contains(message), "{e} (wanted {message:?})");
    }
    // Kinds.
    let e = with_callers(json!({"default": {"tier": 10}}), json!([])).unwrap_err();
    assert!(matches!(e, ConfigError::OutOfRange { .. }));
    let e = with_callers(json!({}), json!([{"name": "a", "when": "methd == 'GET'"}])).unwrap_err();
    assert!(matches!(e, ConfigError::Rule { ref rule, .. } if rule == "a"));
    // Too many entries, too many actions.
    let many: Vec<Value> = (0..=MAX_DIRECTORY_ENTRIES)
        .map(|i| json!({"name": format!("c{i}"), "match": {"spiffe_id": format!("spiffe://td/{i}")}}))
        .collect();
    let e = with_callers(json!({"directory": many}), json!([])).unwrap_err();
    assert_eq!(e.path(), "callers.directory");
    let many: Vec<Value> = (0..65)
        .map(|i| json!({"name": format!("a{i}"), "when": "true"}))
        .collect();
    let e = with_callers(json!({}), json!(many)).unwrap_err();
    assert_eq!(e.path(), "policy.actions");
    // Header names are lower-cased; `"*"` permits all; an action that can never match is noted.
    let p = with_callers(
        json!({"sources": {"header": "X-Caller-ID"}, "default": {"permitted_actions": ["*"]}}),
        json!([{"name": "never", "when": "trust_level == 'untrusted'"}]),
    )
    .unwrap();
    assert_eq!(p.callers.sources().header.as_deref(), Some("x-caller-id"));
    assert_eq!(
        p.callers.resolve(None, None, None).permitted,
        crate::caller::ActionSet::ALL
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("action 'never' can never match")),
        "{:?}",
        p.notes
    );
}

/// The bound of the directory is accepted, and resolving in it is fast (hash maps).
#[test]
fn a_full_directory_loads_and_resolves() {
    let many: Vec<Value> = (0..MAX_DIRECTORY_ENTRIES)
        .map(|i| json!({"name": format!("c{i}"), "match": {"spiffe_id": format!("spiffe://td/{i}")}}))
        .collect();
    let mut v = minimal();
    v["callers"] = json!({"directory": many});
    let text = v.to_string();
    assert!(text.len() < MAX_CONFIG_BYTES, "{}", text.len());
    let p = cfg(v).unwrap();
    let c = p.callers.resolve(Some(b"spiffe://td/9999"), None, None);
    assert_eq!(&*c.name, "c9999");
}

/// `replies`: each refusal's HTTP status, and that of JSON-RPC refusals.
#[test]
fn reply_statuses() {
    use crate::replies::{JsonRpcStatus, Statuses};
    let p = cfg(minimal()).unwrap();
    assert_eq!(p.reply_statuses, Statuses::default());
    assert_eq!(
        (
            p.reply_statuses.block,
            p.reply_statuses.warn,
            p.reply_statuses.rate_limited,
            p.reply_statuses.forbidden
        ),
        (403, 449, 429, 403)
    );
    assert_eq!(p.reply_statuses.jsonrpc, JsonRpcStatus::Ok);
    let mut v = minimal();
    v["replies"] = json!({"status": {"block": 451, "warn": 428, "rate_limited": 503, "forbidden": 401},
                          "jsonrpc_status": "outcome"});
    let s = cfg(v).unwrap().reply_statuses;
    assert_eq!(
        (s.block, s.warn, s.rate_limited, s.forbidden),
        (451, 428, 503, 401)
    );
    assert_eq!(s.jsonrpc, JsonRpcStatus::Outcome);
    // Partial: the rest keep their defaults.
    let mut v = minimal();
    v["replies"] = json!({"status": {"warn": 200}});
    let s = cfg(v.clone()).unwrap().reply_statuses;
    assert_eq!(
        (s.block, s.warn, s.rate_limited, s.forbidden),
        (403, 200, 429, 403)
    );
    v["replies"] = json!({});
    assert_eq!(cfg(v).unwrap().reply_statuses, Statuses::default());
    // Bounds, each naming its key.
    for key in ["block", "warn", "rate_limited", "forbidden"] {
        for bad in [0, 100, 199, 204, 205, 301, 399, 600, 999] {
            let mut v = minimal();
            v["replies"] = json!({"status": {key: bad}});
            let e = cfg(v).unwrap_err();
            assert_eq!(e.path(), format!("replies.status.{key}"), "{e}");
            assert!(e.message().contains("from 200 to 599"), "{e}");
        }
        for good in [200, 202, 400, 403, 449, 599] {
            let mut v = minimal();
            v["replies"] = json!({"status": {key: good}});
            assert!(cfg(v).is_ok(), "{key} {good}");
        }
    }
    let cases = [
        (json!({"status": {"block": 70000}}), "replies.status.block"),
        (json!({"status": {"block": "403"}}), "replies.status.block"),
        (
            json!({"status": {"blocked": 403}}),
            "replies.status.blocked",
        ),
        (json!({"status": [403]}), "replies.status"),
        (json!({"jsonrpc_status": "200"}), "replies.jsonrpc_status"),
        (json!({"jsonrpc_status": 200}), "replies.jsonrpc_status"),
        (json!({"other": 1}), "replies.other"),
    ];
    for (replies, path) in cases {
        let mut v = minimal();
        v["replies"] = replies.clone();
        let e = cfg(v).unwrap_err();
        assert_eq!(e.path(), path, "{replies}: {e}");
    }
    let mut v = minimal();
    v["replies"] = json!({"jsonrpc_status": 200});
    assert!(cfg(v)
        .unwrap_err()
        .message()
        .contains(r#"expected one of "ok", "outcome", found integer 200"#));
}

/// An action's condition cannot read `action` (the action it decides); the error names it.
#[test]
fn an_action_cannot_depend_on_action() {
    let mut v = minimal();
    v["policy"] = json!({"actions": [{"name": "a", "when": "method == 'POST' && action == 'a'"}]});
    let e = cfg(v).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("policy.actions[0].when"), "{text}");
    assert!(text.contains("column 21"), "{text}");
    // A block rule may read it.
    let mut v = minimal();
    v["policy"] = json!({"actions": [{"name": "a", "when": "method == 'POST'"}],
                         "block_rules": [{"name": "b", "condition": "action == 'a'", "action": "block"}]});
    assert!(cfg(v).is_ok());
}

/// The manifest's rate limit is bounded as a directory entry's is.
#[test]
fn the_manifests_rate_limit_is_bounded() {
    for (rl, key) in [
        (
            json!({"requests_per_minute": 1_000_001}),
            "manifest.rate_limiting.requests_per_minute",
        ),
        (
            json!({"requests_per_minute": 60, "burst": 1_000_001}),
            "manifest.rate_limiting.burst",
        ),
    ] {
        let mut v = minimal();
        v["manifest"]["rate_limiting"] = rl;
        let e = cfg(v).unwrap_err().to_string();
        assert!(e.contains(key), "{e}");
    }
    let mut v = minimal();
    v["manifest"]["rate_limiting"] = json!({"requests_per_minute": 1_000_000, "burst": 5});
    assert!(cfg(v).unwrap().callers.has_rate_limit());
}

/// A rule about a claim without a JWT source is noted at load: it could never see one.
#[test]
fn claims_without_a_jwt_source_are_noted() {
    let mut v = minimal();
    v["policy"] = json!({"block_rules": [{"name": "r", "condition": "claim('role') == 'admin'", "action": "block"}]});
    let p = cfg(v.clone()).unwrap();
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("claim('role')") && n.contains("callers.sources.jwt")),
        "{:?}",
        p.notes
    );
    v["callers"] = json!({"sources": {"jwt": {}}});
    let p = cfg(v).unwrap();
    assert!(
        !p.notes.iter().any(|n| n.contains("claim('role')")),
        "{:?}",
        p.notes
    );
}

fn with(extra: Value) -> Value {
    let mut v = minimal();
    if let (Value::Object(m), Value::Object(x)) = (&mut v, extra) {
        m.extend(x);
    }
    v
}

fn contracts_cfg(contracts: Value) -> Result<Policy, ConfigError> {
    cfg(with(
        json!({"contracts": contracts, "moderation": {"cluster": "moderation"}}),
    ))
}

#[test]
fn contracts_and_moderation_of_the_design() {
    let p = cfg(full_configs()[0].clone()).unwrap();
    let c = p.contracts.inbound().unwrap();
    assert_eq!(c.id, "pii-strict/v1");
    assert_eq!(c.service_name.as_deref(), Some("billing"));
    assert_eq!(c.tenant_id.as_deref(), Some("tenant_abc"));
    assert_eq!(c.target_endpoint.as_deref(), Some("https://api.groq.com"));
    assert_eq!(c.envelope.pii_risk, Some(0.0));
    assert_eq!(c.envelope.toxicity_score, Some(0.3));
    assert_eq!(c.envelope.bias_score, Some(0.2));
    assert_eq!(c.envelope.denied_terms.len(), 2);
    let names: Vec<&str> = c
        .envelope
        .findings
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["employee_id", "ssn"]);
    assert_eq!(p.contracts.len(), 2);
    let m = p.moderation.unwrap();
    assert_eq!(
        (
            m.cluster.as_str(),
            m.authority.as_str(),
            m.path.as_str(),
            m.model.as_deref()
        ),
        (
            "moderation",
            "moderation.local",
            "/v1/moderations",
            Some("omni-moderation-latest")
        )
    );
    assert_eq!((m.timeout_ms, m.max_input_bytes), (500, 32768));
    assert_eq!(m.fail, crate::contract::moderation::Fail::Closed);
}

#[test]
fn moderation_defaults() {
    let p = cfg(with(json!({"moderation": {"cluster": "mod"}}))).unwrap();
    let m = p.moderation.unwrap();
    assert_eq!(m.authority, "mod");
    assert_eq!(m.path, "/v1/moderations");
    assert_eq!(m.model, None);
    assert_eq!(m.timeout_ms, 1000);
    assert_eq!(m.max_input_bytes, 32768);
    assert_eq!(m.fail, crate::contract::moderation::Fail::Closed);
    assert!(p
        .notes
        .iter()
        .any(|n| n.contains("moderation is configured but never called")));
    let p = cfg(with(
        json!({"moderation": {"cluster": "mod", "fail": "open", "timeout_ms": 60000,
                                           "max_input_bytes": 1048576}}),
    ))
    .unwrap();
    let m = p.moderation.unwrap();
    assert_eq!(m.fail, crate::contract::moderation::Fail::Open);
    assert_eq!((m.timeout_ms, m.max_input_bytes), (60000, 1048576));
    // Nothing configured: no contracts, no moderation, no notes about them.
    let p = cfg(minimal()).unwrap();
    assert!(p.contracts.is_empty() && p.moderation.is_none());
    assert!(!p
        .notes
        .iter()
        .any(|n| n.contains("contract") || n.contains("moderation")));
    // Contracts without `contract`: a note.
    let p =
        contracts_cfg(json!([{"id": "c", "envelope": {"toxicity_score": {"max": 0.5}}}])).unwrap();
    assert!(p.contracts.inbound().is_none());
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("no contract applies to inbound")),
        "{:?}",
        p.notes
    );
}

fn err(v: Value) -> ConfigError {
    cfg(v).expect_err("accepted")
}

#[test]
fn a_moderation_bound_needs_a_moderation_service() {
    for (contract, path, what) in [
        (
            json!({"id": "c", "envelope": {"toxicity_score": {"max": 0.3}}}),
            "contracts[1].envelope.toxicity_score",
            "toxicity_score",
        ),
        (
            json!({"id": "c", "envelope": {"bias_score": {"max": 0.3}}}),
            "contracts[1].envelope.bias_score",
            "bias_score",
        ),
        (
            json!({"id": "c", "feature_extractors": {"toxicity_detector": {"enabled": true}}}),
            "contracts[1].feature_extractors.toxicity_detector",
            "toxicity_score",
        ),
        (
            json!({"id": "c", "feature_extractors": {"bias_detector": {}}}),
            "contracts[1].feature_extractors.bias_detector",
            "bias_score",
        ),
        // A bound whose extractor is off is still a promise the configuration cannot keep.
        (
            json!({"id": "c", "feature_extractors": {"toxicity_detector": {"enabled": false}},
                "envelope": {"toxicity_score": {"max": 0.3}}}),
            "contracts[1].envelope.toxicity_score",
            "toxicity_score",
        ),
    ] {
        let e = err(with(json!({"contracts": [{"id": "ok"}, contract]})));
        assert_eq!(e.path(), path, "{e}");
        assert_eq!(
            e,
            ConfigError::NeedsModeration {
                path: path.into(),
                what
            }
        );
        assert!(e.to_string().contains("needs a moderation service"), "{e}");
    }
    // Off and unbounded: no service needed.
    let off = json!({"id": "c", "feature_extractors": {"toxicity_detector": {"enabled": false}}});
    assert!(cfg(with(json!({"contracts": [off]}))).is_ok());
}

#[test]
fn contract_ids() {
    let e = contracts_cfg(json!([{"id": "a"}, {"id": "b"}, {"id": "a"}])).unwrap_err();
    assert_eq!(e.path(), "contracts[2].id");
    assert_eq!(
        e.to_string(),
        "contracts[2].id: contract id 'a' is already used by contracts[0]"
    );
    for bad in ["", "has space", "tab\t", "é", &"x".repeat(257)] {
        let e = contracts_cfg(json!([{"id": bad}])).unwrap_err();
        assert_eq!(e.path(), "contracts[0].id", "{bad:?}");
        assert!(matches!(e, ConfigError::InvalidName { .. }), "{e}");
    }
    assert!(contracts_cfg(json!([{"id": "x".repeat(256)}])).is_ok());
    let e = contracts_cfg(json!([{}])).unwrap_err();
    assert!(e.to_string().contains("missing field `id`"), "{e}");
    let many: Vec<Value> = (0..1001).map(|i| json!({"id": format!("c{i}")})).collect();
    let e = contracts_cfg(json!(many)).unwrap_err();
    assert_eq!(e.path(), "contracts");
    assert!(matches!(e, ConfigError::OutOfRange { .. }), "{e}");
    // Descriptive text: no control characters, bounded.
    for key in ["service_name", "tenant_id", "target_endpoint"] {
        let e = contracts_cfg(json!([{"id": "c", key: "a\nb"}])).unwrap_err();
        assert_eq!(e.path(), format!("contracts[0].{key}"));
        let e = contracts_cfg(json!([{"id": "c", key: ""}])).unwrap_err();
        assert_eq!(e.path(), format!("contracts[0].{key}"));
    }
    let e = contracts_cfg(json!([{"id": "c", "service_name": "x".repeat(257)}])).unwrap_err();
    assert_eq!(e.path(), "contracts[0].service_name");
}

#[test]
fn the_inbound_contract_must_exist() {
    let e = cfg(with(
        json!({"contracts": [{"id": "pii-strict/v1"}], "contract": "pii-strict/v2"}),
    ))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "contract: unknown contract `pii-strict/v2`; did you mean `pii-strict/v1`?; contracts are: pii-strict/v1"
    );
    let e = cfg(with(json!({"contract": "x"}))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "contract: unknown contract `x`; no contract is configured"
    );
    let e = cfg(with(json!({"contract": 1}))).unwrap_err();
    assert_eq!(e.path(), "contract");
}

#[test]
fn envelope_bounds_in_range() {
    for (envelope, path) in [
        (
            json!({"pii_risk": {"max": 1.5}}),
            "contracts[0].envelope.pii_risk.max",
        ),
        (
            json!({"pii_risk": {"max": -0.1}}),
            "contracts[0].envelope.pii_risk.max",
        ),
        (
            json!({"toxicity_score": {"max": 2}}),
            "contracts[0].envelope.toxicity_score.max",
        ),
        (
            json!({"bias_score": {"max": -1}}),
            "contracts[0].envelope.bias_score.max",
        ),
        (
            json!({"pii_risk": {"max": 0.5, "weights": {"email": 1.1}}}),
            "contracts[0].envelope.pii_risk.weights.email",
        ),
    ] {
        let e = contracts_cfg(json!([{"id": "c", "envelope": envelope}])).unwrap_err();
        assert_eq!(e.path(), path, "{e}");
        assert!(e.message().contains("must be between 0.0 and 1.0"), "{e}");
    }
    for (envelope, path) in [
        (
            json!({"findings": {"ssn": {"max": -1}}}),
            "contracts[0].envelope.findings.ssn.max",
        ),
        (
            json!({"findings": {"ssn": {"max": 0.5}}}),
            "contracts[0].envelope.findings.ssn.max",
        ),
        (
            json!({"pii_risk": {"max": "0.5"}}),
            "contracts[0].envelope.pii_risk.max",
        ),
        (json!({"pii_risk": {}}), "contracts[0].envelope.pii_risk"),
        (
            json!({"pii_risk": {"max": 0, "min": 0}}),
            "contracts[0].envelope.pii_risk.min",
        ),
        (
            json!({"findings": {"ssn": {"min": 0}}}),
            "contracts[0].envelope.findings.ssn.min",
        ),
        (
            json!({"denied_terms": "zeus"}),
            "contracts[0].envelope.denied_terms",
        ),
        (
            json!({"latency": {"max": 1}}),
            "contracts[0].envelope.latency",
        ),
    ] {
        let e = contracts_cfg(json!([{"id": "c", "envelope": envelope}])).unwrap_err();
        assert_eq!(e.path(), path, "{e}");
        assert!(matches!(e, ConfigError::Json { .. }), "{e}");
    }
    for (c, path) in [
        (
            json!({"id": "c", "feature_extractors": {"pii_detector": {"enabled": "yes"}}}),
            "contracts[0].feature_extractors.pii_detector.enabled",
        ),
        (
            json!({"id": "c", "feature_extractors": {"sentiment_detector": {"enabled": true}}}),
            "contracts[0].feature_extractors.sentiment_detector",
        ),
        (json!({"id": "c", "target": "x"}), "contracts[0].target"),
    ] {
        let e = contracts_cfg(json!([c])).unwrap_err();
        assert_eq!(e.path(), path, "{e}");
    }
    assert!(contracts_cfg(json!([{"id": "c", "envelope": {"pii_risk": {"max": 1}, "toxicity_score": {"max": 0},
                                                            "findings": {"ssn": {"max": 18446744073709551615u64}}}}]))
        .is_ok());
}

#[test]
fn findings_name_an_enabled_detector() {
    let e =
        contracts_cfg(json!([{"id": "c", "envelope": {"findings": {"credit_crad": {"max": 0}}}}]))
            .unwrap_err();
    assert_eq!(e.path(), "contracts[0].envelope.findings.credit_crad");
    assert!(
        e.message().starts_with(
            "unknown detector `credit_crad`; did you mean `credit_card`?; detectors are: "
        ),
        "{e}"
    );
    let e = contracts_cfg(
        json!([{"id": "c", "envelope": {"pii_risk": {"max": 0, "weights": {"nope": 0}}}}]),
    )
    .unwrap_err();
    assert_eq!(e.path(), "contracts[0].envelope.pii_risk.weights.nope");
    assert!(
        matches!(
            e,
            ConfigError::UnknownName {
                suggestion: None,
                ..
            }
        ),
        "{e}"
    );
    let v = with(json!({"detectors": {"enabled": ["ssn", "credit_card"]},
                        "contracts": [{"id": "c", "envelope": {"findings": {"email": {"max": 0}}}}]}));
    let e = err(v);
    assert_eq!(
        e,
        ConfigError::DetectorNotEnabled {
            path: "contracts[0].envelope.findings.email".into(),
            name: "email".into()
        }
    );
    assert!(e.to_string().contains("is not enabled"), "{e}");
    // Custom detectors are detectors.
    let v = with(
        json!({"detectors": {"custom": [{"name": "employee_id", "pattern": "EMP-\\d{6}"}]},
                        "contracts": [{"id": "c", "envelope": {"findings": {"employee_id": {"max": 0}}}}]}),
    );
    assert!(cfg(v).is_ok());
}

#[test]
fn denied_terms_are_checked() {
    let at =
        |terms: Value| contracts_cfg(json!([{"id": "c", "envelope": {"denied_terms": terms}}]));
    let e = at(json!(["zeus", ""])).unwrap_err();
    assert_eq!(e.path(), "contracts[0].envelope.denied_terms[1]");
    assert!(matches!(e, ConfigError::OutOfRange { .. }), "{e}");
    let e = at(json!(["x".repeat(257)])).unwrap_err();
    assert_eq!(e.path(), "contracts[0].envelope.denied_terms[0]");
    let e = at(json!(["a\u{7}b"])).unwrap_err();
    assert_eq!(e.path(), "contracts[0].envelope.denied_terms[0]");
    assert!(matches!(e, ConfigError::InvalidName { .. }), "{e}");
    let e = at(json!(["Project Zeus", "acme", "project  zeus"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "contracts[0].envelope.denied_terms[2]: the same term as denied_terms[0] (terms compare \
         without case, with white space runs as one space)"
    );
    let many: Vec<String> = (0..1001).map(|i| format!("t{i}")).collect();
    let e = at(json!(many)).unwrap_err();
    assert_eq!(e.path(), "contracts[0].envelope.denied_terms");
    let e = at(json!([1])).unwrap_err();
    assert_eq!(e.path(), "contracts[0].envelope.denied_terms[0]");
    // The error names the position, never echoes the term.
    let e = at(json!(["secret-codename", "secret-codename"])).unwrap_err();
    assert!(!e.to_string().contains("codename"), "{e}");
}

#[test]
fn moderation_is_checked() {
    for (m, path) in [
        (json!({}), "moderation"),
        (json!({"cluster": ""}), "moderation.cluster"),
        (json!({"cluster": "a b"}), "moderation.cluster"),
        (
            json!({"cluster": "m", "authority": "a\u{1}"}),
            "moderation.authority",
        ),
        (
            json!({"cluster": "m", "path": "v1/moderations"}),
            "moderation.path",
        ),
        (json!({"cluster": "m", "path": "/a b"}), "moderation.path"),
        (json!({"cluster": "m", "model": ""}), "moderation.model"),
        (
            json!({"cluster": "m", "timeout_ms": 0}),
            "moderation.timeout_ms",
        ),
        (
            json!({"cluster": "m", "timeout_ms": 60001}),
            "moderation.timeout_ms",
        ),
        (
            json!({"cluster": "m", "timeout_ms": -1}),
            "moderation.timeout_ms",
        ),
        (
            json!({"cluster": "m", "max_input_bytes": 0}),
            "moderation.max_input_bytes",
        ),
        (
            json!({"cluster": "m", "max_input_bytes": 1048577}),
            "moderation.max_input_bytes",
        ),
        (json!({"cluster": "m", "fail": "maybe"}), "moderation.fail"),
        (json!({"cluster": "m", "fail": true}), "moderation.fail"),
        (
            json!({"cluster": "m", "api_key": "sk-..."}),
            "moderation.api_key",
        ),
    ] {
        let e = err(with(json!({"moderation": m})));
        assert_eq!(e.path(), path, "{e}");
    }
    let e = err(with(
        json!({"moderation": {"cluster": "m", "fail": "maybe"}}),
    ));
    assert!(e.message().contains("`open` or `closed`"), "{e}");
    let e = err(with(
        json!({"moderation": {"cluster": "m", "timeout_ms": 0}}),
    ));
    assert_eq!(
        e.to_string(),
        "moderation.timeout_ms: is 0; must be between 1 and 60000 (a minute)"
    );
}
