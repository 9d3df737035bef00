//! US Individual Taxpayer Identification Numbers: nine digits `9XX-XX-XXXX`, the first 9 and
//! the middle two in 50-65, 70-88, 90-92 or 94-99. Source: IRS, "Individual Taxpayer
//! Identification Number (ITIN)" (<https://www.irs.gov/individuals/individual-taxpayer-identification-number>)
//! and the Internal Revenue Manual's ITIN ranges (IRM 3.21.263).
//!
//! The `ssn` detector rejects area 900-999 (never an SSN), so an ITIN is its own type. Written
//! with dashes it stands alone, as an SSN does; with spaces or dots (a Spanish landline
//! `912 70 1234`, a version `912.70.1234`) and as nine bare digits it needs a cue (`itin`,
//! `taxpayer`, `TIN`, `tax id`).

use super::super::catalogue::{BuiltIn, DigitWord};
use super::super::text::Sep;
use super::{groups, has_cue, number, standalone};

pub(in crate::detect) struct UsItin;

impl BuiltIn for UsItin {
    const NAME: &'static str = "us_itin";
    const FINDS: &'static str = "US ITINs: `9XX-XX-XXXX` with a middle group in 50..65, 70..88, 90..92 or 94..99; dashed on its own, spaced, dotted (one separator throughout) or nine bare digits only next to a cue (`itin`, `taxpayer`, `TIN`, `tax id`) in the same field. Not inside a longer number.";
    const DIGIT_WORD: bool = true;
    /// `9XX` and a separator, or a run of exactly nine starting with 9.
    #[inline(always)]
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = (w.digits == 3 && w.sep_next) || (w.digits == 9 && w.len() == 9);
        let nine = w.t.get(w.start) == Some(&b'9');
        (shape && nine)
            .then(|| match_at(w.t, w.start, w.digits))
            .flatten()
    }
}

/// `TIN` (taxpayer identification number) in capitals or as a label; `tax id` as the key
/// forms people give it.
pub(super) const CUES: &[&str] = &[
    "itin",
    "individual taxpayer",
    "taxpayer",
    "!tin",
    "tax id",
    "tax_id",
    "taxid",
];

#[inline(never)]
pub(super) fn match_at(t: &[u8], start: usize, digits: usize) -> Option<usize> {
    let r = if digits == 9 {
        groups(t, start, &[9])?
    } else {
        groups(t, start, &[3, 2, 4]).filter(|r| r.uniform().is_some())?
    };
    let d = r.digits();
    let group_ok = matches!(number(d, 3, 2), 50..=65 | 70..=88 | 90..=92 | 94..=99);
    // Dashed, the SSN's written form, it stands alone; spaced or dotted it is as often a
    // Spanish landline (`912 70 1234`) or a version (`912.70.1234`): only next to a cue.
    let grouped = r.uniform() == Some(Sep::Dash);
    (d.first() == Some(&9)
        && group_ok
        && standalone(t, start, &r)
        && (grouped || has_cue(t, start, r.end, CUES)))
    .then_some(r.end)
}

#[cfg(test)]
mod tests {
    use super::super::tests::first;
    use super::*;

    fn itin(text: &str) -> Option<&str> {
        first(text, |t, s| {
            let n = t[s..].iter().take_while(|b| b.is_ascii_digit()).count();
            match_at(t, s, n)
        })
    }

    #[test]
    fn itins() {
        assert_eq!(itin("ITIN 912-70-1234"), Some("912-70-1234"));
        assert_eq!(itin("912-70-1234"), Some("912-70-1234"));
        assert_eq!(itin(r#"{"tax_id": "900 50 0001"}"#), Some("900 50 0001"));
        // Dots and spaces need a cue (issue 11's tester: `version 912.70.1234`).
        assert_eq!(itin("ITIN 999.99.9999"), Some("999.99.9999"));
        assert_eq!(itin(r#"{"itin": "912701234"}"#), Some("912701234"));
    }

    #[test]
    fn not_itins() {
        assert_eq!(itin("912-49-1234"), None, "group 49");
        assert_eq!(itin("912-66-1234"), None, "group 66");
        assert_eq!(itin("912-89-1234"), None, "group 89");
        assert_eq!(itin("912-93-1234"), None, "group 93");
        assert_eq!(itin("812-70-1234"), None, "not 9XX");
        assert_eq!(itin("912701234"), None, "bare needs a cue");
        assert_eq!(itin("912-70 1234"), None, "two separators");
        assert_eq!(itin("912-70-1234-5"), None, "longer chain");
        assert_eq!(itin("Teléfono: 912 70 1234"), None, "a landline");
        assert_eq!(itin("version 912.70.1234 released"), None, "a version");
    }
}
