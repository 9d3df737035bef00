//! What the national identifiers that hold letters share (`uk_nino`, `in_pan`, `es_nif`,
//! `it_fiscal_code`, `sg_nric`, `fi_hetu`): digits read as numbers, letters of either case, and
//! whether a candidate stands on its own rather than inside a longer identifier.

use super::text::{at, before, digit, is_word};

/// Exactly `n` ASCII digits at `i`, as a number (`n` at most 9).
pub(super) fn number(t: &[u8], i: usize, n: usize) -> Option<u32> {
    (i..i + n).try_fold(0u32, |acc, k| Some(acc * 10 + u32::from(digit(t, k)?)))
}

/// The ASCII letter at `i`, upper-cased, and whether it was written in lower case.
pub(super) fn letter(t: &[u8], i: usize) -> Option<(u8, bool)> {
    at(t, i)
        .filter(u8::is_ascii_alphabetic)
        .map(|c| (c.to_ascii_uppercase(), c.is_ascii_lowercase()))
}

/// `t[start..end]` stands on its own: no word byte on either side, and not joined to more of
/// an identifier by `-`, `_` or `.` before it (`SKU-AB123456C`, `obj.S1234567D`) or by `-`,
/// `_` or `@` after it (`AB123456C_v2`, `S1234567D-02`, `x1234567l@example.com`, an e-mail
/// address's user). Identifiers of people are values of their own; parts of compound codes,
/// file names and addresses are not.
pub(super) fn standalone(t: &[u8], start: usize, end: usize) -> bool {
    let word_before = |i: usize| {
        i.checked_sub(1)
            .and_then(|p| before(t, p))
            .is_some_and(is_word)
    };
    let joined_before = match before(t, start) {
        // `\nAB123456C` in a JSON string: an escape is a boundary (as in `word_start_at`).
        Some(_) if start.checked_sub(2).and_then(|p| t.get(p)) == Some(&b'\\') => false,
        Some(b) if is_word(b) => true,
        Some(b'-' | b'_' | b'.' | b'@') => word_before(start),
        _ => false,
    };
    let joined_after = match at(t, end) {
        Some(b) if is_word(b) => true,
        Some(b'-' | b'_') => at(t, end + 1).is_some_and(is_word),
        Some(b'@') => true,
        _ => false,
    };
    !joined_before && !joined_after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_letters() {
        assert_eq!(number(b"x0123", 1, 4), Some(123));
        assert_eq!(number(b"12a4", 0, 4), None);
        assert_eq!(number(b"12", 0, 3), None);
        assert_eq!(letter(b"a", 0), Some((b'A', true)));
        assert_eq!(letter(b"Q", 0), Some((b'Q', false)));
        assert_eq!(letter(b"1", 0), None);
    }

    #[test]
    fn standing_alone() {
        let at = |t: &str, v: &str| {
            let s = t.find(v).unwrap();
            standalone(t.as_bytes(), s, s + v.len())
        };
        for ok in [
            "AB123456C",
            r#""AB123456C""#,
            "nino: AB123456C.",
            "id=AB123456C&x=1",
            "/people/AB123456C/",
            "(AB123456C)",
            "- AB123456C",
        ] {
            assert!(at(ok, "AB123456C"), "{ok}");
        }
        for joined in [
            "SKU-AB123456C",
            "x_AB123456C",
            "obj.AB123456C",
            "AB123456C_v2",
            "AB123456C-02",
            "AB123456C@example.com",
            "ZAB123456C",
        ] {
            assert!(!at(joined, "AB123456C"), "{joined}");
        }
        assert!(at(r"line\nAB123456C", "AB123456C"), "a JSON escape");
    }

    /// A value right after a JSON escape (`\n`, `\t`) in a string is found: the escape's
    /// letter is not part of the value's word (letter-led words, `scan::letter_led`; the
    /// shared rule, `standalone`; the printed NINO's prefix, `uk_nino::prefix_before`).
    #[test]
    #[allow(clippy::string_slice)]
    fn values_after_json_escapes() {
        use crate::detect::{Decoding, Findings, Format, KindSet, Scanner};
        let scanner = Scanner::new(KindSet::all_built_ins());
        for (kind, value) in [
            ("uk_nino", "AB123456C"),
            ("uk_nino", "AB 12 34 56 C"),
            ("sg_nric", "S1234567D"),
            ("es_nif", "X1234567L"),
            ("it_fiscal_code", "RSSMRA85T10A562S"),
            ("fi_hetu", "131052-308T"),
            ("iban", "DE89370400440532013000"),
        ] {
            for escape in [r"\n", r"\t", r"\r\n"] {
                let text = format!(r#"{{"note":"details:{escape}{value}"}}"#);
                let mut out = Vec::new();
                scanner.scan_input(
                    text.as_bytes(),
                    Decoding::BODY,
                    Format::Json,
                    &mut Findings::default(),
                    |f| out.push((scanner.name(f.kind).to_string(), text[f.span].to_string())),
                );
                assert_eq!(out, vec![(kind.to_string(), value.to_string())], "{text}");
            }
        }
    }
}
