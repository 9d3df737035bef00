//! US bank routing numbers (ABA): nine digits next to a cue (`routing`, `ABA`, `RTN`), with a
//! Federal Reserve prefix (00-12, 21-32, 61-72, 80) and the 3-7-1 checksum.

use super::catalogue::{BuiltIn, DigitWord};
use super::text::{digit, has_cue_around};

pub(super) struct UsBankRouting;

impl BuiltIn for UsBankRouting {
    const NAME: &'static str = "us_bank_routing";
    const FINDS: &'static str = "Nine digits after a cue (`routing`, `aba`, `rtn`), with a Federal Reserve prefix and the ABA 3-7-1 checksum.";
    const DIGIT_WORD: bool = true;
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        (w.digits == 9).then(|| match_at(w.t, w.start)).flatten()
    }
}

const CUES: &[&str] = &["routing", "aba", "rtn", "transit number"];

pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    let mut d = [0u32; 9];
    for (k, slot) in d.iter_mut().enumerate() {
        *slot = u32::from(digit(t, start + k)?);
    }
    let end = start + 9;
    if digit(t, end).is_some() {
        return None;
    }
    let prefix = d[0] * 10 + d[1];
    let prefix_ok = matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80);
    let sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
    (prefix_ok && sum.is_multiple_of(10) && has_cue_around(t, start, end, CUES)).then_some(end)
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
}
