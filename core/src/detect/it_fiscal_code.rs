//! Italian fiscal codes (codice fiscale) of persons: sixteen characters, `RSSMRA85T10A562S`:
//! three letters of the surname and three of the name, the year's two digits, the month's
//! letter (`ABCDEHLMPRST`), the day's two digits (plus 40 for women), the place of birth (a
//! letter and three digits: the cadastral code, `Z` and the country abroad) and a check letter
//! computed from the fifteen others with the odd and even tables (Decreto del Ministro delle
//! Finanze 23 dicembre 1976, "Sistemi di codificazione dei soggetti da iscrivere
//! nell'anagrafe tributaria", and Agenzia delle Entrate). Where two people would share a code,
//! digits are replaced by `LMNPQRSTUV` for 0..9 from the right (omocodia); those codes are
//! taken too. Sixteen characters of that structure and a check letter need no cue. Upper or
//! lower case, not mixed.

use super::catalogue::BuiltIn;
use super::id_shape::standalone;
use super::text::{at, digit};

pub(super) struct ItFiscalCode;

impl BuiltIn for ItFiscalCode {
    const NAME: &'static str = "it_fiscal_code";
    const FINDS: &'static str = "Italian fiscal codes of persons (`RSSMRA85T10A562S`): six letters, year, month letter `ABCDEHLMPRST`, day (1..31, women 41..71), place (a letter and three digits), and the check letter of the odd and even tables; digits replaced by `LMNPQRSTUV` (omocodia) are taken. Upper or lower case.";

    /// A word of sixteen characters.
    const LETTER_WORD: bool = true;
    fn at_letter_word(t: &[u8], start: usize, end: usize) -> Option<usize> {
        (end - start == 16).then(|| match_at(t, start)).flatten()
    }
}

/// The value of a character in an odd position (first, third, ...): `A` or `0` is 1, `B` or
/// `1` is 0, and so on (the decree's table).
const ODD: [u8; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

/// Positions that hold digits, or their omocodia letters.
const DIGITS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];

/// The digit a character stands for in a digit position: itself, or its omocodia letter.
fn omocodia(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        _ => b"LMNPQRSTUV"
            .iter()
            .position(|&l| l == c)
            .and_then(|p| u8::try_from(p).ok()),
    }
}

/// A fiscal code starting at `start` (sixteen characters): its end.
pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    let mut chars = [0u8; 16];
    let mut lower = None;
    for (k, c) in chars.iter_mut().enumerate() {
        let b = at(t, start + k)?;
        if b.is_ascii_alphabetic() {
            // One case throughout.
            if *lower.get_or_insert(b.is_ascii_lowercase()) != b.is_ascii_lowercase() {
                return None;
            }
        }
        *c = b.to_ascii_uppercase();
    }
    let is_letter = |k: usize| chars.get(k).is_some_and(u8::is_ascii_uppercase);
    if ![0, 1, 2, 3, 4, 5, 8, 11, 15].into_iter().all(is_letter) {
        return None;
    }
    let mut d = [0u8; 7];
    for (v, &k) in d.iter_mut().zip(DIGITS.iter()) {
        *v = omocodia(chars.get(k).copied()?)?;
    }
    let [_, _, d1, d2, ..] = d;
    let day = d1 * 10 + d2;
    let month_ok = b"ABCDEHLMPRST".contains(chars.get(8)?);
    if !month_ok || !(matches!(day, 1..=31) || matches!(day, 41..=71)) {
        return None;
    }
    let mut sum = 0u32;
    for (k, &c) in chars.iter().take(15).enumerate() {
        let v = if c.is_ascii_digit() {
            c - b'0'
        } else {
            c - b'A'
        };
        sum += u32::from(if k % 2 == 0 {
            *ODD.get(usize::from(v))?
        } else {
            v
        });
    }
    let check = b'A' + u8::try_from(sum % 26).ok()?;
    let end = start + 16;
    (chars.get(15) == Some(&check) && digit(t, end).is_none() && standalone(t, start, end))
        .then_some(end)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;
    use crate::detect::scan_body as scan;

    fn cf(text: &str) -> Option<&str> {
        let start = text.find(|c: char| c.is_ascii_uppercase() || c.is_ascii_lowercase())?;
        match_at(text.as_bytes(), start).map(|end| &text[start..end])
    }

    #[test]
    fn check_letter_and_structure() {
        assert_eq!(cf("RSSMRA85T10A562S"), Some("RSSMRA85T10A562S"));
        assert_eq!(cf("rssmra85t10a562s"), Some("rssmra85t10a562s"));
        assert_eq!(cf("RSSMRA85T10A562T"), None, "check letter");
        assert_eq!(cf("RSSMRA85T10a562S"), None, "mixed case");
        assert_eq!(cf("RSSMRA85F10A562S"), None, "F is no month");
        assert_eq!(cf("RSSMRA85T32A562S"), None, "day 32");
        assert_eq!(cf("RSSMRA85T00A562S"), None, "day 0");
        assert_eq!(cf("RSSMRA85T1AA562S"), None, "A is no digit");
    }

    #[test]
    fn women_and_omocodia() {
        // Day + 40: a woman born on the 10th.
        assert_eq!(cf("RSSMRA85T50A562W"), Some("RSSMRA85T50A562W"));
        // The last digit of the place replaced (2 -> N), and the check letter recomputed.
        assert_eq!(cf("RSSMRA85T10A56NH"), Some("RSSMRA85T10A56NH"));
    }

    #[test]
    fn through_the_scanner() {
        let one = |v: &str| vec![("it_fiscal_code".to_string(), v.to_string())];
        assert_eq!(
            scan(r#"{"codice_fiscale":"RSSMRA85T10A562S"}"#),
            one("RSSMRA85T10A562S")
        );
        assert_eq!(
            scan("il mio codice è RSSMRA85T10A562S."),
            one("RSSMRA85T10A562S")
        );
        for t in [
            "RSSMRA85T10A562T",
            "ABCDEF12G34H567I",
            "key_RSSMRA85T10A562S",
            "RSSMRA85T10A562SX",
        ] {
            assert_eq!(scan(t), vec![], "{t}");
        }
    }
}
