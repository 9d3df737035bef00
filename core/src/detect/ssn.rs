//! US Social Security numbers: `ddd-dd-dddd`, or the same with spaces (one to three), dots,
//! slashes, tabs, line breaks (raw or JSON-escaped), unicode dashes or underscores (one separator
//! throughout; underscores alone in a field or next to a cue), and bare nine-digit numbers next to a cue (`ssn`, `social
//! security` in a nearby key or text). Area 000, 666 and 900-999, group 00 and serial 0000 are
//! never issued, so they are not SSNs.

use super::catalogue::{BuiltIn, DigitWord};
use super::text::{alone, digit, group_sep_at, group_sep_before, has_cue_around, GroupSep};

pub(super) struct Ssn;

impl BuiltIn for Ssn {
    const NAME: &'static str = "ssn";
    const FINDS: &'static str = "`ddd-dd-dddd`, or with one to three spaces, dots, slashes, tabs, line breaks (raw or JSON-escaped), unicode dashes, a dash between spaces or underscores (one separator throughout; underscores only alone in the field or next to a cue); a bare nine-digit number only after a cue (`ssn`, `social security`). Never-issued numbers (area 000, 666, 900..999; group 00; serial 0000) are not SSNs; nor is one inside a longer number.";
    const DIGIT_WORD: bool = true;
    /// Three digits and a separator, or nine digits.
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = (w.digits == 3 && w.sep_next) || w.digits == 9;
        shape.then(|| match_at(w.t, w.start)).flatten()
    }
}

const CUES: &[&str] = &[
    "ssn",
    "social security",
    "social_security",
    "socialsecurity",
    "social-security",
];

pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    let area = number(t, start, 3)?;
    if let Some((sep, len)) = group_sep_at(t, start + 3) {
        let g = start + 3 + len;
        let group = number(t, g, 2)?;
        let (sep2, len2) = group_sep_at(t, g + 2)?;
        if sep2 != sep {
            return None;
        }
        let serial = number(t, g + 2 + len2, 4)?;
        let end = g + 2 + len2 + 4;
        // Underscores join the groups of identifiers and file names (`log_123_45_6789`): such
        // an SSN must stand alone in its field or follow a cue.
        let unusual = sep == GroupSep::Underscore
            && !alone(t, start, end)
            && !has_cue_around(t, start, end, CUES);
        return (valid(area, group, serial) && standalone(t, start, end, Some(sep)) && !unusual)
            .then_some(end);
    }
    // Bare: exactly nine digits, and a cue before them.
    let group = number(t, start + 3, 2)?;
    let serial = number(t, start + 5, 4)?;
    let end = start + 9;
    (valid(area, group, serial)
        && standalone(t, start, end, None)
        && has_cue_around(t, start, end, CUES))
    .then_some(end)
}

fn valid(area: u32, group: u32, serial: u32) -> bool {
    !(area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
}

/// Not part of a longer number: no digit right after, and the chain does not go on with the
/// same separator on either side (`1-123-45-6789`, `123-45-6789-1`).
fn standalone(t: &[u8], start: usize, end: usize, sep: Option<GroupSep>) -> bool {
    if digit(t, end).is_some() {
        return false;
    }
    let Some(sep) = sep else { return true };
    let right =
        group_sep_at(t, end).is_some_and(|(s, len)| s == sep && digit(t, end + len).is_some());
    let left = group_sep_before(t, start).is_some_and(|(s, len)| {
        s == sep
            && start
                .checked_sub(len + 1)
                .and_then(|p| digit(t, p))
                .is_some()
    });
    !right && !left
}

/// Exactly `len` ASCII digits at `start`, as a number.
fn number(t: &[u8], start: usize, len: usize) -> Option<u32> {
    (start..start + len).try_fold(0u32, |acc, i| Some(acc * 10 + u32::from(digit(t, i)?)))
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    fn ssn(text: &str) -> Option<&str> {
        let start = text.find(|c: char| c.is_ascii_digit())?;
        match_at(text.as_bytes(), start).map(|end| &text[start..end])
    }

    #[test]
    fn separators() {
        assert_eq!(ssn("ssn 123-45-6789."), Some("123-45-6789"));
        assert_eq!(ssn("123 45 6789"), Some("123 45 6789"));
        assert_eq!(ssn("123.45.6789"), Some("123.45.6789"));
        assert_eq!(
            ssn("123\u{2013}45\u{2013}6789"),
            Some("123\u{2013}45\u{2013}6789")
        );
        assert_eq!(ssn("123-45 6789"), None);
        for sep in ["/", "\t", "\n", "  ", r"\n", r"\t", " - ", " \u{2013} "] {
            let v = ["123", "45", "6789"].join(sep);
            assert_eq!(ssn(&format!("x {v} y")), Some(v.as_str()), "{sep:?}");
        }
        assert_eq!(ssn("1\t123\t45\t6789"), None, "inside a longer chain");
        assert_eq!(ssn("id 123456789"), None);
    }

    #[test]
    fn bare_nine_digits_need_a_cue() {
        assert_eq!(ssn(r#"{"ssn": "123456789"}"#), Some("123456789"));
        assert_eq!(ssn("Social Security number 123456789"), Some("123456789"));
        assert_eq!(ssn(r#"{"order": 123456789}"#), None);
        assert_eq!(ssn("ssn 1234567890"), None);
    }

    #[test]
    fn never_issued_numbers() {
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "999-12-3456",
            "123-00-4567",
            "123-45-0000",
        ] {
            assert_eq!(ssn(bad), None, "{bad}");
        }
        assert_eq!(ssn("899-12-3456"), Some("899-12-3456"));
    }

    #[test]
    fn not_inside_longer_numbers() {
        assert_eq!(ssn("123-45-67890"), None);
        assert_eq!(ssn("123-45-6789-12"), None);
        assert_eq!(match_at(b"1-123-45-6789", 2), None);
        assert_eq!(ssn("123-45-6789 12"), Some("123-45-6789"));
    }
}
