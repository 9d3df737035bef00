//! UK National Insurance numbers (HMRC, National Insurance Manual NIM39110): two prefix letters,
//! six digits, a suffix letter `A`..`D`: `AB123456C`, or as HMRC prints it, `AB 12 34 56 C`.
//! Neither letter of the prefix is `D`, `F`, `I`, `Q`, `U` or `V`, the second is not `O`, and
//! `BG`, `GB`, `KN`, `NK`, `NT`, `TN` and `ZZ` are never issued (`TN` is the temporary number of
//! the tax system, not a National Insurance number; `QQ 12 34 56 C` is HMRC's specimen).
//!
//! There is no check digit: the prefix rules and the suffix are the whole validation. Upper-case
//! numbers with their suffix are taken as they stand (in prose, JSON and the printed grouping,
//! the shape is specific enough); numbers written in lower case, and numbers without their
//! suffix (`AB123456`: eight characters, the shape of many order and reference numbers), only
//! next to a cue (`national insurance`, `nino`, `ni number`).

use std::ops::Range;

use super::catalogue::{BuiltIn, DigitWord};
use super::id_cue::has_cue;
use super::id_shape::{letter, number, standalone};
use super::text::{at, before, digit, is_word, word_start_at};

pub(super) struct UkNino;

impl BuiltIn for UkNino {
    const NAME: &'static str = "uk_nino";
    const FINDS: &'static str = "UK National Insurance numbers: two prefix letters, six digits, a suffix `A`..`D` (`AB123456C`, `AB 12 34 56 C`, `AB 123456 C`), with HMRC's prefix rules (no `D F I Q U V`, no `O` second; `BG GB KN NK NT TN ZZ` never issued). No check digit: in lower case, or without the suffix, only after a cue (`national insurance`, `nino`, `ni number`). Not part of a longer identifier (`SKU-AB123456C`).";

    /// Reached for the printed grouping, whose prefix is a word of its own: at the first
    /// digit group (`12` of `AB 12 34 56 C`, `123456` of `AB 123456 C`) after two capitals.
    const DIGIT_WORD: bool = true;
    fn digit_word_span(w: &DigitWord) -> Option<Range<usize>> {
        let shape = (w.digits == 2 || w.digits == 6) && w.len() == w.digits;
        if !shape || !prefix_before(w.t, w.start) {
            return None;
        }
        let start = w.start - 3;
        match_at(w.t, start).map(|end| start..end)
    }

    /// `AB123456C`, or `AB123456` and what follows it (` C`, or nothing).
    const LETTER_WORD: bool = true;
    fn at_letter_word(t: &[u8], start: usize, end: usize) -> Option<usize> {
        matches!(end - start, 8 | 9)
            .then(|| match_at(t, start))
            .flatten()
    }
}

const CUES: &[&str] = &[
    "national insurance",
    "national_insurance",
    "nationalinsurance",
    "nino",
    "ni number",
    "ni_number",
    "ni-number",
    "ninumber",
    // `ni no` is also Spanish ("nor not"): in capitals or as a label only.
    "!ni no",
    "ni_no",
    "n.i. number",
    "insurance number",
];

/// Two capital letters and a space right before `i`, the letters a word of their own: the
/// prefix of a number printed in groups (`AB 12 34 56 C`). The pass's short-chain shortcut
/// leaves digit words after such a prefix to the detectors (`scan::numeric_value`).
pub(super) fn prefix_before(t: &[u8], i: usize) -> bool {
    before(t, i) == Some(b' ')
        && i >= 3
        && at(t, i - 2).is_some_and(|c| c.is_ascii_uppercase())
        && at(t, i - 3).is_some_and(|c| c.is_ascii_uppercase())
        && word_start_at(t, i - 3)
}

/// Whether `a b` is a prefix HMRC issues (NIM39110).
fn valid_prefix(a: u8, b: u8) -> bool {
    !matches!(a, b'D' | b'F' | b'I' | b'Q' | b'U' | b'V')
        && !matches!(b, b'D' | b'F' | b'I' | b'O' | b'Q' | b'U' | b'V')
        && !matches!(
            [a, b],
            [b'B', b'G']
                | [b'G', b'B']
                | [b'K', b'N']
                | [b'N', b'K']
                | [b'N', b'T']
                | [b'T', b'N']
                | [b'Z', b'Z']
        )
}

/// A National Insurance number starting at `start` (a word start): its end.
pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    let (a, lower_a) = letter(t, start)?;
    let (b, lower_b) = letter(t, start + 1)?;
    if !valid_prefix(a, b) {
        return None;
    }
    let mut lower = lower_a || lower_b;
    let mut i = start + 2;
    // The digits: `123456`, ` 123456`, or ` 12 34 56`.
    let spaced = at(t, i) == Some(b' ');
    if spaced {
        i += 1;
        if number(t, i, 6).is_some() {
            i += 6;
        } else {
            for g in 0..3 {
                if g > 0 {
                    (at(t, i) == Some(b' ')).then_some(())?;
                    i += 1;
                }
                number(t, i, 2)?;
                i += 2;
            }
        }
    } else {
        number(t, i, 6)?;
        i += 6;
    }
    if digit(t, i).is_some() {
        return None;
    }
    // The suffix, glued (`AB123456C`) or after a space in the prefix's case (`AB 12 34 56 C`).
    let suffix = |k: usize| {
        letter(t, k)
            .filter(|&(c, _)| matches!(c, b'A'..=b'D'))
            .filter(|_| !at(t, k + 1).is_some_and(is_word))
    };
    let end = if let Some((_, low)) = suffix(i) {
        lower |= low;
        Some(i + 1)
    } else if at(t, i) == Some(b' ') {
        suffix(i + 1)
            .filter(|&(_, low)| low == (lower_a && lower_b))
            .map(|_| i + 2)
    } else {
        None
    };
    let (end, has_suffix) = match end {
        Some(e) => (e, true),
        None => (i, false),
    };
    if !standalone(t, start, end) {
        return None;
    }
    (!lower && has_suffix || has_cue(t, start, end, CUES)).then_some(end)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;
    use crate::detect::scan_body as scan;

    fn nino(text: &str) -> Option<&str> {
        let start = text
            .char_indices()
            .find(|&(k, c)| {
                c.is_ascii_alphabetic()
                    && (k == 0 || !text.as_bytes()[k - 1].is_ascii_alphanumeric())
                    && match_at(text.as_bytes(), k).is_some()
            })?
            .0;
        match_at(text.as_bytes(), start).map(|end| &text[start..end])
    }

    #[test]
    fn the_forms_people_write() {
        assert_eq!(nino("AB123456C"), Some("AB123456C"));
        assert_eq!(nino("NI: AB 12 34 56 C."), Some("AB 12 34 56 C"));
        assert_eq!(nino("AB 123456 C"), Some("AB 123456 C"));
        assert_eq!(nino("AB123456 D"), Some("AB123456 D"));
        assert_eq!(nino(r#"{"nino":"JG103759A"}"#), Some("JG103759A"));
    }

    #[test]
    fn hmrc_prefix_rules() {
        // HMRC's specimen prefix `QQ`, letters never used, prefixes never issued.
        for bad in [
            "QQ123456C",
            "DA123456A",
            "FA123456A",
            "IA123456A",
            "UA123456A",
            "VA123456A",
            "AD123456A",
            "AO123456A",
            "AQ123456A",
            "BG123456A",
            "GB123456A",
            "KN123456A",
            "NK123456A",
            "NT123456A",
            "TN123456A",
            "ZZ123456A",
        ] {
            assert_eq!(nino(bad), None, "{bad}");
        }
        assert_eq!(nino("OA123456A"), Some("OA123456A"), "O is a first letter");
        assert_eq!(nino("AB123456E"), None, "suffix A to D");
        assert_eq!(nino("AB1234567C"), None);
        assert_eq!(nino("AB12345C"), None);
        assert_eq!(nino("AB 12 34 5 6 C"), None);
    }

    #[test]
    fn weak_forms_need_a_cue() {
        assert_eq!(nino("order AB123456 shipped"), None);
        assert_eq!(nino("NINO AB123456"), Some("AB123456"));
        assert_eq!(nino(r#"{"ni_number": "AB 12 34 56"}"#), Some("AB 12 34 56"));
        assert_eq!(nino("let ab123456c = 1;"), None);
        assert_eq!(
            nino("my national insurance number is ab123456c"),
            Some("ab123456c")
        );
        // A lower-case letter after a spaced number is a word, not the suffix.
        assert_eq!(nino("AB123456 a day"), None);
    }

    #[test]
    fn parts_of_longer_identifiers_are_not_numbers() {
        for t in [
            "SKU-AB123456C",
            "AB123456C-02",
            "build_AB123456C",
            "XAB123456C",
            "AB123456CD",
        ] {
            assert_eq!(nino(t), None, "{t}");
        }
    }

    #[test]
    fn through_the_scanner() {
        assert_eq!(
            scan(r#"{"name":"Jane","ni":"AB 12 34 56 C","n":3}"#),
            vec![("uk_nino".to_string(), "AB 12 34 56 C".to_string())]
        );
        assert_eq!(
            scan("NI number AB123456C, thanks"),
            vec![("uk_nino".to_string(), "AB123456C".to_string())]
        );
        assert_eq!(
            scan("printed as CE 12 34 56 A on the card"),
            vec![("uk_nino".to_string(), "CE 12 34 56 A".to_string())]
        );
        assert_eq!(
            scan("was AB 123456 B"),
            vec![("uk_nino".to_string(), "AB 123456 B".to_string())]
        );
        // The specimen, and look-alikes in code and logs.
        for t in [
            "QQ 12 34 56 C",
            "ref AB123456",
            "GB 12 34 56 A",
            "part PN-AB123456C",
            "0x1F AB 12 34 56",
            "uint8_t AB123456E = 0;",
        ] {
            assert_eq!(scan(t), vec![], "{t}");
        }
    }
}
