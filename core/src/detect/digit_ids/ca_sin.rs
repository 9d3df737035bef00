//! Canadian Social Insurance Numbers: nine digits, written `046 454 286` (3-3-3) or as one
//! run, whose last digit is a Luhn (mod 10) check digit; the first digit is never 8 (not used
//! for individuals). 0 is not assigned either, but the fictitious number in every example
//! (`046 454 286`) starts with it, and a cued test value is worth catching. Source: Employment and Social Development Canada,
//! "Social Insurance Number" and its Code of Practice
//! (<https://www.canada.ca/en/employment-social-development/services/sin.html>); the check
//! digit as the Canada Revenue Agency's employer guides give it (the standard modulus 10
//! formula).
//!
//! One nine-digit number in ten passes Luhn, and 3-3-3 is a common shape: a SIN is one only
//! next to its cue (`SIN`, `social insurance number`, French `numéro d'assurance sociale`),
//! a whole word (`since` is not `sin`) and not a function (`Math.sin(x)`). `sin` and the French
//! abbreviation `NAS` count only in capitals or as labels (`sin:`, `{"nas": …}`): in Spanish
//! `sin` is "without", and `nas` names network storage.

use super::super::card::luhn;
use super::super::catalogue::{BuiltIn, DigitWord};
use super::{groups, has_cue, standalone};

pub(in crate::detect) struct CaSin;

impl BuiltIn for CaSin {
    const NAME: &'static str = "ca_sin";
    const FINDS: &'static str = "Canadian Social Insurance Numbers: nine digits, `046 454 286` (3-3-3, one separator throughout: space, dash, dot) or one run, first digit not 8, with the Luhn check digit, only next to a cue (`SIN`, `NAS` in capitals or as labels, `social insurance`, `assurance sociale`, whole words) in the same field, on a label line above, in its table column's header, or in a sibling JSON member naming its type. Not inside a longer number; all-equal digits are not numbers.";
    const DIGIT_WORD: bool = true;
    /// Three digits and a separator, or a run of exactly nine.
    #[inline(always)]
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = (w.digits == 3 && w.sep_next) || (w.digits == 9 && w.len() == 9);
        shape.then(|| match_at(w.t, w.start, w.digits)).flatten()
    }
}

/// `sin` is also Spanish ("without": `Envío sin coste para el pedido …`) and a function's name:
/// in capitals or as a label only (`SIN`, `sin:`, `"sin":`, `sin_number`, `employeeSin`). So is
/// the French abbreviation `NAS` (also network storage: `mount nas:/`), with `S.I.N.`.
pub(super) const CUES: &[&str] = &[
    "!sin",
    "s.i.n",
    "!nas",
    "sinno",
    "social insurance",
    "socialinsurance",
    "social_insurance",
    "assurance sociale",
    "assurance_sociale",
];

#[inline(never)]
pub(super) fn match_at(t: &[u8], start: usize, digits: usize) -> Option<usize> {
    let r = if digits == 9 {
        groups(t, start, &[9])?
    } else {
        groups(t, start, &[3, 3, 3]).filter(|r| r.uniform().is_some())?
    };
    let d = r.digits();
    let first_ok = d.first().is_some_and(|&f| f != 8);
    (first_ok
        && luhn(d)
        && !r.all_same()
        && standalone(t, start, &r)
        && has_cue(t, start, r.end, CUES))
    .then_some(r.end)
}

#[cfg(test)]
mod tests {
    use super::super::tests::first;
    use super::*;

    fn sin(text: &str) -> Option<&str> {
        first(text, |t, s| {
            let n = t[s..].iter().take_while(|b| b.is_ascii_digit()).count();
            match_at(t, s, n)
        })
    }

    #[test]
    fn cued_numbers() {
        assert_eq!(sin("SIN 046 454 286"), Some("046 454 286"));
        assert_eq!(sin(r#"{"sin": "046454286"}"#), Some("046454286"));
        assert_eq!(
            sin("social insurance number: 130-692-544"),
            Some("130-692-544")
        );
        assert_eq!(
            sin("numéro d'assurance sociale 130 692 544"),
            Some("130 692 544")
        );
        assert_eq!(sin(r#"{"employeeSin": "130692544"}"#), Some("130692544"));
        assert_eq!(sin("046 454 286 is my SIN"), Some("046 454 286"));
    }

    #[test]
    fn not_sins() {
        assert_eq!(sin("046 454 286"), None, "no cue");
        assert_eq!(sin("since 046 454 286"), None, "not the word");
        assert_eq!(sin("SIN 046 454 287"), None, "Luhn");
        assert_eq!(sin("SIN 846 454 288"), None, "first digit 8");
        assert_eq!(sin("SIN 046 454-286"), None, "two separators");
        assert_eq!(sin("SIN 046 454 286 1"), None, "longer chain");
        assert_eq!(sin("SIN 0464542861"), None, "ten digits");
        assert_eq!(
            sin(r#"{"sin": "x", "order": "046454286"}"#),
            None,
            "another field's cue"
        );
    }
}
