//! Server-sent events as a response stream brings them, chunk by chunk: the
//! `text/event-stream` format of the WHATWG HTML standard (§9.2.6, "Interpreting an event
//! stream"), which OpenAI-style `stream: true` answers and A2A's `message/stream` use.
//!
//! [`Framer`] cuts the stream into events as their bytes arrive, whatever the chunk
//! boundaries (a line, a CRLF, a UTF-8 character may be split between chunks), and says where
//! each event lies in the stream, so that an event can be passed on, held, or rewritten and
//! the stream stay valid. Memory is bounded: an event longer than the framer's limit is an
//! error, never a growing buffer. `response::stream::Events` scans and rewrites streams with it.

/// One event block of the stream: its lines up to and including the blank line that ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Byte offset in the stream of its first byte (after a leading byte order mark).
    pub start: u64,
    /// Byte offset just past the blank line that ends it.
    pub end: u64,
    /// Its `data` lines' values joined with `\n` (the standard's data buffer without its
    /// final newline); `None` when it has no `data` line (comments only: the standard
    /// dispatches nothing for it, but its bytes are still part of the stream).
    pub data: Option<String>,
    /// Its `event` field (the event type), if any.
    pub event: Option<String>,
    /// Its `id` field, if any (an id holding NUL is ignored, as the standard says).
    pub id: Option<String>,
    /// Its bytes as they came, blank line included: what is passed on when the event is not
    /// rewritten.
    pub raw: Vec<u8>,
}

/// An event longer than the framer's limit: the stream cannot be judged event by event
/// without holding more than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTooLarge {
    /// Where the event began.
    pub start: u64,
    pub limit: usize,
}

/// Cuts a stream into [`Event`]s as its chunks arrive.
#[derive(Debug, Clone)]
pub struct Framer {
    /// The bytes of the event in progress.
    pending: Vec<u8>,
    /// The stream offset of `pending`'s first byte.
    pending_start: u64,
    /// Where the current line starts in `pending`.
    line_start: usize,
    /// The last byte was a CR: a LF right after it belongs to the same line end.
    after_cr: bool,
    /// That CR ended a blank line: the event ends after it, or after the LF that follows.
    blank_after_cr: bool,
    /// How many bytes of a byte order mark the stream began with, until it is known
    /// (`None` once the stream's first bytes are settled).
    bom: Option<usize>,
    max_event_bytes: usize,
    /// Blocks with no field (blank lines, comments) join the next event instead of being
    /// events of their own: a stream of them costs bytes, not an event each.
    merge_empty: bool,
    /// The block in `pending` has a line that is a field (not blank, not a comment).
    has_field: bool,
}

/// The UTF-8 byte order mark, which the standard drops from the start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Framer {
    /// A framer that refuses an event longer than `max_event_bytes` bytes.
    pub fn new(max_event_bytes: usize) -> Framer {
        Framer {
            pending: Vec::new(),
            pending_start: 0,
            line_start: 0,
            after_cr: false,
            blank_after_cr: false,
            bom: Some(0),
            max_event_bytes,
            merge_empty: false,
            has_field: false,
        }
    }

    /// A framer whose blocks with no field (no `data`, `event` or `id`: blank lines, keep-alive
    /// comments) are not events of their own: their bytes start the next event's (up to half
    /// the event limit, past which they are given out as an event without data). A stream of
    /// blank lines then costs its bytes, not an event (and its bookkeeping) per line.
    pub fn merging_empty(max_event_bytes: usize) -> Framer {
        Framer {
            merge_empty: true,
            ..Framer::new(max_event_bytes)
        }
    }

    /// The bytes held: an event not yet ended, which cannot be judged yet.
    pub fn held(&self) -> usize {
        self.pending.len()
    }

    /// The events `chunk` completes, in stream order.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Event>, EventTooLarge> {
        let mut out = Vec::new();
        for &b in chunk {
            if let Some(matched) = self.bom {
                if BOM.get(matched) == Some(&b) {
                    self.bom = (matched + 1 < BOM.len()).then_some(matched + 1);
                    if self.bom.is_none() {
                        self.pending_start = u64::try_from(BOM.len()).unwrap_or(0);
                    }
                    continue;
                }
                // Not a mark after all: the bytes taken for one are the stream's.
                self.bom = None;
                for &m in BOM.get(..matched).unwrap_or_default() {
                    self.byte(m, &mut out)?;
                }
            }
            self.byte(b, &mut out)?;
        }
        Ok(out)
    }

    fn byte(&mut self, b: u8, out: &mut Vec<Event>) -> Result<(), EventTooLarge> {
        if self.after_cr {
            self.after_cr = false;
            let blank = std::mem::take(&mut self.blank_after_cr);
            if b == b'\n' {
                self.pending.push(b);
                self.line_start = self.pending.len();
                if blank {
                    out.extend(self.dispatch_or_merge());
                }
                return Ok(());
            }
            if blank {
                out.extend(self.dispatch_or_merge());
            }
        }
        self.pending.push(b);
        if b == b'\r' || b == b'\n' {
            let blank = self.pending.len() - 1 == self.line_start;
            // A line that is neither blank nor a comment is a field: the block is an event.
            if !blank && self.pending.get(self.line_start) != Some(&b':') {
                self.has_field = true;
            }
            self.line_start = self.pending.len();
            if b == b'\r' {
                self.after_cr = true;
                self.blank_after_cr = blank;
            } else if blank {
                out.extend(self.dispatch_or_merge());
            }
        } else if self.pending.len() > self.max_event_bytes {
            return Err(EventTooLarge {
                start: self.pending_start,
                limit: self.max_event_bytes,
            });
        }
        Ok(())
    }

    /// The stream ended. An event whose blank line ended in a lone CR is complete; the bytes
    /// of an unfinished one come back with `data: None` (the standard drops an unfinished
    /// event), so that the caller can account for every byte. A stream that was only part of
    /// a byte order mark gives those bytes back the same way.
    pub fn finish(&mut self) -> Option<Event> {
        if let Some(matched) = self.bom.take() {
            self.pending
                .extend_from_slice(BOM.get(..matched).unwrap_or_default());
        }
        if self.pending.is_empty() {
            return None;
        }
        if std::mem::take(&mut self.blank_after_cr) {
            return Some(self.dispatch());
        }
        let mut e = self.dispatch();
        e.data = None;
        e.event = None;
        e.id = None;
        Some(e)
    }

    /// The block in `pending` ended: an event, or, when merging, nothing yet for a block with
    /// no field (its bytes stay, to begin the next event).
    fn dispatch_or_merge(&mut self) -> Option<Event> {
        if self.merge_empty && !self.has_field && self.pending.len() < self.max_event_bytes / 2 {
            self.line_start = self.pending.len();
            self.after_cr = false;
            return None;
        }
        Some(self.dispatch())
    }

    /// The event held in `pending`, ended: its fields parsed, its range, and the framer
    /// reset for the next one.
    fn dispatch(&mut self) -> Event {
        self.has_field = false;
        let bytes = std::mem::take(&mut self.pending);
        let start = self.pending_start;
        let end = start + u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.pending_start = end;
        self.line_start = 0;
        self.after_cr = false;
        let mut data: Option<String> = None;
        let mut event = None;
        let mut id = None;
        for line in lines(&bytes) {
            if line.is_empty() || line.first() == Some(&b':') {
                continue;
            }
            let (name, value) = match line.iter().position(|&b| b == b':') {
                Some(i) => {
                    let v = line.get(i + 1..).unwrap_or_default();
                    (
                        line.get(..i).unwrap_or_default(),
                        v.strip_prefix(b" ").unwrap_or(v),
                    )
                }
                None => (line, &[][..]),
            };
            let value = String::from_utf8_lossy(value);
            match name {
                // The data buffer gets each value and a LF; the last LF goes at dispatch.
                b"data" => {
                    let d = data.get_or_insert_with(String::new);
                    d.push_str(&value);
                    d.push('\n');
                }
                b"event" => event = Some(value.into_owned()),
                b"id" if !value.contains('\0') => id = Some(value.into_owned()),
                _ => {}
            }
        }
        if let Some(d) = data.as_mut() {
            d.pop();
        }
        Event {
            start,
            end,
            data,
            event,
            id,
            raw: bytes,
        }
    }
}

/// The lines of an event block, without their line ends (CRLF, LF or CR).
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
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

/// A piece of generated text in an event's `data`: where its JSON string's contents lie in
/// `data` (bytes, escapes included, quotes excluded), the text they stand for, and the path of
/// members that leads to it (keys decoded, array indices kept: `choices.0.delta.content`), which
/// names the text it continues: a client joins the pieces of one path across events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSpan {
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub path: String,
}

/// The member names that carry streamed text, wherever they are in an event (their value is a
/// string): OpenAI chat completions (`choices[].delta.content`, `.refusal`, the
/// `reasoning_content` or `reasoning` of reasoning models, tool-call and legacy function-call
/// `arguments`), completions (`choices[].text`), the Responses API (`delta` of its
/// `*.delta` events), Anthropic Messages (`delta.text`, `.thinking`, `.partial_json`), Gemini
/// (`candidates[].content.parts[].text`), A2A v0.3 and v1.0 (`parts[].text`, and the members of
/// data parts named so), audio transcripts (`transcript`). A name, not a path: a protocol that
/// moves its text elsewhere under the same name is still read, and a key written with escapes
/// (`"c\u006fntent"`) is read as every JSON parser reads it.
pub const TEXT_MEMBERS: &[&str] = &[
    "arguments",
    "content",
    "delta",
    "partial_json",
    "reasoning",
    "reasoning_content",
    "refusal",
    "text",
    "thinking",
    "transcript",
];

/// The deepest nesting looked into.
const MAX_DEPTH: usize = 32;

/// The generated text an event's `data` carries (string members named in [`TEXT_MEMBERS`]), in
/// order; nothing when `data` is not a JSON object or array (`[DONE]`, plain text) or nests
/// deeper than 32 levels.
///
/// An array element with an integer `index` member (OpenAI's `choices[]` and `tool_calls[]`)
/// is named by it, not by its position: clients join a choice's deltas by `index`, wherever
/// the choice stands in the array. A member given twice in one object counts once, its last
/// value, as JSON parsers read it (the earlier ones are scanned with the rest of the event).
pub fn text_spans(data: &str) -> Vec<TextSpan> {
    let mut raw = Vec::new();
    let mut w = Walker {
        bytes: data.as_bytes(),
        at: 0,
        path: Vec::new(),
        out: &mut raw,
        text: data,
        elements: Vec::new(),
    };
    w.space();
    if !matches!(w.peek(), Some(b'{' | b'[')) || w.value(0).is_none() {
        return Vec::new();
    }
    let elements = std::mem::take(&mut w.elements);
    // The last of members given twice: the structural path (elements by identity) says which.
    let mut out: Vec<(String, TextSpan)> = Vec::with_capacity(raw.len());
    for r in raw {
        let identity = render(&r.path, |_, id| format!("#{id}"));
        let path = render(&r.path, |pos, id| {
            elements
                .get(id)
                .and_then(Clone::clone)
                .unwrap_or_else(|| pos.to_string())
        });
        out.retain(|(i, _)| *i != identity);
        out.push((
            identity,
            TextSpan {
                start: r.start,
                end: r.end,
                text: r.text,
                path,
            },
        ));
    }
    out.into_iter().map(|(_, s)| s).collect()
}

/// A text span as the walker finds it, its path still by element identity.
struct RawSpan<'a> {
    start: usize,
    end: usize,
    text: String,
    path: Vec<Step<'a>>,
}

/// A path, its array elements written by `index(position, element id)`.
fn render(path: &[Step], index: impl Fn(usize, usize) -> String) -> String {
    let mut p = String::new();
    for (i, step) in path.iter().enumerate() {
        if i > 0 {
            p.push('.');
        }
        match step {
            Step::Key(k) => p.push_str(k),
            Step::Index(pos, id) => p.push_str(&index(*pos, *id)),
        }
    }
    p
}

/// A JSON reader that keeps the path to the value it is at.
struct Walker<'a, 'o> {
    bytes: &'a [u8],
    at: usize,
    path: Vec<Step<'a>>,
    out: &'o mut Vec<RawSpan<'a>>,
    text: &'a str,
    /// Each array element met, by identity: its integer `index` member, if it has one.
    elements: Vec<Option<String>>,
}

#[derive(Clone)]
enum Step<'a> {
    Key(std::borrow::Cow<'a, str>),
    /// Position in the array, and the element's identity (`Walker::elements`).
    Index(usize, usize),
}

impl<'a> Walker<'a, '_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    fn wanted(&self) -> bool {
        matches!(self.path.last(), Some(Step::Key(k)) if TEXT_MEMBERS.contains(&k.as_ref()))
    }

    /// One value; `None` on anything that is not JSON.
    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.space();
        match self.peek()? {
            b'{' => {
                self.at += 1;
                self.space();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                    return Some(());
                }
                loop {
                    self.space();
                    let (s, e) = self.string()?;
                    let raw = self.text.get(s..e)?;
                    // A key is what a JSON parser makes of it: its escapes undone.
                    let key = if raw.contains('\\') {
                        let quoted = self.text.get(s.checked_sub(1)?..e + 1)?;
                        std::borrow::Cow::Owned(serde_json::from_str::<String>(quoted).ok()?)
                    } else {
                        std::borrow::Cow::Borrowed(raw)
                    };
                    self.space();
                    (self.peek()? == b':').then_some(())?;
                    self.at += 1;
                    // An element's `index` names it (clients join by it).
                    let element = match (key.as_ref(), self.path.last()) {
                        ("index", Some(Step::Index(_, id))) => Some(*id),
                        _ => None,
                    };
                    self.path.push(Step::Key(key));
                    self.space();
                    let start = self.at;
                    self.value(depth + 1)?;
                    self.path.pop();
                    if let Some(id) = element {
                        let v = self.text.get(start..self.at).unwrap_or_default().trim();
                        if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                            if let Some(slot) = self.elements.get_mut(id) {
                                *slot = Some(v.to_string());
                            }
                        }
                    }
                    self.space();
                    match self.peek()? {
                        b',' => self.at += 1,
                        b'}' => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.at += 1;
                self.space();
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Some(());
                }
                let mut index = 0;
                loop {
                    let id = self.elements.len();
                    self.elements.push(None);
                    self.path.push(Step::Index(index, id));
                    index += 1;
                    self.value(depth + 1)?;
                    self.path.pop();
                    self.space();
                    match self.peek()? {
                        b',' => self.at += 1,
                        b']' => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => {
                let (s, e) = self.string()?;
                if self.wanted() {
                    let quoted = self.text.get(s.checked_sub(1)?..e + 1)?;
                    let text = serde_json::from_str::<String>(quoted).ok()?;
                    self.out.push(RawSpan {
                        start: s,
                        end: e,
                        text,
                        path: self.path.clone(),
                    });
                }
                Some(())
            }
            _ => {
                // A number, `true`, `false` or `null`: up to the next delimiter.
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                {
                    self.at += 1;
                }
                (self.at > start).then_some(())
            }
        }
    }

    /// A string at `at` (its opening quote): the range of its contents, escapes included.
    fn string(&mut self) -> Option<(usize, usize)> {
        (self.peek()? == b'"').then_some(())?;
        self.at += 1;
        let start = self.at;
        loop {
            match self.peek()? {
                b'"' => {
                    let end = self.at;
                    self.at += 1;
                    return Some((start, end));
                }
                b'\\' => self.at += 2,
                _ => self.at += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event of `stream` fed in chunks of `size` bytes, then the end.
    fn frame(stream: &[u8], size: usize) -> Vec<Event> {
        let mut f = Framer::new(1 << 20);
        let mut out = Vec::new();
        for chunk in stream.chunks(size.max(1)) {
            out.extend(f.push(chunk).unwrap());
        }
        out.extend(f.finish());
        out
    }

    const OPENAI: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\"4111 \"}}]}\n\n\
data: {\"choices\":[{\"delta\":{\"content\":\"1111\"}}]}\n\n\
: keep-alive\n\n\
event: status\r\nid: 7\r\ndata: first\r\ndata:second\r\ndata\r\n\r\n\
data: [DONE]\n\n";

    #[test]
    fn events_their_fields_and_their_places() {
        let events = frame(OPENAI, OPENAI.len());
        let data: Vec<Option<&str>> = events.iter().map(|e| e.data.as_deref()).collect();
        assert_eq!(
            data,
            [
                Some("{\"choices\":[{\"delta\":{\"content\":\"4111 \"}}]}"),
                Some("{\"choices\":[{\"delta\":{\"content\":\"1111\"}}]}"),
                None,
                Some("first\nsecond\n"),
                Some("[DONE]"),
            ]
        );
        assert_eq!(events[3].event.as_deref(), Some("status"));
        assert_eq!(events[3].id.as_deref(), Some("7"));
        // The events tile the stream: each starts where the last ended, the last at its end.
        let mut at = 0;
        for e in &events {
            assert_eq!(e.start, at);
            at = e.end;
        }
        assert_eq!(at, OPENAI.len() as u64);
        let second = &OPENAI[events[1].start as usize..events[1].end as usize];
        assert!(second.starts_with(b"data: ") && second.ends_with(b"\n\n"));
    }

    #[test]
    fn chunk_boundaries_do_not_matter() {
        let whole = frame(OPENAI, OPENAI.len());
        for size in 1..=OPENAI.len() {
            assert_eq!(frame(OPENAI, size), whole, "chunks of {size}");
        }
        // Every split in two, and a held event's bytes are counted until it ends.
        for cut in 0..=OPENAI.len() {
            let mut f = Framer::new(1 << 20);
            let mut out = f.push(&OPENAI[..cut]).unwrap();
            let done: u64 = out.iter().map(|e| e.end - e.start).sum();
            assert_eq!(done + f.held() as u64, cut as u64, "cut at {cut}");
            out.extend(f.push(&OPENAI[cut..]).unwrap());
            out.extend(f.finish());
            assert_eq!(out, whole, "cut at {cut}");
        }
    }

    #[test]
    fn line_ends_of_every_kind() {
        for (stream, n) in [
            (&b"data: a\r\rdata: b\r\r"[..], 2),
            (&b"data: a\r\n\r\ndata: b\r\n\r\n"[..], 2),
            (&b"data: a\n\ndata: b\n\n"[..], 2),
            (&b"data: a\r\n\ndata: b\n\r\n"[..], 2),
        ] {
            for size in 1..=stream.len() {
                let events = frame(stream, size);
                let data: Vec<_> = events.iter().map(|e| e.data.clone()).collect();
                assert_eq!(data.len(), n, "{stream:?} by {size}");
                assert_eq!(data, [Some("a".to_string()), Some("b".to_string())]);
                assert_eq!(events.last().unwrap().end, stream.len() as u64);
            }
        }
        // A CR that ends the stream ends its last event; a CR then a LF in the next chunk is
        // one line end.
        let mut f = Framer::new(64);
        assert!(f.push(b"data: x\r\r").unwrap().is_empty());
        let e = f.push(b"\ndata: y\n\n").unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].start, e[0].end), (0, 10));
        assert_eq!(e[1].data.as_deref(), Some("y"));
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_an_event() {
        let stream = b"\xEF\xBB\xBFdata: a\n\n";
        for size in 1..=stream.len() {
            let e = frame(stream, size);
            assert_eq!(e.len(), 1);
            assert_eq!((e[0].start, e[0].end), (3, stream.len() as u64));
            assert_eq!(e[0].data.as_deref(), Some("a"));
        }
        // Bytes that begin like a mark and are not one are the stream's.
        // (`\xEF\xBBdata` is then a field name of its own: no data.)
        let e = frame(b"\xEF\xBBdata: a\n\n", 1);
        assert_eq!((e.len(), e[0].start, e[0].end), (1, 0, 11));
        assert_eq!(e[0].data, None);
        let e = frame(b"\xEF", 1);
        assert_eq!((e[0].start, e[0].end, e[0].data.clone()), (0, 1, None));
    }

    #[test]
    fn an_unfinished_event_is_given_back_without_data() {
        let e = frame(b"data: a\n\ndata: b", 3);
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].data, None);
        assert_eq!((e[1].start, e[1].end), (9, 16));
        assert!(frame(b"", 1).is_empty());
    }

    #[test]
    fn an_event_over_the_limit_is_refused() {
        let mut f = Framer::new(16);
        assert_eq!(f.push(b"data: 0123456789\n\n").unwrap().len(), 1);
        let e = f.push(b"data: 0123456789ab").unwrap_err();
        assert_eq!(
            e,
            EventTooLarge {
                start: 18,
                limit: 16
            }
        );
    }

    #[test]
    fn the_text_of_openai_and_a2a_events() {
        let texts =
            |d: &str| -> Vec<String> { text_spans(d).into_iter().map(|s| s.text).collect() };
        let chunk = r#"{"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"4111 \u0031111"}}]}"#;
        assert_eq!(texts(chunk), ["4111 1111"]);
        let s = &text_spans(chunk)[0];
        assert_eq!(chunk.get(s.start..s.end), Some("4111 \\u0031111"));
        assert_eq!(
            texts(r#"{"choices":[{"text":"a"},{"text":"b"}]}"#),
            ["a", "b"]
        );
        assert_eq!(
            texts(r#"{"type":"response.output_text.delta","delta":"x"}"#),
            ["x"]
        );
        // A data part's member named `text` is text a client joins too.
        let v03 = r#"{"jsonrpc":"2.0","id":1,"result":{"kind":"artifact-update","artifact":{"parts":[{"kind":"text","text":"one"},{"kind":"data","data":{"text":"also"}}]}}}"#;
        assert_eq!(texts(v03), ["one", "also"]);
        let paths: Vec<String> = text_spans(v03).into_iter().map(|s| s.path).collect();
        assert_eq!(
            paths,
            [
                "result.artifact.parts.0.text",
                "result.artifact.parts.1.data.text"
            ]
        );
        // Keys are read as a JSON parser reads them, escapes undone.
        assert_eq!(
            texts(r#"{"choices":[{"delta":{"content":"hid"}}]}"#),
            ["hid"]
        );
        // Reasoning, refusals, thinking: streamed text under other names.
        assert_eq!(
            texts(r#"{"choices":[{"delta":{"reasoning_content":"r","refusal":"f"}}]}"#),
            ["r", "f"]
        );
        let status = r#"{"jsonrpc":"2.0","id":1,"result":{"kind":"status-update","status":{"state":"working","message":{"role":"agent","parts":[{"kind":"text","text":"two"}]}}}}"#;
        assert_eq!(texts(status), ["two"]);
        let v1 = r#"{"jsonrpc":"2.0","id":"x","result":{"artifactUpdate":{"artifact":{"parts":[{"text":"three"}]}}}}"#;
        assert_eq!(texts(v1), ["three"]);
        // Not text a reader sees, or not JSON.
        assert!(texts(r#"{"choices":[{"delta":{"role":"assistant"}}],"model":"x"}"#).is_empty());
        assert!(texts(r#"{"content":7,"text":null}"#).is_empty());
        assert!(texts("[DONE]").is_empty());
        assert!(texts(r#"{"delta":"x""#).is_empty());
        let deep = format!(
            "{}{}",
            "{\"a\":".repeat(40),
            "1".to_string() + &"}".repeat(40)
        );
        assert!(texts(&deep).is_empty());
    }
}
