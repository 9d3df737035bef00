//! Finnish personal identity codes (henkilötunnus): `131052-308T`, the date of birth `DDMMYY`,
//! a century sign (`+` for the 1800s; `-`, `Y`, `X`, `W`, `V`, `U` for the 1900s; `A`..`F`
//! for the 2000s), a three-digit individual number (002..999) and a check character: the nine
//! digits as one number modulo 31, read in `0123456789ABCDEFHJKLMNPRSTUVWXY` (Act on the
//! Population Information System 661/2009, s. 11; Digital and Population Data Services Agency,
//! "Personal identity code", with the century signs added in 2023). A real date, the century
//! sign and the check are specific enough without a cue, except in the shape of a time stamp
//! (`150124-1030`, see [`timestamp_like`]). Upper case, as issued.

use super::catalogue::{BuiltIn, DigitWord};
use super::id_cue::has_cue;
use super::id_shape::{number, standalone};
use super::text::{at, is_word};

pub(super) struct FiHetu;

impl BuiltIn for FiHetu {
    const NAME: &'static str = "fi_hetu";
    const FINDS: &'static str = "Finnish personal identity codes (`131052-308T`): a real date `DDMMYY`, a century sign (`+`, `-`, `A`..`F`, `U`..`Y`), an individual number 002..999 and the check character (the nine digits modulo 31 in `0123456789ABCDEFHJKLMNPRSTUVWXY`). A code in a time stamp's shape (`150124-1030`: sign `-`, year 00..30, individual number and check reading as `HHMM`) only next to a cue (`hetu`, `henkilötunnus`, `sotu`).";

    /// Six digits, then `-` or `+` (the word ends there) or a letter sign (the word goes on).
    const DIGIT_WORD: bool = true;
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = w.digits == 6
            && (w.len() == 11 || w.len() == 6 && matches!(w.next(), Some(b'-' | b'+')));
        shape.then(|| match_at(w.t, w.start)).flatten()
    }
}

const CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

/// The century a sign stands for.
fn century(sign: u8) -> Option<u32> {
    match sign {
        b'+' => Some(1800),
        b'-' | b'U'..=b'Y' => Some(1900),
        b'A'..=b'F' => Some(2000),
        _ => None,
    }
}

fn days_in_month(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A personal identity code starting at `start` (six digits): its end.
pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    let date = number(t, start, 6)?;
    let (day, month, yy) = (date / 10_000, date / 100 % 100, date % 100);
    let sign = at(t, start + 6)?;
    let year = century(sign)? + yy;
    if !(1..=12).contains(&month) || !(1..=days_in_month(month, year)).contains(&day) {
        return None;
    }
    let individual = number(t, start + 7, 3)?;
    if individual < 2 {
        return None;
    }
    let check = at(t, start + 10)?;
    let end = start + 11;
    let want = CHECK
        .get(((date * 1000 + individual) % 31) as usize)
        .copied();
    if !(want == Some(check) && !at(t, end).is_some_and(is_word) && standalone(t, start, end)) {
        return None;
    }
    (!timestamp_like(sign, yy, individual, check) || has_cue(t, start, end, CUES)).then_some(end)
}

/// Cues for the codes that read as timestamps.
const CUES: &[&str] = &[
    "hetu",
    "henkilötunnus*",
    "henkilotunnus*",
    "sotu",
    "personal identity code",
    "identity code",
    "personbeteckning",
];

/// `DDMMYY-HHMM`, a log's or a file's time stamp (`snapshot 150124-1030`), passes the check
/// one time in 31 and reads as a code of someone born in 1900..=1930 (the `-` sign): a code of
/// that shape whose individual number and check digit read as a time of day (`HH` 00..23, `MM`
/// 00..59) counts only next to a cue. Real codes of people of that age are rare; this century's
/// codes carry the sign `A`, not a stamp's dash.
fn timestamp_like(sign: u8, yy: u32, individual: u32, check: u8) -> bool {
    let Some(c) = check.is_ascii_digit().then(|| u32::from(check - b'0')) else {
        return false;
    };
    let (hh, mm) = (individual / 10, individual % 10 * 10 + c);
    sign == b'-' && yy <= 30 && hh <= 23 && mm <= 59
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;
    use crate::detect::scan_body as scan;

    fn hetu(text: &str) -> Option<&str> {
        let start = text.find(|c: char| c.is_ascii_digit())?;
        match_at(text.as_bytes(), start).map(|end| &text[start..end])
    }

    #[test]
    fn check_character_and_century_signs() {
        assert_eq!(hetu("131052-308T"), Some("131052-308T"));
        // The same number in each century of signs: the check is the digits', the sign free.
        for sign in ["+", "Y", "X", "W", "V", "U", "A", "B", "C", "D", "E", "F"] {
            let v = format!("131052{sign}308T");
            assert_eq!(hetu(&v), Some(v.as_str()), "{sign}");
        }
        assert_eq!(hetu("131052-308U"), None, "check");
        assert_eq!(hetu("131052G308T"), None, "no sign G");
        assert_eq!(hetu("131052a308T"), None, "lower case sign");
        assert_eq!(hetu("131052-001T"), None, "individual numbers start at 002");
    }

    #[test]
    fn real_dates_only() {
        // 29 February: 2000 was a leap year, 1900 was not.
        let leap = |sign: &str| {
            let digits = format!("290200{}", "123");
            let n: u64 = digits.parse().unwrap();
            let c = CHECK[(n % 31) as usize] as char;
            format!("290200{sign}123{c}")
        };
        assert!(hetu(&leap("A")).is_some());
        assert!(hetu(&leap("-")).is_none());
        for bad in ["320152-308T", "131352-308T", "001052-308T"] {
            assert_eq!(hetu(bad), None, "{bad}");
        }
    }

    #[test]
    fn through_the_scanner() {
        let one = |v: &str| vec![("fi_hetu".to_string(), v.to_string())];
        assert_eq!(scan(r#"{"hetu":"131052-308T"}"#), one("131052-308T"));
        assert_eq!(scan("henkilötunnus 131052A308T."), one("131052A308T"));
        // `+`: the pass's short-chain shortcut would pass over `131052` (six digits) otherwise.
        assert_eq!(scan("syntynyt 131052+308T"), one("131052+308T"));
        for t in [
            "131052-308U",
            "build 131052-308T-rc",
            "2026-01-23 131052",
            "v131052-308T",
            "id 131052-3089",
        ] {
            assert_eq!(scan(t), vec![], "{t}");
        }
    }
}
