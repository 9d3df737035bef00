//! Every detector type, and redaction, through a real Envoy.

use serde_json::{json, Value};

use crate::harness::{Request, Stack};

/// One value of each type, as a JSON member, and the type it must be detected as.
fn samples() -> Vec<(&'static str, String)> {
    vec![
        ("credit_card", r#""card": "4111 1111 1111 1111""#.into()),
        ("ssn", r#""tax_id": "123-45-6789""#.into()),
        ("email", r#""contact": "jane.doe@example.com""#.into()),
        ("phone", r#""contact": "+1 (415) 555-2671""#.into()),
        ("iban", r#""account": "DE89 3704 0044 0532 0130 00""#.into()),
        ("ip_address", r#""client": "203.0.113.7""#.into()),
        ("us_bank_routing", r#""routing_number": "021000021""#.into()),
        ("crypto_wallet", r#""pay_to": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq""#.into()),
        ("aws_access_key", r#""key_id": "AKIAUJZDEGXDNCF32EPF""#.into()),
        ("github_token", r#""token": "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""#.into()),
        ("slack_token", r#""hook": "xoxb-231948757491-1862527601895-LiMcVbpT4r5yHUig43kiJfah""#.into()),
        ("private_key", r#""pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n""#.into()),
        ("jwt", r#""auth": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U""#.into()),
        ("es_nif", r#""dni": "12345678Z""#.into()),
        ("fi_hetu", r#""hetu": "131052-308T""#.into()),
        ("uk_nino", r#""ni_number": "AB 12 34 56 C""#.into()),
        ("in_pan", r#""pan": "ABCPE1234F""#.into()),
        ("it_fiscal_code", r#""codice_fiscale": "RSSMRA85T10A562S""#.into()),
        ("sg_nric", r#""nric": "S1234567D""#.into()),
        ("openai_api_key", r#""OPENAI_API_KEY": "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""#.into()),
        ("anthropic_api_key", r#""x-api-key": "sk-ant-api03-h1d0szAOZAnV4ah17kZCNnJEH1mvlYMyzWh6qQQ5x1Wugaj7wX98VJe6BOq_JqAjBo0hVRGyEGrdlU4H1dYO-VijuJZWtAA""#.into()),
        ("google_api_key", r#""key": "AIzaKOQRTLEwVtdUrGr3YnWOS_BdwMe4KUV4vgo""#.into()),
        ("groq_api_key", r#""GROQ_API_KEY": "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""#.into()),
        ("huggingface_token", r#""hf_token": "hf_agt5xOLhaDNPpQK1kGbAk8B1MI59LoTD4Q""#.into()),
        ("xai_api_key", r#""api_key": "xai-LlwbJA7pCgZ7cEKlOVbIe6nFXgKOukfNt2GbnM5zLIev5PL1rQKphrzg632iEPPhOrtaZhjEPQUxkVfM""#.into()),
        ("perplexity_api_key", r#""api_key": "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""#.into()),
        ("replicate_api_token", r#""token": "r8_wCtowfTJCDWbcrgJA3O3Kv_2whpsOifIEcipN""#.into()),
        ("openrouter_api_key", r#""api_key": "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""#.into()),
        ("slack_webhook_url", r#""webhook": "https://hooks.slack.com/services/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""#.into()),
        ("gitlab_token", r#""private_token": "glpat-KB2L26NKAYLemYOShnWY""#.into()),
        ("npm_token", r#""npm_token": "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""#.into()),
        ("pypi_token", r#""password": "pypi-AgEIcHlwaS5vcmcda28UsWnCCsTQ3FIoluWqMlEr2ZUFWL8y2wvwhNatRIhMAvxoePlj0QRQkDhSf0Qhm3xLsD-d9I_meEQ""#.into()),
        ("stripe_key", r#""stripe_key": "sk_live_dzyE7Wj9I9p7WxviCEA1Nuv7""#.into()),
        ("twilio_api_key", r#""api_key_sid": "SK0e6ef06174d54e9019117cbf49b41ab6""#.into()),
        ("sendgrid_api_key", r#""sendgrid_key": "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""#.into()),
        ("discord_token", r#""bot_token": "MTA1MjI5MDc5NTIxNjQ3NDI1NQ.L8wbh4.AX23ojVS9vR947X6-m57M9E6YPs-Bw3oHZQP2A""#.into()),
        ("azure_storage_key", r#""conn": "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=OQYRcgCsHFZEYcabAX7h8tusrflC5NVFbzkvrX8qm9/B8DgLqND2vAWvturiohxVdnKL9JKZOsxpcfGQgyVAro==;EndpointSuffix=core.windows.net""#.into()),
        ("gcp_service_account", r#""type": "service_account", "private_key_id": "6c8f5501419bf4149b87a7178d32506afcb476de""#.into()),
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
    // One value per sample, and the card written as a JSON number.
    assert_eq!(redacted["values"], samples().len() + 1);
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
