//! International Bank Account Numbers: a country code, two check digits and the national
//! account number, at the length that country uses, passing the ISO 7064 mod-97 check; compact
//! (`DE89370400440532013000`) or in groups of four joined by spaces, as ISO 13616 prints it
//! (`DE89 3704 0044 0532 0130 00`), or by dashes (unicode dashes too) or dots, as forms and
//! CSV files often do (`DE89-3704-0044-0532-0130-00`); one separator throughout; in capitals
//! or all in lower case (`de89 3704 …`, as people type it).

use super::catalogue::BuiltIn;
use super::text::{at, has_word_cue_around, is_word, sep_at, Sep, WordCues};

/// The word that vouches for an IBAN written in lower case with letters in its account part.
const IBAN_CUE: WordCues = WordCues::new(&["iban"]);

pub(super) struct Iban;

impl BuiltIn for Iban {
    const NAME: &'static str = "iban";
    const FINDS: &'static str = "Country code, check digits and account number at that country's length (87 countries), passing ISO 7064 mod 97; in capitals or all in lower case; compact or in groups of four joined by spaces, dashes (unicode dashes too) or dots (the same throughout).";
    const LETTER_WORD: bool = true;
    /// A word that starts with two letters (the country code) and two digits.
    fn at_letter_word(t: &[u8], start: usize, _end: usize) -> Option<usize> {
        let country = at(t, start).is_some_and(|c| c.is_ascii_alphabetic())
            && at(t, start + 1).is_some_and(|c| c.is_ascii_alphabetic())
            && at(t, start + 2).is_some_and(|c| c.is_ascii_digit());
        country.then(|| match_at(t, start)).flatten()
    }
}

/// IBAN lengths by country (SWIFT IBAN registry).
const LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

const MAX_LEN: usize = 34;

/// At a word start: an IBAN, compact or grouped by four, in capitals as ISO 13616 writes it or
/// all in lower case as people type it (`de89 3704 …`; one case throughout).
pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    let head = t.get(start..start + 4)?;
    let (cc, check) = head.split_at(2);
    let lower = cc.iter().all(u8::is_ascii_lowercase);
    if !(lower || cc.iter().all(u8::is_ascii_uppercase)) || !check.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let cc_upper = [
        cc.first()?.to_ascii_uppercase(),
        cc.get(1)?.to_ascii_uppercase(),
    ];
    // The table is sorted by country code.
    let want = LENGTHS
        .binary_search_by(|(c, _)| (*c).cmp(&cc_upper))
        .ok()
        .and_then(|k| LENGTHS.get(k))?
        .1;
    let alnum = |b: u8| {
        b.is_ascii_digit()
            || if lower {
                b.is_ascii_lowercase()
            } else {
                b.is_ascii_uppercase()
            }
    };
    let mut chars = [0u8; MAX_LEN];
    let mut n = 0;
    let mut i = start;
    let mut sep: Option<Sep> = None;
    let mut sep_len = 0;
    loop {
        let group_start = i;
        while let Some(b) = at(t, i).filter(|&b| alnum(b)) {
            if n == want {
                return None; // longer than this country's IBAN
            }
            *chars.get_mut(n)? = b;
            n += 1;
            i += 1;
        }
        let len = i - group_start;
        // Grouped form: groups of four joined by a space, a dash (unicode dashes too) or a
        // dot, the last group shorter.
        let next = sep_at(t, i);
        if let Some((s, l)) = next {
            if n < want && len == 4 && sep.is_none_or(|x| x == s) && at(t, i + l).is_some_and(alnum)
            {
                sep = Some(s);
                sep_len = l;
                i += l;
                continue;
            }
        }
        break;
    }
    // A dashed or dotted IBAN does not go on with more groups (a longer identifier).
    let longer = sep.is_some_and(|s| s != Sep::Space)
        && sep_at(t, i).is_some_and(|(s, l)| Some(s) == sep && l == sep_len)
        && at(t, i + sep_len).is_some_and(|b| b.is_ascii_alphanumeric());
    if n != want || at(t, i).is_some_and(is_word) || longer {
        return None;
    }
    // In lower case, hex ids hold look-alikes (`ba79-b265-eb40…` of a UUID): the account
    // part must be digits, or the word IBAN near.
    let digits_only = chars
        .get(4..n)
        .is_some_and(|b| b.iter().all(u8::is_ascii_digit));
    (mod97(chars.get(..n)?)
        && (!lower || digits_only || has_word_cue_around(t, start, i, &IBAN_CUE)))
    .then_some(i)
}

const INVALID: u8 = 0xFF;

/// A character's value in ISO 7064 MOD 97-10: digits 0..9, letters (either case) 10..35, and
/// `INVALID` for anything else. One load per character where three range tests branched.
#[allow(clippy::indexing_slicing)] // const evaluation: `b` is below 256
const VALUE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'Z' => c - b'A' + 10,
            b'a'..=b'z' => c - b'a' + 10,
            _ => INVALID,
        };
        b += 1;
    }
    t
};

/// ISO 7064 MOD 97-10: the first four characters moved to the end, letters as 10..35, the
/// number mod 97 is 1.
pub(crate) fn mod97(iban: &[u8]) -> bool {
    if iban.len() <= 4 {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    // Three characters at a time, then one remainder: at most six decimal digits join a
    // remainder below 97, which stays below 2^32. A remainder per character, chosen or not,
    // was what the compilers made of a reduction "when needed" (a select, not a branch), and
    // V8 divides for each.
    let mut rem: u32 = 0;
    for chunk in tail.chunks(3).chain(head.chunks(3)) {
        for &b in chunk {
            let v = u32::from(VALUE.get(usize::from(b)).copied().unwrap_or(INVALID));
            if v == u32::from(INVALID) {
                return false;
            }
            rem = if v >= 10 { rem * 100 + v } else { rem * 10 + v };
        }
        rem %= 97;
    }
    rem == 1
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    #[test]
    fn the_length_table_is_sorted_for_its_binary_search() {
        assert!(LENGTHS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    /// The chunked accumulation gives the remainder the per-character reduction gives.
    #[test]
    fn mod97_matches_a_per_character_reduction() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..20_000 {
            let len = 5 + (x % 30) as usize;
            let s: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(x % 36) as usize]
                })
                .collect();
            let (head, tail) = s.split_at(4);
            let mut rem = 0u32;
            for &b in tail.iter().chain(head) {
                let v = if b.is_ascii_digit() {
                    u32::from(b - b'0')
                } else {
                    u32::from(b - b'A') + 10
                };
                rem = if v >= 10 {
                    (rem * 100 + v) % 97
                } else {
                    (rem * 10 + v) % 97
                };
            }
            assert_eq!(mod97(&s), rem == 1, "{}", String::from_utf8_lossy(&s));
        }
    }

    fn iban(text: &str) -> Option<&str> {
        let start = text
            .find(|c: char| c.is_ascii_digit())
            .and_then(|d| d.checked_sub(2))?;
        match_at(text.as_bytes(), start).map(|end| &text[start..end])
    }

    #[test]
    fn valid_ibans() {
        for s in [
            "DE89370400440532013000",
            "DE89 3704 0044 0532 0130 00",
            "DE89-3704-0044-0532-0130-00",
            "GB29-NWBK-6016-1331-9268-19",
            "GB29NWBK60161331926819",
            "GB29 NWBK 6016 1331 9268 19",
            "FR1420041010050500013M02606",
            "NO9386011117947",
            "CH9300762011623852957",
            "de89 3704 0044 0532 0130 00",
            "de89370400440532013000",
            "DE89\u{2013}3704\u{2013}0044\u{2013}0532\u{2013}0130\u{2013}00",
            "DE89.3704.0044.0532.0130.00",
        ] {
            assert_eq!(iban(&format!("pay to {s}.")), Some(s), "{s}");
        }
    }

    #[test]
    fn invalid_ibans() {
        assert_eq!(iban("DE89370400440532013001"), None, "check digits");
        assert_eq!(iban("DE8937040044053201300"), None, "length");
        assert_eq!(iban("DE893704004405320130001"), None, "too long");
        assert_eq!(iban("ZZ89370400440532013000"), None, "country");
        assert_eq!(iban("DE89 3704 0044 0532 013 000"), None, "grouping");
        assert_eq!(iban("DE89370400440532013000X"), None, "glued");
        assert_eq!(iban("DE89-3704 0044-0532-0130-00"), None, "mixed");
        assert_eq!(iban("DE89-3704-0044-0532-0130-00-77"), None, "longer");
        assert_eq!(iban("DE89-3704-0044-0532-0130-01"), None, "check digits");
        assert_eq!(iban("De89370400440532013000"), None, "mixed case");
        assert_eq!(iban("de89 3704 0044 0532 0130 00X"), None, "glued");
        assert_eq!(iban("DE89.3704.0044.0532.0130.00.77"), None, "longer");
        assert_eq!(iban("DE89-3704.0044-0532-0130-00"), None, "mixed");
        // In lower case, hex ids hold look-alikes: the account part must be digits, or the
        // word IBAN near.
        assert_eq!(iban("ba79-b265-eb4069864eb2"), None);
        assert_eq!(
            iban("iban gb29 nwbk 6016 1331 9268 19"),
            Some("gb29 nwbk 6016 1331 9268 19")
        );
    }
}
