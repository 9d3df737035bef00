//! Streamed response bodies, rewritten as they pass: [`Chunks`] for any chunked body read as
//! text (plain text, NDJSON, a JSON document too large to buffer), [`Events`] for server-sent
//! events (`text/event-stream`: OpenAI `stream: true`, A2A `message/stream`).
//!
//! Both feed a [`Window`] and work in two moves per chunk, so that the exchange can decide
//! between them: [`Chunks::push`] / [`Events::push`] take the chunk and scan (what is found,
//! what is new), then `emit` says what leaves now, with the values found replaced by their
//! `[TYPE]` placeholders when the exchange says to redact. Server-sent events leave whole and
//! in order: an event waits while any of its text is held.

use std::collections::VecDeque;

use crate::detect::{Decoding, Findings, Format, Scanner};
use crate::sse::{self, Event, EventTooLarge, Framer};

use super::window::{Found, Window};
use super::Release;

/// What one chunk brought: the values not seen before and whether the scan was complete.
#[derive(Debug, Default)]
pub struct Pushed {
    pub new: Vec<Found>,
    /// The streamed text the chunk's events carry (server-sent events only), for searches
    /// that read text as it comes (a contract's denied terms).
    pub text: Vec<u8>,
    /// Some view was over its memory budget: the chunk was not scanned whole.
    pub incomplete: bool,
}

/// Replaces the values in `found` that reach into `text` (which lies at `at..` in the
/// stream's text) by placeholders: the first piece of a value gets its `[TYPE]`, a later
/// piece of a value whose placeholder already left gets nothing. `written` remembers the
/// values whose placeholder left.
fn redact_piece(
    text: &[u8],
    at: u64,
    found: &[Found],
    written: &mut Vec<(u64, crate::detect::Kind)>,
    scanner: &Scanner,
) -> Vec<u8> {
    let end = at + len_u64(text.len());
    let mut out = Vec::with_capacity(text.len());
    let mut pos = at;
    for f in found.iter().filter(|f| f.start < end && f.end > at) {
        let start = f.start.max(pos);
        if start >= end {
            continue;
        }
        out.extend_from_slice(slice(text, at, pos..start));
        if !written.contains(&(f.start, f.kind)) {
            written.push((f.start, f.kind));
            out.extend_from_slice(scanner.redaction_placeholder(f.kind).as_bytes());
        }
        pos = f.end.min(end).max(pos);
    }
    out.extend_from_slice(slice(text, at, pos..end));
    out
}

fn slice(text: &[u8], at: u64, range: std::ops::Range<u64>) -> &[u8] {
    let i = |o: u64| usize::try_from(o.saturating_sub(at)).unwrap_or(usize::MAX);
    text.get(i(range.start)..i(range.end).min(text.len()))
        .unwrap_or_default()
}

/// A chunked body read as text.
#[derive(Debug)]
pub struct Chunks {
    window: Window,
    /// The values found that reach into the held text.
    found: Vec<Found>,
    written: Vec<(u64, crate::detect::Kind)>,
}

impl Chunks {
    pub fn new(hold_bytes: usize, release: Release) -> Chunks {
        Chunks {
            window: Window::new(hold_bytes, release),
            found: Vec::new(),
            written: Vec::new(),
        }
    }

    /// Takes a chunk and scans what is held with it.
    pub fn push(&mut self, chunk: &[u8], scanner: &Scanner) -> Pushed {
        self.window.push(chunk);
        let scanned = self.window.scan(scanner);
        self.found = scanned.found;
        Pushed {
            new: scanned.new,
            text: Vec::new(),
            incomplete: scanned.incomplete,
        }
    }

    /// What leaves now (everything, at the end of the stream), redacted when `redact`.
    pub fn emit(&mut self, end_of_stream: bool, redact: bool, scanner: &Scanner) -> Vec<u8> {
        let from = self.window.released();
        let to = self.window.limit(&self.found, end_of_stream);
        let text = self.window.slice(from..to);
        let out = if redact {
            redact_piece(text, from, &self.found, &mut self.written, scanner)
        } else {
            text.to_vec()
        };
        self.window.release(to);
        let base = self.window.released().saturating_sub(4096);
        self.written.retain(|(s, _)| *s >= base);
        out
    }

    /// Bytes held back.
    pub fn held(&self) -> usize {
        self.window.held()
    }
}

/// Where a piece of an event's streamed text lies: in its `data`, and in the stream's text.
#[derive(Debug, Clone)]
struct Piece {
    /// The JSON string's contents in `data` (escapes included), or all of `data` for a
    /// plain-text event.
    data: std::ops::Range<usize>,
    /// The text it stands for, in the stream's text.
    text: std::ops::Range<u64>,
    /// A JSON string (written back escaped) or plain text.
    json: bool,
}

/// An event not yet let go.
#[derive(Debug)]
struct Held {
    event: Event,
    raw: Vec<u8>,
    pieces: Vec<Piece>,
    /// Values in the event's `data` outside its pieces (an id, a tool call's arguments in a
    /// member the filter does not follow), with their spans in `data`.
    own: Vec<(std::ops::Range<usize>, crate::detect::Kind)>,
}

/// What an [`Events`] stream could not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamError {
    /// An event longer than `responses.stream.max_event_bytes`.
    EventTooLarge(EventTooLarge),
}

/// A `text/event-stream` body.
#[derive(Debug)]
pub struct Events {
    framer: Framer,
    window: Window,
    held: VecDeque<Held>,
    found: Vec<Found>,
    written: Vec<(u64, crate::detect::Kind)>,
    /// Bytes of events held, for the bound.
    held_bytes: usize,
}

/// OpenAI's end-of-stream marker: not text.
const DONE: &str = "[DONE]";

impl Events {
    pub fn new(hold_bytes: usize, release: Release, max_event_bytes: usize) -> Events {
        Events {
            framer: Framer::new(max_event_bytes),
            window: Window::new(hold_bytes, release),
            held: VecDeque::new(),
            found: Vec::new(),
            written: Vec::new(),
            held_bytes: 0,
        }
    }

    /// Takes a chunk: the events it completes join the held ones, their text the window, and
    /// what is held is scanned. At the end of the stream, an unfinished event is taken as it is.
    pub fn push(
        &mut self,
        chunk: &[u8],
        end_of_stream: bool,
        scanner: &Scanner,
    ) -> Result<Pushed, StreamError> {
        let mut events = self
            .framer
            .push(chunk)
            .map_err(StreamError::EventTooLarge)?;
        if end_of_stream {
            events.extend(self.framer.finish());
        }
        let mut pushed = Pushed::default();
        for mut event in events {
            let raw = std::mem::take(&mut event.raw);
            let held = self.take(event, raw, scanner, &mut pushed);
            self.held_bytes += held.raw.len();
            self.held.push_back(held);
        }
        let scanned = self.window.scan(scanner);
        pushed.incomplete |= scanned.incomplete;
        pushed.new.extend(scanned.new);
        self.found = scanned.found;
        Ok(pushed)
    }

    /// An event read: its pieces of text into the window, the rest of its data scanned.
    fn take(&mut self, event: Event, raw: Vec<u8>, scanner: &Scanner, pushed: &mut Pushed) -> Held {
        let mut pieces = Vec::new();
        let mut own = Vec::new();
        if let Some(data) = event.data.as_deref() {
            let spans = sse::text_spans(data);
            let is_json = matches!(data.trim_start().as_bytes().first(), Some(b'{' | b'['));
            if spans.is_empty() && !is_json && data != DONE && !data.is_empty() {
                // A plain-text event: its data is the text.
                let at = self.window.end();
                self.window.push(data.as_bytes());
                pushed.text.extend_from_slice(data.as_bytes());
                pieces.push(Piece {
                    data: 0..data.len(),
                    text: at..self.window.end(),
                    json: false,
                });
            } else {
                for s in spans {
                    let at = self.window.end();
                    self.window.push(s.text.as_bytes());
                    pushed.text.extend_from_slice(s.text.as_bytes());
                    pieces.push(Piece {
                        data: s.start..s.end,
                        text: at..self.window.end(),
                        json: true,
                    });
                }
                // The rest of the data, on its own: values outside the streamed text.
                let mut findings = Findings::default();
                scanner.scan_input(
                    data.as_bytes(),
                    Decoding::BODY,
                    Format::Json,
                    &mut findings,
                    |f| {
                        let inside = pieces
                            .iter()
                            .any(|p| f.span.start < p.data.end && p.data.start < f.span.end);
                        if !inside {
                            own.push((f.span.clone(), f.kind));
                        }
                    },
                );
                pushed.incomplete |= findings.incomplete;
                // Each event is scanned once: its own values are new.
                let base = self.window.end();
                pushed.new.extend(own.iter().map(|(_, kind)| Found {
                    kind: *kind,
                    start: base,
                    end: base,
                }));
            }
        }
        Held {
            event,
            raw,
            pieces,
            own,
        }
    }

    /// The events that leave now, in order, as bytes of the stream (redacted events rewritten,
    /// others verbatim); everything at the end of the stream.
    pub fn emit(&mut self, end_of_stream: bool, redact: bool, scanner: &Scanner) -> Vec<u8> {
        let limit = self.window.limit(&self.found, end_of_stream);
        let mut out = Vec::new();
        let mut released = self.window.released();
        while let Some(h) = self.held.front() {
            if h.pieces.iter().any(|p| p.text.end > limit) {
                break;
            }
            let Some(h) = self.held.pop_front() else {
                break;
            };
            self.held_bytes = self.held_bytes.saturating_sub(h.raw.len());
            if let Some(last) = h.pieces.last() {
                released = released.max(last.text.end);
            }
            out.extend_from_slice(&self.rewrite(h, redact, scanner));
        }
        self.window.release(released);
        let base = self.window.released().saturating_sub(4096);
        self.written.retain(|(s, _)| *s >= base);
        out
    }

    /// An event as it leaves: verbatim, or with its values replaced.
    fn rewrite(&mut self, h: Held, redact: bool, scanner: &Scanner) -> Vec<u8> {
        let Some(data) = h.event.data.as_deref() else {
            return h.raw;
        };
        let touched = !h.own.is_empty()
            || h.pieces.iter().any(|p| {
                self.found
                    .iter()
                    .any(|f| f.start < p.text.end && f.end > p.text.start)
            });
        if !redact || !touched {
            return h.raw;
        }
        // Every replacement in `data`, in order: pieces and the event's own values.
        let mut edits: Vec<(std::ops::Range<usize>, Vec<u8>)> = Vec::new();
        for p in &h.pieces {
            let text = self.window.slice(p.text.clone()).to_vec();
            let new = redact_piece(&text, p.text.start, &self.found, &mut self.written, scanner);
            if new != text {
                let written = if p.json {
                    let quoted =
                        serde_json::to_string(&String::from_utf8_lossy(&new)).unwrap_or_default();
                    quoted
                        .get(1..quoted.len().saturating_sub(1))
                        .unwrap_or_default()
                        .as_bytes()
                        .to_vec()
                } else {
                    new
                };
                edits.push((p.data.clone(), written));
            }
        }
        for (span, kind) in &h.own {
            edits.push((
                span.clone(),
                scanner.redaction_placeholder(*kind).as_bytes().to_vec(),
            ));
        }
        edits.sort_by_key(|(r, _)| r.start);
        let bytes = data.as_bytes();
        let mut new_data = Vec::with_capacity(bytes.len());
        let mut pos = 0;
        for (range, with) in edits {
            if range.start < pos {
                continue;
            }
            new_data.extend_from_slice(bytes.get(pos..range.start).unwrap_or_default());
            new_data.extend_from_slice(&with);
            pos = range.end;
        }
        new_data.extend_from_slice(bytes.get(pos..).unwrap_or_default());
        reserialize(&h.raw, &new_data)
    }

    /// Bytes of events held back.
    pub fn held(&self) -> usize {
        self.held_bytes + self.framer.held()
    }
}

/// An event block with its `data` lines replaced by `data` (split at its newlines), every
/// other line (`event`, `id`, `retry`, comments) kept in place.
fn reserialize(raw: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + data.len());
    let mut data_written = false;
    for line in raw_lines(raw) {
        let is_data = line == b"data" || line.starts_with(b"data:");
        if is_data {
            if !data_written {
                for part in data.split(|&b| b == b'\n') {
                    out.extend_from_slice(b"data: ");
                    out.extend_from_slice(part);
                    out.push(b'\n');
                }
                data_written = true;
            }
        } else if !line.is_empty() {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    out.push(b'\n');
    out
}

/// The lines of an event block, without their ends.
fn raw_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .unwrap_or(rest.len());
        let line = rest.get(..end).unwrap_or_default();
        let skip = match (rest.get(end), rest.get(end + 1)) {
            (Some(b'\r'), Some(b'\n')) => 2,
            (Some(_), _) => 1,
            (None, _) => 0,
        };
        rest = rest.get(end + skip..).unwrap_or_default();
        Some(line)
    })
}

fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
