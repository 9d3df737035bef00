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
use super::id_cue;
use super::text::{
    at, before, digit, has_bytes_cue_around, has_strict_word_cue_around, has_word_cue,
    has_word_cue_around_from, has_word_cue_in, has_word_cue_within, is_word, lead_bytes, run_end,
    sep_at, sep_before, word_start_at, Sep, WordCues,
};

pub(super) struct Phone;

impl BuiltIn for Phone {
    const NAME: &'static str = "phone";
    const FINDS: &'static str = "E.164 (`+`, or `00`/`011` in a group of their own, or `(+44)`; an ITU-T country code and a national number of a length that country uses, any single separators, one parenthesised group, a `(0)` trunk prefix; +1 with a valid area code and exchange; not a `+` that is a sign: a diff line, after an operand, before a unit); North American numbers written the usual ways (`(415) 555-2671`, `415-555-2671`, `415.555.2671`, `1-415-555-2671`) with a valid area code and exchange; national numbers in their country's distinctive print (`090-1234-5678`, `09-7625400`, `(11) 91234-5678`, `8 (495) 123-45-67`, `8(495)123-45-67`, `138 1234 5678`, `(02) 9876 5432`), unless labelled as an order, invoice, account or similar id; any other 7 to 15 digits, grouped or not, only next to a cue word of its own (`phone`, `tel`, `mobile`, `mob`, `fax`, `Telefon`, `celular`, `téléphone`, `gsm`, `msisdn`, `电话`, `手机`, `電話`, `携帯`, `телефон`, `전화`, `טלפון`, `फ़ोन`, `τηλέφωνο`, `điện thoại`, ...; `call`, `cell`, `handy`, `portable`, `contact` only for a phone-shaped number). Dates and times, and series of round numbers (`768 768 3072`), are not phone numbers; neighbouring words and numbers across a space neither hide nor join it.";
    const DIGIT_WORD: bool = true;
    /// Seven digits or more, or digits in groups (`415-`, `415)`).
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape = w.digits >= 7 || w.sep_next || matches!(w.after_digits(), Some(b')' | b'('));
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

/// Cue words that start with an ASCII letter, compared as words of their own without regard to
/// case (see [`has_word_cue`]: `tel` is `Tel.`, `TEL:` and `telNo`, never `tell`, `telemetry`
/// or `hotel`; `*` lets a word go on: `telefo*` is `Telefon`, `telefone`, `telefono`,
/// `telefoon`, `Telefonnummer`).
const CUES: WordCues = WordCues::new(&[
    "phone",
    "phones",
    "phonenumber",
    "phoneno",
    "telephone",
    "tel",
    "telefo*",
    "tel\u{e9}fono",
    "telepon",
    "telp",
    "tlp",
    "tlf",
    "tfno",
    "mobile",
    "mobil",
    "mobiel",
    "mobilnummer",
    "mobiltelefon",
    "mob",
    "cellphone",
    "celular",
    "cel",
    "fax",
    "sms",
    "whatsapp",
    "rufnummer",
    "handynummer",
    "t\u{e9}l",
    "t\u{e9}l\u{e9}phone",
    "m\u{f3}vil",
    "movil",
    "ponsel",
    "gsm",
    "msisdn",
    "contact number",
    "contact no",
]);

/// Cue words that are also ordinary words of technical text (a call stack, a table cell, a
/// portable build, a handy script, a contact record): a phone number's cue only when followed
/// by neither a letter nor `_`, and only for a number shaped like a phone number
/// ([`phone_shaped`]).
const WEAK_CUES: WordCues = WordCues::new(&[
    "call",
    "ring",
    "cell",
    "handy",
    "portable",
    "contact",
    "ph",
    "hp",
    "num\u{e9}ro",
]);

/// Labels of numbers that are not phone numbers: a dashed id with a leading 0 (`Invoice:
/// 0123-4567-8901`, `EIN 04-1234567`) has the shape of a national print, unless a phone cue is
/// there too.
const NOT_PHONE_CUES: WordCues = WordCues::new(&[
    "order",
    "orders",
    "invoice",
    "inv",
    "account",
    "acct",
    "ein",
    "tax",
    "case",
    "request",
    "req",
    "part",
    "sku",
    "ticket",
    "ref",
    "reference",
    "tracking",
    "serial",
    "isbn",
]);

/// How close before a number a [`NOT_PHONE_CUES`] label must be: a label and its punctuation
/// (`Invoice no. `, `request_id=`), not a word earlier in the sentence (`in case you need me:`).
const NOT_PHONE_WINDOW: usize = 16;

/// Cue words in other scripts, looked for as bytes: Japanese (電話, 携帯, 連絡先), Chinese (电话,
/// 手机, 手機, 联系方式, 聯絡), Hindi (फ़ोन with the nukta composed or not, फोन, मोबाइल), Russian
/// (телефон, тел., моб.), Korean (전화, 휴대폰, 핸드폰, 연락처), Hebrew (טלפון, נייד), Arabic
/// (هاتف, جوال), Persian (تلفن, موبایل), Bengali (ফোন, মোবাইল), Greek (τηλ., τηλέφωνο, κινητό),
/// Vietnamese (điện thoại, ĐT as in SĐT), Thai (โทร).
const SCRIPT_CUES: &[&str] = &[
    "\u{96fb}\u{8a71}",
    "\u{643a}\u{5e2f}",
    "\u{9023}\u{7d61}\u{5148}",
    "\u{7535}\u{8bdd}",
    "\u{624b}\u{673a}",
    "\u{624b}\u{6a5f}",
    "\u{8054}\u{7cfb}\u{65b9}\u{5f0f}",
    "\u{806f}\u{7d61}",
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
    "\u{c5f0}\u{b77d}\u{cc98}",
    "\u{5d8}\u{5dc}\u{5e4}\u{5d5}\u{5df}",
    "\u{5e0}\u{5d9}\u{5d9}\u{5d3}",
    "\u{647}\u{627}\u{62a}\u{641}",
    "\u{62c}\u{648}\u{627}\u{644}",
    "\u{62a}\u{644}\u{641}\u{646}",
    "\u{645}\u{648}\u{628}\u{627}\u{6cc}\u{644}",
    "\u{9ab}\u{9cb}\u{9a8}",
    "\u{9ae}\u{9cb}\u{9ac}\u{9be}\u{987}\u{9b2}",
    "\u{3c4}\u{3b7}\u{3bb}.",
    "\u{3a4}\u{3b7}\u{3bb}.",
    "\u{3c4}\u{3b7}\u{3bb}\u{3ad}\u{3c6}\u{3c9}\u{3bd}\u{3bf}",
    "\u{3a4}\u{3b7}\u{3bb}\u{3ad}\u{3c6}\u{3c9}\u{3bd}\u{3bf}",
    "\u{3ba}\u{3b9}\u{3bd}\u{3b7}\u{3c4}\u{3cc}",
    "\u{110}i\u{1ec7}n tho\u{1ea1}i",
    "\u{111}i\u{1ec7}n tho\u{1ea1}i",
    "\u{110}T",
    "\u{111}t",
    "\u{e42}\u{e17}\u{e23}",
];

/// Longer words that start with a script cue and mean something else: Thai โทรทัศน์
/// (television) starts with โทร (to call).
const NOT_SCRIPT_CUES: &[&str] = &["\u{e42}\u{e17}\u{e23}\u{e17}\u{e31}\u{e28}\u{e19}\u{e4c}"];

const SCRIPT_LEADS: u64 = lead_bytes(SCRIPT_CUES);

/// How strongly the words around a number say it is a phone number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cue {
    None,
    /// A word such as `call` or `cell`: only a number shaped like a phone number.
    Weak,
    Strong,
}

/// The cue of a number: in a table (CSV, TSV, Markdown) the header of its own column first
/// (`| name | nhs number | phone |`: the `phone` column's values are phone numbers, however far
/// the header is); a header that names no phone leaves only the value's own row, so that the
/// header of another column never claims it. Elsewhere, the words of the value's field.
fn cue(t: &[u8], start: usize, end: usize) -> Cue {
    let mut floor = 0;
    if let Some((a, b, row)) = id_cue::header_cell(t, start, end) {
        if has_word_cue_in(t, a, b, &CUES, false) {
            return Cue::Strong;
        }
        if has_word_cue_in(t, a, b, &WEAK_CUES, true) {
            return Cue::Weak;
        }
        floor = row;
    }
    if has_word_cue_around_from(t, floor, start, end, &CUES)
        || has_bytes_cue_around(
            t,
            floor,
            start,
            end,
            SCRIPT_CUES,
            SCRIPT_LEADS,
            NOT_SCRIPT_CUES,
        )
    {
        Cue::Strong
    } else if has_strict_word_cue_around(t, floor, start, end, &WEAK_CUES) {
        Cue::Weak
    } else {
        Cue::None
    }
}

/// A number a weak cue may make a phone number: grouped, or with a national trunk `0` (9 to 13
/// digits), or a valid North American number, or a Chinese mobile number (`1[3-9]` and 11
/// digits). `call stack depth 1234567`, `cell A1 = 12345678` are none of them.
fn phone_shaped(g: &Groups) -> bool {
    let digits = g.digits.get(..g.n).unwrap_or_default();
    g.count >= 2
        || g.digit(0) == 0 && (9..=13).contains(&g.n)
        || nanp(digits)
        || g.n == 11 && g.digit(0) == 1 && g.digit(1) >= 3
}

/// Whether the number found at `start..end` with groups `g` is cued enough.
fn cued(t: &[u8], start: usize, end: usize, g: &Groups) -> bool {
    match cue(t, start, end) {
        Cue::Strong => true,
        Cue::Weak => phone_shaped(g),
        Cue::None => false,
    }
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
#[derive(Clone, Copy)]
struct Groups {
    digits: [u8; MAX_DIGITS],
    n: usize,
    lens: [u8; MAX_GROUPS],
    /// Where each group ends (after its `)` if parenthesised).
    ends: [usize; MAX_GROUPS],
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

    /// Written as one run of digits, or as groups joined by single spaces only: the print of a
    /// series of numbers too (`768 768 3072`), unlike dashes, dots or an area code in brackets.
    fn spaced(&self) -> bool {
        self.paren == 0 && self.seps().iter().all(|&s| s == b' ')
    }

    /// The first `k` groups only.
    fn truncate(&mut self, k: usize) {
        let n: usize = self.lens.iter().take(k).map(|&l| usize::from(l)).sum();
        self.n = n;
        self.count = k;
        self.end = k
            .checked_sub(1)
            .and_then(|p| self.ends.get(p))
            .copied()
            .unwrap_or(self.end);
        self.paren &= u8::try_from((1u16 << k) - 1).unwrap_or(u8::MAX);
        if self.trunk_zero.is_some_and(|z| z >= n) {
            self.trunk_zero = None;
        }
    }
}

/// Reads digit groups joined by single separators (space, dash, dot), by `) ` after a
/// parenthesised group, by `(` right after a first group of one or two digits (`+7(495)`,
/// `8(495)`, `+44(0)20`), or once by `/` (`030/1234567`, `030 / 1234567`) after an area code
/// (a first group that starts with 0, or the group after a country code when `plus`). A group
/// that does not parse (`(home)`), a group after a space that runs into a letter, a slash or a
/// colon (`24/7`, `9am`), or a space after groups joined by dashes or dots end the number
/// before them: they are other words. None if the first group does not parse, or if there are
/// more than 16 digits or 8 groups (a longer chain).
fn read_groups(t: &[u8], start: usize, plus: bool) -> Option<Groups> {
    let mut g = Groups {
        digits: [0; MAX_DIGITS],
        n: 0,
        lens: [0; MAX_GROUPS],
        ends: [0; MAX_GROUPS],
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
    // The unparenthesised separator before this group, counted once the group parses.
    let mut pending: Option<Sep> = None;
    let mut slashed = false;
    loop {
        let n0 = g.n;
        let opened = at(t, i) == Some(b'(');
        let group_start = i + usize::from(opened);
        let mut j = group_start;
        let mut overflow = false;
        while let Some(d) = digit(t, j) {
            let Some(slot) = g.digits.get_mut(g.n) else {
                overflow = true;
                break;
            };
            *slot = d;
            g.n += 1;
            j += 1;
        }
        let len = j - group_start;
        let closed = !opened || at(t, j) == Some(b')');
        if overflow {
            j = run_end(t, j, |b| b.is_ascii_digit());
        }
        let glued = !opened
            && sep_byte == b' '
            && at(t, j).is_some_and(|b| b.is_ascii_alphabetic() || b == b'/' || b == b':');
        if (overflow || g.count >= MAX_GROUPS) && !glued {
            return None; // a chain longer than any phone number (`1-1-1-…`, `1 2 3 …`)
        }
        if len == 0 || !closed || glued {
            if g.count == 0 {
                return None;
            }
            g.n = n0;
            return Some(g);
        }
        *g.lens.get_mut(g.count)? = u8::try_from(len).ok()?;
        *g.seps.get_mut(g.count)? = sep_byte;
        if let Some(s) = pending {
            match g.sep {
                Some(x) if x != s => g.mixed = true,
                _ => g.sep = Some(s),
            }
        }
        i = j;
        if opened {
            i += 1;
            g.paren |= 1 << g.count;
            if len == 1 && g.digit(n0) == 0 && g.count > 0 {
                g.trunk_zero = Some(n0);
            }
        }
        *g.ends.get_mut(g.count)? = i;
        g.count += 1;
        g.end = i;
        let next_byte = at(t, i);
        let slash = match next_byte {
            Some(b'/') => digit(t, i + 1).is_some().then_some(1),
            Some(b' ') if at(t, i + 1) == Some(b'/') => {
                (at(t, i + 2) == Some(b' ') && digit(t, i + 3).is_some()).then_some(3)
            }
            _ => None,
        };
        let slash_ok = || {
            !slashed
                && (g.count == 1 && g.digit(0) == 0
                    || plus && (g.count == 2 || g.count == 3 && g.trunk_zero.is_some()))
        };
        if let Some(step) = slash.filter(|_| slash_ok()) {
            g.mixed = true;
            slashed = true;
            sep_byte = b'/';
            pending = None;
            i += step;
            continue;
        }
        let (sep, len) = match sep_at(t, i) {
            Some(s) => s,
            None if opened && digit(t, i).is_some() => (Sep::Space, 0), // "(415)555-2671"
            None if at(t, i) == Some(b'(') && g.count == 1 && !opened && len <= 2 => {
                (Sep::Space, 0) // "+7(495)", "8(495)"
            }
            None => break,
        };
        // `090-1234-5678 9am`: a space after dashed or dotted groups starts another word. (Not
        // after a country code: `+92-534 3254073`; what follows an E.164 number is cut by
        // its length, see `e164_fit`.)
        if !plus && sep == Sep::Space && len > 0 && g.sep.is_some_and(|s| s != Sep::Space) {
            break;
        }
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
        pending = (!opened && len > 0).then_some(sep);
        i = next;
    }
    Some(g)
}

/// Not glued to more digits on the right, and not the tail of a longer chain on the left. The
/// end of a time (`12:37:50 415-555-2671`, `+01:00 …`) is not a chain the number belongs to.
/// Numbers next to it across a space count only for a number printed as a series would be
/// (`spaced`, see [`Groups::spaced`]): `Apt 4 090-1234-5678`, `090-1234-5678 24/7` are
/// numbers of their own, `1 2 3 415 555 2671` is a series.
fn standalone(t: &[u8], start: usize, end: usize, g: &Groups) -> bool {
    let spaced = g.spaced();
    let right = digit(t, end).is_some()
        || (at(t, end) == Some(b'.') && digit(t, end + 1).is_some())
        || sep_at(t, end).is_some_and(|(s, len)| {
            digit(t, end + len).is_some()
                && (s != Sep::Space || spaced && pure_number(t, end + len))
        });
    let left = sep_before(t, start).is_some_and(|(s, len)| {
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
        if s == Sep::Space && !spaced {
            // Across a space, only a chain of numbers (`12 37 50 415-555-2671`, `0.3
            // 415.555.2671`), not one number (`Apt 4 090-1234-5678`).
            return sep_before(t, first).is_some_and(|(_, n)| {
                first.checked_sub(n + 1).and_then(|p| digit(t, p)).is_some()
            });
        }
        before(t, first) != Some(b':')
            && !(s == Sep::Space && before(t, first).is_some_and(|b| b.is_ascii_alphabetic()))
    });
    !right && !left
}

/// The digits at `i` are a number of their own, not the start of a word such as `24/7`, `9am`.
fn pure_number(t: &[u8], i: usize) -> bool {
    let e = run_end(t, i, |b| b.is_ascii_digit());
    !at(t, e).is_some_and(|b| b.is_ascii_alphabetic() || b == b'/' || b == b':')
}

/// A field or a phrase around the number, not a name, path or identifier it is part of
/// (`file_01-2345678.log`, `/v2/09-7625400`, `#01-2345678`): what a number found without a
/// cue must stand in. A JSON escape (`\n090-…`) and markup (`**…**`, `` `…` ``, `|…|`, `<…>`)
/// are boundaries.
fn delimited(t: &[u8], start: usize, end: usize) -> bool {
    let left = word_start_at(t, start)
        && before(t, start).is_none_or(|b| {
            matches!(
                b,
                b' ' | b'"'
                    | b'\''
                    | b':'
                    | b'='
                    | b'('
                    | b'['
                    | b'>'
                    | b'<'
                    | b','
                    | b'\t'
                    | b'\n'
                    | b'*'
                    | b'|'
                    | b'`'
            ) || b >= 0x80
                || is_word(b) // after an escape (`\n`), as `word_start_at` says
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
    let month_day = |k: usize| {
        let m = g.digit(k) * 10 + g.digit(k + 1);
        let d = g.digit(k + 2) * 10 + g.digit(k + 3);
        (1..=12).contains(&m) && (1..=31).contains(&d)
    };
    match lens {
        [4, 2, 2, ..] => year_first,
        [2, 2, 4, ..] => true,
        // `build 20261130`: a compact date.
        [8] => year_first && month_day(4),
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
        // Four-digit area codes that start with 01 are Japan's (Hokkaido), printed 4-2-4:
        // `0123-4567-8901`, `0123-4567890` are ids.
        let japan_01 = |a: u8, b: u8| a == 4 && d1 == 1 && b != 2;
        return match *lens {
            [a, b] => (2..=4).contains(&a) && (7..=8).contains(&b) && !japan_01(a, b),
            [a, b, 4] => {
                (2..=5).contains(&a)
                    && (1..=4).contains(&b)
                    && (9..=12).contains(&g.n)
                    && !japan_01(a, b)
            }
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
        // Brazil, Mexico; Australia (`(02) 9876 5432`, area codes 02, 03, 07, 08).
        [2, 4 | 5, 4] => {
            (d0 != 0 && d1 != 0
                || d0 == 0 && matches!(d1, 2 | 3 | 7 | 8) && lens.get(1) == Some(&4))
                && rest_seps_ok
        }
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

/// The end of the longest run of leading groups of `g` that is a number of a country whose
/// national number lengths are `lengths`: the digits from `skip` on (after the country code and
/// a written trunk `0`) are a length that country uses, with `cc_len + national` between 7 and
/// 15 digits (E.164's 15), and a North American number has a valid area code and exchange.
/// Groups dropped from the end must be joined by a space (`+44 20 7946 0958 24/7`).
fn e164_fit(g: &Groups, skip: usize, cc_len: usize, lengths: u16, nanp_cc: bool) -> Option<Groups> {
    (1..=g.count).rev().find_map(|k| {
        if k < g.count && g.seps.get(k) != Some(&b' ') {
            return None;
        }
        let mut h = *g;
        h.truncate(k);
        let national = h.n.checked_sub(skip)?;
        let digits = h.digits.get(skip..h.n)?;
        let fits = national < 16 && lengths & (1 << national) != 0;
        (fits && (7..=15).contains(&(cc_len + national)) && (!nanp_cc || nanp(digits))).then_some(h)
    })
}

/// Not glued to digits on the right, nor continued by a dash or a dot and digits: the right
/// side of [`standalone`] for a number that starts with `+` (the `+` marks its start, and
/// numbers next to it across a space are other words).
fn ends_alone(t: &[u8], end: usize) -> bool {
    !(digit(t, end).is_some()
        || (at(t, end) == Some(b'.') && digit(t, end + 1).is_some())
        || sep_at(t, end).is_some_and(|(s, len)| s != Sep::Space && digit(t, end + len).is_some()))
}

/// Words a signed quantity follows (`score +4912345`, `delta: +12345678901`).
const SIGNED_BEFORE: WordCues = WordCues::new(&[
    "score",
    "balance",
    "delta",
    "offset",
    "diff",
    "change",
    "changed",
    "expires",
    "gain",
    "gained",
    "increase",
    "increased",
    "decrease",
    "total",
    "sum",
    "count",
    "points",
    "timeout",
    "duration",
    "ttl",
    "size",
    "heap",
]);

/// Units a signed quantity goes on with (`+864000000 ms`, `+2345678 followers`).
const UNITS_AFTER: &[&str] = &[
    "ms",
    "us",
    "ns",
    "s",
    "sec",
    "secs",
    "seconds",
    "min",
    "mins",
    "minutes",
    "h",
    "hours",
    "days",
    "b",
    "bytes",
    "kb",
    "mb",
    "gb",
    "kib",
    "mib",
    "gib",
    "points",
    "pts",
    "followers",
    "items",
    "users",
    "views",
    "likes",
    "times",
    "x",
    "per",
];

/// A `+` and one run of digits that is a sign, not a country code: the marker of a line a diff
/// adds (the line before starts with `-`, `+` or `@@`), an operator after an operand (`y
/// +4412345678`, `) +…`, `2 +…`), a signed quantity after a word that counts something or
/// before a unit.
fn plus_is_a_sign(t: &[u8], plus: usize, end: usize) -> bool {
    // A diff line: the `+` starts a line (raw or JSON-escaped) after a line that starts with
    // `-`, `+` or `@`.
    let nl = if before(t, plus) == Some(b'\n') {
        Some(plus - 1)
    } else if before(t, plus) == Some(b'n')
        && plus.checked_sub(2).and_then(|p| t.get(p)) == Some(&b'\\')
    {
        Some(plus - 2)
    } else {
        None
    };
    if let Some(nl) = nl {
        let mut k = nl;
        let lo = nl.saturating_sub(200);
        while k > lo {
            let b = at(t, k - 1).unwrap_or(0);
            if b == b'\n' || b == b'"' || (b == b'n' && before(t, k - 1) == Some(b'\\')) {
                break;
            }
            k -= 1;
        }
        if (k > lo || k == 0) && matches!(at(t, k), Some(b'-' | b'+' | b'@')) {
            return true;
        }
    }
    // An operand before: a digit, a closing bracket or a one-letter name, then spaces.
    let spaces = plus - super::text::run_start(t, plus, 3, |b| b == b' ');
    if spaces > 0 {
        let p = plus - spaces;
        let operand = match before(t, p) {
            Some(b) if b.is_ascii_digit() || b == b')' || b == b']' => true,
            Some(b) if b.is_ascii_alphabetic() => !p
                .checked_sub(2)
                .and_then(|q| t.get(q))
                .is_some_and(|&c| c.is_ascii_alphanumeric()),
            _ => false,
        };
        if operand {
            return true;
        }
    }
    let unit = at(t, end) == Some(b' ') && {
        let w = end + 1;
        let e = super::text::word_end(t, w);
        e > w
            && at(t, e).is_none_or(|b| b < 0x80)
            && t.get(w..e).is_some_and(|word| {
                UNITS_AFTER
                    .iter()
                    .any(|u| word.eq_ignore_ascii_case(u.as_bytes()))
            })
    } || at(t, end) == Some(b'%');
    unit || has_word_cue(t, plus, &SIGNED_BEFORE)
}

/// At a `+` (at a word start; an escape such as `\n` is a boundary): an E.164 number, whose
/// country code is one the ITU assigns and whose national number has a length that country
/// uses; a North American number (+1) has a valid area code and exchange.
pub(super) fn match_plus(t: &[u8], plus: usize) -> Option<usize> {
    if !word_start_at(t, plus) || digit(t, plus + 1).is_none_or(|d| d == 0) {
        return None;
    }
    let g = read_groups(t, plus + 1, true)?;
    let (cc_len, lengths) = country_code(g.digits.get(..g.n)?)?;
    // `+44 (0)20 …`: the trunk prefix is not dialled from abroad.
    let trunk = match g.trunk_zero {
        Some(k) if k == cc_len => 1,
        Some(_) => return None,
        None => 0,
    };
    let nanp_cc = cc_len == 1 && g.digit(0) == 1;
    let h = e164_fit(&g, cc_len + trunk, cc_len, lengths, nanp_cc)?;
    // The `+` is cue enough: separators may differ (`+1 415-555-2671`).
    (ends_alone(t, h.end) && !(h.count == 1 && plus_is_a_sign(t, plus, h.end))).then_some(h.end)
}

/// At `(+`: a country code in brackets, then the national number (`(+44) 20 7946 0958`,
/// `(+1) 415-555-2671`).
fn match_paren_plus(t: &[u8], open: usize) -> Option<usize> {
    let cc_start = open + 2;
    let cc_end = run_end(t, cc_start, |b| b.is_ascii_digit());
    let cc_digits: [u8; 3] = core::array::from_fn(|k| digit(t, cc_start + k).unwrap_or(0));
    let cc_len = cc_end - cc_start;
    if !(1..=3).contains(&cc_len) || cc_digits.first() == Some(&0) || at(t, cc_end) != Some(b')') {
        return None;
    }
    let (len, lengths) = country_code(cc_digits.get(..cc_len)?)?;
    if len != cc_len {
        return None;
    }
    let mut i = cc_end + 1;
    if let Some((Sep::Space | Sep::Dash, n)) = sep_at(t, i) {
        i += n;
    }
    let g = read_groups(t, i, false)?;
    if g.trunk_zero.is_some() || g.digit(0) == 0 {
        return None;
    }
    let h = e164_fit(
        &g,
        0,
        cc_len,
        lengths,
        cc_len == 1 && cc_digits.first() == Some(&1),
    )?;
    ends_alone(t, h.end).then_some(h.end)
}

/// `0044 20 7946 0958`, `011 44 20 7946 0958`: the international call prefix (00, or 011 in
/// North America) in a group of its own or with the country code, then an E.164 number.
fn international_prefix(t: &[u8], start: usize, g: &Groups) -> Option<usize> {
    if g.count < 3 || g.digit(0) != 0 || g.digit(1) == 0 && g.digit(2) == 0 || g.paren != 0 {
        return None;
    }
    let lens = g.lens();
    let first = usize::from(*lens.first()?);
    let skip = match (g.digit(1), first) {
        (0, 3..=5) => 2,                // 0044
        (1, 3) if g.digit(2) == 1 => 3, // 011 44
        _ => return None,
    };
    let (cc_len, lengths) = country_code(g.digits.get(skip..g.n)?)?;
    // The country code ends a group: `0044`, or `011` and `44`.
    let cc_group_end = if skip == 3 {
        3 + usize::from(*lens.get(1)?)
    } else {
        first
    };
    // No trunk `0` after a country code (`IBAN DE 89 3704 0044 0532 …` is no call).
    if skip + cc_len != cc_group_end || g.digit(skip + cc_len) == 0 {
        return None;
    }
    let nanp_cc = cc_len == 1 && g.digit(skip) == 1;
    let h = e164_fit(g, skip + cc_len, cc_len, lengths, nanp_cc)?;
    (h.count >= 2 && ends_alone(t, h.end) && delimited(t, start, h.end)).then_some(h.end)
}

/// A number of the national print shapes that is more likely a space-separated series of
/// measurements (`768 768 3072`, `fps 144 1920 1080`, `items: 150 1000 2000`): two of its
/// groups are multiples of 16 or of 100.
fn round_series(g: &Groups) -> bool {
    let mut k = 0;
    let mut round = 0;
    for &len in g.lens() {
        let v = (k..k + usize::from(len)).fold(0u64, |a, i| {
            a.wrapping_mul(10).wrapping_add(u64::from(g.digit(i)))
        });
        round += usize::from(v % 16 == 0 || v % 100 == 0);
        k += usize::from(len);
    }
    round >= 2
}

/// At a `(` or a digit that starts a word: a North American number, a national number in its
/// distinctive print, or a cued one.
pub(super) fn match_at(t: &[u8], start: usize) -> Option<usize> {
    if at(t, start) == Some(b'(') && at(t, start + 1) == Some(b'+') {
        return match_paren_plus(t, start);
    }
    // A short number with nothing that could continue it is not a phone number: most digit
    // words end here.
    let first = run_end(t, start, |b| b.is_ascii_digit()) - start;
    if first > 0
        && first < 7
        && !matches!(
            at(t, start + first),
            Some(b' ' | b'-' | b'.' | b')' | b'/' | b'(' | 0xE2 | 0xEF)
        )
    {
        return None;
    }
    let g = read_groups(t, start, false)?;
    if g.trunk_zero.is_some() {
        return None;
    }
    if looks_like_date_or_time(&g) {
        // `Tlf: 22 12 34 56`: Danish and Norwegian numbers are four pairs; a phone cue decides.
        let pairs = g.lens() == [2, 2, 2, 2] && g.sep == Some(Sep::Space) && !g.mixed;
        return (pairs && standalone(t, start, g.end, &g) && cue(t, start, g.end) == Cue::Strong)
            .then_some(g.end);
    }
    if let Some(end) = international_prefix(t, start, &g) {
        return Some(end);
    }
    // Cheap structure first: most digit words are short numbers, and the cue look-up is the
    // expensive part.
    if !(7..=15).contains(&g.n) || !standalone(t, start, g.end, &g) {
        return None;
    }
    if g.count < 2 {
        return cued(t, start, g.end, &g).then_some(g.end);
    }
    // `Phone 1 090-1234-5678`: a trunk `0` starts the number after a list number and a space.
    if g.seps().first() == Some(&b' ')
        && g.seps()
            .get(1..)
            .is_some_and(|r| !r.is_empty() && r.iter().all(|&s| s == b'-'))
        && g.digit(usize::from(*g.lens().first()?)) == 0
    {
        return None;
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
    let shaped =
        formatted_nanp || paren_nanp || distinctive_national(&g) && delimited(t, start, g.end);
    // Series of measurements and labelled ids have these shapes too: a cue decides for them.
    let series = g.spaced() && round_series(&g);
    let labelled = !formatted_nanp
        && !paren_nanp
        && has_word_cue_within(t, start, NOT_PHONE_WINDOW, &NOT_PHONE_CUES);
    if shaped && !series && !labelled {
        return Some(g.end);
    }
    cued(t, start, g.end, &g).then_some(g.end)
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

    /// Issue 11 attack: cue words are words of their own; ordinary words are cues only for a
    /// phone-shaped number.
    #[test]
    fn cue_words() {
        for (text, n) in [
            ("Mob: 07700 900123", "07700 900123"),
            ("Mob. 0412 345 678", "0412 345 678"),
            ("Ph: 02 9876 5432", "02 9876 5432"),
            ("cel. 3001234567", "3001234567"),
            ("Tlf.: 32 12 34 56", "32 12 34 56"),
            ("phone: 12 34 56 78", "12 34 56 78"),
            ("gsm 0470123456", "0470123456"),
            ("Telefonnummer 03012345678", "03012345678"),
            ("Tel.-Nr. 030 1234567", "030 1234567"),
            ("TEL: 0612345678", "0612345678"),
            ("phoneNumber 0612345678", "0612345678"),
            ("customerPhone 0612345678", "0612345678"),
            ("num\u{e9}ro 0612345678", "0612345678"),
            ("call me at 0612345678", "0612345678"),
            ("cell: 4155552671", "4155552671"),
            (
                "\u{3c4}\u{3b7}\u{3bb}\u{3ad}\u{3c6}\u{3c9}\u{3bd}\u{3bf} 6912345678",
                "6912345678",
            ),
            (
                "\u{645}\u{648}\u{628}\u{627}\u{6cc}\u{644} 09121234567",
                "09121234567",
            ),
            ("\u{e42}\u{e17}\u{e23} 0812345678", "0812345678"),
        ] {
            assert_eq!(phone(text), Some(n), "{text}");
        }
        for text in [
            "tell me 123456789",
            "telemetry 12345678",
            "telescope 12000000",
            "cellar 12345678",
            "cell A1 = 12345678",
            "call stack 1234567",
            "call_id 0612345678",
            "callStack 0612345678",
            "portable build 20261130",
            "handy 12345678",
            "mobile build 20261130",
            "h\u{f4}tel 0612345678",
            "t\u{e9}l\u{e9}vision 1234567",
            "\u{e42}\u{e17}\u{e23}\u{e17}\u{e31}\u{e28}\u{e19}\u{e4c} 12345678",
            "phone: 20261130",
        ] {
            assert_eq!(phone(text), None, "{text}");
        }
    }

    /// Issue 11 attack: what lies after or before a number across a space is another word.
    #[test]
    fn neighbours() {
        for (text, n) in [
            ("Phone: 0612345678 (home)", "0612345678"),
            ("+44 20 7946 0958 (office)", "+44 20 7946 0958"),
            ("+44 20 7946 0958 24/7", "+44 20 7946 0958"),
            ("+1 415 555 2671 1234", "+1 415 555 2671"),
            ("090-1234-5678 9am-5pm", "090-1234-5678"),
            ("Call 0800 123 4567 24/7", "0800 123 4567"),
            ("011 44 20 7946 0958 24/7", "011 44 20 7946 0958"),
            ("+92-534 3254073", "+92-534 3254073"),
            ("+43-(0)706 2489062", "+43-(0)706 2489062"),
        ] {
            assert_eq!(phone(text), Some(n), "{text}");
        }
        let at_415 = |text: &str| match_at(text.as_bytes(), text.find("415").unwrap());
        assert_eq!(at_415("Apt 4 415-555-2671"), Some(18));
        assert_eq!(at_415("1 2 3 415 555 2671"), None, "a series");
        assert_eq!(at_415("12 37 50 415-555-2671"), None, "a chain");
        assert_eq!(at_415("0.3 415.555.2671"), None, "a chain");
        let t = "ext 12 +44 20 7946 0958";
        assert_eq!(match_plus(t.as_bytes(), 7), Some(t.len()));
    }

    /// Issue 11 attack: bracket prints, a country code in brackets, the international prefix.
    #[test]
    fn bracket_and_prefix_prints() {
        for n in [
            "+7(495)123-45-67",
            "8(495)123-45-67",
            "+44(0)2079460958",
            "+44(0)20 7946 0958",
            "(+44) 20 7946 0958",
            "(+49) 30 1234567",
            "(+1) 415-555-2671",
            "+49 30 / 1234567",
            "+49 (0) 30 / 123 456 78",
            "(02) 9876 5432",
            "0044 20 7946 0958",
            "0049 30 1234567",
            "0086 138 1234 5678",
            "011 44 20 7946 0958",
        ] {
            assert_eq!(phone(&format!("x {n} y")), Some(n), "{n}");
        }
        assert_eq!(phone("Tel: 030 / 1234567"), Some("030 / 1234567"));
        for n in [
            "(+1) 123-555-2671",   // area code
            "(+28) 1234 5678",     // no such country code
            "(+44) 020 7946 0958", // a trunk 0 after the code
            "0044 0532 0130 00",
            "0028 1234 5678",
            "(01) 2345 6789",
        ] {
            assert_eq!(phone(&format!("x {n} y")), None, "{n}");
        }
    }

    /// Issue 11 attack: a `+` that is a sign; +1 with the North American checks.
    #[test]
    fn signs_are_not_country_codes() {
        for text in [
            "score +4912345",
            "balance +4912345 points",
            "-2718281828\n+3141592653",
            "@@ -1 +1 @@\n+12345678902",
            r"\n-2718281828\n+3141592653",
            "expires in +864000000 ms",
            "+31536000000 ms per year",
            "delta: +12345678901",
            "x = y +4412345678",
            "2 +4412345678",
            "offset +3312345678 bytes",
            "gained +2345678 followers",
            "+4412345678%",
            "+11234567890",
            "+14151552671",
        ] {
            let plus = text.rfind('+').unwrap();
            assert_eq!(match_plus(text.as_bytes(), plus), None, "{text}");
        }
        assert_eq!(phone("+14155552671"), Some("+14155552671"));
        assert_eq!(phone("call +447700900123 now"), Some("+447700900123"));
        assert_eq!(phone("line\n+447700900123"), Some("+447700900123"));
    }

    /// Issue 11 attack: series of measurements and labelled ids are not national prints.
    #[test]
    fn series_and_labelled_ids() {
        for text in [
            "dims: 768 768 3072",
            "fps 144 1920 1080",
            "items: 150 1000 2000",
            "Order 0123-4567-8901",
            "Invoice no. 012-345-6789",
            "account 0123-4567890",
            "EIN 04-1234567",
            "request_id=0102-3456-7890",
            "INFO 0123-456-7890",
        ] {
            assert_eq!(phone(text), None, "{text}");
        }
        // A phone cue outweighs a label; a label far before is not the number's.
        assert_eq!(phone("order phone 0123-4567890"), Some("0123-4567890"));
        assert_eq!(phone("in case you need me: 09-7625400"), Some("09-7625400"));
        assert_eq!(phone("tel 768 768 3072"), Some("768 768 3072"));
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
