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
                let mut at = 0;
                // The same matches as `find_iter`: a match found from the next possible first
                // byte is the leftmost one from `at`, since none can start before that byte.
                // Those bytes are ASCII, so `at` is always on a character boundary.
                while at < valid.len() {
                    if let Some(starts) = &self.starts {
                        let next = valid.as_bytes().get(at..).and_then(|rest| {
                            rest.iter()
                                .position(|&b| starts.get(usize::from(b)) == Some(&true))
                        });
                        match next {
                            Some(n) => at += n,
                            None => break,
                        }
                    }
                    let Some(m) = self.regex.find_at(valid, at) else {
                        break;
                    };
                    let span = offset + m.start()..offset + m.end();
                    if self.accepts(m.as_str())
                        && (cues.is_empty() || has_cue(t, span.start, &cues))
                    {
                        emit(span);
                    }
                    // A match is never empty here unless the pattern can match empty text
                    // somewhere (`\b`): step over it as `find_iter` does, a character on.
                    at = if m.end() > m.start() {
                        m.end()
                    } else {
                        valid
                            .get(m.end()..)
                            .and_then(|r| r.chars().next())
                            .map_or(valid.len(), |c| m.end() + c.len_utf8())
                    };
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
                match c {
                    b']' if !first => {
                        i += 1;
                        break;
                    }
                    b'[' => return None,
                    b'&' | b'~' if p.get(i + 1) == Some(&c) => return None,
                    b'-' if p.get(i + 1) == Some(&b'-') => return None,
                    b'\\' => {
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
    // The atom must be there at least once.
    match p.get(i) {
        Some(b'?' | b'*') => return None,
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
        }
        _ => {}
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
mod tests {
    use super::*;

    /// The first bytes as a sorted string, or `None`.
    fn starts(pattern: &str) -> Option<String> {
        first_bytes(pattern).map(|set| {
            (0u8..=255)
                .filter(|&b| set[usize::from(b)])
                .map(char::from)
                .collect()
        })
    }

    #[test]
    fn first_bytes_of_plain_beginnings() {
        assert_eq!(starts(r"\bEMP-\d{6}\b").as_deref(), Some("E"));
        assert_eq!(starts(r"\b\d{12}\b").as_deref(), Some("0123456789"));
        assert_eq!(starts(r"(?i)acme-[a-z]{4}").as_deref(), Some("Aa"));
        assert_eq!(starts(r"[A-C_-]+x").as_deref(), Some("-ABC_"));
        assert_eq!(starts(r"^\s+id").as_deref(), Some("\t\n\u{b}\u{c}\r "));
        assert_eq!(starts(r"\$\d+").as_deref(), Some("$"));
        assert_eq!(starts(r"\b{start}K{2,}").as_deref(), Some("K"));
        assert_eq!(starts(r"[]a]b").as_deref(), Some("]a"));
        assert_eq!(starts(r"[\w]z").map(|s| s.len()), Some(63));
        // Not plain: every position is tried.
        for p in [
            r"a|b",
            r"(a)b",
            r"(?:ab)",
            r".x",
            r"[^a]b",
            r"a?b",
            r"a*b",
            r"a{0,3}b",
            r"(?x) a",
            r"(?i:a)",
            r"\Dx",
            r"\pL",
            r"[[:alpha:]]",
            r"[a&&b]",
            r"éa",
            r"\x41",
            r"\b",
            r"[a-\d]",
            r"[z-a]",
            r"x{,3}",
        ] {
            assert_eq!(starts(p), None, "{p}");
        }
        // Verbose mode set later can hide a top-level `|` in what reads as a class.
        assert_eq!(starts("a(?x)# [\n|b"), None);
        assert!(CustomDetector::compile("a(?x)# [\n|b", None, &[])
            .unwrap()
            .regex
            .is_match("b"));
        // An alternation inside a group or a class leaves the beginning plain.
        assert_eq!(starts(r"Z(a|b)").as_deref(), Some("Z"));
        assert_eq!(starts(r"Z[|]").as_deref(), Some("Z"));
    }

    /// The prefilter finds exactly what trying every position finds.
    #[test]
    fn the_prefilter_changes_no_match() {
        let patterns = [
            r"\bEMP-\d{6}\b",
            r"\b\d{4}\b",
            r"(?i)acme-[a-z0-9]{3}",
            r"[A-C_-]+\d",
            r"\$\d+(\.\d\d)?",
            r"^\s+id:\w+",
            r"\Bx\d",
            r"a+b",
        ];
        let alphabet = b"EMP-0123456789 acmeACME_xyzB$.:\n\tid\xc3\xa9ab";
        let mut x: u32 = 0x1234_5678;
        for pattern in patterns {
            let with = CustomDetector::compile(pattern, None, &[]).unwrap();
            assert!(with.starts.is_some(), "{pattern}");
            let mut without = with.clone();
            without.starts = None;
            for _ in 0..400 {
                let mut t = Vec::new();
                for _ in 0..(x % 90) {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    t.push(alphabet[(x as usize) % alphabet.len()]);
                }
                let (mut a, mut b) = (Vec::new(), Vec::new());
                with.find(&t, 0..t.len(), |r| a.push(r));
                without.find(&t, 0..t.len(), |r| b.push(r));
                let plain: Vec<_> = std::str::from_utf8(&t)
                    .map(|s| {
                        Regex::new(pattern)
                            .unwrap()
                            .find_iter(s)
                            .map(|m| m.range())
                            .collect()
                    })
                    .unwrap_or_else(|_| b.clone());
                assert_eq!(a, b, "{pattern} {:?}", String::from_utf8_lossy(&t));
                assert_eq!(b, plain, "{pattern} {:?}", String::from_utf8_lossy(&t));
            }
        }
    }

    fn find(d: &CustomDetector, t: &str) -> Vec<String> {
        let mut out = Vec::new();
        d.find(t.as_bytes(), 0..t.len(), |r| {
            out.push(t.get(r).unwrap().to_string())
        });
        out
    }

    #[test]
    fn patterns_checksums_cues() {
        let d = CustomDetector::compile(r"\bEMP-\d{6}\b", None, &[]).unwrap();
        assert_eq!(find(&d, "ids EMP-123456 and EMP-12345"), vec!["EMP-123456"]);
        let luhn = CustomDetector::compile(r"\b\d{10}\b", Some(Checksum::Luhn), &[]).unwrap();
        assert_eq!(find(&luhn, "7992739875 7992739872"), vec!["7992739875"]);
        assert_eq!(find(&luhn, "0079927398713"), Vec::<String>::new());
        let cued = CustomDetector::compile(r"\b\d{8}\b", None, &["Member".into()]).unwrap();
        let far = format!("member id 12345678; {} order 87654321", "-".repeat(60));
        assert_eq!(find(&cued, &far), vec!["12345678"]);
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(CustomDetector::compile("(", None, &[]).is_err());
        assert!(CustomDetector::compile("a*", None, &[])
            .unwrap_err()
            .contains("empty"));
        assert!(CustomDetector::compile(&"(".repeat(40).to_string(), None, &[]).is_err());
        let huge = r"\w{1000}".repeat(100);
        assert!(CustomDetector::compile(&huge, None, &[]).is_err());
    }

    #[test]
    fn invalid_utf8_and_long_segments() {
        let d = CustomDetector::compile(r"SECRET-\d+", None, &[]).unwrap();
        let mut t = b"\xff\xfe SECRET-42 ".to_vec();
        t.extend_from_slice(&vec![b'x'; MAX_SEGMENT * 2]);
        t.extend_from_slice(b" SECRET-7");
        let mut got = Vec::new();
        d.find(&t, 0..t.len(), |r| got.push(r));
        assert_eq!(got.len(), 2);
        assert_eq!(&t[got[0].clone()], b"SECRET-42");
    }
}
