//! Streamed response bodies, rewritten as they pass: [`Chunks`] for any chunked body read as
//! text (plain text, NDJSON, a JSON document too large to buffer), [`Events`] for server-sent
//! events (`text/event-stream`: OpenAI `stream: true`, A2A `message/stream`).
//!
//! Both feed [`Window`]s and work in two moves per chunk, so that the exchange can decide
//! between them: [`Chunks::push`] / [`Events::push`] take the chunk and scan (what is found,
//! what is new), then `emit` says what leaves now, with the values found replaced by their
//! `[TYPE]` placeholders when the exchange says to redact. Server-sent events leave whole and
//! in order: an event waits while any of its text is held. Each stream of text a client joins
//! across events (a path such as `choices.0.delta.content`) has a window of its own.
//!
//! `emit` can also give what left as the events log it ([`Rendering::Log`]): every value the
//! windows know replaced by its `[TYPE_REDACTED]` placeholder, whatever the rules said, so that
//! a value split across events is never joined back in a log line.

use std::collections::VecDeque;
use std::ops::Range;

use crate::detect::{Decoding, Findings, Format, Kind, Scanner};
use crate::sse::{self, Event, EventTooLarge, Framer};

use super::window::{Found, Window};
use super::Release;

/// What one chunk brought: the values not seen before and whether the scan was complete.
#[derive(Debug, Default)]
pub struct Pushed {
    pub new: Vec<Found>,
    /// The streamed text the chunk's events carry (server-sent events only), by text stream,
    /// for searches that read text as it comes (a contract's denied terms).
    pub text: Vec<(usize, Vec<u8>)>,
    /// The other strings of the chunk's events (each on its own: no client joins them).
    pub strings: Vec<String>,
    /// Some view was over its memory budget: the chunk was not scanned whole.
    pub incomplete: bool,
}

/// How `emit` writes what leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    /// As the agent sent it.
    AsIs,
    /// Values replaced by `[TYPE]` (a redact rule).
    Redacted,
    /// Values replaced by `[TYPE_REDACTED]`: for the events log, whatever the rules said.
    Log,
}

impl Rendering {
    fn placeholder(self, scanner: &Scanner, kind: Kind) -> &str {
        match self {
            Rendering::Log => scanner.event_placeholder(kind),
            Rendering::AsIs | Rendering::Redacted => scanner.redaction_placeholder(kind),
        }
    }
}

/// The values whose placeholder already left, by where they start: a later piece of a value
/// split across events leaves empty.
#[derive(Debug, Default, Clone)]
struct Written(Vec<(u64, Kind)>);

impl Written {
    fn first(&mut self, f: &Found) -> bool {
        if self.0.contains(&(f.start, f.kind)) {
            false
        } else {
            self.0.push((f.start, f.kind));
            true
        }
    }

    fn forget_before(&mut self, offset: u64) {
        self.0.retain(|(s, _)| *s >= offset);
    }
}

/// Replaces the values in `found` that reach into `text` (which lies at `at..` in its text
/// stream) by placeholders: the first piece of a value gets its placeholder, a later piece of
/// a value whose placeholder already left gets nothing. With `json`, a placeholder that stands
/// where the text is not inside a JSON string is quoted (a card written as a number).
fn redact_piece(
    text: &[u8],
    at: u64,
    found: &[Found],
    written: &mut Written,
    scanner: &Scanner,
    rendering: Rendering,
    mut json: Option<&mut JsonState>,
) -> Vec<u8> {
    let end = at + len_u64(text.len());
    let mut out = Vec::with_capacity(text.len());
    let mut pos = at;
    let copy = |out: &mut Vec<u8>, bytes: &[u8], json: &mut Option<&mut JsonState>| {
        if let Some(j) = json.as_deref_mut() {
            j.feed(bytes);
        }
        out.extend_from_slice(bytes);
    };
    for f in found
        .iter()
        .filter(|f| f.start < end && f.end > at && !f.left)
    {
        let start = f.start.max(pos);
        if start >= end {
            continue;
        }
        copy(&mut out, slice(text, at, pos..start), &mut json);
        if written.first(f) {
            let p = rendering.placeholder(scanner, f.kind).as_bytes();
            let quote = json.as_deref().is_some_and(|j| !j.in_string);
            if quote {
                // A negative number's sign goes with it: `-"[CREDIT_CARD]"` is not JSON.
                if out.last() == Some(&b'-') {
                    out.pop();
                }
                out.push(b'"');
            }
            out.extend_from_slice(p);
            if quote {
                out.push(b'"');
            }
        }
        pos = f.end.min(end).max(pos);
    }
    copy(&mut out, slice(text, at, pos..end), &mut json);
    out
}

fn slice(text: &[u8], at: u64, range: Range<u64>) -> &[u8] {
    let i = |o: u64| usize::try_from(o.saturating_sub(at)).unwrap_or(usize::MAX);
    text.get(i(range.start)..i(range.end).min(text.len()))
        .unwrap_or_default()
}

/// Whether the bytes written so far of a JSON text end inside a string (RFC 8259 §7): a
/// placeholder put where a number was must be quoted to stay JSON.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonState {
    in_string: bool,
    escaped: bool,
}

impl JsonState {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.escaped {
                self.escaped = false;
            } else if self.in_string && b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = !self.in_string;
            }
        }
    }
}

/// A chunked body read as text.
#[derive(Debug)]
pub struct Chunks {
    window: Window,
    /// The values found that reach into the held text.
    found: Vec<Found>,
    written: Written,
    log_written: Written,
    /// A JSON or NDJSON body: scanned as JSON (number forms), placeholders quoted outside
    /// strings. Where the text that left stands, for each rendering.
    json: Option<(JsonState, JsonState)>,
}

impl Chunks {
    /// `json`: the body is JSON or NDJSON (its media type says so).
    pub fn new(hold_bytes: usize, release: Release, json: bool) -> Chunks {
        let format = if json { Format::Json } else { Format::Text };
        Chunks {
            window: Window::with_format(hold_bytes, release, format),
            found: Vec::new(),
            written: Written::default(),
            log_written: Written::default(),
            json: json.then(|| (JsonState::default(), JsonState::default())),
        }
    }

    /// Takes a chunk and scans what is held with it.
    pub fn push(&mut self, chunk: &[u8], scanner: &Scanner) -> Pushed {
        self.window.push(chunk);
        let scanned = self.window.scan(scanner);
        self.found = scanned.found;
        Pushed {
            new: scanned.new,
            incomplete: scanned.incomplete,
            ..Pushed::default()
        }
    }

    /// What leaves now (everything, at the end of the stream), as `rendering` says; and, when
    /// `log` is given, the same bytes as the events log writes them.
    pub fn emit(
        &mut self,
        end_of_stream: bool,
        rendering: Rendering,
        scanner: &Scanner,
        log: Option<&mut Vec<u8>>,
    ) -> Vec<u8> {
        let from = self.window.released();
        let to = self.window.limit(&self.found, end_of_stream);
        let text = self.window.slice(from..to);
        if let Some(log) = log {
            let mut j = self.json.as_ref().map(|(_, l)| *l);
            let logged = redact_piece(
                text,
                from,
                &self.found,
                &mut self.log_written,
                scanner,
                Rendering::Log,
                j.as_mut(),
            );
            if let (Some((_, l)), Some(j)) = (self.json.as_mut(), j) {
                *l = j;
            }
            log.extend_from_slice(&logged);
        } else if let Some((_, l)) = self.json.as_mut() {
            l.feed(text);
        }
        let out = if rendering == Rendering::AsIs {
            if let Some((o, _)) = self.json.as_mut() {
                o.feed(text);
            }
            text.to_vec()
        } else {
            redact_piece(
                text,
                from,
                &self.found,
                &mut self.written,
                scanner,
                rendering,
                self.json.as_mut().map(|(o, _)| o),
            )
        };
        self.window.release(to);
        let base = self.window.released().saturating_sub(4096);
        self.written.forget_before(base);
        self.log_written.forget_before(base);
        out
    }

    /// Bytes held back.
    pub fn held(&self) -> usize {
        self.window.held()
    }
}

/// Where a piece of an event's streamed text lies: in its `data`, and in its text stream.
#[derive(Debug, Clone)]
struct Piece {
    /// Which text stream (path) it continues.
    stream: usize,
    /// The JSON string's contents in `data` (escapes included), or all of `data` for a
    /// plain-text event.
    data: Range<usize>,
    /// The text it stands for, in its stream's text.
    text: Range<u64>,
    /// A JSON string (written back escaped) or plain text.
    json: bool,
}

/// An event not yet let go.
#[derive(Debug)]
struct Held {
    event: Event,
    raw: Vec<u8>,
    pieces: Vec<Piece>,
    /// Values in the event's `data` outside its pieces (an id, metadata), with their spans in
    /// `data`.
    own: Vec<(Range<usize>, Kind)>,
    /// Its lines other than `data` (`id`, `event`, `retry`, comments) hold values.
    lines_hold_values: bool,
}

/// What an [`Events`] stream could not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamError {
    /// An event longer than `responses.stream.max_event_bytes`.
    EventTooLarge(EventTooLarge),
    /// More texts a client joins across events (paths) than a stream follows
    /// ([`MAX_TEXT_STREAMS`]): sharing a window would let a value be cut apart.
    TooManyTexts,
    /// More events held, waiting for their text to be judged, than the bound allows
    /// ([`max_held_bytes`]): letting them go unjudged could let a value out.
    HeldTooMuch,
}

/// One text a client joins across events: the pieces of one path.
#[derive(Debug)]
struct TextStream {
    path: String,
    window: Window,
    found: Vec<Found>,
    written: Written,
    log_written: Written,
}

/// A `text/event-stream` body.
#[derive(Debug)]
pub struct Events {
    framer: Framer,
    streams: Vec<TextStream>,
    held: VecDeque<Held>,
    /// Bytes of events held, for the bound.
    held_bytes: usize,
    hold_bytes: usize,
    release: Release,
    /// Past this many bytes of held events the stream cannot go on (fail closed): events
    /// that wait for their text to be judged cannot pile up without bound.
    max_held_bytes: usize,
    /// A path beyond [`MAX_TEXT_STREAMS`] came: the stream cannot go on.
    too_many_texts: bool,
    /// The strings of each event are wanted (a contract's denied terms).
    want_strings: bool,
}

/// What one held event costs besides its bytes (its bookkeeping), counted against the bound.
const HELD_OVERHEAD: usize = 64;

/// The most event bytes a stream holds (bookkeeping included) waiting for their text to be
/// judged, past which it cannot go on: one event of the largest size, and room for several
/// texts' `hold_bytes` in deltas of one character (an OpenAI chunk is about 150 to 200 bytes
/// around its text): 1,024 event bytes per byte of `hold_bytes`, at most 64 MiB.
pub fn max_held_bytes(hold_bytes: usize, max_event_bytes: usize) -> usize {
    max_event_bytes
        .saturating_add(hold_bytes.saturating_mul(1024))
        .min(64 * 1024 * 1024)
}

/// OpenAI's end-of-stream marker: not text.
const DONE: &str = "[DONE]";

/// The most texts (paths) a response's events carry: another one ends the stream.
pub const MAX_TEXT_STREAMS: usize = 64;

impl Events {
    /// `want_strings`: [`Pushed::strings`] is filled (a contract's denied terms read them).
    pub fn new(
        hold_bytes: usize,
        release: Release,
        max_event_bytes: usize,
        want_strings: bool,
    ) -> Events {
        Events {
            framer: Framer::merging_empty(max_event_bytes),
            streams: Vec::new(),
            held: VecDeque::new(),
            held_bytes: 0,
            hold_bytes,
            release,
            max_held_bytes: max_held_bytes(hold_bytes, max_event_bytes),
            too_many_texts: false,
            want_strings,
        }
    }

    /// Takes a chunk: the events it completes join the held ones, their text the windows, and
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
            self.held_bytes += held.raw.len() + HELD_OVERHEAD;
            self.held.push_back(held);
        }
        if self.too_many_texts {
            return Err(StreamError::TooManyTexts);
        }
        for s in &mut self.streams {
            let scanned = s.window.scan(scanner);
            pushed.incomplete |= scanned.incomplete;
            pushed.new.extend(scanned.new);
            s.found = scanned.found;
        }
        Ok(pushed)
    }

    /// The text stream of `path`, made on first sight (past [`MAX_TEXT_STREAMS`], the last
    /// one, and the stream is marked to end).
    fn stream_of(&mut self, path: &str) -> usize {
        if let Some(i) = self.streams.iter().position(|s| s.path == path) {
            return i;
        }
        if self.streams.len() >= MAX_TEXT_STREAMS {
            self.too_many_texts = true;
            return MAX_TEXT_STREAMS - 1;
        }
        self.streams.push(TextStream {
            path: path.to_string(),
            window: Window::new(self.hold_bytes, self.release),
            found: Vec::new(),
            written: Written::default(),
            log_written: Written::default(),
        });
        self.streams.len() - 1
    }

    fn add_piece(&mut self, stream: usize, text: &str, data: Range<usize>, json: bool) -> Piece {
        let Some(s) = self.streams.get_mut(stream) else {
            return Piece {
                stream,
                data,
                text: 0..0,
                json,
            };
        };
        let at = s.window.end();
        s.window.push(text.as_bytes());
        Piece {
            stream,
            data,
            text: at..s.window.end(),
            json,
        }
    }

    /// An event read: its pieces of text into their windows, the rest of its data and its
    /// other lines scanned.
    fn take(&mut self, event: Event, raw: Vec<u8>, scanner: &Scanner, pushed: &mut Pushed) -> Held {
        let mut pieces = Vec::new();
        let mut own = Vec::new();
        // Lines other than `data` are handed to the client too (`id` comes back upstream as
        // `Last-Event-ID`): they are scanned, each on its own.
        let mut lines_hold_values = false;
        for line in sse::lines(&raw).filter(|l| !l.is_empty() && !is_data_line(l)) {
            let mut f = Findings::default();
            scanner.scan_input(line, Decoding::BODY, Format::Text, &mut f, |v| {
                lines_hold_values = true;
                pushed.new.push(Found {
                    kind: v.kind,
                    start: 0,
                    end: 0,
                    left: false,
                });
            });
            pushed.incomplete |= f.incomplete;
        }
        if let Some(data) = event.data.as_deref() {
            let spans = sse::text_spans(data);
            let is_json = matches!(data.trim_start().as_bytes().first(), Some(b'{' | b'['));
            if spans.is_empty() && !is_json && data != DONE && !data.is_empty() {
                // A plain-text event: its data is the text.
                let stream = self.stream_of("");
                pieces.push(self.add_piece(stream, data, 0..data.len(), false));
                pushed.text.push((stream, data.as_bytes().to_vec()));
            } else {
                for s in spans {
                    let stream = self.stream_of(&s.path);
                    pieces.push(self.add_piece(stream, &s.text, s.start..s.end, true));
                    pushed.text.push((stream, s.text.into_bytes()));
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
                pushed.new.extend(own.iter().map(|(_, kind)| Found {
                    kind: *kind,
                    start: 0,
                    end: 0,
                    left: false,
                }));
                if self.want_strings && is_json {
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(data) {
                        strings(&v, &mut pushed.strings);
                    }
                }
            }
        }
        Held {
            event,
            raw,
            pieces,
            own,
            lines_hold_values,
        }
    }

    /// The events that leave now, in order, as bytes of the stream (as `rendering` says:
    /// touched events rewritten, others verbatim); everything at the end of the stream. With
    /// `log`, the same events as the events log writes them.
    ///
    /// [`StreamError::HeldTooMuch`] when, what may leave having left, more is still held than
    /// the bound allows (a chunk may bring many events at once: Envoy merges what a fast
    /// upstream writes).
    pub fn emit(
        &mut self,
        end_of_stream: bool,
        rendering: Rendering,
        scanner: &Scanner,
        log: Option<&mut Vec<u8>>,
    ) -> Result<Vec<u8>, StreamError> {
        let out = self.release_events(end_of_stream, rendering, scanner, log);
        if self.held_bytes > self.max_held_bytes {
            return Err(StreamError::HeldTooMuch);
        }
        Ok(out)
    }

    fn release_events(
        &mut self,
        end_of_stream: bool,
        rendering: Rendering,
        scanner: &Scanner,
        mut log: Option<&mut Vec<u8>>,
    ) -> Vec<u8> {
        let limits: Vec<u64> = self
            .streams
            .iter()
            .map(|s| s.window.limit(&s.found, end_of_stream))
            .collect();
        let mut out = Vec::new();
        let mut released: Vec<u64> = self.streams.iter().map(|s| s.window.released()).collect();
        while let Some(h) = self.held.front() {
            let waits = h
                .pieces
                .iter()
                .any(|p| limits.get(p.stream).is_some_and(|l| p.text.end > *l));
            if waits {
                break;
            }
            let Some(h) = self.held.pop_front() else {
                break;
            };
            self.held_bytes = self.held_bytes.saturating_sub(h.raw.len() + HELD_OVERHEAD);
            for p in &h.pieces {
                if let Some(r) = released.get_mut(p.stream) {
                    *r = (*r).max(p.text.end);
                }
            }
            if let Some(log) = log.as_deref_mut() {
                self.rewrite(&h, Rendering::Log, scanner, log);
            }
            match rendering {
                Rendering::AsIs => out.extend_from_slice(&h.raw),
                Rendering::Redacted | Rendering::Log => {
                    self.rewrite(&h, rendering, scanner, &mut out)
                }
            }
        }
        for (s, r) in self.streams.iter_mut().zip(released) {
            s.window.release(r);
            let base = s.window.released().saturating_sub(4096);
            s.written.forget_before(base);
            s.log_written.forget_before(base);
        }
        out
    }

    /// An event as it leaves with its values replaced (verbatim when it holds none).
    fn rewrite(&mut self, h: &Held, rendering: Rendering, scanner: &Scanner, out: &mut Vec<u8>) {
        let Some(data) = h.event.data.as_deref() else {
            if h.lines_hold_values {
                redact_lines(&h.raw, None, scanner, rendering, true, out);
            } else {
                out.extend_from_slice(&h.raw);
            }
            return;
        };
        let touched = !h.own.is_empty()
            || h.lines_hold_values
            || h.pieces.iter().any(|p| {
                self.streams.get(p.stream).is_some_and(|s| {
                    s.found
                        .iter()
                        .any(|f| f.start < p.text.end && f.end > p.text.start)
                })
            });
        if !touched {
            out.extend_from_slice(&h.raw);
            return;
        }
        // Every replacement in `data`, in order: pieces and the event's own values.
        let mut edits: Vec<(Range<usize>, Vec<u8>)> = Vec::new();
        for p in &h.pieces {
            let Some(s) = self.streams.get_mut(p.stream) else {
                continue;
            };
            let text = s.window.slice(p.text.clone()).to_vec();
            let written = match rendering {
                Rendering::Log => &mut s.log_written,
                Rendering::AsIs | Rendering::Redacted => &mut s.written,
            };
            let new = redact_piece(
                &text,
                p.text.start,
                &s.found,
                written,
                scanner,
                rendering,
                None,
            );
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
                rendering.placeholder(scanner, *kind).as_bytes().to_vec(),
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
        redact_lines(
            &h.raw,
            Some(&new_data),
            scanner,
            rendering,
            h.lines_hold_values,
            out,
        );
    }

    /// Bytes of events held back.
    pub fn held(&self) -> usize {
        self.held_bytes + self.framer.held()
    }
}

/// Every string of a JSON value, in order.
fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                out.push(k.clone());
                strings(x, out);
            }
        }
        _ => {}
    }
}

fn is_data_line(line: &[u8]) -> bool {
    line == b"data" || line.starts_with(b"data:")
}

/// Writes an event block with its `data` lines replaced by `data` (split at its newlines;
/// `None`: kept), and every other line (`event`, `id`, `retry`, comments) kept in place, its
/// values replaced by placeholders when `lines_hold_values` (what the event's reading found).
fn redact_lines(
    raw: &[u8],
    data: Option<&[u8]>,
    scanner: &Scanner,
    rendering: Rendering,
    lines_hold_values: bool,
    out: &mut Vec<u8>,
) {
    let mut data_written = false;
    for line in sse::lines(raw) {
        if is_data_line(line) {
            match data {
                Some(d) if !data_written => {
                    for part in d.split(|&b| b == b'\n') {
                        out.extend_from_slice(b"data: ");
                        out.extend_from_slice(part);
                        out.push(b'\n');
                    }
                    data_written = true;
                }
                Some(_) => {}
                None => {
                    out.extend_from_slice(line);
                    out.push(b'\n');
                }
            }
        } else if !line.is_empty() && !lines_hold_values {
            out.extend_from_slice(line);
            out.push(b'\n');
        } else if !line.is_empty() {
            let mut spans = Vec::new();
            scanner.scan_input(
                line,
                Decoding::BODY,
                Format::Text,
                &mut Findings::default(),
                |f| spans.push(f),
            );
            if spans.is_empty() {
                out.extend_from_slice(line);
            } else {
                let (bytes, _) = crate::scrub::replace(line, &spans, line.len(), |f, o| {
                    o.extend_from_slice(rendering.placeholder(scanner, f.kind).as_bytes())
                });
                out.extend_from_slice(&bytes);
            }
            out.push(b'\n');
        }
    }
    out.push(b'\n');
}

fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
