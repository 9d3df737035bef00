//! Cue words for the national identifiers (`digit_ids`, and the letter-holding ones: `uk_nino`,
//! `in_pan`, `es_nif`, `sg_nric`, `fi_hetu`). Most of these numbers are short or weakly checked,
//! so a value counts only next to a word that names it; where that word may be is the whole
//! question, and this module answers it, always within a bounded distance of the value:
//!
//! - in the same field before the value (at most [`CUE_CHARS`] characters back, counted as
//!   characters so that Hindi, Korean and Polish labels fit; a long, specific cue such as
//!   `pesel` or `주민등록번호` as far as [`LONG_CUE_CHARS`]), or shortly after it in the same phrase;
//! - on the line above, when the value starts its line and that line is a label (`PESEL`,
//!   `NHS Number:`, YAML `pesel:`);
//! - in the header of the value's column, when the value is a cell of a CSV, TSV or Markdown
//!   table whose header is within [`HEADER_BYTES`] bytes;
//! - as the string value of a sibling member of the same JSON object whose key names a kind
//!   (`{"type": "SIN", "value": "…"}`, FHIR's `{"system": "https://fhir.nhs.uk/Id/nhs-number",
//!   "value": "…"}`), when the value's own key is a value or number key.
//!
//! A cue is a whole word at both ends (`sin` is not `since`, `pan` is not `panel`), camel case
//! aside (`sinNumber`). Cue syntax: a trailing `*` lets the word go on (`identificaci*`:
//! `identificación`); a leading `!` marks a word that is also an ordinary word of some language
//! (`sin`, Spanish "without"; `pan`; `fin`, French "end"; `ic`): it counts only written in
//! capitals (`SIN`) or as a label (`sin:`, `"sin":`, `sin=`, `SIN #`, `sin_number`,
//! `employeeSin`), not as a lower-case word of prose; a leading `^` only in capitals (`UID`). A cue that begins an identifier
//! (`SIN_TABLE_SIZE`, `pan_left`) counts only when the identifier's next part names a number
//! (`sin_number`, `nhs-number`, `panNo`).

use super::text::{at, before, is_ascii};

/// How far back a cue may be in the value's field, in characters.
pub(super) const CUE_CHARS: usize = 48;

/// How far back a long cue (at least [`LONG_CUE`] bytes: `pesel`, `aadhaar`, `주민등록번호`,
/// `social insurance`) may be, in characters: labels in Polish or Korean prose run long, and
/// such a word names nothing else.
pub(super) const LONG_CUE_CHARS: usize = 96;

/// The shortest cue, in bytes, that counts from as far as [`LONG_CUE_CHARS`].
const LONG_CUE: usize = 5;

/// The longest cue, in bytes: how far past the window a cue that starts in it may end.
pub(crate) const MAX_CUE: usize = 32;

/// How far after a value a cue may follow in prose (`046 454 286 is my SIN`).
pub(crate) const CUE_AFTER_WINDOW: usize = 24;

/// How far back a table's header line may be.
const HEADER_BYTES: usize = 512;

/// How far a JSON object may reach on either side of a value for its siblings to be read.
const OBJECT_BYTES: usize = 256;

/// The starts of the [`CUE_CHARS`] and the [`LONG_CUE_CHARS`] characters before `start` (UTF-8
/// continuation bytes do not count).
fn chars_back(t: &[u8], start: usize) -> (usize, usize) {
    // Most windows are ASCII: one wide test settles them.
    let ascii_from = start.saturating_sub(LONG_CUE_CHARS);
    if t.get(ascii_from..start).is_some_and(is_ascii) {
        return (start.saturating_sub(CUE_CHARS), ascii_from);
    }
    let floor = start.saturating_sub(LONG_CUE_CHARS * 4);
    let window = t.get(floor..start).unwrap_or_default();
    let (mut near, mut far) = (floor, floor);
    let mut n = 0;
    for (j, &b) in window.iter().enumerate().rev() {
        if b & 0xC0 != 0x80 {
            n += 1;
            if n == CUE_CHARS {
                near = floor + j;
            }
            if n == LONG_CUE_CHARS {
                far = floor + j;
                break;
            }
        }
    }
    (near.max(far), far)
}

/// A cue names the value `start..end`: see the module's documentation for where it may be.
pub(super) fn has_cue(t: &[u8], start: usize, end: usize, cues: &[&str]) -> bool {
    let (near, far) = chars_back(t, start);
    let from = field_start(t, far, start);
    let near = near.max(from);
    if cue_in(t, from, near, start, start, cues) {
        return true;
    }
    // After the value: a cue that starts within `CUE_AFTER_WINDOW` bytes, before anything that
    // ends the field (a quote, a comma, a colon, a brace, a line break), and ends in it too.
    let window = (end + CUE_AFTER_WINDOW + MAX_CUE).min(t.len());
    let stop = t
        .get(end..window)
        .and_then(|w| {
            w.iter()
                .position(|b| matches!(b, b'"' | b',' | b';' | b':' | b'{' | b'}' | b'\n'))
        })
        .map_or(window, |p| end + p);
    let after_to = stop.min(end + CUE_AFTER_WINDOW);
    cue_in(t, end, end, after_to, stop, cues)
        || label_above(t, start, cues)
        || column_header(t, start, end, cues)
        || json_sibling(t, start, end, cues)
}

/// Where the field holding `start` begins, looking back to `from`: after the last `;`, `}`,
/// `]`, `&` or line break, or a comma that a quote follows (`", "tfn": …`: the next JSON
/// member). A comma in prose (`my SIN, as asked, is …`) does not end the field.
fn field_start(t: &[u8], from: usize, start: usize) -> usize {
    let Some(window) = t.get(from..start) else {
        return from;
    };
    let ends = |j: usize, b: u8| match b {
        b';' | b'}' | b']' | b'&' | b'\n' => true,
        b',' => {
            let next = window
                .get(j + 1..)
                .and_then(|w| w.iter().find(|&&b| b != b' ' && b != b'\t'));
            matches!(next, Some(b'"' | b'\''))
        }
        _ => false,
    };
    window
        .iter()
        .enumerate()
        .rev()
        .find(|&(j, &b)| ends(j, b))
        .map_or(from, |(j, _)| from + j + 1)
}

/// The first letters of `cues` as a bit set (`a` is bit 0), and whether one starts with a byte
/// outside ASCII: most word starts in a window are settled by one test against it.
fn first_letters(cues: &[&str]) -> (u32, bool) {
    let mut letters = 0u32;
    let mut wide = false;
    for cue in cues {
        let first = match cue.as_bytes() {
            [b'!' | b'^', c, ..] | [c, ..] => *c,
            [] => continue,
        };
        if first.is_ascii_lowercase() {
            letters |= 1 << (first - b'a');
        } else if first >= 0x80 {
            wide = true;
        }
    }
    (letters, wide)
}

/// A cue as a whole word that starts in `from..starts_before` and ends by `ends_before`; one
/// that starts before `near` only if it is a long cue.
fn cue_in(
    t: &[u8],
    from: usize,
    near: usize,
    starts_before: usize,
    ends_before: usize,
    cues: &[&str],
) -> bool {
    let Some(window) = t.get(from..starts_before.min(t.len())) else {
        return false;
    };
    let (letters, wide) = first_letters(cues);
    let mut prev = before(t, from);
    for (j, &b) in window.iter().enumerate() {
        let p = prev;
        prev = Some(b);
        let may_start = if b.is_ascii_alphabetic() {
            letters & (1 << ((b | 0x20) - b'a')) != 0
        } else {
            wide && b >= 0x80
        };
        if !may_start
            || p.is_some_and(|p| {
                p.is_ascii_alphabetic() && !(p.is_ascii_lowercase() && b.is_ascii_uppercase())
            })
        {
            continue;
        }
        let k = from + j;
        if cues
            .iter()
            .any(|cue| cue_at(t, k, near, ends_before, cue, b))
        {
            return true;
        }
    }
    false
}

/// The cue `cue` (with its markers, see the module's documentation) starts at `k`, whose byte
/// is `b`.
fn cue_at(t: &[u8], k: usize, near: usize, ends_before: usize, cue: &str, b: u8) -> bool {
    let (shy, capitals, word) = match cue.as_bytes() {
        [b'!', rest @ ..] => (true, false, rest),
        [b'^', rest @ ..] => (true, true, rest),
        all => (false, false, all),
    };
    if word.first() != Some(&b.to_ascii_lowercase()) {
        return false;
    }
    let (prefix, c) = match word {
        [rest @ .., b'*'] => (true, rest),
        all => (false, all),
    };
    (k >= near || c.len() >= LONG_CUE)
        && k + c.len() <= ends_before
        && t.get(k..k + c.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(c))
        && (prefix || word_ends(t, k + c.len(), c))
        && identifier_names_a_number(t, k, k + c.len(), shy)
        && (!shy || capitals_or_label(t, k, c.len(), capitals))
}

/// A word ends before `i`: no letter follows, or a capital that starts the next word of a
/// camel-case name (`NHSNumber`, but not `SINGLE`). A word that a `(` follows is a function
/// (`Math.sin(x)`), not a label. A cue in Devanagari ends where no Devanagari letter or sign
/// follows (`पैन` is not the start of `पैनल`, "panel").
fn word_ends(t: &[u8], i: usize, cue: &[u8]) -> bool {
    let devanagari = |k: usize| at(t, k) == Some(0xE0) && matches!(at(t, k + 1), Some(0xA4 | 0xA5));
    match at(t, i) {
        Some(b) if b.is_ascii_lowercase() => false,
        Some(b) if b.is_ascii_uppercase() => at(t, i + 1).is_some_and(|n| n.is_ascii_lowercase()),
        Some(b'(') => false,
        Some(0xE0) if cue.len() >= 3 && cue.get(cue.len() - 3) == Some(&0xE0) => !devanagari(i),
        _ => true,
    }
}

/// The parts of an identifier that, after a cue, say it holds the number (`sin_number`,
/// `nhs-number`, `panNo`, `aadhaar_card`), compared in lower case.
const NUMBER_PARTS: &[&[u8]] = &[
    b"number", b"num", b"no", b"nr", b"nbr", b"numer", b"numero", b"nummer", b"id", b"value",
    b"card", b"code", b"digits",
];

/// After a cue ending at `i`: either the word ends there, or the identifier it begins goes on
/// (after `_`, `-` or a camel-case capital). A constant's name (`SIN_TABLE_SIZE`) and, for a
/// word of prose, any identifier (`pan_left`) must go on with a part that names a number
/// (`SIN_NUMBER`, `pan_no`); other identifiers may go on with anything (`cpf_cnpj`,
/// `pesel_pacjenta`).
fn identifier_names_a_number(t: &[u8], cue_start: usize, i: usize, shy: bool) -> bool {
    let part = match at(t, i) {
        Some(b'_' | b'-') if at(t, i + 1).is_some_and(|b| b.is_ascii_alphabetic()) => i + 1,
        Some(b)
            if b.is_ascii_uppercase() && at(t, i + 1).is_some_and(|n| n.is_ascii_lowercase()) =>
        {
            i
        }
        _ => return true,
    };
    let upper = at(t, part).is_some_and(|b| b.is_ascii_uppercase())
        && at(t, part + 1).is_some_and(|b| b.is_ascii_uppercase());
    let screaming = upper && at(t, cue_start).is_some_and(|b| b.is_ascii_uppercase());
    if !shy && !screaming {
        return true;
    }
    let mut e = part + 1;
    while at(t, e).is_some_and(|b| {
        if upper {
            b.is_ascii_uppercase()
        } else {
            b.is_ascii_lowercase()
        }
    }) {
        e += 1;
    }
    let word = t.get(part..e).unwrap_or_default();
    NUMBER_PARTS.iter().any(|p| p.eq_ignore_ascii_case(word))
}

/// A word that is also a word of prose counts in capitals (`SIN`, `PAN`, `FIN no.`), or as a
/// label: right before `:`, `"`, `'`, `=`, `#`, `_` (spaces allowed before `:` and `#`), or
/// the last part of an identifier (`employee_sin`, `employeeSin`).
fn capitals_or_label(t: &[u8], k: usize, len: usize, capitals_only: bool) -> bool {
    let word = t.get(k..k + len).unwrap_or_default();
    let first_word = word.split(|&b| b == b' ').next().unwrap_or_default();
    if first_word.iter().all(|b| !b.is_ascii_lowercase()) {
        return true;
    }
    if capitals_only {
        return false;
    }
    let glued = match before(t, k) {
        Some(b'_') => true,
        Some(p) => p.is_ascii_lowercase() && at(t, k).is_some_and(|b| b.is_ascii_uppercase()),
        None => false,
    };
    if glued {
        return true;
    }
    match at(t, k + len) {
        Some(b'"' | b'\'' | b'=' | b'_' | b':' | b'#') => true,
        // An identifier's first part (`panNumber`; [`identifier_names_a_number`] decides).
        Some(b) if b.is_ascii_uppercase() => true,
        Some(b' ' | b'\t') => {
            let next = t
                .get(k + len..(k + len + 4).min(t.len()))
                .and_then(|w| w.iter().find(|&&b| b != b' ' && b != b'\t'));
            matches!(next, Some(b':' | b'#'))
        }
        _ => false,
    }
}

/// The length of the line break that ends right before `k`: 1 for `\n`, 2 for the JSON escape
/// `\\n` (a table or a label inside a JSON string, as an MCP tool result carries it), else 0.
fn break_before(t: &[u8], k: usize) -> usize {
    match before(t, k) {
        Some(b'\n') => 1,
        Some(b'n') if k.checked_sub(2).and_then(|p| t.get(p)) == Some(&b'\\') => 2,
        _ => 0,
    }
}

/// The start of the line holding `i`, looking back at most `max` bytes (`None` if farther).
fn line_start(t: &[u8], i: usize, max: usize) -> Option<usize> {
    let floor = i.saturating_sub(max);
    let mut k = i;
    while k > floor {
        if break_before(t, k) > 0 {
            return Some(k);
        }
        k -= 1;
    }
    (k == 0).then_some(0)
}

/// The value starts its line (after spaces or a quote) and the line above is a label: it ends
/// with `:` (`NHS Number: `, YAML's `pesel:`), or it is short and holds no digit (`PESEL`) and
/// no cell delimiter (a table's header is read by column, [`column_header`]).
fn label_above(t: &[u8], start: usize, cues: &[&str]) -> bool {
    let Some(ls) = line_start(t, start, 16) else {
        return false;
    };
    let indent = t.get(ls..start).unwrap_or_default();
    if ls == 0
        || !indent
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'"' | b'\''))
    {
        return false;
    }
    let mut end = ls - break_before(t, ls);
    while end > 0 && matches!(before(t, end), Some(b' ' | b'\t' | b'\r')) {
        end -= 1;
    }
    let Some(prev) = line_start(t, end, 96) else {
        return false;
    };
    let line = t.get(prev..end).unwrap_or_default();
    let label = line.last() == Some(&b':')
        || (line.len() <= 40 && !line.iter().any(|&b| b.is_ascii_digit() || is_delimiter(b)));
    label && cue_in(t, prev, prev, end, end, cues)
}

/// A table cell delimiter.
fn is_delimiter(b: u8) -> bool {
    matches!(b, b',' | b';' | b'\t' | b'|')
}

/// The cells of the value's column in the lines above it (nearest first; within
/// [`HEADER_BYTES`], at most 8 lines), when the value `start..end` is a cell of a table (CSV,
/// TSV, Markdown); with the start of the value's line. A line without that column yields
/// nothing for it and the walk goes on.
fn column_above(
    t: &[u8],
    start: usize,
    end: usize,
) -> Option<(impl Iterator<Item = (usize, usize)> + '_, usize)> {
    let (delim, ls) = table_cell_at(t, start, end)?;
    let column = t
        .get(ls..start)
        .map_or(0, |w| w.iter().filter(|&&c| c == delim).count());
    let floor = ls.saturating_sub(HEADER_BYTES);
    let mut line_end = ls;
    let lines = std::iter::from_fn(move || {
        if line_end == 0 || line_end <= floor {
            return None;
        }
        let end_of = line_end - break_before(t, line_end).max(1);
        let from = line_start(t, end_of, end_of - floor)?;
        line_end = from;
        Some((from, end_of))
    });
    let cells = lines
        .take(8)
        .filter_map(move |(from, end_of)| cell(t, from, end_of, delim, column));
    Some((cells, ls))
}

/// The value is a cell of a table (CSV, TSV, Markdown) and a line above, within
/// [`HEADER_BYTES`], holds a cue in the same column: `nhs_number,name\n4010232137,Jane`.
fn column_header(t: &[u8], start: usize, end: usize, cues: &[&str]) -> bool {
    column_above(t, start, end).is_some_and(|(mut cells, _)| {
        cells.any(|(a, b)| {
            cue_in(t, a, a, b, b, cues) || whole_cell(t.get(a..b).unwrap_or_default(), cues)
        })
    })
}

/// The header of the value's column when the value `start..end` is a cell of a table (CSV,
/// TSV, Markdown): the cell of that column in the nearest line above (within [`HEADER_BYTES`],
/// at most 8 lines) that holds letters and no digit, passing over Markdown's `|---|` line and
/// rows of data. `None` when the value is no cell or no such line is there. A value's own
/// column says what it is (`| nhs number | phone |`: the header of the other column is not
/// the value's cue). With the header cell, the start of the value's line.
pub(super) fn header_cell(t: &[u8], start: usize, end: usize) -> Option<(usize, usize, usize)> {
    let (mut cells, ls) = column_above(t, start, end)?;
    cells
        .find(|&(a, b)| {
            let c = t.get(a..b).unwrap_or_default();
            c.iter().any(u8::is_ascii_alphabetic) && !c.iter().any(u8::is_ascii_digit)
        })
        .map(|(a, b)| (a, b, ls))
}

/// The value `start..end` fills a cell of a table row (padding spaces and quotes aside): its
/// delimiter and the start of its line.
fn table_cell_at(t: &[u8], start: usize, end: usize) -> Option<(u8, usize)> {
    let skip_back = |mut i: usize| {
        while matches!(before(t, i), Some(b' ' | b'"')) && i + 2 > start {
            i -= 1;
        }
        i
    };
    let skip_on = |mut i: usize| {
        while matches!(at(t, i), Some(b' ' | b'"')) && i < end + 2 {
            i += 1;
        }
        i
    };
    let (b, a) = (skip_back(start), skip_on(end));
    let left = before(t, b);
    let right = at(t, a);
    // A line break before the cell: `\n` or the JSON escape `\\n`.
    let line_before = b == 0 || break_before(t, b) > 0;
    let line_after = matches!(right, None | Some(b'\n' | b'\r'))
        || (right == Some(b'\\') && matches!(at(t, a + 1), Some(b'n' | b'r')));
    let delim = match left {
        Some(l) if is_delimiter(l) => l,
        _ if line_before && line_after => first_column_of(t, b)?,
        _ if line_before => right.filter(|&r| is_delimiter(r))?,
        _ => return None,
    };
    if !line_after && right != Some(delim) {
        return None;
    }
    Some((delim, line_start(t, start, 256)?))
}

/// A value alone on its line at `ls` is the first cell of a table's row when the line above is
/// a row (`uk_nhs,x\n943 476 5919`: the other cells left empty): that line's first delimiter.
fn first_column_of(t: &[u8], ls: usize) -> Option<u8> {
    let above_end = ls.checked_sub(break_before(t, ls)).filter(|_| ls > 0)?;
    let from = line_start(t, above_end, 256)?;
    t.get(from..above_end)?
        .iter()
        .copied()
        .find(|&b| is_delimiter(b))
}

/// A header cell that is a cue and nothing else (`sin`): a label, even for a word of prose (a
/// cue that counts only in capitals still counts only so).
fn whole_cell(cell: &[u8], cues: &[&str]) -> bool {
    let pad = |b: &u8| matches!(b, b' ' | b'"' | b'\'' | b'\r');
    let from = cell.iter().position(|b| !pad(b)).unwrap_or(cell.len());
    let to = cell.iter().rposition(|b| !pad(b)).map_or(from, |p| p + 1);
    let cell = cell.get(from..to).unwrap_or_default();
    cues.iter().any(|c| {
        !c.starts_with('^')
            && c.trim_start_matches('!')
                .as_bytes()
                .eq_ignore_ascii_case(cell)
    })
}

/// The `column`th cell of the line `from..to` split at `delim`.
fn cell(t: &[u8], from: usize, to: usize, delim: u8, column: usize) -> Option<(usize, usize)> {
    let line = t.get(from..to)?;
    let mut n = 0;
    let mut a = from;
    for (k, &b) in line.iter().enumerate() {
        if b == delim {
            if n == column {
                return Some((a, from + k));
            }
            n += 1;
            a = from + k + 1;
        }
    }
    (n == column).then_some((a, to))
}

/// Keys whose value holds an identifier that a sibling names (compared in lower case, without
/// `_` and `-`).
const VALUE_KEYS: &[&[u8]] = &[
    b"value",
    b"number",
    b"num",
    b"no",
    b"nr",
    b"numer",
    b"numero",
    b"id",
    b"idnumber",
    b"idno",
    b"idvalue",
    b"identifier",
    b"documentnumber",
    b"docnumber",
    b"documentno",
    b"docno",
    b"documentid",
    b"text",
    b"code",
    b"val",
];

/// Keys whose value names the kind of a sibling's value.
const KIND_KEYS: &[&[u8]] = &[
    b"type",
    b"system",
    b"idtype",
    b"documenttype",
    b"doctype",
    b"tipo",
    b"tipodocumento",
    b"label",
    b"kind",
    b"scheme",
    b"name",
    b"identifiertype",
    b"category",
    b"rodzaj",
];

/// A JSON key (between quotes) normalised into `buf`: lower case, without `_` and `-`.
fn normalised<'a>(key: &[u8], buf: &'a mut [u8; 32]) -> &'a [u8] {
    let mut n = 0;
    for &b in key {
        if b == b'_' || b == b'-' {
            continue;
        }
        let Some(slot) = buf.get_mut(n) else {
            return &[];
        };
        *slot = b.to_ascii_lowercase();
        n += 1;
    }
    buf.get(..n).unwrap_or_default()
}

/// The value is a JSON member whose key is a value key (`"value": "…"`) and a sibling member of
/// the same object, whose key names a kind, holds a cue as its string: `{"idType": "PESEL",
/// "idNumber": "…"}`. The object is read at most [`OBJECT_BYTES`] on either side, and not into
/// nested objects or arrays.
fn json_sibling(t: &[u8], start: usize, end: usize, cues: &[&str]) -> bool {
    // The value's own key: `"key": "value"` or `"key": value`.
    let mut k = start;
    if before(t, k) == Some(b'"') {
        k -= 1;
    }
    while matches!(before(t, k), Some(b' ' | b'\t')) {
        k -= 1;
    }
    if before(t, k) != Some(b':') {
        return false;
    }
    k -= 1;
    while matches!(before(t, k), Some(b' ' | b'\t')) {
        k -= 1;
    }
    if before(t, k) != Some(b'"') {
        return false;
    }
    let key_end = k - 1;
    let mut key_start = key_end;
    while key_start + 32 > key_end && before(t, key_start).is_some_and(|b| b != b'"' && b != b'\\')
    {
        key_start -= 1;
    }
    let mut buf = [0; 32];
    let key = normalised(t.get(key_start..key_end).unwrap_or_default(), &mut buf);
    if !VALUE_KEYS.contains(&key) {
        return false;
    }
    let edge = |b: &u8| matches!(b, b'{' | b'}' | b'[' | b']');
    let lo_floor = key_start.saturating_sub(OBJECT_BYTES);
    let lo = t
        .get(lo_floor..key_start)
        .and_then(|w| w.iter().rposition(edge))
        .map_or(lo_floor, |p| lo_floor + p + 1);
    let hi_ceil = (end + OBJECT_BYTES).min(t.len());
    let hi = t
        .get(end..hi_ceil)
        .and_then(|w| w.iter().position(edge))
        .map_or(hi_ceil, |p| end + p);
    // After the value: past its closing quote, so that the next string read is a key.
    let after = if at(t, end) == Some(b'"') {
        end + 1
    } else {
        end
    };
    kind_member(t, lo, key_start.saturating_sub(1), cues) || kind_member(t, after, hi, cues)
}

/// Within `from..to`, a member `"kind key": "… cue …"`.
fn kind_member(t: &[u8], from: usize, to: usize, cues: &[&str]) -> bool {
    let mut i = from;
    // The last string read, if a colon followed it: a key.
    let mut key: Option<(usize, usize)> = None;
    while i < to {
        match at(t, i) {
            Some(b'"') => {
                let s = i + 1;
                let mut e = s;
                while e < to && at(t, e) != Some(b'"') {
                    e += if at(t, e) == Some(b'\\') { 2 } else { 1 };
                }
                if e >= to {
                    return false;
                }
                let mut n = e + 1;
                while matches!(at(t, n), Some(b' ' | b'\t')) {
                    n += 1;
                }
                if at(t, n) == Some(b':') {
                    key = Some((s, e));
                    i = n + 1;
                    continue;
                }
                if let Some((ks, ke)) = key.take() {
                    let mut buf = [0; 32];
                    let name = normalised(t.get(ks..ke).unwrap_or_default(), &mut buf);
                    if KIND_KEYS.contains(&name) && cue_in(t, s, s, e, e, cues) {
                        return true;
                    }
                }
                i = e + 1;
            }
            Some(b',') => {
                key = None;
                i += 1;
            }
            _ => i += 1,
        }
    }
    false
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    /// Whether a cue names the last run of digits of `t` (the value).
    fn cue(t: &str, cues: &[&str]) -> bool {
        let end = t.rfind(|c: char| c.is_ascii_digit()).unwrap() + 1;
        let start = t[..end]
            .rfind(|c: char| !c.is_ascii_digit())
            .map_or(0, |p| p + 1);
        has_cue(t.as_bytes(), start, end, cues)
    }

    /// Whether a cue names the first `v` in `t`.
    fn cue_on(t: &str, v: &str, cues: &[&str]) -> bool {
        let start = t.find(v).unwrap();
        has_cue(t.as_bytes(), start, start + v.len(), cues)
    }

    #[test]
    fn cues_are_whole_words_in_the_same_field() {
        assert!(cue(r#"{"sin": "046454286"}"#, &["sin"]));
        assert!(cue(r#"{"sinNumber": "046454286"}"#, &["sin"]));
        assert!(cue(r#"{"customer_SIN": "046454286"}"#, &["sin"]));
        assert!(cue("SIN: 046454286", &["sin"]));
        assert!(cue("my SIN, as you asked, is 046454286", &["sin"]));
        assert!(!cue("sin=x&id=046454286", &["sin"]));
        assert!(
            !cue("y = math.sin(theta) * 046454286", &["sin"]),
            "a function"
        );
        assert!(!cue("since 046454286", &["sin"]));
        assert!(!cue("SINGLE 046454286", &["sin"]));
        assert!(
            !cue(r#"{"sin": "x", "tfn": "046454286"}"#, &["sin"]),
            "the previous member"
        );
        assert!(cue("046454286 is my SIN", &["sin"]));
        assert!(!cue_on(r#""046454286", "sin": 1"#, "046454286", &["sin"]));
        assert!(cue("주민등록번호 800101", &["주민등록번호"]));
        assert!(cue(
            "numéro d'assurance sociale 046454286",
            &["assurance sociale"]
        ));
        assert!(cue("identificación 12345678", &["identificaci*"]));
        assert!(!cue("identificaci 12345678", &["identidad*"]));
    }

    #[test]
    fn identifiers_that_begin_with_a_cue() {
        assert!(cue("sin_number = 130192487", &["sin"]));
        assert!(cue(r#"{"panNo": "1"}"#, &["pan"]));
        assert!(cue(r#"{"aadhaar_card": "1"}"#, &["aadhaar"]));
        assert!(!cue("const SIN_TABLE_SIZE = 130192487;", &["sin"]));
        assert!(!cue("pan_left = 1", &["!pan"]));
        assert!(cue("pan_no = 1", &["!pan"]));
        assert!(cue(r#"{"cpf_cnpj": "1"}"#, &["cpf"]));
    }

    #[test]
    fn words_of_prose_count_as_labels_or_in_capitals() {
        let shy = &["!sin"];
        assert!(cue("SIN 130192487", shy));
        assert!(cue("sin: 130192487", shy));
        assert!(cue("sin : 130192487", shy));
        assert!(cue(r#"{"sin": "130192487"}"#, shy));
        assert!(cue("sin=130192487", shy));
        assert!(cue("SIN # 130192487", shy));
        assert!(cue(r#"{"employeeSin": "130192487"}"#, shy));
        assert!(cue(r#"{"employee_sin": "130192487"}"#, shy));
        assert!(!cue("Envío sin coste para el pedido 130192487.", shy));
        assert!(!cue("Sin embargo, el pedido 130192487 llegó tarde.", shy));
        assert!(!cue("float s = sin 130192487;", shy));
        assert!(cue("NI no: 1", &["!ni no"]));
        assert!(!cue("ni no sé, el código 1", &["!ni no"]));
    }

    #[test]
    fn long_cues_reach_farther_and_characters_are_counted() {
        assert!(cue("आधार कार्ड संख्या: 491827364511", &["आधार"]));
        assert!(cue(
            "고객님의 주민등록번호 뒷자리 포함 전체 번호는 9001011234568",
            &["주민등록번호"]
        ));
        assert!(cue(
            "Numer PESEL pacjenta, który został zarejestrowany wczoraj w przychodni: 92031501232",
            &["pesel"]
        ));
        let far = format!("sin {} 130192487", "x".repeat(50));
        assert!(!cue(&far, &["sin"]), "a short cue stays near");
        let farther = format!("pesel {} 130192487", "x".repeat(100));
        assert!(!cue(&farther, &["pesel"]));
    }

    #[test]
    fn labels_on_the_line_above() {
        assert!(cue("PESEL\n92031501232", &["pesel"]));
        assert!(cue("pesel:\n  92031501232", &["pesel"]));
        assert!(cue("NHS Number: \n4010232137", &["nhs"]));
        assert!(cue("NHS Number: \r\n4010232137", &["nhs"]));
        assert!(
            !cue("SIN\nx 046454286", &["sin"]),
            "not at the line's start"
        );
        assert!(!cue("SIN\n\n046454286", &["sin"]), "a blank line");
        assert!(
            !cue(
                "the NHS was founded in 1948 and it is large\n4010232137",
                &["nhs"]
            ),
            "a sentence, not a label"
        );
    }

    #[test]
    fn column_headers() {
        assert!(cue_on(
            "nhs_number,name,dob\n4010232137,Jane Smith,1970-01-01",
            "4010232137",
            &["nhs"]
        ));
        assert!(cue(
            "imie;nazwisko;pesel\nJan;Kowalski;92031501232",
            &["pesel"]
        ));
        assert!(cue(
            "patient_name,date_of_birth,address_line_1,postcode,nhs_number\nJane Smith,1970-01-01,221B Baker Street,NW1 6XE,4010232137",
            &["nhs"]
        ));
        assert!(cue(
            "imie;nazwisko;pesel\nJan;Kowalski;92031501232\nAnna;Nowak;44051401359",
            &["pesel"]
        ));
        assert!(cue(
            "| NHS number | Name |\n|---|---|\n| 4010232137 | Jane |",
            &["nhs"]
        ));
        assert!(
            !cue("name,nhs_number\n4010232137,x", &["nhs"]),
            "another column"
        );
        assert!(
            !cue("name,sin\nBob,x 130192487 and more", &["sin"]),
            "not a whole cell"
        );
    }

    #[test]
    fn json_siblings() {
        for (t, c) in [
            (
                r#"{"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"4010232137"}]}"#,
                "nhs",
            ),
            (r#"{"idType":"PESEL","idNumber":"92031501232"}"#, "pesel"),
            (
                r#"{"document_type":"aadhaar","document_number":"491827364511"}"#,
                "aadhaar",
            ),
            (r#"{"tipo":"CPF","numero":"52998224725"}"#, "cpf"),
            (r#"{"type":"SIN","value":"130192487"}"#, "sin"),
            (r#"{"label":"PESEL","text":"92031501232"}"#, "pesel"),
            (r#"{"value": 130192487, "type": "SIN"}"#, "sin"),
            (
                r#"{"document_number": "130192487", "document_type": "SIN"}"#,
                "sin",
            ),
        ] {
            assert!(cue(t, &[c]), "{t}");
        }
        for (t, c) in [
            (r#"{"type":"SIN","order":"130192487"}"#, "sin"),
            (r#"{"note":"SIN","value":"130192487"}"#, "sin"),
            (
                r#"{"type":"x","sub":{"type":"SIN"},"value":"130192487"}"#,
                "sin",
            ),
            (
                r#"[{"type":"SIN","value":"1"},{"type":"x","value":"130192487"}]"#,
                "sin",
            ),
        ] {
            assert!(!cue(t, &[c]), "{t}");
        }
    }

    /// Scans `text` as a body is scanned (JSON when it starts with `{`): the national
    /// identifiers found, as (type, raw value) pairs.
    fn ids(text: &str) -> Vec<(String, String)> {
        let mut out = crate::detect::scan_body(text);
        out.retain(|(k, _)| !matches!(k.as_str(), "phone" | "ip_address" | "credit_card"));
        out
    }

    /// Issue 11's tester (its scratch test computes check digits on its own): leaks where the
    /// cue was in a sibling JSON member, on the line above, in a table's header, or farther
    /// back than 48 bytes in Hindi, Korean or Polish.
    #[test]
    fn cues_elsewhere_through_the_scanner() {
        for (text, kind, value) in [
            (r#"{"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"4010232137"}]}"#, "uk_nhs_number", "4010232137"),
            (r#"{"idType":"PESEL","idNumber":"92031501232"}"#, "pl_pesel", "92031501232"),
            (r#"{"document_type":"aadhaar","document_number":"491827364511"}"#, "in_aadhaar", "491827364511"),
            (r#"{"tipo":"CPF","numero":"52998224725"}"#, "br_cpf", "52998224725"),
            (r#"{"type":"SIN","value":"130192487"}"#, "ca_sin", "130192487"),
            (r#"{"type":"TFN","value":"876543210"}"#, "au_tfn", "876543210"),
            (r#"{"label":"PESEL","text":"92031501232"}"#, "pl_pesel", "92031501232"),
            ("nhs_number,name,dob\n4010232137,Jane Smith,1970-01-01", "uk_nhs_number", "4010232137"),
            ("patient_name,date_of_birth,address_line_1,postcode,nhs_number\nJane Smith,1970-01-01,221B Baker Street,NW1 6XE,4010232137", "uk_nhs_number", "4010232137"),
            ("| NHS number | Name |\n|---|---|\n| 401 023 2137 | Jane |", "uk_nhs_number", "401 023 2137"),
            ("imie;nazwisko;pesel\nJan;Kowalski;92031501232", "pl_pesel", "92031501232"),
            ("sin,name\n130192487,Bob", "ca_sin", "130192487"),
            ("nome;cpf\nMaria;52998224725", "br_cpf", "52998224725"),
            ("PESEL\n92031501232", "pl_pesel", "92031501232"),
            ("pesel:\n  92031501232", "pl_pesel", "92031501232"),
            ("NHS Number: \n4010232137", "uk_nhs_number", "4010232137"),
            ("आधार कार्ड संख्या: 491827364511", "in_aadhaar", "491827364511"),
            ("मेरे आधार कार्ड की संख्या 491827364511 है", "in_aadhaar", "491827364511"),
            ("고객님의 주민등록번호 뒷자리 포함 전체 번호는 9001011234568", "kr_rrn", "9001011234568"),
            ("Numer PESEL pacjenta, który został zarejestrowany wczoraj w przychodni: 92031501232", "pl_pesel", "92031501232"),
            ("UID: 4918 2736 4511", "in_aadhaar", "4918 2736 4511"),
            ("NAS : 130 192 487", "ca_sin", "130 192 487"),
            (r#"{"nas": "130192487"}"#, "ca_sin", "130192487"),
            ("S.I.N. 130 192 487", "ca_sin", "130 192 487"),
            ("पैन: ABCPE1234F", "in_pan", "ABCPE1234F"),
            ("पैन कार्ड नंबर ABCPE1234F", "in_pan", "ABCPE1234F"),
            (r#"{"pan":"ABCEE1234F"}"#, "in_pan", "ABCEE1234F"),
            ("My IC is s8734561j.", "sg_nric", "s8734561j"),
            ("ni no: jg103759a", "uk_nino", "jg103759a"),
            ("hetu: 150124-1030", "fi_hetu", "150124-1030"),
        ] {
            assert_eq!(ids(text), vec![(kind.to_string(), value.to_string())], "{text}");
        }
    }

    /// Issue 11's tester: words that are cues only in another language or in code, and shapes
    /// that are other things.
    #[test]
    fn no_cues_through_the_scanner() {
        for text in [
            "Envío sin coste para el pedido 130192487.",
            "Sin embargo, el pedido 130192487 llegó tarde.",
            "Precio sin IVA del pedido 465809689.",
            "Llámame sin falta al 905 669 180",
            "const SIN_TABLE_SIZE = 130192487;",
            "float s = sin 130192487;",
            "Nie mam numeru 130192487, sprawdź jeszcze raz.",
            "Zamówienie 60468532 z dnia 12 marca nie dotarło",
            "Paczka nr 36187547 z magazynu nie dotarła",
            "To nie jest kod 13927738L",
            "Nie pedido 99574228 y otros",
            "val nie = 12345683L",
            "Teléfono: 912 70 1234",
            "version 912.70.1234 released",
            "ticket 902 75 1792 closed",
            "ni no sé, el código ab208434c",
            "panel ABCPE3825F",
            "camera pan ABCPE1234F",
            "pan 0.5; pan_left = ABCPE1234F",
            "audio.pan(0.5); const PRESET = \"HGHPT1234K\";",
            "let fin = s1234567d;",
            "C'est la fin du fichier s1234567d",
            "2024-01-15T10:30:00Z 150124-1030 INFO started",
            "snapshot 150124-1030 created",
            r#"{"uid":"12345678901"}"#,
            "uid=491827364511 gid=1000",
            "uid,name\n491827364511,x",
        ] {
            assert_eq!(ids(text), vec![], "{text}");
        }
    }
}
