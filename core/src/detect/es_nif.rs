//! Spanish personal tax numbers: the DNI's NIF, eight digits and a control letter
//! (`12345678Z`), and the foreigner's NIE, `X`, `Y` or `Z`, seven digits and a control letter
//! (`X1234567L`); a dash or a space may come before the letter. The letter is
//! `TRWAGMYFPDXBNJZSQVHLCKE` at the number modulo 23, the NIE's `X`, `Y`, `Z` counting as
//! `0`, `1`, `2` in front of its digits (Ministerio del Interior, "Cálculo del dígito de
//! control del NIF/NIE"; Real Decreto 1553/2005, art. 11).
//!
//! One letter in 23 is a weak check. A NIE starts with its letter, a shape code seldom has; a
//! DNI is eight digits and a letter, as a long literal is in Java or C (`12345678L`): a DNI
//! counts when it is a field of its own (a JSON value, `dni=…`) or next to a cue (`dni`, `nif`;
//! `nie` only for a NIE). Either, written in lower case or with a space before the letter, only
//! next to a cue.

use super::catalogue::{BuiltIn, DigitWord};
use super::id_cue::has_cue;
use super::id_shape::{letter, number, standalone};
use super::text::{alone, at, is_word};

pub(super) struct EsNif;

impl BuiltIn for EsNif {
    const NAME: &'static str = "es_nif";
    const FINDS: &'static str = "Spanish DNI/NIF (`12345678Z`) and NIE (`X1234567L`: `X`, `Y`, `Z` for 0, 1, 2), optionally `-` or a space before the control letter, which must be `TRWAGMYFPDXBNJZSQVHLCKE` at the number modulo 23. A DNI only as a field of its own or after a cue (`dni`, `nif`; `nie` names only a NIE); in lower case or with a space before the letter, either only after a cue.";

    /// Eight digits, then the letter (`12345678Z`) or a dash or space and the letter.
    const DIGIT_WORD: bool = true;
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = w.digits == 8
            && (w.len() == 9 || w.len() == 8 && matches!(w.next(), Some(b'-' | b' ')));
        shape.then(|| match_dni(w.t, w.start)).flatten()
    }

    /// `X1234567L`, or `X1234567` and a dash or space and the letter.
    const LETTER_WORD: bool = true;
    fn at_letter_word(t: &[u8], start: usize, end: usize) -> Option<usize> {
        let shape = matches!(end - start, 8 | 9)
            && matches!(at(t, start), Some(b'X' | b'Y' | b'Z' | b'x' | b'y' | b'z'));
        shape.then(|| match_nie(t, start)).flatten()
    }
}

/// A DNI's cues. Not `nie`: the NIE is the foreigner's number (`X1234567L`), never eight
/// digits, and `nie` is the Polish "not" (`Zamówienie 60468532 z dnia … nie dotarło`) and a
/// Java variable (`val nie = 12345683L`).
const DNI_CUES: &[&str] = &[
    "dni",
    "nif",
    "d.n.i",
    "n.i.f",
    "documento*",
    "identidad",
    "identificaci*",
];

/// A NIE's cues: the DNI's and the NIE's own name.
const NIE_CUES: &[&str] = &[
    "dni",
    "nif",
    "nie",
    "d.n.i",
    "n.i.f",
    "n.i.e",
    "documento*",
    "identidad",
    "identificaci*",
];

const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// The control letter of a number, and its end after the letter: `(end, lower case, spaced)`.
fn control(t: &[u8], n: u32, i: usize) -> Option<(usize, bool, bool)> {
    let (k, spaced) = match at(t, i) {
        Some(b'-') => (i + 1, false),
        Some(b' ') => (i + 1, true),
        _ => (i, false),
    };
    let (c, lower) = letter(t, k)?;
    let want = LETTERS.get((n % 23) as usize).copied()?;
    (c == want && !at(t, k + 1).is_some_and(is_word)).then_some((k + 1, lower, spaced))
}

/// A DNI's NIF starting at `start` (eight digits): its end.
pub(super) fn match_dni(t: &[u8], start: usize) -> Option<usize> {
    let n = number(t, start, 8)?;
    let (end, lower, spaced) = control(t, n, start + 8)?;
    if !standalone(t, start, end) {
        return None;
    }
    let strong = !lower && !spaced && alone(t, start, end);
    (strong || has_cue(t, start, end, DNI_CUES)).then_some(end)
}

/// A NIE starting at `start` (`X`, `Y` or `Z`): its end.
pub(super) fn match_nie(t: &[u8], start: usize) -> Option<usize> {
    let (p, lower_p) = letter(t, start)?;
    let lead = match p {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        _ => return None,
    };
    let n = lead * 10_000_000 + number(t, start + 1, 7)?;
    let (end, lower, spaced) = control(t, n, start + 8)?;
    if !standalone(t, start, end) {
        return None;
    }
    (!lower_p && !lower && !spaced || has_cue(t, start, end, NIE_CUES)).then_some(end)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;
    use crate::detect::scan_body as scan;

    fn dni(text: &str) -> Option<&str> {
        let start = text.find(|c: char| c.is_ascii_digit())?;
        match_dni(text.as_bytes(), start).map(|end| &text[start..end])
    }

    fn nie(text: &str) -> Option<&str> {
        let start = text.find(['X', 'Y', 'Z', 'x', 'y', 'z'])?;
        match_nie(text.as_bytes(), start).map(|end| &text[start..end])
    }

    #[test]
    fn dni_control_letter() {
        assert_eq!(dni(r#"{"dni":"12345678Z"}"#), Some("12345678Z"));
        assert_eq!(dni("DNI 12345678-Z"), Some("12345678-Z"));
        assert_eq!(dni("NIF: 12345678 Z"), Some("12345678 Z"));
        assert_eq!(dni("nif 12345678z"), Some("12345678z"));
        assert_eq!(dni(r#"{"dni":"00000000T"}"#), Some("00000000T"));
        for bad in [
            "12345678A",
            "12345678I",
            "12345678Ñ",
            "1234567Z",
            "123456789Z",
        ] {
            assert_eq!(dni(&format!(r#"{{"dni":"{bad}"}}"#)), None, "{bad}");
        }
    }

    #[test]
    fn a_dni_is_a_field_of_its_own_or_next_to_a_cue() {
        assert_eq!(dni(r#"{"document":"12345678Z"}"#), Some("12345678Z"));
        assert_eq!(dni("id=12345678Z&x=1"), Some("12345678Z"));
        // Eight digits and a letter in code: a long literal, not a DNI (12345683 % 23 = 19: L).
        assert_eq!(dni("long x = 12345683L;"), None);
        assert_eq!(dni("build 12345678Z done"), None);
        assert_eq!(
            dni(r#"{"n":"12345678 Z"}"#),
            None,
            "a space: only with a cue"
        );
        assert_eq!(
            dni(r#"{"n":"12345678z"}"#),
            None,
            "lower case: only with a cue"
        );
        assert_eq!(dni("SKU-12345678Z"), None);
    }

    #[test]
    fn nie_control_letter() {
        assert_eq!(nie("X1234567L"), Some("X1234567L"));
        assert_eq!(nie("Y1234567X"), Some("Y1234567X"));
        assert_eq!(nie("Z1234567R"), Some("Z1234567R"));
        assert_eq!(nie("NIE X1234567-L"), Some("X1234567-L"));
        assert_eq!(nie("X1234567A"), None);
        assert_eq!(nie("x1234567l"), None, "lower case: only with a cue");
        assert_eq!(nie("nie: x1234567l"), Some("x1234567l"));
        assert_eq!(nie("X1234567 L"), None, "a space: only with a cue");
        assert_eq!(nie("obj.X1234567L"), None);
    }

    #[test]
    fn through_the_scanner() {
        let one = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert_eq!(scan(r#"{"dni":"12345678Z"}"#), one("es_nif", "12345678Z"));
        assert_eq!(scan("Mi DNI es 12345678-Z."), one("es_nif", "12345678-Z"));
        assert_eq!(
            scan(r#"{"nie":"X1234567L","n":2}"#),
            one("es_nif", "X1234567L")
        );
        assert_eq!(scan("permiso Y1234567X ok"), one("es_nif", "Y1234567X"));
        for t in [
            "long id = 12345683L;",
            "float f = 12345694F;",
            "build 12345678Z",
            "X1234567A",
        ] {
            assert_eq!(scan(t), vec![], "{t}");
        }
    }
}
