//! Decoded views of encoded input: the agent sees decoded values, so the scanner must too.
//!
//! A [`View`] is a stack of layers, each the decoding of the one below it (the first decodes
//! the input). A layer is made only when it changes something, so most inputs are scanned
//! once, as they are. The layers, in order:
//!
//! 1. **Escapes** ([`Decoding::json`], [`Decoding::percent`], [`Decoding::plus_is_space`]):
//!    JSON string escapes (`\u0040`, surrogate pairs, `\n`, RFC 8259 §7), percent escapes
//!    (`%40`, RFC 3986 §2.1), `+` for a space (forms, WHATWG URL §5.1), and in JSON input the
//!    number forms that hide an integer (`4111111111111111.0`, `4.111111111111111e15`, RFC 8259
//!    §6) written as their integer digits.
//! 2. **Percent again**: what the first layer decoded may be percent-encoded once more
//!    (`%2540` → `%40` → `@`): up to [`MAX_PERCENT_DEPTH`] levels in all.
//! 3. **Folding** ([`Decoding::fold`]): invisible characters and generic combining marks
//!    removed, Unicode spaces and the braille blank, fullwidth
//!    forms and decimal digits mapped to ASCII ([`fold_char`]).
//! 4. **Nested encodings** ([`Decoding::nested`]): base64 and hex tokens whose decoding is
//!    text ([`super::tokens`]), each followed by that text, up to [`super::tokens::MAX_NESTING`]
//!    levels, each decoded layer percent-decoded and folded again.
//!
//! Each layer remembers where its bytes came from, so that what is found maps back to the
//! input bytes to scrub: a decoded unit (an escape, a folded character, a number, a whole
//! base64 token) maps to all the input bytes it came from.

use std::ops::Range;

use super::tokens;
use super::Format;

/// Which encodings to undo.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decoding {
    /// `%XX` escapes (RFC 3986 §2.1), repeated up to [`MAX_PERCENT_DEPTH`] levels.
    pub percent: bool,
    /// `+` means a space (`application/x-www-form-urlencoded`, query strings).
    pub plus_is_space: bool,
    /// JSON string escapes (`\uXXXX`, surrogate pairs, `\n`, `\"`, ...; RFC 8259 §7) and, in
    /// JSON input, integer-valued number forms (RFC 8259 §6).
    pub json: bool,
    /// Unicode look-alikes folded to ASCII (see [`fold_char`]).
    pub fold: bool,
    /// Base64 and hex tokens whose decoding is text (see [`super::tokens`]).
    pub nested: bool,
}

impl Decoding {
    /// Everything a body may hide behind: escapes of both kinds (not `+`, which is a space
    /// only in forms), folding, nested encodings.
    pub const BODY: Decoding = Decoding {
        percent: true,
        plus_is_space: false,
        json: true,
        fold: true,
        nested: true,
    };
}

/// JSON unescaping is repeated at most this often (JSON in a JSON string in a JSON string).
pub const MAX_JSON_DEPTH: usize = 3;

/// Percent-decoding is repeated at most this often (`%252540` is seen as `%40`, not `@`).
pub const MAX_PERCENT_DEPTH: usize = 3;

/// What the raw pass saw: which layers may change something.
#[derive(Debug, Default, Clone, Copy)]
pub struct Hints {
    /// A backslash escape that a JSON decoder turns into something other than itself (`\u`).
    pub json_escape: bool,
    /// A valid `%XX` escape.
    pub percent: bool,
    pub plus: bool,
    /// A byte outside ASCII.
    pub non_ascii: bool,
    /// A number with a fraction of zeros or an exponent.
    pub number: bool,
}

/// A decoded copy of an input, layer on layer (see the module doc), within a budget of memory
/// ([`view_budget`]).
#[derive(Debug, Default)]
pub struct View {
    layers: Vec<Layer>,
    /// Bytes the layers hold (their bytes and maps, as allocated).
    spent: usize,
    limit: usize,
    /// Its first layers undid percent escapes.
    percent_decoded: bool,
}

/// A view would need more memory than [`view_budget`] allows: what it would have found is
/// unknown, and the caller must not treat the input as scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget;

/// The memory the decoded views of an input of `len` bytes may take, in bytes: eight times the
/// input, and 1 MiB more. Ordinary escaped, folded or encoded text needs a small part of it
/// (runs of like escapes cost one entry of the map, see [`Segment`]); only input built to
/// multiply layers and map entries reaches it.
pub fn view_budget(len: usize) -> usize {
    len.saturating_mul(VIEW_BUDGET_FACTOR)
        .saturating_add(VIEW_BUDGET_SLACK)
}

/// See [`view_budget`].
pub const VIEW_BUDGET_FACTOR: usize = 8;
/// See [`view_budget`].
pub const VIEW_BUDGET_SLACK: usize = 1 << 20;

/// A layer made, unchanged input (`None`), or over the budget.
pub(super) type Built = Result<Option<Layer>, OverBudget>;

/// One decoding of the bytes below. `segments` maps decoded offsets back (see [`Segment`]).
#[derive(Debug)]
pub(super) struct Layer {
    pub(super) bytes: Vec<u8>,
    segments: Vec<Segment>,
}

/// Where the decoded bytes from `decoded` on came from: `count` repetitions of one unit
/// (`raw_len` input bytes decoded to `dec_len` bytes: an escape, a character, a token; a
/// removed character decodes to none) followed by `lit_len` literal bytes, each one input
/// byte; after the last repetition, literal bytes up to the next segment. A run of like
/// escapes (`\u0438\u0432…`, `%D0%B8%D0%B2…`, digits with a zero-width space between each)
/// is one segment, so that ordinary encoded text costs a few entries whatever its length. A
/// run of literals from the start, or after a jump in the input, is a segment with no unit
/// (`raw_len` 0). Offsets are 32-bit: a body is at most `u32::MAX` bytes
/// (`limits.max_body_bytes`), and a layer that would not fit is over the budget.
#[derive(Debug, Clone, Copy)]
struct Segment {
    decoded: u32,
    raw: u32,
    raw_len: u32,
    dec_len: u32,
    lit_len: u32,
    count: u32,
}

impl View {
    fn new(limit: usize) -> View {
        View {
            layers: Vec::new(),
            spent: 0,
            limit,
            percent_decoded: false,
        }
    }

    /// Whether its first layers undid percent escapes (tokens were then searched in the
    /// decoded text: see [`raw_tokens`]).
    pub fn percent_decoded(&self) -> bool {
        self.percent_decoded
    }

    /// The decoded bytes (the top layer's).
    pub fn bytes(&self) -> &[u8] {
        self.layers.last().map_or(&[], |l| l.bytes.as_slice())
    }

    /// The input range a decoded range came from.
    pub fn raw_span(&self, span: &Range<usize>) -> Range<usize> {
        self.layers
            .iter()
            .rev()
            .fold(span.clone(), |s, layer| layer.raw_span(&s))
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// How many layers decoded something.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// Bytes the layers hold, as allocated.
    pub fn memory(&self) -> usize {
        self.spent
    }

    fn top<'a>(&'a self, input: &'a [u8]) -> &'a [u8] {
        self.layers.last().map_or(input, |l| l.bytes.as_slice())
    }

    /// What the next layer may take.
    fn room(&self) -> usize {
        self.limit.saturating_sub(self.spent)
    }

    fn push(&mut self, layer: Built) -> Result<bool, OverBudget> {
        Ok(match layer? {
            Some(l) => {
                self.spent = self.spent.saturating_add(l.memory());
                self.layers.push(l);
                true
            }
            None => false,
        })
    }
}

impl Layer {
    fn memory(&self) -> usize {
        memory(self.bytes.capacity(), self.segments.capacity())
    }

    fn raw_span(&self, span: &Range<usize>) -> Range<usize> {
        let start = self.raw_unit(span.start).start;
        let end = self
            .raw_unit(span.end.saturating_sub(1).max(span.start))
            .end;
        start..end.max(start)
    }

    /// Where input offset `r` lands: the offset of the first decoded byte that comes from input
    /// at or after `r` (the layer's length when none does). For layers whose units and
    /// literals come in input order, as all but the token layer's do.
    fn forward(&self, r: usize) -> usize {
        let idx = self.segments.partition_point(|s| s.raw as usize <= r);
        let Some(s) = idx.checked_sub(1).and_then(|i| self.segments.get(i)) else {
            return 0;
        };
        let seg_end = self
            .segments
            .get(idx)
            .map_or(self.bytes.len(), |n| n.decoded as usize);
        let [decoded, raw, raw_len, dec_len, lit_len, count] =
            [s.decoded, s.raw, s.raw_len, s.dec_len, s.lit_len, s.count].map(|v| v as usize);
        let rel = r - raw;
        let k = rel
            .checked_div(raw_len + lit_len)
            .unwrap_or(0)
            .min(count.saturating_sub(1));
        let off = rel - k * (raw_len + lit_len);
        let base = decoded + k * (dec_len + lit_len);
        let d = if off == 0 {
            base
        } else if off < raw_len {
            // Inside a unit: its bytes come from before `r`.
            base + dec_len
        } else {
            base + dec_len + (off - raw_len)
        };
        d.min(seg_end)
    }

    /// The input bytes that produced the decoded byte at `d`.
    fn raw_unit(&self, d: usize) -> Range<usize> {
        let idx = self
            .segments
            .partition_point(|s| s.decoded as usize <= d)
            .saturating_sub(1);
        let Some(s) = self.segments.get(idx).filter(|s| s.decoded as usize <= d) else {
            return d..d + 1;
        };
        let [raw, raw_len, dec_len, lit_len, count] =
            [s.raw, s.raw_len, s.dec_len, s.lit_len, s.count].map(|v| v as usize);
        let rel = d - s.decoded as usize;
        let period = dec_len + lit_len;
        // Past the last repetition's unit, its literals run on to the next segment.
        let k = match rel.checked_div(period) {
            Some(k) => k.min(count.saturating_sub(1)),
            None => count.saturating_sub(1),
        };
        let off = rel - k * period;
        let base = raw + k * (raw_len + lit_len);
        if off < dec_len {
            base..base + raw_len
        } else {
            let r = base + raw_len + (off - dec_len);
            r..r + 1
        }
    }
}

/// Bytes held by a layer's two vectors, as allocated.
fn memory(bytes: usize, segments: usize) -> usize {
    bytes.saturating_add(segments.saturating_mul(std::mem::size_of::<Segment>()))
}

/// Builds a layer: literal bytes and decoded units, with their map, within a memory limit.
pub(super) struct Builder {
    layer: Layer,
    /// The input offset a literal continues the current segment at.
    next_raw: usize,
    changed: bool,
    limit: usize,
    over: bool,
}

impl Builder {
    /// A layer of about `capacity` bytes, which may take `limit` bytes of memory.
    pub(super) fn new(capacity: usize, limit: usize) -> Builder {
        let capacity = capacity.min(limit);
        Builder {
            layer: Layer {
                bytes: Vec::with_capacity(capacity),
                segments: Vec::new(),
            },
            next_raw: usize::MAX,
            changed: false,
            limit,
            over: false,
        }
    }

    /// Whether a vector about to grow (`len == capacity`) would take the layer over its limit;
    /// then the layer is given up.
    #[cold]
    fn grows(&mut self, extra_bytes: usize, extra_segments: usize) -> bool {
        let l = &self.layer;
        let bytes = l.bytes.capacity().max(
            l.bytes
                .len()
                .saturating_add(extra_bytes)
                .max(l.bytes.capacity().saturating_mul(2)),
        );
        let segments = l.segments.capacity().max(
            l.segments
                .len()
                .saturating_add(extra_segments)
                .max(l.segments.capacity().saturating_mul(2)),
        );
        let need = memory(bytes, segments);
        // Offsets must fit the map's 32 bits.
        if need > self.limit || bytes > u32::MAX as usize {
            self.over = true;
        }
        self.over
    }

    fn new_segment(&mut self, raw: usize, raw_len: usize, dec_len: usize) {
        if self.layer.segments.len() == self.layer.segments.capacity() && self.grows(0, 1) {
            return;
        }
        let (Ok(decoded), Ok(raw), Ok(raw_len), Ok(dec_len)) = (
            u32::try_from(self.layer.bytes.len()),
            u32::try_from(raw),
            u32::try_from(raw_len),
            u32::try_from(dec_len),
        ) else {
            self.over = true;
            return;
        };
        self.layer.segments.push(Segment {
            decoded,
            raw,
            raw_len,
            dec_len,
            lit_len: 0,
            count: 1,
        });
    }

    /// One input byte, as it is.
    pub(super) fn literal(&mut self, raw: usize, b: u8) {
        if self.over {
            return;
        }
        if raw != self.next_raw {
            self.new_segment(raw, 0, 0);
        }
        if self.layer.bytes.len() == self.layer.bytes.capacity() && self.grows(1, 0) {
            return;
        }
        self.layer.bytes.push(b);
        self.next_raw = raw + 1;
    }

    /// One input byte read as another (`+` as a space): offsets still map one to one, so it
    /// joins the literal run instead of costing a unit (a form body of `1+1+…` would otherwise
    /// map every other byte on its own).
    pub(super) fn substitute(&mut self, raw: usize, b: u8) {
        self.literal(raw, b);
        self.changed = true;
    }

    /// Input bytes as they are.
    pub(super) fn literals(&mut self, raw: usize, bytes: &[u8]) {
        for (k, &b) in bytes.iter().enumerate() {
            self.literal(raw + k, b);
        }
    }

    /// `raw_len` input bytes at `raw` decoded to `decoded` (nothing: removed).
    pub(super) fn unit(&mut self, raw: usize, raw_len: usize, decoded: &[u8]) {
        self.changed = true;
        if self.over {
            return;
        }
        if !self.repeats(raw, raw_len, decoded.len()) {
            self.new_segment(raw, raw_len, decoded.len());
        }
        let room = self.layer.bytes.capacity() - self.layer.bytes.len();
        if decoded.len() > room && self.grows(decoded.len(), 0) {
            return;
        }
        self.layer.bytes.extend_from_slice(decoded);
        self.next_raw = raw + raw_len;
    }

    /// Counts the unit as one more repetition of the current segment's, if it is one: the
    /// same lengths, right after the segment's literals, as many of them as between the
    /// repetitions before.
    fn repeats(&mut self, raw: usize, raw_len: usize, dec_len: usize) -> bool {
        let len = self.layer.bytes.len();
        let Some(s) = self.layer.segments.last_mut() else {
            return false;
        };
        if s.raw_len == 0
            || s.raw_len as usize != raw_len
            || s.dec_len as usize != dec_len
            || raw != self.next_raw
            || s.count == u32::MAX
        {
            return false;
        }
        let done = (s.count as usize - 1) * (s.dec_len as usize + s.lit_len as usize);
        let Some(tail) = len.checked_sub(s.decoded as usize + done + dec_len) else {
            return false;
        };
        if s.count == 1 {
            let Ok(tail) = u32::try_from(tail) else {
                return false;
            };
            s.lit_len = tail;
        } else if tail != s.lit_len as usize {
            return false;
        }
        s.count += 1;
        true
    }

    /// The layer (its vectors trimmed to what they hold), `None` when it changed nothing, or
    /// over its limit.
    pub(super) fn finish(self) -> Built {
        if self.over {
            return Err(OverBudget);
        }
        if !self.changed {
            return Ok(None);
        }
        let mut layer = self.layer;
        layer.bytes.shrink_to_fit();
        layer.segments.shrink_to_fit();
        Ok(Some(layer))
    }
}

/// The decoded view of `input`, or `None` when there is nothing to decode. `hints` (from the
/// raw pass) say which layers may change something; a layer that changes nothing is dropped.
/// [`OverBudget`] when the layers would take more memory than [`view_budget`] allows.
pub(super) fn view(
    input: &[u8],
    how: Decoding,
    format: Format,
    hints: &Hints,
    words: &[Range<usize>],
) -> Result<Option<View>, OverBudget> {
    view_within(input, how, format, hints, words, view_budget(input.len()))
}

/// [`view`] within `limit` bytes of memory.
fn view_within(
    input: &[u8],
    how: Decoding,
    format: Format,
    hints: &Hints,
    words: &[Range<usize>],
    limit: usize,
) -> Result<Option<View>, OverBudget> {
    let mut v = View::new(limit);
    let numbers = how.json && format == Format::Json && hints.number;
    if (how.json && hints.json_escape)
        || (how.percent && hints.percent)
        || (how.plus_is_space && hints.plus)
        || numbers
    {
        v.push(escapes(input, how, numbers, v.room()))?;
    }
    if how.json && !v.is_empty() {
        json_again(&mut v, input, numbers)?;
    }
    if how.percent && !v.is_empty() {
        percent_again(&mut v, input, 1)?;
    }
    // JSON escapes are undone by every reader of JSON; percent escapes in a JSON string or a
    // text body are not, and may cut a token (see `raw_tokens`).
    v.percent_decoded = !v.is_empty() && how.percent && hints.percent;
    // Decoded escapes may be non-ASCII even when the input is not.
    let non_ascii = if v.is_empty() {
        hints.non_ascii
    } else {
        !v.top(input).is_ascii()
    };
    if how.fold && non_ascii {
        v.push(fold(v.top(input), v.room()))?;
    }
    if how.nested {
        // Never less than the input: decoded text is shorter than its tokens, so no body can
        // spend the budget on harmless tokens and hide a value behind them; and a token left
        // for want of budget makes the view over its budget, never a silent miss.
        let mut budget = tokens::decoded_budget(input.len());
        // Where the tokens decoded so far lie in the top layer: the next level does not decode
        // them again (their text follows each), it looks in their texts and around them.
        let mut decoded: Vec<Range<usize>> = Vec::new();
        for level in 0..tokens::MAX_NESTING {
            // In the raw input the pass said where digits are; decoded bytes are searched whole.
            let search = if v.is_empty() {
                tokens::Search::Sparse { words }
            } else {
                tokens::Search::Everywhere { skip: &decoded }
            };
            let Some((layer, spans)) = tokens::layer(v.top(input), search, &mut budget, v.room())?
            else {
                break;
            };
            v.push(Ok(Some(layer)))?;
            decoded = spans;
            let after_tokens = v.depth();
            // What a token decoded to may be escaped or folded in its turn.
            if how.percent && memchr(b'%', v.top(input)) {
                let once = Decoding {
                    percent: true,
                    ..Decoding::default()
                };
                if v.push(escapes(v.top(input), once, false, v.room()))? {
                    // Levels of percent-encoding are counted inside the token's text.
                    percent_again(&mut v, input, 1)?;
                }
            }
            if how.fold && !v.top(input).is_ascii() {
                v.push(fold(v.top(input), v.room()))?;
            }
            if level + 1 < tokens::MAX_NESTING {
                // Escapes and folding never change a token's characters (base64 and hex
                // characters, `=`, line breaks: ASCII other than `%`), only shift them; an
                // escape that ends in a token's first characters (`%4` before `1…`) makes
                // that byte part of no token, and the run it starts stops at the token.
                for layer in v.layers.get(after_tokens..).unwrap_or_default() {
                    for span in &mut decoded {
                        *span = layer.forward(span.start)..layer.forward(span.end);
                    }
                }
            }
        }
    }
    Ok((!v.is_empty()).then_some(v))
}

/// The tokens of the raw input, read as they are, on their own (one level): for a receiver
/// that does not undo the percent escapes the view undid first, which may cut a token (`%34`
/// then `313131…`: percent-decoding takes the hex token's first two digits). `words` are the
/// pass's ([`super::tokens::Search::Sparse`]).
pub(super) fn raw_tokens(input: &[u8], words: &[Range<usize>]) -> Result<Option<View>, OverBudget> {
    let mut v = View::new(view_budget(input.len()));
    let mut budget = tokens::decoded_budget(input.len());
    let search = tokens::Search::Sparse { words };
    let layer = tokens::layer(input, search, &mut budget, v.room())?;
    v.push(Ok(layer.map(|(layer, _)| layer)))?;
    Ok((!v.is_empty()).then_some(v))
}

fn memchr(b: u8, t: &[u8]) -> bool {
    t.contains(&b)
}

/// Percent-decodes the top layer again while it still holds escapes, up to
/// [`MAX_PERCENT_DEPTH`] levels (`done` of them so far).
fn percent_again(v: &mut View, input: &[u8], mut done: usize) -> Result<(), OverBudget> {
    let once = Decoding {
        percent: true,
        ..Decoding::default()
    };
    while done < MAX_PERCENT_DEPTH && has_percent_escape(v.top(input)) {
        if !v.push(escapes(v.top(input), once, false, v.room()))? {
            break;
        }
        done += 1;
    }
    Ok(())
}

/// JSON inside a JSON string (an OpenAI tool call's `arguments`, an A2A data part written as
/// text) is escaped twice: its escapes are undone again while the top layer still holds some,
/// up to [`MAX_JSON_DEPTH`] levels in all.
fn json_again(v: &mut View, input: &[u8], numbers: bool) -> Result<(), OverBudget> {
    let once = Decoding {
        json: true,
        ..Decoding::default()
    };
    let mut done = 1;
    while done < MAX_JSON_DEPTH && has_json_escape(v.top(input)) {
        if !v.push(escapes(v.top(input), once, numbers, v.room()))? {
            break;
        }
        done += 1;
    }
    Ok(())
}

/// A JSON escape that decodes to something else than itself: `\u` and four hex digits, or
/// `\n`, `\t`, `\"`, `\\`, ...
fn has_json_escape(t: &[u8]) -> bool {
    t.windows(2).enumerate().any(|(i, w)| {
        w.first() == Some(&b'\\')
            && match w.get(1) {
                Some(b'u') => t
                    .get(i + 2..i + 6)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)),
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => true,
                _ => false,
            }
    })
}

fn has_percent_escape(t: &[u8]) -> bool {
    t.iter()
        .enumerate()
        .any(|(i, &b)| b == b'%' && percent(t, i).is_some())
}

/// The escapes layer (and integer-valued JSON numbers outside strings, with `numbers`).
fn escapes(input: &[u8], how: Decoding, numbers: bool, limit: usize) -> Built {
    let mut out = Builder::new(input.len(), limit);
    let mut in_string = false;
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        if b == b'+' && how.plus_is_space {
            out.substitute(i, b' ');
            i += 1;
            continue;
        }
        let escape = match b {
            b'%' if how.percent => percent(input, i).map(|v| (Decoded::Byte(v), 3)),
            b'\\' if how.json => json_escape(input, i),
            b'"' if numbers => {
                in_string = !in_string;
                None
            }
            b'-' | b'0'..=b'9' if numbers && !in_string => {
                match number_token(input, i) {
                    Some(NumberToken::Integer(digits, len)) => {
                        out.unit(i, len, &digits);
                        i += len;
                        continue;
                    }
                    Some(NumberToken::Other(len)) => {
                        // Copied as it is, whole: its digits start nothing inside it.
                        out.literals(i, input.get(i..i + len).unwrap_or_default());
                        i += len;
                        continue;
                    }
                    None => None,
                }
            }
            _ => None,
        };
        match escape {
            Some((value, raw_len)) => {
                let mut buf = [0u8; 4];
                out.unit(i, raw_len, value.encode(&mut buf));
                i += raw_len;
            }
            None => {
                out.literal(i, b);
                i += 1;
            }
        }
    }
    out.finish()
}

enum Decoded {
    Byte(u8),
    Char(char),
}

impl Decoded {
    fn encode<'a>(&'a self, buf: &'a mut [u8; 4]) -> &'a [u8] {
        match self {
            Decoded::Byte(b) => std::slice::from_ref(b),
            Decoded::Char(c) => c.encode_utf8(buf).as_bytes(),
        }
    }
}

fn hex(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

fn hex_n(input: &[u8], at: usize, n: usize) -> Option<u32> {
    input
        .get(at..at.checked_add(n)?)?
        .iter()
        .try_fold(0u32, |acc, &b| Some(acc * 16 + hex(b)?))
}

fn percent(input: &[u8], i: usize) -> Option<u8> {
    u8::try_from(hex_n(input, i + 1, 2)?).ok()
}

/// A JSON escape at `i` (the backslash): its value and length in the input.
fn json_escape(input: &[u8], i: usize) -> Option<(Decoded, usize)> {
    let simple = |c: u8| Some((Decoded::Byte(c), 2));
    match input.get(i + 1)? {
        b'"' => simple(b'"'),
        b'\\' => simple(b'\\'),
        b'/' => simple(b'/'),
        b'b' => simple(0x08),
        b'f' => simple(0x0c),
        b'n' => simple(b'\n'),
        b'r' => simple(b'\r'),
        b't' => simple(b'\t'),
        b'u' => {
            let hi = hex_n(input, i + 2, 4)?;
            if (0xD800..0xDC00).contains(&hi) {
                // A surrogate pair is one character.
                if input.get(i + 6..i + 8) == Some(b"\\u") {
                    if let Some(lo) =
                        hex_n(input, i + 8, 4).filter(|lo| (0xDC00..0xE000).contains(lo))
                    {
                        let c = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
                        return Some((Decoded::Char(c.unwrap_or('\u{FFFD}')), 12));
                    }
                }
                return Some((Decoded::Char('\u{FFFD}'), 6));
            }
            Some((Decoded::Char(char::from_u32(hi).unwrap_or('\u{FFFD}')), 6))
        }
        _ => None,
    }
}

/// An integer-valued number is rewritten when it has at least this many digits (the fewest a
/// numeric detector takes: a phone number's seven) and at most this many (a card has 19).
const MIN_NUMBER_DIGITS: usize = 7;
const MAX_NUMBER_DIGITS: usize = 24;

enum NumberToken {
    /// A fraction of zeros or an exponent that make it an integer of
    /// `MIN_NUMBER_DIGITS..=MAX_NUMBER_DIGITS` digits: those digits, and the token's length.
    Integer(Vec<u8>, usize),
    /// Any other number token (or a plain integer): its length.
    Other(usize),
}

/// The parts of a JSON number token (RFC 8259 §6: `-? int frac? exp?`).
struct NumberParts {
    negative: bool,
    int: Range<usize>,
    frac: Range<usize>,
    /// The exponent, clamped to ±1 000 000; 0 without one.
    exp: i64,
    has_exp: bool,
    end: usize,
}

fn digits_at(t: &[u8], j: usize) -> usize {
    t.get(j..)
        .map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count())
}

fn number_parts(t: &[u8], i: usize) -> Option<NumberParts> {
    let mut j = i;
    let negative = t.get(j) == Some(&b'-');
    if negative {
        j += 1;
    }
    let int_len = digits_at(t, j);
    if int_len == 0 {
        return None;
    }
    let int = j..j + int_len;
    j += int_len;
    let mut frac = j..j;
    if t.get(j) == Some(&b'.') {
        let n = digits_at(t, j + 1);
        if n == 0 {
            return None;
        }
        frac = j + 1..j + 1 + n;
        j += 1 + n;
    }
    let mut exp: i64 = 0;
    let mut has_exp = false;
    if matches!(t.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        let sign = match t.get(k) {
            Some(b'-') => {
                k += 1;
                -1
            }
            Some(b'+') => {
                k += 1;
                1
            }
            _ => 1,
        };
        let n = digits_at(t, k);
        if n > 0 {
            has_exp = true;
            let e = t
                .get(k..k + n)?
                .iter()
                .try_fold(0i64, |acc, &d| {
                    let v = acc * 10 + i64::from(d - b'0');
                    (v <= 1_000_000).then_some(v)
                })
                .unwrap_or(1_000_000);
            exp = sign * e;
            j = k + n;
        }
    }
    Some(NumberParts {
        negative,
        int,
        frac,
        exp,
        has_exp,
        end: j,
    })
}

impl NumberParts {
    /// `(int ++ frac) × 10^(exp − |frac|)` when that is an integer: how many digits
    /// `int ++ frac` keeps (without leading zeros) and how many zeros follow.
    fn integer(&self, t: &[u8]) -> Option<(Range<usize>, usize)> {
        if self.frac.is_empty() && !self.has_exp {
            return None; // a plain integer: nothing to rewrite
        }
        // The digits of `int ++ frac`, by index (the '.' between them is not one).
        let n_int = self.int.len();
        let total = n_int + self.frac.len();
        let digit = |k: usize| {
            let p = if k < n_int {
                self.int.start + k
            } else {
                self.frac.start + (k - n_int)
            };
            t.get(p).copied()
        };
        let scale = self.exp - i64::try_from(self.frac.len()).ok()?;
        let (keep, zeros) = if scale >= 0 {
            (total, usize::try_from(scale).ok()?)
        } else {
            let keep = total.checked_sub(usize::try_from(-scale).ok()?)?;
            if (keep..total).any(|k| digit(k) != Some(b'0')) {
                return None; // a fraction remains
            }
            (keep, 0)
        };
        let lead = (0..keep).take_while(|&k| digit(k) == Some(b'0')).count();
        let len = (keep - lead).checked_add(zeros)?;
        (keep > lead && (MIN_NUMBER_DIGITS..=MAX_NUMBER_DIGITS).contains(&len))
            .then_some((lead..keep, zeros))
    }

    /// The digits `integer` keeps, by index into `int ++ frac`.
    fn digits<'t>(&self, t: &'t [u8], kept: Range<usize>) -> impl Iterator<Item = u8> + 't {
        let int = t.get(self.int.clone()).unwrap_or_default();
        let frac = t.get(self.frac.clone()).unwrap_or_default();
        int.iter()
            .chain(frac)
            .skip(kept.start)
            .take(kept.len())
            .copied()
    }
}

/// Whether the number at `i` is written in a form that hides an integer the view rewrites (the
/// raw pass's hint; `i` is where the token starts, a digit).
pub(super) fn is_integer_form(t: &[u8], i: usize) -> bool {
    number_parts(t, i).is_some_and(|p| {
        p.integer(t).is_some()
            || (p.int.len() >= 15 || p.has_exp)
                && t.get(i..p.end).and_then(rounded_integer).is_some()
    })
}

/// A JSON number token at `i`, outside strings, not glued to a word before it.
fn number_token(t: &[u8], i: usize) -> Option<NumberToken> {
    if i.checked_sub(1)
        .and_then(|p| t.get(p))
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
    {
        return None;
    }
    let parts = number_parts(t, i)?;
    let len = parts.end - i;
    if t.get(parts.end)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
    {
        return Some(NumberToken::Other(len));
    }
    let Some((kept, zeros)) = parts.integer(t) else {
        return Some(match rounded_integer(t.get(i..parts.end)?) {
            Some(digits) => NumberToken::Integer(digits, len),
            None => NumberToken::Other(len),
        });
    };
    let mut out = Vec::with_capacity(MAX_NUMBER_DIGITS + 1);
    if parts.negative {
        out.push(b'-');
    }
    out.extend(parts.digits(t, kept));
    out.extend(std::iter::repeat_n(b'0', zeros));
    Some(NumberToken::Integer(out, len))
}

/// A number with a fraction that a JSON parser's double drops (`4111111111111111.2` and
/// `4.1111111111111112e15` are both the double 4111111111111111): its integer digits, when the
/// double is a whole number of 15 or 16 digits, which a double holds exactly (below 2^53).
/// Parsing is Rust's, correctly rounded like the parsers agents use (IEEE 754
/// round-to-nearest).
fn rounded_integer(token: &[u8]) -> Option<Vec<u8>> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    let v: f64 = std::str::from_utf8(token).ok()?.parse().ok()?;
    let whole = v.is_finite() && v.fract() == 0.0 && v.abs() >= 1e14 && v.abs() < EXACT;
    whole.then(|| format!("{v:.0}").into_bytes())
}

/// What folding makes of a character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// Left as it is.
    Keep,
    /// Removed: an invisible character.
    Remove,
    /// Replaced by this ASCII byte.
    Ascii(u8),
}

/// The Unicode look-alikes the scanner sees through:
///
/// - **removed**: the default-ignorable code points (Unicode 15.1, DerivedCoreProperties.txt,
///   `Default_Ignorable_Code_Point`): soft hyphen U+00AD, combining grapheme joiner U+034F,
///   Arabic letter mark U+061C, Hangul fillers, Khmer inherent vowels, Mongolian variation
///   selectors and vowel separator U+180B..U+180F, zero-width space, joiners and marks
///   U+200B..U+200F, bidi embeddings U+202A..U+202E, word joiner and invisible operators
///   U+2060..U+206F, variation selectors U+FE00..U+FE0F, U+FEFF (BOM / zero-width no-break
///   space), U+FFF0..U+FFF8, shorthand format controls U+1BCA0..U+1BCA3, musical format
///   controls U+1D173..U+1D17A, tags and variation selectors U+E0000..U+E0FFF; and the
///   combining marks of the generic blocks ([`is_generic_combining_mark`]: U+0300..U+036F,
///   U+1AB0..U+1AFF, U+1DC0..U+1DFF, U+20D0..U+20FF, U+FE20..U+FE2F), which render a digit
///   almost unchanged (`4\u{301}` is a 4 with an accent);
/// - **to a space**: the space separators (general category Zs: U+00A0, U+1680,
///   U+2000..U+200A, U+202F, U+205F, U+3000), U+2800 BRAILLE PATTERN BLANK, and to a line feed the line and paragraph
///   separators (Zl U+2028, Zp U+2029) and NEL (U+0085);
/// - **to a full stop**: U+3002 and U+FF61, which UTS #46 maps to `.` in domain names;
/// - **to ASCII**: the fullwidth forms U+FF01..U+FF5E (`＠` → `@`, Unicode's
///   Halfwidth and Fullwidth Forms block, compatibility-equivalent to U+0021..U+007E), and
///   every decimal digit (general category Nd, [`ND_ZEROS`]) to its ASCII digit.
pub fn fold_char(c: char) -> Fold {
    let u = u32::from(c);
    if u < 0x80 {
        return Fold::Keep;
    }
    if is_default_ignorable(u) || is_generic_combining_mark(u) {
        return Fold::Remove;
    }
    match u {
        // U+2800 BRAILLE PATTERN BLANK renders as a blank, though not a space separator.
        0x00A0 | 0x1680 | 0x2000..=0x200A | 0x202F | 0x205F | 0x2800 | 0x3000 => Fold::Ascii(b' '),
        0x0085 | 0x2028 | 0x2029 => Fold::Ascii(b'\n'),
        // The full stops UTS #46 (IDNA mapping) reads as the label separator of a domain
        // name: ideographic U+3002 and halfwidth ideographic U+FF61 (fullwidth U+FF0E is in
        // the fullwidth forms below).
        0x3002 | 0xFF61 => Fold::Ascii(b'.'),
        0xFF01..=0xFF5E => u8::try_from(u - 0xFEE0).map_or(Fold::Keep, Fold::Ascii),
        _ => match decimal_digit(u) {
            Some(d) => Fold::Ascii(b'0' + d),
            None => Fold::Keep,
        },
    }
}

/// The combining marks of the blocks that hold no script's own marks: they go on any base
/// character, and on a digit render it almost unchanged (`4\u{301}111`). Combining Diacritical
/// Marks U+0300..U+036F, Extended U+1AB0..U+1AFF, Supplement U+1DC0..U+1DFF, for Symbols
/// U+20D0..U+20FF (enclosing circles and keycaps included), Half Marks U+FE20..U+FE2F.
fn is_generic_combining_mark(u: u32) -> bool {
    matches!(
        u,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F
    )
}

fn is_default_ignorable(u: u32) -> bool {
    matches!(
        u,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// The zero of every run of ten decimal digits (general category Nd) outside ASCII: Unicode
/// 14.0's UnicodeData.txt (each run is ten consecutive code points with digit values 0..9),
/// and the two runs Unicode 15.0 added (Kawi U+11F50, Nag Mundari U+1E4F0). Digits of later
/// versions are not folded.
pub const ND_ZEROS: [u32; 67] = [
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6,
    0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50,
    0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950,
    0x1FBF0,
];

/// The value of a decimal digit outside ASCII.
pub(crate) fn decimal_digit(u: u32) -> Option<u8> {
    let k = ND_ZEROS.partition_point(|&z| z <= u).checked_sub(1)?;
    let zero = *ND_ZEROS.get(k)?;
    u8::try_from(u - zero).ok().filter(|d| *d < 10)
}

/// The UTF-8 character at `i`: it and its length, or `None` for an invalid sequence.
pub(super) fn utf8_char(t: &[u8], i: usize) -> Option<(char, usize)> {
    let b0 = *t.get(i)?;
    let len = match b0 {
        0x00..=0x7F => return Some((char::from(b0), 1)),
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let s = t.get(i..i + len)?;
    std::str::from_utf8(s)
        .ok()?
        .chars()
        .next()
        .map(|c| (c, len))
}

/// The folding layer, if anything folds.
fn fold(input: &[u8], limit: usize) -> Built {
    // Most non-ASCII text folds nothing: find the first character that does before copying.
    let Some(first) = first_fold(input) else {
        return Ok(None);
    };
    let mut out = Builder::new(input.len(), limit);
    out.literals(0, input.get(..first).unwrap_or_default());
    let mut i = first;
    while let Some(&b) = input.get(i) {
        if b < 0x80 {
            out.literal(i, b);
            i += 1;
            continue;
        }
        match utf8_char(input, i) {
            Some((c, len)) => match fold_char(c) {
                Fold::Keep => {
                    out.literals(i, input.get(i..i + len).unwrap_or_default());
                    i += len;
                }
                Fold::Remove => {
                    out.unit(i, len, &[]);
                    i += len;
                }
                Fold::Ascii(a) => {
                    out.unit(i, len, &[a]);
                    i += len;
                }
            },
            None => {
                out.literal(i, b);
                i += 1;
            }
        }
    }
    out.finish()
}

fn first_fold(input: &[u8]) -> Option<usize> {
    let mut i = input.iter().position(|&b| b >= 0x80)?;
    while let Some(&b) = input.get(i) {
        if b < 0x80 {
            i += 1;
            continue;
        }
        match utf8_char(input, i) {
            Some((c, len)) => {
                if fold_char(c) != Fold::Keep {
                    return Some(i);
                }
                i += len;
            }
            None => i += 1,
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    const URL: Decoding = Decoding {
        percent: true,
        plus_is_space: true,
        json: false,
        fold: true,
        nested: false,
    };
    const JSON: Decoding = Decoding {
        percent: false,
        plus_is_space: false,
        json: true,
        fold: true,
        nested: false,
    };

    const ALL_HINTS: Hints = Hints {
        json_escape: true,
        percent: true,
        plus: true,
        non_ascii: true,
        number: true,
    };

    /// As the raw pass would say.
    fn mk(raw: &[u8], how: Decoding) -> Option<View> {
        let hints = Hints {
            json_escape: raw.windows(2).any(|w| w == b"\\u"),
            percent: raw.contains(&b'%'),
            plus: raw.contains(&b'+'),
            non_ascii: !raw.is_ascii(),
            number: false,
        };
        view(raw, how, Format::Text, &hints, &[]).unwrap()
    }

    fn text(v: &View) -> String {
        String::from_utf8(v.bytes().to_vec()).unwrap()
    }

    /// The second level looks for tokens in the first level's texts, not again in its tokens
    /// (which stay, each before its text): each text is in the view once.
    #[test]
    fn tokens_decoded_at_one_level_are_not_decoded_again() {
        let nested = Decoding {
            nested: true,
            ..Decoding::default()
        };
        let once = super::tokens::tests::b64("the quarterly report is attached");
        let twice = super::tokens::tests::b64(super::tokens::tests::b64("jane@example.com"));
        let raw = format!("a {once} b {twice} c");
        let v = view(raw.as_bytes(), nested, Format::Text, &Hints::default(), &[])
            .unwrap()
            .unwrap();
        let t = text(&v);
        assert_eq!(t.matches("the quarterly report").count(), 1, "{t}");
        assert_eq!(t.matches("jane@example.com").count(), 1, "{t}");
        let at = t.find("jane").unwrap();
        assert_eq!(&raw[v.raw_span(&(at..at + 16))], twice);
    }

    #[test]
    fn nothing_to_decode_means_no_view() {
        assert!(mk(b"plain text @ 4111", URL).is_none());
        assert!(mk(br#"{"a":"b\n"}"#, JSON).is_none());
        assert!(mk("caf\u{e9} \u{2013} 4111".as_bytes(), URL).is_none());
    }

    #[test]
    fn percent_and_plus_map_back() {
        let raw = "q=jane%40example.com&c=4111+1111";
        let v = mk(raw.as_bytes(), URL).unwrap();
        assert_eq!(v.bytes(), b"q=jane@example.com&c=4111 1111");
        // "jane@example.com" in the view is "jane%40example.com" in the input.
        let span = v.raw_span(&(2..18));
        assert_eq!(&raw[span], "jane%40example.com");
        let span = v.raw_span(&(21..30));
        assert_eq!(&raw[span], "4111+1111");
        // Invalid escapes stay as they are.
        assert_eq!(mk(b"100%+x%zz%4", URL).unwrap().bytes(), b"100% x%zz%4");
    }

    #[test]
    fn percent_is_decoded_up_to_three_times() {
        let raw = "a%2540b.io x%252540y %25252540z";
        let v = mk(raw.as_bytes(), URL).unwrap();
        assert_eq!(text(&v), "a@b.io x@y %40z");
        assert_eq!(&raw[v.raw_span(&(1..2))], "%2540");
        assert_eq!(&raw[v.raw_span(&(8..9))], "%252540");
    }

    #[test]
    fn json_escapes_map_back() {
        let raw = r#"{"e":"jane\u0040example.com","x":"\ud83d\ude00\/\u00e9"}"#;
        let v = mk(raw.as_bytes(), JSON).unwrap();
        let t = text(&v);
        assert_eq!(t, "{\"e\":\"jane@example.com\",\"x\":\"😀/é\"}");
        let start = t.find("jane").unwrap();
        let span = v.raw_span(&(start..start + "jane@example.com".len()));
        assert_eq!(&raw[span], r"jane\u0040example.com");
        // A lone surrogate does not break decoding.
        let v = mk(br#""\ud800x""#, JSON).unwrap();
        assert_eq!(text(&v), "\"\u{FFFD}x\"");
    }

    /// Builds a layer from random literals and units (runs of like units too, removals, jumps
    /// back as a token layer makes) and checks every decoded byte against a map kept byte by
    /// byte: the runs a segment stands for map exactly as one segment per unit would.
    #[test]
    fn runs_of_like_units_map_as_single_units_do() {
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as usize
        };
        for _ in 0..2000 {
            let mut b = Builder::new(16, usize::MAX);
            let mut expect: Vec<Range<usize>> = Vec::new();
            let mut raw = 0;
            // A pattern repeated a few times, then something else: what real escapes do.
            let (ul, dl, ll) = (1 + rnd(6), rnd(4), rnd(3));
            for _ in 0..1 + rnd(40) {
                let what = rnd(10);
                let (unit_len, dec_len, lit_len) = if what < 6 {
                    (ul, dl, ll)
                } else {
                    (1 + rnd(6), rnd(4), rnd(3))
                };
                if what == 9 && raw > 4 {
                    // A token layer keeps the token and adds its text: the unit goes back.
                    let back = 1 + rnd(4);
                    b.unit(raw - back, back, &vec![b'x'; dec_len]);
                    expect.extend(std::iter::repeat_n(raw - back..raw, dec_len));
                } else {
                    b.unit(raw, unit_len, &vec![b'x'; dec_len]);
                    expect.extend(std::iter::repeat_n(raw..raw + unit_len, dec_len));
                    raw += unit_len;
                }
                for _ in 0..lit_len {
                    b.literal(raw, b'y');
                    expect.push(raw..raw + 1);
                    raw += 1;
                }
                if rnd(8) == 0 {
                    raw += 1 + rnd(3); // input bytes skipped: the next literal starts anew
                }
            }
            let Ok(Some(layer)) = b.finish() else {
                continue;
            };
            assert_eq!(layer.bytes.len(), expect.len());
            for (d, want) in expect.iter().enumerate() {
                assert_eq!(&layer.raw_unit(d), want, "decoded byte {d} of {layer:?}");
            }
        }
    }

    #[test]
    fn ordinary_escaped_text_takes_a_few_segments() {
        let cyrillic = r"\u043f\u0440\u0438\u0432\u0435\u0442 ".repeat(1000);
        let v = mk(cyrillic.as_bytes(), JSON).unwrap();
        assert!(v.layers[0].segments.len() <= 2 * 1000 + 1);
        let digits = "4\u{200b}1\u{200b}1\u{200b}1\u{200b}1\u{200b}1\u{200b}1\u{200b}1";
        let v = mk(digits.as_bytes(), JSON).unwrap();
        assert_eq!(text(&v), "41111111");
        assert_eq!(v.layers[0].segments.len(), 2);
        assert_eq!(
            v.raw_span(&(1..3)),
            4..9,
            "a removed character maps to nothing"
        );
    }

    #[test]
    fn views_over_their_budget_are_refused() {
        let hints = Hints {
            json_escape: true,
            percent: true,
            non_ascii: true,
            ..Hints::default()
        };
        let within =
            |t: &str, limit| view_within(t.as_bytes(), JSON, Format::Json, &hints, &[], limit);
        // Escaped twice, then folded: three layers.
        let t = r"\\u0041\\uff11 ".repeat(1000);
        let v = within(&t, usize::MAX).unwrap().unwrap();
        assert_eq!(v.depth(), 3);
        assert!(v.bytes().starts_with(b"A1 A1 "));
        // While a layer is built it holds room for its whole input: more than it keeps.
        let kept = v.memory();
        assert!(kept < VIEW_BUDGET_FACTOR * t.len(), "{kept}");
        assert!(within(&t, VIEW_BUDGET_FACTOR * t.len()).unwrap().is_some());
        assert_eq!(within(&t, kept / 2).err(), Some(OverBudget));
        assert_eq!(within(&t, 100).err(), Some(OverBudget));
        // The real budget: units that alternate never form a run, and each costs a segment.
        // Just past a power of two, its map doubles: 24 B per 4 input bytes, twice.
        let alternating = r"\u0041\\".repeat((1 << 17) + 100);
        assert_eq!(
            view(alternating.as_bytes(), JSON, Format::Json, &hints, &[]).err(),
            Some(OverBudget)
        );
        // The same size of ordinary escaped text is well within it.
        let cyrillic = r"\u043f\u0440\u0438\u0432\u0435\u0442 ".repeat(alternating.len() / 37);
        let v = view(cyrillic.as_bytes(), JSON, Format::Json, &hints, &[])
            .unwrap()
            .unwrap();
        // About one map entry per word, as large as the input in all: an eighth of the budget.
        assert!(v.memory() < 2 * cyrillic.len(), "{}", v.memory());
    }

    #[test]
    fn unicode_look_alikes_fold_and_map_back() {
        let raw =
            "4111\u{a0}1111\u{200b}1111\u{3000}\u{ff11}\u{0661}\u{1d7cf}1 jane\u{ff20}example.com";
        let v = mk(raw.as_bytes(), URL).unwrap();
        assert_eq!(text(&v), "4111 11111111 1111 jane@example.com");
        // The digit after U+200B maps to itself; the span over the removed character covers it.
        let t = text(&v);
        let at = t.find('@').unwrap();
        assert_eq!(&raw[v.raw_span(&(at..at + 1))], "\u{ff20}");
        assert_eq!(
            &raw[v.raw_span(&(0..18))],
            &raw[..raw.find(" jane").unwrap()]
        );
        // Escaped look-alikes fold too: `\u00a0` is a space once decoded.
        let raw = r#"{"c":"4111\u00a01111\u200B1111"}"#;
        let v = mk(raw.as_bytes(), JSON).unwrap();
        assert_eq!(text(&v), "{\"c\":\"4111 11111111\"}");
        assert_eq!(&raw[v.raw_span(&(6..19))], r"4111\u00a01111\u200B1111");
    }

    #[test]
    fn every_decimal_digit_folds() {
        for &zero in &ND_ZEROS {
            for d in 0..10u32 {
                let c = char::from_u32(zero + d).unwrap();
                assert_eq!(fold_char(c), Fold::Ascii(b'0' + d as u8), "{:X}", zero + d);
            }
        }
        assert_eq!(
            fold_char('\u{2460}'),
            Fold::Keep,
            "circled digits are not Nd"
        );
        assert_eq!(fold_char('\u{e9}'), Fold::Keep);
        assert!(ND_ZEROS.windows(2).all(|w| w[0] + 10 <= w[1]));
    }

    #[test]
    fn generic_combining_marks_go_and_the_braille_blank_is_a_space() {
        for c in [
            '\u{300}', '\u{301}', '\u{36f}', '\u{1ab0}', '\u{1dff}', '\u{20dd}', '\u{20e3}',
            '\u{fe2f}',
        ] {
            assert_eq!(fold_char(c), Fold::Remove, "{:X}", u32::from(c));
        }
        assert_eq!(fold_char('\u{2800}'), Fold::Ascii(b' '));
        // Marks of a script's own block stay (they are part of its letters).
        assert_eq!(fold_char('\u{93c}'), Fold::Keep);
        assert_eq!(
            fold_char('\u{2801}'),
            Fold::Keep,
            "a braille dot is not blank"
        );
    }

    #[test]
    fn integer_valued_json_numbers_are_their_digits() {
        let raw = r#"{"a":4111111111111111.0,"b":4.111111111111111e15,"c":4111111111111111E0,"d":0.25,"e":1e400,"s":"4.0e1","f":-12.50e6,"g":0.00012e11,"h":1.0,"i":12000000.0e-1}"#;
        let v = view(raw.as_bytes(), JSON, Format::Json, &ALL_HINTS, &[])
            .unwrap()
            .unwrap();
        assert_eq!(
            text(&v),
            r#"{"a":4111111111111111,"b":4111111111111111,"c":4111111111111111,"d":0.25,"e":1e400,"s":"4.0e1","f":-12500000,"g":12000000,"h":1.0,"i":1200000}"#
        );
        let t = text(&v);
        let at = t.find("\"b\":").unwrap() + 4;
        assert_eq!(&raw[v.raw_span(&(at..at + 16))], "4.111111111111111e15");
        // Not in text input, and not where no number form hides an integer.
        assert!(
            view(b"4111111111111111.0", JSON, Format::Text, &ALL_HINTS, &[])
                .unwrap()
                .is_none()
        );
        assert!(view(
            br#"{"v":1.5,"w":2,"x":3.0}"#,
            JSON,
            Format::Json,
            &ALL_HINTS,
            &[],
        )
        .unwrap()
        .is_none());
        assert!(is_integer_form(b"4.111111111111111e15,", 0));
        assert!(!is_integer_form(b"0.0,", 0));
        assert!(!is_integer_form(b"0.314,", 0));
    }
}
