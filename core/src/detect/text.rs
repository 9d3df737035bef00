//! Byte-level helpers the detectors share: word boundaries, separators (unicode dashes
//! included), digits, and cue words looked for just before a candidate.

/// `[A-Za-z0-9]`: what a word is made of. A detector starts only where a word starts.
#[allow(clippy::indexing_slicing)] // const evaluation: `b` is below 256 by the loop condition
const fn word_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric();
        b += 1;
    }
    t
}

static WORD: [bool; 256] = word_table();

pub(super) fn is_word(b: u8) -> bool {
    // Never out of range for a u8; the compiler drops the check.
    WORD.get(usize::from(b)).copied().unwrap_or(false)
}

/// Whether every byte of `t` is ASCII: the words of `t` or-ed together, which the compiler
/// turns into wide loads (cheaper on short inputs than `<[u8]>::is_ascii`, which ends byte by
/// byte).
pub(super) fn is_ascii(t: &[u8]) -> bool {
    let mut words = t.chunks_exact(8);
    let mut acc = words.by_ref().fold(0u64, |a, w| {
        a | w.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w))
    });
    for &b in words.remainder() {
        acc |= u64::from(b);
    }
    acc & 0x8080_8080_8080_8080 == 0
}

/// Byte at `i`, if in range.
pub(super) fn at(t: &[u8], i: usize) -> Option<u8> {
    t.get(i).copied()
}

/// Byte before `i`, if any.
pub(super) fn before(t: &[u8], i: usize) -> Option<u8> {
    i.checked_sub(1).and_then(|p| t.get(p)).copied()
}

pub(super) fn digit(t: &[u8], i: usize) -> Option<u8> {
    at(t, i).filter(u8::is_ascii_digit).map(|d| d - b'0')
}

/// The end of the run of bytes satisfying `f` that starts at `i`.
pub(super) fn run_end(t: &[u8], mut i: usize, f: impl Fn(u8) -> bool) -> usize {
    while at(t, i).is_some_and(&f) {
        i += 1;
    }
    i
}

/// The start of the run of bytes satisfying `f` that ends at `i`, looking back at most `max`.
pub(super) fn run_start(t: &[u8], i: usize, max: usize, f: impl Fn(u8) -> bool) -> usize {
    let mut s = i;
    while s > 0 && i - s < max && before(t, s).is_some_and(&f) {
        s -= 1;
    }
    s
}

/// Nothing of a word right before `i`; an escape (`\n4111`) counts as a boundary.
pub(super) fn word_start_at(t: &[u8], i: usize) -> bool {
    !before(t, i).is_some_and(is_word) || i.checked_sub(2).and_then(|p| t.get(p)) == Some(&b'\\')
}

/// The end of the word starting at `i`.
pub(super) fn word_end(t: &[u8], i: usize) -> usize {
    t.get(i..)
        .and_then(|rest| rest.iter().position(|&b| !is_word(b)))
        .map_or(t.len(), |p| i + p)
}

/// Whether `start..end` is a field of its own: the whole string, value or line around it.
pub(super) fn alone(text: &[u8], start: usize, end: usize) -> bool {
    let opens = |b: Option<u8>| b.is_none_or(|b| matches!(b, b'"' | b'\'' | b'=' | b':' | b'>'));
    let closes =
        |b: Option<u8>| b.is_none_or(|b| matches!(b, b'"' | b'\'' | b'&' | b',' | b';' | b'<'));
    opens(before(text, start)) && closes(at(text, end))
}

/// Whether `start..end` is a cell of a table row: a cell delimiter (`,`, `;`, a tab, `|`) on
/// one side and the same delimiter or a line boundary on the other (`7,2345 6789 0124,12`,
/// `| 2345 6789 0124 |`; a Markdown cell's padding spaces aside).
pub(super) fn table_cell(t: &[u8], start: usize, end: usize) -> bool {
    let (mut s, mut e) = (start, end);
    while s > 0 && before(t, s) == Some(b' ') && start - s < 4 {
        s -= 1;
    }
    while at(t, e) == Some(b' ') && e - end < 4 {
        e += 1;
    }
    let delim = |b: u8| matches!(b, b',' | b';' | b'\t' | b'|');
    // Padding spaces belong to a Markdown cell only.
    let padded = |d: u8| d == b'|' || (s == start && e == end);
    match (before(t, s), at(t, e)) {
        (Some(l), Some(r)) if delim(l) && l == r => padded(l),
        (Some(l), None | Some(b'\n' | b'\r')) if delim(l) => padded(l),
        (None | Some(b'\n'), Some(r)) if delim(r) => padded(r),
        _ => false,
    }
}

/// A separator between digit groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sep {
    Space,
    /// `-` and the unicode dashes and minus signs people paste from documents.
    Dash,
    Dot,
}

/// The UTF-8 encodings of the dashes taken for `-`: U+2010..U+2015 (hyphen, non-breaking
/// hyphen, figure dash, en dash, em dash, horizontal bar), U+2212 (minus), U+FE58, U+FE63
/// (small em dash, small hyphen-minus) and U+FF0D (fullwidth hyphen-minus).
const UNICODE_DASHES: [[u8; 3]; 10] = [
    [0xE2, 0x80, 0x90],
    [0xE2, 0x80, 0x91],
    [0xE2, 0x80, 0x92],
    [0xE2, 0x80, 0x93],
    [0xE2, 0x80, 0x94],
    [0xE2, 0x80, 0x95],
    [0xE2, 0x88, 0x92],
    [0xEF, 0xB9, 0x98],
    [0xEF, 0xB9, 0xA3],
    [0xEF, 0xBC, 0x8D],
];

/// The separator starting at `i`, and its length in bytes. Inlined: every digit group of
/// every numeric detector asks it, and the Wasm build did not inline it by itself (a call
/// per group); the rare unicode dash is the out-of-line part.
#[inline(always)]
pub(super) fn sep_at(t: &[u8], i: usize) -> Option<(Sep, usize)> {
    match at(t, i)? {
        b' ' => Some((Sep::Space, 1)),
        b'-' => Some((Sep::Dash, 1)),
        b'.' => Some((Sep::Dot, 1)),
        0xE2 | 0xEF => unicode_dash_at(t, i),
        _ => None,
    }
}

#[inline(never)]
fn unicode_dash_at(t: &[u8], i: usize) -> Option<(Sep, usize)> {
    let s = t.get(i..i + 3)?;
    UNICODE_DASHES
        .iter()
        .any(|d| d.as_slice() == s)
        .then_some((Sep::Dash, 3))
}

/// The separator ending just before `i`, and its length.
pub(super) fn sep_before(t: &[u8], i: usize) -> Option<(Sep, usize)> {
    if let Some(s) = i
        .checked_sub(3)
        .and_then(|p| sep_at(t, p))
        .filter(|s| s.1 == 3)
    {
        return Some(s);
    }
    i.checked_sub(1)
        .and_then(|p| sep_at(t, p))
        .filter(|s| s.1 == 1)
}

/// A separator between the digit groups of a card or an SSN: the separators of [`sep_at`],
/// and those people (and encoders) also put between groups: a run of two or three spaces,
/// `/`, a tab, a line break, raw or JSON-escaped (`\t`, `\n`, `\r\n`, `\/`), and `_` (identifiers,
/// numeric literals, file names). Groups must be
/// joined by the same one throughout (a run of spaces of the same length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GroupSep {
    /// One to three spaces.
    Spaces(u8),
    Dash,
    /// A dash (or a Unicode dash) between two spaces: `4111 - 1111`.
    SpacedDash,
    Dot,
    Slash,
    Tab,
    Newline,
    Underscore,
}

/// The group separator starting at `i`, and its length in bytes.
pub(super) fn group_sep_at(t: &[u8], i: usize) -> Option<(GroupSep, usize)> {
    match at(t, i)? {
        b' ' => {
            if let Some((Sep::Dash, dash)) = sep_at(t, i + 1) {
                if at(t, i + 1 + dash) == Some(b' ') {
                    return Some((GroupSep::SpacedDash, dash + 2));
                }
            }
            let n = run_end(t, i, |b| b == b' ').min(i + 4) - i;
            (n <= 3).then_some((GroupSep::Spaces(u8::try_from(n).ok()?), n))
        }
        b'/' => Some((GroupSep::Slash, 1)),
        b'\t' => Some((GroupSep::Tab, 1)),
        b'\n' => Some((GroupSep::Newline, 1)),
        b'_' => Some((GroupSep::Underscore, 1)),
        b'\r' => (at(t, i + 1) == Some(b'\n')).then_some((GroupSep::Newline, 2)),
        b'\\' => match at(t, i + 1)? {
            b'n' => Some((GroupSep::Newline, 2)),
            b't' => Some((GroupSep::Tab, 2)),
            b'/' => Some((GroupSep::Slash, 2)),
            b'r' if t.get(i + 2..i + 4) == Some(b"\\n") => Some((GroupSep::Newline, 4)),
            _ => None,
        },
        _ => match sep_at(t, i)? {
            (Sep::Dash, len) => Some((GroupSep::Dash, len)),
            (Sep::Dot, len) => Some((GroupSep::Dot, len)),
            (Sep::Space, len) => Some((GroupSep::Spaces(1), len)),
        },
    }
}

/// The group separator ending just before `i`, and its length.
pub(super) fn group_sep_before(t: &[u8], i: usize) -> Option<(GroupSep, usize)> {
    for len in [5, 4, 3, 2] {
        if let Some(found) = i
            .checked_sub(len)
            .and_then(|p| group_sep_at(t, p))
            .filter(|&(s, l)| l == len && !matches!(s, GroupSep::Spaces(_)))
        {
            return Some(found);
        }
    }
    let spaces = i - run_start(t, i, 4, |b| b == b' ');
    if (1..=3).contains(&spaces) {
        return Some((GroupSep::Spaces(u8::try_from(spaces).ok()?), spaces));
    }
    i.checked_sub(1)
        .and_then(|p| group_sep_at(t, p))
        .filter(|s| s.1 == 1)
}

/// How far back a cue word may be: about a JSON key and its punctuation, or a short phrase.
pub(super) const CUE_WINDOW: usize = 48;

/// A cue word (ASCII, lower case) occurs in the `CUE_WINDOW` bytes before `start`, compared
/// without regard to case, at the start of a word: `phone_number`, `Tel.`, `customerSSN`
/// (camel case), but not `hotel`. JSON keys are cues this way too: `"ssn": "123456789"`.
pub(super) fn has_cue(t: &[u8], start: usize, cues: &[&str]) -> bool {
    let from = start.saturating_sub(CUE_WINDOW);
    let mut prev = before(t, from);
    for k in from..start {
        let Some(b) = at(t, k) else { break };
        let word_start = b.is_ascii_alphabetic()
            && prev.is_none_or(|p| {
                !p.is_ascii_alphabetic() || (p.is_ascii_lowercase() && b.is_ascii_uppercase())
            });
        if word_start {
            let lower = b.to_ascii_lowercase();
            let hit = cues.iter().any(|cue| {
                cue.as_bytes().first() == Some(&lower)
                    && t.get(k..k + cue.len()).is_some_and(|w| {
                        k + cue.len() <= start && w.eq_ignore_ascii_case(cue.as_bytes())
                    })
            });
            if hit {
                return true;
            }
        }
        prev = Some(b);
    }
    false
}

/// How far after a value a cue may follow in prose (`203568290 is the SSN on file`, `PE643665 is
/// the national insurance number`).
pub(super) const CUE_AFTER_WINDOW: usize = 32;

/// A cue before the value, or shortly after it in prose: what lies between the value and a
/// later cue must not close a field (`"`, `,`, `;`, `:`, braces, a line break), so that in JSON
/// the next member's key never counts.
pub(super) fn has_cue_around(t: &[u8], start: usize, end: usize, cues: &[&str]) -> bool {
    if has_cue(t, start, cues) {
        return true;
    }
    let stop = field_end(t, end);
    // The cue must lie after the value, between it and the end of the field.
    stop > end && has_cue_in(t, end, stop, cues)
}

/// Where the field or phrase that goes on at `end` ends, at most `CUE_AFTER_WINDOW` bytes on.
fn field_end(t: &[u8], end: usize) -> usize {
    t.get(end..(end + CUE_AFTER_WINDOW).min(t.len()))
        .and_then(|after| {
            after
                .iter()
                .position(|b| matches!(b, b'"' | b',' | b';' | b':' | b'{' | b'}' | b'\n'))
        })
        .map_or((end + CUE_AFTER_WINDOW).min(t.len()), |p| end + p)
}

/// The UTF-8 lead bytes (`0xC0..=0xFF`, as bit `b - 0xC0`) that start the cue words of a list:
/// a window position whose byte is not one of them starts no cue.
#[allow(clippy::indexing_slicing)] // const evaluation: `k` and 0 are checked against the lengths
pub(super) const fn lead_bytes(cues: &[&str]) -> u64 {
    let mut mask = 0u64;
    let mut k = 0;
    while k < cues.len() {
        let c = cues[k].as_bytes();
        if !c.is_empty() && c[0] >= 0xC0 {
            mask |= 1 << (c[0] - 0xC0);
        }
        k += 1;
    }
    mask
}

/// As [`has_cue_around`], for cue words in scripts without case or word spaces (`电话`,
/// `телефон`, `טלפון`), compared as bytes anywhere in the window: before the value, or after
/// it within its field. Cyrillic cues must start a word (`моб.` is not inside `автомоб.`); a
/// cue that starts one of the longer words in `not` is not one (Thai `โทร`, to call, starts
/// `โทรทัศน์`, television). Most windows hold no byte outside ASCII: one look at them settles
/// it; in the others only the positions holding a lead byte of some cue (`leads`, from
/// [`lead_bytes`]) are compared, so that a body of such words repeated costs a few compares per
/// candidate.
pub(super) fn has_bytes_cue_around(
    t: &[u8],
    floor: usize,
    start: usize,
    end: usize,
    cues: &[&str],
    leads: u64,
    not: &[&str],
) -> bool {
    let from = field_floor(t, floor, start);
    let stop = field_end(t, end);
    let in_window = |a: usize, b: usize| {
        let Some(w) = t.get(a..b) else {
            return false;
        };
        if w.is_ascii() {
            return false;
        }
        w.iter().enumerate().any(|(k, &lead)| {
            lead >= 0xC0
                && leads & (1 << (lead - 0xC0)) != 0
                && w.get(k..).is_some_and(|rest| {
                    cues.iter().any(|cue| {
                        let c = cue.as_bytes();
                        rest.starts_with(c)
                            && (!matches!(lead, 0xD0 | 0xD1) || {
                                let p = a + k;
                                !p.checked_sub(2)
                                    .and_then(|q| t.get(q))
                                    .is_some_and(|&b| matches!(b, 0xD0 | 0xD1))
                            })
                            && !not.iter().any(|n| {
                                n.as_bytes().starts_with(c)
                                    && t.get(a + k..).is_some_and(|r| r.starts_with(n.as_bytes()))
                            })
                    })
                })
        })
    };
    in_window(from, start) || (stop > end && in_window(end, stop))
}

/// A list of cue words (ASCII lower case first letter; see [`has_word_cue`]) with, for each
/// first letter, the second letters its words go on with: most word starts of a window are
/// passed over on two bytes, without a look at the words.
pub(super) struct WordCues {
    pub(super) words: &'static [&'static str],
    /// Bit `k` of `pairs[f]`: a word starts with letter `f` and then letter `k`; bit 26: then a
    /// byte that is no ASCII letter (`tél`, `air plus`).
    pairs: [u32; 26],
}

impl WordCues {
    #[allow(clippy::indexing_slicing)] // const evaluation: indices checked against the lengths
    pub(super) const fn new(words: &'static [&'static str]) -> Self {
        let mut pairs = [0u32; 26];
        let mut k = 0;
        while k < words.len() {
            let c = words[k].as_bytes();
            assert!(
                !c.is_empty() && c[0].is_ascii_lowercase(),
                "a cue starts with a-z"
            );
            let f = (c[0] - b'a') as usize;
            pairs[f] |= if c.len() > 1 && c[1].is_ascii_lowercase() {
                1 << (c[1] - b'a')
            } else {
                1 << 26
            };
            k += 1;
        }
        Self { words, pairs }
    }

    /// Whether a cue may start with `lower` (a lower-case ASCII letter) then `next`.
    fn may_start(&self, lower: u8, next: Option<u8>) -> bool {
        let bit = match next {
            Some(n) if n.is_ascii_alphabetic() => 1 << (n.to_ascii_lowercase() - b'a'),
            _ => 1 << 26,
        };
        self.pairs
            .get(usize::from(lower.wrapping_sub(b'a')))
            .is_some_and(|p| p & bit != 0)
    }
}

/// Where the field holding `start` begins, looking back at most `CUE_WINDOW` bytes and not
/// before `floor`: after the last `;` (`Call me at 07700 900461; routing 021000021`), `{`, `}`,
/// `]` or `&` (a query's next parameter), or a comma that starts the next JSON member (`,"key":`,
/// also JSON-escaped: `,\"key\":`). A cue for the previous member or clause is not the
/// value's (`{"phone":"+61 412 345 678","routing_number":"021000021"}`); a comma in prose, or
/// between the strings of an array (`"phones": ["…", "…"]`), does not end the field, nor does
/// the `;` or `&` of an HTML entity (`Phone:&nbsp;…`).
pub(super) fn field_floor(t: &[u8], floor: usize, start: usize) -> usize {
    let from = start.saturating_sub(CUE_WINDOW).max(floor);
    let Some(window) = t.get(from..start) else {
        return from;
    };
    let entity = |j: usize| {
        // `&name;` or `&#123;` of at most 8 bytes, `j` being its `&`.
        window
            .get(j + 1..(j + 10).min(window.len()))
            .and_then(|w| w.iter().position(|&b| b == b';'))
            .is_some_and(|p| {
                p > 0
                    && window
                        .get(j + 1..j + 1 + p)
                        .is_some_and(|w| w.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'#'))
            })
    };
    let ends = |j: usize, b: u8| match b {
        b'{' | b'}' | b']' => true,
        b'&' => !entity(j),
        b';' => !window
            .get(j.saturating_sub(9)..j)
            .and_then(|w| w.iter().rposition(|&b| b == b'&'))
            .is_some_and(|p| entity(j.saturating_sub(9) + p)),
        b',' => member_key_at(t, from + j + 1),
        _ => false,
    };
    window
        .iter()
        .enumerate()
        .rev()
        .find(|&(j, &b)| ends(j, b))
        .map_or(from, |(j, _)| from + j + 1)
}

/// A JSON member's key starts at `i` (after spaces): `"key":` or, escaped, `\"key\":`.
fn member_key_at(t: &[u8], mut i: usize) -> bool {
    while matches!(at(t, i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if at(t, i) == Some(b'\\') {
        i += 1;
    }
    if at(t, i) != Some(b'"') {
        return false;
    }
    let Some(close) = t
        .get(i + 1..(i + 41).min(t.len()))
        .and_then(|w| w.iter().position(|&b| b == b'"'))
    else {
        return false;
    };
    let mut k = i + 1 + close + 1;
    while matches!(at(t, k), Some(b' ' | b'\t')) {
        k += 1;
    }
    at(t, k) == Some(b':')
}

/// A cue word (see [`has_word_cue`]) that starts and ends within `from..to` (a table's header
/// cell); `strict` as [`has_strict_word_cue_around`].
pub(super) fn has_word_cue_in(
    t: &[u8],
    from: usize,
    to: usize,
    cues: &WordCues,
    strict: bool,
) -> bool {
    word_cue_in(t, from, to, cues, strict)
}

/// A cue word of its own (ASCII, lower case; see [`has_word_cue`]) in the value's field (at
/// most `CUE_WINDOW` bytes before `start`, [`field_floor`]), or shortly after the value within
/// its field (as [`has_cue_around`]).
pub(super) fn has_word_cue_around(t: &[u8], start: usize, end: usize, cues: &WordCues) -> bool {
    has_word_cue_around_from(t, 0, start, end, cues)
}

/// As [`has_word_cue_around`], looking back no further than `floor`.
pub(super) fn has_word_cue_around_from(
    t: &[u8],
    floor: usize,
    start: usize,
    end: usize,
    cues: &WordCues,
) -> bool {
    word_cue_around(t, floor, start, end, cues, false)
}

/// A cue word in the `CUE_WINDOW` bytes before `start`, as a word of its own: it starts a word
/// (after a non-letter, a JSON escape such as `\n`, or a lower-case letter when it starts with
/// an upper-case one: `customerPhone`) and ends one (before a non-letter, `_` included, or an
/// upper-case letter after a lower-case one: `phoneNumber`). So `tel` is `Tel.`, `tel:`,
/// `TEL090-…`, but not `tell`, `telemetry` or `hotel`; `card` is `card_number`, `cardNumber`,
/// but not `cardinality`. A cue ending in `*` may go on with any letters (`telefon*` is
/// `Telefonnummer`, `telefone`). Letters of Latin, Greek and Cyrillic words outside ASCII
/// count as letters (`téléchargement` does not hold the cue `tél`).
pub(super) fn has_word_cue(t: &[u8], start: usize, cues: &WordCues) -> bool {
    word_cue_in(t, start.saturating_sub(CUE_WINDOW), start, cues, false)
}

/// As [`has_word_cue`], within the `window` bytes before `start`.
pub(super) fn has_word_cue_within(t: &[u8], start: usize, window: usize, cues: &WordCues) -> bool {
    word_cue_in(t, start.saturating_sub(window), start, cues, false)
}

/// As [`has_word_cue`], for cue words that are also ordinary words in technical text (`call`,
/// `cell`, `handy`): they must be followed by neither `_` nor a letter (`call_id`, `callStack`
/// are not cues).
pub(super) fn has_strict_word_cue_around(
    t: &[u8],
    floor: usize,
    start: usize,
    end: usize,
    cues: &WordCues,
) -> bool {
    word_cue_around(t, floor, start, end, cues, true)
}

/// A cue word in the value's field before it (no further back than `floor`), or shortly after
/// it within its field; `strict` as [`word_cue_in`] takes it.
fn word_cue_around(
    t: &[u8],
    floor: usize,
    start: usize,
    end: usize,
    cues: &WordCues,
    strict: bool,
) -> bool {
    if word_cue_in(t, field_floor(t, floor, start), start, cues, strict) {
        return true;
    }
    let stop = field_end(t, end);
    stop > end && word_cue_in(t, end, stop, cues, strict)
}

/// A UTF-8 lead byte of a two-byte letter of the Latin, Greek or Cyrillic scripts.
fn letter_lead(b: u8) -> bool {
    (0xC3..=0xD4).contains(&b)
}

/// A word may start at `k` (an ASCII letter).
fn cue_word_start(t: &[u8], k: usize) -> bool {
    let Some(p) = before(t, k) else {
        return true;
    };
    let b = at(t, k).unwrap_or(0);
    if p.is_ascii_alphabetic() {
        let escape = matches!(p, b'n' | b't' | b'r')
            && k.checked_sub(2).and_then(|q| t.get(q)) == Some(&b'\\');
        return escape || (p.is_ascii_lowercase() && b.is_ascii_uppercase());
    }
    // The second byte of a letter such as `é` (`hôtel`): inside a word.
    !((0x80..=0xBF).contains(&p)
        && k.checked_sub(2)
            .and_then(|q| t.get(q))
            .is_some_and(|&l| letter_lead(l)))
}

/// A word may end at `e` (after the cue's last byte).
fn cue_word_end(t: &[u8], e: usize, strict: bool) -> bool {
    match at(t, e) {
        None => true,
        Some(n) if n.is_ascii_alphabetic() => {
            !strict
                && n.is_ascii_uppercase()
                && before(t, e).is_some_and(|p| p.is_ascii_lowercase())
        }
        Some(b'_') => !strict,
        Some(n) => !letter_lead(n),
    }
}

fn word_cue_in(t: &[u8], from: usize, to: usize, cues: &WordCues, strict: bool) -> bool {
    let Some(w) = t.get(from..to) else {
        return false;
    };
    // Only where a word starts (most letters of a window do not start one), then only the cues
    // that start with its letter.
    let mut prev = before(t, from);
    for (off, &b) in w.iter().enumerate() {
        let p = prev;
        prev = Some(b);
        if !b.is_ascii_alphabetic()
            || p.is_some_and(|p| {
                p.is_ascii_alphabetic()
                    && !(p.is_ascii_lowercase() && b.is_ascii_uppercase())
                    && !matches!(p, b'n' | b't' | b'r')
            })
        {
            continue;
        }
        let k = from + off;
        let lower = b.to_ascii_lowercase();
        if !cues.may_start(lower, at(t, k + 1)) {
            continue;
        }
        let mut started = None;
        for cue in cues.words {
            let c = cue.as_bytes();
            if c.first() != Some(&lower) {
                continue;
            }
            let (c, open) = match c.split_last() {
                Some((b'*', head)) => (head, true),
                _ => (c, false),
            };
            let e = k + c.len();
            if e > to || !t.get(k..e).is_some_and(|x| x.eq_ignore_ascii_case(c)) {
                continue;
            }
            // Whether a word starts here, looked at once, only when a cue's letters are here.
            if !*started.get_or_insert_with(|| cue_word_start(t, k)) {
                break;
            }
            if open || cue_word_end(t, e, strict) {
                return true;
            }
        }
    }
    false
}

fn has_cue_in(t: &[u8], from: usize, to: usize, cues: &[&str]) -> bool {
    let Some(w) = t.get(from..to) else {
        return false;
    };
    cues.iter().any(|cue| {
        let c = cue.as_bytes();
        w.len() >= c.len()
            && w.windows(c.len()).enumerate().any(|(k, x)| {
                x.eq_ignore_ascii_case(c)
                    && (from + k)
                        .checked_sub(1)
                        .and_then(|p| t.get(p))
                        .is_none_or(|p| !p.is_ascii_alphabetic())
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators() {
        assert_eq!(sep_at(b"a b", 1), Some((Sep::Space, 1)));
        assert_eq!(sep_at("1\u{2013}2".as_bytes(), 1), Some((Sep::Dash, 3)));
        assert_eq!(sep_at("1\u{2212}2".as_bytes(), 1), Some((Sep::Dash, 3)));
        assert_eq!(sep_at("1\u{00e9}2".as_bytes(), 1), None);
        assert_eq!(sep_before("1\u{2014}2".as_bytes(), 4), Some((Sep::Dash, 3)));
        assert_eq!(sep_before(b"1-2", 2), Some((Sep::Dash, 1)));
        assert_eq!(sep_before(b"12", 1), None);
        assert_eq!(group_sep_at(b"1  2", 1), Some((GroupSep::Spaces(2), 2)));
        assert_eq!(group_sep_at(b"1    2", 1), None, "four spaces");
        assert_eq!(group_sep_at(br"1\n2", 1), Some((GroupSep::Newline, 2)));
        assert_eq!(group_sep_at(br"1\r\n2", 1), Some((GroupSep::Newline, 4)));
        assert_eq!(group_sep_at(b"1\r\n2", 1), Some((GroupSep::Newline, 2)));
        assert_eq!(group_sep_at(b"1/2", 1), Some((GroupSep::Slash, 1)));
        assert_eq!(
            group_sep_at("1\u{2013}2".as_bytes(), 1),
            Some((GroupSep::Dash, 3))
        );
        assert_eq!(group_sep_before(br"1\t2", 3), Some((GroupSep::Tab, 2)));
        assert_eq!(
            group_sep_before(b"1   2", 4),
            Some((GroupSep::Spaces(3), 3))
        );
        assert_eq!(group_sep_before(b"1-2", 2), Some((GroupSep::Dash, 1)));
    }

    #[test]
    fn cues() {
        let t = br#"{"Customer SSN": "123456789"}"#;
        let at = 19;
        assert!(has_cue(t, at, &["ssn"]));
        assert!(!has_cue(t, at, &["phone"]));
        let far = format!("ssn{}123456789", " ".repeat(60));
        assert!(!has_cue(far.as_bytes(), 63, &["ssn"]));
        assert!(!has_cue(b"hotel 123", 6, &["tel"]));
        assert!(has_cue(b"telephone 123", 10, &["tel"]));
        assert!(has_cue(b"customerSSN: 123", 13, &["ssn"]));
        assert!(has_cue(b"phone_number=123", 13, &["phone"]));
        assert!(has_cue_around(
            b"203568290 is the SSN on file",
            0,
            9,
            &["ssn"]
        ));
        assert!(!has_cue_around(
            br#""203568290", "ssn_ok": 1"#,
            1,
            10,
            &["ssn"]
        ));
        assert!(!has_cue_around(b"x ssn 203568290", 6, 15, &["phone"]));
    }

    #[test]
    fn word_cues() {
        let cue = |t: &str| {
            has_word_cue(
                t.as_bytes(),
                t.len(),
                &WordCues::new(&["tel", "card", "telefo*", "t\u{e9}l"]),
            )
        };
        for t in [
            "Tel. ",
            "tel:",
            "TEL",
            "telNo ",
            "customerTel ",
            "card_number ",
            "cardNumber ",
            "Telefonnummer ",
            "t\u{e9}l ",
            "x\\ntel ",
        ] {
            assert!(cue(t), "{t}");
        }
        for t in [
            "tell ",
            "telemetry ",
            "TELEMETRY ",
            "hotel ",
            "h\u{f4}tel ",
            "cardinality ",
            "t\u{e9}l\u{e9}vision ",
            "xtel ",
        ] {
            assert!(!cue(t), "{t}");
        }
        let strict = |t: &str| {
            has_strict_word_cue_around(t.as_bytes(), 0, t.len(), t.len(), &WordCues::new(&["call"]))
        };
        assert!(strict("call me "));
        assert!(strict("Call: "));
        assert!(!strict("call_id "));
        assert!(!strict("callStack "));
        // After the value, within its field.
        let tel = WordCues::new(&["tel"]);
        assert!(has_word_cue_around(b"0612345678 tel", 0, 10, &tel));
        assert!(!has_word_cue_around(b"0612345678 tell", 0, 10, &tel));
    }

    #[test]
    fn bytes_cues() {
        const CUES: &[&str] = &["\u{7535}\u{8bdd}", "\u{e42}\u{e17}\u{e23}"];
        const NOT: &[&str] = &["\u{e42}\u{e17}\u{e23}\u{e17}\u{e31}\u{e28}\u{e19}\u{e4c}"];
        let leads = lead_bytes(CUES);
        let cue = |t: &str| {
            let start = t.find('1').unwrap_or(t.len());
            has_bytes_cue_around(t.as_bytes(), 0, start, t.len(), CUES, leads, NOT)
        };
        assert!(cue("\u{7535}\u{8bdd}12345678"));
        assert!(cue("\u{e42}\u{e17}\u{e23} 12345678"));
        assert!(!cue(
            "\u{e42}\u{e17}\u{e23}\u{e17}\u{e31}\u{e28}\u{e19}\u{e4c} 12345678"
        ));
        assert!(!cue("\u{624b}\u{673a}12345678"));
        assert!(!cue("ascii 12345678"));
    }
}
