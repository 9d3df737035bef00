//! Polish PESEL numbers: eleven digits `YYMMDDZZZXQ`, the date of birth first (the month
//! carries the century: +80 for the 1800s, +0, +20 for the 2000s, +40, +60), then a serial
//! number, and a check digit (weights 1, 3, 7, 9, 1, 3, 7, 9, 1, 3; 10 minus the sum's last
//! digit, 10 read as 0). Source: the Act on the population register (Ustawa o ewidencji
//! ludności, art. 15) and gov.pl, "Numer PESEL" (<https://www.gov.pl/web/gov/czym-jest-numer-pesel>).
//!
//! A valid date and a check digit still let one eleven-digit number in about 350 through:
//! a PESEL is one only next to its cue (`pesel`).

use super::super::catalogue::{BuiltIn, DigitWord};
use super::{groups, has_cue, is_date, number, standalone, weighted};

pub(in crate::detect) struct PlPesel;

impl BuiltIn for PlPesel {
    const NAME: &'static str = "pl_pesel";
    const FINDS: &'static str = "Polish PESEL numbers: eleven digits as one run, a date of birth (`YYMMDD`, the month offset by the century) and the PESEL check digit, only next to a cue (`pesel`) in the same field. Not inside a longer number.";
    const DIGIT_WORD: bool = true;
    /// A run of exactly eleven digits.
    #[inline(always)]
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        (w.digits == 11 && w.len() == 11)
            .then(|| match_at(w.t, w.start))
            .flatten()
    }
}

pub(super) const CUES: &[&str] = &["pesel"];

#[inline(never)]
pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    let r = groups(t, start, &[11])?;
    (valid(r.digits()) && standalone(t, start, &r) && has_cue(t, start, r.end, CUES))
        .then_some(r.end)
}

pub(super) fn valid(d: &[u8]) -> bool {
    let (Some(body), Some(&check)) = (d.get(..10), d.get(10)) else {
        return false;
    };
    let (yy, mm, dd) = (number(d, 0, 2), number(d, 2, 2), number(d, 4, 2));
    let (century, month) = match mm {
        81..=92 => (1800, mm - 80),
        1..=12 => (1900, mm),
        21..=32 => (2000, mm - 20),
        41..=52 => (2100, mm - 40),
        61..=72 => (2200, mm - 60),
        _ => return false,
    };
    let want = (10 - weighted(body, &[1, 3, 7, 9, 1, 3, 7, 9, 1, 3]) % 10) % 10;
    is_date(century + yy, month, dd) && u32::from(check) == want
}

#[cfg(test)]
mod tests {
    use super::super::tests::first;
    use super::*;

    fn pesel(text: &str) -> Option<&str> {
        first(text, match_at)
    }

    #[test]
    fn cued_numbers() {
        assert_eq!(pesel("PESEL 44051401359"), Some("44051401359"));
        assert_eq!(
            pesel(r#"{"pesel": "04222901237"}"#),
            Some("04222901237"),
            "29 Feb 2004"
        );
        assert_eq!(
            pesel("numer PESEL: 00323101235"),
            Some("00323101235"),
            "31 Dec 2000"
        );
    }

    #[test]
    fn not_pesel_numbers() {
        assert_eq!(pesel("44051401359"), None, "no cue");
        assert_eq!(pesel("PESEL 44051401358"), None, "check");
        assert_eq!(pesel("PESEL 44133101357"), None, "month 13");
        assert_eq!(pesel("PESEL 02222901233"), None, "29 Feb 2002");
        assert_eq!(pesel("PESEL 440514013590"), None, "twelve digits");
    }
}
