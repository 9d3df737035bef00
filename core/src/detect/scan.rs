//! The single pass. It stops only at bytes that can start, or betray, a value: digits, the
//! letter `A` (AWS keys) and a little punctuation (`@ + ( - : . _ % \`). Letters, spaces and
//! JSON structure are skipped in a tight loop without stopping at every word, which is where
//! a word-by-word walk spent its time (a mispredicted branch at every word boundary).
//!
//! Values that start with letters are found from a byte they carry: `bc1…` from its digit,
//! `ghp_…` from its underscore, `xoxb-…` from its dash, `eyJ….` from its dot, `fe80::` from its
//! colon, `DE89…` from its check digits; the detector then runs from the start of that word.
//! Whether a finding sits inside a JSON string is worked out only when a body is redacted.

use std::ops::Range;

use super::catalogue::DigitWord;
use super::text::{
    at, before, group_sep_at, is_word, run_end, run_start, sep_at, word_end, word_start_at,
    GroupSep,
};
use super::{at_digit_word, at_letter_word, at_stop, is_stop_byte};
use super::{Finding, Format, Kind, Scanner};

/// Escapes the pass met: they decide whether a decoded view is worth scanning too.
#[derive(Debug, Default, Clone)]
pub(super) struct Seen {
    pub json_unicode_escape: bool,
    pub percent_escape: bool,
    pub plus: bool,
    /// A number whose fraction of zeros or exponent hides an integer of seven digits or more
    /// (`4111111111111111.0`, `4.111111111111111e15`).
    pub number_form: bool,
    /// Words holding a digit that may belong to a base64 or hex token: long ones, and ones
    /// joined to more of a token by `+` or `/` (see `tokens::Search::Sparse`).
    pub token_words: Places,
}

/// Ranges in the order they are pushed; the first few are kept without allocating (most bodies
/// have none or one, a trace id).
#[derive(Debug, Default, Clone)]
pub(super) struct Places {
    len: usize,
    inline: [Range<usize>; 4],
    spilled: Vec<Range<usize>>,
}

/// Places this close are one: the token search visits every run a place touches, so the
/// union finds what its parts do, and `1+1+1+…` (every digit a word beside a `+`) costs one
/// place instead of one per two bytes of the input.
const PLACES_JOINED_WITHIN: usize = 8;

impl Places {
    fn push(&mut self, r: Range<usize>) {
        let last = if self.spilled.is_empty() {
            self.len.checked_sub(1).and_then(|k| self.inline.get_mut(k))
        } else {
            self.spilled.last_mut()
        };
        if let Some(last) = last.filter(|l| r.start <= l.end + PLACES_JOINED_WITHIN) {
            last.end = last.end.max(r.end);
            return;
        }
        if self.spilled.is_empty() {
            if let Some(slot) = self.inline.get_mut(self.len) {
                *slot = r;
                self.len += 1;
                return;
            }
            self.spilled.extend(self.inline.iter().cloned());
        }
        self.spilled.push(r);
    }

    pub(super) fn as_slice(&self) -> &[Range<usize>] {
        if self.spilled.is_empty() {
            self.inline.get(..self.len).unwrap_or_default()
        } else {
            &self.spilled
        }
    }
}

/// Bytes the pass stops at: digits (the numeric and letter-led detectors), the stop bytes of
/// the catalogue, and the escapes that call for a decoded view (`%`, `\\`, `+`).
#[allow(clippy::indexing_slicing)] // const evaluation: `b` is below 256 by the loop condition
const fn trigger_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_digit() || matches!(c, b'+' | b'%' | b'\\') || is_stop_byte(c);
        b += 1;
    }
    t
}

static TRIGGER: [bool; 256] = trigger_table();

fn is_trigger(b: u8) -> bool {
    TRIGGER.get(usize::from(b)).copied().unwrap_or(false)
}

/// Eight bytes at a time: a word none of whose bytes can be a stop is skipped with a few
/// integer operations; within a word that may hold one, the table decides for just the bytes
/// the word test marked, lowest first. Text and JSON keys are long runs without stops, so most
/// words are skipped whole.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn next_trigger(t: &[u8], i: usize) -> Option<usize> {
    next_trigger_by_words(t, i)
}

/// The word walk of [`next_trigger`] from `i` (the whole walk natively, the tail after the
/// last 16-byte block with Wasm SIMD).
fn next_trigger_by_words(t: &[u8], i: usize) -> Option<usize> {
    // One index, compared with the length once per word (a `chunks_exact` walk kept a pointer,
    // a count and the index, and left the compiler too few registers for the word test's
    // constants, which it reloaded for every word).
    let mut base = i;
    while let Some(c) = t.get(base..base + 8) {
        let w = c.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w));
        if let Some(k) = first_trigger(w, maybe_triggers(w)) {
            return Some(base + k);
        }
        base += 8;
    }
    // The last bytes, as a word padded with zeros (not a stop).
    let mut last = [0u8; 8];
    for (d, s) in last.iter_mut().zip(t.get(base..)?) {
        *d = *s;
    }
    let w = u64::from_le_bytes(last);
    first_trigger(w, maybe_triggers(w)).map(|k| base + k)
}

/// Sixteen bytes at a time with Wasm SIMD (`simd128`, which V8, Wasmtime and WAMR run): the
/// same superset test as [`maybe_triggers`], two lane-wise range tests and a bit mask, where the
/// word test takes a dozen 64-bit operations per eight bytes. The Wasm build spends most of a
/// scan here; natively the word test is already within a few percent of the memory walk.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn next_trigger(t: &[u8], i: usize) -> Option<usize> {
    use core::arch::wasm32::{u64x2, u8x16_bitmask, u8x16_le, u8x16_splat, u8x16_sub, v128_or};
    let mut base = i;
    while let Some(c) = t.get(base..base + 16) {
        let half = |h: Option<&[u8; 8]>| h.map_or(0, |h| u64::from_le_bytes(*h));
        let (lo, hi) = c.split_at(8);
        let v = u64x2(half(lo.first_chunk::<8>()), half(hi.first_chunk::<8>()));
        // `b - 0x25 <= 0x1C` is `0x25..=0x41`, `b - 0x5C <= 3` is `0x5C..=0x5F` (lanes wrap).
        let in_ranges = v128_or(
            u8x16_le(u8x16_sub(v, u8x16_splat(0x25)), u8x16_splat(0x41 - 0x25)),
            u8x16_le(u8x16_sub(v, u8x16_splat(0x5C)), u8x16_splat(0x5F - 0x5C)),
        );
        let mut m = u8x16_bitmask(in_ranges);
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            if c.get(k).is_some_and(|&b| is_trigger(b)) {
                return Some(base + k);
            }
            m &= m - 1;
        }
        base += 16;
    }
    // The last bytes, eight at a time and then padded with zeros (not a stop).
    next_trigger_by_words(t, base)
}

/// The first stop byte of `w` (in memory order) among those `m` marks (see [`maybe_triggers`]),
/// if any.
fn first_trigger(w: u64, mut m: u64) -> Option<usize> {
    while m != 0 {
        let bit = m.trailing_zeros();
        let b = (w >> (bit & 56)) as u8;
        if is_trigger(b) {
            return Some(bit as usize / 8);
        }
        m &= m - 1;
    }
    None
}

/// Whether any byte of `w` may be a stop byte (see [`maybe_triggers`]).
#[cfg(test)]
fn may_hold_trigger(w: u64) -> bool {
    maybe_triggers(w) != 0
}

/// The high bit of every byte of `w` in `0x25..=0x41` (`%` to `A`: digits and most stop
/// punctuation) or `0x5C..=0x5F` (`\` and `_`): a superset of the stop bytes, exact per byte.
fn maybe_triggers(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // With every byte's high bit set, subtracting `c` from each byte never borrows from the
    // next one, and leaves its high bit set when its low seven bits are `>= c`.
    let high = w | HIGH;
    let at_least = |c: u64| high.wrapping_sub(ONES * c);
    // The four thresholds rise, so the exclusive or of their tests marks the bytes from the
    // first to the second and from the third to the fourth. Five constants (the four and
    // HIGH) where a sum and a difference per range took six, and each threshold is one
    // addition the compiler writes as a `lea` from the constant kept in a register.
    let in_ranges = at_least(0x25) ^ at_least(0x42) ^ at_least(0x5C) ^ at_least(0x60);
    in_ranges & !w & HIGH
}

/// One pass over `t`: what it saw, and the values found (built-ins in input order, then the
/// custom detectors'). Not generic, so the pass is compiled once.
pub(super) fn scan(sc: &Scanner, t: &[u8], format: Format) -> (Seen, Vec<Finding>) {
    let mut seen = Seen::default();
    let mut found: Vec<Finding> = Vec::new();
    let mut report = |kind: Kind, start: usize, end: usize| {
        found.push(Finding {
            kind,
            span: start..end,
            in_string: false,
        })
    };
    // Where a letter-led word was last looked at, so that its other digits do not repeat it.
    let mut checked_word = usize::MAX;
    let mut i = 0usize;
    while let Some(p) = next_trigger(t, i) {
        i = p;
        let Some(&b) = t.get(i) else { break };
        if b.is_ascii_digit() {
            let end = word_end(t, i);
            let m = if word_start_at(t, i) {
                if may_be_token(t, i, end) {
                    seen.token_words.push(i..end);
                }
                match numeric(sc, t, i, end) {
                    Numeric::Found(kind, start, m_end) => Some((kind, start, m_end)),
                    Numeric::NumberForm(e) => {
                        seen.number_form |= super::decode::is_integer_form(t, i);
                        i = e.max(i + 1);
                        continue;
                    }
                    Numeric::NothingBefore(e) => {
                        i = e.max(i + 1);
                        continue;
                    }
                }
            } else {
                // A digit inside a word: the word may be a letter-led value.
                let ws = run_start(t, i, 64, is_word);
                if ws != checked_word {
                    checked_word = ws;
                    if may_be_token(t, ws, end) {
                        seen.token_words.push(ws..end);
                    }
                    letter_led(sc, t, ws)
                } else {
                    None
                }
            };
            match m {
                Some((kind, start, m_end)) => {
                    report(kind, start, m_end);
                    i = m_end.max(i + 1);
                }
                None => i = end.max(i + 1),
            }
            continue;
        }
        match b {
            b'%' => {
                seen.percent_escape |= at(t, i + 1).is_some_and(|c| c.is_ascii_hexdigit())
                    && at(t, i + 2).is_some_and(|c| c.is_ascii_hexdigit());
            }
            b'\\' => {
                // `\u0040`, or `\\u0040`: JSON in a JSON string, escaped twice. `\/` too
                // (PHP's `json_encode` writes every slash so): it splits URLs and base64.
                seen.json_unicode_escape |= matches!(at(t, i + 1), Some(b'u' | b'/'))
                    || at(t, i + 1) == Some(b'\\') && matches!(at(t, i + 2), Some(b'u' | b'/'));
                // The escaped character is not the start of anything (`\n4111` starts at 4).
                i += 2;
                continue;
            }
            b'+' => seen.plus = true,
            _ => {}
        }
        let m = at_stop(sc.enabled, t, i, b);
        match m {
            Some((kind, span)) => {
                report(kind, span.start, span.end);
                i = span.end.max(i + 1);
            }
            None => i += 1,
        }
    }
    let customs = !sc.custom.is_empty();
    if customs {
        custom(sc, t, format, &mut found);
    }
    (seen, found)
}

/// What the numeric detectors make of a digit word.
enum Numeric {
    Found(Kind, usize, usize),
    /// No value starts before this position: the word, or a whole date, time or short chain
    /// of digit groups, is passed over at once instead of stopping at each of its groups.
    NothingBefore(usize),
    /// As `NothingBefore`, and the number may be written in a form that hides an integer
    /// (`4111111111111111.0`): the decoded view may find a value in it.
    NumberForm(usize),
}

/// Numeric values that start where a digit word starts (`end` is the word's end). Cheap tests
/// of the word's shape come first: most numbers start nothing.
fn numeric(sc: &Scanner, t: &[u8], i: usize, end: usize) -> Numeric {
    match numeric_value(sc, t, i, end) {
        Ok((kind, start, m_end)) => Numeric::Found(kind, start, m_end),
        Err((skip, false)) => Numeric::NothingBefore(skip),
        Err((skip, true)) => Numeric::NumberForm(skip),
    }
}

fn numeric_value(
    sc: &Scanner,
    t: &[u8],
    i: usize,
    end: usize,
) -> Result<(Kind, usize, usize), (usize, bool)> {
    let len = end - i;
    let digits = t
        .get(i..end)
        .map_or(0, |w| w.iter().take_while(|d| d.is_ascii_digit()).count());
    // Short chains (`0.314`) and dates are no number form that hides seven digits or more.
    // After two capitals (`AB 12 34 56 C`) the groups may be a UK National Insurance number's.
    if digits == len && digits < 7 && !super::uk_nino::prefix_before(t, i) {
        if let Some(chain_end) = short_chain(t, i + digits, digits) {
            return Err((chain_end, false));
        }
    }
    if let Some(e) = date_or_time(t, i, digits) {
        return Err((e, false));
    }
    let word = DigitWord {
        t,
        start: i,
        end,
        digits,
        sep_next: matches!(
            at(t, i + digits),
            Some(b' ' | b'-' | b'.' | b'/' | b'\t' | b'\n' | b'\r' | b'\\' | b'_' | 0xE2 | 0xEF)
        ),
    };
    // In catalogue order: an SSN or a card is never also one of the later kinds.
    match at_digit_word(sc.enabled, &word) {
        // A value may start before the word (`AB 12 34 56 C`), never after it.
        Some((kind, span)) => Ok((kind, span.start.min(i), span.end)),
        None => {
            let form = matches!(at(t, i + digits), Some(b'.' | b'e' | b'E'))
                && may_be_integer_form(t, i + digits, digits);
            Err((end, form))
        }
    }
}

/// Whether the digit groups that start with a group of `digits` digits ending at `j` hold too
/// few digits for any numeric detector: fewer than 7 (a phone number's least), in fewer than
/// 4 groups (an IPv4 address's count), with nothing after them a detector continues with.
/// Counts, ids and decimals (`"tokens":217`, `0.314`) end here, before a detector sets up.
/// Returns the end of the chain then: no value starts inside it either.
fn short_chain(t: &[u8], mut j: usize, digits: usize) -> Option<usize> {
    let mut total = digits;
    let mut groups = 1;
    while total < 7 && groups < 4 {
        if matches!(at(t, j), Some(b':' | b')')) || paren_group_at(t, j) {
            return None; // IPv6 (`2001:db8::1`), `555) 123-4567`, `8(495)123-45-67`
        }
        if groups == 1 && digits == 6 && at(t, j) == Some(b'+') {
            return None; // a Finnish identity code of the 1800s (`131052+308T`)
        }
        let Some((_, len)) = sep_at(t, j) else {
            // Groups joined by what only cards and SSNs take (`4111\t1111`): theirs.
            return (!card_groups_at(t, j)).then_some(j);
        };
        let g = run_end(t, j + len, |b| b.is_ascii_digit()) - (j + len);
        if g == 0 {
            // `1 (415) 555-2671`, `4111  1111`; otherwise the separator is not part of the chain.
            // `030 / 1234567` too.
            let slash = at(t, j + len) == Some(b'/')
                && at(t, j + len + 1) == Some(b' ')
                && is_digit(t, j + len + 2);
            return (at(t, j + len) != Some(b'(') && !slash && !card_groups_at(t, j)).then_some(j);
        }
        if is_word_at(t, j + len + g) {
            return None; // `12 34abc`: a word the letter-led detectors look at
        }
        total += g;
        groups += 1;
        j += len + g;
    }
    None
}

/// `(495)` at `j`: an area code in brackets right after a digit group (`8(495)123-45-67`).
fn paren_group_at(t: &[u8], j: usize) -> bool {
    at(t, j) == Some(b'(') && {
        let e = run_end(t, j + 1, |b| b.is_ascii_digit());
        (1..=5).contains(&(e - j - 1)) && at(t, e) == Some(b')')
    }
}

/// A word holding a digit (`t[start..end]`) that may belong to a base64 or hex token: long
/// enough to be one, or joined to more of one by `+` or `/`.
fn may_be_token(t: &[u8], start: usize, end: usize) -> bool {
    end - start >= super::tokens::MIN_BASE64
        || matches!(at(t, end), Some(b'+' | b'/'))
        || matches!(super::text::before(t, start), Some(b'+' | b'/'))
}

/// A separator at `j` that only cards and SSNs take between groups (a run of spaces, `/`, a
/// tab, a line break, `_`), followed by a digit.
fn card_groups_at(t: &[u8], j: usize) -> bool {
    matches!(
        at(t, j),
        Some(b' ' | b'/' | b'\t' | b'\n' | b'\r' | b'\\' | b'_')
    ) && group_sep_at(t, j).is_some_and(|(s, len)| {
        !matches!(s, GroupSep::Dash | GroupSep::Dot | GroupSep::Spaces(1)) && is_digit(t, j + len)
    })
}

/// A quick look after a number's integer digits (at `j`): an exponent, or a fraction of zeros.
/// Decimals (`0.314`) end here; what passes is parsed whole.
/// `int_digits` digits end at `j`: a fraction of zeros, an exponent, or (15 digits or more)
/// any fraction, which a parser's double may drop (`4111111111111111.2`).
fn may_be_integer_form(t: &[u8], j: usize, int_digits: usize) -> bool {
    match at(t, j) {
        Some(b'e' | b'E') => true,
        Some(b'.') => {
            let mut k = j + 1;
            let mut zeros = true;
            while let Some(d) = at(t, k).filter(u8::is_ascii_digit) {
                zeros &= d == b'0';
                k += 1;
            }
            k > j + 1 && (zeros || int_digits >= 15 || matches!(at(t, k), Some(b'e' | b'E')))
        }
        _ => false,
    }
}

fn is_word_at(t: &[u8], i: usize) -> bool {
    at(t, i).is_some_and(is_word)
}

/// `2026-01-23`, `2026/01/23` and `12:34:56` (not followed by more groups): none of the
/// detectors matches them, and timestamps are everywhere in JSON, so they are dismissed first,
/// whole: an RFC 3339 timestamp (`2026-01-23T12:34:56.789Z`, `… 12:34:56+01:00`) ends where
/// it ends, instead of stopping the pass at each of its groups. Returns that end.
fn date_or_time(t: &[u8], i: usize, digits: usize) -> Option<usize> {
    match digits {
        4 => {
            let sep = at(t, i + 4);
            let date = matches!(sep, Some(b'-' | b'/'))
                && two_digits(t, i + 5)
                && sep == at(t, i + 7)
                && two_digits(t, i + 8)
                && !is_digit(t, i + 10);
            if !date {
                return None;
            }
            let e = i + 10;
            Some(match at(t, e) {
                Some(b'T' | b' ') => time_end(t, e + 1).unwrap_or(e),
                _ => e,
            })
        }
        2 => time_end(t, i),
        _ => None,
    }
}

/// `hh:mm:ss`, then fractional seconds and a zone (`Z`, `+01:00`) if present; not followed by
/// more digits or groups (`12:34:56:78` could be an IPv6 address).
fn time_end(t: &[u8], i: usize) -> Option<usize> {
    let hms = two_digits(t, i)
        && at(t, i + 2) == Some(b':')
        && two_digits(t, i + 3)
        && at(t, i + 5) == Some(b':')
        && two_digits(t, i + 6)
        && !is_digit(t, i + 8)
        && at(t, i + 8) != Some(b':');
    if !hms {
        return None;
    }
    let mut e = i + 8;
    if at(t, e) == Some(b'.') && is_digit(t, e + 1) {
        e = run_end(t, e + 1, |b| b.is_ascii_digit());
    }
    match at(t, e) {
        Some(b'Z') => e += 1,
        Some(b'+' | b'-')
            if two_digits(t, e + 1) && at(t, e + 3) == Some(b':') && two_digits(t, e + 4) =>
        {
            e += 6
        }
        _ => {}
    }
    // A timestamp glued to more of a word is not one: leave the word to the detectors.
    (!is_word_at(t, e)).then_some(e)
}

fn is_digit(t: &[u8], i: usize) -> bool {
    at(t, i).is_some_and(|c| c.is_ascii_digit())
}

fn two_digits(t: &[u8], i: usize) -> bool {
    is_digit(t, i) && is_digit(t, i + 1)
}

/// Values that start with letters, looked at from a digit inside their first word (which
/// starts at `ws`): Bech32 (`bc1…`), Base58 (`m…`, `n…`), IBANs (`DE89…`), IPv6 groups
/// (`fe80:`).
fn letter_led(sc: &Scanner, t: &[u8], ws: usize) -> Option<(Kind, usize, usize)> {
    // `\nDE89…`, `\nAB123456C` in a JSON string: the escape's letter is not the word's, as a
    // digit word's start takes an escape for a boundary (`word_start_at`).
    let escaped =
        before(t, ws) == Some(b'\\') && matches!(at(t, ws), Some(b'n' | b't' | b'r' | b'b' | b'f'));
    let ws = if escaped { ws + 1 } else { ws };
    let end = word_end(t, ws);
    at_letter_word(sc.enabled, t, ws, end).map(|(kind, e)| (kind, ws, e))
}

/// Marks the findings that sit inside a JSON string: one walk over the quotes and escapes up to
/// the last finding. Only redaction needs to know (a value outside a string is quoted when
/// replaced), so only redaction pays for it. `found` must be in input order.
pub(super) fn mark_strings(t: &[u8], found: &mut [Finding]) {
    let mut in_string = false;
    let mut i = 0usize;
    for f in found.iter_mut() {
        // Jump from quote to quote (and over escapes) up to the finding.
        while let Some(p) = t
            .get(i..f.span.start)
            .and_then(|r| r.iter().position(|&b| b == b'"' || b == b'\\'))
        {
            i += p;
            if t.get(i) == Some(&b'"') {
                in_string = !in_string;
                i += 1;
            } else {
                i += 2;
            }
        }
        i = i.max(f.span.start);
        f.in_string = in_string;
    }
}

/// The operator's patterns, over bounded segments: JSON string values, or lines of text.
fn custom(sc: &Scanner, t: &[u8], format: Format, found: &mut Vec<Finding>) {
    let mut segments = Vec::new();
    if format == Format::Json {
        let mut in_string = false;
        let mut start = 0usize;
        let mut i = 0usize;
        while let Some(&b) = t.get(i) {
            match b {
                b'"' => {
                    if in_string {
                        segments.push(start..i);
                    }
                    in_string = !in_string;
                    start = i + 1;
                }
                b'\\' => i += 1,
                _ => {}
            }
            i += 1;
        }
        if in_string {
            segments.push(start..t.len());
        }
    } else {
        let mut start = 0usize;
        for (i, &b) in t.iter().enumerate() {
            if b == b'\n' {
                segments.push(start..i);
                start = i + 1;
            }
        }
        segments.push(start..t.len());
    }
    for (kind, d) in &sc.custom {
        if !sc.enabled.contains(*kind) {
            continue;
        }
        for seg in &segments {
            d.find(t, seg.clone(), |span| {
                found.push(Finding {
                    kind: *kind,
                    span,
                    in_string: false,
                })
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{
        date_or_time, is_trigger, may_hold_trigger, maybe_triggers, next_trigger, short_chain,
        Places,
    };

    #[test]
    fn places_keep_their_order_past_the_inline_ones() {
        let mut p = Places::default();
        assert!(p.as_slice().is_empty());
        for k in 0..7 {
            p.push(k * 20..k * 20 + 5);
            let want: Vec<_> = (0..=k).map(|j| j * 20..j * 20 + 5).collect();
            assert_eq!(p.as_slice(), want.as_slice());
        }
    }

    #[test]
    fn close_places_are_one() {
        // `1+1+1+…`: a word every two bytes, one place (it was 16 bytes of list per 2 of input).
        let t = "1+".repeat(10_000);
        let scanner = crate::detect::Scanner::new(crate::detect::KindSet::all_built_ins());
        let (seen, _) = super::scan(&scanner, t.as_bytes(), crate::detect::Format::Text);
        assert_eq!(
            seen.token_words.as_slice(),
            &[std::ops::Range {
                start: 0,
                end: t.len() - 1
            }]
        );
        let mut p = Places::default();
        for k in 0..7 {
            p.push(k * 30..k * 30 + 5);
            p.push(k * 30 + 5 + super::PLACES_JOINED_WITHIN..k * 30 + 20);
        }
        let want: Vec<_> = (0..7).map(|j| j * 30..j * 30 + 20).collect();
        assert_eq!(p.as_slice(), want.as_slice());
    }

    #[test]
    fn next_trigger_finds_stops_in_the_last_bytes() {
        for len in 0..40 {
            for pos in 0..len {
                let mut t = vec![b'x'; len];
                t[pos] = b'7';
                for i in 0..=len {
                    let want = (i <= pos).then_some(pos);
                    assert_eq!(
                        next_trigger(&t, i),
                        want,
                        "len {len}, digit at {pos}, from {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn word_test_never_misses_a_stop_byte() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                for fill in [b'a', b' ', b'"', 0xFF, 0x80] {
                    let mut w = [fill; 8];
                    w[pos] = b;
                    if is_trigger(b) {
                        assert!(may_hold_trigger(u64::from_le_bytes(w)), "{b:#x} at {pos}");
                    }
                }
            }
        }
        assert!(!may_hold_trigger(u64::from_le_bytes(*b"the fox ")));
        assert!(!may_hold_trigger(u64::from_le_bytes([
            0xC3, 0xA9, b'"', b'{', b'}', b'[', b' ', 0xFF
        ])));
    }

    #[test]
    fn word_test_is_exact_per_byte() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                for fill in [b'a', b' ', 0x00, 0xFF, 0x80, b'%', b'_'] {
                    let mut w = [fill; 8];
                    w[pos] = b;
                    let want = (0x25..=0x41).contains(&b) || (0x5C..=0x5F).contains(&b);
                    let got = maybe_triggers(u64::from_le_bytes(w)) >> (8 * pos + 7) & 1 == 1;
                    assert_eq!(got, want, "{b:#x} at {pos} in {fill:#x}");
                }
            }
        }
    }

    /// Every byte value at every position of the 16-byte blocks (Wasm SIMD), the 8-byte words
    /// and the padded tail.
    #[test]
    fn next_trigger_matches_a_byte_walk_for_every_byte() {
        for fill in [b'a', b' ', 0xFF, 0x80, b'$', b'B', b'[', b'`'] {
            for b in 0..=255u8 {
                for pos in 0..40 {
                    let mut t = vec![fill; 40];
                    t[pos] = b;
                    let walk =
                        |i: usize| t.iter().skip(i).position(|&b| is_trigger(b)).map(|p| i + p);
                    for i in [0, pos, pos + 1] {
                        assert_eq!(
                            next_trigger(&t, i),
                            walk(i),
                            "{b:#x} at {pos} in {fill:#x}, from {i}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn next_trigger_matches_a_byte_walk() {
        let t = b"{\"text\":\"please confirm the booking for two guests\",\"id\":42} caf\xC3\xA9 A";
        let walk = |i: usize| t.iter().skip(i).position(|&b| is_trigger(b)).map(|p| i + p);
        for i in 0..=t.len() + 1 {
            assert_eq!(next_trigger(t, i), walk(i), "from {i}");
        }
    }

    #[test]
    fn short_chains() {
        assert_eq!(short_chain(b"0.314}", 1, 1), Some(5));
        assert_eq!(short_chain(b"217,", 3, 3), Some(3));
        assert_eq!(short_chain(b"12 34 x", 2, 2), Some(5));
        assert_eq!(short_chain(b"555 1234", 3, 3), None, "seven digits");
        assert_eq!(short_chain(b"1.2.3.4", 1, 1), None, "four groups");
        assert_eq!(short_chain(b"2001:db8::1", 4, 4), None);
        assert_eq!(short_chain(b"1 (415) 555-2671", 1, 1), None);
        assert_eq!(short_chain(b"12 34abc", 2, 2), None);
        assert_eq!(short_chain(b"4111\t1111", 4, 4), None, "a card's groups");
        assert_eq!(short_chain(b"4111  1111", 4, 4), None, "a card's groups");
        assert_eq!(short_chain(b"12\tx", 2, 2), Some(2));
        assert_eq!(
            short_chain(b"131052+308T", 6, 6),
            None,
            "a Finnish identity code"
        );
        assert_eq!(short_chain(b"12+34", 2, 2), Some(2));
        assert_eq!(
            short_chain(b"123\xE2\x80\x9345\xE2\x80\x936789", 3, 3),
            None,
            "unicode dashes"
        );
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(date_or_time(b"2026-01-23T12", 0, 4), Some(10));
        assert_eq!(date_or_time(b"2026/01/23 x", 0, 4), Some(10));
        assert_eq!(date_or_time(b"2026-01/23", 0, 4), None);
        assert_eq!(date_or_time(b"2026-01-234", 0, 4), None);
        assert_eq!(date_or_time(b"12:34:56Z,", 0, 2), Some(9));
        assert_eq!(date_or_time(b"12:34:56Zulu", 0, 2), None);
        let ts = b"2026-01-23T12:34:56.789+01:00\"";
        assert_eq!(date_or_time(ts, 0, 4), Some(ts.len() - 1));
        assert_eq!(date_or_time(b"2026-01-23 12:34:56 4111", 0, 4), Some(19));
        assert_eq!(
            date_or_time(b"12:34:56:78", 0, 2),
            None,
            "could be an IPv6 address"
        );
    }
}
