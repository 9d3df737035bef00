//! National identifiers written with digits only, one detector type each: UK NHS number,
//! Canadian SIN, Indian Aadhaar, Australian TFN, ABN, ACN and Medicare number, Polish PESEL,
//! Brazilian CPF, Korean RRN, US ITIN.
//!
//! Each is decided the same way, cheapest test first: the shape of the digit word (its leading
//! digit count and whether a separator follows, which the pass has already measured), then the
//! digit groups, then the number's own checks (check digits, dates, ranges), and only then a
//! cue: a word that names the identifier in the same field (a JSON key, a label, a phrase).
//! Most of these numbers are short, or their check digit passes one random number in ten or
//! eleven: a bare run of digits is one of them only next to its cue, as `ssn` asks of bare
//! digits. A few written shapes are rare enough to stand alone (`123.456.789-09`, a CPF).
//!
//! The helpers here read digit groups joined by one kind of separator, tell whether a value is
//! a whole number rather than a piece of a longer one, and look for cue words.

pub(super) mod au;
pub(super) mod br_cpf;
pub(super) mod ca_sin;
pub(super) mod in_aadhaar;
pub(super) mod kr_rrn;
pub(super) mod pl_pesel;
pub(super) mod uk_nhs;
pub(super) mod us_itin;

pub(super) use super::id_cue::has_cue;
#[cfg(test)]
use super::id_cue::MAX_CUE;
use super::text::{at, before, digit, is_word, sep_at, sep_before, Sep};

/// The most digits any of these identifiers has (a Korean RRN).
const MAX_DIGITS: usize = 13;

/// The digits of a candidate read from the text, and where it ends.
#[derive(Debug, Clone, Copy)]
pub(super) struct Read {
    d: [u8; MAX_DIGITS],
    n: usize,
    pub end: usize,
    /// The separators between the groups, in order (`None` past the last group).
    joints: [Option<Sep>; 4],
}

impl Read {
    /// The digit values.
    pub fn digits(&self) -> &[u8] {
        self.d.get(..self.n).unwrap_or_default()
    }

    /// The separator between the first two groups (none for one run of digits).
    pub fn first_joint(&self) -> Option<Sep> {
        self.joints.first().copied().flatten()
    }

    /// The separator joining every group, if it is the same throughout (and there are groups).
    pub fn uniform(&self) -> Option<Sep> {
        let first = self.first_joint()?;
        self.joints
            .iter()
            .flatten()
            .all(|&s| s == first)
            .then_some(first)
    }

    /// Every digit is the same one (`000 000 0000`, `111.111.111-11`): a filler, not a number
    /// anyone was issued.
    pub fn all_same(&self) -> bool {
        let d = self.digits();
        d.first().is_some_and(|f| d.iter().all(|x| x == f))
    }
}

/// Groups of exactly `lens` digits from `start`, joined by single separators (a space, a dash or
/// a Unicode dash, a dot), and the word ends after the last group. One length reads a single
/// run of digits. Whether the separators must agree, and whether the value stands alone, is the
/// caller's question ([`Read::uniform`], [`standalone`]).
pub(super) fn groups(t: &[u8], start: usize, lens: &[usize]) -> Option<Read> {
    let mut r = Read {
        d: [0; MAX_DIGITS],
        n: 0,
        end: start,
        joints: [None; 4],
    };
    let mut i = start;
    for (k, &len) in lens.iter().enumerate() {
        if k > 0 {
            let (sep, sep_len) = sep_at(t, i)?;
            *r.joints.get_mut(k - 1)? = Some(sep);
            i += sep_len;
        }
        for _ in 0..len {
            *r.d.get_mut(r.n)? = digit(t, i)?;
            r.n += 1;
            i += 1;
        }
    }
    // The last group ends the word: no more digits, and no letters glued to it.
    if at(t, i).is_some_and(is_word) {
        return None;
    }
    r.end = i;
    Some(r)
}

/// Not a piece of a longer number. On the right: no digit, no decimal fraction (`.5`, `,50`),
/// and the chain does not go on with the separator that joins the value's groups (`943 476
/// 5919 12`); a single run of digits may not go on with a dash, a dot or a slash. On the left,
/// the same: no group joined by that separator before it, and no decimal point before a run.
pub(super) fn standalone(t: &[u8], start: usize, r: &Read) -> bool {
    let end = r.end;
    let last = r.joints.iter().flatten().last().copied();
    let first = r.first_joint();
    // A comma after a value that is itself a CSV cell (`7,529.982.247-25,12`: a comma before it)
    // starts the next cell, not a decimal fraction (`12 345 678 901,50`; at a line start the
    // value may be either, and stays a decimal).
    let next_cell = at(t, end) == Some(b',') && csv_cell_start(t, start);
    let fraction =
        matches!(at(t, end), Some(b',' | b'/' | b'.')) && digit(t, end + 1).is_some() && !next_cell;
    let chain = sep_at(t, end).is_some_and(|(sep, len)| {
        digit(t, end + len).is_some()
            && match last {
                Some(l) => l == sep,
                None => sep != Sep::Space,
            }
    });
    let right = digit(t, end).is_some() || fraction || chain;
    let left = sep_before(t, start).is_some_and(|(sep, len)| {
        let digit_before = start
            .checked_sub(len + 1)
            .and_then(|p| digit(t, p))
            .is_some();
        digit_before
            && match first {
                Some(f) => f == sep,
                None => sep != Sep::Space,
            }
    }) || (before(t, start) == Some(b'/')
        && start.checked_sub(2).and_then(|p| digit(t, p)).is_some());
    !right && !left
}

/// `start` begins a cell of a comma-separated row that is not its first: a comma before it.
pub(super) fn csv_cell_start(t: &[u8], start: usize) -> bool {
    before(t, start) == Some(b',')
}

/// A weighted sum of digit values.
pub(super) fn weighted(d: &[u8], weights: &[u32]) -> u32 {
    d.iter().zip(weights).map(|(&x, &w)| u32::from(x) * w).sum()
}

/// `len` digits from `d` at `from`, as a number.
pub(super) fn number(d: &[u8], from: usize, len: usize) -> u32 {
    d.iter()
        .skip(from)
        .take(len)
        .fold(0, |acc, &x| acc * 10 + u32::from(x))
}

/// Whether year/month/day is a calendar date (Gregorian).
pub(super) fn is_date(year: u32, month: u32, day: u32) -> bool {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
pub(super) mod tests {
    use super::*;
    use crate::detect::scan_body as scan;

    /// The value a matcher finds at the first digit of `text`.
    pub fn first(text: &str, m: impl Fn(&[u8], usize) -> Option<usize>) -> Option<&str> {
        let start = text.find(|c: char| c.is_ascii_digit())?;
        m(text.as_bytes(), start).and_then(|end| text.get(start..end))
    }

    #[test]
    fn groups_and_joints() {
        let r = groups(b"943 476 5919", 0, &[3, 3, 4]).unwrap();
        assert_eq!(r.digits(), &[9, 4, 3, 4, 7, 6, 5, 9, 1, 9]);
        assert_eq!((r.end, r.uniform()), (12, Some(Sep::Space)));
        let r = groups(b"943-476 5919", 0, &[3, 3, 4]).unwrap();
        assert_eq!(r.uniform(), None, "two separators");
        assert!(groups(b"943 476 59190", 0, &[3, 3, 4]).is_none());
        assert!(groups(b"943 476 5919x", 0, &[3, 3, 4]).is_none());
        assert!(groups(b"943  476 5919", 0, &[3, 3, 4]).is_none());
        let r = groups(b"9434765919,", 0, &[10]).unwrap();
        assert_eq!((r.end, r.first_joint()), (10, None));
        assert!(groups(b"1111111111", 0, &[10]).unwrap().all_same());
    }

    #[test]
    fn standalone_values() {
        let ok = |t: &str, start: usize, lens: &[usize]| {
            standalone(
                t.as_bytes(),
                start,
                &groups(t.as_bytes(), start, lens).unwrap(),
            )
        };
        assert!(ok("943 476 5919", 0, &[3, 3, 4]));
        assert!(ok("943 476 5919-1", 0, &[3, 3, 4]), "another separator");
        assert!(!ok("943 476 5919 12", 0, &[3, 3, 4]));
        assert!(!ok("1 943 476 5919", 2, &[3, 3, 4]));
        assert!(ok("no. 9434765919 12", 4, &[10]));
        assert!(!ok("9434765919-12", 0, &[10]));
        assert!(!ok("9434765919.5", 0, &[10]));
        assert!(!ok("12-9434765919", 3, &[10]));
        assert!(!ok("3.9434765919", 2, &[10]));
        assert!(!ok("1/9434765919", 2, &[10]));
        assert!(!ok("12 345 678 901,50", 0, &[2, 3, 3, 3]));
        // A CSV cell: the comma after it starts the next cell.
        assert!(ok("7,12 345 678 901,50", 2, &[2, 3, 3, 3]));
        assert!(!ok("7 12 345 678 901,50", 2, &[2, 3, 3, 3]));
    }

    #[test]
    fn cues_are_whole_words_in_the_same_field() {
        let cue = |t: &str, cues: &[&str]| {
            let start = t.find(|c: char| c.is_ascii_digit()).unwrap();
            let end = start
                + t[start..]
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(t.len() - start);
            has_cue(t.as_bytes(), start, end, cues)
        };
        assert!(cue(r#"{"sin": "046454286"}"#, &["sin"]));
        assert!(cue(r#"{"sinNumber": "046454286"}"#, &["sin"]));
        assert!(cue(r#"{"customer_SIN": "046454286"}"#, &["sin"]));
        assert!(cue("SIN: 046454286", &["sin"]));
        assert!(cue("my SIN, as you asked, is 046454286", &["sin"]));
        assert!(!cue("sin=x&id=046454286", &["sin"]));
        assert!(
            !cue("y = math.sin(theta) * 046454286", &["sin"]),
            "a function"
        );
        // A label on the line above counts (issue 11's tester: `PESEL\n92031501232`).
        assert!(cue("SIN\n046454286", &["sin"]));
        assert!(!cue("since 046454286", &["sin"]));
        assert!(!cue("SINGLE 046454286", &["sin"]));
        assert!(
            !cue(r#"{"sin": "x", "tfn": "046454286"}"#, &["sin"]),
            "the previous member"
        );
        assert!(cue("046454286 is my SIN", &["sin"]));
        assert!(!cue(r#""046454286", "sin": 1"#, &["sin"]));
        assert!(cue("주민등록번호 800101", &["주민등록번호"]));
        assert!(cue(
            "numéro d'assurance sociale 046454286",
            &["assurance sociale"]
        ));
    }

    fn one(kind: &str, value: &str) -> Vec<(String, String)> {
        vec![(kind.to_string(), value.to_string())]
    }

    /// Each type through the whole scanner, in the shapes issue 11 names.
    #[test]
    fn through_the_scanner() {
        let cases = [
            ("NHS number 943 476 5919", "uk_nhs_number", "943 476 5919"),
            (r#"{"nhs_no": "9434765919"}"#, "uk_nhs_number", "9434765919"),
            ("SIN: 046 454 286", "ca_sin", "046 454 286"),
            (
                r#"{"numero_assurance_sociale": "130-692-544"}"#,
                "ca_sin",
                "130-692-544",
            ),
            (
                r#"{"kyc": "2345 6789 0124"}"#,
                "in_aadhaar",
                "2345 6789 0124",
            ),
            ("my aadhaar is 498765432102", "in_aadhaar", "498765432102"),
            ("TFN 123 456 782", "au_tfn", "123 456 782"),
            ("Acme Pty Ltd (51 824 753 556)", "au_abn", "51 824 753 556"),
            (r#"{"abn": "51824753556"}"#, "au_abn", "51824753556"),
            ("ACN 004 085 616", "au_acn", "004 085 616"),
            ("Medicare card 2123 45670 1", "au_medicare", "2123 45670 1"),
            (r#"{"pesel": "44051401359"}"#, "pl_pesel", "44051401359"),
            ("CPF 123.456.789-09", "br_cpf", "123.456.789-09"),
            ("123.456.789-09", "br_cpf", "123.456.789-09"),
            ("주민등록번호 800101-1234567", "kr_rrn", "800101-1234567"),
            ("800101-1234560", "kr_rrn", "800101-1234560"),
            ("ITIN 912-70-1234", "us_itin", "912-70-1234"),
            (r#"{"itin": "912701234"}"#, "us_itin", "912701234"),
        ];
        for (text, kind, value) in cases {
            assert_eq!(scan(text), one(kind, value), "{text}");
        }
    }

    /// One JSON object holding them all (as the host tests' redaction body does): each value's
    /// own key is its cue, and the key before it is not.
    #[test]
    fn all_in_one_body() {
        let body = r#"{"id": 7, "nhs_number": "943 476 5919", "sin": "046 454 286",
            "aadhaar": "2345 6789 0124", "tfn": "123 456 782", "abn": "51 824 753 556",
            "acn": "004 085 616", "medicare": "2123 45670 1", "pesel": "44051401359",
            "cpf": "123.456.789-09", "rrn": "800101-1234560", "itin": "912-70-1234",
            "ssn": "123-45-6789", "phone": "+1 (415) 555-2671", "amount": 4111111111111111}"#;
        let kinds: Vec<String> = scan(body).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            kinds,
            [
                "uk_nhs_number",
                "ca_sin",
                "in_aadhaar",
                "au_tfn",
                "au_abn",
                "au_acn",
                "au_medicare",
                "pl_pesel",
                "br_cpf",
                "kr_rrn",
                "us_itin",
                "ssn",
                "phone",
                "credit_card"
            ]
        );
    }

    /// What the issue rules out: a filler CPF, an SSN-shaped ITIN outside its groups, a 3-3-4
    /// number without a cue (a phone number, if North American), values in longer numbers.
    #[test]
    fn not_through_the_scanner() {
        for text in [
            "111.111.111-11",
            "912-49-1234",
            "NHS number 9434765918",
            "SIN 046 454 287",
            r#"{"order": "2345 6789 0124 5678"}"#,
            "EXPOSE 4987 6543 2102",
            r#"{"id": "51824753556"}"#,
            "800101-1234567",
            "total 51 824 753 556,50 EUR",
            "since 046 454 286",
        ] {
            assert_eq!(scan(text), vec![], "{text}");
        }
        // A wrong NHS number in a North American phone shape is left to the phone detector,
        // which takes it whatever the label.
        assert_eq!(scan("NHS number 943 476 5918")[0].0, "phone");
        // Without its cue, a valid NHS number in a North American phone shape is a phone number.
        assert_eq!(scan("call 943 476 5919")[0].0, "phone");
        // With one, it is an NHS number.
        assert_eq!(scan("NHS 943 476 5919, phone 415 555 2671").len(), 2);
        // An SSN is still an SSN, and a card a card.
        assert_eq!(scan("SIN 123-45-6789"), one("ssn", "123-45-6789"));
        assert_eq!(
            scan("aadhaar 4111 1111 1111 1111"),
            one("credit_card", "4111 1111 1111 1111")
        );
    }

    /// The pass skips timestamps, decimals and short digit chains in one step: the values after
    /// them, and values that start like them, are still seen. Decoded views (look-alike spaces,
    /// fullwidth digits, JSON escapes) reach these detectors too.
    #[test]
    fn after_the_pass_shortcuts_and_in_decoded_views() {
        for (text, kind, value) in [
            (
                "2026-01-23T12:34:56Z NHS 943 476 5919",
                "uk_nhs_number",
                "943 476 5919",
            ),
            (
                "rated 4.75 by 12 users, ABN 51 824 753 556",
                "au_abn",
                "51 824 753 556",
            ),
            (
                "12:00:01 주민등록번호 800101-1234567",
                "kr_rrn",
                "800101-1234567",
            ),
            (
                r#"{"sin": "046\u00a0454\u00a0286"}"#,
                "ca_sin",
                r"046\u00a0454\u00a0286",
            ),
            (
                "TFN 123\u{a0}456\u{a0}782",
                "au_tfn",
                "123\u{a0}456\u{a0}782",
            ),
            (
                "CPF １２３.４５６.７８９-０９",
                "br_cpf",
                "１２３.４５６.７８９-０９",
            ),
        ] {
            assert_eq!(scan(text), one(kind, value), "{text}");
        }
    }

    #[test]
    fn cues_fit_the_window_past_a_value() {
        for cues in [
            uk_nhs::CUES,
            ca_sin::CUES,
            in_aadhaar::CUES,
            au::TFN_CUES,
            au::ABN_CUES,
            au::ACN_CUES,
            au::MEDICARE_CUES,
            pl_pesel::CUES,
            br_cpf::CUES,
            kr_rrn::CUES,
            us_itin::CUES,
        ] {
            for cue in cues {
                assert!(cue.len() <= MAX_CUE, "{cue}");
                assert_eq!(cue.to_lowercase(), *cue, "{cue}: cues are lower case");
                assert!(cue.trim_start_matches('!').trim_end_matches('*').len() <= MAX_CUE);
            }
        }
    }

    #[test]
    fn dates() {
        assert!(is_date(2000, 2, 29));
        assert!(!is_date(1900, 2, 29));
        assert!(!is_date(2023, 4, 31));
        assert!(!is_date(2023, 13, 1));
        assert!(!is_date(2023, 1, 0));
    }
}
