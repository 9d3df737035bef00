//! The plumbing for response inspection, proved with today's filter (which does not touch
//! responses): every shape the mock agent, the Python upstream and the moderation mock
//! produce passes through Envoy unchanged and parses; streams are delivered chunk by chunk,
//! as the upstream wrote them; a 100 MB stream passes with Envoy's memory flat; compressed
//! responses are decompressed by the response decompressors the harness can add.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{
    parse_sse, peak_rss_kib, rss_kib, send_streaming, ClientCall, Request, RssSampler, SseEvent,
    Stack, StreamOptions, Streamed,
};

const CARD: &str = "4111 1111 1111 1111";

/// A policy that reads no response and lets cards through requests (SSNs are blocked, so
/// that the filter is visibly deciding requests).
fn policy() -> Value {
    json!({
        "manifest": {"identity": {"agent_id": "test-agent"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"block_rules": [
            {"name": "ssn_anywhere", "condition": "has_ssn", "action": "block"}
        ]}
    })
}

fn stack() -> Stack {
    Stack::with_plugin(&policy())
}

fn get(headers: &[(&str, &str)]) -> Request {
    headers
        .iter()
        .fold(Request::get("/stream"), |r, (k, v)| r.header(k, v))
}

fn sse(r: &Streamed) -> Vec<SseEvent> {
    parse_sse(&r.body()).unwrap_or_else(|e| panic!("{e}: {:?}", r.text()))
}

fn data_json(events: &[SseEvent]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e.data != "[DONE]")
        .map(|e| serde_json::from_str(&e.data).unwrap_or_else(|e2| panic!("{e2}: {e:?}")))
        .collect()
}

fn inflate(data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The mock's OpenAI and A2A event streams, in every line ending, pass through Envoy byte for
/// byte, parse by the WHATWG rules, and carry the text in the pieces asked for.
#[test]
fn mock_event_streams_pass_through_unchanged_and_parse() {
    let stack = stack();
    let text = format!("my card is {CARD}, thanks");
    for eol in ["lf", "crlf", "cr"] {
        let r = stack.send_streaming(get(&[
            ("x-mock-sse", "openai"),
            ("x-mock-sse-text", &text),
            ("x-mock-sse-split", "6"),
            ("x-mock-sse-eol", eol),
        ]));
        assert_eq!(r.status, 200, "{eol}");
        assert!(r.complete, "{eol}: {r:?}");
        assert_eq!(r.header("content-type"), Some("text/event-stream"));
        assert_eq!(r.header("content-length"), None);
        let ending = match eol {
            "lf" => "\n",
            "crlf" => "\r\n",
            _ => "\r",
        };
        assert!(r.text().ends_with(&format!("data: [DONE]{ending}{ending}")));
        let events = sse(&r);
        assert_eq!(
            events.len(),
            6 + 2,
            "{eol}: six pieces, the stop chunk, [DONE]"
        );
        assert_eq!(events.last().unwrap().data, "[DONE]");
        let chunks = data_json(&events);
        let joined: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(joined, text, "{eol}");
        assert!(
            chunks.iter().all(|c| !c["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or_default()
                .contains(CARD)),
            "the card is split across events"
        );
        assert_eq!(chunks[0]["object"], "chat.completion.chunk");
        assert_eq!(
            chunks.last().unwrap()["choices"][0]["finish_reason"],
            "stop"
        );
    }

    // A2A: the JSON-RPC id of the request's body, pieces as given.
    let body = json!({"jsonrpc": "2.0", "id": "req-42", "method": "message/stream",
                      "params": {"message": {"kind": "message", "role": "user",
                                             "messageId": "m1", "parts": []}}});
    let r = stack.send_streaming(
        Request::post("/a2a", body.to_string())
            .header("x-mock-sse", "a2a")
            .header("x-mock-sse-pieces", r#"["4111 11","11 1111"," 1111"]"#)
            .header("x-mock-sse-eol", "crlf"),
    );
    assert_eq!(r.status, 200);
    let results = data_json(&sse(&r));
    assert_eq!(results.len(), 4);
    assert!(results
        .iter()
        .all(|e| e["id"] == "req-42" && e["jsonrpc"] == "2.0"));
    let parts: Vec<&str> = results[..3]
        .iter()
        .map(|e| {
            assert_eq!(e["result"]["kind"], "artifact-update");
            e["result"]["artifact"]["parts"][0]["text"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(parts.concat(), CARD);
    assert_eq!(results[0]["result"]["append"], false);
    assert_eq!(results[1]["result"]["append"], true);
    assert_eq!(results[2]["result"]["lastChunk"], true);
    assert_eq!(results[3]["result"]["kind"], "status-update");
    assert_eq!(results[3]["result"]["final"], true);
    assert_eq!(results[3]["result"]["status"]["state"], "completed");
}

/// Chunks the mock writes with a pause between them arrive one by one, the pause kept:
/// Envoy (with today's filter) does not buffer a streamed response.
#[test]
fn chunks_and_events_arrive_one_by_one_with_the_upstreams_pauses() {
    let stack = stack();
    let delay = Duration::from_millis(200);
    let r = stack.send_streaming(get(&[
        (
            "x-mock-chunks",
            r#"["one ","two ","three ","four ","five"]"#,
        ),
        ("x-mock-chunk-delay-ms", "200"),
    ]));
    assert!(r.complete, "{r:?}");
    assert_eq!(r.text(), "one two three four five");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    let pieces: Vec<String> = r
        .chunks
        .iter()
        .map(|c| String::from_utf8_lossy(&c.data).into_owned())
        .collect();
    assert_eq!(pieces, ["one ", "two ", "three ", "four ", "five"]);
    for gap in r.gaps() {
        // A little slack for the scheduler: the upstream slept `delay` between two writes.
        assert!(gap >= delay * 9 / 10, "gaps {:?}", r.gaps());
    }
    assert!(
        r.first_byte_at().unwrap() < delay,
        "the first chunk came at {:?}",
        r.first_byte_at()
    );

    // Events: each its own chunk, the first long before the last.
    let r = stack.send_streaming(get(&[
        ("x-mock-sse", "openai"),
        ("x-mock-sse-text", "abcdefgh"),
        ("x-mock-sse-split", "4"),
        ("x-mock-chunk-delay-ms", "150"),
    ]));
    assert_eq!(r.chunks.len(), 4 + 2, "{r:?}");
    assert_eq!(sse(&r).len(), 6);
    for c in &r.chunks {
        assert_eq!(
            parse_sse(&c.data).map(|e| e.len()),
            Ok(1),
            "one whole event per chunk"
        );
    }
    assert!(
        r.gaps().iter().all(|g| *g >= Duration::from_millis(135)),
        "{:?}",
        r.gaps()
    );
    let span = r.chunks.last().unwrap().at - r.first_byte_at().unwrap();
    assert!(span >= Duration::from_millis(5 * 135), "{span:?}");
}

/// Every other shape: a large JSON body with its length, a gzip body (as the mock sends it:
/// the shipped envoy.yaml inflates responses before the filter), a canned status, and a 400
/// naming the header for each value the mock cannot use.
#[test]
fn mock_shapes_pass_through_and_bad_mock_headers_are_400() {
    let stack = stack();
    let r = stack.send(get(&[("x-mock-json-bytes", "1048576")]));
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 1_048_576);
    assert_eq!(r.header("content-length"), Some("1048576"));
    assert_eq!(r.json()["object"], "mock.large");

    let r = send_streaming(
        stack.agent.addr,
        &get(&[
            ("x-mock-json-bytes", "5000"),
            ("x-mock-content-encoding", "gzip"),
            ("x-mock-content-type", "application/vnd.test+json"),
            ("x-mock-status", "201"),
        ]),
        &StreamOptions::default(),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("content-type"), Some("application/vnd.test+json"));
    let plain = inflate(&r.body());
    assert_eq!(plain.len(), 5000);
    assert!(r.body().len() < plain.len());

    // A gzip stream: one member, flushed per chunk, so each prefix inflates as it arrives.
    let r = send_streaming(
        stack.agent.addr,
        &get(&[
            ("x-mock-sse", "openai"),
            ("x-mock-sse-text", "hello streamed world"),
            ("x-mock-sse-split", "3"),
            ("x-mock-content-encoding", "gzip"),
        ]),
        &StreamOptions::default(),
    );
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(parse_sse(&inflate(&r.body())).unwrap().len(), 5);

    let r = stack.send_streaming(get(&[
        ("x-mock-stream-bytes", "100000"),
        ("x-mock-stream-kind", "text"),
    ]));
    assert_eq!(r.body_bytes, 100_000);
    // The mock writes 16 KiB chunks (read from it directly: Envoy re-frames a fast stream,
    // one downstream chunk per read from upstream, so its chunks may be larger).
    let direct = send_streaming(
        stack.agent.addr,
        &get(&[("x-mock-stream-bytes", "100000")]),
        &StreamOptions::default(),
    );
    let sizes: Vec<usize> = direct.chunks.iter().map(|c| c.len).collect();
    assert_eq!(sizes, [16384, 16384, 16384, 16384, 16384, 16384, 1696]);
    assert_eq!(direct.body(), r.body());
    assert!(!r.text().bytes().any(|b| b.is_ascii_digit() || b == b'@'));
    let r = stack.send_streaming(get(&[
        ("x-mock-stream-bytes", "100000"),
        ("x-mock-stream-kind", "sse"),
    ]));
    assert!(
        (99_000..=100_000).contains(&r.body_bytes),
        "{}",
        r.body_bytes
    );
    let events = sse(&r);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    assert_eq!(data_json(&events).len(), events.len() - 1);

    for (name, value) in [
        ("x-mock-chunks", "not json"),
        ("x-mock-chunks", "[1, 2]"),
        ("x-mock-chunk-delay-ms", "2001"),
        ("x-mock-sse", "smtp"),
        ("x-mock-sse-split", "0"),
        ("x-mock-sse-eol", "lfcr"),
        ("x-mock-sse-pieces", "{}"),
        ("x-mock-stream-bytes", "209715201"),
        ("x-mock-stream-bytes", "0"),
        ("x-mock-stream-kind", "xml"),
        ("x-mock-json-bytes", "-1"),
        ("x-mock-json-bytes", "67108865"),
        ("x-mock-content-encoding", "br"),
    ] {
        let mut headers = vec![(name, value)];
        match name {
            "x-mock-sse-split" | "x-mock-sse-eol" | "x-mock-sse-pieces" => {
                headers.extend([("x-mock-sse", "openai"), ("x-mock-sse-text", "x")])
            }
            "x-mock-stream-kind" => headers.push(("x-mock-stream-bytes", "10")),
            "x-mock-chunk-delay-ms" => headers.push(("x-mock-chunks", r#"["a"]"#)),
            _ => {}
        }
        let r = stack.send(get(&headers));
        assert_eq!(r.status, 400, "{name}: {value}: {}", r.text());
        assert!(r.text().starts_with(name), "{name}: {}", r.text());
    }
    let r = stack.send(get(&[("x-mock-sse", "openai")]));
    assert_eq!(r.status, 400);
    assert!(r.text().contains("x-mock-sse-text"), "{}", r.text());
}

/// The headers asking the mock for these raw chunks as a `text/event-stream`.
fn events_of(chunks: &[String]) -> Vec<String> {
    vec![
        format!("x-mock-chunks: {}", json!(chunks)),
        "x-mock-content-type: text/event-stream".to_string(),
    ]
}

fn plain_call<'a>(stack: &'a Stack, path: &str, headers: &[String]) -> ClientCall<'a> {
    let mut call = stack.client_call_plain(path);
    call.headers.extend(headers.iter().cloned());
    call
}

/// The real `openai` and `a2a-sdk` clients read the mock's event streams (so the mock's
/// shapes are the protocols' own), and a broken stream is an error of the library's class.
#[test]
fn real_clients_read_the_mock_streams_and_report_a_broken_one() {
    let stack = stack();
    let text = format!("card {CARD} end");
    let mock = |kind: &str| {
        vec![
            format!("x-mock-sse: {kind}"),
            format!("x-mock-sse-text: {text}"),
            "x-mock-sse-split: 5".to_string(),
        ]
    };
    let out = plain_call(&stack, "/v1", &mock("openai")).run(&["openai-chat-stream", "m", "hi"]);
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["result"]["text"], text.as_str());
    assert_eq!(out["result"]["chunks"], 6, "five pieces and the stop chunk");
    assert_eq!(out["result"]["finish_reason"], "stop");

    let out =
        plain_call(&stack, "/a2a", &mock("a2a")).run(&["a2a-stream", "hi", "--protocol", "0.3"]);
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["result"]["text"], text.as_str());
    assert_eq!(out["result"]["chunks"], 5);
    assert_eq!(out["result"]["final_state"], "TASK_STATE_COMPLETED");

    // Broken streams: an event whose data is not JSON; a JSON-RPC error event.
    let broken = events_of(&["data: {\"id\": broken\n\n".to_string()]);
    let out = plain_call(&stack, "/v1", &broken).run(&["openai-chat-stream", "m", "hi"]);
    assert_eq!(out["ok"], false, "{out}");
    assert_eq!(out["error"]["class"], "JSONDecodeError", "{out}");
    // An error event in the OpenAI shape (`data: {"error": {...}}`) is the library's APIError
    // carrying the error object; a stream cut before its stop chunk and `[DONE]` is no error
    // to the library at all (only `finish_reason` stays null).
    let error = json!({"error": {"message": "blocked", "type": "permission_denied"}});
    let out = plain_call(&stack, "/v1", &events_of(&[format!("data: {error}\n\n")])).run(&[
        "openai-chat-stream",
        "m",
        "hi",
    ]);
    assert_eq!(out["ok"], false, "{out}");
    assert_eq!(out["error"]["class"], "APIError", "{out}");
    assert_eq!(out["error"]["body"]["message"], "blocked", "{out}");
    let partial = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"content": "partial"}, "finish_reason": null}]});
    let out = plain_call(&stack, "/v1", &events_of(&[format!("data: {partial}\n\n")])).run(&[
        "openai-chat-stream",
        "m",
        "hi",
    ]);
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["result"]["text"], "partial");
    assert_eq!(out["result"]["finish_reason"], Value::Null);

    let out = plain_call(&stack, "/a2a", &broken).run(&["a2a-stream", "hi", "--protocol", "0.3"]);
    assert_eq!(out["ok"], false, "{out}");
    assert!(
        out["error"]["class"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{out}"
    );
    eprintln!(
        "a2a-sdk (0.3) on an event that is not JSON: {}",
        out["error"]
    );
    let error = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32001, "message": "refused"}});
    let out = plain_call(&stack, "/a2a", &events_of(&[format!("data: {error}\n\n")])).run(&[
        "a2a-stream",
        "hi",
        "--protocol",
        "0.3",
    ]);
    assert_eq!(out["ok"], false, "{out}");
    // The SDK maps the A2A codes to its own classes (-32001 is TaskNotFoundError); another
    // code (the filter's -31001) is a generic JSON-RPC error class: printed for the notes.
    assert_eq!(out["error"]["class"], "TaskNotFoundError", "{out}");
    let error = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -31001, "message": "refused"}});
    for protocol in ["0.3", "1.0"] {
        let out = plain_call(&stack, "/a2a", &events_of(&[format!("data: {error}\n\n")])).run(&[
            "a2a-stream",
            "hi",
            "--protocol",
            protocol,
        ]);
        assert_eq!(out["ok"], false, "{out}");
        eprintln!(
            "a2a-sdk ({protocol}) on a JSON-RPC error event -31001: {}",
            out["error"]
        );
    }
}

/// The Python upstream's streams (the libraries' own servers) through Envoy: the OpenAI
/// deltas of 4 characters split a card across events; A2A 1.0 and 0.3 streaming calls get
/// the SDK's task, status and artifact events; with a pause asked for, events arrive apart.
#[test]
fn python_upstream_streams_reach_the_real_clients_through_envoy() {
    let stack = Stack::builder().plugin(&policy()).python_upstream().start();
    let text = format!("pay with {CARD}");
    let out = plain_call(&stack, "/v1", &[]).run(&["openai-chat-stream", "gpt-test", &text]);
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["result"]["text"], format!("echo: {text}"));
    let deltas: Vec<&str> = out["result"]["deltas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(deltas.iter().all(|d| d.chars().count() <= 4), "{deltas:?}");
    assert!(
        deltas.iter().all(|d| !d.contains("1111 1111")),
        "{deltas:?}"
    );
    assert_eq!(out["result"]["finish_reason"], "stop");

    for protocol in ["1.0", "0.3"] {
        let out =
            plain_call(&stack, "/a2a", &[]).run(&["a2a-stream", &text, "--protocol", protocol]);
        assert_eq!(out["ok"], true, "{protocol}: {out}");
        assert_eq!(out["result"]["text"], format!("echo: {text}"), "{protocol}");
        assert!(out["result"]["chunks"].as_u64().unwrap() >= 5, "{out}");
        assert_eq!(out["result"]["final_state"], "TASK_STATE_COMPLETED");
    }
    // The non-streaming call still answers with one message.
    let out = plain_call(&stack, "/a2a", &[]).run(&["a2a-send", "hello"]);
    assert_eq!(
        out["result"]["events"][0]["message"]["parts"][0]["text"], "echo: hello",
        "{out}"
    );
    let card = stack.send(Request::get("/.well-known/agent-card.json"));
    assert_eq!(
        card.json()["capabilities"]["streaming"],
        true,
        "{}",
        card.text()
    );

    // Raw: the OpenAI stream with 100 ms between events, read as it arrives.
    let r = stack.send_streaming(
        Request::post(
            "/v1/chat/completions",
            json!({"model": "m", "stream": true,
                   "messages": [{"role": "user", "content": "abcdefgh"}]})
            .to_string(),
        )
        .header("x-upstream-delay-ms", "100"),
    );
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("text/event-stream"));
    let events = sse(&r);
    // "echo: abcdefgh" in fours: 4 pieces, the stop chunk, [DONE].
    assert_eq!(events.len(), 6, "{events:?}");
    assert!(r.chunks.len() >= 4, "{:?}", r.chunks);
    // Three pauses of 100 ms between the four pieces. Measured from the request, not from
    // the first event: the first event may come ~40 ms late (uvicorn writes the head and the
    // first chunk separately; delayed ACK), which shortens the first gap.
    let times: Vec<_> = r.chunks.iter().map(|c| (c.at, c.len)).collect();
    assert!(
        r.chunks.last().unwrap().at >= Duration::from_millis(270),
        "{times:?}"
    );
    let gaps = r.gaps();
    assert!(
        gaps.iter()
            .filter(|g| **g >= Duration::from_millis(90))
            .count()
            >= 2,
        "{times:?}"
    );
}

/// The figure the response phase must keep: a 100 MiB stream through Envoy with Envoy's RSS
/// flat (today's filter does not look at responses; the lead's scanning must stay within a
/// like bound). Prints the figures (run with `--nocapture`).
#[test]
fn a_100_mib_stream_passes_with_envoy_memory_flat() {
    let stack = stack();
    let pid = stack.envoy.pid();
    // Warm up: a first small stream, so that buffers allocated once are counted before.
    let warm = stack.send_streaming(get(&[
        ("x-mock-stream-bytes", "1048576"),
        ("x-mock-stream-kind", "sse"),
    ]));
    assert!(warm.complete);
    for kind in ["sse", "text"] {
        let before = rss_kib(pid).expect("Envoy's VmRSS");
        let peak_before = peak_rss_kib(pid).expect("Envoy's VmHWM");
        let sampler = RssSampler::start(pid, Duration::from_millis(20));
        let n: u64 = 100 * 1024 * 1024;
        let start = Instant::now();
        let r = send_streaming(
            stack.addr(),
            &get(&[
                ("x-mock-stream-bytes", &n.to_string()),
                ("x-mock-stream-kind", kind),
            ]),
            &StreamOptions {
                keep_data: false,
                read_timeout: Duration::from_secs(20),
            },
        );
        let took = start.elapsed();
        let samples = sampler.stop();
        std::thread::sleep(Duration::from_millis(200));
        let after = rss_kib(pid).expect("Envoy's VmRSS");
        let peak_after = peak_rss_kib(pid).expect("Envoy's VmHWM");
        // The sampled maximum, or the process's peak when it rose during the stream (a
        // peak between two samples).
        let max =
            samples
                .iter()
                .map(|s| s.1)
                .max()
                .unwrap_or(before)
                .max(if peak_after > peak_before {
                    peak_after
                } else {
                    0
                });
        eprintln!(
            "100 MiB {kind} stream through Envoy: {} bytes in {} chunks, {took:?} \
             ({:.0} MiB/s); Envoy RSS before {before} KiB, max during {max} KiB \
             (+{} KiB), after {after} KiB; VmHWM {peak_before} -> {peak_after} KiB; \
             {} samples",
            r.body_bytes,
            r.chunks.len(),
            r.body_bytes as f64 / 1048576.0 / took.as_secs_f64(),
            max.saturating_sub(before),
            samples.len()
        );
        assert!(r.complete, "{:?}", r.error);
        assert_eq!(r.status, 200);
        assert!(
            r.body_bytes > n - 200 && r.body_bytes <= n,
            "{}",
            r.body_bytes
        );
        assert!(samples.len() >= 3, "too few samples: {samples:?}");
        // Envoy holds a stream's data in flight only (its buffer limits): a few MiB at most.
        assert!(
            max.saturating_sub(before) < 16 * 1024,
            "Envoy's RSS grew from {before} KiB to {max} KiB"
        );
        assert!(took < Duration::from_secs(20), "{took:?}");
    }
}

/// The shipped envoy.yaml's response decompressors (placed after the Wasm filter) inflate
/// gzip answers, whole or streamed, before the filter and the caller see them:
/// `content-encoding` removed, events still arriving one by one.
#[test]
fn response_decompressors_after_the_filter_inflate_gzip_answers() {
    let stack = Stack::builder().plugin(&policy()).start();
    let r = stack.send(get(&[
        ("x-mock-json-bytes", "5000"),
        ("x-mock-content-encoding", "gzip"),
    ]));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), None, "{:?}", r.headers);
    assert_eq!(r.body.len(), 5000);
    assert_eq!(r.json()["object"], "mock.large");

    let r = stack.send_streaming(get(&[
        ("x-mock-sse", "openai"),
        ("x-mock-sse-text", "abcdefgh"),
        ("x-mock-sse-split", "4"),
        ("x-mock-chunk-delay-ms", "150"),
        ("x-mock-content-encoding", "gzip"),
    ]));
    assert_eq!(r.header("content-encoding"), None, "{:?}", r.headers);
    let events = sse(&r);
    assert_eq!(events.len(), 6);
    // Each event inflated as it came (the mock flushes its compressor per event).
    let with_data: Vec<_> = r.chunks.iter().filter(|c| c.len > 0).collect();
    assert!(with_data.len() >= 5, "{:?}", r.chunks);
    let span = r.chunks.last().unwrap().at - r.first_byte_at().unwrap();
    assert!(span >= Duration::from_millis(4 * 135), "{span:?}");
    let request = stack.agent.requests().pop().unwrap();
    assert_eq!(
        request["headers"]["accept-encoding"],
        Value::Null,
        "the decompressors add no Accept-Encoding"
    );
}

/// The moderation mock: the OpenAI moderation API's shape as the `openai` client parses it,
/// scores by marker, a 500, a slow answer, each request recorded; and Envoy's `moderation`
/// cluster points at it.
#[test]
fn the_moderation_mock_answers_in_the_openai_shape_behind_a_cluster() {
    let stack = Stack::builder().plugin(&policy()).moderation().start();
    let m = stack.moderation();
    let clusters = crate::harness::http::get(stack.envoy.admin, "/clusters").text();
    assert!(
        clusters.contains(&format!("moderation::{}", m.addr)),
        "{clusters}"
    );
    let call = |input: &str| {
        ClientCall {
            url: format!("http://{}/v1", m.addr),
            ca: None,
            cert: None,
            headers: Vec::new(),
        }
        .run(&["openai-moderation", input])
    };
    let out = call("you are TOXIC");
    assert_eq!(out["ok"], true, "{out}");
    let r = &out["result"]["results"][0];
    assert_eq!(r["flagged"], true);
    assert_eq!(r["categories"]["harassment"], true);
    assert_eq!(r["categories"]["violence"], true);
    assert_eq!(r["categories"]["hate"], false);
    assert!(r["category_scores"]["harassment"].as_f64().unwrap() > 0.9);
    assert!(out["result"]["id"].as_str().unwrap().starts_with("modr-"));
    assert_eq!(out["result"]["model"], "omni-moderation-latest");

    let out = call("a BIASED remark");
    let r = &out["result"]["results"][0];
    assert_eq!(r["flagged"], true);
    assert_eq!(r["categories"]["hate"], true);
    assert!(r["category_scores"]["hate"].as_f64().unwrap() > 0.8);

    let out = call("hello");
    let r = &out["result"]["results"][0];
    assert_eq!(r["flagged"], false);
    assert!(r["category_scores"]["violence"].as_f64().unwrap() < 0.01);

    let out = call("FAIL500");
    assert_eq!(out["ok"], false);
    assert_eq!(out["error"]["class"], "InternalServerError", "{out}");
    assert_eq!(out["error"]["status"], 500);

    let start = Instant::now();
    let r = Request::post(
        "/v1/moderations",
        json!({"input": ["SLOW", "TOXIC"], "model": "omni-moderation-latest"}).to_string(),
    )
    .send(m.addr);
    assert!(
        start.elapsed() >= Duration::from_millis(2900),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["results"].as_array().unwrap().len(), 2);
    assert_eq!(r.json()["results"][1]["flagged"], true);

    let r = Request::post("/v1/moderations", "{}").send(m.addr);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");

    let inputs = m.inputs();
    assert_eq!(inputs.len(), 6, "{inputs:?}");
    assert_eq!(inputs[0]["input"], "you are TOXIC");
    assert!(m.pid() > 0);
}
