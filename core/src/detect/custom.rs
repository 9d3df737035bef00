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
                for m in self.regex.find_iter(valid) {
                    let span = offset + m.start()..offset + m.end();
                    if self.accepts(m.as_str())
                        && (cues.is_empty() || has_cue(t, span.start, &cues))
                    {
                        emit(span);
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

#[cfg(test)]
mod tests {
    use super::*;

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
