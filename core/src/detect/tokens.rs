//! Base64 and hex tokens whose decoding is text: a value encoded in one is decoded and
//! scanned, and what is found in it maps back to the whole token.
//!
//! A token is a run of base64 characters (RFC 4648 §4 `A-Z a-z 0-9 + /` and §5 URL-safe
//! `- _`, either or both), at least [`MIN_BASE64`] of them, ending in at most two `=`; a line
//! break (`\n`, `\r\n`, or their JSON escapes) continues it after a line of at least
//! [`MIN_LINE`] characters, as long as the lines have the first one's length (the last may be
//! shorter), as in MIME (RFC 2045 §6.8) and PEM bodies; so does a single space (such lines
//! pasted into one line). It is read as hex (RFC 4648 §8)
//! when it is made of an even number of hex digits, at least [`MIN_HEX`], else as base64.
//! It is decoded only when the result is valid UTF-8 text without control characters other
//! than tab, line feed and carriage return: hashes, keys, UUIDs and compressed data decode to
//! binary and stay as they are.
//!
//! Finding the runs costs little: the input is read eight bytes at a time, and only a word with
//! no byte below `+` (no space, quote or control byte), in a run that goes on past it, can be
//! part of a run of [`MIN_BASE64`] or more, which always holds a whole word.

use std::ops::Range;

use super::decode::{Builder, Layer, OverBudget};

/// The fewest base64 characters (without padding) a decoded token has.
pub const MIN_BASE64: usize = 15;
/// The fewest hex digits a decoded token has (8 bytes).
pub const MIN_HEX: usize = 16;
/// A line break continues a token after a line of at least this many characters.
pub const MIN_LINE: usize = 16;
/// Tokens are decoded within decoded tokens this many levels deep.
pub const MAX_NESTING: usize = 2;
/// At least this many bytes are decoded from the tokens of one input, all levels together
/// (see [`decoded_budget`]).
pub const MAX_DECODED_BYTES: usize = 1 << 20;

/// The bytes the tokens of an input of `len` bytes may decode to, all levels together:
/// [`MAX_DECODED_BYTES`], or [`MAX_NESTING`] times the input when that is more. Text is at most
/// three quarters of its token (base64; hex half; UTF-16 with half its characters ASCII, as
/// [`utf16_text`] asks, three quarters), and each level looks for tokens only outside the
/// tokens the levels below decoded, in a layer no longer than the input's (escapes and
/// folding only shorten): no level decodes more than the input's length, and no body, however
/// much encoded text it carries, runs out. One that would is refused ([`OverBudget`]), never
/// left unsearched.
pub fn decoded_budget(len: usize) -> usize {
    MAX_DECODED_BYTES.max(len.saturating_mul(MAX_NESTING))
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The bytes of `w` in `+`..`9` or `A`..`z` (the base64 alphabet's span without `:`..`@`),
/// as the high bit of each byte; exact per byte.
fn class_mask(w: u64) -> u64 {
    let low7 = w & !HIGH;
    let at_least = |c: u64| low7 + ONES * (0x80 - c);
    let in_span = at_least(0x2B) & !at_least(0x7B);
    let in_gap = at_least(0x3A) & !at_least(0x41);
    in_span & !in_gap & !w & HIGH
}

fn word_at(t: &[u8], c: usize) -> u64 {
    t.get(c..c + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, u64::from_le_bytes)
}

/// Whether the word at `c`, all of whose bytes are of the class of [`class_mask`] (a superset
/// of the base64 alphabet), lies in a run of at least [`MIN_BASE64`] bytes of that class,
/// counting the bytes of its neighbours.
fn in_long_run(t: &[u8], c: usize) -> bool {
    // Class bytes at the end of the word before (its high bytes) and the start of the word
    // after (its low bytes); a missing word counts as none.
    let before = c.checked_sub(8).map_or(0, |p| {
        (!class_mask(word_at(t, p)) & HIGH).leading_zeros() / 8
    });
    let after = if t.len() >= c + 16 {
        (!class_mask(word_at(t, c + 8)) & HIGH).trailing_zeros() / 8
    } else {
        // Fewer than eight bytes follow: count them one by one.
        let rest = t.get(c + 8..).unwrap_or_default();
        let n = rest
            .iter()
            .take_while(|&&b| class_mask(u64::from(b)) & 0x80 != 0)
            .count();
        u32::try_from(n).unwrap_or(0)
    };
    8 + before as usize + after as usize >= MIN_BASE64
}

/// [`B64`] for the base64 alphabet (both RFC 4648 alphabets), and [`HEX`] for hex digits.
#[allow(clippy::indexing_slicing)] // const evaluation: `b` is below 256 by the loop condition
const fn char_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_') {
            t[b] = B64;
        }
        if c.is_ascii_hexdigit() {
            t[b] |= HEX;
        }
        b += 1;
    }
    t
}

const B64: u8 = 1;
const HEX: u8 = 2;
static CHARS: [u8; 256] = char_table();

fn chars_of(b: u8) -> u8 {
    CHARS.get(usize::from(b)).copied().unwrap_or(0)
}

fn is_b64(b: u8) -> bool {
    chars_of(b) & B64 != 0
}

fn at(t: &[u8], i: usize) -> Option<u8> {
    t.get(i).copied()
}

/// A token layer, and where the tokens decoded so far lie in it.
pub(super) type TokenLayer = (Layer, Vec<Range<usize>>);

/// A token, and the text it decodes to.
pub(super) type Decoded = (Range<usize>, Vec<u8>);

/// The decoding layer of `t`: every token that decodes to text followed by that text (between
/// line feeds, so that it is a field of its own; found in it, a value maps to the whole token),
/// or `None` when none does; with it, where the tokens decoded so far lie in it (those of
/// the `skip` of [`Search::Everywhere`] and the new ones, in order), for the next level to
/// leave alone. `budget` bounds the decoded bytes ([`OverBudget`] when a token that decodes to
/// text is left for want of it), `limit` the layer's memory ([`super::decode::view_budget`]).
pub(super) fn layer(
    t: &[u8],
    search: Search<'_>,
    budget: &mut usize,
    limit: usize,
) -> Result<Option<TokenLayer>, OverBudget> {
    let (found, apart) = find_apart(t, search, budget)?;
    if found.is_empty() {
        return Ok(None);
    }
    let decoded: usize = found.iter().map(|(_, text)| text.len() + 2).sum::<usize>()
        + apart.iter().map(|(_, a)| a.len()).sum::<usize>();
    let mut apart = apart.into_iter().peekable();
    let mut out = Builder::new(t.len() + decoded, limit);
    let old = match search {
        Search::Everywhere { skip } => skip,
        Search::Sparse { .. } => &[],
    };
    let mut spans = Vec::with_capacity(old.len() + found.len());
    let mut old = old.iter().peekable();
    // Bytes the units before a place add: the layer's offset of input offset `p` is `p + added`.
    let mut added = 0;
    let mut pos = 0;
    for (k, (span, text)) in found.into_iter().enumerate() {
        while let Some(o) = old.next_if(|o| o.end <= span.start) {
            spans.push(o.start + added..o.end + added);
        }
        // The token stays (a run of digits may be a value and hex at once); its text follows.
        out.literals(pos, t.get(pos..span.end).unwrap_or_default());
        spans.push(span.start + added..span.end + added);
        let lines = apart.next_if(|(i, _)| *i == k).map(|(_, a)| a);
        let mut decoded = Vec::with_capacity(text.len() + 2 + lines.as_ref().map_or(0, Vec::len));
        decoded.push(b'\n');
        decoded.extend_from_slice(&text);
        decoded.push(b'\n');
        if let Some(lines) = lines {
            // The next level searches both: a token in the text may run over two lines (the
            // text of a base64 block of base64), one in the lines apart may be glued to the
            // text before it in the text.
            decoded.extend_from_slice(&lines);
        }
        out.unit(span.start, span.len(), &decoded);
        added += decoded.len();
        pos = span.end;
    }
    spans.extend(old.map(|o| o.start + added..o.end + added));
    out.literals(pos, t.get(pos..).unwrap_or_default());
    Ok(out.finish()?.map(|l| (l, spans)))
}

/// A quick filter: no byte of `w` is below `+` (0x2B). Bytes of base64 are all in `+`..`z`;
/// what passes is looked at exactly ([`in_long_run`]).
fn no_low_byte(w: u64) -> bool {
    // Per byte, `b + 0x55` has its high bit set when `b >= 0x2B` (or `b >= 0x80`); a carry out
    // of a byte of 0xAB or more only adds one to the byte above, which keeps a set bit set.
    w.wrapping_add(ONES * (0x80 - 0x2B)) & HIGH == HIGH
}

/// Where to look for tokens in an input.
#[derive(Debug, Clone, Copy)]
pub(super) enum Search<'a> {
    /// Every run of at least [`MIN_BASE64`] characters (decoded layers) outside `skip`: the
    /// tokens a level below decoded (sorted), which stay in the layer, each before its text,
    /// and are not decoded again.
    Everywhere { skip: &'a [Range<usize>] },
    /// The raw input, with the words the scan pass met that hold a digit and may belong to a
    /// token (`words`). Words of eight bytes are tested every [`SPARSE_STRIDE`] bytes, which
    /// finds every run of at least [`MIN_SPARSE`]; a shorter token is found from its digits
    /// (hex always has some), and one without any is left out.
    Sparse { words: &'a [Range<usize>] },
}

/// How far apart the words the sparse search tests are.
pub const SPARSE_STRIDE: usize = 14;
/// A raw token without a digit is found when it has at least this many characters: it then
/// holds a whole tested word.
pub const MIN_SPARSE: usize = 8 + SPARSE_STRIDE - 1;

/// Whether the word at `c` (all of whose bytes pass [`no_low_byte`]) may lie in a run of
/// [`MIN_BASE64`]: such a run goes on for at least 7 more bytes on one side, so four of them
/// on that side, and the word shifted by four that way passes the filter too.
fn may_extend(t: &[u8], c: usize) -> bool {
    let shifted =
        |p: Option<usize>| p.is_some_and(|p| no_low_byte(word_at(t, p)) && p + 8 <= t.len());
    shifted(Some(c + 4)) || shifted(c.checked_sub(4))
}

/// The start of every tested word of `t` (eight bytes at each multiple of `S`) that may lie in
/// a run of at least [`MIN_BASE64`], in order. Four words are loaded per round and the quick
/// filter decides for all four before anything else is looked at: in text and JSON nearly
/// every word holds a space or a quote.
fn sweep<const S: usize>(t: &[u8], mut hit: impl FnMut(usize)) {
    let mut test = |c: usize, w: u64| test_word(t, c, w, &mut hit);
    let mut blocks = t.chunks_exact(4 * S);
    let mut base = 0;
    for block in &mut blocks {
        let word = |k: usize| {
            block
                .get(k * S..)
                .and_then(|r| r.first_chunk::<8>())
                .map_or(0, |w| u64::from_le_bytes(*w))
        };
        let (w0, w1, w2, w3) = (word(0), word(1), word(2), word(3));
        if no_low_byte(w0) || no_low_byte(w1) || no_low_byte(w2) || no_low_byte(w3) {
            test(base, w0);
            test(base + S, w1);
            test(base + 2 * S, w2);
            test(base + 3 * S, w3);
        }
        base += 4 * S;
    }
    let mut c = base;
    while let Some(w) = t.get(c..).and_then(|r| r.first_chunk::<8>()) {
        test(c, u64::from_le_bytes(*w));
        c += S;
    }
}

/// The word `w` at `c` starts or continues a long enough run: `hit(c)`. Inlined into the
/// sweep's loop whatever the size of its callers (a call per tested word showed as 0.5
/// instructions per byte of a 1 KiB body).
#[inline(always)]
fn test_word(t: &[u8], c: usize, w: u64, hit: &mut impl FnMut(usize)) {
    if no_low_byte(w) && class_mask(w) == HIGH && may_extend(t, c) && in_long_run(t, c) {
        hit(c);
    }
}

/// Looks for tokens at the places it is given, in order, each once.
struct Finder<'t, 'b> {
    t: &'t [u8],
    budget: &'b mut usize,
    /// Everything before this has been looked at.
    done: usize,
    found: Vec<(Range<usize>, Vec<u8>)>,
    /// For the blocks of several lines among `found` (their index): their lines' texts apart
    /// ([`lines_apart`]).
    apart: Vec<(usize, Vec<u8>)>,
    /// The spans not to look in that end after `done`, in order ([`Search::Everywhere`]).
    skip: &'t [Range<usize>],
    /// A token that decodes to text was left for want of budget: the search stops.
    over: bool,
}

impl Finder<'_, '_> {
    /// The runs that touch `place`: from the start of the first, up to past its end.
    fn visit(&mut self, place: Range<usize>) {
        let t = self.t;
        if self.over || place.end <= self.done {
            return;
        }
        let mut q = place.start.max(self.done);
        while q > self.done && at(t, q - 1).is_some_and(is_b64) {
            q -= 1;
        }
        // Groups of a block joined by single spaces: back to the first group (each at least
        // MIN_LINE long; prose before a token stops this at its first word).
        while q >= self.done + 2 + MIN_LINE && space_joined_before(t, q) {
            let mut group = run_start_b64(t, q - 1, MIN_LINE);
            if q - 1 - group < MIN_LINE {
                break;
            }
            while group > self.done && at(t, group - 1).is_some_and(is_b64) {
                group -= 1;
            }
            q = group;
        }
        while q < place.end && !self.over {
            // A token decoded below is passed over; a run before one ends where it starts.
            while self.skip.first().is_some_and(|s| s.end <= q) {
                self.skip = self.skip.get(1..).unwrap_or_default();
            }
            let limit = match self.skip.first() {
                Some(s) if s.start <= q => {
                    q = s.end;
                    continue;
                }
                Some(s) => s.start,
                None => t.len(),
            };
            let t = t.get(..limit).unwrap_or(t);
            if !at(t, q).is_some_and(is_b64) {
                q += 1;
                continue;
            }
            let token = token_end(t, q);
            if token.end - q >= MIN_BASE64 {
                if let Some(text) = decode(t, q, &token) {
                    let apart = if token.one_line {
                        Vec::new()
                    } else {
                        let lines = block_lines(t, q, token.end);
                        lines_apart(t, &lines, 0, lines.len().saturating_sub(1))
                    };
                    self.take(q..token.end, text, apart);
                } else if !token.one_line {
                    self.block(t, q, token.end);
                }
            }
            q = token.end.max(q + 1);
        }
        self.done = q;
    }

    /// The text of the token at `span`, within the budget, and for a block its lines' texts
    /// apart (not counted: never longer than the text).
    fn take(&mut self, span: Range<usize>, text: Vec<u8>, apart: Vec<u8>) {
        match self.budget.checked_sub(text.len()) {
            Some(left) => {
                *self.budget = left;
                if !apart.is_empty() {
                    self.apart.push((self.found.len(), apart));
                }
                self.found.push((span, text));
            }
            None => self.over = true,
        }
    }

    /// Lines joined as a block (`q..end`) that is not one: the parts of it that are. The
    /// lines of full width may be the block without what follows it (a MIME boundary), the
    /// first line a token of its own and the next a word of text (`…MTExMQ\nok`), lines of
    /// text be followed by binary or the other way round. One walk: from its first line, the
    /// block is decoded up to the line where it stops being text; the lines before that one
    /// are a token when they are text, and the search goes on from that line (from the next
    /// when it was the first). Every line is decoded a bounded number of times, so a block of
    /// binary lines costs its length, not its length times its lines.
    fn block(&mut self, t: &[u8], q: usize, end: usize) {
        let lines = block_lines(t, q, end);
        let last = lines.len().saturating_sub(2);
        let mut a = 0;
        let mut whole_tried = true;
        while a <= last && !self.over {
            let j = match first_bad_line(t, &lines, a) {
                Some(j) => j,
                None => {
                    if !whole_tried {
                        if let Some((span, text)) = decode_lines(t, &lines, a, last + 1, false) {
                            let apart = lines_apart(t, &lines, a, last + 1);
                            self.take(span, text, apart);
                            return;
                        }
                    }
                    last
                }
            };
            whole_tried = false;
            let to = if j > a { j } else { a + 1 };
            if let Some((span, text)) = decode_lines(t, &lines, a, to, true) {
                let apart = lines_apart(t, &lines, a, to);
                self.take(span, text, apart);
            }
            a = to;
        }
    }
}

/// The texts of the groups `a..b` of a block of groups joined by single spaces, each read
/// alone and followed by a line feed; nothing for a block of lines, or of one group. A block
/// decodes as one text, in which a group's text runs into the next one's: a value at the start
/// of a group is glued to the text before it (`foobarbazqux` + `4111111111111111`), where a
/// receiver that takes the groups for the tokens they look like sees it alone. A block of lines
/// (MIME, PEM) is one token to every receiver, which reads its text glued as the view does
/// (and reading its lines apart would make values of digit runs that a line break cuts).
/// Groups that do not decode alone add only their line feed.
fn lines_apart(t: &[u8], lines: &[Line], a: usize, b: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let spaced = lines.get(a).is_some_and(|l| at(t, l.end) == Some(b' '));
    if b.saturating_sub(a) < 2 || !spaced {
        return out;
    }
    for i in a..b {
        if let Some((_, text)) = decode_lines(t, lines, i, i + 1, false) {
            out.extend_from_slice(&text);
        }
        out.push(b'\n');
    }
    out
}

/// One line of a block ([`block_lines`]).
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    /// Its trailing `=`.
    pads: usize,
    /// Characters (padding aside) of the lines before it in the block.
    chars_before: usize,
    /// Lines before it in the block that are not all hex digits.
    not_hex_before: usize,
}

/// The lines of the block `q..end` ([`token_end`]), and after them one empty line at `end`
/// that counts them all.
fn block_lines(t: &[u8], q: usize, end: usize) -> Vec<Line> {
    let mut lines = Vec::new();
    let (mut j, mut chars_before, mut not_hex_before) = (q, 0, 0);
    loop {
        let (e, pads, hex) = line_end(t, j);
        lines.push(Line {
            start: j,
            end: e,
            pads,
            chars_before,
            not_hex_before,
        });
        chars_before += e - j - pads;
        not_hex_before += usize::from(!hex);
        match line_break(t, e) {
            Some(sep) if e < end => j = e + sep,
            _ => break,
        }
    }
    lines.push(Line {
        start: end,
        end,
        pads: 0,
        chars_before,
        not_hex_before,
    });
    lines
}

/// The lines `a..b` of a block: their raw bytes, characters, and whether they read as hex.
fn lines_part(lines: &[Line], a: usize, b: usize) -> Option<(Range<usize>, usize, bool)> {
    let (first, after) = (lines.get(a)?, lines.get(b)?);
    let last = lines.get(b.checked_sub(1)?)?;
    let n = after.chars_before - first.chars_before;
    let hex = after.not_hex_before == first.not_hex_before;
    Some((first.start..last.end, n, hex))
}

/// The text the lines `a..b` of a block decode to, with their span; `cut` drops a character
/// the last line leaves unfinished (the lines after it hold the rest).
fn decode_lines(
    t: &[u8],
    lines: &[Line],
    a: usize,
    b: usize,
    cut: bool,
) -> Option<(Range<usize>, Vec<u8>)> {
    let (span, n, is_hex) = lines_part(lines, a, b)?;
    let pads = lines.get(b.checked_sub(1)?)?.pads;
    let raw = t.get(span.clone())?;
    let chars = || DataChars { raw, i: 0 };
    if n < MIN_BASE64 {
        return None;
    }
    let text = if is_hex {
        (n >= MIN_HEX && n.is_multiple_of(2) && pads == 0)
            .then(|| text(|mode| hex(chars(), n, mode), || head(chars(), true), cut))
            .flatten()
    } else {
        text(
            |mode| base64(chars(), n, mode),
            || head(chars(), false),
            cut,
        )
    };
    Some((span, text?))
}

/// The line of a block, from its line `a` on, at which its decoding stops being text (the
/// last line when it fails only at its end), or `None` when it may be text to the end.
fn first_bad_line(t: &[u8], lines: &[Line], a: usize) -> Option<usize> {
    let b = lines.len().checked_sub(1)?;
    let (span, n, is_hex) = lines_part(lines, a, b)?;
    let raw = t.get(span)?;
    let mut out = TextBytes::new(Mode::Check, 0);
    let mut chars = DataChars { raw, i: 0 }.enumerate();
    let bad = if is_hex && n.is_multiple_of(2) {
        loop {
            let Some((_, hi)) = chars.next() else {
                break None;
            };
            let Some((k, lo)) = chars.next() else {
                break None;
            };
            let byte = char::from(hi).to_digit(16).zip(char::from(lo).to_digit(16));
            match byte.and_then(|(hi, lo)| u8::try_from(hi * 16 + lo).ok()) {
                Some(v) if out.push(v).is_some() => {}
                _ => break Some(k),
            }
        }
    } else if is_hex {
        // Hex digits that are not hex (an odd count) are not base64 either.
        None
    } else {
        let (mut acc, mut bits) = (0u32, 0u32);
        loop {
            let Some((k, c)) = chars.next() else {
                break None;
            };
            let Some(v) = sextet(c) else { break Some(k) };
            acc = (acc << 6 | v) & 0x00FF_FFFF;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                if u8::try_from(acc >> bits & 0xFF)
                    .ok()
                    .and_then(|v| out.push(v))
                    .is_none()
                {
                    break Some(k);
                }
            }
        }
    };
    let Some(k) = bad else {
        // Text to its end, or failing only there (an odd length, an unfinished character).
        return if decode_lines(t, lines, a, b, false).is_some() {
            None
        } else {
            Some(b - 1)
        };
    };
    let from = lines.get(a)?.chars_before;
    let rest = lines.get(a..b)?;
    Some(
        a + rest
            .partition_point(|l| l.chars_before - from <= k)
            .saturating_sub(1),
    )
}

/// The tokens of `t` that decode to text, in order, with their text; [`OverBudget`] when
/// `budget` runs out before every token that decodes is decoded.
#[cfg(test)]
pub(super) fn find(
    t: &[u8],
    search: Search<'_>,
    budget: &mut usize,
) -> Result<Vec<Decoded>, OverBudget> {
    find_apart(t, search, budget).map(|(found, _)| found)
}

/// [`find`], and for the blocks of several lines among what it finds (their index) their
/// lines' texts apart ([`lines_apart`]).
#[allow(clippy::type_complexity)]
fn find_apart(
    t: &[u8],
    search: Search<'_>,
    budget: &mut usize,
) -> Result<(Vec<Decoded>, Vec<(usize, Vec<u8>)>), OverBudget> {
    let mut finder = Finder {
        t,
        budget,
        done: 0,
        found: Vec::new(),
        apart: Vec::new(),
        skip: match search {
            Search::Everywhere { skip } => skip,
            Search::Sparse { .. } => &[],
        },
        over: false,
    };
    match search {
        Search::Everywhere { .. } => sweep::<8>(t, |c| finder.visit(c..c + 8)),
        Search::Sparse { words } => {
            // The words the pass met and the tested words, merged in order of their starts
            // (the pass meets words in input order; sorted here if it ever did not).
            let owned;
            let words = if words.is_sorted_by_key(|r| r.start) {
                words
            } else {
                let mut w = words.to_vec();
                w.sort_by_key(|r| r.start);
                owned = w;
                owned.as_slice()
            };
            let mut rest = words.iter();
            let mut next = rest.next();
            sweep::<SPARSE_STRIDE>(t, |c| {
                while let Some(w) = next.filter(|w| w.start <= c) {
                    finder.visit(w.clone());
                    next = rest.next();
                }
                finder.visit(c..c + 8);
            });
            while let Some(w) = next {
                finder.visit(w.clone());
                next = rest.next();
            }
        }
    }
    if finder.over {
        return Err(OverBudget);
    }
    Ok((finder.found, finder.apart))
}

/// Whether the line break of `sep` bytes at `j`, after a line of `width` characters, joins the
/// next line to the block. A single space does only between groups of whole quanta (`width`
/// a multiple of 4, as encoders cut lines) and before a group of that width, a padded one, or
/// one of at least 8 characters: a word of text after a token (`… ok`) is not part of it.
fn joins(t: &[u8], j: usize, sep: usize, width: usize) -> bool {
    if at(t, j) != Some(b' ') {
        return true;
    }
    let (end, pads, _) = line_end(t, j + sep);
    let next = end - (j + sep) - pads;
    width.is_multiple_of(4) && (next + pads == width || pads > 0 || next >= 8)
}

/// A single space before `q` (a base64 character), after a base64 character.
fn space_joined_before(t: &[u8], q: usize) -> bool {
    q >= 2 && at(t, q - 1) == Some(b' ') && at(t, q - 2).is_some_and(is_b64)
}

/// The start of the run of base64 characters that ends at `end`, looking back at most `max`.
fn run_start_b64(t: &[u8], end: usize, max: usize) -> usize {
    let mut s = end;
    while s > 0 && end - s < max && at(t, s - 1).is_some_and(is_b64) {
        s -= 1;
    }
    s
}

/// A line break at `i`: raw (`\n`, `\r\n`) or JSON-escaped (`\n`, `\r\n` written with
/// backslashes), or a single space (lines pasted into one line): its length.
fn line_break(t: &[u8], i: usize) -> Option<usize> {
    match (at(t, i)?, at(t, i + 1)) {
        (b' ', Some(b)) if b != b' ' => Some(1),
        (b'\n', _) => Some(1),
        (b'\r', Some(b'\n')) => Some(2),
        (b'\\', Some(b'n')) => Some(2),
        (b'\\', Some(b'r')) if t.get(i + 2..i + 4) == Some(b"\\n") => Some(4),
        _ => None,
    }
}

/// A run of base64 characters, as [`token_end`] finds it.
struct Token {
    end: usize,
    /// No line break inside.
    one_line: bool,
    /// Its characters (padding and line breaks aside) are all hex digits.
    hex: bool,
}

/// The token that starts at `q` (a base64 character): one walk finds its end and whether it is
/// one line and hex.
fn token_end(t: &[u8], q: usize) -> Token {
    let mut j = q;
    let mut hex = true;
    let mut one_line = true;
    // The first line's length: the lines of an encoded block all have it but the last.
    let mut width = None;
    loop {
        let line = j;
        let (end, pads, line_hex) = line_end(t, j);
        j = end;
        hex &= line_hex;
        let len = j - line;
        let token = |end| Token { end, one_line, hex };
        if pads > 0 || len < MIN_LINE || width.is_some_and(|w| w != len) {
            return token(j);
        }
        width = Some(len);
        match line_break(t, j) {
            Some(sep) if at(t, j + sep).is_some_and(is_b64) && joins(t, j, sep, len) => {
                let len = sep;
                j += len;
                one_line = false;
            }
            _ => return token(j),
        }
    }
}

/// The end of one line of base64 characters starting at `j` (its padding included), how many
/// `=` it ends with, and whether its characters are all hex digits.
fn line_end(t: &[u8], mut j: usize) -> (usize, usize, bool) {
    #[cfg(test)]
    let from = j;
    // Hex ids (trace ids, hashes) are the tokens most bodies carry: their digits are passed
    // eight at a time, then the rest of the line byte by byte.
    while let Some(w) = t.get(j..j + 8).and_then(|w| w.first_chunk::<8>()) {
        if !all_hex_digits(u64::from_le_bytes(*w)) {
            break;
        }
        j += 8;
    }
    let mut hex = true;
    while let Some(c) = at(t, j).map(chars_of).filter(|c| c & B64 != 0) {
        hex &= c & HEX != 0;
        j += 1;
    }
    let mut pads = 0;
    while pads < 2 && at(t, j) == Some(b'=') {
        j += 1;
        pads += 1;
    }
    #[cfg(test)]
    tests::WALKED.set(tests::WALKED.get() + (j - from));
    (j, pads, hex)
}

/// Whether every byte of `w` is a hex digit (`0-9 A-F a-f`).
fn all_hex_digits(w: u64) -> bool {
    // With every byte's high bit set, subtracting `c` from each byte never borrows from the
    // next one, and leaves its high bit set when its low seven bits are `>= c`; the thresholds
    // rise, so the exclusive or of their tests marks the bytes in the three ranges.
    let high = w | HIGH;
    let at_least = |c: u64| high.wrapping_sub(ONES * c);
    let in_ranges = at_least(b'0'.into())
        ^ at_least(u64::from(b'9') + 1)
        ^ at_least(b'A'.into())
        ^ at_least(u64::from(b'F') + 1)
        ^ at_least(b'a'.into())
        ^ at_least(u64::from(b'f') + 1);
    in_ranges & !w & HIGH == HIGH
}

/// The characters of a token without its line breaks and padding.
struct DataChars<'a> {
    raw: &'a [u8],
    i: usize,
}

impl Iterator for DataChars<'_> {
    type Item = u8;
    fn next(&mut self) -> Option<u8> {
        loop {
            let b = at(self.raw, self.i)?;
            match line_break(self.raw, self.i) {
                Some(len) => self.i += len,
                None => {
                    self.i += 1;
                    if is_b64(b) {
                        return Some(b);
                    }
                }
            }
        }
    }
}

/// What a decoding does with its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Checks that they may be UTF-8 text, keeping nothing.
    Check,
    /// Checks and keeps them.
    Keep,
    /// Keeps them unchecked (UTF-16 text, checked as such afterwards).
    Raw,
}

/// Collects decoded bytes, giving up at the first one that cannot be part of text (a control
/// byte, a byte that never occurs in UTF-8): binary tokens are dropped after a few bytes. In
/// [`Mode::Check`] it only checks (nothing is allocated for a binary token).
struct TextBytes {
    bytes: Vec<u8>,
    mode: Mode,
    /// Continuation bytes the last lead byte still calls for (the shape of UTF-8 only:
    /// [`is_text`] checks the whole text).
    more: u8,
}

impl TextBytes {
    fn new(mode: Mode, capacity: usize) -> TextBytes {
        TextBytes {
            bytes: match mode {
                Mode::Check => Vec::new(),
                Mode::Keep | Mode::Raw => Vec::with_capacity(capacity),
            },
            mode,
            more: 0,
        }
    }

    fn push(&mut self, b: u8) -> Option<()> {
        match self.mode {
            Mode::Raw => {
                self.bytes.push(b);
                return Some(());
            }
            Mode::Check | Mode::Keep => {}
        }
        let control = (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7F;
        let never_utf8 = matches!(b, 0xC0 | 0xC1 | 0xF5..=0xFF);
        if control || never_utf8 {
            return None;
        }
        // Random bytes break the shape of UTF-8 within a few bytes.
        let continuation = (0x80..0xC0).contains(&b);
        if continuation != (self.more > 0) {
            return None;
        }
        self.more = match b {
            0x80..=0xBF => self.more.saturating_sub(1),
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF4 => 3,
            _ => 0,
        };
        if self.mode == Mode::Keep {
            self.bytes.push(b);
        }
        Some(())
    }
}

/// The text the token at `q` decodes to, if it is text.
fn decode(t: &[u8], q: usize, token: &Token) -> Option<Vec<u8>> {
    let raw = t.get(q..token.end)?;
    if token.one_line {
        // Its characters are the bytes before the padding.
        let n = raw.len() - raw.iter().rev().take_while(|&&b| b == b'=').count();
        let data = raw.get(..n)?;
        if n < MIN_BASE64 {
            return None;
        }
        let chars = || data.iter().copied();
        if token.hex {
            // All hex digits: hex, or nothing. Base64 of text is never all lowercase hex (the
            // first character of a group of four from a printable ASCII byte is `I`..`f`, and
            // digits encode to `M`, `N`, `O`), and trying it costs most on the hex ids every
            // body carries (a trace id decodes some way as base64 before it fails).
            return (n >= MIN_HEX && n.is_multiple_of(2) && n == raw.len())
                .then(|| text(|mode| hex(chars(), n, mode), || head(chars(), true), false))
                .flatten();
        }
        return text(
            |mode| base64(chars(), n, mode),
            || head(chars(), false),
            false,
        );
    }
    let chars = || DataChars { raw, i: 0 };
    let n = chars().count();
    if n < MIN_BASE64 {
        return None;
    }
    if token.hex {
        return (n >= MIN_HEX && n.is_multiple_of(2) && !raw.contains(&b'='))
            .then(|| text(|mode| hex(chars(), n, mode), || head(chars(), true), false))
            .flatten();
    }
    text(
        |mode| base64(chars(), n, mode),
        || head(chars(), false),
        false,
    )
}

/// Decodes twice when the bytes may be UTF-8 text: once to check them, once to keep them (with
/// `cut`, without a last character they leave unfinished).
/// Bytes that start as UTF-16 text does (a byte order mark, or two ASCII characters each with
/// a NUL byte before or after it) are decoded as UTF-16 instead: text saved by Windows tools,
/// .NET and Java (`Encoding.Unicode`, `UTF_16LE`) before it is base64-encoded.
fn text(
    decode: impl Fn(Mode) -> Option<Vec<u8>>,
    head: impl FnOnce() -> Option<[u8; 4]>,
    cut: bool,
) -> Option<Vec<u8>> {
    if decode(Mode::Check).is_some() {
        let mut d = decode(Mode::Keep)?;
        if cut {
            if let Err(e) = std::str::from_utf8(&d) {
                if e.error_len().is_none() {
                    d.truncate(e.valid_up_to());
                }
            }
        }
        return is_text(&d).then_some(d);
    }
    // Binary is decoded whole again only when its first bytes are those of UTF-16 text.
    utf16_order(&head()?)?;
    utf16_text(&decode(Mode::Raw)?)
}

/// The first four bytes `chars` (hex digits, or base64) decode to, without allocating.
fn head(mut chars: impl Iterator<Item = u8>, is_hex: bool) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    if is_hex {
        for o in &mut out {
            let hi = char::from(chars.next()?).to_digit(16)?;
            let lo = char::from(chars.next()?).to_digit(16)?;
            *o = u8::try_from(hi * 16 + lo).ok()?;
        }
        return Some(out);
    }
    let (mut acc, mut bits, mut k) = (0u32, 0u32, 0usize);
    while k < out.len() {
        acc = (acc << 6 | sextet(chars.next()?)?) & 0x00FF_FFFF;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(k)? = u8::try_from(acc >> bits & 0xFF).ok()?;
            k += 1;
        }
    }
    Some(out)
}

/// The byte order (little-endian: `true`) and the length of the mark of UTF-16 text that starts
/// `d`: a byte order mark, or two ASCII characters (not NUL) of either order.
fn utf16_order(d: &[u8]) -> Option<(bool, usize)> {
    let ascii = |b: Option<&u8>| b.is_some_and(|&b| b != 0 && b.is_ascii());
    let nul = |b: Option<&u8>| b == Some(&0);
    match d {
        [0xFF, 0xFE, ..] => Some((true, 2)),
        [0xFE, 0xFF, ..] => Some((false, 2)),
        _ if ascii(d.first()) && nul(d.get(1)) && ascii(d.get(2)) && nul(d.get(3)) => {
            Some((true, 0))
        }
        _ if nul(d.first()) && ascii(d.get(1)) && nul(d.get(2)) && ascii(d.get(3)) => {
            Some((false, 0))
        }
        _ => None,
    }
}

/// UTF-16 bytes (see [`utf16_order`]) as UTF-8 text: an even number of bytes that decode
/// without a lone surrogate to text ([`is_text`]) at least half of whose characters are ASCII,
/// as UTF-16 bodies must be (`charset.rs`): binary that starts like UTF-16 stays binary.
fn utf16_text(d: &[u8]) -> Option<Vec<u8>> {
    let (little, mark) = utf16_order(d)?;
    let units = d.get(mark..)?;
    if !units.len().is_multiple_of(2) {
        return None;
    }
    let units = units.chunks_exact(2).map(|p| {
        let pair = [p.first().copied(), p.get(1).copied()].map(Option::unwrap_or_default);
        if little {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });
    let mut out = String::with_capacity(d.len() / 2);
    let (mut chars, mut ascii) = (0usize, 0usize);
    for c in char::decode_utf16(units) {
        let c = c.ok()?;
        chars += 1;
        ascii += usize::from(c.is_ascii());
        out.push(c);
    }
    (ascii * 2 >= chars && is_text(out.as_bytes())).then(|| out.into_bytes())
}

fn hex(mut chars: impl Iterator<Item = u8>, n: usize, mode: Mode) -> Option<Vec<u8>> {
    let mut out = TextBytes::new(mode, n / 2);
    while let Some(hi) = chars.next() {
        let hi = char::from(hi).to_digit(16)?;
        let lo = char::from(chars.next()?).to_digit(16)?;
        out.push(u8::try_from(hi * 16 + lo).ok()?)?;
    }
    Some(out.bytes)
}

fn sextet(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => u32::from(b - b'A'),
        b'a'..=b'z' => u32::from(b - b'a') + 26,
        b'0'..=b'9' => u32::from(b - b'0') + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    })
}

/// Standard or URL-safe base64 of `n` characters, padding already dropped.
fn base64(chars: impl Iterator<Item = u8>, n: usize, mode: Mode) -> Option<Vec<u8>> {
    if n % 4 == 1 {
        return None;
    }
    let mut out = TextBytes::new(mode, n / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in chars {
        acc = (acc << 6 | sextet(c)?) & 0x00FF_FFFF;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from(acc >> bits & 0xFF).ok()?)?;
        }
    }
    Some(out.bytes)
}

/// Valid UTF-8 without control characters other than tab, line feed and carriage return.
fn is_text(d: &[u8]) -> bool {
    std::str::from_utf8(d).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
    })
}

#[cfg(test)]
#[allow(clippy::string_slice)]
pub(super) mod tests {
    use super::*;

    thread_local! {
        /// Bytes [`line_end`] walked on this thread: the work of the search for blocks.
        pub(super) static WALKED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// Lines of `width` base64 characters of pseudo-random bytes, joined by `sep`.
    fn binary_lines(bytes: usize, width: usize, sep: &str) -> String {
        let mut seed = 12345u64;
        let bin: String = (0..bytes)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(seed as u8)
            })
            .collect();
        // `b64` encodes the UTF-8 of its argument: bytes of 0x80 and more become two, which
        // is as binary as one.
        let b = b64(&bin);
        b.as_bytes()
            .chunks(width)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(sep)
    }

    #[test]
    fn text_lines_next_to_binary_lines_in_one_block_are_found() {
        let text = b64("my card is 4111 1111 1111 1111, thanks. ".repeat(4));
        let text: Vec<&str> = text
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let full = text.len() - 1; // the lines of full width
        let bin = binary_lines(57 * 3, 76, "\n");
        for t in [
            format!("{}\n{bin}", text[..full].join("\n")),
            format!("{bin}\n{}", text.join("\n")),
            format!("{}\n--boundary--", text.join("\n")),
        ] {
            let got = texts(&t);
            assert_eq!(got.len(), 1, "{t}: {got:?}");
            assert!(got[0].1.starts_with("my card is 4111 1111"), "{got:?}");
        }
        // A token, and a word of text on the next line.
        let got = texts(&format!("{}\nok", b64("4111111111111111 ok")));
        assert_eq!(got[0].1, "4111111111111111 ok");
    }

    #[test]
    fn blocks_of_binary_lines_are_searched_in_linear_time() {
        // Each failed block used to be searched again from its next line to its end.
        for sep in ["\r\n", "\n", " "] {
            let t = format!(
                "--b\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
                binary_lines(48 << 10, 76, sep)
            );
            WALKED.set(0);
            assert_eq!(texts(&t), vec![], "{sep:?}");
            let walked = WALKED.get();
            assert!(
                walked <= 4 * t.len(),
                "{sep:?}: {walked} bytes walked for {}",
                t.len()
            );
        }
    }

    /// Standard base64 (RFC 4648 §4), padded: what the tests hide values in.
    pub(in crate::detect) fn b64(s: impl AsRef<[u8]>) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for g in s.as_ref().chunks(3) {
            let n = g.iter().fold(0u32, |a, &b| a << 8 | u32::from(b)) << (8 * (3 - g.len()));
            for k in 0..=g.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            }
            for _ in g.len()..3 {
                out.push('=');
            }
        }
        out
    }

    fn texts(t: &str) -> Vec<(String, String)> {
        let mut budget = MAX_DECODED_BYTES;
        find(t.as_bytes(), Search::Everywhere { skip: &[] }, &mut budget)
            .unwrap()
            .into_iter()
            .map(|(r, d)| (t[r].to_string(), String::from_utf8(d).unwrap()))
            .collect()
    }

    #[test]
    fn a_token_left_for_want_of_budget_is_over_budget() {
        let t = format!("{} {}", b64("4111 1111 1111 1111"), b64("jane@example.com"));
        let mut budget = 19;
        let got = find(t.as_bytes(), Search::Everywhere { skip: &[] }, &mut budget);
        assert_eq!(got.map(|f| f.len()), Err(OverBudget));
        let mut budget = 19 + 16;
        let got = find(t.as_bytes(), Search::Everywhere { skip: &[] }, &mut budget);
        assert_eq!(got.map(|f| f.len()), Ok(2));
        assert_eq!(budget, 0);
    }

    #[test]
    fn class_mask_is_exact() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                for fill in [b'a', 0xFF, 0x00, b'@'] {
                    let mut w = [fill; 8];
                    w[pos] = b;
                    let want = (0x2B..=0x39).contains(&b) || (0x41..=0x7A).contains(&b);
                    let got = class_mask(u64::from_le_bytes(w)) >> (8 * pos + 7) & 1 == 1;
                    assert_eq!(got, want, "{b:#x} at {pos} in {fill:#x}");
                }
            }
        }
    }

    #[test]
    fn hex_digit_words_are_exact() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                for fill in [b'0', b'f', b'A'] {
                    let mut w = [fill; 8];
                    w[pos] = b;
                    let got = all_hex_digits(u64::from_le_bytes(w));
                    assert_eq!(got, b.is_ascii_hexdigit(), "{b:#x} at {pos} in {fill:#x}");
                }
            }
        }
    }

    #[test]
    fn base64_and_hex_text_is_found() {
        let card = b64("4111111111111111");
        assert_eq!(card, "NDExMTExMTExMTExMTExMQ==");
        let t = format!(r#"{{"a":"{card}","b":"{}"}}"#, card.trim_end_matches('='));
        let got = texts(&t);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], (card.clone(), "4111111111111111".into()));
        assert_eq!(got[1].1, "4111111111111111");
        // URL-safe, and hex.
        let e = b64("jane?doe>x@example.com")
            .replace('/', "_")
            .replace('+', "-");
        assert_eq!(texts(&format!("x {e} y"))[0].1, "jane?doe>x@example.com");
        assert_eq!(
            texts("id 3132332d34352d36373839 end"),
            vec![("3132332d34352d36373839".into(), "123-45-6789".into())]
        );
    }

    #[test]
    fn mime_lines_are_one_token() {
        let long = b64("my card is 4111 1111 1111 1111, thanks. ".repeat(3));
        let lines: Vec<&str> = long
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        for sep in ["\r\n", "\n", "\\r\\n", "\\n"] {
            let t = format!(
                "--b\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--",
                lines.join(sep)
            );
            let got = texts(&t);
            assert_eq!(got.len(), 1, "{sep:?}: {got:?}");
            assert!(got[0].1.starts_with("my card is 4111"), "{got:?}");
        }
    }

    #[test]
    fn binary_words_and_short_tokens_are_left_alone() {
        for t in [
            "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "id 550e8400-e29b-41d4-a716-446655440000",
            "internationalization and counterrevolutionaries",
            "/api/v1/users/12345/profile/settings",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
            "1700000000004 1234567890123456785 12345678901234567890",
            "YWJj YWJjZGVmZ2hpag",
        ] {
            assert_eq!(texts(t), vec![], "{t}");
        }
        // A JWT's parts are base64url JSON: decoded like any text (the JWT detector has them).
        assert_eq!(texts("eyJhbGciOiJIUzI1NiJ9")[0].1, r#"{"alg":"HS256"}"#);
    }

    #[test]
    fn the_quick_filter_lets_every_base64_word_through() {
        for b in 0x2B..=0x7Au8 {
            for pos in 0..8 {
                for fill in [b'+', b'z', 0xFF, 0xAB] {
                    let mut w = [fill; 8];
                    w[pos] = b;
                    if fill < 0x80 {
                        assert!(no_low_byte(u64::from_le_bytes(w)), "{b:#x} at {pos}");
                    }
                }
            }
        }
        assert!(!no_low_byte(u64::from_le_bytes(*b"abc defg")));
    }

    #[test]
    fn sparse_search_finds_long_tokens_and_the_words_it_is_given() {
        let long = b64("4111 1111 1111 1111"); // 28 characters, no digit
        let short = b64("123-45-6789");
        let t = format!("a {long} b {short} c");
        let mut budget = MAX_DECODED_BYTES;
        let s = t.find(&short).unwrap();
        let words: Vec<Range<usize>> = std::iter::once(s..s + short.len() - 1).collect();
        let got = find(t.as_bytes(), Search::Sparse { words: &words }, &mut budget).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].1, b"123-45-6789");
        let got = find(t.as_bytes(), Search::Sparse { words: &[] }, &mut budget).unwrap();
        assert_eq!(got.len(), 1, "a short token is found from its words only");
        // Any run of MIN_SPARSE, wherever it starts.
        let run = "NDExMTExMTExMTExMTExMQ";
        assert!(run.len() >= MIN_SPARSE);
        for pad in 0..20 {
            let t = format!("{}\"{run}\"", " ".repeat(pad));
            let got = find(t.as_bytes(), Search::Sparse { words: &[] }, &mut budget).unwrap();
            assert_eq!(got.len(), 1, "{t}");
        }
    }

    #[test]
    fn utf16_text_is_text_and_utf16_like_binary_is_not() {
        let le: Vec<u8> = "card 4111"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(utf16_text(&le).as_deref(), Some(&b"card 4111"[..]));
        let mut be = vec![0xFE, 0xFF];
        be.extend("card 4111".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(utf16_text(&be).as_deref(), Some(&b"card 4111"[..]));
        // A lone surrogate, mostly non-ASCII units, an odd length, a control character.
        for bad in [
            &[b'a', 0, b'b', 0, 0x00, 0xD8, b'c', 0][..],
            &[b'a', 0, b'b', 0, 0x12, 0x9F, 0x34, 0x8E, 0x56, 0x7D][..],
            &[b'a', 0, b'b', 0, b'c'][..],
            &[b'a', 0, b'b', 0, 0x01, 0][..],
            &[0x12, 0x34, 0x56, 0x78][..],
        ] {
            assert_eq!(utf16_text(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn runs_are_found_wherever_they_start() {
        let token = b64("ann@example.com!");
        for pad in 0..9 {
            let t = format!("{}\"{token}\" {}", " ".repeat(pad), "x".repeat(pad));
            assert_eq!(texts(&t).len(), 1, "{t}");
        }
    }
}
