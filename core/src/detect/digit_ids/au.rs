//! Australian identifiers: tax file numbers (TFN), Australian Business Numbers (ABN),
//! Australian Company Numbers (ACN) and Medicare card numbers, each its own type.
//!
//! - TFN: nine digits (`123 456 782`, older ones eight), weighted sum (1, 4, 3, 7, 5, 8, 6, 9,
//!   10; eight digits: 10, 7, 8, 4, 6, 3, 5, 1) divisible by 11. Source: Australian Taxation
//!   Office, "Tax file number" (<https://www.ato.gov.au/individuals-and-families/tax-file-number>);
//!   the check as the ATO's TFN algorithm gives it (also in python-stdnum `au.tfn`). One in
//!   eleven passes by chance: only next to a cue (`tfn`, `tax file number`).
//! - ABN: eleven digits, `51 824 753 556` (2-3-3-3); subtract 1 from the first digit, weights
//!   10, 1, 3, 5, … 19, the sum divisible by 89. Source: Australian Business Register, "ABN
//!   format" (<https://abr.business.gov.au/Help/AbnFormat>). One in 89 passes by chance, and the
//!   2-3-3-3 grouping is the ABN's own: grouped it stands alone; one run needs its cue (`abn`).
//! - ACN: nine digits, `004 085 616` (3-3-3); weights 8 down to 1, the check digit is 10 minus
//!   the sum's last digit (10 read as 0). Source: ASIC, "Australian Company Number (ACN) digit
//!   check" (<https://asic.gov.au/for-business/registering-a-company/steps-to-register-a-company/australian-company-numbers/australian-company-number-digit-check/>).
//!   One in ten passes: only next to a cue (`acn`, `australian company number`).
//! - Medicare card number: ten digits, `2123 45670 1` (4-5-1), first digit 2 to 6, the ninth a
//!   check digit (weights 1, 3, 7, 9, 1, 3, 7, 9 on the first eight, mod 10), the tenth the
//!   card's issue number (not 0), optionally followed by the person's reference number (one
//!   digit, 1 to 9). Source: Services Australia, Medicare card number check digit (the
//!   Australian Immunisation Register web services specification, TECH.SIS.AIR.01, Appendix
//!   A). One in ten passes: only next to a cue (`medicare`).
//!
//! The nine-digit shapes (TFN, ACN) are also a Canadian SIN's: the cue in the value's own field
//! decides.

use super::super::catalogue::{BuiltIn, DigitWord};
use super::{groups, has_cue, standalone, weighted, Read};

pub(in crate::detect) struct AuTfn;
pub(in crate::detect) struct AuAbn;
pub(in crate::detect) struct AuAcn;
pub(in crate::detect) struct AuMedicare;

impl BuiltIn for AuTfn {
    const NAME: &'static str = "au_tfn";
    const FINDS: &'static str = "Australian tax file numbers: nine digits (`123 456 782`, 3-3-3) or eight (2-3-3, 3-3-2), one separator throughout (space, dash, dot) or one run, with the ATO's weighted modulus 11 check, only next to a cue (`tfn`, `tax file number`) in the same field. Not inside a longer number; all-equal digits are not numbers.";
    const DIGIT_WORD: bool = true;
    /// Two or three digits and a separator, or a run of exactly eight or nine.
    #[inline(always)]
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = ((w.digits == 3 || w.digits == 2) && w.sep_next)
            || ((w.digits == 9 || w.digits == 8) && w.len() == w.digits);
        shape.then(|| tfn_at(w.t, w.start, w.digits)).flatten()
    }
}

impl BuiltIn for AuAbn {
    const NAME: &'static str = "au_abn";
    const FINDS: &'static str = "Australian Business Numbers: eleven digits passing the ABN modulus 89 check; `51 824 753 556` (2-3-3-3, one separator throughout: space, dash, dot) on its own, one run only next to a cue (`abn`, `australian business number`) in the same field. Not inside a longer number nor an amount (`12 345 678 901,50`).";
    const DIGIT_WORD: bool = true;
    /// Two digits and a separator, or a run of exactly eleven.
    #[inline(always)]
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = (w.digits == 2 && w.sep_next) || (w.digits == 11 && w.len() == 11);
        shape.then(|| abn_at(w.t, w.start, w.digits)).flatten()
    }
}

impl BuiltIn for AuAcn {
    const NAME: &'static str = "au_acn";
    const FINDS: &'static str = "Australian Company Numbers: nine digits, `004 085 616` (3-3-3, one separator throughout: space, dash, dot) or one run, with the ASIC modulus 10 check digit, only next to a cue (`acn`, `australian company number`) in the same field. Not inside a longer number; all-equal digits are not numbers.";
    const DIGIT_WORD: bool = true;
    /// Three digits and a separator, or a run of exactly nine.
    #[inline(always)]
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = (w.digits == 3 && w.sep_next) || (w.digits == 9 && w.len() == 9);
        shape.then(|| acn_at(w.t, w.start, w.digits)).flatten()
    }
}

impl BuiltIn for AuMedicare {
    const NAME: &'static str = "au_medicare";
    const FINDS: &'static str = "Australian Medicare card numbers: ten digits, `2123 45670 1` (4-5-1, one separator throughout: space, dash, dot) or one run, optionally with the one-digit individual reference number after; first digit 2..6, the check digit in position 9, an issue number other than 0; only next to a cue (`medicare`) in the same field. Not inside a longer number.";
    const DIGIT_WORD: bool = true;
    /// Four digits and a separator, or a run of exactly ten or eleven.
    #[inline(always)]
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = (w.digits == 4 && w.sep_next)
            || ((w.digits == 10 || w.digits == 11) && w.len() == w.digits);
        shape.then(|| medicare_at(w.t, w.start, w.digits)).flatten()
    }
}

pub(super) const TFN_CUES: &[&str] = &["tfn", "tax file", "taxfile", "tax_file"];
pub(super) const ABN_CUES: &[&str] = &["abn", "australian business number", "business_number"];
pub(super) const ACN_CUES: &[&str] = &["acn", "australian company number", "company_number"];
pub(super) const MEDICARE_CUES: &[&str] = &["medicare"];

/// Groups of one of these shapes, joined by the same separator throughout, or the digits as one
/// run when there are `digits` of them and that is a shape.
fn read(t: &[u8], start: usize, digits: usize, shapes: &[&[usize]]) -> Option<Read> {
    shapes.iter().find_map(|lens| match lens {
        [n] => (*n == digits).then(|| groups(t, start, lens)).flatten(),
        [first, ..] if *first == digits => {
            groups(t, start, lens).filter(|r| r.uniform().is_some() && standalone(t, start, r))
        }
        _ => None,
    })
}

#[inline(never)]
pub(super) fn tfn_at(t: &[u8], start: usize, digits: usize) -> Option<usize> {
    let r = read(
        t,
        start,
        digits,
        &[&[9], &[8], &[3, 3, 3], &[3, 3, 2], &[2, 3, 3]],
    )?;
    (tfn_valid(r.digits())
        && !r.all_same()
        && standalone(t, start, &r)
        && has_cue(t, start, r.end, TFN_CUES))
    .then_some(r.end)
}

pub(super) fn tfn_valid(d: &[u8]) -> bool {
    let weights: &[u32] = match d.len() {
        9 => &[1, 4, 3, 7, 5, 8, 6, 9, 10],
        8 => &[10, 7, 8, 4, 6, 3, 5, 1],
        _ => return false,
    };
    weighted(d, weights).is_multiple_of(11)
}

#[inline(never)]
pub(super) fn abn_at(t: &[u8], start: usize, digits: usize) -> Option<usize> {
    let r = read(t, start, digits, &[&[11], &[2, 3, 3, 3]])?;
    let grouped = r.first_joint().is_some();
    (abn_valid(r.digits())
        && standalone(t, start, &r)
        && (grouped || has_cue(t, start, r.end, ABN_CUES)))
    .then_some(r.end)
}

pub(super) fn abn_valid(d: &[u8]) -> bool {
    let Some(&first) = d.first().filter(|&&f| f > 0) else {
        return false;
    };
    let rest = weighted(
        d.get(1..).unwrap_or_default(),
        &[1, 3, 5, 7, 9, 11, 13, 15, 17, 19],
    );
    d.len() == 11 && (u32::from(first - 1) * 10 + rest).is_multiple_of(89)
}

#[inline(never)]
pub(super) fn acn_at(t: &[u8], start: usize, digits: usize) -> Option<usize> {
    let r = read(t, start, digits, &[&[9], &[3, 3, 3]])?;
    (acn_valid(r.digits())
        && !r.all_same()
        && standalone(t, start, &r)
        && has_cue(t, start, r.end, ACN_CUES))
    .then_some(r.end)
}

pub(super) fn acn_valid(d: &[u8]) -> bool {
    let (Some(body), Some(&check)) = (d.get(..8), d.get(8)) else {
        return false;
    };
    let want = (10 - weighted(body, &[8, 7, 6, 5, 4, 3, 2, 1]) % 10) % 10;
    d.len() == 9 && u32::from(check) == want
}

#[inline(never)]
pub(super) fn medicare_at(t: &[u8], start: usize, digits: usize) -> Option<usize> {
    // The longer shape first: the reference number belongs to the value.
    let r = read(t, start, digits, &[&[11], &[10], &[4, 5, 1, 1], &[4, 5, 1]])?;
    (medicare_valid(r.digits())
        && standalone(t, start, &r)
        && has_cue(t, start, r.end, MEDICARE_CUES))
    .then_some(r.end)
}

pub(super) fn medicare_valid(d: &[u8]) -> bool {
    let (Some(body), Some(&check), Some(&issue)) = (d.get(..8), d.get(8), d.get(9)) else {
        return false;
    };
    let irn_ok = d.get(10).is_none_or(|&irn| irn > 0);
    (2..=6).contains(body.first().unwrap_or(&0))
        && u32::from(check) == weighted(body, &[1, 3, 7, 9, 1, 3, 7, 9]) % 10
        && issue > 0
        && irn_ok
        && (10..=11).contains(&d.len())
}

#[cfg(test)]
mod tests {
    use super::super::tests::first;
    use super::*;

    fn run(text: &str, m: fn(&[u8], usize, usize) -> Option<usize>) -> Option<&str> {
        first(text, |t, s| {
            let n = t[s..].iter().take_while(|b| b.is_ascii_digit()).count();
            m(t, s, n)
        })
    }

    #[test]
    fn tfn() {
        let tfn = |t| run(t, tfn_at);
        assert_eq!(tfn("TFN 123 456 782"), Some("123 456 782"));
        assert_eq!(
            tfn(r#"{"tax_file_number": "876543210"}"#),
            Some("876543210")
        );
        assert_eq!(tfn("Tax File Number: 459-599-230"), Some("459-599-230"));
        assert_eq!(tfn("tfn 37118629"), Some("37118629"), "eight digits");
        assert_eq!(tfn("tfn 371 186 29"), Some("371 186 29"));
        assert_eq!(tfn("tfn 37 118 629"), Some("37 118 629"));
        assert_eq!(tfn("123 456 782"), None, "no cue");
        assert_eq!(tfn("TFN 123 456 783"), None, "check");
        assert_eq!(tfn("TFN 123 456 782 1"), None, "longer chain");
        assert_eq!(tfn("TFN 000 000 000"), None, "filler");
        assert_eq!(tfn("sin 123 456 782"), None, "another cue");
    }

    #[test]
    fn abn() {
        let abn = |t| run(t, abn_at);
        assert_eq!(abn("ABN 51 824 753 556"), Some("51 824 753 556"));
        assert_eq!(
            abn("Acme Pty Ltd, 51 824 753 556, Sydney"),
            Some("51 824 753 556")
        );
        assert_eq!(
            abn(r#"{"supplier": "53-004-085-616"}"#),
            Some("53-004-085-616")
        );
        assert_eq!(abn(r#"{"abn": "51824753556"}"#), Some("51824753556"));
        assert_eq!(
            abn(r#"{"order": "51824753556"}"#),
            None,
            "a run needs a cue"
        );
        assert_eq!(abn("51 824 753 557"), None, "check");
        assert_eq!(abn("total 51 824 753 556,50 EUR"), None, "an amount");
        assert_eq!(abn("51 824 753 556 123"), None, "longer chain");
        assert_eq!(abn("51 824 753-556"), None, "two separators");
    }

    #[test]
    fn acn() {
        let acn = |t| run(t, acn_at);
        assert_eq!(acn("ACN 004 085 616"), Some("004 085 616"));
        assert_eq!(acn(r#"{"acn": "010122228"}"#), Some("010122228"));
        assert_eq!(
            acn("Australian Company Number 004-085-616"),
            Some("004-085-616")
        );
        assert_eq!(acn("004 085 616"), None, "no cue");
        assert_eq!(acn("ACN 004 085 617"), None, "check");
    }

    #[test]
    fn medicare() {
        let medicare = |t| run(t, medicare_at);
        assert_eq!(medicare("Medicare 2123 45670 1"), Some("2123 45670 1"));
        assert_eq!(medicare("Medicare 2123 45670 1 2"), Some("2123 45670 1 2"));
        assert_eq!(
            medicare(r#"{"medicare_number": "2123456701"}"#),
            Some("2123456701")
        );
        assert_eq!(
            medicare(r#"{"medicareNo": "21234567012"}"#),
            Some("21234567012")
        );
        assert_eq!(medicare("2123 45670 1"), None, "no cue");
        assert_eq!(medicare("Medicare 2123 45671 1"), None, "check");
        assert_eq!(medicare("Medicare 2123 45670 0"), None, "issue number 0");
        assert_eq!(medicare("Medicare 7123 45670 1"), None, "first digit");
        assert_eq!(medicare("Medicare 2123 45670 1 2 3"), None, "longer chain");
    }
}
