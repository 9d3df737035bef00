//! Operator-defined detectors: a `regex-lite` pattern compiled at configure time (size- and
//! nesting-limited), an optional checksum, optional cue words. Patterns never see a whole body:
//! they run over bounded segments (each JSON string value, or each line of text), at most
//! `MAX_SEGMENT` bytes at a time, so their cost stays linear in the body.

use std::ops::Range;

use regex_lite::{Regex, RegexBuilder};

use super::card::luhn;
use super::iban::mod97;
use super::text::has_cue;

/// The longest piece of input a pattern is run over; longer strings and lines are cut into
/// pieces of this size (a value across a cut is not found).
pub const MAX_SEGMENT: usize = 4096;
/// Compiled-program size limit for a pattern.
pub const PATTERN_SIZE_LIMIT: usize = 64 * 1024;
pub const PATTERN_NEST_LIMIT: u32 = 32;
pub const MAX_PATTERN_LEN: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// The digits of the match pass the Luhn check.
    Luhn,
    /// The letters and digits of the match pass ISO 7064 mod 97 (as IBANs do).
    Mod97,
}

#[derive(Debug, Clone)]
pub struct CustomDetector {
    pub regex: Regex,
    pub checksum: Option<Checksum>,
    /// Lower-case cue words; when present, one must occur just before a match.
    pub cues: Vec<String>,
    /// The bytes every match starts with, when the pattern says so plainly
    /// ([`first_bytes`]): the search jumps to the next of them instead of trying every
    /// position (`regex-lite` has no prefilter of its own and runs at tens of MB/s).
    starts: Option<Box<[bool; 256]>>,
}

impl CustomDetector {
    pub fn compile(
        pattern: &str,
        checksum: Option<Checksum>,
        cues: &[String],
    ) -> Result<Self, String> {
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(format!("pattern is longer than {MAX_PATTERN_LEN} bytes"));
        }
        let regex = RegexBuilder::new(pattern)
            .size_limit(PATTERN_SIZE_LIMIT)
            .nest_limit(PATTERN_NEST_LIMIT)
            .build()
            .map_err(|e| e.to_string())?;
        if regex.is_match("") {
            return Err("pattern matches the empty string".into());
        }
        Ok(CustomDetector {
            regex,
            checksum,
            cues: cues.iter().map(|c| c.to_ascii_lowercase()).collect(),
            starts: first_bytes(pattern).map(Box::new),
        })
    }

    /// Matches in `t[segment]` (byte offsets into `t`).
    pub(super) fn find(&self, t: &[u8], segment: Range<usize>, mut emit: impl FnMut(Range<usize>)) {
        let cues: Vec<&str> = self.cues.iter().map(String::as_str).collect();
        let mut start = segment.start;
        while start < segment.end {
            let stop = (start + MAX_SEGMENT).min(segment.end);
            let Some(piece) = t.get(start..stop) else {
                return;
            };
            // Patterns work on text: each valid UTF-8 run of the piece is searched.
            let mut offset = start;
            for chunk in piece.utf8_chunks() {
                let valid = chunk.valid();
                let mut report = |m: regex_lite::Match<'_>| {
                    let span = offset + m.start()..offset + m.end();
                    if self.accepts(m.as_str())
                        && (cues.is_empty() || has_cue(t, span.start, &cues))
                    {
                        emit(span);
                    }
                };
                match &self.starts {
                    None => self.regex.find_iter(valid).for_each(&mut report),
                    Some(starts) => {
                        // The same matches as `find_iter`: a match found from the next
                        // possible first byte is the leftmost one from `at`, since none can
                        // start before that byte. Those bytes are ASCII, so `at` is always on
                        // a character boundary; and the first character is required, so no
                        // match is empty.
                        let mut at = 0;
                        while let Some(n) = valid.as_bytes().get(at..).and_then(|rest| {
                            rest.iter()
                                .position(|&b| starts.get(usize::from(b)) == Some(&true))
                        }) {
                            let Some(m) = self.regex.find_at(valid, at + n) else {
                                break;
                            };
                            at = m.end().max(at + n + 1);
                            report(m);
                        }
                    }
                }
                offset += valid.len() + chunk.invalid().len();
            }
            start = stop;
        }
    }

    fn accepts(&self, m: &str) -> bool {
        match self.checksum {
            None => true,
            Some(Checksum::Luhn) => {
                let digits: Vec<u8> = m
                    .bytes()
                    .filter(u8::is_ascii_digit)
                    .map(|d| d - b'0')
                    .collect();
                digits.len() >= 2 && luhn(&digits)
            }
            Some(Checksum::Mod97) => {
                let chars: Vec<u8> = m.bytes().filter(u8::is_ascii_alphanumeric).collect();
                mod97(&chars)
            }
        }
    }
}

/// The bytes every match of `pattern` (`regex-lite` syntax) starts with, when its beginning
/// says so plainly: optional `(?i)`, zero-width assertions (`^`, `\A`, `\b`, `\B`, `\<`,
/// `\>`, `\b{...}`), then one ASCII literal, escaped punctuation, `\d`, `\w`, `\s` or a
/// class of those (`[A-Z0-9_-]`), repeated at least once. Anything else (a top-level `|`, a
/// group, `.`, a negated class, other flags, a non-ASCII first character, an optional first
/// atom) gives `None`, and every position is tried: the set may only ever be too wide, never
/// too narrow. Classes are `regex-lite`'s ASCII ones (`\d` = `[0-9]`, `\w` =
/// `[0-9A-Za-z_]`, `\s` = `[\t\n\v\f\r ]`); `(?i)` adds each letter's other case.
pub fn first_bytes(pattern: &str) -> Option<[bool; 256]> {
    let p = pattern.as_bytes();
    // Verbose mode (`x`, set anywhere) makes `#` start a comment, which can hide a `[` or
    // a `|` from the reading below.
    if has_top_level_alternation(p) || sets_verbose_mode(p) {
        return None;
    }
    let mut i = 0;
    let mut fold = false;
    if p.starts_with(b"(?i)") {
        fold = true;
        i = 4;
    }
    let mut set = [false; 256];
    // Zero-width assertions before the first atom.
    loop {
        match (p.get(i), p.get(i + 1)) {
            (Some(b'^'), _) => i += 1,
            (Some(b'\\'), Some(b'A' | b'B' | b'<' | b'>')) => i += 2,
            (Some(b'\\'), Some(b'b')) => {
                i += 2;
                if p.get(i) == Some(&b'{') {
                    let close = p.get(i..)?.iter().position(|&b| b == b'}')?;
                    i += close + 1;
                }
            }
            _ => break,
        }
    }
    match p.get(i)? {
        b'\\' => {
            i += 1 + escape_into(*p.get(i + 1)?, &mut set)?;
        }
        b'[' => {
            i += 1;
            if matches!(p.get(i), Some(b'^')) {
                return None;
            }
            let mut first = true;
            loop {
                let c = *p.get(i)?;
                // A `-` after this item, not closing the class: a range from it.
                let range_follows = |at: usize| {
                    p.get(at) == Some(&b'-') && !matches!(p.get(at + 1), Some(b']') | None)
                };
                match c {
                    b']' if !first => {
                        i += 1;
                        break;
                    }
                    // A leading `]` is a plain character and never starts a range (`[]-a]`
                    // is `]`, `-`, `a` to regex-lite): read no further than that.
                    b']' if range_follows(i + 1) => return None,
                    b'[' => return None,
                    b'&' | b'~' if p.get(i + 1) == Some(&c) => return None,
                    b'-' if p.get(i + 1) == Some(&b'-') => return None,
                    b'\\' => {
                        // An escaped character can start a range (`[\--z]`).
                        if range_follows(i + 2) {
                            return None;
                        }
                        i += 1 + escape_into(*p.get(i + 1)?, &mut set)?;
                    }
                    _ if !c.is_ascii() => return None,
                    _ => {
                        // `a-z`, unless the `-` is the class's last character.
                        if p.get(i + 1) == Some(&b'-') && !matches!(p.get(i + 2), Some(b']') | None)
                        {
                            let hi = *p.get(i + 2)?;
                            if hi == b'\\' || hi == b'[' || !hi.is_ascii() || hi < c {
                                return None;
                            }
                            for b in c..=hi {
                                *set.get_mut(usize::from(b))? = true;
                            }
                            i += 3;
                        } else {
                            *set.get_mut(usize::from(c))? = true;
                            i += 1;
                        }
                    }
                }
                first = false;
            }
        }
        c if c.is_ascii() && !b".+*?(){}|$".contains(c) => {
            *set.get_mut(usize::from(*c))? = true;
            i += 1;
        }
        _ => return None,
    }
    // The atom must be there at least once: one repetition of it at most, with a minimum of
    // one or more, and nothing after that could repeat it again. Repetitions stack (`x+*` is
    // `(x+)*`), and a flag group adds nothing, so one after the atom leaves it open to a
    // repetition that follows (`x(?i)*` is `x*`).
    match p.get(i) {
        Some(b'?' | b'*') => return None,
        Some(b'+') => i += 1,
        Some(b'{') => {
            let digits = p
                .get(i + 1..)?
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let min: u32 = std::str::from_utf8(p.get(i + 1..i + 1 + digits)?)
                .ok()?
                .parse()
                .ok()?;
            if min == 0 {
                return None;
            }
            let close = p.get(i..)?.iter().position(|&b| b == b'}')?;
            i += close + 1;
        }
        _ => {}
    }
    if p.get(i) == Some(&b'?') && matches!(p.get(i.wrapping_sub(1)), Some(b'+' | b'}')) {
        // Lazy (`x+?`, `x{2}?`): still at least the minimum.
        i += 1;
    }
    if matches!(p.get(i), Some(b'?' | b'*' | b'+' | b'{'))
        || p.get(i..).is_some_and(|rest| rest.starts_with(b"(?"))
    {
        return None;
    }
    if fold {
        for b in b'a'..=b'z' {
            let upper = b.to_ascii_uppercase();
            let either = set.get(usize::from(b)) == Some(&true)
                || set.get(usize::from(upper)) == Some(&true);
            if either {
                *set.get_mut(usize::from(b))? = true;
                *set.get_mut(usize::from(upper))? = true;
            }
        }
    }
    set.iter().any(|&b| b).then_some(set)
}

/// Adds what the escape `\<e>` matches first to `set`; the escape's length after the
/// backslash (1), or `None` for an escape this reading does not know.
fn escape_into(e: u8, set: &mut [bool; 256]) -> Option<usize> {
    let mut add = |range: std::ops::RangeInclusive<u8>| {
        for b in range {
            if let Some(x) = set.get_mut(usize::from(b)) {
                *x = true;
            }
        }
    };
    match e {
        b'd' => add(b'0'..=b'9'),
        b'w' => {
            add(b'0'..=b'9');
            add(b'A'..=b'Z');
            add(b'a'..=b'z');
            add(b'_'..=b'_');
        }
        b's' => {
            add(b'\t'..=b'\r');
            add(b' '..=b' ');
        }
        // Escaped punctuation stands for itself.
        _ if e.is_ascii_punctuation() => add(e..=e),
        _ => return None,
    }
    Some(1)
}

/// Whether a flag group anywhere in `p` (`(?x)`, `(?ix:...)`, `(?-x)`) names `x`.
fn sets_verbose_mode(p: &[u8]) -> bool {
    p.windows(2).enumerate().any(|(i, w)| {
        w == b"(?"
            && p.get(i + 2..).is_some_and(|rest| {
                rest.iter()
                    .take_while(|&&b| b != b')' && b != b':')
                    .any(|&b| b == b'x')
            })
    })
}

/// Whether `p` has a `|` outside any group and class: then a match may start with either side.
fn has_top_level_alternation(p: &[u8]) -> bool {
    let (mut depth, mut in_class, mut i) = (0usize, false, 0);
    while let Some(&c) = p.get(i) {
        match c {
            b'\\' => i += 1,
            // A class inside a class (`[[:alpha:](]`, `[a[b]]`): its `]` would read as the
            // outer class's end, and a `(` or `|` after it as outside. Say "maybe", which
            // gives no set: the pattern is tried everywhere.
            b'[' if in_class => return true,
            b'[' if !in_class => {
                in_class = true;
                // A `]` right after `[` or `[^` is a literal.
                if p.get(i + 1) == Some(&b'^') {
                    i += 1;
                }
                if p.get(i + 1) == Some(&b']') {
                    i += 1;
                }
            }
            b']' if in_class => in_class = false,
            b'(' if !in_class => depth += 1,
            b')' if !in_class => depth = depth.saturating_sub(1),
            b'|' if !in_class && depth == 0 => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

#[cfg(test)]
#[path = "custom_tests.rs"]
mod tests;
