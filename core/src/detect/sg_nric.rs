//! Singapore NRIC and FIN numbers (`S1234567D`): a prefix letter (`S`, `T` for citizens and
//! permanent residents born before 2000 and from 2000; `F`, `G` for foreigners issued before
//! 2000 and from 2000; `M` for foreigners issued from 2022), seven digits and a check letter:
//! the digits weighted 2, 7, 6, 5, 4, 3, 2 and summed, plus 4 for `T` and `G` and 3 for `M`,
//! modulo 11, read in `JZIHGFEDCBA` (`S`, `T`), `XWUTRQPNMLK` (`F`, `G`) or `XWUTRQPNJLK`
//! (`M`). The Immigration & Checkpoints Authority (ICA) issues the numbers (the `M` series
//! since 1 January 2022) and does not publish the check; the weights and tables are the ones
//! Singapore's government services validate with (GovTech's FormSG,
//! `shared/utils/nric-validation.ts`).
//!
//! One letter in 11 is a weak check, but the shape is specific (a prefix of five letters,
//! seven digits, a letter) and stands alone: upper-case numbers need no cue; numbers in lower
//! case only next to a cue (`nric`, `fin`, `identity card`).

use super::catalogue::BuiltIn;
use super::id_cue::has_cue;
use super::id_shape::{letter, number, standalone};
use super::text::digit;

pub(super) struct SgNric;

impl BuiltIn for SgNric {
    const NAME: &'static str = "sg_nric";
    const FINDS: &'static str = "Singapore NRIC/FIN (`S1234567D`): `S`, `T`, `F`, `G` or `M`, seven digits and the check letter (weights 2 7 6 5 4 3 2, offsets 4 for `T`/`G` and 3 for `M`, modulo 11, the series' letter table). In lower case only after a cue (`nric`, `fin`, `identity card`). Not part of a longer identifier.";

    /// A word of nine characters.
    const LETTER_WORD: bool = true;
    fn at_letter_word(t: &[u8], start: usize, end: usize) -> Option<usize> {
        (end - start == 9).then(|| match_at(t, start)).flatten()
    }
}

/// `fin` is also a word (French "end", code's `let fin = …`) and `ic` an abbreviation of many
/// things: in capitals (`FIN`, `IC`) or as labels (`fin:`, `"fin":`) only.
const CUES: &[&str] = &[
    "nric",
    "!fin",
    "uin",
    "identity card",
    "!ic",
    "ic number",
    "ic no",
];

const WEIGHTS: [u32; 7] = [2, 7, 6, 5, 4, 3, 2];

/// An NRIC or FIN starting at `start`: its end.
pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    let (p, lower_p) = letter(t, start)?;
    let (offset, table): (u32, &[u8; 11]) = match p {
        b'S' => (0, b"JZIHGFEDCBA"),
        b'T' => (4, b"JZIHGFEDCBA"),
        b'F' => (0, b"XWUTRQPNMLK"),
        b'G' => (4, b"XWUTRQPNMLK"),
        b'M' => (3, b"XWUTRQPNJLK"),
        _ => return None,
    };
    number(t, start + 1, 7)?;
    let sum = WEIGHTS.iter().enumerate().try_fold(offset, |s, (k, w)| {
        Some(s + w * u32::from(digit(t, start + 1 + k)?))
    })?;
    let (check, lower) = letter(t, start + 8)?;
    let end = start + 9;
    let valid = table.get((sum % 11) as usize) == Some(&check) && standalone(t, start, end);
    (valid && (!lower_p && !lower || has_cue(t, start, end, CUES))).then_some(end)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;
    use crate::detect::scan_body as scan;

    fn nric(text: &str) -> Option<&str> {
        let start = text.rfind(' ').map_or(0, |p| p + 1);
        match_at(text.as_bytes(), start).map(|end| &text[start..end])
    }

    #[test]
    fn each_series() {
        for ok in [
            "S1234567D",
            "T1234567J",
            "F1234567N",
            "G1234567X",
            "M1234567K",
        ] {
            assert_eq!(nric(ok), Some(ok), "{ok}");
        }
        for bad in [
            "S1234567A",
            "T1234567D",
            "F1234567D",
            "G1234567N",
            "M1234567X",
            "X1234567D",
            "S123456D",
            "S12345678D",
        ] {
            assert_eq!(nric(bad), None, "{bad}");
        }
    }

    #[test]
    fn lower_case_needs_a_cue() {
        assert_eq!(nric("s1234567d"), None);
        assert_eq!(nric("my nric is s1234567d"), Some("s1234567d"));
    }

    #[test]
    fn through_the_scanner() {
        let one = |v: &str| vec![("sg_nric".to_string(), v.to_string())];
        assert_eq!(scan(r#"{"nric":"S1234567D"}"#), one("S1234567D"));
        assert_eq!(scan("FIN M1234567K, expires 2030"), one("M1234567K"));
        for t in [
            "S1234567A",
            "img_S1234567D.png",
            "SQ123 to SIN",
            "build S1234567D-rc1",
            "s1234567d",
        ] {
            assert_eq!(scan(t), vec![], "{t}");
        }
    }
}
