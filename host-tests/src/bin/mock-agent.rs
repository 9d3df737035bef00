//! A mock agent for tests and the demo: an HTTP/1.1 server on loopback that echoes what it
//! received as JSON, or answers with a canned status and body, or with a response shaped by
//! the request's `x-mock-*` headers (chunked streams, server-sent events, gzip, large bodies).
//!
//! ```text
//! mock-agent [--port N] [--record FILE] [--status CODE] [--body TEXT]
//! ```
//!
//! * Prints `listening on 127.0.0.1:PORT` on its first line of stdout (port 0 picks a free one).
//! * `--record FILE` appends JSON lines: `{"stage":"headers",...}` as soon as a request's head
//!   has arrived, then `{"stage":"complete",...}` with its body (so a test can tell a request
//!   whose headers arrived but whose body never did).
//! * A request may ask for its answer with `x-mock-status` and `x-mock-body` headers, for a
//!   delay with `x-mock-delay-ms` (at most 10 s), or for no answer at all with `x-mock-reset`
//!   (the connection is closed).
//! * Keep-alive, `content-length` and chunked bodies (trailers included) are supported.
//!
//! # Shaped answers
//!
//! The body is one of these (the first header present wins, in this order); the status is
//! `x-mock-status` (else `--status`) for every shape:
//!
//! * `x-mock-stream-bytes: N` (0 < N <= 200 MiB) with `x-mock-stream-kind: text|sse` (default
//!   `text`): a generated `transfer-encoding: chunked` stream of N bytes in 16 KiB chunks,
//!   written as fast as the socket takes it, never held whole in memory. `text`: English
//!   words (no digits, no `@`: nothing a detector finds), exactly N bytes. `sse`: OpenAI chat
//!   completion chunk events (`data: {...}` + blank line, about 170 bytes each) cut into the
//!   16 KiB chunks wherever the boundary falls, ending with `data: [DONE]`; at most N bytes
//!   (less by under one event).
//! * `x-mock-json-bytes: N` (16 <= N <= 64 MiB): a JSON object of exactly N bytes,
//!   `{"object":"mock.large","padding":"lorem ipsum ..."}`, with `content-length`.
//! * `x-mock-sse: openai|a2a`: a `text/event-stream`, chunked, one event per chunk, carrying
//!   a text split into pieces: `x-mock-sse-text: TEXT` split into `x-mock-sse-split: N`
//!   (1..=1000, default 1) pieces of nearly equal length in characters, or the pieces given
//!   as a JSON array of strings in `x-mock-sse-pieces`. `openai`: one
//!   `chat.completion.chunk` per piece (`choices[0].delta.content`), then one with an empty
//!   delta and `finish_reason: "stop"`, then `data: [DONE]`. `a2a`: JSON-RPC 2.0 results of
//!   `message/stream` in the A2A v0.3 shape, the `id` of the request's JSON-RPC body (else
//!   1): one `artifact-update` per piece (`artifact.parts[0].text`; `append` false on the
//!   first, true after; `lastChunk` true on the last), then a `status-update` with state
//!   `completed` and `final: true`. `x-mock-sse-eol: lf|crlf|cr` (default `lf`) picks the
//!   line ending of every line of the stream (WHATWG HTML §9.2.6 allows all three).
//! * `x-mock-chunks: JSON array of strings`: `transfer-encoding: chunked`, each string one
//!   HTTP chunk (an empty string is skipped: a zero-size chunk would end the body), no
//!   `content-length`.
//! * Otherwise the echo, `x-mock-body` or `--body`, with `content-length`.
//!
//! Modifiers: `x-mock-chunk-delay-ms: MS` (at most 2000) sleeps between two chunks of
//! `x-mock-chunks` and between two events of `x-mock-sse` (each chunk is flushed to the
//! socket before the pause); `x-mock-content-type: TYPE` replaces the default content type
//! (`application/json`; `text/plain` for chunks and the text stream; `text/event-stream` for
//! events); `x-mock-content-encoding: gzip` compresses the body (`content-encoding: gzip`).
//! A chunked body is compressed as one gzip member whose compressor is flushed (zlib
//! `Z_SYNC_FLUSH`) after every chunk, so that each chunk can be inflated as it arrives, as a
//! streaming server's compressor does.
//!
//! A header value the mock cannot use (not a number, out of bounds, not a JSON array of
//! strings, an unknown kind) is answered `400` with a one-line `text/plain` reason: the
//! mock never hangs on one.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::{json, Value};

struct Options {
    port: u16,
    record: Option<String>,
    status: u16,
    body: Option<String>,
    /// `--manifest`: the answer to `GET /.well-known/agent-manifest` (a gateway's fetch).
    manifest: Option<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        port: 0,
        record: None,
        status: 200,
        body: None,
        manifest: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--port" => o.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--record" => o.record = Some(value()?),
            "--status" => o.status = value()?.parse().map_err(|e| format!("--status: {e}"))?,
            "--body" => o.body = Some(value()?),
            "--manifest" => o.manifest = Some(value()?),
            "-h" | "--help" => {
                return Err(
                    "usage: mock-agent [--port N] [--record FILE] [--status CODE] [--body TEXT] [--manifest JSON]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    trailers: Vec<(String, String)>,
}

fn main() {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let listener = match TcpListener::bind(("127.0.0.1", opts.port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mock-agent: cannot listen on 127.0.0.1:{}: {e}", opts.port);
            std::process::exit(1);
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    println!("listening on {addr}");
    let _ = io::stdout().flush();
    let record = opts.record.as_ref().map(|path| {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap_or_else(|e| {
                eprintln!("mock-agent: cannot open {path}: {e}");
                std::process::exit(1);
            });
        Arc::new(Mutex::new(f))
    });
    let opts = Arc::new(opts);
    for stream in listener.incoming().flatten() {
        let record = record.clone();
        let opts = opts.clone();
        thread::spawn(move || {
            let _ = serve(stream, &opts, record.as_deref());
        });
    }
}

fn serve(
    stream: TcpStream,
    opts: &Options,
    record: Option<&Mutex<std::fs::File>>,
) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let note_headers = |method: &str, path: &str, headers: &[(String, String)]| -> io::Result<()> {
        if let Some(f) = record {
            if let Ok(mut f) = f.lock() {
                let line = json!({"stage": "headers", "method": method, "path": path,
                                  "headers": headers_json(headers)});
                writeln!(f, "{line}")?;
                f.flush()?;
            }
        }
        Ok(())
    };
    while let Some(req) = read_request(&mut reader, &mut writer, &note_headers)? {
        let mut echo = json!({
            "method": req.method,
            "path": req.path,
            "headers": headers_json(&req.headers),
            "trailers": headers_json(&req.trailers),
            "body": String::from_utf8_lossy(&req.body),
            "body_bytes": req.body.len(),
        });
        if std::str::from_utf8(&req.body).is_err() {
            // Binary bodies (OTLP protobuf) also in hex, byte for byte.
            echo["body_hex"] = json!(req
                .body
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>());
        }
        if let Some(f) = record {
            if let Ok(mut f) = f.lock() {
                let mut line = echo.clone();
                line["stage"] = json!("complete");
                writeln!(f, "{line}")?;
                f.flush()?;
            }
        }
        let header = |n: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
        };
        if header("x-mock-reset").is_some() {
            // Hang up without an answer: Envoy sees an upstream reset.
            return Ok(());
        }
        if let Some(ms) = header("x-mock-delay-ms").and_then(|v| v.parse::<u64>().ok()) {
            thread::sleep(std::time::Duration::from_millis(ms.min(10_000)));
        }
        let close = header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let status = header("x-mock-status")
            .and_then(|s| s.parse().ok())
            .unwrap_or(opts.status);
        let default_body = || {
            header("x-mock-body")
                .or_else(|| {
                    // An agent's own manifest (the gateway's fetch), when given one.
                    opts.manifest
                        .clone()
                        .filter(|_| req.path == "/.well-known/agent-manifest")
                })
                .or_else(|| opts.body.clone())
                .unwrap_or_else(|| echo.to_string())
        };
        match shape(&req, default_body) {
            Ok(shape) => answer(&mut writer, status, &shape, close, req.method == "HEAD")?,
            Err(reason) => {
                let reason = format!("{reason}\n");
                write!(
                    writer,
                    "HTTP/1.1 400 Bad Mock Header\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{}\r\n{reason}",
                    reason.len(),
                    if close { "connection: close\r\n" } else { "" }
                )?;
            }
        }
        writer.flush()?;
        if close {
            break;
        }
    }
    Ok(())
}

fn headers_json(headers: &[(String, String)]) -> Value {
    let mut map: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, v) in headers {
        map.entry(k).or_default().push(v);
    }
    Value::Object(
        map.into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.join(", "))))
            .collect(),
    )
}

fn read_line(r: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    if r.read_until(b'\n', &mut line)? == 0 {
        return Ok(None);
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

fn read_fields(r: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    while let Some(line) = read_line(r)? {
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    Ok(out)
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

type HeadersSeen<'a> = &'a dyn Fn(&str, &str, &[(String, String)]) -> io::Result<()>;

fn read_request(
    r: &mut impl BufRead,
    continue_100: &mut impl Write,
    headers_seen: HeadersSeen,
) -> io::Result<Option<Request>> {
    let Some(line) = read_line(r)? else {
        return Ok(None);
    };
    let mut parts = line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let headers = read_fields(r)?;
    headers_seen(&method, &path, &headers)?;
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    if get("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        continue_100.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        continue_100.flush()?;
    }
    let mut body = Vec::new();
    let mut trailers = Vec::new();
    if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let size_line = read_line(r)?.ok_or_else(|| bad("eof in chunk size"))?;
            let size_hex = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_hex, 16).map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                trailers = read_fields(r)?;
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..])?;
            read_line(r)?;
        }
    } else if let Some(len) = get("content-length") {
        let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        body.resize(len, 0);
        r.read_exact(&mut body)?;
    }
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
        trailers,
    }))
}

/// The largest generated stream (`x-mock-stream-bytes`).
const MAX_STREAM_BYTES: u64 = 200 * 1024 * 1024;
/// The largest generated JSON body (`x-mock-json-bytes`), built in memory.
const MAX_JSON_BYTES: usize = 64 * 1024 * 1024;
/// The size of a generated stream's chunks.
const STREAM_CHUNK: usize = 16 * 1024;
/// The longest pause between two chunks or events (`x-mock-chunk-delay-ms`).
const MAX_CHUNK_DELAY_MS: u64 = 2000;
/// The most pieces `x-mock-sse-split` cuts a text into.
const MAX_SSE_SPLIT: usize = 1000;

/// Clean words for generated bodies: no digits, no `@`, nothing a detector finds.
const WORDS: [&str; 12] = [
    "lorem", "ipsum", "dolor", "sit", "amet", "quick", "brown", "fox", "jumps", "over", "the",
    "lazy",
];

/// The SSE line ending (`x-mock-sse-eol`).
#[derive(Clone, Copy)]
enum Eol {
    Lf,
    CrLf,
    Cr,
}

impl Eol {
    fn as_str(self) -> &'static str {
        match self {
            Eol::Lf => "\n",
            Eol::CrLf => "\r\n",
            Eol::Cr => "\r",
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum StreamKind {
    Text,
    Sse,
}

/// What the answer's body is.
enum Body {
    /// Whole, with `content-length`.
    Whole(Vec<u8>),
    /// These chunks, one HTTP chunk each, with a pause between two.
    Chunks(Vec<Vec<u8>>, u64),
    /// A generated stream of this many bytes.
    Generated(u64, StreamKind),
}

struct Shape {
    content_type: String,
    gzip: bool,
    body: Body,
}

/// Reads the `x-mock-*` headers that shape the answer; `Err` is the 400's reason.
fn shape(req: &Request, default_body: impl FnOnce() -> String) -> Result<Shape, String> {
    let header = |n: &str| {
        req.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let gzip = match header("x-mock-content-encoding") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("gzip") => true,
        Some(_) => return Err("x-mock-content-encoding: only gzip is supported".into()),
    };
    let delay = match header("x-mock-chunk-delay-ms") {
        None => 0,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms <= MAX_CHUNK_DELAY_MS)
            .ok_or(format!(
                "x-mock-chunk-delay-ms: a whole number of milliseconds up to {MAX_CHUNK_DELAY_MS}"
            ))?,
    };
    let (default_type, body) = if let Some(n) = header("x-mock-stream-bytes") {
        let n = n
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_STREAM_BYTES).contains(n))
            .ok_or(format!(
                "x-mock-stream-bytes: a number of bytes from 1 to {MAX_STREAM_BYTES}"
            ))?;
        let kind = match header("x-mock-stream-kind") {
            None | Some("text") => StreamKind::Text,
            Some("sse") => StreamKind::Sse,
            Some(_) => return Err("x-mock-stream-kind: text or sse".into()),
        };
        let t = match kind {
            StreamKind::Text => "text/plain",
            StreamKind::Sse => "text/event-stream",
        };
        (t, Body::Generated(n, kind))
    } else if let Some(n) = header("x-mock-json-bytes") {
        let n = n
            .parse::<usize>()
            .ok()
            .filter(|n| (16..=MAX_JSON_BYTES).contains(n))
            .ok_or(format!(
                "x-mock-json-bytes: a number of bytes from 16 to {MAX_JSON_BYTES}"
            ))?;
        ("application/json", Body::Whole(json_of_size(n)))
    } else if let Some(kind) = header("x-mock-sse") {
        let eol = match header("x-mock-sse-eol") {
            None | Some("lf") => Eol::Lf,
            Some("crlf") => Eol::CrLf,
            Some("cr") => Eol::Cr,
            Some(_) => return Err("x-mock-sse-eol: lf, crlf or cr".into()),
        };
        let pieces = match (header("x-mock-sse-pieces"), header("x-mock-sse-text")) {
            (Some(p), _) => string_array(p).ok_or("x-mock-sse-pieces: a JSON array of strings")?,
            (None, Some(text)) => {
                let n = match header("x-mock-sse-split") {
                    None => 1,
                    Some(v) => v
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_SSE_SPLIT).contains(n))
                        .ok_or(format!(
                            "x-mock-sse-split: a number from 1 to {MAX_SSE_SPLIT}"
                        ))?,
                };
                split_text(text, n)
            }
            (None, None) => {
                return Err("x-mock-sse needs x-mock-sse-text or x-mock-sse-pieces".into())
            }
        };
        let events = match kind {
            "openai" => openai_events(&pieces),
            "a2a" => a2a_events(&pieces, jsonrpc_id(&req.body)),
            _ => return Err("x-mock-sse: openai or a2a".into()),
        };
        let chunks = events.iter().map(|e| sse_event(e, eol)).collect();
        ("text/event-stream", Body::Chunks(chunks, delay))
    } else if let Some(chunks) = header("x-mock-chunks") {
        let chunks = string_array(chunks).ok_or("x-mock-chunks: a JSON array of strings")?;
        let chunks = chunks.into_iter().map(String::into_bytes).collect();
        ("text/plain", Body::Chunks(chunks, delay))
    } else {
        ("application/json", Body::Whole(default_body().into_bytes()))
    };
    Ok(Shape {
        content_type: header("x-mock-content-type")
            .unwrap_or(default_type)
            .to_string(),
        gzip,
        body,
    })
}

fn string_array(text: &str) -> Option<Vec<String>> {
    match serde_json::from_str::<Value>(text).ok()? {
        Value::Array(a) => a
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// `text` cut into `n` pieces of nearly equal length in characters (fewer when the text is
/// shorter than `n` characters; one empty piece for an empty text).
fn split_text(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let n = n.min(chars.len()).max(1);
    let (base, extra) = (chars.len() / n, chars.len() % n);
    let mut out = Vec::with_capacity(n);
    let mut rest = chars.as_slice();
    for i in 0..n {
        let (piece, tail) = rest.split_at(base + usize::from(i < extra));
        out.push(piece.iter().collect());
        rest = tail;
    }
    out
}

/// The JSON-RPC `id` of a request body, else 1.
fn jsonrpc_id(body: &[u8]) -> Value {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(json!(1))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// OpenAI chat completion chunks (`stream: true`), as the API streams them: one per piece,
/// then the empty delta with `finish_reason: "stop"`, then `[DONE]`.
fn openai_events(pieces: &[String]) -> Vec<String> {
    let created = unix_now();
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": created,
               "model": "mock-model", "system_fingerprint": null,
               "choices": [{"index": 0, "delta": delta, "logprobs": null,
                            "finish_reason": finish}]})
        .to_string()
    };
    let mut out = Vec::with_capacity(pieces.len() + 2);
    for (i, p) in pieces.iter().enumerate() {
        let delta = if i == 0 {
            json!({"role": "assistant", "content": p})
        } else {
            json!({"content": p})
        };
        out.push(chunk(delta, Value::Null));
    }
    out.push(chunk(json!({}), json!("stop")));
    out.push("[DONE]".to_string());
    out
}

/// A2A v0.3 `message/stream` results: an `artifact-update` per piece, then the final
/// `status-update` (A2A v0.3 §7.2, `SendStreamingMessageResponse`).
fn a2a_events(pieces: &[String], id: Value) -> Vec<String> {
    let (task, context) = ("task-mock-1", "context-mock-1");
    let last = pieces.len().saturating_sub(1);
    let mut out: Vec<String> = pieces
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({"jsonrpc": "2.0", "id": id, "result": {
                "kind": "artifact-update", "taskId": task, "contextId": context,
                "artifact": {"artifactId": "artifact-mock-1",
                             "parts": [{"kind": "text", "text": p}]},
                "append": i > 0, "lastChunk": i == last}})
            .to_string()
        })
        .collect();
    out.push(
        json!({"jsonrpc": "2.0", "id": id, "result": {
            "kind": "status-update", "taskId": task, "contextId": context,
            "status": {"state": "completed", "timestamp": "2025-01-01T00:00:00Z"},
            "final": true}})
        .to_string(),
    );
    out
}

fn sse_event(data: &str, eol: Eol) -> Vec<u8> {
    let e = eol.as_str();
    format!("data: {data}{e}{e}").into_bytes()
}

/// A JSON object of exactly `n` bytes (`n` >= 16).
fn json_of_size(n: usize) -> Vec<u8> {
    let head = br#"{"object":"mock.large","padding":""#;
    let mut out = Vec::with_capacity(n);
    out.extend_from_slice(head);
    let room = n.saturating_sub(head.len() + 2);
    fill_words(&mut out, room);
    out.extend_from_slice(b"\"}");
    // Below the head's size the object is its head alone: still valid, a little longer.
    out
}

/// Appends exactly `n` bytes of space-separated clean words.
fn fill_words(out: &mut Vec<u8>, n: usize) {
    let start = out.len();
    let mut i = 0;
    while out.len() - start < n {
        let w = WORDS.get(i % WORDS.len()).copied().unwrap_or("lorem");
        out.extend_from_slice(w.as_bytes());
        out.push(b' ');
        i += 1;
    }
    out.truncate(start + n);
}

/// Writes HTTP chunks, gzip-compressing them (one member, flushed per chunk) when asked.
struct ChunkWriter<'a, W: Write> {
    out: &'a mut W,
    gzip: Option<flate2::write::GzEncoder<Vec<u8>>>,
}

impl<W: Write> ChunkWriter<'_, W> {
    fn chunk(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.gzip {
            Some(z) => {
                z.write_all(data)?;
                z.flush()?;
                let compressed = std::mem::take(z.get_mut());
                raw_chunk(self.out, &compressed)
            }
            None => raw_chunk(self.out, data),
        }
    }

    fn finish(self) -> io::Result<()> {
        if let Some(z) = self.gzip {
            let tail = z.finish()?;
            raw_chunk(self.out, &tail)?;
        }
        self.out.write_all(b"0\r\n\r\n")?;
        self.out.flush()
    }
}

fn raw_chunk(out: &mut impl Write, data: &[u8]) -> io::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    write!(out, "{:x}\r\n", data.len())?;
    out.write_all(data)?;
    out.write_all(b"\r\n")?;
    out.flush()
}

fn gzip_whole(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data)?;
    z.finish()
}

fn answer(
    w: &mut TcpStream,
    status: u16,
    shape: &Shape,
    close: bool,
    head: bool,
) -> io::Result<()> {
    let mut headers = format!(
        "HTTP/1.1 {status} Mock\r\ncontent-type: {}\r\n",
        shape.content_type
    );
    if shape.gzip {
        headers.push_str("content-encoding: gzip\r\n");
    }
    if close {
        headers.push_str("connection: close\r\n");
    }
    if let Body::Whole(body) = &shape.body {
        let body = if shape.gzip {
            gzip_whole(body)?
        } else {
            body.clone()
        };
        write!(w, "{headers}content-length: {}\r\n\r\n", body.len())?;
        if !head {
            w.write_all(&body)?;
        }
        return w.flush();
    }
    write!(w, "{headers}transfer-encoding: chunked\r\n\r\n")?;
    if head {
        return w.flush();
    }
    let level = match shape.body {
        // A generated stream is large: the fastest level keeps the mock from being the
        // bottleneck.
        Body::Generated(..) => flate2::Compression::fast(),
        _ => flate2::Compression::default(),
    };
    let mut out = ChunkWriter {
        out: w,
        gzip: shape
            .gzip
            .then(|| flate2::write::GzEncoder::new(Vec::new(), level)),
    };
    match &shape.body {
        Body::Whole(_) => {}
        Body::Chunks(chunks, delay) => {
            for (i, c) in chunks.iter().enumerate() {
                if i > 0 && *delay > 0 {
                    thread::sleep(std::time::Duration::from_millis(*delay));
                }
                out.chunk(c)?;
            }
        }
        Body::Generated(n, kind) => generate(&mut out, *n, *kind)?,
    }
    out.finish()
}

/// Writes a generated stream of `n` bytes in `STREAM_CHUNK`-byte chunks.
fn generate<W: Write>(out: &mut ChunkWriter<'_, W>, n: u64, kind: StreamKind) -> io::Result<()> {
    let mut sent: u64 = 0;
    let mut buf: Vec<u8> = Vec::with_capacity(STREAM_CHUNK * 2);
    let done = b"data: [DONE]\n\n";
    let mut word = 0usize;
    let mut text_block: Vec<u8> = Vec::new();
    let created = unix_now();
    loop {
        // Fill the buffer to one chunk (or the rest of the stream).
        let left = n - sent;
        let want = usize::try_from(left.min(STREAM_CHUNK as u64)).unwrap_or(STREAM_CHUNK);
        match kind {
            StreamKind::Text => {
                // The same block of words every chunk: generating is then no slower than
                // the socket.
                if text_block.is_empty() {
                    fill_words(&mut text_block, STREAM_CHUNK);
                }
                buf.clear();
                buf.extend_from_slice(text_block.get(..want).unwrap_or_default());
            }
            StreamKind::Sse => {
                while buf.len() < want {
                    let w = WORDS.get(word % WORDS.len()).copied().unwrap_or("lorem");
                    word += 1;
                    let event = format!(
                        "data: {{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":{created},\"model\":\"mock-model\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{w} \"}},\"finish_reason\":null}}]}}\n\n"
                    );
                    // The stream ends with [DONE] within n bytes: stop adding events when
                    // this one and [DONE] would not fit.
                    let after = sent + (buf.len() + event.len() + done.len()) as u64;
                    if after > n {
                        break;
                    }
                    buf.extend_from_slice(event.as_bytes());
                }
            }
        }
        let take = want.min(buf.len());
        if take == 0 {
            break;
        }
        out.chunk(buf.get(..take).unwrap_or_default())?;
        buf.drain(..take);
        sent += take as u64;
        if sent >= n {
            break;
        }
    }
    if kind == StreamKind::Sse {
        out.chunk(done)?;
    }
    Ok(())
}
