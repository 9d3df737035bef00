//! Issue 16, second attack round: profiles against gateway mode.

use serde_json::json;

use super::parse;

/// In gateway mode every request is held to its gateway route's contract (`X-Contract-ID`, else
/// `gateway.contract`: `Exchange::contract`), so a profile's `contract` is never applied: a
/// route whose profile names the strict contract is held to whatever contract the client
/// names. Accepted today without a word; it should be refused (or at least noted) at load,
/// naming `profiles.<name>.contract`.
#[test]
fn a_profiles_contract_in_gateway_mode_is_not_accepted_silently() {
    let v = json!({
        "manifest": {"identity": {"agent_id": "gw"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "contracts": [
            {"id": "lenient", "target_endpoint": "https://api.example.com"},
            {"id": "strict", "target_endpoint": "https://api.example.com",
             "envelope": {"pii_risk": {"max": 0.0}}}
        ],
        "gateway": {"contract": "lenient"},
        "profiles": {"p": {"contract": "strict"}}
    });
    match parse(v.to_string().as_bytes()) {
        Err(e) => assert_eq!(e.path(), "profiles.p.contract", "{e}"),
        Ok(p) => {
            let profile = p.profile_named(b"p").expect("profile p");
            let said = p
                .notes
                .iter()
                .chain(profile.notes.iter())
                .any(|n| n.contains("contract") && n.contains("gateway"));
            assert!(said, "no note about the unused contract: {:?}", p.notes);
        }
    }
}
