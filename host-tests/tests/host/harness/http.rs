//! A small HTTP/1.1 client over a raw socket: full control over what goes on the wire
//! (chunked bodies, trailers, bytes that are not UTF-8), one connection per request.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn header_count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .count()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A request to send. `Connection: close` and `Host` are added unless given.
#[derive(Debug, Clone, Default)]
pub struct Request {
    method: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Option<Vec<u8>>,
    chunks: Option<Vec<Vec<u8>>>,
    trailers: Vec<(String, String)>,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            ..Request::default()
        }
    }

    pub fn get(path: &str) -> Request {
        Request::new("GET", path)
    }

    pub fn post(path: &str, body: impl AsRef<[u8]>) -> Request {
        Request::new("POST", path)
            .header("content-type", "application/json")
            .body(body)
    }

    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Request {
        self.headers.push((name.into(), value.as_ref().to_vec()));
        self
    }

    pub fn body(mut self, body: impl AsRef<[u8]>) -> Request {
        self.body = Some(body.as_ref().to_vec());
        self
    }

    /// Sends the body with `Transfer-Encoding: chunked`, one chunk per element, then these
    /// trailers.
    pub fn chunked(mut self, chunks: Vec<Vec<u8>>, trailers: &[(&str, &str)]) -> Request {
        self.chunks = Some(chunks);
        self.trailers = trailers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.path).into_bytes();
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
        };
        if !self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("host"))
        {
            out.extend_from_slice(b"host: agent.test\r\n");
        }
        for (k, v) in &self.headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        if !has("connection") {
            out.extend_from_slice(b"connection: close\r\n");
        }
        if let Some(chunks) = &self.chunks {
            out.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
            for c in chunks {
                out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                out.extend_from_slice(c);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n");
            for (k, v) in &self.trailers {
                out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        } else if let Some(body) = &self.body {
            out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
            out.extend_from_slice(body);
        } else {
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    pub fn send(&self, addr: SocketAddr) -> Response {
        send_raw(addr, &self.to_bytes())
    }
}

/// Sends raw bytes and reads the response until the server closes the connection.
pub fn send_raw(addr: SocketAddr, bytes: &[u8]) -> Response {
    try_send_raw(addr, bytes).unwrap_or_else(|e| panic!("{e}"))
}

pub fn try_send_raw(addr: SocketAddr, bytes: &[u8]) -> Result<Response, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    s.write_all(bytes)
        .map_err(|e| format!("write to {addr}: {e}"))?;
    try_read_response(&mut s)
}

/// The response on a connection whose request has been written.
pub fn read_response(s: &mut TcpStream) -> Response {
    try_read_response(s).unwrap_or_else(|e| panic!("{e}"))
}

/// The response on a connection whose request has been written, or why none came whole
/// (a timeout of 20 s, a connection closed before the response was complete).
pub fn try_read_response(s: &mut TcpStream) -> Result<Response, String> {
    let addr = s.peer_addr().map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    // Read until the response is complete (by its length or last chunk) or the peer closes.
    while !is_complete(&raw) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            // A timeout is a failure; a reset after a complete response is fine (Envoy may
            // close hard after a local reply while the request body is still arriving).
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!(
                    "no complete response from {addr} within 20 s; got so far: {}",
                    String::from_utf8_lossy(&raw)
                ));
            }
            Err(_) => break,
        }
    }
    parse_response(&raw)
}

/// True once `raw` holds a whole response: head, then `content-length` bytes or the last
/// chunk. Without either, the response ends when the peer closes.
fn is_complete(raw: &[u8]) -> bool {
    let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let body = &raw[head_end + 4..];
    if head.starts_with("http/1.1 1")
        || head.contains("\r\ntransfer-encoding: chunked") && body.ends_with(b"0\r\n\r\n")
    {
        return true;
    }
    head.split("\r\n")
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .is_some_and(|n| body.len() >= n)
}

fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("incomplete response: {:?}", String::from_utf8_lossy(raw)))?;
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[head_end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        data = &data[eol + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[(size + 2).min(data.len())..];
    }
    out
}

/// GET over a fresh connection, for the admin endpoint.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    Request::get(path).send(addr)
}

/// GET that may fail (a server still starting, or going away).
pub fn try_get(addr: SocketAddr, path: &str) -> Option<Response> {
    try_send_raw(addr, &Request::get(path).to_bytes()).ok()
}

/// One HTTP/2 request (cleartext, prior knowledge) through `host-tests/py/h2_request.py`, for
/// what HTTP/1.1 cannot carry: any token as the method, trailers Envoy keeps. `headers` and
/// `trailers` are `name: value`.
pub fn send_h2(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[&str],
    body: Option<&str>,
    trailers: &[&str],
) -> Response {
    let mut cmd = std::process::Command::new(super::paths::repo().join(".venv/bin/python"));
    cmd.arg(super::paths::repo().join("host-tests/py/h2_request.py"))
        .arg(addr.to_string())
        .arg(method)
        .arg(path);
    for h in headers {
        cmd.arg(format!("--header={h}"));
    }
    for t in trailers {
        cmd.arg(format!("--trailer={t}"));
    }
    if let Some(b) = body {
        cmd.arg(format!("--body={b}"));
    }
    let out = cmd.output().expect("python for the HTTP/2 client");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "h2_request.py: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(text.trim()).expect("h2_request.py prints JSON");
    Response {
        status: v["status"].as_u64().unwrap_or(0) as u16,
        headers: v["headers"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        body: v["body"].as_str().unwrap_or_default().as_bytes().to_vec(),
    }
}

/// What an HTTPS request came to: a response, or why none came (the TLS handshake was
/// refused, the connection closed): the Python exception's class and text.
pub type TlsOutcome = Result<Response, String>;

/// One HTTPS request (HTTP/1.1) through `host-tests/py/https_request.py`, verifying the server
/// with `ca` and presenting `client` (certificate and key) when given. Bodies are text;
/// chunked bodies and trailers are not supported here.
pub fn send_tls(
    addr: SocketAddr,
    ca: &std::path::Path,
    client: Option<&super::pki::ClientCert>,
    req: &Request,
) -> TlsOutcome {
    assert!(req.chunks.is_none(), "send_tls sends no chunked bodies");
    let mut cmd = std::process::Command::new(super::paths::python());
    cmd.arg(super::paths::repo().join("host-tests/py/https_request.py"))
        .arg(addr.to_string())
        .arg(&req.method)
        .arg(&req.path)
        .arg("--cacert")
        .arg(ca);
    if let Some(c) = client {
        cmd.arg("--cert").arg(&c.cert).arg("--key").arg(&c.key);
    }
    for (k, v) in &req.headers {
        cmd.arg(format!("--header={k}: {}", String::from_utf8_lossy(v)));
    }
    if let Some(b) = &req.body {
        cmd.arg(format!("--body={}", String::from_utf8_lossy(b)));
    }
    let out = cmd.output().expect("python for https_request.py");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "https_request.py: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(text.trim()).expect("https_request.py prints JSON");
    if let Some(e) = v["error"].as_str() {
        return Err(format!("{e}: {}", v["detail"].as_str().unwrap_or_default()));
    }
    Ok(Response {
        status: v["status"].as_u64().unwrap_or(0) as u16,
        headers: v["headers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        (
                            p[0].as_str().unwrap_or_default().to_string(),
                            p[1].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        body: v["body"].as_str().unwrap_or_default().as_bytes().to_vec(),
    })
}
