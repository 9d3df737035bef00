//! Placeholders and low-entropy fillers in the random part of a token: `xoxb-your-bot-token-here`,
//! `ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`, `AKIAIOSFODNN7EXAMPLE` (AWS's documentation
//! example), `sk_live_1234567890abcdefghij`. Documentation, configuration templates and
//! tests are full of them; reporting them as leaked credentials buries the real ones.
//!
//! One judge for every secret kind ([`is_placeholder`]), calibrated so that a random token
//! essentially never fails it: each rule is set where a uniformly random value of the
//! format's alphabet trips it with a probability below about one in a million, however long
//! the token (up to 300 characters). The unit tests draw 100,000 random tokens per alphabet
//! and length and check that none is rejected. The rules:
//!
//! 1. A word no random value spells: `example`, `placeholder`, `redacted`, `changeme`,
//!    `replaceme` (seven letters or more, any case, anywhere).
//! 2. Placeholder words as whole segments between the separators `-`, `_`, `.` (or the
//!    value's ends), in one case (`your`, `YOUR`, `Your`): one of four letters or more
//!    (`-token-`, `_HERE`), or two of any length (`your-bot`, `MY_KEY`).
//! 3. At the very start of the value, a placeholder word of five letters or more, or `your`,
//!    even glued to what follows (`yourtoken`, `dummy123`).
//! 4. For structured values only ([`is_placeholder_text`]): five `x` (one case) at the
//!    value's start or end (`xxxxx1234`). A random part is not judged so: one of 36
//!    upper-case letters and digits starts with five `X` once in 60 million (and one of
//!    the tests' draws starts with six); `x` fillers there are runs (rule 5) or whole
//!    segments (rule 2: `xoxb-xxxx-xxxx`).
//! 5. A run in one segment: the same character, or consecutive characters up or down
//!    (`1234567890`, `abcdefgh`, `AbCdEfGh`; letters compared case-insensitively) longer
//!    than the alphabet allows: 7 for letters and digits, 8 for hex and for digit-only
//!    segments (the numeric ids inside Slack tokens).
//! 6. Too few distinct characters: fewer than a third of the smaller of the value's length
//!    and the alphabet's size (`abababababababab`).
//! 7. Words in kebab or snake case: no capital letter, two separators or more, and every
//!    segment lower-case letters, digits, or letters with one or two digits at one end
//!    (`prefixed-strings-20-chars`, `btn-3xl-primary`, `jen-2024-04-01`). A random value of
//!    20 characters or more has a capital letter, or a segment that mixes letters and digits.
//! 8. Words in camel case, 24 characters or more: letters only, three words or more of five
//!    letters or more on average, each of two letters or more with a vowel (`aeiouy`), no
//!    more than three consonants before a word's first vowel nor four in a row after it, and
//!    vowels three letters in ten or more (`ChargesAreRefundedOnCancel`,
//!    `AutoModelForSequenceClassification`, `SequenceSubscriptionCharges`). A random value of
//!    letters and digits of 24 passes all of it with a probability of about 8e-8, one of 34
//!    letters only (Hugging Face's tokens) about 1.5e-7 (computed exactly, by dynamic
//!    programming over the rule, and checked against sampling at shorter lengths).
//!
//! Allocation-free: a few passes over at most a few hundred bytes.

/// The alphabet of a token's random part: it sets how long a run (rule 5) and how few
/// distinct characters (rule 6) a random value may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Alphabet {
    /// Hexadecimal digits.
    Hex,
    /// Letters (one case or both) and digits, perhaps with `-` and `_`: base32, base36,
    /// base62, base64url.
    Alnum,
}

impl Alphabet {
    /// The longest run a random value of this alphabet holds with a probability that matters.
    /// With `k` the limit and `a` the chance that the next character continues a run
    /// (about 1/34 for case-folded letters and digits, 1/16 for hex), a run longer than `k`
    /// starts at a given place with probability `3·a^k` (same, up, down): about 2e-9 for
    /// letters and digits (1/31 per step for letters of
    /// both cases), 7e-10 for hex.
    const fn longest_run(self) -> usize {
        match self {
            Alphabet::Hex => 8,
            Alphabet::Alnum => 7,
        }
    }

    /// The size of the alphabet as rule 6 counts it (case-folded letters and digits: 36).
    const fn size(self) -> usize {
        match self {
            Alphabet::Hex => 16,
            Alphabet::Alnum => 36,
        }
    }
}

/// A run in a segment made of digits only: a random digit continues a run with a chance of
/// 1/10.
const DIGITS_LONGEST_RUN: usize = 8;

/// Words no random value spells (rule 1), lower case, compared in any case.
const NEVER_RANDOM: [&[u8]; 5] = [
    b"example",
    b"placeholder",
    b"redacted",
    b"changeme",
    b"replaceme",
];

/// Placeholder words (rules 2 and 3), lower case.
const WORDS: [&[u8]; 33] = [
    b"your",
    b"my",
    b"the",
    b"test",
    b"fake",
    b"dummy",
    b"sample",
    b"token",
    b"here",
    b"key",
    b"secret",
    b"api",
    b"bot",
    b"app",
    b"user",
    b"xxx",
    b"xxxx",
    b"foo",
    b"bar",
    b"baz",
    b"abc",
    b"demo",
    b"mock",
    b"todo",
    b"none",
    b"null",
    b"value",
    b"insert",
    b"replace",
    b"access",
    b"password",
    b"invalid",
    b"goes",
];

fn is_sep(b: u8) -> bool {
    matches!(b, b'-' | b'_' | b'.')
}

/// Whether `s` is the random part of a placeholder, not of a credential (see the module doc).
/// `s` is what follows the format's fixed prefix (`ghp_`, `xoxb-`, `AKIA`).
pub(super) fn is_placeholder(s: &[u8], alphabet: Alphabet) -> bool {
    never_random(s)
        || words(s)
        || long_run(s, alphabet)
        || few_distinct(s, alphabet)
        || kebab_words(s)
        || camel_words(s)
}

/// Rules 1 to 4, and the marks of an elided or bracketed value (`...`, `…`, `<`, `>`):
/// for values that are not uniformly random, whose runs and repeats say nothing (the DER in a
/// PEM body is full of `AAAA`; a PyPI macaroon repeats its fields' tags).
pub(super) fn is_placeholder_text(s: &[u8]) -> bool {
    s.windows(3)
        .any(|w| w == b"..." || w == "\u{2026}".as_bytes())
        || s.iter().any(|&b| b == b'<' || b == b'>')
        || never_random(s)
        || words(s)
        || x_ends(s)
}

/// Rule 1.
pub(super) fn never_random(s: &[u8]) -> bool {
    NEVER_RANDOM
        .iter()
        .any(|w| s.windows(w.len()).any(|win| win.eq_ignore_ascii_case(w)))
}

/// `word` spelled in one case: all lower, all upper, or a capital and lower case.
fn one_case(word: &[u8]) -> bool {
    let tail = word.get(1..).unwrap_or_default();
    tail.iter().all(u8::is_ascii_lowercase) && word.first().is_some_and(u8::is_ascii_alphabetic)
        || word.iter().all(u8::is_ascii_uppercase)
}

fn is_word(w: &[u8]) -> bool {
    WORDS.iter().any(|p| p.eq_ignore_ascii_case(w))
}

/// Rules 2 and 3.
fn words(s: &[u8]) -> bool {
    // Rule 3: the value's first letters.
    let lead = s.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let first = s.get(..lead).unwrap_or_default();
    for w in WORDS.iter().filter(|w| w.len() >= 5 || **w == b"your") {
        if let Some(head) = first.get(..w.len()) {
            if head.eq_ignore_ascii_case(w) && one_case(head) {
                return true;
            }
        }
    }
    // Rule 2: whole segments.
    let mut short = 0;
    for seg in s.split(|&b| is_sep(b)) {
        if seg.len() >= 2 && one_case(seg) && is_word(seg) {
            if seg.len() >= 4 {
                return true;
            }
            short += 1;
            if short == 2 {
                return true;
            }
        }
    }
    false
}

/// Rule 4.
fn x_ends(s: &[u8]) -> bool {
    let xs = |w: Option<&[u8]>| w.is_some_and(|w| w == b"xxxxx" || w == b"XXXXX");
    xs(s.get(..5)) || xs(s.len().checked_sub(5).and_then(|p| s.get(p..)))
}

/// Rule 5.
fn long_run(s: &[u8], alphabet: Alphabet) -> bool {
    s.split(|&b| is_sep(b)).any(|seg| {
        let limit = if seg.iter().all(u8::is_ascii_digit) {
            DIGITS_LONGEST_RUN
        } else {
            alphabet.longest_run()
        };
        seg.len() > limit && run_over(seg, limit)
    })
}

/// Whether `seg` holds a run of more than `limit` characters, each the same as the one before
/// or one up, or one down, from it (letters case-folded).
fn run_over(seg: &[u8], limit: usize) -> bool {
    let (mut same, mut up, mut down) = (1usize, 1usize, 1usize);
    for w in seg.windows(2) {
        let (a, b) = match w {
            [a, b] => (a.to_ascii_lowercase(), b.to_ascii_lowercase()),
            _ => continue,
        };
        same = if a == b { same + 1 } else { 1 };
        up = if a.wrapping_add(1) == b { up + 1 } else { 1 };
        down = if b.wrapping_add(1) == a { down + 1 } else { 1 };
        if same > limit || up > limit || down > limit {
            return true;
        }
    }
    false
}

/// Rule 6.
fn few_distinct(s: &[u8], alphabet: Alphabet) -> bool {
    let mut seen = 0u128;
    let mut n = 0usize;
    for &b in s.iter().filter(|&&b| !is_sep(b)) {
        seen |= 1u128 << (b & 127);
        n += 1;
    }
    n >= 8 && (seen.count_ones() as usize) * 3 < n.min(alphabet.size())
}

/// Whether `s`, a number (a user id inside a token), is a filler: a run longer than random
/// digits show (rule 5) or fewer distinct digits than a third of ten, or of its length
/// (rule 6, with the ten digits as the alphabet).
pub(super) fn is_placeholder_digits(s: &[u8]) -> bool {
    let mut seen = 0u16;
    for &b in s {
        seen |= 1 << (b & 15);
    }
    (s.len() > DIGITS_LONGEST_RUN && run_over(s, DIGITS_LONGEST_RUN))
        || s.len() >= 8 && (seen.count_ones() as usize) * 3 < s.len().min(10)
}

/// Rule 7.
fn kebab_words(s: &[u8]) -> bool {
    if s.iter().filter(|&&b| is_sep(b)).count() < 2 || s.iter().any(u8::is_ascii_uppercase) {
        return false;
    }
    s.split(|&b| is_sep(b)).all(|seg| {
        let lead = seg.iter().take_while(|b| b.is_ascii_digit()).count();
        let trail = seg.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        let letters = |w: &[u8]| w.iter().all(u8::is_ascii_lowercase);
        !seg.is_empty()
            && (lead == seg.len()
                || lead <= 2 && letters(seg.get(lead..).unwrap_or_default())
                || trail <= 2 && letters(seg.get(..seg.len() - trail).unwrap_or_default()))
    })
}

/// The shortest value rule 8 judges: below it, random letters form camel-case words too often.
const CAMEL_MIN: usize = 24;

/// Rule 8.
fn camel_words(s: &[u8]) -> bool {
    if s.len() < CAMEL_MIN || !s.iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    let is_vowel = |b: u8| {
        matches!(
            b.to_ascii_lowercase(),
            b'a' | b'e' | b'i' | b'o' | b'u' | b'y'
        )
    };
    let (mut words, mut len, mut vowel, mut consonants, mut vowels) = (0usize, 0, false, 0, 0);
    for (k, &b) in s.iter().enumerate() {
        if b.is_ascii_uppercase() && k > 0 {
            // A new word: the one before it must be complete.
            if len < 2 || !vowel {
                return false;
            }
            words += 1;
            len = 0;
            vowel = false;
            consonants = 0;
        }
        len += 1;
        if is_vowel(b) {
            vowel = true;
            vowels += 1;
            consonants = 0;
        } else {
            consonants += 1;
            // `Str`, `Sch` start words; `bscr` (`Subscription`) is inside one.
            if consonants > if vowel { 4 } else { 3 } {
                return false;
            }
        }
    }
    let words = words + 1;
    len >= 2 && vowel && words >= 3 && words * 5 <= s.len() && vowels * 10 >= s.len() * 3
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64: a small, seeded generator (the tests must be reproducible).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn token(&mut self, alphabet: &[u8], len: usize, out: &mut Vec<u8>) {
            out.clear();
            for _ in 0..len {
                out.push(alphabet[(self.next() % alphabet.len() as u64) as usize]);
            }
        }
    }

    const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const HEX: &[u8] = b"0123456789abcdef";
    const UPPER36: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const LOWER36: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// Real tokens are random: 100,000 of each alphabet and length, none is taken for a
    /// placeholder.
    #[test]
    fn random_tokens_are_never_placeholders() {
        let cases: &[(&[u8], Alphabet, &[usize])] = &[
            (BASE62, Alphabet::Alnum, &[16, 24, 30, 36, 48, 52, 80, 99]),
            (BASE64URL, Alphabet::Alnum, &[20, 35, 37, 64, 95, 156, 300]),
            (HEX, Alphabet::Hex, &[32, 40, 64]),
            (UPPER36, Alphabet::Alnum, &[16, 20]),
            (LOWER36, Alphabet::Alnum, &[24, 36]),
            (LETTERS, Alphabet::Alnum, &[34]),
        ];
        let mut rng = Rng(20_261_122);
        let mut t = Vec::new();
        let mut bad = Vec::new();
        for &(chars, alphabet, lens) in cases {
            for &len in lens {
                for _ in 0..100_000 {
                    rng.token(chars, len, &mut t);
                    if is_placeholder(&t, alphabet) {
                        bad.push(String::from_utf8_lossy(&t).into_owned());
                    }
                }
            }
        }
        assert!(bad.is_empty(), "{} rejected: {bad:?}", bad.len());
        // Slack tokens: ids of digits, then a random part.
        for _ in 0..100_000 {
            let mut s = String::new();
            for n in [11, 13] {
                rng.token(b"0123456789", n, &mut t);
                s.push_str(std::str::from_utf8(&t).unwrap());
                s.push('-');
            }
            rng.token(BASE62, 24, &mut t);
            s.push_str(std::str::from_utf8(&t).unwrap());
            assert!(!is_placeholder(s.as_bytes(), Alphabet::Alnum), "{s}");
        }
        // Rules 7 and 8 (kebab and camel case) at the lengths where they bite most: camel
        // case from 24 characters, GitLab's 20 and routable 27. A generator of its own, so
        // that the draws above stay what they were.
        let mut rng = Rng(20_260_601);
        for (chars, lens) in [
            (BASE62, &[24usize, 26, 28, 32][..]),
            (BASE64URL, &[20, 24, 27]),
        ] {
            for &len in lens {
                for _ in 0..100_000 {
                    rng.token(chars, len, &mut t);
                    assert!(!is_placeholder(&t, Alphabet::Alnum), "{t:?}");
                }
            }
        }
        // User ids inside Discord tokens: 17 to 19 random digits.
        for len in [17, 18, 19] {
            for _ in 0..100_000 {
                rng.token(b"0123456789", len, &mut t);
                assert!(!is_placeholder_digits(&t), "{t:?}");
            }
        }
    }

    /// Rules 7 and 8 reject words in kebab and camel case, not random values of the same
    /// characters.
    #[test]
    fn words_in_kebab_and_camel_case_are_rejected() {
        for p in [
            "prefixed-strings-20-chars",
            "deploy-tokens-with-prefix",
            "rotation-schedule-weekly2",
            "jen-2024-04-01",
            "btn-3xl-primary",
            "ChargesAreRefundedOnCancel",
            "AutoModelForSequenceClassification",
            "SequenceSubscriptionCharges",
            "RejectsExpiredCardsWithoutRetry",
            "handlesDeclinedPaymentIntent",
        ] {
            assert!(is_placeholder(p.as_bytes(), Alphabet::Alnum), "{p}");
        }
        for v in [
            // Two segments, a capital, letters and digits mixed within a segment.
            "prefixed-strings",
            "Prefixed-strings-20-chars",
            "pre4fixed-strings-20-chars",
            // Camel case too short, too few words, words too short or without vowels.
            "ChargesAreRefunded",
            "ChargesAreRefundedOnCancelX",
            "AbCdEfGhIjKlMnOpQrStUvWxYz".get(1..).unwrap(),
            "XqTrmBvKwzLpHjNcGdFsRtYm",
            "AutoModelForSequenceClassificationQ1",
        ] {
            assert!(
                !kebab_words(v.as_bytes()) && !camel_words(v.as_bytes()),
                "{v}"
            );
        }
        assert!(is_placeholder_digits(b"123456789012345678"));
        assert!(is_placeholder_digits(b"1111112222211111"));
        assert!(!is_placeholder_digits(b"1433327212216367626"));
    }

    #[test]
    fn placeholders_are_rejected() {
        for p in [
            "your-bot-token-here",
            "xxxxxxxxxxxx",
            "XXXXXXXXXXXXXXXXXXXX",
            "IOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "your_api_key",
            "YOUR_API_KEY_HERE",
            "yourtoken1234567890",
            "Your-Token-Here",
            "xoxb-xxxx-xxxx",
            "a1b2c3d4e5f6-xxxx",
            "<placeholder>",
            "PLACEHOLDER_VALUE_123",
            "redacted",
            "REDACTED-REDACTED",
            "dummytoken123456789",
            "fake-token-value",
            "test-token-1234",
            "my_token",
            "1234567890",
            "123456789012-abcdefghij",
            "0123456789abcdef0123456789abcdef",
            "abcdefghijklmnopqrstuvwxyz0123456789",
            "AbCdEfGhIjKlMnOpQrStUvWx",
            "zyxwvutsrqponm",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "abababababababababababab",
            "1111111111-2222222222-abcd",
            "changeme-changeme",
            "sample_key_0001",
            "12ab12ab12ab12ab12ab12ab12ab12ab",
        ] {
            assert!(is_placeholder(p.as_bytes(), Alphabet::Alnum), "{p}");
        }
        for p in [
            "0000000000000000000000000000000000000000",
            "0123456789abcdef0123",
        ] {
            assert!(is_placeholder(p.as_bytes(), Alphabet::Hex), "{p}");
        }
    }

    #[test]
    fn structured_placeholders_are_rejected() {
        for p in [
            "...",
            "MIIEvQ...",
            "<key>",
            "xxxxx1234abcd",
            "YOUR_KEY_HERE",
            "example",
        ] {
            assert!(is_placeholder_text(p.as_bytes()), "{p}");
        }
        assert!(!is_placeholder_text(b"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"));
        assert!(!is_placeholder_text(
            b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB"
        ));
    }

    #[test]
    fn real_looking_values_pass() {
        for v in [
            "M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V4",
            "17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
            "Y34FZKBOKMUTVV7A",
            "4eC39HqLyjWDarjtT1zdp7dc",
            // A real word among random characters is not a placeholder word.
            "Xq7yourbT2mK9pLw3ZcV8nR4",
            "k9Test3mQ2xZ7pL4wR8vN1cB",
        ] {
            assert!(!is_placeholder(v.as_bytes(), Alphabet::Alnum), "{v}");
        }
        assert!(!is_placeholder(
            b"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            Alphabet::Hex
        ));
    }
}
