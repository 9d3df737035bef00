use serde_json::json;

use super::moderation::Scores;
use super::*;
use crate::config::parse;
use crate::detect::Kind;

fn policy(contracts: serde_json::Value) -> crate::policy::Policy {
    let v = json!({
        "manifest": {"identity": {"agent_id": "a"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "detectors": {"custom": [{"name": "employee_id", "pattern": "EMP-\\d{6}"}]},
        "contracts": contracts,
        "moderation": {"cluster": "moderation"}
    });
    parse(v.to_string().as_bytes()).unwrap()
}

fn counts(kinds: &[Kind]) -> Counts {
    let mut c = Counts::default();
    kinds.iter().for_each(|k| c.add(*k));
    c
}

fn found<'f>(c: &'f Counts, term: Option<usize>, m: Option<&'f Scores>) -> Found<'f> {
    Found {
        counts: c,
        denied_term: term,
        moderation: m,
    }
}

/// The example of the design: pii-strict/v1.
fn strict() -> crate::policy::Policy {
    policy(json!([{
        "id": "pii-strict/v1", "service_name": "billing", "tenant_id": "tenant_abc",
        "feature_extractors": {"pii_detector": {"enabled": true}, "toxicity_detector": {"enabled": true}},
        "envelope": {"pii_risk": {"max": 0.0}, "toxicity_score": {"max": 0.3}, "bias_score": {"max": 0.2},
                     "findings": {"credit_card": {"max": 0}, "email": {"max": 3}},
                     "denied_terms": ["project zeus", "acme"]}
    }]))
}

#[test]
fn pii_risk_is_the_heaviest_kind_found() {
    let p = policy(json!([{"id": "c", "envelope": {"pii_risk": {"max": 0.5}}}]));
    let e = &p.contracts.get("c").unwrap().envelope;
    let custom = p.scanner.kind_by_name("employee_id").unwrap();
    let risk = |kinds: &[Kind]| e.pii_risk(counts(kinds).kinds());
    assert_eq!(risk(&[]), 0.0);
    assert_eq!(risk(&[Kind::IP_ADDRESS]), 0.25);
    assert_eq!(risk(&[Kind::EMAIL, Kind::EMAIL, Kind::EMAIL]), 0.5);
    assert_eq!(risk(&[Kind::IP_ADDRESS, Kind::PHONE]), 0.5);
    assert_eq!(risk(&[Kind::EMAIL, Kind::CREDIT_CARD]), 1.0);
    assert_eq!(risk(&[Kind::OPENAI_API_KEY]), 1.0);
    assert_eq!(risk(&[custom]), 1.0);
    // Within 0.5: contact details pass, a card does not.
    let c = counts(&[Kind::EMAIL, Kind::PHONE]);
    assert!(e.check(&found(&c, None, None)).is_empty());
    let c = counts(&[Kind::EMAIL, Kind::SSN]);
    assert_eq!(
        e.check(&found(&c, None, None)),
        vec![Exceeded {
            bound: Bound::PiiRisk,
            limit: Measure::Score(0.5),
            value: Measure::Score(1.0)
        }]
    );
}

#[test]
fn a_contract_sets_its_own_weights() {
    let p = policy(json!([{"id": "c", "envelope": {"pii_risk": {"max": 0.3,
        "weights": {"employee_id": 0.2, "ip_address": 0.0, "email": 1}}}}]));
    let e = &p.contracts.get("c").unwrap().envelope;
    let custom = p.scanner.kind_by_name("employee_id").unwrap();
    assert_eq!(e.pii_risk(counts(&[custom, Kind::IP_ADDRESS]).kinds()), 0.2);
    assert_eq!(e.pii_risk(counts(&[Kind::EMAIL]).kinds()), 1.0);
    assert_eq!(e.pii_risk(counts(&[Kind::PHONE]).kinds()), 0.5);
}

#[test]
fn every_bound_exceeded_at_once() {
    let p = strict();
    let c = p.contracts.inbound();
    assert!(c.is_none(), "`contract` is not set in this configuration");
    let c = p.contracts.get("pii-strict/v1").unwrap();
    assert!(c.needs_moderation());
    let n = counts(&[
        Kind::CREDIT_CARD,
        Kind::CREDIT_CARD,
        Kind::EMAIL,
        Kind::EMAIL,
        Kind::EMAIL,
        Kind::EMAIL,
    ]);
    let s = Scores {
        toxicity_score: 0.9,
        bias_score: 0.25,
        flagged: true,
    };
    let v = c.check(&found(&n, Some(1), Some(&s))).unwrap();
    assert_eq!(
        serde_json::to_value(&v).unwrap(),
        json!({"contract": "pii-strict/v1", "exceeded": [
            {"bound": "pii_risk", "limit": 0.0, "value": 1.0},
            {"bound": "findings.credit_card", "limit": 0, "value": 2},
            {"bound": "findings.email", "limit": 3, "value": 4},
            {"bound": "denied_terms[1]", "limit": 0, "value": 1},
            {"bound": "toxicity_score", "limit": 0.3, "value": 0.9},
            {"bound": "bias_score", "limit": 0.2, "value": 0.25}
        ]})
    );
    assert_eq!(
        v.message(),
        "contract 'pii-strict/v1' exceeded: pii_risk: 1 > 0; findings.credit_card: 2 > 0; \
         findings.email: 4 > 3; denied_terms[1]: 1 > 0; toxicity_score: 0.9 > 0.3; bias_score: 0.25 > 0.2"
    );
    // The term itself is never written.
    assert!(!serde_json::to_string(&v).unwrap().contains("acme"));
    assert!(!v.message().contains("acme"));
}

#[test]
fn each_bound_alone() {
    let p = strict();
    let c = p.contracts.get("pii-strict/v1").unwrap();
    let none = Counts::default();
    let ok = Scores {
        toxicity_score: 0.3,
        bias_score: 0.2,
        flagged: false,
    };
    // At the limits: within.
    assert!(c.check(&found(&none, None, Some(&ok))).is_none());
    assert!(c.check(&found(&none, None, None)).is_none());
    let bound = |f: Found| -> Vec<String> {
        c.check(&f)
            .map(|v| v.exceeded.iter().map(|e| e.bound.to_string()).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        bound(found(&counts(&[Kind::IP_ADDRESS]), None, None)),
        ["pii_risk"]
    );
    assert_eq!(bound(found(&none, Some(0), None)), ["denied_terms[0]"]);
    // A term index the contract does not have is ignored.
    assert!(bound(found(&none, Some(2), None)).is_empty());
    let tox = Scores {
        toxicity_score: 0.31,
        ..ok
    };
    assert_eq!(bound(found(&none, None, Some(&tox))), ["toxicity_score"]);
    let bias = Scores {
        bias_score: 0.21,
        ..ok
    };
    assert_eq!(bound(found(&none, None, Some(&bias))), ["bias_score"]);
    // The denied terms, found by the contract's matcher.
    let t = c.envelope.denied_terms.find("the PROJECT Zeus files");
    assert_eq!(bound(found(&none, t, None)), ["denied_terms[0]"]);
}

#[test]
fn findings_bound_without_pii_risk() {
    let p = policy(
        json!([{"id": "c", "envelope": {"findings": {"email": {"max": 1}, "employee_id": {"max": 0}}}}]),
    );
    let c = p.contracts.get("c").unwrap();
    let custom = p.scanner.kind_by_name("employee_id").unwrap();
    assert!(c
        .check(&found(&counts(&[Kind::EMAIL, Kind::SSN]), None, None))
        .is_none());
    let v = c
        .check(&found(
            &counts(&[Kind::EMAIL, Kind::EMAIL, custom]),
            None,
            None,
        ))
        .unwrap();
    let names: Vec<String> = v.exceeded.iter().map(|e| e.bound.to_string()).collect();
    assert_eq!(names, ["findings.email", "findings.employee_id"]);
}

#[test]
fn disabled_extractors_are_not_checked() {
    let p = policy(json!([{"id": "c",
        "feature_extractors": {"pii_detector": {"enabled": false}, "toxicity_detector": {"enabled": false}},
        "envelope": {"pii_risk": {"max": 0.0}, "findings": {"ssn": {"max": 0}},
                     "toxicity_score": {"max": 0.1}, "bias_score": {"max": 0.1}}}]));
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("contracts[0].envelope.pii_risk and findings are not checked")),
        "{:?}",
        p.notes
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("contracts[0].envelope.toxicity_score is not checked")),
        "{:?}",
        p.notes
    );
    let c = p.contracts.get("c").unwrap();
    assert!(c.needs_moderation(), "bias is on by its bound");
    let s = Scores {
        toxicity_score: 1.0,
        bias_score: 1.0,
        flagged: true,
    };
    let v = c
        .check(&found(&counts(&[Kind::SSN]), None, Some(&s)))
        .unwrap();
    let names: Vec<String> = v.exceeded.iter().map(|e| e.bound.to_string()).collect();
    assert_eq!(names, ["bias_score"]);
}

#[test]
fn extractors_default_to_their_bounds() {
    let p = policy(json!([
        {"id": "a"},
        {"id": "b", "envelope": {"toxicity_score": {"max": 0.5}}},
        {"id": "c", "feature_extractors": {"bias_detector": {}}}
    ]));
    let e = |id: &str| p.contracts.get(id).unwrap().envelope.clone();
    assert!(e("a").pii && !e("a").toxicity && !e("a").bias);
    assert!(!p.contracts.get("a").unwrap().needs_moderation());
    assert!(e("b").toxicity && !e("b").bias);
    assert!(e("c").bias && !e("c").toxicity && e("c").bias_score.is_none());
    // Scores without bounds: recorded, never exceeded.
    let s = Scores {
        toxicity_score: 1.0,
        bias_score: 1.0,
        flagged: true,
    };
    assert!(p
        .contracts
        .get("c")
        .unwrap()
        .check(&found(&Counts::default(), None, Some(&s)))
        .is_none());
}

#[test]
fn lookup_by_id_and_header() {
    let p = policy(json!([{"id": "groq-llm/ai/us/v1.0"}, {"id": "b"}, {"id": "a"}]));
    let cs = &p.contracts;
    assert_eq!(cs.len(), 3);
    assert_eq!(cs.get("a").unwrap().id, "a");
    assert_eq!(cs.get("b").unwrap().id, "b");
    assert_eq!(
        cs.get("groq-llm/ai/us/v1.0").unwrap().id,
        "groq-llm/ai/us/v1.0"
    );
    assert!(cs.get("GROQ-llm/ai/us/v1.0").is_none());
    assert!(cs.get("").is_none());
    assert_eq!(
        cs.by_header(b"groq-llm/ai/us/v1.0").unwrap().id,
        "groq-llm/ai/us/v1.0"
    );
    assert!(cs.by_header(b"groq-llm/ai/us/v1.0 ").is_none());
    assert!(cs.by_header(b"\xff").is_none());
    let ids: Vec<&str> = cs.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["groq-llm/ai/us/v1.0", "b", "a"]);
    // A thousand, each found.
    let many: Vec<serde_json::Value> = (0..1000).map(|i| json!({"id": format!("c{i}")})).collect();
    let p = policy(json!(many));
    assert!((0..1000).all(|i| p.contracts.get(&format!("c{i}")).is_some()));
    assert!(p.contracts.get("c1000").is_none());
}

#[test]
fn counts_count() {
    let mut c = Counts::default();
    assert!(c.kinds().is_empty());
    c.add(Kind::EMAIL);
    c.add(Kind::EMAIL);
    c.add(Kind::custom(78));
    c.add(Kind::custom(200));
    assert_eq!(c.get(Kind::EMAIL), 2);
    assert_eq!(c.get(Kind::SSN), 0);
    assert_eq!(c.get(Kind::custom(78)), 1);
    assert_eq!(c.kinds().len(), 2);
    assert_eq!(c.total(), 3);
}
