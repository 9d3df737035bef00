//! Attacks on the response inspection through a real Envoy (issue 13); see
//! /work/notes/i13-attack.md. Each test states what should hold.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{
    parse_sse, rss_kib, send_streaming, Request, RssSampler, Stack, StreamOptions,
};

use crate::responses::{card_rule, config};

/// A POST to the OpenAI chat path the mock agent answers with `chunks` as a
/// `text/event-stream`, one HTTP chunk each.
fn sse_chunks(chunks: &[String]) -> Request {
    Request::post(
        "/v1/chat/completions",
        r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
    )
    .header("x-mock-chunks", serde_json::to_string(chunks).unwrap())
    .header("x-mock-content-type", "text/event-stream")
}

fn sse(data: &Value) -> String {
    format!("data: {data}\n\n")
}

/// F1 through Envoy: a card split across two `reasoning_content` deltas (DeepSeek, vLLM and
/// other OpenAI-compatible servers stream the model's reasoning there, and clients show it).
#[test]
fn attack_a_card_split_across_reasoning_deltas_never_reaches_the_client() {
    let stack = Stack::with_plugin(&config(card_rule("redact")));
    let reasoning =
        |t: &str| sse(&json!({"choices": [{"index": 0, "delta": {"reasoning_content": t}}]}));
    let r = stack.send_streaming(sse_chunks(&[
        reasoning("The card on file is 4111 1111"),
        reasoning(" 1111 1111, I will not say it"),
        reasoning(" again ok then"),
        "data: [DONE]\n\n".to_string(),
    ]));
    assert!(r.complete, "{:?}", r.error);
    let events = parse_sse(&r.body()).unwrap();
    let text: String = events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(&e.data).ok())
        .map(|v| {
            v["choices"][0]["delta"]["reasoning_content"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert!(
        !text.contains("4111 1111 1111 1111"),
        "the client assembled the card: {text}"
    );
}

/// F2 through Envoy: the `id` field of an event is handed to the client as is.
#[test]
fn attack_a_card_in_an_sse_id_field_never_reaches_the_client() {
    let stack = Stack::with_plugin(&config(card_rule("block")));
    let r = stack.send_streaming(sse_chunks(&[
        "id: 4111111111111111\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hello there \"}}]}\n\n"
            .to_string(),
        "data: [DONE]\n\n".to_string(),
    ]));
    assert!(
        !r.text().contains("4111111111111111"),
        "passed to the client: {}",
        r.text()
    );
}

/// A one-connection-at-a-time upstream on loopback that answers every request with
/// `head` and then `body_chunks` (chunked), for shapes the mock agent cannot make (tens of
/// MiB of blank lines). Serves at most `max_conns` connections, then its thread ends.
fn evil_upstream(head: &'static str, first: Vec<u8>, filler: Vec<u8>, repeat: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for conn in listener.incoming().take(4) {
            let Ok(mut s) = conn else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            // Read the request head (and a small body, ignored).
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let write = |s: &mut TcpStream, c: &[u8]| -> std::io::Result<()> {
                s.write_all(format!("{:x}\r\n", c.len()).as_bytes())?;
                s.write_all(c)?;
                s.write_all(b"\r\n")
            };
            let run = (|| -> std::io::Result<()> {
                s.write_all(head.as_bytes())?;
                write(&mut s, &first)?;
                for _ in 0..repeat {
                    write(&mut s, &filler)?;
                }
                s.write_all(b"0\r\n\r\n")
            })();
            let _ = run;
        }
    });
    port
}

/// F4 through Envoy: one held token, then blank lines (each an empty event). Every blank line
/// becomes a held event behind the token; 48 MiB of them should pass with Envoy's memory
/// flat and the Wasm VM alive.
#[test]
fn attack_blank_lines_behind_a_held_token_do_not_exhaust_the_vm() {
    let first =
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"4111\"}}]}\n\n".to_vec();
    let port = evil_upstream(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        first,
        vec![b'\n'; 64 * 1024],
        48 * 16,
    );
    let stack = Stack::builder()
        .plugin(&config(card_rule("redact")))
        .envoy(|c| {
            c.add_cluster("evil", port);
            let filters = c.doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"]
                .as_array_mut()
                .unwrap();
            let hcm = filters
                .iter_mut()
                .find(|f| f["name"] == "envoy.filters.network.http_connection_manager")
                .unwrap();
            let routes = hcm["typed_config"]["route_config"]["virtual_hosts"][0]["routes"]
                .as_array_mut()
                .unwrap();
            // The chat path goes to the evil upstream; everything else to the mock agent.
            routes.insert(
                0,
                json!({"match": {"prefix": "/v1/chat/completions"},
                       "route": {"cluster": "evil", "timeout": "120s"}}),
            );
        })
        .start();
    let pid = stack.envoy.pid();
    let before = rss_kib(pid).unwrap();
    let sampler = RssSampler::start(pid, Duration::from_millis(50));
    let r = send_streaming(
        stack.addr(),
        &Request::post("/v1/chat/completions", r#"{"model":"m","stream":true}"#),
        &StreamOptions {
            keep_data: false,
            read_timeout: Duration::from_secs(60),
        },
    );
    let max = sampler.stop().iter().map(|s| s.1).max().unwrap_or(before);
    eprintln!(
        "blank-line stream: status {}, {} bytes, complete {}, error {:?}; Envoy RSS before {before} KiB, max {max} KiB (+{} KiB)",
        r.status,
        r.body_bytes,
        r.complete,
        r.error,
        max.saturating_sub(before)
    );
    // The VM still answers.
    let after = stack
        .send(Request::post("/records", r#"{"q":"hi"}"#).header("x-mock-body", r#"{"ok":true}"#));
    assert_eq!(after.status, 200, "after the stream: {}", after.text());
    assert!(after.header("x-agent-trace-id").is_some());
    assert!(
        max.saturating_sub(before) < 64 * 1024,
        "Envoy grew by {} KiB for one stream",
        max.saturating_sub(before)
    );
}
