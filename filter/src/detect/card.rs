//! Payment card numbers: 13 to 19 digits that pass the Luhn check and fall in an issuer's
//! range with a length that issuer uses, written either as one digit run or as groups joined by
//! one space or one dash (the same separator throughout).
//!
//! A run of more than 19 digits is not a card, nor is a number glued to a decimal point
//! (`3.1415926535897932`). The issuer ranges keep Luhn-valid timestamps and ids (one in ten
//! passes Luhn by chance) from being taken for cards: epoch milliseconds start with a 1.

use super::at;

const MIN_DIGITS: usize = 13;
const MAX_DIGITS: usize = 19;

/// A card starting at `start` (a digit not preceded by a digit): the end of the longest valid
/// candidate. Groups after a candidate (`4111 1111 1111 1111 1225`) do not hide it.
pub(super) fn match_at(text: &[u8], start: usize) -> Option<usize> {
    if is_decimal_point(text, start.checked_sub(1), start.checked_sub(2)) {
        return None;
    }
    let mut digits = [0u8; MAX_DIGITS];
    let mut total = 0usize;
    // (end offset, digit count, every group so far fits the grouped format)
    let mut ends: [(usize, usize, bool); MAX_DIGITS] = [(0, 0, false); MAX_DIGITS];
    let mut n_ends = 0usize;
    let mut sep: Option<u8> = None;
    let mut groups = 0usize;
    let mut grouped_ok = true;
    let mut i = start;
    'groups: loop {
        let group_start = i;
        while let Some(d) = text.get(i).filter(|b| b.is_ascii_digit()) {
            let Some(slot) = digits.get_mut(total) else {
                if groups == 0 {
                    return None; // one run of more than 19 digits: not a card
                }
                break 'groups; // this group would pass 19 digits: the candidates end before it
            };
            *slot = d - b'0';
            total += 1;
            i += 1;
        }
        let len = i - group_start;
        grouped_ok &= if groups == 0 {
            (4..=6).contains(&len)
        } else {
            (3..=6).contains(&len)
        };
        groups += 1;
        if total >= MIN_DIGITS && !is_decimal_point(text, Some(i), Some(i + 1)) {
            if let Some(e) = ends.get_mut(n_ends) {
                *e = (i, total, groups == 1 || grouped_ok);
                n_ends += 1;
            }
        }
        match (at(text, Some(i)), at(text, Some(i + 1))) {
            (Some(c @ (b' ' | b'-')), Some(d))
                if d.is_ascii_digit() && sep.is_none_or(|s| s == c) =>
            {
                sep = Some(c);
                i += 1;
            }
            _ => break,
        }
    }
    ends.get(..n_ends)?
        .iter()
        .rev()
        .find(|(_, n, shape_ok)| {
            *shape_ok
                && digits
                    .get(..*n)
                    .is_some_and(|d| issuer_length_ok(d) && luhn(d))
        })
        .map(|(end, _, _)| *end)
}

/// The number starts with an issuer's prefix and has a length that issuer uses.
/// (Visa; Mastercard 51-55 and 2221-2720; Amex; Discover; JCB; Diners Club; UnionPay; Maestro.)
fn issuer_length_ok(d: &[u8]) -> bool {
    let prefix = |n: usize| {
        d.iter()
            .take(n)
            .fold(0u32, |acc, &x| acc * 10 + u32::from(x))
    };
    let len = d.len();
    let (p1, p2, p3, p4) = (prefix(1), prefix(2), prefix(3), prefix(4));
    match p1 {
        4 => matches!(len, 13 | 16 | 19),              // Visa
        2 => (2221..=2720).contains(&p4) && len == 16, // Mastercard 2-series
        5 => match p2 {
            51..=55 => len == 16,                     // Mastercard
            50 | 56..=59 => (13..=19).contains(&len), // Maestro
            _ => false,
        },
        3 => match p2 {
            34 | 37 => len == 15,                                          // Amex
            35 => (3528..=3589).contains(&p4) && (16..=19).contains(&len), // JCB
            36 | 38 | 39 => (14..=19).contains(&len),                      // Diners Club
            30 => (300..=305).contains(&p3) && (14..=19).contains(&len),   // Diners Club
            _ => false,
        },
        // Discover (6011, 644-649, 65) and UnionPay (62): 16 to 19 digits; Maestro (other 6x)
        // from 13.
        6 => (16..=19).contains(&len) || (13..=15).contains(&len) && !matches!(p2, 60 | 62 | 65),
        _ => false,
    }
}

/// True when the byte at `dot` is '.' and the byte at `digit` is a digit: the candidate touches
/// a decimal number or a version string.
fn is_decimal_point(text: &[u8], dot: Option<usize>, digit: Option<usize>) -> bool {
    at(text, dot) == Some(b'.') && at(text, digit).is_some_and(|b| b.is_ascii_digit())
}

/// The Luhn (mod 10) check over decimal digit values.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    fn card(text: &str) -> Option<&str> {
        let start = text.find(|c: char| c.is_ascii_digit())?;
        match_at(text.as_bytes(), start).map(|end| &text[start..end])
    }

    #[test]
    fn luhn_known_values() {
        let d = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
        assert!(luhn(&d("4111111111111111")));
        assert!(luhn(&d("79927398713")));
        assert!(!luhn(&d("4111111111111112")));
        assert!(!luhn(&[]));
    }

    #[test]
    fn plain_and_grouped() {
        assert_eq!(card("4111111111111111"), Some("4111111111111111"));
        assert_eq!(card("x 4111 1111 1111 1111 y"), Some("4111 1111 1111 1111"));
        assert_eq!(card("4111-1111-1111-1111"), Some("4111-1111-1111-1111"));
        assert_eq!(card("amex 3782 822463 10005."), Some("3782 822463 10005"));
        assert_eq!(card("visa 4222222222222"), Some("4222222222222"));
        // 19 digits
        assert_eq!(
            card("4000 0000 0000 0000 006"),
            Some("4000 0000 0000 0000 006")
        );
    }

    #[test]
    fn rejects_lookalikes() {
        assert_eq!(card("4111111111111112"), None, "Luhn");
        assert_eq!(card("41111111111111110000000"), None, "longer digit run");
        assert_eq!(card("4111 1111-1111 1111"), None, "mixed separators");
        assert_eq!(card("4111  1111 1111 1111"), None, "double space");
        assert_eq!(card("3.4111111111111111"), None, "decimal");
        assert_eq!(card("4111111111111111.5"), None, "decimal");
        assert_eq!(card("123456789012"), None, "too short");
        assert_eq!(
            card("4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"),
            None,
            "one-digit groups"
        );
    }
}
