//! UK NHS numbers (England, Wales, Isle of Man): ten digits, written `943 476 5919` (3-3-4) or
//! as one run, whose tenth digit is a modulus 11 check digit (weights 10 down to 2 on the
//! first nine; 11 minus the remainder, 11 read as 0; a result of 10 is never issued). Source:
//! NHS Data Dictionary, "NHS Number"
//! (<https://www.datadictionary.nhs.uk/attributes/nhs_number.html>).
//!
//! 3-3-4 is also how North American phone numbers are written, and one number in eleven passes
//! the check by chance: an NHS number is one only next to its cue (`NHS`, `NHS number`,
//! `nhs_no`, Welsh `rhif GIG`). Its row comes before `phone`'s, so that a cued NHS number is not
//! taken for a phone number.

use super::super::catalogue::{BuiltIn, DigitWord};
use super::{groups, has_cue, standalone, weighted};

pub(in crate::detect) struct UkNhsNumber;

impl BuiltIn for UkNhsNumber {
    const NAME: &'static str = "uk_nhs_number";
    const FINDS: &'static str = "UK NHS numbers: ten digits, `943 476 5919` (3-3-4, one separator throughout: space, dash, dot) or one run, with the NHS modulus 11 check digit, only next to a cue (`nhs`, `nhs number`, `nhs_no`, `rhif gig`) in the same field. Not inside a longer number; all-equal digits are not numbers.";
    const DIGIT_WORD: bool = true;
    /// Three digits and a separator, or a run of exactly ten.
    #[inline(always)]
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = (w.digits == 3 && w.sep_next) || (w.digits == 10 && w.len() == 10);
        shape.then(|| match_at(w.t, w.start)).flatten()
    }
}

pub(super) const CUES: &[&str] = &["nhs", "nhsno", "nhsnum", "nhsnumber", "rhif gig"];

#[inline(never)]
pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    let r = match digit_count(t, start) {
        10 => groups(t, start, &[10])?,
        _ => groups(t, start, &[3, 3, 4]).filter(|r| r.uniform().is_some())?,
    };
    (valid(r.digits())
        && !r.all_same()
        && standalone(t, start, &r)
        && has_cue(t, start, r.end, CUES))
    .then_some(r.end)
}

fn digit_count(t: &[u8], start: usize) -> usize {
    t.get(start..)
        .map_or(0, |w| w.iter().take_while(|b| b.is_ascii_digit()).count())
}

/// The modulus 11 check digit (NHS Data Dictionary).
pub(super) fn valid(d: &[u8]) -> bool {
    let (Some(body), Some(&check)) = (d.get(..9), d.get(9)) else {
        return false;
    };
    let r = weighted(body, &[10, 9, 8, 7, 6, 5, 4, 3, 2]) % 11;
    let want = (11 - r) % 11;
    want != 10 && u32::from(check) == want
}

#[cfg(test)]
mod tests {
    use super::super::tests::first;
    use super::*;

    fn nhs(text: &str) -> Option<&str> {
        first(text, match_at)
    }

    #[test]
    fn cued_numbers() {
        assert_eq!(nhs("NHS number 943 476 5919"), Some("943 476 5919"));
        assert_eq!(nhs(r#"{"nhs_no": "9434765919"}"#), Some("9434765919"));
        assert_eq!(
            nhs(r#"{"patientNhsNumber": "943-476-5919"}"#),
            Some("943-476-5919")
        );
        assert_eq!(nhs("NHS No. 943.476.5919, thanks"), Some("943.476.5919"));
        assert_eq!(nhs("943 476 5919 is my NHS number"), Some("943 476 5919"));
        assert_eq!(nhs("Rhif GIG: 943 476 5919"), Some("943 476 5919"));
        // Check digit 0 (11 - 0 = 11 → 0).
        assert!(valid(&[4, 0, 1, 0, 2, 3, 2, 1, 3, 7]));
        assert_eq!(nhs("nhs 401 023 2137"), Some("401 023 2137"));
    }

    #[test]
    fn not_nhs_numbers() {
        assert_eq!(nhs("943 476 5919"), None, "no cue");
        assert_eq!(nhs("phone 943 476 5919"), None, "another cue");
        assert_eq!(nhs("NHS number 943 476 5918"), None, "check digit");
        assert_eq!(nhs("NHS number 943 476-5919"), None, "two separators");
        assert_eq!(nhs("NHS number 943 476 5919 12"), None, "longer chain");
        assert_eq!(nhs("NHS number 94347659190"), None, "eleven digits");
        assert_eq!(nhs("NHS number 000 000 0000"), None, "filler");
        assert_eq!(nhs("nhsx 943 476 5919"), None, "not the word");
        // A remainder of 1 asks for a check digit of 10: never issued.
        let ten = [1, 0, 0, 0, 0, 0, 0, 0, 1, 0];
        assert_eq!(weighted(&ten[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]) % 11, 1);
        assert!(!valid(&ten));
    }
}
