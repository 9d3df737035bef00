//! Korean resident registration numbers (주민등록번호): thirteen digits `YYMMDD-GNNNNNN`, the
//! date of birth, then a digit `G` for sex and century (1, 2: 1900s; 3, 4: 2000s; 5 to 8 the
//! same for foreign residents' registration numbers), then six digits. Up to September 2020
//! the last six were a region code, a serial number and a check digit (weights 2 to 9, 2 to 5;
//! 11 minus the sum mod 11, mod 10); numbers issued since October 2020 have six random digits
//! and no check digit, and foreign residents' numbers follow other rules. Source: Resident
//! Registration Act, Enforcement Rule (주민등록법 시행규칙, art. 2, the number's composition) and
//! the Ministry of the Interior and Safety's notice of the change of October 2020
//! (<https://www.mois.go.kr/>).
//!
//! Decided by the date and `G` always, then: the check digit OR a cue. `YYMMDD-GNNNNNN` with a
//! valid date and check digit stands alone (about one random 6-7 group pair in 350 passes
//! both); a number without a valid check digit (issued since 2020, or a foreign resident's)
//! needs its cue (`주민등록번호`, `주민번호`, `rrn`, `resident registration`), and so does one run
//! of thirteen digits, which a payment card's matcher sees first.

use super::super::catalogue::{BuiltIn, DigitWord};
use super::super::text::Sep;
use super::{groups, has_cue, is_date, number, standalone, weighted};

pub(in crate::detect) struct KrRrn;

impl BuiltIn for KrRrn {
    const NAME: &'static str = "kr_rrn";
    const FINDS: &'static str = "Korean resident registration numbers: `YYMMDD-GNNNNNN` (a dash, or a space next to a cue) or thirteen digits as one run, a valid date of birth and a sex/century digit 1..8; with the pre-2020 check digit it stands alone, without one (numbers issued since October 2020) and as one run only next to a cue (`주민등록번호`, `주민번호`, `rrn`, `resident registration`) in the same field. Not inside a longer number.";
    const DIGIT_WORD: bool = true;
    /// Six digits and a separator, or a run of exactly thirteen.
    #[inline(always)]
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = (w.digits == 6 && w.sep_next) || (w.digits == 13 && w.len() == 13);
        shape.then(|| match_at(w.t, w.start, w.digits)).flatten()
    }
}

pub(super) const CUES: &[&str] = &[
    "rrn",
    "resident registration",
    "주민등록번호",
    "주민번호",
    "주민등록",
    "jumin",
];

#[inline(never)]
pub(super) fn match_at(t: &[u8], start: usize, digits: usize) -> Option<usize> {
    let r = if digits == 13 {
        groups(t, start, &[13])?
    } else {
        groups(t, start, &[6, 7])
            .filter(|r| matches!(r.first_joint(), Some(Sep::Dash | Sep::Space)))?
    };
    let d = r.digits();
    if !(date_ok(d) && standalone(t, start, &r)) {
        return None;
    }
    let dashed = r.first_joint() == Some(Sep::Dash);
    ((dashed && checked(d)) || has_cue(t, start, r.end, CUES)).then_some(r.end)
}

/// The date of birth, in the century the seventh digit says.
pub(super) fn date_ok(d: &[u8]) -> bool {
    let century = match d.get(6) {
        Some(1 | 2 | 5 | 6) => 1900,
        Some(3 | 4 | 7 | 8) => 2000,
        _ => return false,
    };
    is_date(century + number(d, 0, 2), number(d, 2, 2), number(d, 4, 2))
}

/// The check digit of numbers issued before October 2020.
pub(super) fn checked(d: &[u8]) -> bool {
    let (Some(body), Some(&check)) = (d.get(..12), d.get(12)) else {
        return false;
    };
    let s = weighted(body, &[2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]);
    u32::from(check) == (11 - s % 11) % 10
}

#[cfg(test)]
mod tests {
    use super::super::tests::first;
    use super::*;

    fn rrn(text: &str) -> Option<&str> {
        first(text, |t, s| {
            let n = t[s..].iter().take_while(|b| b.is_ascii_digit()).count();
            match_at(t, s, n)
        })
    }

    #[test]
    fn checked_numbers_stand_alone() {
        assert_eq!(rrn("800101-1234560"), Some("800101-1234560"));
        assert_eq!(rrn(r#"{"id": "020315-3123455"}"#), Some("020315-3123455"));
    }

    #[test]
    fn others_need_a_cue() {
        assert_eq!(rrn("800101-1234567"), None, "no check digit, no cue");
        assert_eq!(rrn("주민등록번호: 800101-1234567"), Some("800101-1234567"));
        assert_eq!(rrn(r#"{"rrn": "8001011234567"}"#), Some("8001011234567"));
        assert_eq!(rrn("8001011234560"), None, "a run needs a cue");
        assert_eq!(rrn("RRN 800101 1234567"), Some("800101 1234567"));
        assert_eq!(rrn("800101 1234560"), None, "a space needs a cue");
    }

    #[test]
    fn not_rrns() {
        assert_eq!(rrn("RRN 801301-1234567"), None, "month 13");
        assert_eq!(rrn("RRN 800230-1234567"), None, "30 February");
        assert_eq!(rrn("RRN 800101-9234567"), None, "sex/century digit 9");
        assert_eq!(rrn("RRN 800101-0234567"), None, "sex/century digit 0");
        assert_eq!(rrn("RRN 800101-1234567-1"), None, "longer chain");
        assert_eq!(rrn("RRN 800101-12345678"), None, "eight digits");
    }
}
