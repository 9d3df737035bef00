//! Responses as they arrive: an HTTP/1.1 client that time-stamps each body chunk (time to
//! first byte, the pause between events, whether a stream was delivered piece by piece), a
//! parser of server-sent events for assertions, and Envoy's resident memory sampled while a
//! request runs.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::http::Request;

/// One piece of a response body as it arrived.
#[derive(Debug, Clone)]
pub struct BodyChunk {
    /// When its last byte was read, from the moment the request was written.
    pub at: Duration,
    /// Its size in bytes (also when its bytes were not kept).
    pub len: usize,
    /// Its bytes (empty when the stream was read with `keep_data: false`).
    pub data: Vec<u8>,
}

/// A response read as a stream.
#[derive(Debug, Clone)]
pub struct Streamed {
    pub status: u16,
    /// Names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    /// When the response head was complete.
    pub head_at: Duration,
    /// For a chunked response, one entry per HTTP chunk (the framing Envoy wrote); otherwise
    /// one per socket read of the body.
    pub chunks: Vec<BodyChunk>,
    /// Body bytes received (after removing the chunked framing).
    pub body_bytes: u64,
    /// True when the body ended as its framing says (last chunk, or `content-length` bytes);
    /// false when the connection closed or failed first.
    pub complete: bool,
    /// Why reading stopped early (a read error or timeout), when it did.
    pub error: Option<String>,
    /// When reading stopped.
    pub ended_at: Duration,
}

impl Streamed {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body's bytes joined (empty when they were not kept).
    pub fn body(&self) -> Vec<u8> {
        self.chunks
            .iter()
            .flat_map(|c| c.data.iter().copied())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body()).into_owned()
    }

    /// When the first body byte arrived (time to first byte of the body).
    pub fn first_byte_at(&self) -> Option<Duration> {
        self.chunks.first().map(|c| c.at)
    }

    /// The pauses between consecutive chunks.
    pub fn gaps(&self) -> Vec<Duration> {
        self.chunks
            .windows(2)
            .map(|w| w[1].at.saturating_sub(w[0].at))
            .collect()
    }
}

/// How to read a streamed response.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Keep the body's bytes (false for very large streams: sizes and times only).
    pub keep_data: bool,
    /// The longest wait for the next bytes.
    pub read_timeout: Duration,
}

impl Default for StreamOptions {
    fn default() -> StreamOptions {
        StreamOptions {
            keep_data: true,
            read_timeout: Duration::from_secs(20),
        }
    }
}

/// Sends `req` to `addr` and reads its response as it arrives, chunk by chunk.
pub fn send_streaming(addr: SocketAddr, req: &Request, opts: &StreamOptions) -> Streamed {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(opts.read_timeout)).unwrap();
    let bytes = req.to_bytes();
    let start = Instant::now();
    s.write_all(&bytes)
        .unwrap_or_else(|e| panic!("write to {addr}: {e}"));
    read_streaming(&mut s, start, opts)
}

/// How the body is framed.
enum Framing {
    Chunked,
    Length(u64),
    UntilClose,
}

fn read_streaming(s: &mut TcpStream, start: Instant, opts: &StreamOptions) -> Streamed {
    let mut buf = vec![0u8; 256 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut out = Streamed {
        status: 0,
        headers: Vec::new(),
        head_at: Duration::ZERO,
        chunks: Vec::new(),
        body_bytes: 0,
        complete: false,
        error: None,
        ended_at: Duration::ZERO,
    };
    let mut framing: Option<Framing> = None;
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                out.error = Some(format!("{:?}: {e}", e.kind()));
                break;
            }
        };
        let at = start.elapsed();
        pending.extend_from_slice(&buf[..n]);
        if framing.is_none() {
            let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            pending.drain(..end + 4);
            let mut lines = head.split("\r\n");
            let status_line = lines.next().unwrap_or_default();
            out.status = status_line
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
            if (100..200).contains(&out.status) {
                // An interim response: the real one follows.
                continue;
            }
            out.headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            out.head_at = at;
            framing = Some(
                if out
                    .header("transfer-encoding")
                    .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
                {
                    Framing::Chunked
                } else if let Some(n) = out.header("content-length") {
                    Framing::Length(n.parse().expect("content-length"))
                } else {
                    Framing::UntilClose
                },
            );
        }
        let keep = |data: &[u8], out: &mut Streamed| {
            out.body_bytes += data.len() as u64;
            out.chunks.push(BodyChunk {
                at,
                len: data.len(),
                data: if opts.keep_data {
                    data.to_vec()
                } else {
                    Vec::new()
                },
            });
        };
        match framing {
            Some(Framing::Chunked) => {
                // As many whole chunks as have arrived.
                while let Some(eol) = pending.windows(2).position(|w| w == b"\r\n") {
                    let size_text = String::from_utf8_lossy(&pending[..eol]).into_owned();
                    let size =
                        usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                            .unwrap_or_else(|_| panic!("bad chunk size line {size_text:?}"));
                    if size == 0 {
                        // The last chunk; trailers (if any) end with an empty line.
                        let rest = &pending[eol + 2..];
                        if rest.starts_with(b"\r\n") || rest.windows(4).any(|w| w == b"\r\n\r\n") {
                            out.complete = true;
                        }
                        break;
                    }
                    if pending.len() < eol + 2 + size + 2 {
                        break;
                    }
                    let data = pending[eol + 2..eol + 2 + size].to_vec();
                    pending.drain(..eol + 2 + size + 2);
                    keep(&data, &mut out);
                }
            }
            Some(Framing::Length(n)) => {
                if !pending.is_empty() {
                    let data = std::mem::take(&mut pending);
                    keep(&data, &mut out);
                }
                out.complete = out.body_bytes >= n;
            }
            Some(Framing::UntilClose) => {
                let data = std::mem::take(&mut pending);
                keep(&data, &mut out);
            }
            None => {}
        }
        if out.complete {
            break;
        }
    }
    assert!(
        framing.is_some(),
        "no response head ({:?}); got: {:?}",
        out.error,
        String::from_utf8_lossy(&pending)
    );
    out.ended_at = start.elapsed();
    out
}

/// One server-sent event (WHATWG HTML §9.2.6, "Interpreting an event stream").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// `event:` (empty when not given: the type is then "message").
    pub event: String,
    /// The `data:` lines joined with LF.
    pub data: String,
    /// `id:` (last one seen in the event).
    pub id: Option<String>,
    /// `retry:` when all digits.
    pub retry: Option<u64>,
}

/// Parses a whole event stream into its events, by the WHATWG rules: lines end with CRLF, LF
/// or CR; a leading U+FEFF is skipped; `:` starts a comment; a field's value loses one
/// leading space; an empty line dispatches the event (no event when no `data` field was
/// seen); an event not ended by an empty line at the end of the stream is discarded.
/// Stricter than a browser for tests: the stream must be UTF-8, every non-empty line must be
/// a comment or one of the fields `data`, `event`, `id`, `retry`, and the stream must not end
/// inside an event; anything else is an `Err` saying where.
pub fn parse_sse(body: &[u8]) -> Result<Vec<SseEvent>, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8: {e}"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut events = Vec::new();
    let mut data: Option<String> = None;
    let mut event = String::new();
    let mut id = None;
    let mut retry = None;
    let mut in_event = false;
    let mut rest = text;
    let mut line_no = 0;
    while !rest.is_empty() {
        line_no += 1;
        let end = rest
            .find(['\r', '\n'])
            .ok_or_else(|| format!("line {line_no} is not ended by CR, LF or CRLF: {rest:?}"))?;
        let line = &rest[..end];
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        rest = &rest[end + skip..];
        if line.is_empty() {
            if let Some(d) = data.take() {
                events.push(SseEvent {
                    event: std::mem::take(&mut event),
                    data: d,
                    id: id.take(),
                    retry: retry.take(),
                });
            } else {
                event.clear();
            }
            in_event = false;
            continue;
        }
        in_event = true;
        if line.starts_with(':') {
            continue;
        }
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match name {
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_string()),
            },
            "event" => event = value.to_string(),
            "id" => id = Some(value.to_string()),
            "retry" => retry = value.parse().ok(),
            _ => return Err(format!("line {line_no}: unknown field {name:?}: {line:?}")),
        }
    }
    if in_event {
        return Err("the stream ends inside an event (no empty line after it)".into());
    }
    Ok(events)
}

/// The resident set size of process `pid` in KiB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS")
}

/// The peak resident set size of process `pid` since it started, in KiB (`VmHWM` of
/// `/proc/PID/status`): catches a peak between two samples.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM")
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Samples a process's RSS on a thread until stopped.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Vec<(Duration, u64)>>,
}

impl RssSampler {
    /// Samples `pid` every `every` (first sample at once).
    pub fn start(pid: u32, every: Duration) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let mut samples = Vec::new();
            // Bounded: at most ten minutes of samples.
            while !flag.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(600) {
                if let Some(kib) = rss_kib(pid) {
                    samples.push((start.elapsed(), kib));
                }
                std::thread::sleep(every);
            }
            samples
        });
        RssSampler { stop, handle }
    }

    /// Stops sampling: `(time since start, RSS in KiB)` for each sample.
    pub fn stop(self) -> Vec<(Duration, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().expect("RSS sampler thread")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(data: &str) -> SseEvent {
        SseEvent {
            event: String::new(),
            data: data.into(),
            id: None,
            retry: None,
        }
    }

    #[test]
    fn parse_sse_reads_every_line_ending_and_field() {
        for eol in ["\n", "\r\n", "\r"] {
            let s = format!(
                "\u{feff}: comment{eol}event: delta{eol}id: 7{eol}retry: 10{eol}data: a{eol}data:b{eol}{eol}data{eol}{eol}event: ignored{eol}{eol}"
            );
            let got = parse_sse(s.as_bytes()).unwrap();
            assert_eq!(
                got,
                vec![
                    SseEvent {
                        event: "delta".into(),
                        data: "a\nb".into(),
                        id: Some("7".into()),
                        retry: Some(10)
                    },
                    ev("")
                ],
                "{eol:?}"
            );
        }
    }

    #[test]
    fn parse_sse_refuses_bad_framing() {
        assert!(
            parse_sse(b"data: x\n").is_err(),
            "no empty line after the event"
        );
        assert!(parse_sse(b"data: x").is_err(), "no line ending");
        assert!(parse_sse(b"dta: x\n\n").is_err(), "unknown field");
        assert!(parse_sse(b"data: \xff\n\n").is_err(), "not UTF-8");
        assert_eq!(parse_sse(b"").unwrap(), vec![]);
    }
}
