//! Payment card numbers: 13 to 19 digits that pass the Luhn check and fall in an issuer's
//! range with a length that issuer uses, written as one digit run or as groups joined by a
//! separator (one to three spaces, a dash or unicode dash, a dot, a slash, a tab, a line break,
//! raw or JSON-escaped, an underscore; the same separator throughout).
//!
//! A run of more than 19 digits is not a card, nor is a number glued to a decimal point
//! (`3.1415926535897932`). The issuer ranges keep Luhn-valid timestamps and ids (one in ten
//! passes Luhn by chance) from being taken for cards: epoch milliseconds start with a 1.
//!
//! UATP (airline) cards start with a 1 too: 15 digits, printed in groups of 4, 5 and 6
//! (`1234 56789 012345`). Ids of 15 digits that start with a 1 are common (one in ten of them
//! Luhn-valid), so a UATP number is one only in that print, or next to a UATP cue (`uatp`,
//! `card`, `pan`, `airline`, `airplus`, `Kartennummer`, `tarjeta`, `carte`, as words of their
//! own: not `cardinality`). Its 4-4-4-3 print (`1354 1001 4004 955`, Adyen's test UATP) is the
//! other cards' too, and counts as a UATP print.

use super::catalogue::{BuiltIn, DigitWord};
use super::text::{
    alone, at, before, digit, group_sep_at, has_word_cue, has_word_cue_around, GroupSep, WordCues,
};

pub(super) struct CreditCard;

impl BuiltIn for CreditCard {
    const NAME: &'static str = "credit_card";
    const FINDS: &'static str = "13 to 19 digits passing the Luhn check, with an issuer's prefix and one of its lengths (Visa, Mastercard incl. 2221..2720, Amex, Discover, JCB, Diners Club, UnionPay, Maestro; UATP: 15 digits starting with 1, only grouped 4-5-6 or 4-4-4-3 or next to a cue word `uatp`, `card`, `pan`, `airline`, `airplus`, `Kartennummer`, `tarjeta`, `carte`), as one run or in groups joined by one to three spaces, a dash (unicode dashes too), a dash between spaces, a dot, a slash, a tab, a line break (raw or JSON-escaped) or an underscore (the same separator throughout; first group 4..6 digits, others 3..6; a tab, a line break, a slash, an underscore, a dash between spaces or two or three spaces only for a card alone in its field or after a card cue, since lists and tables join numbers so). Not part of a longer unbroken digit run, not next to a decimal point; groups after a card (`4111 1111 1111 1111 1225`) do not hide it. Epoch-millisecond timestamps and similar ids, one in ten of which passes Luhn, are not taken for cards, nor numbers labelled as an order, invoice, tracking, serial or reference number (unless a card is named too).";
    const DIGIT_WORD: bool = true;
    /// A first group of 4 to 6 digits followed by a separator, or a run of 13 to 19.
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = (4..=6).contains(&w.digits) && w.sep_next || (13..=19).contains(&w.digits);
        shape.then(|| match_at(w.t, w.start)).flatten()
    }
}

/// Labels of numbers that are not cards: a Luhn-valid order or tracking number with a card
/// issuer's prefix is still an order number... (All cues here are words of their own, see
/// `has_word_cue`: `cardinality` and `cardboard` say nothing of a card, `refund` is no `ref`.)
const NOT_CARD_CUES: WordCues = WordCues::new(&[
    "order",
    "orders",
    "invoice",
    "invoices",
    "tracking",
    "shipment",
    "shipments",
    "sku",
    "isbn",
    "reference",
    "ref",
    "serial",
]);
/// ...unless the text also speaks of a card.
const CARD_CUES: WordCues = WordCues::new(&[
    "card",
    "cards",
    "cardnumber",
    "cardholder",
    "creditcard",
    "credit",
    "debit",
    "cc",
    "pan",
    "visa",
    "mastercard",
    "amex",
    "payment",
    "payments",
]);

/// What makes 15 digits that start with a 1 a UATP card rather than an id: a card word in
/// English, German, Spanish, French, Portuguese or Italian, the primary account number (`PAN`),
/// the airline programme.
const UATP_CUES: WordCues = WordCues::new(&[
    "uatp",
    "card",
    "cards",
    "cardnumber",
    "cardno",
    "pan",
    "airline",
    "airplus",
    "air plus",
    "karte",
    "kartennummer",
    "kreditkarte",
    "tarjeta",
    "carte",
    "cart\u{e3}o",
    "carta",
]);

const MIN_DIGITS: usize = 13;
const MAX_DIGITS: usize = 19;

/// A card starting at `start` (a word start): the end of the longest valid candidate. Groups
/// after a candidate (`4111 1111 1111 1111 1225`) do not hide it.
pub(super) fn match_at(text: &[u8], start: usize) -> Option<usize> {
    if before(text, start) == Some(b'.')
        && start.checked_sub(2).and_then(|p| digit(text, p)).is_some()
    {
        return None; // the fraction of a decimal number
    }
    let mut digits = [0u8; MAX_DIGITS];
    let mut total = 0usize;
    // Candidate ends (offset, digit count): at most one per length from 13 to 19.
    let mut ends = [(0usize, 0u8); MAX_DIGITS - MIN_DIGITS + 1];
    let mut n_ends = 0usize;
    let mut sep: Option<GroupSep> = None;
    let mut groups = 0usize;
    // The first three groups' lengths, and whether a candidate ends 4-5-6 or 4-4-4-3 (UATP's
    // prints: the issuer's 4-5-6 and the 4-digit groups other cards use).
    let mut first_lens = (0usize, 0usize, 0usize);
    let (mut print_456, mut print_4443) = (false, false);
    let mut i = start;
    'groups: loop {
        let group_start = i;
        while let Some(d) = digit(text, i) {
            let Some(slot) = digits.get_mut(total) else {
                if groups == 0 {
                    return None; // one run of more than 19 digits: not a card
                }
                break 'groups; // this group would pass 19 digits: the candidates end before it
            };
            *slot = d;
            total += 1;
            i += 1;
        }
        let len = i - group_start;
        let shape_ok = match groups {
            0 => (4..=6).contains(&len) || (MIN_DIGITS..=MAX_DIGITS).contains(&len),
            _ => (3..=6).contains(&len),
        };
        if !shape_ok {
            break; // no longer candidate can have this shape
        }
        groups += 1;
        match groups {
            1 => first_lens.0 = len,
            2 => first_lens.1 = len,
            3 => {
                first_lens.2 = len;
                print_456 = first_lens == (4, 5, 6);
            }
            4 => print_4443 = first_lens == (4, 4, 4) && len == 3,
            _ => {}
        }
        let decimal = at(text, i) == Some(b'.') && digit(text, i + 1).is_some();
        if total >= MIN_DIGITS && !decimal {
            if let Some(e) = ends.get_mut(n_ends) {
                *e = (i, u8::try_from(total).unwrap_or(u8::MAX));
                n_ends += 1;
            }
        }
        if groups == 1 && len >= MIN_DIGITS {
            break; // an unbroken run is a candidate on its own, never the first of groups
        }
        match group_sep_at(text, i) {
            Some((s, len)) if digit(text, i + len).is_some() && sep.is_none_or(|x| x == s) => {
                sep = Some(s);
                i += len;
            }
            _ => break,
        }
    }
    let end = ends
        .get(..n_ends)?
        .iter()
        .rev()
        .find(|&&(e, n)| {
            digits.get(..usize::from(n)).is_some_and(|d| {
                issuer_length_ok(d)
                    && luhn(d)
                    && (d.first() != Some(&1)
                        // Both prints hold 15 digits: the 15-digit candidate is in one.
                        || (print_456 || print_4443) && n == 15
                        || has_word_cue_around(text, start, e, &UATP_CUES))
            })
        })
        .map(|(end, _)| *end)?;
    let labelled_otherwise =
        has_word_cue(text, start, &NOT_CARD_CUES) && !has_word_cue(text, start, &CARD_CUES);
    // Groups joined by a tab, a line break, a slash or two or three spaces are how tables,
    // lists and room numbers are written too (one list of ten random 4-digit numbers in four
    // holds a Luhn-valid card shape), and underscores join the groups of identifiers and
    // numeric literals in code (`id_4111_1111_1111_1111`): such a card must stand alone in
    // its field or follow a card cue.
    let unusual = matches!(
        sep,
        Some(
            GroupSep::Tab
                | GroupSep::Newline
                | GroupSep::Slash
                | GroupSep::Spaces(2..)
                | GroupSep::SpacedDash
                | GroupSep::Underscore
        )
    );
    if unusual && !alone(text, start, end) && !has_word_cue(text, start, &CARD_CUES) {
        return None;
    }
    (!labelled_otherwise).then_some(end)
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
        // UATP: its print or a cue decides too (see `match_at`).
        1 => len == 15,
        _ => false,
    }
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
        assert_eq!(
            card("4111\u{2013}1111\u{2013}1111\u{2013}1111"),
            Some("4111\u{2013}1111\u{2013}1111\u{2013}1111")
        );
        assert_eq!(
            card("4111\u{2212}1111\u{2010}1111-1111"),
            Some("4111\u{2212}1111\u{2010}1111-1111")
        );
        assert_eq!(card("amex 3782 822463 10005."), Some("3782 822463 10005"));
        assert_eq!(card("visa 4222222222222"), Some("4222222222222"));
        assert_eq!(
            card("4000 0000 0000 0000 006"),
            Some("4000 0000 0000 0000 006")
        );
        for n in [
            "5555555555554444", // Mastercard
            "2223003122003222", // Mastercard 2-series
            "371449635398431",  // Amex
            "6011111111111117", // Discover
            "3530111333300000", // JCB
            "30569309025904",   // Diners Club
            "6200000000000005", // UnionPay
            "6759649826438453", // Maestro
        ] {
            assert_eq!(card(n), Some(n), "{n}");
        }
    }

    /// Issue 10, class 2: the separators people (and encoders) put between groups.
    #[test]
    fn any_consistent_separator_joins_groups() {
        for sep in [
            ".", "/", "\t", "\n", "\r\n", "  ", "   ", r"\n", r"\t", r"\r\n", r"\/",
        ] {
            let v = ["4111", "1111", "1111", "1111"].join(sep);
            assert_eq!(card(&format!("card {v} y")), Some(v.as_str()), "{sep:?}");
            assert_eq!(
                card(&format!(r#"{{"x":"{v}"}}"#)),
                Some(v.as_str()),
                "{sep:?}"
            );
        }
        assert_eq!(card("3782/822463/10005"), Some("3782/822463/10005"));
        assert_eq!(card("4111    1111 1111 1111"), None, "four spaces");
        assert_eq!(card("4111\t1111 1111 1111"), None, "mixed");
    }

    /// Tables, lists and room numbers join 4-digit numbers with these separators too: without
    /// a card cue, and not alone in their field, they are not cards.
    #[test]
    fn lists_of_numbers_are_not_cards() {
        for text in [
            "Here are the quantities shipped per store:\n6291\n8947\n5521\n9319\n",
            "store\tq1\tq2\tq3\tq4\nA\t5187\t8057\t3674\t1907\n",
            "Room numbers 6822/2247/8893/7653 are booked",
            "x 4111  1111  1111  1111 y",
        ] {
            assert_eq!(card(text), None, "{text:?}");
        }
        // With a cue, or alone in a field, the same shapes are cards.
        assert!(card("card: 4111\n1111\n1111\n1111").is_some());
        assert!(card("payment with 4111/1111/1111/1111 thanks").is_some());
        // A dash between spaces, as people type it.
        assert_eq!(
            card("card: 4111 - 1111 - 1111 - 1111 ok"),
            Some("4111 - 1111 - 1111 - 1111")
        );
        assert!(card("{\"x\":\"4111 \u{2013} 1111 \u{2013} 1111 \u{2013} 1111\"}").is_some());
        assert_eq!(card("Sales 6291 - 8947 - 5521 - 9319 units"), None);
    }

    /// Issue 11: UATP cards, 15 digits starting with 1, printed 4-5-6.
    #[test]
    fn uatp() {
        let n = "135790246813574"; // Luhn-valid
        assert!(luhn(&n.bytes().map(|b| b - b'0').collect::<Vec<_>>()));
        assert_eq!(card("x 1357 90246 813574 y"), Some("1357 90246 813574"));
        assert_eq!(card("1357-90246-813574"), Some("1357-90246-813574"));
        assert_eq!(card(&format!("UATP {n}")), Some(n));
        assert_eq!(card(&format!(r#"{{"card_number": "{n}"}}"#)), Some(n));
        assert_eq!(card(&format!("{n} is my airline card")), Some(n));
        assert_eq!(card("uatp: 1357 9024 6813 574"), Some("1357 9024 6813 574"));
        // Ids, timestamps and other prints are not.
        assert_eq!(card(n), None, "compact, no cue");
        assert_eq!(card(&format!(r#"{{"user_id": {n}}}"#)), None);
        assert_eq!(card(&format!(r#"{{"payment_id": "{n}"}}"#)), None);
        // Issue 11 (attack A5): the 4-4-4-3 print other cards use is a UATP print too
        // (Adyen's test UATP 1354 1001 4004 955).
        assert_eq!(card("1357 9024 6813 574"), Some("1357 9024 6813 574"));
        assert_eq!(card("1354 1001 4004 955"), Some("1354 1001 4004 955"));
        assert_eq!(card("1357 9024 6813 578"), None, "4-4-4-3, Luhn");
        assert_eq!(card("1357 90246 813578"), None, "Luhn");
        assert_eq!(card("uatp 1357902468135740"), None, "16 digits");
        assert_eq!(card("card 13579024681357"), None, "14 digits");
        assert_eq!(card("Order #1357 90246 813574"), None, "labelled an order");
        assert_eq!(card("serial 1354 1001 4004 955"), None, "labelled a serial");
        // Card words of other languages and the PAN, as words of their own.
        for cue in [
            "PAN",
            r#"{"pan":""#,
            "Kartennummer",
            "n\u{fa}mero de tarjeta",
            "carte",
        ] {
            assert_eq!(card(&format!("{cue} {n}")), Some(n), "{cue}");
        }
        for cue in [
            "cardinality",
            "cardboard box",
            r#"{"cardinality":"#,
            "panel",
        ] {
            assert_eq!(card(&format!("{cue} {n}")), None, "{cue}");
        }
    }

    #[test]
    fn groups_after_a_card_do_not_hide_it() {
        assert_eq!(
            card("card 4111 1111 1111 1111 1225"),
            Some("4111 1111 1111 1111")
        );
        assert_eq!(
            card("4111-1111-1111-1111-0000"),
            Some("4111-1111-1111-1111")
        );
        assert_eq!(card("4111111111111111 0427"), Some("4111111111111111"));
    }

    #[test]
    fn rejects_lookalikes() {
        assert_eq!(card("4111111111111112"), None, "Luhn");
        assert_eq!(card("41111111111111110000000"), None, "longer digit run");
        assert_eq!(card("4111 1111-1111 1111"), None, "mixed separators");
        assert_eq!(card("4111  1111 1111 1111"), None, "mixed runs of spaces");
        assert_eq!(card("4111.1111-1111.1111"), None, "mixed dots and dashes");
        assert_eq!(
            card("4111.1111.1111.1111.5"),
            None,
            "a dotted chain goes on"
        );
        assert_eq!(card("3.4111111111111111"), None, "decimal");
        assert_eq!(card("4111111111111111.5"), None, "decimal");
        assert_eq!(card("123456789012"), None, "too short");
        assert_eq!(
            card("4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"),
            None,
            "one-digit groups"
        );
    }

    #[test]
    fn numbers_labelled_as_something_else_are_not_cards() {
        assert_eq!(card("Order #4111111111111111 shipped"), None);
        assert_eq!(card(r#"{"tracking": "4111 1111 1111 1111"}"#), None);
        assert_eq!(
            card("order paid by card 4111111111111111"),
            Some("4111111111111111")
        );
        assert_eq!(
            card(r#"{"invoice": "x", "payment": {"pan": "4111111111111111"}}"#),
            Some("4111111111111111")
        );
    }

    #[test]
    fn luhn_valid_numbers_outside_issuer_ranges_are_not_cards() {
        let mut luhn_valid = 0;
        for ms in 1_700_000_000_000u64..1_700_000_001_000 {
            let t = ms.to_string();
            let d: Vec<u8> = t.bytes().map(|b| b - b'0').collect();
            luhn_valid += usize::from(luhn(&d));
            assert_eq!(card(&t), None, "{t}");
        }
        assert!(
            luhn_valid > 50,
            "the sample must contain Luhn-valid numbers"
        );
        assert_eq!(card("1234567890123452"), None);
        assert_eq!(card("9999999999999995"), None);
    }
}
