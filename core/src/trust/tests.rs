use super::*;
use serde_json::Map;

fn manifest(level: TrustLevel) -> Manifest {
    Manifest {
        agent_id: "a".into(),
        name: None,
        version: None,
        trust_level: level,
        reversibility: Reversibility::None,
        undo_window: None,
        retention: Retention::Temporary,
        human_in_loop: false,
        training_consent: false,
        idempotency: false,
        requests_per_minute: None,
        protocol_version: "1.0".into(),
        extra: Map::new(),
    }
}

#[test]
fn base_scores() {
    let scores: Vec<u8> = TrustLevel::ALL
        .iter()
        .map(|l| trust_score(&manifest(*l)))
        .collect();
    assert_eq!(scores, vec![10, 7, 5, 2, 0]);
}

#[test]
fn each_adjustment() {
    let base = manifest(TrustLevel::Standard);
    assert_eq!(trust_score(&base), 5);
    let s = |f: &dyn Fn(&mut Manifest)| {
        let mut m = base.clone();
        f(&mut m);
        trust_score(&m)
    };
    assert_eq!(s(&|m| m.reversibility = Reversibility::Partial), 7);
    assert_eq!(s(&|m| m.reversibility = Reversibility::Full), 7);
    assert_eq!(s(&|m| m.retention = Retention::Ephemeral), 6);
    assert_eq!(s(&|m| m.retention = Retention::Permanent), 4);
    assert_eq!(s(&|m| m.retention = Retention::Forever), 4);
    assert_eq!(s(&|m| m.human_in_loop = true), 3);
    assert_eq!(s(&|m| m.training_consent = true), 4);
}

#[test]
fn architecture_document_example_clamps_to_ten() {
    // verified_partner + partial reversibility + ephemeral: 10 + 2 + 1 = 13 -> 10.
    let mut m = manifest(TrustLevel::VerifiedPartner);
    m.reversibility = Reversibility::Partial;
    m.retention = Retention::Ephemeral;
    assert_eq!(trust_score(&m), 10);
}

#[test]
fn clamps_at_zero() {
    let mut m = manifest(TrustLevel::Untrusted);
    m.retention = Retention::Permanent;
    m.human_in_loop = true;
    m.training_consent = true;
    assert_eq!(trust_score(&m), 0);
}
