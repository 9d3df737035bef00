//! US bank routing numbers (ABA): nine digits next to a cue (`routing`, `ABA`, `RTN`), with a
//! Federal Reserve prefix (00-12, 21-32, 61-72, 80) and the 3-7-1 checksum; compact
//! (`071101307`) or in the dashed 4-4-1 print (`0711-0130-7`: the prefix and institution
//! identifier, then the check digit, as the ABA Key to Routing Numbers lays them out).

use super::catalogue::{BuiltIn, DigitWord};
use super::text::{digit, has_word_cue_around, sep_at, sep_before, Sep, WordCues};

pub(super) struct UsBankRouting;

impl BuiltIn for UsBankRouting {
    const NAME: &'static str = "us_bank_routing";
    const FINDS: &'static str = "Nine digits after a cue word (`routing`, `aba`, `rtn`; whole words), with a Federal Reserve prefix and the ABA 3-7-1 checksum; compact or grouped 4-4-1 with dashes or spaces (`0711-0130-7`, `0711 0130 7`).";
    const DIGIT_WORD: bool = true;
    /// Nine digits, or four and a separator (`0711-`).
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = w.digits == 9 || w.digits == 4 && w.sep_next;
        shape.then(|| match_at(w.t, w.start)).flatten()
    }
}

/// Words of their own (`abandoned`, `abacus` are not `aba`; `routingNumber`, `routing_number`,
/// `ABA/Routing` are cues).
const CUES: WordCues = WordCues::new(&["routing", "aba", "rtn", "transit number"]);

/// The digits of `0711-0130-7` (dashes, unicode dashes too, or single spaces: `0711 0130 7`;
/// the same throughout), and where it ends; not inside a longer chain.
fn dashed(t: &[u8], start: usize, d: &mut [u32; 9]) -> Option<usize> {
    let mut i = start;
    let mut k = 0;
    let mut first = None;
    for (group, len) in [4, 4, 1].into_iter().enumerate() {
        if group > 0 {
            let (s @ (Sep::Dash | Sep::Space), n) = sep_at(t, i)? else {
                return None;
            };
            if *first.get_or_insert(s) != s {
                return None;
            }
            i += n;
        }
        for _ in 0..len {
            *d.get_mut(k)? = u32::from(digit(t, i)?);
            k += 1;
            i += 1;
        }
    }
    let longer_right = sep_at(t, i).is_some_and(|(_, n)| digit(t, i + n).is_some());
    let longer_left = sep_before(t, start)
        .is_some_and(|(_, n)| start.checked_sub(n + 1).and_then(|p| digit(t, p)).is_some());
    (!longer_right && !longer_left).then_some(i)
}

pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    let mut d = [0u32; 9];
    let end = if digit(t, start + 4).is_some() {
        for (k, slot) in d.iter_mut().enumerate() {
            *slot = u32::from(digit(t, start + k)?);
        }
        start + 9
    } else {
        dashed(t, start, &mut d)?
    };
    if digit(t, end).is_some() {
        return None;
    }
    let prefix = d[0] * 10 + d[1];
    let prefix_ok = matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80);
    let sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
    (prefix_ok && sum.is_multiple_of(10) && has_word_cue_around(t, start, end, &CUES))
        .then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routing(text: &str) -> bool {
        let start = text.find(|c: char| c.is_ascii_digit()).unwrap();
        match_at(text.as_bytes(), start).is_some()
    }

    #[test]
    fn routing_numbers() {
        assert!(routing(r#"{"routing_number": "021000021"}"#));
        assert!(routing("ABA 011000015"));
        assert!(!routing("routing 021000022"), "checksum");
        assert!(!routing("routing 991000021"), "prefix");
        assert!(!routing("account 021000021"), "no cue");
        assert!(!routing("routing 0210000210"), "ten digits");
    }

    /// Issue 11: the dashed 4-4-1 print.
    #[test]
    fn dashed_routing_numbers() {
        assert!(routing("routing 0711-0130-7"));
        assert!(routing(r#"{"aba": "0210-0002-1"}"#));
        assert!(routing("RTN 0711\u{2013}0130\u{2013}7"));
        assert!(!routing("0711-0130-7"), "no cue");
        assert!(!routing("routing 0711-0130-8"), "checksum");
        assert!(!routing("routing 0711-0130 7"), "mixed");
        assert!(routing("routing number 0711 0130 7"));
        assert!(!routing("routing 0711 0130 7 2"), "longer chain");
        // Cue words are words of their own.
        assert!(routing(r#"{"routingNumber":"0711-0130-7"}"#));
        assert!(routing("ABA/Routing: 0711-0130-7"));
        assert!(!routing("abandoned cart 021000021"));
        assert!(!routing("abacus 071101307"));
        assert!(!routing("routing 0711-0130-7-2"), "longer chain");
        assert!(!routing("routing 0711-01307"), "grouping");
        assert!(!routing("routing 07110-130-7"), "grouping");
        assert!(
            match_at(b"routing 1-0711-0130-7", 10).is_none(),
            "longer chain"
        );
    }
}
