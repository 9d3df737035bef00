//! Phone numbers. E.164 (`+` and 8 to 15 digits: `+41 44 668 18 00`, `+1 (415) 555-2671`),
//! and North American numbers written the usual ways (`(415) 555-2671`, `415-555-2671`,
//! `415.555.2671`, `1-415-555-2671`) with a valid area code and exchange. Any other run of 7
//! to 15 digits in groups is a phone number only next to a cue (`phone`, `tel`, `mobile`, ...),
//! so that order numbers and timestamps are not.

use super::catalogue::{BuiltIn, DigitWord, Stop};
use super::text::{at, before, digit, has_cue_around, is_word, run_end, sep_at, sep_before, Sep};

pub(super) struct Phone;

impl BuiltIn for Phone {
    const NAME: &'static str = "phone";
    const FINDS: &'static str = "E.164 (`+`, 8 to 15 digits, any single separators, one parenthesised group); North American numbers written the usual ways (`(415) 555-2671`, `415-555-2671`, `415.555.2671`, `1-415-555-2671`) with a valid area code and exchange; any other 7 to 15 digits in groups only after a cue (`phone`, `tel`, `mobile`, `cell`, `fax`, `sms`, `whatsapp`). Dates and times are not phone numbers.";
    const DIGIT_WORD: bool = true;
    /// Seven digits or more, or digits in groups (`415-`, `415)`).
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = w.digits >= 7 || w.sep_next || w.after_digits() == Some(b')');
        shape.then(|| match_at(w.t, w.start)).flatten()
    }
    const STOPS: &'static [u8] = b"+(";
    /// At `+`: E.164; at `(`: a North American area code.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let end = match at(t, i) {
            Some(b'+') => match_plus(t, i),
            _ => match_at(t, i),
        };
        Stop::claim(i, end)
    }
}

const CUES: &[&str] = &[
    "phone", "tel", "mobile", "cell", "fax", "sms", "whatsapp", "call me", "call us",
];

/// Digit groups read from a start: digit values and group lengths.
struct Groups {
    digits: [u8; 15],
    n: usize,
    /// Length of each group, at most 8 groups.
    lens: [u8; 8],
    count: usize,
    end: usize,
    sep: Option<Sep>,
    /// Separators differ between groups.
    mixed: bool,
}

impl Groups {
    fn lens(&self) -> &[u8] {
        self.lens.get(..self.count).unwrap_or_default()
    }

    fn digit(&self, i: usize) -> u8 {
        self.digits.get(i).copied().unwrap_or(0)
    }
}

/// Reads digit groups joined by single separators (space, dash, dot) or by `) ` after a
/// parenthesised group. None if there are more than 15 digits or 8 groups.
fn read_groups(t: &[u8], start: usize) -> Option<Groups> {
    let mut g = Groups {
        digits: [0; 15],
        n: 0,
        lens: [0; 8],
        count: 0,
        end: start,
        sep: None,
        mixed: false,
    };
    let mut i = start;
    loop {
        let opened = at(t, i) == Some(b'(');
        if opened {
            i += 1;
        }
        let group_start = i;
        while let Some(d) = digit(t, i) {
            *g.digits.get_mut(g.n)? = d;
            g.n += 1;
            i += 1;
        }
        if i == group_start {
            return None;
        }
        *g.lens.get_mut(g.count)? = u8::try_from(i - group_start).ok()?;
        g.count += 1;
        if opened {
            if at(t, i) != Some(b')') {
                return None;
            }
            i += 1;
        }
        g.end = i;
        let (sep, len) = match sep_at(t, i) {
            Some(s) => s,
            None if opened && digit(t, i).is_some() => (Sep::Space, 0), // "(415)555-2671"
            None if at(t, i) == Some(b'(') && before(t, i).is_some_and(|b| b == b' ') => {
                (Sep::Space, 0)
            }
            None => break,
        };
        let next = i + len;
        if digit(t, next).is_none() && at(t, next) != Some(b'(') {
            break;
        }
        if !opened && len > 0 {
            match g.sep {
                Some(s) if s != sep => g.mixed = true,
                _ => g.sep = Some(sep),
            }
        }
        i = next;
    }
    Some(g)
}

/// Not glued to more digits on the right, and not the tail of a longer chain on the left. The
/// end of a time (`12:37:50 415-555-2671`, `+01:00 …`) is not a chain the number belongs to.
fn standalone(t: &[u8], start: usize, end: usize) -> bool {
    let right = digit(t, end).is_some()
        || (at(t, end) == Some(b'.') && digit(t, end + 1).is_some())
        || sep_at(t, end).is_some_and(|(_, len)| digit(t, end + len).is_some());
    let left = sep_before(t, start).is_some_and(|(_, len)| {
        let Some(last) = start
            .checked_sub(len + 1)
            .filter(|&p| digit(t, p).is_some())
        else {
            return false;
        };
        let mut first = last;
        while first > 0 && digit(t, first - 1).is_some() {
            first -= 1;
        }
        before(t, first) != Some(b':')
    });
    !right && !left
}

/// `2026-01-23`, `23.01.2026`, `2026 01 23 12 34`: dates and times are the digit groups most
/// often taken for phone numbers.
fn looks_like_date_or_time(g: &Groups) -> bool {
    let lens = g.lens();
    let year_first = g
        .digits
        .get(..4)
        .is_some_and(|y| matches!(y, [1, 9, _, _] | [2, 0, _, _]));
    match lens {
        [4, 2, 2, ..] => year_first,
        [2, 2, 4, ..] => true,
        _ => lens.iter().all(|&l| l == 2),
    }
}

/// NANP area code or exchange: `[2-9]xx`, and not `x11` (service codes).
fn nanp_code(d: &[u8]) -> bool {
    matches!(d, [a, b, c] if *a >= 2 && !(*b == 1 && *c == 1))
}

fn nanp(digits: &[u8]) -> bool {
    let ten = match digits {
        [1, rest @ ..] if rest.len() == 10 => rest,
        d if d.len() == 10 => d,
        _ => return false,
    };
    // Area codes never have 9 in the middle.
    ten.get(0..3)
        .is_some_and(|a| nanp_code(a) && a.get(1) != Some(&9))
        && ten.get(3..6).is_some_and(nanp_code)
}

/// At a `+` (not preceded by a word character): an E.164 number.
pub(super) fn match_plus(t: &[u8], plus: usize) -> Option<usize> {
    if before(t, plus).is_some_and(is_word) || digit(t, plus + 1).is_none_or(|d| d == 0) {
        return None;
    }
    let g = read_groups(t, plus + 1)?;
    // The `+` is cue enough: separators may differ (`+1 415-555-2671`).
    ((8..=15).contains(&g.n) && standalone(t, plus, g.end)).then_some(g.end)
}

/// At a `(` or a digit that starts a word: a North American number, or a cued one.
pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    // A short number with nothing that could continue it is not a phone number: most digit
    // words end here.
    let first = run_end(t, start, |b| b.is_ascii_digit()) - start;
    if first > 0
        && first < 7
        && !matches!(
            at(t, start + first),
            Some(b' ' | b'-' | b'.' | b')' | 0xE2 | 0xEF)
        )
    {
        return None;
    }
    let g = read_groups(t, start)?;
    if looks_like_date_or_time(&g) {
        return None;
    }
    // Cheap structure first: most digit words are short numbers, and the cue look-up is the
    // expensive part.
    if g.n < 7
        || !standalone(t, start, g.end)
        || g.count < 2 && !has_cue_around(t, start, g.end, CUES)
    {
        return None;
    }
    let digits = g.digits.get(..g.n)?;
    let lens = g.lens();
    let parenthesised = at(t, start) == Some(b'(');
    let formatted_nanp = !g.mixed
        && nanp(digits)
        && match lens {
            [3, 3, 4] => true,
            [1, 3, 3, 4] => g.digit(0) == 1,
            _ => false,
        };
    if formatted_nanp || (parenthesised && nanp(digits) && matches!(lens, [3, 3, 4])) {
        return Some(g.end);
    }
    ((7..=15).contains(&g.n) && has_cue_around(t, start, g.end, CUES)).then_some(g.end)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    fn phone(text: &str) -> Option<&str> {
        let start = text.find(|c: char| c.is_ascii_digit() || c == '+' || c == '(')?;
        let end = if text.as_bytes()[start] == b'+' {
            match_plus(text.as_bytes(), start)?
        } else {
            match_at(text.as_bytes(), start)?
        };
        Some(&text[start..end])
    }

    #[test]
    fn e164() {
        assert_eq!(phone("call +41 44 668 18 00 now"), Some("+41 44 668 18 00"));
        assert_eq!(phone("+14155552671"), Some("+14155552671"));
        assert_eq!(phone("+1 (415) 555-2671"), Some("+1 (415) 555-2671"));
        assert_eq!(phone("+44 20 7946 0958."), Some("+44 20 7946 0958"));
        assert_eq!(phone("+1234"), None);
        assert_eq!(phone("+0 44 668 18 00"), None);
        assert_eq!(phone("1+23456789012"), None);
    }

    #[test]
    fn north_american() {
        assert_eq!(phone("(415) 555-2671"), Some("(415) 555-2671"));
        assert_eq!(phone("415-555-2671"), Some("415-555-2671"));
        assert_eq!(phone("415.555.2671"), Some("415.555.2671"));
        assert_eq!(phone("1-415-555-2671"), Some("1-415-555-2671"));
        assert_eq!(phone("123-555-2671"), None, "area code starts with 1");
        assert_eq!(phone("411-555-2671"), None, "N11");
        assert_eq!(phone("415-155-2671"), None, "exchange starts with 1");
        assert_eq!(phone("4155552671"), None, "bare: needs a cue");
    }

    #[test]
    fn after_a_time() {
        let t = b"12:37:50 415-555-2671";
        assert_eq!(
            match_at(t, 9),
            Some(t.len()),
            "a time is not part of the chain"
        );
        let t = b"12 37 50 415-555-2671";
        assert_eq!(match_at(t, 9), None, "digit groups before it are");
    }

    #[test]
    fn cued() {
        assert_eq!(phone(r#"{"phone": "4155552671"}"#), Some("4155552671"));
        assert_eq!(phone("Tel. 020 7946 0958"), Some("020 7946 0958"));
        assert_eq!(phone("mobile: 0612345678"), Some("0612345678"));
        assert_eq!(phone(r#"{"order": "0612345678"}"#), None);
        assert_eq!(phone("phone 12345"), None, "too short");
    }

    #[test]
    fn not_dates_or_versions() {
        assert_eq!(phone("2026-01-23"), None);
        assert_eq!(phone("tel 1.2.3"), None);
        assert_eq!(phone("415-555-2671-99"), None);
    }
}
