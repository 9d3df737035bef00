//! Phone numbers.
//!
//! - E.164 (`+`, a country code, the national significant number; spaces, dashes, dots, one
//!   parenthesised group, a `(0)` trunk prefix: `+41 44 668 18 00`, `+44 (0)20 7946 0958`,
//!   `+1 (415) 555-2671`): the country code must be one ITU-T E.164 assigns and the national
//!   number one of the lengths that country uses ([`COUNTRY_CODES`]).
//! - North American numbers written the usual ways (`(415) 555-2671`, `415-555-2671`,
//!   `415.555.2671`, `1-415-555-2671`) with a valid area code and exchange.
//! - National numbers printed as their countries print them, where the print is distinctive
//!   ([`distinctive_national`]: `090-1234-5678`, `09-7625400`, `(11) 91234-5678`,
//!   `8 (495) 123-45-67`, `138 1234 5678`).
//! - Any other run of 7 to 15 digits, grouped or not, only next to a cue (`phone`, `tel`,
//!   `mobile`, `Handy`, `celular`, `téléphone`, `电话`, `手机`, `電話`, `телефон`, `전화`,
//!   `טלפון`, `फ़ोन`, ...), so that order numbers, ids and timestamps are not.

use super::catalogue::{BuiltIn, DigitWord, Stop};
use super::text::{
    at, before, digit, has_bytes_cue_around, has_cue_around, is_word, run_end, sep_at, sep_before,
    Sep,
};

pub(super) struct Phone;

impl BuiltIn for Phone {
    const NAME: &'static str = "phone";
    const FINDS: &'static str = "E.164 (`+`, an ITU-T country code and a national number of a length that country uses, any single separators, one parenthesised group, a `(0)` trunk prefix); North American numbers written the usual ways (`(415) 555-2671`, `415-555-2671`, `415.555.2671`, `1-415-555-2671`) with a valid area code and exchange; national numbers in their country's distinctive print (`090-1234-5678`, `09-7625400`, `(11) 91234-5678`, `8 (495) 123-45-67`, `138 1234 5678`); any other 7 to 15 digits, grouped or not, only next to a cue (`phone`, `tel`, `mobile`, `cell`, `fax`, `call`, `Handy`, `celular`, `téléphone`, `portable`, `电话`, `手机`, `電話`, `携帯`, `телефон`, `전화`, `טלפון`, `फ़ोन`, ...). Dates and times are not phone numbers.";
    const DIGIT_WORD: bool = true;
    /// Seven digits or more, or digits in groups (`415-`, `415)`).
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = w.digits >= 7 || w.sep_next || w.after_digits() == Some(b')');
        shape.then(|| match_at(w.t, w.start)).flatten()
    }
    const STOPS: &'static [u8] = b"+(";
    /// At `+`: E.164; at `(`: an area code.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let end = match at(t, i) {
            Some(b'+') => match_plus(t, i),
            _ => match_at(t, i),
        };
        Stop::claim(i, end)
    }
}

/// Cue words that start with an ASCII letter, compared at the start of a word without regard
/// to case (`tel` is also `Telefon`, `telefone`, `teléfono`, `telepon`; `mobil` is also
/// `mobile`, `Mobilnummer`).
const CUES: &[&str] = &[
    "phone",
    "tel",
    "mobil",
    "cell",
    "celular",
    "fax",
    "sms",
    "whatsapp",
    "call ",
    "call:",
    "call\"",
    "handy",
    "rufnummer",
    "portable",
    "t\u{e9}l",
    "m\u{f3}vil",
    "ponsel",
];

/// Cue words in other scripts, looked for as bytes: Japanese (電話, 携帯), Chinese (电话, 手机,
/// 手機), Hindi (फ़ोन with the nukta composed or not, फोन, मोबाइल), Russian (телефон, тел., моб.),
/// Korean (전화, 휴대폰, 핸드폰), Hebrew (טלפון, נייד), Arabic (هاتف, جوال), Thai (โทร).
const SCRIPT_CUES: &[&str] = &[
    "\u{96fb}\u{8a71}",
    "\u{643a}\u{5e2f}",
    "\u{7535}\u{8bdd}",
    "\u{624b}\u{673a}",
    "\u{624b}\u{6a5f}",
    "\u{92b}\u{93c}\u{94b}\u{928}",
    "\u{95e}\u{94b}\u{928}",
    "\u{92b}\u{94b}\u{928}",
    "\u{92e}\u{94b}\u{92c}\u{93e}\u{907}\u{932}",
    "\u{442}\u{435}\u{43b}\u{435}\u{444}\u{43e}\u{43d}",
    "\u{442}\u{435}\u{43b}.",
    "\u{43c}\u{43e}\u{431}.",
    "\u{c804}\u{d654}",
    "\u{d734}\u{b300}\u{d3f0}",
    "\u{d578}\u{b4dc}\u{d3f0}",
    "\u{5d8}\u{5dc}\u{5e4}\u{5d5}\u{5df}",
    "\u{5e0}\u{5d9}\u{5d9}\u{5d3}",
    "\u{647}\u{627}\u{62a}\u{641}",
    "\u{62c}\u{648}\u{627}\u{644}",
    "\u{e42}\u{e17}\u{e23}",
];

fn cued(t: &[u8], start: usize, end: usize) -> bool {
    has_cue_around(t, start, end, CUES) || has_bytes_cue_around(t, start, end, SCRIPT_CUES)
}

/// ITU-T E.164 country codes (ITU-T Recommendation E.164 assigned country codes, the annex to
/// the ITU Operational Bulletin; the non-geographic codes 800, 808, 870, 878, 881..883, 888 and
/// 979 included), each with the lengths of the national significant numbers its countries use:
/// bit `k` set when `k` digits follow the country code. Lengths from Google's libphonenumber
/// metadata (`PhoneNumberMetadata.xml`, `generalDesc/possibleLengths/@national` of every
/// region that shares the code; release 9.0), except +1, whose E.164 numbers always have 10
/// digits, and lengths that would pass E.164's 15 digits. Sorted by code.
const COUNTRY_CODES: &[(u16, u16)] = &[
    (1, 0x0400),
    (7, 0x4400),
    (20, 0x0700),
    (27, 0x07E0),
    (30, 0x1C00),
    (31, 0x0FE0),
    (32, 0x0300),
    (33, 0x0200),
    (34, 0x0200),
    (36, 0x0300),
    (39, 0x1FC0),
    (40, 0x0240),
    (41, 0x1200),
    (43, 0x3FF0),
    (44, 0x0680),
    (45, 0x0100),
    (46, 0x17C0),
    (47, 0x0120),
    (48, 0x07C0),
    (49, 0x3FF0),
    (51, 0x0300),
    (52, 0x0400),
    (53, 0x05C0),
    (54, 0x0C00),
    (55, 0x0F00),
    (56, 0x0E00),
    (57, 0x0D00),
    (58, 0x0400),
    (60, 0x0700),
    (61, 0x17E0),
    (62, 0x3F80),
    (63, 0x3F40),
    (64, 0x07E0),
    (65, 0x0D00),
    (66, 0x2700),
    (81, 0x3F00),
    (82, 0x3F60),
    (84, 0x0780),
    (86, 0x1F80),
    (90, 0x3480),
    (91, 0x3F00),
    (92, 0x1F00),
    (93, 0x0200),
    (94, 0x0200),
    (95, 0x07C0),
    (98, 0x04F0),
    (211, 0x0200),
    (212, 0x0200),
    (213, 0x0300),
    (216, 0x0100),
    (218, 0x0200),
    (220, 0x0280),
    (221, 0x0200),
    (222, 0x0100),
    (223, 0x0100),
    (224, 0x0300),
    (225, 0x0400),
    (226, 0x0100),
    (227, 0x0100),
    (228, 0x0100),
    (229, 0x0400),
    (230, 0x0580),
    (231, 0x0380),
    (232, 0x0100),
    (233, 0x0300),
    (234, 0x1C00),
    (235, 0x0100),
    (236, 0x0100),
    (237, 0x0300),
    (238, 0x0080),
    (239, 0x0080),
    (240, 0x0200),
    (241, 0x0180),
    (242, 0x0200),
    (243, 0x0780),
    (244, 0x0200),
    (245, 0x0280),
    (246, 0x0080),
    (247, 0x0060),
    (248, 0x0080),
    (249, 0x0200),
    (250, 0x0300),
    (251, 0x0200),
    (252, 0x03C0),
    (253, 0x0100),
    (254, 0x0780),
    (255, 0x0200),
    (256, 0x0200),
    (257, 0x0100),
    (258, 0x0300),
    (260, 0x0200),
    (261, 0x0200),
    (262, 0x0200),
    (263, 0x0680),
    (264, 0x0300),
    (265, 0x0280),
    (266, 0x0100),
    (267, 0x0580),
    (268, 0x0300),
    (269, 0x0080),
    (290, 0x0030),
    (291, 0x0080),
    (297, 0x0080),
    (298, 0x0040),
    (299, 0x0040),
    (350, 0x0100),
    (351, 0x0200),
    (352, 0x0FF0),
    (353, 0x0780),
    (354, 0x0280),
    (355, 0x03C0),
    (356, 0x0100),
    (357, 0x0100),
    (358, 0x1FE0),
    (359, 0x13C0),
    (370, 0x0100),
    (371, 0x0100),
    (372, 0x0580),
    (373, 0x0100),
    (374, 0x0100),
    (375, 0x0FC0),
    (376, 0x0340),
    (377, 0x0300),
    (378, 0x0500),
    (380, 0x0600),
    (381, 0x1FC0),
    (382, 0x0300),
    (383, 0x1F00),
    (385, 0x0380),
    (386, 0x01E0),
    (387, 0x0300),
    (389, 0x0100),
    (420, 0x1E00),
    (421, 0x02C0),
    (423, 0x0280),
    (500, 0x0020),
    (501, 0x0880),
    (502, 0x0900),
    (503, 0x0980),
    (504, 0x0900),
    (505, 0x0100),
    (506, 0x0500),
    (507, 0x0D80),
    (508, 0x0240),
    (509, 0x0100),
    (590, 0x0200),
    (591, 0x0300),
    (592, 0x0080),
    (593, 0x0F00),
    (594, 0x0200),
    (595, 0x0FC0),
    (596, 0x0200),
    (597, 0x00C0),
    (598, 0x1FF0),
    (599, 0x0180),
    (670, 0x0180),
    (672, 0x0040),
    (673, 0x0080),
    (674, 0x0080),
    (675, 0x0180),
    (676, 0x00A0),
    (677, 0x00A0),
    (678, 0x00A0),
    (679, 0x0880),
    (680, 0x0080),
    (681, 0x0240),
    (682, 0x0020),
    (683, 0x0090),
    (685, 0x04E0),
    (686, 0x0120),
    (687, 0x0040),
    (688, 0x00E0),
    (689, 0x0340),
    (690, 0x00F0),
    (691, 0x0080),
    (692, 0x0080),
    (800, 0x0100),
    (808, 0x0100),
    (850, 0x0500),
    (852, 0x0BE0),
    (853, 0x0180),
    (855, 0x0700),
    (856, 0x0700),
    (870, 0x1200),
    (878, 0x1000),
    (880, 0x07C0),
    (881, 0x0600),
    (882, 0x1F80),
    (883, 0x1F00),
    (886, 0x0F80),
    (888, 0x0800),
    (960, 0x0480),
    (961, 0x0180),
    (962, 0x0300),
    (963, 0x0300),
    (964, 0x0700),
    (965, 0x0180),
    (966, 0x0600),
    (967, 0x0380),
    (968, 0x0380),
    (970, 0x0700),
    (971, 0x1FE0),
    (972, 0x1F80),
    (973, 0x0100),
    (974, 0x0B80),
    (975, 0x0180),
    (976, 0x0700),
    (977, 0x0D00),
    (979, 0x0200),
    (992, 0x0200),
    (993, 0x0100),
    (994, 0x0200),
    (995, 0x0200),
    (996, 0x0600),
    (998, 0x0200),
];

/// The national number lengths of the country code that starts `digits`, with that code's
/// length. Country codes are a prefix code: at most one of the first 1, 2, 3 digits is one.
fn country_code(digits: &[u8]) -> Option<(usize, u16)> {
    let mut cc = 0u16;
    for (k, &d) in digits.iter().take(3).enumerate() {
        cc = cc * 10 + u16::from(d);
        if let Ok(p) = COUNTRY_CODES.binary_search_by_key(&cc, |&(c, _)| c) {
            return COUNTRY_CODES.get(p).map(|&(_, lens)| (k + 1, lens));
        }
    }
    None
}

/// At most this many digits are read (a `(0)` trunk prefix and E.164's 15).
const MAX_DIGITS: usize = 16;
const MAX_GROUPS: usize = 8;

/// Digit groups read from a start: digit values, group lengths, the separators between them.
struct Groups {
    digits: [u8; MAX_DIGITS],
    n: usize,
    lens: [u8; MAX_GROUPS],
    count: usize,
    end: usize,
    /// The separator after the first unparenthesised group.
    sep: Option<Sep>,
    /// Separators differ between groups (a `/` counts as a different one).
    mixed: bool,
    /// The separator before each group: `b' '`, `b'-'` (unicode dashes too), `b'.'`, `b'/'`,
    /// or 0 (none, or after a parenthesised group).
    seps: [u8; MAX_GROUPS],
    /// Bit `k`: group `k` is parenthesised.
    paren: u8,
    /// The digit index of a `(0)` group (a trunk prefix written after a country code).
    trunk_zero: Option<usize>,
}

impl Groups {
    fn lens(&self) -> &[u8] {
        self.lens.get(..self.count).unwrap_or_default()
    }

    fn digit(&self, i: usize) -> u8 {
        self.digits.get(i).copied().unwrap_or(0)
    }

    /// The separators between groups (the first group's slot is always 0).
    fn seps(&self) -> &[u8] {
        self.seps.get(1..self.count).unwrap_or_default()
    }
}

/// Reads digit groups joined by single separators (space, dash, dot), by `) ` after a
/// parenthesised group, or by `/` after a first group that starts with 0 (`030/1234567`).
/// None if there are more than 16 digits or 8 groups.
fn read_groups(t: &[u8], start: usize) -> Option<Groups> {
    let mut g = Groups {
        digits: [0; MAX_DIGITS],
        n: 0,
        lens: [0; MAX_GROUPS],
        count: 0,
        end: start,
        sep: None,
        mixed: false,
        seps: [0; MAX_GROUPS],
        paren: 0,
        trunk_zero: None,
    };
    let mut i = start;
    let mut sep_byte = 0u8;
    loop {
        let opened = at(t, i) == Some(b'(');
        if opened {
            i += 1;
        }
        let group_start = i;
        let first_digit = g.n;
        while let Some(d) = digit(t, i) {
            *g.digits.get_mut(g.n)? = d;
            g.n += 1;
            i += 1;
        }
        if i == group_start {
            return None;
        }
        *g.lens.get_mut(g.count)? = u8::try_from(i - group_start).ok()?;
        *g.seps.get_mut(g.count)? = sep_byte;
        if opened {
            if at(t, i) != Some(b')') {
                return None;
            }
            i += 1;
            g.paren |= 1 << g.count;
            if i - group_start == 2 && g.digit(first_digit) == 0 && g.count > 0 {
                g.trunk_zero = Some(first_digit);
            }
        }
        g.count += 1;
        g.end = i;
        let (sep, len) = match sep_at(t, i) {
            Some(s) => s,
            None if opened && digit(t, i).is_some() => (Sep::Space, 0), // "(415)555-2671"
            None if at(t, i) == Some(b'(') && before(t, i).is_some_and(|b| b == b' ') => {
                (Sep::Space, 0)
            }
            None if at(t, i) == Some(b'/')
                && g.count == 1
                && g.digit(0) == 0
                && digit(t, i + 1).is_some() =>
            {
                g.mixed = true;
                sep_byte = b'/';
                i += 1;
                continue;
            }
            None => break,
        };
        let next = i + len;
        if digit(t, next).is_none() && at(t, next) != Some(b'(') {
            break;
        }
        sep_byte = match (len, sep) {
            (0, _) => 0,
            (_, Sep::Space) => b' ',
            (_, Sep::Dash) => b'-',
            (_, Sep::Dot) => b'.',
        };
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

/// A field or a phrase around the number, not a name, path or identifier it is part of
/// (`file_01-2345678.log`, `/v2/09-7625400`, `#01-2345678`): what a number found without a
/// cue must stand in.
fn delimited(t: &[u8], start: usize, end: usize) -> bool {
    let left = before(t, start).is_none_or(|b| {
        matches!(
            b,
            b' ' | b'"' | b'\'' | b':' | b'=' | b'(' | b'[' | b'>' | b',' | b'\t' | b'\n'
        ) || b >= 0x80
    });
    let right = at(t, end).is_none_or(|b| match b {
        b'.' => !at(t, end + 1).is_some_and(is_word),
        b'_' | b'-' | b'/' | b'@' => false,
        _ => !is_word(b),
    });
    left && right
}

/// `2026-01-23`, `23.01.2026`, `2026 01 23 12 34`: dates and times are the digit groups most
/// often taken for phone numbers. Five pairs that start with `0` and a non-zero digit are a
/// French number (`06 12 34 56 78`), not a date.
fn looks_like_date_or_time(g: &Groups) -> bool {
    let lens = g.lens();
    let year_first = g
        .digits
        .get(..4)
        .is_some_and(|y| matches!(y, [1, 9, _, _] | [2, 0, _, _]));
    match lens {
        [4, 2, 2, ..] => year_first,
        [2, 2, 4, ..] => true,
        [2, 2, 2, 2, 2] if g.digit(0) == 0 && g.digit(1) != 0 => false,
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

/// National numbers printed the way their countries print them, distinctive enough to be
/// phone numbers without a cue (as a formatted North American number is). The shapes are the
/// national formats of libphonenumber's metadata (`availableFormats`) for:
/// - a trunk `0` and dashes (Japan `090-1234-5678`, `03-1234-5678`, `0466-12-3456`; Korea
///   `010-1234-5678`, `02-123-4567`; Israel `09-7625400`, `050-1234567`; China
///   `010-12345678`, `0755-1234567`; Indonesia `0812-3456-7890`): two groups, the second of
///   7 or 8 digits, or three, the last of 4, 9 to 12 digits in all;
/// - Chinese mobile numbers in 3-4-4 (`138 1234 5678`, `138-1234-5678`);
/// - Russian numbers ending in `ddd-dd-dd` (`(495) 123-45-67`, `8 (495) 123-45-67`,
///   `8-912-345-67-89`);
/// - a parenthesised area code (Brazil `(11) 91234-5678`, Mexico `(55) 1234-5678`, with a
///   trunk `0`: Indonesia `(021) 1234 5678`, Germany `(030) 1234567`).
fn distinctive_national(g: &Groups) -> bool {
    let lens = g.lens();
    let seps = g.seps();
    let (d0, d1) = (g.digit(0), g.digit(1));
    let paren_first = g.paren & 1 != 0;
    let all = |s: u8| !seps.is_empty() && seps.iter().all(|&x| x == s);
    let trunk = d0 == 0 && d1 != 0;
    let dashed_tail = matches!(seps, [.., b'-', b'-']);
    match *lens {
        [3, 3, 2, 2] if d0 >= 3 && dashed_tail && g.paren & !1 == 0 => return true,
        [1, 3, 3, 2, 2] if matches!(d0, 7 | 8) && d1 >= 3 && dashed_tail && g.paren & !2 == 0 => {
            return true
        }
        _ => {}
    }
    if g.paren & !1 != 0 {
        return false; // only an area code is parenthesised
    }
    if !paren_first && trunk && all(b'-') {
        return match *lens {
            [a, b] => (2..=4).contains(&a) && (7..=8).contains(&b),
            [a, b, 4] => (2..=5).contains(&a) && (1..=4).contains(&b) && (9..=12).contains(&g.n),
            _ => false,
        };
    }
    if !paren_first && matches!(lens, [3, 4, 4]) && d0 == 1 && d1 >= 3 {
        return all(b'-') || all(b' ');
    }
    if !paren_first {
        return false;
    }
    let rest_seps_ok = seps.iter().skip(1).all(|&s| matches!(s, b'-' | b' '));
    match *lens {
        [2, 4 | 5, 4] => d0 != 0 && d1 != 0 && rest_seps_ok,
        [a, ref rest @ ..] => {
            d0 == 0
                && (3..=5).contains(&a)
                && matches!(rest.len(), 1 | 2)
                && rest.last().is_some_and(|&l| l >= 3)
                && (9..=12).contains(&g.n)
                && rest_seps_ok
        }
        _ => false,
    }
}

/// At a `+` (not preceded by a word character): an E.164 number, whose country code is one
/// the ITU assigns and whose national number has a length that country uses.
pub(super) fn match_plus(t: &[u8], plus: usize) -> Option<usize> {
    if before(t, plus).is_some_and(is_word) || digit(t, plus + 1).is_none_or(|d| d == 0) {
        return None;
    }
    let g = read_groups(t, plus + 1)?;
    let (cc_len, lengths) = country_code(g.digits.get(..g.n)?)?;
    // `+44 (0)20 …`: the trunk prefix is not dialled from abroad.
    let trunk = match g.trunk_zero {
        Some(k) if k == cc_len => 1,
        Some(_) => return None,
        None => 0,
    };
    let national = g.n.checked_sub(cc_len + trunk)?;
    let fits = national < 16 && lengths & (1 << national) != 0;
    // The `+` is cue enough: separators may differ (`+1 415-555-2671`).
    (fits && (7..=15).contains(&(cc_len + national)) && standalone(t, plus, g.end)).then_some(g.end)
}

/// At a `(` or a digit that starts a word: a North American number, a national number in its
/// distinctive print, or a cued one.
pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    // A short number with nothing that could continue it is not a phone number: most digit
    // words end here.
    let first = run_end(t, start, |b| b.is_ascii_digit()) - start;
    if first > 0
        && first < 7
        && !matches!(
            at(t, start + first),
            Some(b' ' | b'-' | b'.' | b')' | b'/' | 0xE2 | 0xEF)
        )
    {
        return None;
    }
    let g = read_groups(t, start)?;
    if g.trunk_zero.is_some() || looks_like_date_or_time(&g) {
        return None;
    }
    // Cheap structure first: most digit words are short numbers, and the cue look-up is the
    // expensive part.
    if !(7..=15).contains(&g.n) || !standalone(t, start, g.end) {
        return None;
    }
    if g.count < 2 {
        return cued(t, start, g.end).then_some(g.end);
    }
    let digits = g.digits.get(..g.n)?;
    let lens = g.lens();
    let parenthesised = g.paren & 1 != 0;
    let formatted_nanp = !g.mixed
        && g.paren == 0
        && nanp(digits)
        && match lens {
            [3, 3, 4] => true,
            [1, 3, 3, 4] => g.digit(0) == 1,
            _ => false,
        };
    let paren_nanp = parenthesised && g.paren == 1 && nanp(digits) && matches!(lens, [3, 3, 4]);
    if formatted_nanp || paren_nanp || distinctive_national(&g) && delimited(t, start, g.end) {
        return Some(g.end);
    }
    cued(t, start, g.end).then_some(g.end)
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

    /// Every country code, with the lengths its countries use.
    #[test]
    fn e164_every_country_code() {
        for (text, want) in [
            ("+81 90-1234-5678", true),    // Japan, 10
            ("+86 138 1234 5678", true),   // China, 11
            ("+91 98765 43210", true),     // India, 10
            ("+55 11 91234-5678", true),   // Brazil, 11
            ("+49 30 12345678", true),     // Germany, 10
            ("+33 6 12 34 56 78", true),   // France, 9
            ("+52 55 1234 5678", true),    // Mexico, 10
            ("+62 812-3456-7890", true),   // Indonesia, 11
            ("+7 (495) 123-45-67", true),  // Russia, 10
            ("+82 10-1234-5678", true),    // Korea, 10
            ("+972 9-762-5400", true),     // Israel, 8
            ("+44 (0)20 7946 0958", true), // UK, trunk prefix written
            ("+49 (0)30 1234567", true),
            ("+49 (0) 30 1234567", true),
            ("+49 30 (0) 1234567", false), // a trunk prefix right after the code only
            ("+683 4002", true),           // Niue, 4
            ("+800 1234 5678", true),      // International Freephone, 8
            ("+299 123456", true),         // Greenland, 6
            ("+33 1234 5678", false),      // France: 9 digits, not 8
            ("+1 555 1234", false),        // NANP: 10
            ("+86 400000", false),         // China: not 6
            ("+44 (0)20 7946 09588", false),
            ("+28 1234 5678", false), // no such country code
            ("+3600000", false),      // Hungary: not 5
            ("+1048576", false),
        ] {
            assert_eq!(phone(text).is_some(), want, "{text}");
        }
        assert_eq!(
            phone("+44 (0)20 7946 0958, ok"),
            Some("+44 (0)20 7946 0958")
        );
        assert_eq!(country_code(&[3, 5, 1, 2]), Some((3, 1 << 9)));
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        assert!(COUNTRY_CODES.len() > 200);
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
        assert_eq!(phone("(123) 456-7890"), None, "area code starts with 1");
    }

    /// Issue 11: national numbers of the largest countries.
    #[test]
    fn national_formats() {
        // Distinctive prints: found without a cue.
        for n in [
            "090-1234-5678",  // Japan, mobile
            "03-1234-5678",   // Japan, Tokyo
            "0466-12-3456",   // Japan, 4-digit area code
            "09-7625400",     // Israel
            "050-1234567",    // Israel, mobile
            "010-1234-5678",  // Korea, mobile
            "02-123-4567",    // Korea, Seoul
            "010-12345678",   // China, Beijing
            "0755-1234567",   // China, Shenzhen
            "138 1234 5678",  // China, mobile
            "138-1234-5678",  // China, mobile
            "0812-3456-7890", // Indonesia, mobile
            "(11) 91234-5678",
            "(11) 3456-7890",
            "(55) 1234-5678",
            "(021) 1234 5678",
            "(030) 1234567",
            "(495) 123-45-67",
            "495 123-45-67",
            "8 (495) 123-45-67",
            "8-912-345-67-89",
        ] {
            assert_eq!(phone(&format!("x {n} y")), Some(n), "{n}");
            assert_eq!(phone(&format!(r#"{{"n":"{n}"}}"#)), Some(n), "{n}");
        }
        // Not without a cue: compact, or prints other numbers share.
        for n in [
            "13812345678",
            "9876543210",
            "98765 43210",
            "020 7946 0958",
            "030 12345678",
            "06 12 34 56 78",
            "55 1234 5678",
            "0812 3456 7890",
            "0711-0130-7",
            "01-23",
            "1-2345678",
            "0-1234567",
            "123-4567890",
            "(2024) 1234-5678",
        ] {
            assert_eq!(phone(&format!("x {n} y")), None, "{n}");
        }
        // Part of a name, path or identifier: not a number on its own.
        for text in [
            "file_01-2345678.log",
            "/v2/09-7625400/x",
            "#01-2345678",
            "id-090-1234-5678",
            "090-1234-5678_b",
            "090-1234-5678.txt",
        ] {
            let start = text.find(|c: char| c.is_ascii_digit()).unwrap();
            assert_eq!(match_at(text.as_bytes(), start), None, "{text}");
        }
        // With a cue, in English or in the country's language.
        for (text, n) in [
            ("\u{624b}\u{673a}\u{ff1a}13812345678", "13812345678"),
            ("\u{7535}\u{8bdd} 13812345678", "13812345678"),
            ("phone: 13812345678", "13812345678"),
            (
                "\u{96fb}\u{8a71}\u{756a}\u{53f7} 09012345678",
                "09012345678",
            ),
            ("\u{643a}\u{5e2f}: 090 1234 5678", "090 1234 5678"),
            ("\u{92b}\u{93c}\u{94b}\u{928}: 98765 43210", "98765 43210"),
            (
                "\u{91f}\u{947}\u{932}\u{940}\u{95e}\u{94b}\u{928} 9876543210",
                "9876543210",
            ),
            ("telefone: 11 91234 5678", "11 91234 5678"),
            ("celular 11912345678", "11912345678"),
            ("Telefon: 030 12345678", "030 12345678"),
            ("Handy 0151 23456789", "0151 23456789"),
            ("Tel.: 030/1234567", "030/1234567"),
            ("t\u{e9}l\u{e9}phone : 01 23 45 67 89", "01 23 45 67 89"),
            ("portable 06.12.34.56.78", "06.12.34.56.78"),
            ("tel 020 7946 0958", "020 7946 0958"),
            ("mobile 07700 900123", "07700 900123"),
            ("tel\u{e9}fono 55 1234 5678", "55 1234 5678"),
            (
                "\u{442}\u{435}\u{43b}\u{435}\u{444}\u{43e}\u{43d} 8 912 345 67 89",
                "8 912 345 67 89",
            ),
            ("\u{c804}\u{d654} 01012345678", "01012345678"),
            (
                "\u{5d8}\u{5dc}\u{5e4}\u{5d5}\u{5df}: 0501234567",
                "0501234567",
            ),
            ("telepon 0812 3456 7890", "0812 3456 7890"),
            ("call 0612345678 tomorrow", "0612345678"),
            ("13812345678 \u{624b}\u{673a}", "13812345678"),
        ] {
            assert_eq!(phone(text), Some(n), "{text}");
        }
        // Not cues: words that contain one.
        for text in [
            "callback 0612345678",
            "calls: 1234567",
            "\u{430}\u{432}\u{442}\u{43e}\u{43c}\u{43e}\u{431}. 12345678",
            "hotel 0612345678",
        ] {
            assert_eq!(phone(text), None, "{text}");
        }
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
        assert_eq!(phone("tel 12 34 56 78 90"), None, "pairs");
        assert_eq!(phone("09-11-2001"), None);
    }
}
