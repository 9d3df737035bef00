//! Compressed request bodies: Envoy's decompressors (shipped in envoy/envoy.yaml ahead of the
//! filter) undo gzip, br and zstd, so the filter scans what the agent reads; a body in any
//! other coding is answered 415 and never forwarded.

use std::io::Write;

use serde_json::{json, Value};

use crate::harness::{paths, Request, Stack};

const CARD_BODY: &str = r#"{"card":"4111 1111 1111 1111"}"#;

fn policy() -> Value {
    json!({
        "manifest": {"identity": {"agent_id": "test-agent"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"block_rules": [
            {"name": "card_anywhere", "condition": "has_credit_card", "action": "block"}
        ]}
    })
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

/// A zstd frame (RFC 8878 §3.1.1) holding `data` in one raw (stored) block: single segment,
/// one-byte content size, no checksum.
fn zstd(data: &[u8]) -> Vec<u8> {
    assert!(data.len() < 256);
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD];
    f.push(0b0010_0000); // Single_Segment_flag; Frame_Content_Size: 1 byte
    f.push(data.len() as u8);
    // Block header: Last_Block = 1, Block_Type = Raw (0), Block_Size.
    let header = 1u32 | ((data.len() as u32) << 3);
    f.extend_from_slice(&header.to_le_bytes()[..3]);
    f.extend_from_slice(data);
    f
}

fn post(body: Vec<u8>, coding: &str) -> Request {
    Request::post("/pay", body)
        .header("content-type", "application/json")
        .header("content-encoding", coding)
}

#[test]
fn compressed_bodies_are_decompressed_by_envoy_and_scanned() {
    let stack = Stack::with_plugin(&policy());
    for (coding, body) in [
        ("gzip", gzip(CARD_BODY.as_bytes())),
        ("br", brotli(CARD_BODY.as_bytes())),
        ("zstd", zstd(CARD_BODY.as_bytes())),
    ] {
        let trace = format!("compressed-card-{coding}");
        let r = stack.send(post(body.clone(), coding).header("x-agent-trace-id", &trace));
        assert_eq!(r.status, 403, "{coding}: {}", r.text());
        assert_eq!(r.json()["detected"], json!(["credit_card"]), "{coding}");
        stack.assert_never_reached_agent(&trace);
        let events = stack.events_for(&trace, 2);
        let line = events[0].to_string();
        // The value's digits, not "4111" alone: a line's hash may hold those.
        assert!(!line.contains("4111 1111"), "{coding}: {line}");
        assert_eq!(
            events[0]["payload"], r#"{"card":"[CREDIT_CARD_REDACTED]"}"#,
            "{coding}: the event shows the decompressed body, scrubbed"
        );

        // A clean body reaches the agent decompressed, without its coding.
        let clean = br#"{"task":"book","seats":2}"#;
        let trace = format!("compressed-clean-{coding}");
        let compressed = match coding {
            "gzip" => gzip(clean),
            "br" => brotli(clean),
            _ => zstd(clean),
        };
        let r = stack.send(post(compressed, coding).header("x-agent-trace-id", &trace));
        assert_eq!(r.status, 200, "{coding}: {}", r.text());
        let got = stack.agent_requests_for(&trace);
        assert_eq!(got[0]["body"], std::str::from_utf8(clean).unwrap());
        assert!(
            got[0]["headers"].get("content-encoding").is_none(),
            "{got:?}"
        );
    }
    // Envoy, not the filter, did the decompressing.
    for coding in ["gzip", "br", "zstd"] {
        let stats = stack.envoy.prometheus_text();
        let decompressed = stats
            .lines()
            .find(|l| {
                l.contains(&format!("decompressor_{coding}_"))
                    && l.contains("request_decompressed")
                    && !l.starts_with('#')
            })
            .unwrap_or_else(|| panic!("no {coding} decompressor stats in\n{stats}"));
        assert!(decompressed.ends_with(" 2"), "{decompressed}");
    }
}

#[test]
fn a_coding_envoy_cannot_undo_is_refused_415_and_never_forwarded() {
    let stack = Stack::with_plugin(&policy());
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("deflate", zlib(CARD_BODY.as_bytes()), "deflate"),
        ("compress", CARD_BODY.as_bytes().to_vec(), "compress"),
        // Two layers: Envoy undoes one, the filter still sees gzip.
        ("gzip, gzip", gzip(&gzip(CARD_BODY.as_bytes())), "gzip"),
        (
            "x-4111111111111111",
            CARD_BODY.as_bytes().to_vec(),
            "unrecognised",
        ),
        ("identity, deflate", zlib(CARD_BODY.as_bytes()), "deflate"),
    ];
    for (coding, body, named) in cases {
        let trace = format!("coding-{}", named);
        let r = stack.send(post(body, coding).header("x-agent-trace-id", &trace));
        assert_eq!(r.status, 415, "{coding}: {}", r.text());
        assert_eq!(r.header("content-type"), Some("application/json"));
        let reply = r.json();
        assert_eq!(reply["content_encoding"], named, "{coding}");
        assert_eq!(reply["trace_id"], trace.as_str());
        assert!(!r.text().contains("4111"));
        stack.assert_never_reached_agent(&trace);
        let events = stack.events_for(&trace, 2);
        assert_eq!(events[1]["type"], "error");
        assert_eq!(events[1]["status"], 415);
        let lines = format!("{events:?}");
        assert!(!lines.contains("4111 1111"), "{lines}");
        assert!(events[0].get("payload").is_none(), "{lines}");
    }
}

#[test]
fn no_transform_does_not_turn_decompression_off() {
    // RFC 9111's `no-transform` would make Envoy's decompressor skip the body; the shipped
    // config ignores it for requests, so that a caller cannot choose to go unscanned.
    let stack = Stack::with_plugin(&policy());
    let trace = "no-transform";
    let r = stack.send(
        post(gzip(CARD_BODY.as_bytes()), "gzip")
            .header("cache-control", "no-transform")
            .header("x-agent-trace-id", trace),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    stack.assert_never_reached_agent(trace);
}

#[test]
fn the_istio_envoyfilter_puts_the_same_decompressors_first() {
    let text = std::fs::read_to_string(paths::repo().join("istio/decompressor.yaml")).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(doc["kind"], "EnvoyFilter");
    let patches = doc["spec"]["configPatches"].as_array().unwrap().clone();
    // Applied as Istio applies them, to the shipped config without its own decompressors.
    let stack = Stack::builder()
        .plugin(&policy())
        .envoy(|c| {
            let filters = c.http_filters();
            filters.retain(|f| {
                !f["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("iatp.decompressor."))
            });
            for p in &patches {
                assert_eq!(p["applyTo"], "HTTP_FILTER");
                assert_eq!(p["match"]["context"], "SIDECAR_INBOUND");
                assert_eq!(p["patch"]["operation"], "INSERT_FIRST");
                filters.insert(0, p["patch"]["value"].clone());
            }
        })
        .start();
    for (coding, body) in [
        ("gzip", gzip(CARD_BODY.as_bytes())),
        ("br", brotli(CARD_BODY.as_bytes())),
        ("zstd", zstd(CARD_BODY.as_bytes())),
    ] {
        let r = stack.send(post(body, coding));
        assert_eq!(r.status, 403, "{coding}: {}", r.text());
    }
}
