//! Every detector type, and redaction, through a real Envoy.

use serde_json::{json, Value};

use crate::harness::{Request, Stack};

/// One value of each type, as a JSON member, and the type it must be detected as.
fn samples() -> Vec<(&'static str, String)> {
    let gh = format!("ghp_{}", "A1b2C3d4E5".repeat(4).get(..36).unwrap());
    vec![
        ("credit_card", r#""card": "4111 1111 1111 1111""#.into()),
        ("ssn", r#""tax_id": "123-45-6789""#.into()),
        ("email", r#""contact": "jane.doe@example.com""#.into()),
        ("phone", r#""contact": "+1 (415) 555-2671""#.into()),
        ("iban", r#""account": "DE89 3704 0044 0532 0130 00""#.into()),
        ("ip_address", r#""client": "203.0.113.7""#.into()),
        ("us_bank_routing", r#""routing_number": "021000021""#.into()),
        ("crypto_wallet", r#""pay_to": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq""#.into()),
        ("aws_access_key", r#""key_id": "AKIAIOSFODNN7EXAMPLE""#.into()),
        ("github_token", format!(r#""token": "{gh}""#)),
        ("slack_token", r#""hook": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx""#.into()),
        ("private_key", r#""pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n""#.into()),
        ("jwt", r#""auth": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U""#.into()),
        ("uk_nhs_number", r#""nhs_number": "943 476 5919""#.into()),
        ("ca_sin", r#""sin": "046 454 286""#.into()),
        ("in_aadhaar", r#""aadhaar": "2345 6789 0124""#.into()),
        ("au_tfn", r#""tfn": "123 456 782""#.into()),
        ("au_abn", r#""abn": "51 824 753 556""#.into()),
        ("au_acn", r#""acn": "004 085 616""#.into()),
        ("au_medicare", r#""medicare": "2123 45670 1""#.into()),
        ("pl_pesel", r#""pesel": "44051401359""#.into()),
        ("br_cpf", r#""cpf": "123.456.789-09""#.into()),
        ("kr_rrn", r#""rrn": "800101-1234560""#.into()),
        ("us_itin", r#""itin": "912-70-1234""#.into()),
        ("employee_id", r#""badge": "EMP-204817""#.into()),
    ]
}

/// The list above is the catalogue's: a new built-in detector needs its sample here.
#[test]
fn every_built_in_detector_has_a_sample() {
    let kinds: Vec<&str> = samples().iter().map(|(k, _)| *k).collect();
    for d in iatp_core::detect::BUILT_INS {
        assert!(
            kinds.contains(&d.name),
            "host-tests/tests/host/detection.rs: no sample for `{}`",
            d.name
        );
    }
}

fn config(action: &str) -> Value {
    json!({
        "manifest": {"identity": {"agent_id": "detect"}, "trust_level": "trusted",
                     "privacy": {"retention": "ephemeral"}},
        "detectors": {"custom": [{"name": "employee_id", "pattern": "\\bEMP-\\d{6}\\b"}]},
        "policy": {"block_rules": [{"name": "any_sensitive", "condition": "detected_count > 0", "action": action}]}
    })
}

#[test]
fn each_type_is_detected_and_named() {
    let stack = Stack::with_plugin(&config("block"));
    for (kind, member) in samples() {
        let r = stack.send(Request::post("/x", format!(r#"{{"id": 7, {member}}}"#)));
        assert_eq!(r.status, 403, "{kind}: {}", r.text());
        assert_eq!(r.json()["detected"], json!([kind]), "{member}");
    }
    // The same data without sensitive values goes through.
    let r = stack.send(Request::post(
        "/x",
        r#"{"id": 7, "note": "order 1234, 12.5 kg, v1.2.3, at 2026-01-23T12:34:56Z"}"#,
    ));
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn redacted_bodies_reach_the_agent_as_valid_json_of_the_right_length() {
    let stack = Stack::with_plugin(&config("redact"));
    let members: Vec<String> = samples().into_iter().map(|(_, m)| m).collect();
    let body = format!(
        r#"{{"id": 7, {}, "amount": 4111111111111111}}"#,
        members.join(", ")
    );
    let r = stack.send(Request::post("/x", &body).header("x-agent-trace-id", "redact-1"));
    assert_eq!(r.status, 200, "{}", r.text());
    let got = &stack.agent_requests_for("redact-1")[0];
    let forwarded = got["body"].as_str().unwrap();
    let v: Value = serde_json::from_str(forwarded).unwrap_or_else(|e| panic!("{e}: {forwarded}"));
    assert_eq!(v["id"], 7);
    assert_eq!(v["card"], "[CREDIT_CARD]");
    assert_eq!(
        v["amount"], "[CREDIT_CARD]",
        "a card written as a JSON number becomes a string"
    );
    assert_eq!(v["pem"], "[PRIVATE_KEY]\n");
    assert_eq!(v["badge"], "[EMPLOYEE_ID]");
    for (kind, member) in samples() {
        let value = member.split_once(": ").unwrap().1.trim_matches('"');
        assert!(
            !forwarded.contains(value),
            "{kind} value reached the agent: {forwarded}"
        );
    }
    assert_eq!(
        got["headers"]["content-length"],
        forwarded.len().to_string()
    );
    assert_eq!(got["body_bytes"], forwarded.len());

    let events = stack.events_for("redact-1", 3);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["request", "redacted", "response"]);
    let redacted = events
        .iter()
        .find(|e| e["type"] == "redacted")
        .expect("a redacted event");
    assert_eq!(redacted["rule"], "any_sensitive");
    assert_eq!(redacted["values"], 15);
    assert_eq!(redacted["body_bytes"], forwarded.len());
}

#[test]
fn redaction_works_for_forms_and_chunked_bodies() {
    let stack = Stack::with_plugin(&config("redact"));
    let r = stack.send(
        Request::new("POST", "/form")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-agent-trace-id", "redact-form")
            .body("to=jane.doe%40example.com&card=4111+1111+1111+1111&n=2"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        stack.agent_requests_for("redact-form")[0]["body"],
        "to=%5BEMAIL%5D&card=%5BCREDIT_CARD%5D&n=2"
    );
    let r = stack.send(
        Request::new("POST", "/chunked")
            .header("content-type", "application/json")
            .header("x-agent-trace-id", "redact-chunked")
            .chunked(
                vec![b"{\"ssn\": \"123-4".to_vec(), b"5-6789\"}".to_vec()],
                &[],
            ),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        stack.agent_requests_for("redact-chunked")[0]["body"],
        r#"{"ssn": "[SSN]"}"#
    );
}

#[test]
fn redact_rules_need_held_headers() {
    let mut cfg = config("redact");
    cfg["hold_headers"] = json!(false);
    let Err((failure, _dir)) = Stack::builder().plugin(&cfg).try_start() else {
        panic!("Envoy accepted a redact rule without held headers");
    };
    assert!(
        failure.log.contains(
            "policy.block_rules[0].action: rule 'any_sensitive': `redact` rewrites the body"
        ),
        "{}",
        failure.log
    );
}
