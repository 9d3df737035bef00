//! A mock agent for tests and the demo: an HTTP/1.1 server on loopback that echoes what it
//! received as JSON, or answers with a canned status and body.
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
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        port: 0,
        record: None,
        status: 200,
        body: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--port" => o.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--record" => o.record = Some(value()?),
            "--status" => o.status = value()?.parse().map_err(|e| format!("--status: {e}"))?,
            "--body" => o.body = Some(value()?),
            "-h" | "--help" => {
                return Err(
                    "usage: mock-agent [--port N] [--record FILE] [--status CODE] [--body TEXT]"
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
        let status = header("x-mock-status")
            .and_then(|s| s.parse().ok())
            .unwrap_or(opts.status);
        let body = header("x-mock-body")
            .or_else(|| opts.body.clone())
            .unwrap_or_else(|| echo.to_string());
        let close = header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
        write!(
            writer,
            "HTTP/1.1 {status} Mock\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{}\r\n",
            body.len(),
            if close { "connection: close\r\n" } else { "" }
        )?;
        if req.method != "HEAD" {
            writer.write_all(body.as_bytes())?;
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
