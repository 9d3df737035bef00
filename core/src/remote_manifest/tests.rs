use serde_json::json;

use super::*;
use crate::manifest::RawManifest;

/// The reference SDK sidecar's answer: `CapabilityManifest.model_dump()` with `attestation` =
/// `AttestationRecord.model_dump()` (pydantic 2.13, the models of `agentmesh-trust-protocol`
/// 3.7.0, enum members written as their values as FastAPI's encoder does), made with
/// `CapabilityManifest(agent_id='booking-agent', trust_level=TRUSTED,
/// capabilities=AgentCapabilities(reversibility=PARTIAL, idempotency=True, undo_window='24h'),
/// privacy_contract=PrivacyContract(retention=EPHEMERAL))`.
const SDK_DUMP: &str = r#"{"agent_id": "booking-agent", "agent_version": null, "trust_level": "trusted", "capabilities": {"idempotency": true, "reversibility": "partial", "undo_window": "24h", "sla_latency": null, "rate_limit": null}, "privacy_contract": {"retention": "ephemeral", "storage_location": null, "human_review": false, "encryption_at_rest": true, "encryption_in_transit": true}, "scopes": [], "attestation": {"agent_id": "booking-agent", "codebase_hash": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "config_hash": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "signature": "c2lnbmF0dXJl", "signing_key_id": "cp-1", "timestamp": "2026-05-01T12:00:00Z", "expires_at": null}}"#;

fn read_value(v: serde_json::Value) -> Result<Read, Refusal> {
    read(v.to_string().as_bytes())
}

fn summary(level: TrustLevel) -> Summary {
    Summary {
        agent_id: "a".into(),
        trust_level: level,
        retention: Some(Retention::Temporary),
        reversibility: Reversibility::None,
        human_in_loop: false,
        training_consent: false,
        attestation: Attestation::Absent,
        attested_until_ms: None,
    }
}

#[test]
fn the_sdk_sidecars_answer_with_nulls_and_an_attestation() {
    let r = read(SDK_DUMP.as_bytes()).unwrap();
    assert_eq!(
        r.summary,
        Summary {
            agent_id: "booking-agent".into(),
            trust_level: TrustLevel::Trusted,
            retention: Some(Retention::Ephemeral),
            reversibility: Reversibility::Partial,
            human_in_loop: false,
            training_consent: false,
            attestation: Attestation::Embedded,
            attested_until_ms: None,
        }
    );
    let att: serde_json::Value = serde_json::from_str(r.attestation.as_deref().unwrap()).unwrap();
    assert_eq!(att["signing_key_id"], "cp-1");
    assert_eq!(att["expires_at"], serde_json::Value::Null);
    assert_eq!(att["signature"], "c2lnbmF0dXJl");
}

#[test]
fn the_sdk_shape_without_attestation_and_with_human_review() {
    let r = read_value(json!({
        "agent_id": "x", "agent_version": "2", "trust_level": "untrusted",
        "capabilities": {"idempotency": false, "reversibility": "none", "undo_window": null},
        "privacy_contract": {"retention": "forever", "human_review": true},
        "scopes": ["repo:read"]
    }))
    .unwrap();
    assert_eq!(r.attestation, None);
    assert_eq!(r.summary.attestation, Attestation::Absent);
    assert_eq!(r.summary.trust_level, TrustLevel::Untrusted);
    assert_eq!(r.summary.retention, Some(Retention::Forever));
    assert!(r.summary.human_in_loop);
}

#[test]
fn our_shape_and_what_this_filter_serves_read_the_same() {
    let config = json!({
        "identity": {"agent_id": "files", "name": "Files"},
        "trust_level": "standard",
        "reversibility": {"level": "full", "undo_window": "1h"},
        "privacy": {"retention": "temporary", "human_in_loop": true, "training_consent": true}
    });
    let ours = read_value(config.clone()).unwrap().summary;
    assert_eq!(
        ours,
        Summary {
            agent_id: "files".into(),
            trust_level: TrustLevel::Standard,
            retention: Some(Retention::Temporary),
            reversibility: Reversibility::Full,
            human_in_loop: true,
            training_consent: true,
            attestation: Attestation::Absent,
            attested_until_ms: None,
        }
    );
    // The well-known document holds both shapes, saying the same thing in each.
    let served = serde_json::from_value::<RawManifest>(config)
        .unwrap()
        .normalize()
        .unwrap()
        .to_well_known();
    assert!(served.get("identity").is_some() && served.get("agent_id").is_some());
    assert_eq!(read_value(served).unwrap().summary, ours);
    // `retention_policy` is the IATP shape's other spelling.
    let r = read_value(json!({"identity": {"agent_id": "a"},
                              "privacy": {"retention_policy": "ephemeral"}}))
    .unwrap();
    assert_eq!(r.summary.retention, Some(Retention::Ephemeral));
}

#[test]
fn defaults_unknown_members_and_nulls() {
    let r = read_value(json!({"agent_id": "a"})).unwrap().summary;
    assert_eq!(r.trust_level, TrustLevel::Standard);
    assert_eq!(r.retention, None);
    assert_eq!(r.reversibility, Reversibility::None);
    assert!(!r.human_in_loop && !r.training_consent);
    // Unknown members of any type, nested or not, and nulls everywhere read as not said.
    let r2 = read_value(json!({
        "agent_id": "a", "future": [1, {"x": null}], "trust_level": null,
        "capabilities": null, "privacy": null, "privacy_contract": {"retention": null, "new": 3},
        "identity": null, "reversibility": {"level": null, "other": true}, "attestation": null
    }))
    .unwrap();
    assert_eq!(r2.summary, r);
    assert_eq!(r2.attestation, None);
    // Members this reader does not use may hold anything.
    let r3 = read_value(json!({"agent_id": "a", "scopes": "all", "agent_version": 3,
                               "capabilities": {"rate_limit": "many"}}))
    .unwrap();
    assert_eq!(r3.summary, r);
    // A byte order mark is skipped.
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend_from_slice(br#"{"agent_id":"a"}"#);
    assert_eq!(read(&body).unwrap().summary, r);
}

#[test]
fn every_refusal() {
    let big = format!(
        r#"{{"agent_id":"a","pad":"{}"}}"#,
        "x".repeat(MAX_BODY_BYTES)
    );
    assert_eq!(read(big.as_bytes()), Err(Refusal::TooLarge));
    // Exactly at the bound is read.
    let pad = MAX_BODY_BYTES - r#"{"agent_id":"a","pad":""}"#.len();
    let at = format!(r#"{{"agent_id":"a","pad":"{}"}}"#, "x".repeat(pad));
    assert_eq!(at.len(), MAX_BODY_BYTES);
    assert!(read(at.as_bytes()).is_ok());
    assert_eq!(read(b"<html>"), Err(Refusal::NotJson));
    assert_eq!(read(b""), Err(Refusal::NotJson));
    assert_eq!(
        read(b"{\"agent_id\":\"a\"} trailing"),
        Err(Refusal::NotJson)
    );
    assert_eq!(read(b"\xff\xfe{}"), Err(Refusal::NotJson));
    assert_eq!(read(b"[]"), Err(Refusal::NotObject));
    assert_eq!(read(b"\"agent_id\""), Err(Refusal::NotObject));
    assert_eq!(read(b"null"), Err(Refusal::NotObject));
    assert_eq!(read(b"{}"), Err(Refusal::NoAgentId));
    assert_eq!(
        read_value(json!({"agent_id": null, "identity": {"agent_id": null}})),
        Err(Refusal::NoAgentId)
    );
    for id in [
        String::new(),
        "a".repeat(MAX_AGENT_ID_LEN + 1),
        "a\nb".into(),
        "\u{7f}".into(),
    ] {
        assert_eq!(
            read_value(json!({"agent_id": id})),
            Err(Refusal::BadAgentId)
        );
    }
    assert!(read_value(json!({"agent_id": "a".repeat(MAX_AGENT_ID_LEN)})).is_ok());
    let cases = [
        (json!({"agent_id": 7}), Refusal::Type { member: "agent_id" }),
        (
            json!({"identity": "a"}),
            Refusal::Type { member: "identity" },
        ),
        (
            json!({"agent_id": "a", "trust_level": 3}),
            Refusal::Type {
                member: "trust_level",
            },
        ),
        (
            json!({"agent_id": "a", "privacy": []}),
            Refusal::Type { member: "privacy" },
        ),
        (
            json!({"agent_id": "a", "privacy_contract": {"human_review": "no"}}),
            Refusal::Type {
                member: "privacy_contract.human_review",
            },
        ),
        (
            json!({"agent_id": "a", "privacy": {"training_consent": 0}}),
            Refusal::Type {
                member: "privacy.training_consent",
            },
        ),
        (
            json!({"agent_id": "a", "reversibility": "full"}),
            Refusal::Type {
                member: "reversibility",
            },
        ),
        (
            json!({"agent_id": "a", "trust_level": "trusty"}),
            Refusal::Value {
                member: "trust_level",
            },
        ),
        (
            json!({"agent_id": "a", "trust_level": "TRUSTED"}),
            Refusal::Value {
                member: "trust_level",
            },
        ),
        (
            json!({"agent_id": "a", "capabilities": {"reversibility": "some"}}),
            Refusal::Value {
                member: "capabilities.reversibility",
            },
        ),
        (
            json!({"agent_id": "a", "reversibility": {"level": "total"}}),
            Refusal::Value {
                member: "reversibility.level",
            },
        ),
        (
            json!({"agent_id": "a", "privacy_contract": {"retention": "a while"}}),
            Refusal::Value {
                member: "privacy_contract.retention",
            },
        ),
        (
            json!({"agent_id": "a", "identity": {"agent_id": "b"}}),
            Refusal::Conflict {
                first: "agent_id",
                second: "identity.agent_id",
            },
        ),
        (
            json!({"agent_id": "a", "privacy": {"retention": "ephemeral"},
                   "privacy_contract": {"retention": "permanent"}}),
            Refusal::Conflict {
                first: "privacy.retention",
                second: "privacy_contract.retention",
            },
        ),
        (
            json!({"agent_id": "a", "reversibility": {"level": "full"},
                   "capabilities": {"reversibility": "none"}}),
            Refusal::Conflict {
                first: "reversibility.level",
                second: "capabilities.reversibility",
            },
        ),
        (
            json!({"agent_id": "a", "privacy": {"human_in_loop": true},
                   "privacy_contract": {"human_review": false}}),
            Refusal::Conflict {
                first: "privacy.human_in_loop",
                second: "privacy_contract.human_review",
            },
        ),
    ];
    for (doc, want) in cases {
        assert_eq!(read_value(doc.clone()), Err(want), "{doc}");
    }
    // Codes and messages name members, never values.
    let e = Refusal::Value {
        member: "trust_level",
    };
    assert_eq!(e.code(), "value");
    assert_eq!(
        e.to_string(),
        "the manifest's `trust_level` is not a known value"
    );
    assert_eq!(Refusal::TooLarge.code(), "too_large");
}

#[test]
fn an_attestation_that_cannot_be_verified() {
    let r = read_value(json!({"agent_id": "a", "attestation": "signed"})).unwrap();
    assert_eq!(r.summary.attestation, Attestation::Unusable);
    assert_eq!(r.attestation, None);
    let big = "s".repeat(MAX_ATTESTATION_BYTES);
    let r = read_value(json!({"agent_id": "a", "attestation": {"signature": big}})).unwrap();
    assert_eq!(r.summary.attestation, Attestation::Unusable);
    assert_eq!(r.attestation, None);
    let r = read_value(json!({"agent_id": "a", "attestation": {"signature": "s"}})).unwrap();
    assert_eq!(r.summary.attestation, Attestation::Embedded);
    assert_eq!(r.attestation.as_deref(), Some(r#"{"signature":"s"}"#));
}

#[test]
fn the_cap_in_each_case() {
    use TrustLevel::*;
    let s = summary(VerifiedPartner);
    assert_eq!(capped(&s, Unknown, false, false), Unknown);
    assert_eq!(capped(&s, Unknown, true, false), VerifiedPartner);
    assert_eq!(capped(&s, Unknown, false, true), VerifiedPartner);
    assert_eq!(capped(&s, Trusted, false, false), Trusted);
    // A level below the ceiling is kept, listed or not.
    let low = summary(Untrusted);
    assert_eq!(capped(&low, Unknown, false, false), Untrusted);
    assert_eq!(capped(&low, Unknown, true, true), Untrusted);
    assert_eq!(capped(&summary(Standard), Standard, false, false), Standard);
    // Every pair: never above the ceiling unless vouched for, never above the declared level.
    for declared in TrustLevel::ALL {
        for ceiling in TrustLevel::ALL {
            let got = capped(&summary(declared), ceiling, false, false);
            let b = crate::trust::base_score;
            assert_eq!(
                b(got),
                b(declared).min(b(ceiling)),
                "{declared:?} {ceiling:?}"
            );
        }
    }
    // Attested until an instant, exclusive.
    let mut a = summary(Trusted);
    assert!(!a.attested(0));
    a.attested_until_ms = Some(1_000);
    assert!(a.attested(999));
    assert!(!a.attested(1_000));
}

#[test]
fn the_score_is_the_agents_formula() {
    use TrustLevel::*;
    // Same inputs as the protected agent's manifest: same score, for every combination.
    let config = json!({
        "identity": {"agent_id": "a"}, "trust_level": "trusted",
        "reversibility": {"level": "partial"},
        "privacy": {"retention": "ephemeral", "human_in_loop": true, "training_consent": true}
    });
    let m = serde_json::from_value::<RawManifest>(config.clone())
        .unwrap()
        .normalize()
        .unwrap();
    let s = read_value(config).unwrap().summary;
    assert_eq!(s.score(s.trust_level), crate::trust::trust_score(&m));
    assert_eq!(s.score(Trusted), 7 + 2 + 1 - 2 - 1);
    for level in TrustLevel::ALL {
        for retention in Retention::ALL {
            for reversibility in Reversibility::ALL {
                let mut m = m.clone();
                let mut s = s.clone();
                m.trust_level = level;
                m.retention = retention;
                m.reversibility = reversibility;
                s.retention = Some(retention);
                s.reversibility = reversibility;
                assert_eq!(s.score(level), crate::trust::trust_score(&m));
            }
        }
    }
    // Capped, the SDK dump's `trusted` counts as `unknown`: 2 + 2 (partial) + 1 (ephemeral).
    let sdk = read(SDK_DUMP.as_bytes()).unwrap().summary;
    assert_eq!(sdk.score(capped(&sdk, Unknown, false, false)), 5);
    assert_eq!(sdk.score(capped(&sdk, Unknown, true, false)), 10);
    // A retention not stated scores as permanent.
    let mut quiet = summary(Standard);
    quiet.retention = None;
    assert_eq!(quiet.score(Standard), 4);
}

#[test]
fn a_summary_round_trips_through_its_bytes() {
    let mut s = read(SDK_DUMP.as_bytes()).unwrap().summary;
    let b = s.encode().unwrap();
    assert_eq!(b.len(), SUMMARY_FIXED_BYTES + "booking-agent".len());
    assert_eq!(Summary::decode(&b), Some(s.clone()));
    s.attested_until_ms = Some(1_800_000_000_000);
    s.human_in_loop = true;
    s.training_consent = true;
    s.retention = None;
    s.attestation = Attestation::Unusable;
    s.agent_id = "é".repeat(MAX_AGENT_ID_LEN / 2);
    let b = s.encode().unwrap();
    assert_eq!(b.len(), MAX_SUMMARY_BYTES);
    assert_eq!(Summary::decode(&b), Some(s.clone()));
    for level in TrustLevel::ALL {
        for retention in Retention::ALL.map(Some).into_iter().chain([None]) {
            let mut t = s.clone();
            t.trust_level = level;
            t.retention = retention;
            t.attested_until_ms = Some(0);
            assert_eq!(Summary::decode(&t.encode().unwrap()), Some(t));
        }
    }
    // Too long or empty: not encoded.
    s.agent_id = "a".repeat(MAX_AGENT_ID_LEN + 1);
    assert_eq!(s.encode(), None);
    s.agent_id = String::new();
    assert_eq!(s.encode(), None);
}

#[test]
fn damaged_summary_bytes_do_not_decode() {
    let good = summary(TrustLevel::Standard).encode().unwrap();
    assert!(Summary::decode(&good).is_some());
    // Every truncation, and a byte more.
    for n in 0..good.len() {
        assert_eq!(Summary::decode(&good[..n]), None, "{n}");
    }
    let mut longer = good.clone();
    longer.push(b'a');
    assert_eq!(Summary::decode(&longer), None);
    let with = |i: usize, v: u8| {
        let mut b = good.clone();
        b[i] = v;
        Summary::decode(&b)
    };
    assert_eq!(with(0, 5), None); // trust level index
    assert_eq!(with(1, 5), None); // retention 1 + index
    assert_eq!(with(2, 3), None); // reversibility
    assert_eq!(with(3, 8), None); // an unknown flag
    assert_eq!(with(3, 3 << 4), None); // attestation index 3
    assert_eq!(with(14, 0xff), None); // not UTF-8
    let mut zero = good.clone();
    zero.truncate(SUMMARY_FIXED_BYTES);
    zero[12] = 0;
    zero[13] = 0;
    assert_eq!(Summary::decode(&zero), None);
}
