//! US Social Security numbers: `ddd-dd-dddd`, or the same with spaces or dots, one separator
//! throughout. Area 000, 666 and 900-999, group 00 and serial 0000 are never issued, so they
//! are not SSNs. Bare nine-digit numbers need a cue word and come with the wider catalogue.

use super::at;

pub(super) fn match_at(text: &[u8], start: usize) -> Option<usize> {
    let area = number(text, start, 3)?;
    let sep = at(text, Some(start + 3)).filter(|c| matches!(c, b'-' | b' ' | b'.'))?;
    let group = number(text, start + 4, 2)?;
    if at(text, Some(start + 6)) != Some(sep) {
        return None;
    }
    let serial = number(text, start + 7, 4)?;
    let end = start + 11;
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return None;
    }
    // Not part of a longer number: no digit right after, and the chain does not go on with the
    // same separator on either side (`1-123-45-6789`, `123-45-6789-1`).
    let next = at(text, Some(end));
    if next.is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    let continues_right =
        next == Some(sep) && at(text, Some(end + 1)).is_some_and(|b| b.is_ascii_digit());
    let continues_left = at(text, start.checked_sub(1)) == Some(sep)
        && at(text, start.checked_sub(2)).is_some_and(|b| b.is_ascii_digit());
    if continues_right || continues_left {
        return None;
    }
    Some(end)
}

/// Exactly `len` ASCII digits at `start`, as a number.
fn number(text: &[u8], start: usize, len: usize) -> Option<u32> {
    let bytes = text.get(start..start.checked_add(len)?)?;
    bytes.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
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
        assert_eq!(ssn("123-45 6789"), None);
        assert_eq!(ssn("123456789"), None);
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
