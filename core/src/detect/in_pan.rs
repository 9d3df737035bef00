//! Indian Permanent Account Numbers (Income Tax Department; Income-tax Act 1961, s. 139A):
//! ten characters, `ABCPE1234F`: three letters of a series, the holder's status as the fourth
//! (`P` person, `C` company, `H` Hindu undivided family, `F` firm, `A` association of persons,
//! `T` trust, `B` body of individuals, `L` local authority, `J` artificial juridical person,
//! `G` government, `E` limited liability partnership), the initial of the surname or name, four digits, and a letter.
//!
//! The last letter is a check character whose algorithm is not published, so nothing but the
//! shape is checked, and ten characters of letters and digits in that order are also product,
//! batch and reference codes: a PAN counts only next to a cue (`pan`, `permanent account
//! number`, `income tax`). Upper or lower case, not mixed.

use super::catalogue::BuiltIn;
use super::id_cue::has_cue;
use super::id_shape::{letter, number, standalone};

pub(super) struct InPan;

impl BuiltIn for InPan {
    const NAME: &'static str = "in_pan";
    const FINDS: &'static str = "Indian PAN (`ABCPE1234F`): five letters, the fourth a holder status (`A B C E F G H J L P T`), four digits, a letter; no published check, so only after a cue (`pan`, `permanent account number`, `income tax`). Upper or lower case.";

    /// A word of ten characters.
    const LETTER_WORD: bool = true;
    fn at_letter_word(t: &[u8], start: usize, end: usize) -> Option<usize> {
        (end - start == 10).then(|| match_at(t, start)).flatten()
    }
}

/// `permanent` alone, so that prose that names the number after it still has its cue within
/// reach (`… is the permanent account number`: the words after a value are looked at only
/// for a few bytes).
/// `pan` is also a word (a camera's or a sound's pan, a frying pan): in capitals or as a label
/// only (`PAN`, `pan:`, `"pan":`, `pan_number`), never `panel`, `pan(` or `pan_left`. Hindi
/// `पैन` (not `पैनल`, "panel").
const CUES: &[&str] = &[
    "!pan",
    "permanent",
    "income tax",
    "income-tax",
    "incometax",
    "पैन",
];

/// A PAN starting at `start` (ten characters): its end.
pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    let mut lower = None;
    let mut same_case =
        |k: usize| letter(t, start + k).filter(|&(_, low)| *lower.get_or_insert(low) == low);
    for k in [0, 1, 2, 4, 9] {
        same_case(k)?;
    }
    let (status, _) = same_case(3)?;
    if !b"ABCEFGHJLPT".contains(&status) {
        return None;
    }
    number(t, start + 5, 4)?;
    let end = start + 10;
    (standalone(t, start, end) && has_cue(t, start, end, CUES)).then_some(end)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;
    use crate::detect::scan_body as scan;

    fn pan(text: &str) -> Option<&str> {
        let start = text.rfind(' ').map_or(0, |p| p + 1);
        match_at(text.as_bytes(), start).map(|end| &text[start..end])
    }

    #[test]
    fn shape_and_cue() {
        assert_eq!(pan("PAN ABCPE1234F"), Some("ABCPE1234F"));
        // `pan` in lower case is a label only (`camera pan ABCPE1234F` is no PAN).
        assert_eq!(pan("pan: abcpe1234f"), Some("abcpe1234f"));
        assert_eq!(pan("pan abcpe1234f"), None);
        assert_eq!(pan("camera pan ABCPE1234F"), None);
        assert_eq!(pan("panel ABCPE1234F"), None);
        assert_eq!(pan("pan 0.5; pan_left = ABCPE1234F"), None);
        assert_eq!(pan("पैन: ABCPE1234F"), Some("ABCPE1234F"));
        assert_eq!(pan("पैन कार्ड नंबर ABCPE1234F"), Some("ABCPE1234F"));
        assert_eq!(pan("पैनल ABCPE1234F"), None, "panel");
        assert_eq!(
            pan("Permanent Account Number: AAACB1234Z"),
            Some("AAACB1234Z")
        );
        assert_eq!(pan("ABCPE1234F"), None, "no cue");
        assert_eq!(pan("PAN ABCDE1234F"), None, "D is no holder status");
        assert_eq!(pan("PAN ABCPE12345"), None);
        assert_eq!(pan("PAN ABCPe1234F"), None, "mixed case");
        assert_eq!(pan("PAN ABCP11234F"), None);
    }

    #[test]
    fn through_the_scanner() {
        let one = |v: &str| vec![("in_pan".to_string(), v.to_string())];
        assert_eq!(scan(r#"{"pan":"ABCPE1234F"}"#), one("ABCPE1234F"));
        assert_eq!(
            scan(r#"{"panNumber":"AAAPL1234C","name":"A"}"#),
            one("AAAPL1234C")
        );
        assert_eq!(scan("my income tax id is BNZPM2501F"), one("BNZPM2501F"));
        // `E`: a limited liability partnership.
        assert_eq!(scan(r#"{"pan":"ABCEE1234F"}"#), one("ABCEE1234F"));
        for t in [
            r#"{"sku":"ABCPE1234F"}"#,
            "batch XYZPQ9876A shipped",
            "PAN ABCPE1234F_old",
        ] {
            assert_eq!(scan(t), vec![], "{t}");
        }
    }
}
