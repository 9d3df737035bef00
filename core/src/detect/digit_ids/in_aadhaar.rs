//! Indian Aadhaar numbers: twelve digits, written `2345 6789 0124` (4-4-4, as UIDAI prints them)
//! or as one run; the first digit is 2 to 9 and the last is a Verhoeff check digit. Source:
//! UIDAI, "Aadhaar number" and its check digit (Verhoeff) as the Aadhaar (Authentication)
//! specifications describe it (<https://uidai.gov.in/>).
//!
//! One twelve-digit number in ten passes Verhoeff. Grouped 4-4-4 and alone in its field (a JSON
//! string, a form field's value, a cell of a CSV or Markdown table row, the whole text) it stands without a cue: that is how the number is printed and
//! typed, and three 4-digit groups rarely make up a whole field otherwise. Anywhere else
//! (in prose, in code: `EXPOSE 8080 8443 9090`) and as one run it needs its cue (`aadhaar`,
//! `aadhar`, `uidai`, Hindi `आधार`; not `uid`, which names user ids everywhere in software).
//! Three years (`2019 2020 2021`) are not a number. Twelve digits are never a payment card here (cards have 13 to 19), and a card's first
//! three groups are not an Aadhaar number (the chain goes on).

use super::super::catalogue::{BuiltIn, DigitWord};
use super::super::text::{alone, table_cell, Sep};
use super::{groups, has_cue, number, standalone};

pub(in crate::detect) struct InAadhaar;

impl BuiltIn for InAadhaar {
    const NAME: &'static str = "in_aadhaar";
    const FINDS: &'static str = "Indian Aadhaar numbers: twelve digits, first 2..9, with the Verhoeff check digit; `2345 6789 0124` (4-4-4 joined by spaces or dashes) alone in its field (also a cell of a CSV, TSV or Markdown row), or any grouping (also dots) and one run next to a cue (`aadhaar`, `aadhar`, `uidai`, `आधार`) in the same field. Not inside a longer number; three years in a row and all-equal digits are not numbers.";
    const DIGIT_WORD: bool = true;
    /// Four digits and a separator, or a run of exactly twelve.
    #[inline(always)]
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = (w.digits == 4 && w.sep_next) || (w.digits == 12 && w.len() == 12);
        shape.then(|| match_at(w.t, w.start, w.digits)).flatten()
    }
}

/// `UID` only in capitals (`UID: 4918 2736 4511`): in lower case it is any user id.
pub(super) const CUES: &[&str] = &["aadhaar", "aadhar", "adhaar", "uidai", "आधार", "^uid"];

#[inline(never)]
pub(super) fn match_at(t: &[u8], start: usize, digits: usize) -> Option<usize> {
    let r = if digits == 12 {
        groups(t, start, &[12])?
    } else {
        groups(t, start, &[4, 4, 4]).filter(|r| r.uniform().is_some())?
    };
    let d = r.digits();
    if !(d.first().is_some_and(|&f| f >= 2) && verhoeff(d) && !r.all_same()) {
        return None;
    }
    if !standalone(t, start, &r) {
        return None;
    }
    let years = (0..3).all(|g| (1900..=2099).contains(&number(d, 4 * g, 4)));
    let on_its_own = matches!(r.uniform(), Some(Sep::Space | Sep::Dash))
        && !years
        && (alone(t, start, r.end) || table_cell(t, start, r.end));
    (on_its_own || has_cue(t, start, r.end, CUES)).then_some(r.end)
}

/// The Verhoeff dihedral-group check over all digits (the last one is the check digit).
pub(super) fn verhoeff(d: &[u8]) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        let p = P
            .get(i % 8)
            .and_then(|row| row.get(usize::from(x)))
            .copied()
            .unwrap_or(0);
        c = D
            .get(usize::from(c))
            .and_then(|row| row.get(usize::from(p)))
            .copied()
            .unwrap_or(1);
    }
    !d.is_empty() && c == 0
}

#[cfg(test)]
mod tests {
    use super::super::tests::first;
    use super::*;

    fn aadhaar(text: &str) -> Option<&str> {
        first(text, |t, s| {
            let n = t[s..].iter().take_while(|b| b.is_ascii_digit()).count();
            match_at(t, s, n)
        })
    }

    #[test]
    fn verhoeff_digits() {
        assert!(verhoeff(&[2, 3, 6, 3])); // the textbook example: 236 → 3
        assert!(!verhoeff(&[2, 3, 6, 4]));
        assert!(verhoeff(&[2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 4]));
    }

    #[test]
    fn grouped_alone_or_cued() {
        assert_eq!(
            aadhaar(r#"{"kyc": "2345 6789 0124"}"#),
            Some("2345 6789 0124")
        );
        assert_eq!(aadhaar("2345-6789-0124"), Some("2345-6789-0124"));
        assert_eq!(
            aadhaar("my Aadhaar is 4987 6543 2102."),
            Some("4987 6543 2102")
        );
        assert_eq!(
            aadhaar(r#"{"aadhaar_no": "498765432102"}"#),
            Some("498765432102")
        );
        assert_eq!(
            aadhaar("Aadhaar no. 4987.6543.2102"),
            Some("4987.6543.2102")
        );
        assert_eq!(aadhaar("आधार संख्या 4987 6543 2102"), Some("4987 6543 2102"));
    }

    #[test]
    fn not_aadhaar_numbers() {
        assert_eq!(
            aadhaar("EXPOSE 4987 6543 2102"),
            None,
            "in text without a cue"
        );
        assert_eq!(
            aadhaar(r#"{"n": "498765432102"}"#),
            None,
            "a run without a cue"
        );
        assert_eq!(aadhaar(r#"{"kyc": "2345 6789 0125"}"#), None, "Verhoeff");
        assert_eq!(
            aadhaar(r#"{"kyc": "1234 5678 9010"}"#),
            None,
            "first digit 1"
        );
        assert_eq!(aadhaar(r#"{"kyc": "2019 2020 2028"}"#), None, "three years");
        assert_eq!(
            aadhaar(r#"{"kyc": "4987.6543.2102"}"#),
            None,
            "dots need a cue"
        );
        assert_eq!(aadhaar("aadhaar 4987 6543 2102 1111"), None, "longer chain");
        assert_eq!(
            aadhaar(r#"{"kyc": "2345 6789-0124"}"#),
            None,
            "two separators"
        );
    }
}
