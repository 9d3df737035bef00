//! Property tests: the scanner, the scrubber, the configuration parser, the rule compiler, the
//! event writer and the chain that seals its lines never panic and always produce well-formed
//! output, whatever the input; the verifier takes any line without panicking. They run
//! natively and compiled to Wasm (scripts/test.sh).
#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

use iatp_core::chain::{Chain, Verifier};
use iatp_core::config;
use iatp_core::detect::{Decoding, Findings, Format, KindSet, Scanner};
use iatp_core::events::{self, EventLog, Stamp};
use iatp_core::phases::{Exchange, Host, RequestHead};
use iatp_core::scrub::{redact, scrub, BodyFormat};
use proptest::prelude::*;
use serde_json::Value;

/// Envoy as the exchange sees it: a fixed clock, a 200 response, a complete stream.
struct Envoy {
    body: Vec<u8>,
}

impl Host for Envoy {
    fn now_nanos(&self) -> u64 {
        1_769_171_696_789_000_000
    }
    fn request_body(&self, size: usize) -> Vec<u8> {
        self.body[..size.min(self.body.len())].to_vec()
    }
    fn response_status(&self) -> Option<u16> {
        Some(200)
    }
    fn response_code_details(&self) -> Vec<u8> {
        b"via_upstream".to_vec()
    }
}

/// Bytes that exercise the detectors: digits and separators, '@', letters of the credential
/// prefixes, JSON structure and escapes, percent escapes, unicode dashes, invalid UTF-8.
fn interesting_bytes() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        Just(b"4111".to_vec()),
        Just(b" ".to_vec()),
        Just(b"-".to_vec()),
        Just(b".".to_vec()),
        Just(b"@".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\u00".to_vec()),
        Just(b"%40".to_vec()),
        Just(b"+".to_vec()),
        Just(b"(".to_vec()),
        Just(b":".to_vec()),
        Just(b"::".to_vec()),
        Just("\u{2013}".as_bytes().to_vec()),
        Just(b"AKIA".to_vec()),
        Just(b"ghp_".to_vec()),
        Just(b"xoxb-".to_vec()),
        Just(b"eyJ".to_vec()),
        Just(b"bc1q".to_vec()),
        Just(b"-----BEGIN PRIVATE KEY-----".to_vec()),
        Just(b"DE89".to_vec()),
        Just(b"ssn".to_vec()),
        Just(b"phone".to_vec()),
        Just(vec![0xff, 0xe2, 0x80]),
        "[0-9]{1,20}".prop_map(|s| s.into_bytes()),
        "[a-zA-Z0-9_.-]{1,12}".prop_map(|s| s.into_bytes()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(pieces, 0..200).prop_map(|v| v.concat())
}

fn decodings() -> [(Decoding, Format); 3] {
    [
        (Decoding::default(), Format::Text),
        (
            Decoding {
                json: true,
                ..Decoding::default()
            },
            Format::Json,
        ),
        (
            Decoding {
                percent: true,
                plus_is_space: true,
                json: true,
                fold: true,
                nested: true,
            },
            Format::Text,
        ),
    ]
}

fn check_scan(input: &[u8]) {
    let scanner = Scanner::new(KindSet::all_built_ins());
    for (decoding, format) in decodings() {
        let mut spans = Vec::new();
        let mut findings = Findings::default();
        scanner.scan_input(input, decoding, format, &mut findings, |f| spans.push(f));
        assert_eq!(findings.count, spans.len());
        let mut last = 0;
        for f in &spans {
            assert!(
                f.span.start < f.span.end && f.span.end <= input.len(),
                "{:?}",
                f.span
            );
            assert!(f.span.start >= last, "findings out of order");
            last = f.span.start;
        }
        // Scrubbing never fails, and what was found is replaced.
        let s = scrub(input, &spans, usize::MAX, &scanner);
        assert!(
            spans.is_empty() || s.text.contains("_REDACTED]"),
            "nothing scrubbed: {}",
            s.text
        );
        // Redacting valid JSON keeps it valid JSON.
        if format == Format::Json && serde_json::from_slice::<Value>(input).is_ok() {
            let out = redact(input, &mut spans.clone(), BodyFormat::Json, &scanner);
            assert!(
                serde_json::from_slice::<Value>(&out).is_ok(),
                "redaction broke JSON: {}",
                String::from_utf8_lossy(&out)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn scanning_any_bytes_is_safe(input in prop::collection::vec(any::<u8>(), 0..2048)) {
        check_scan(&input);
    }

    #[test]
    fn scanning_detector_shaped_input_is_safe(input in interesting_bytes()) {
        check_scan(&input);
    }

    #[test]
    fn redacting_json_with_values_keeps_it_json(
        values in prop::collection::vec(prop_oneof![
            Just("4111 1111 1111 1111"), Just("123-45-6789"), Just("jane@example.com"),
            Just("+41 44 668 18 00"), Just("AKIAIOSFODNN7EXAMPLE"), Just("plain"),
        ], 1..8),
        as_number in any::<bool>(),
    ) {
        let mut doc = serde_json::Map::new();
        for (i, v) in values.iter().enumerate() {
            doc.insert(format!("k{i}"), Value::String(v.to_string()));
        }
        if as_number {
            doc.insert("n".into(), serde_json::json!(4111111111111111u64));
        }
        let text = serde_json::to_vec(&doc).unwrap();
        check_scan(&text);
    }

    #[test]
    fn any_configuration_bytes_parse_or_fail_cleanly(input in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = config::parse(&input);
    }

    #[test]
    fn any_rule_condition_compiles_or_fails_cleanly(
        tokens in prop::collection::vec(prop_oneof![
            Just("has_ssn"), Just("has_email"), Just("trust_score"), Just("retention"), Just("method"),
            Just("detected_count"), Just("&&"), Just("||"), Just("!"), Just("=="), Just("!="), Just("<"),
            Just(">="), Just("("), Just(")"), Just("'permanent'"), Just("\"POST\""), Just("3"), Just("-1"),
            Just("true"), Just("&"), Just("="), Just("'"), Just("x"),
        ], 0..30)
    ) {
        let condition = tokens.join(" ");
        let cfg = serde_json::json!({
            "manifest": {"identity": {"agent_id": "a"}, "privacy": {"retention": "ephemeral"}},
            "policy": {"block_rules": [{"name": "r", "condition": condition, "action": "block"}]}
        });
        if let Ok(policy) = config::parse(cfg.to_string().as_bytes()) {
            // A compiled rule evaluates without failing, whatever the facts.
            let facts = iatp_core::rules::Facts::new("POST", "/x")
                .with_detected(KindSet::all_built_ins(), 3);
            let _ = policy.evaluate(&facts, false);
        }
    }

    #[test]
    fn verifying_any_line_is_safe(
        lines in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8),
        tail in "[0-9a-f]{0,70}",
    ) {
        let mut v = Verifier::new(None, vec![], false);
        for mut l in lines {
            l.extend_from_slice(b",\"hash\":\"");
            l.extend_from_slice(tail.as_bytes());
            l.extend_from_slice(b"\"}");
            v.line(&l);
        }
        let _ = v.ok();
    }

    #[test]
    fn event_lines_are_always_one_json_object_each(
        // `(?s)`: `.` alone never generates a newline, the one character that matters most.
        method in "(?s).{0,20}",
        path in "(?s).{0,200}",
        payload in prop::option::of("(?s).{0,500}"),
        trace in "[A-Za-z0-9._-]{1,128}",
    ) {
        let mut log = EventLog::default();
        let stamp = Stamp { trace_id: &trace, timestamp: "2026-01-23T12:34:56.789Z", agent_id: "a" };
        log.push(&stamp, &events::Request {
            method: &method, path: &path, trust_score: 5, detected: vec![], body_bytes: 3,
            payload: payload.as_deref(), payload_truncated: false,
        });
        log.push(&stamp, &events::Failure { error: &path, status: Some(413) });
        // What reaches the file: the lines sealed into a chain.
        let mut chain = Chain::new([9; 8], None);
        let mut sealed = Vec::new();
        chain.seal(log.as_bytes(), &mut sealed);
        let text = std::str::from_utf8(&sealed).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        prop_assert_eq!(lines.len(), 2);
        let mut verifier = Verifier::new(None, vec![], false);
        for (i, line) in lines.iter().enumerate() {
            let v: Value = serde_json::from_str(line).unwrap();
            prop_assert!(v.is_object());
            prop_assert_eq!(&v["trace_id"], &Value::String(trace.clone()));
            prop_assert_eq!(&v["path"].as_str().or(v["error"].as_str()), &Some(path.as_str()));
            prop_assert_eq!(v["seq"].as_u64(), Some(i as u64 + 1));
            verifier.line(line.as_bytes());
        }
        prop_assert!(verifier.ok());
    }

    #[test]
    fn no_detected_value_reaches_an_event_line(
        before in "(?s)[^0-9]{0,60}[ \n\"]",
        after in "(?s)[ \n\",][^0-9]{0,60}",
        value in prop::sample::select(vec![
            "4111 1111 1111 1111", "123-45-6789", "jane.doe@example.com",
            "DE89 3704 0044 0532 0130 00", "AKIAIOSFODNN7EXAMPLE",
        ]),
        method in prop::sample::select(vec!["POST", "PUT", "123-45-6789", "AKIAIOSFODNN7EXAMPLE"]),
        in_trace_id in any::<bool>(),
    ) {
        // The value in the body, the path, the method and maybe the trace id: it must show
        // nowhere in the sealed lines (the decision itself does not matter here).
        let policy = config::parse(br#"{"manifest": {"identity": {"agent_id": "a"}, "privacy": {"retention": "ephemeral"}}}"#).unwrap();
        let path = format!("/x?q={}", value.replace(' ', "+"));
        let trace_header = value.replace(' ', "");
        let body = format!("{before}{value}{after}");
        let host = Envoy { body: body.clone().into_bytes() };
        let mut ex = Exchange::new(Some(std::rc::Rc::new(policy)));
        let head = RequestHead {
            method: method.as_bytes(),
            path: path.as_bytes(),
            trace_id: in_trace_id.then_some(trace_header.as_bytes()),
            ..RequestHead::default()
        };
        ex.request_headers(&head, false, &host);
        ex.request_body(body.len(), true, &host);
        ex.response_headers(true, &host);
        ex.log(&host);
        let mut sealed = Vec::new();
        Chain::new([1; 8], None).seal(ex.events(), &mut sealed);
        let text = String::from_utf8(sealed).unwrap();
        for line in text.split('\n') {
            let v: Value = serde_json::from_str(line).unwrap();
            prop_assert!(v.is_object());
        }
        let unescaped = text.replace("\\n", "\n").replace("\\\"", "\"");
        for needle in [value.to_string(), trace_header.clone(), value.replace(' ', "+")] {
            prop_assert!(!unescaped.contains(&needle), "{needle} in {text}");
        }
    }
}
