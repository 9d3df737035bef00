//! The catalogue of built-in detectors: one row each, in `detect/mod.rs` beside the detectors'
//! `mod` lines. A detector's file implements [`BuiltIn`] (its name, the docs' description, and
//! where the scan pass hands it candidates); its row gives it its kind and its precedence. Everything else is derived from the
//! rows: `Kind::CREDIT_CARD`, the `has_credit_card` rule variable, the
//! `detector="credit_card"` metric label, the placeholders `[CREDIT_CARD_REDACTED]` (events)
//! and `[CREDIT_CARD]` (redacted bodies), the name `detectors.enabled` takes, the docs row
//! (checked by a test), the bytes the scan pass stops at, and the pass's dispatch, which is
//! generated here as straight-line code (no function pointers: the detectors' cheap shape
//! tests inline into the pass, as hand-written dispatch would).
//!
//! Adding a detector: see the checklist in `ARCHITECTURE.md` (its file, its `mod` line and row
//! in `detect/mod.rs`, corpus, host-test sample, docs).

use std::ops::Range;

/// A built-in detector, as the docs, the configuration and the metrics know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detector {
    /// `credit_card`: `[a-z0-9_]`. The type in `has_<type>`, `detected` and metric labels;
    /// upper-cased in placeholders.
    pub name: &'static str,
    /// What it finds and how it validates (the docs' detectors table, verbatim).
    pub finds: &'static str,
}

/// A word that starts with a digit where a word starts, as the numeric detectors see it. The
/// scanner builds it once per word and hands it to each numeric detector in precedence order;
/// cheap tests of its shape come first, since most numbers start nothing.
#[derive(Debug, Clone, Copy)]
pub struct DigitWord<'t> {
    pub t: &'t [u8],
    /// Where the word starts (a digit).
    pub start: usize,
    /// Where the word ends (the first byte that is not `[A-Za-z0-9]`).
    pub end: usize,
    /// How many digits it starts with.
    pub digits: usize,
    /// A group separator (space, dash, dot, unicode dash) follows those digits.
    pub sep_next: bool,
}

impl DigitWord<'_> {
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The byte after the word.
    pub fn next(&self) -> Option<u8> {
        self.t.get(self.end).copied()
    }

    /// The byte after the leading digits.
    pub fn after_digits(&self) -> Option<u8> {
        self.t.get(self.start + self.digits).copied()
    }

    /// At most four hex digits (an IPv6 group).
    pub fn is_hex_group(&self) -> bool {
        self.len() <= 4
            && self
                .t
                .get(self.start..self.end)
                .is_some_and(|w| w.iter().all(u8::is_ascii_hexdigit))
    }
}

/// Whether the `n` bytes before `i` (`n` a multiple of 8; fewer bytes: false) hold no byte
/// below `-` (no space, quote, comma, control byte), eight at a time: a stop entry whose value
/// ends at `i` with at least `n` base64url characters (a JWT header, a Discord id) asks this
/// before it walks back, since prose has a space in any few bytes.
#[inline]
pub(super) fn no_low_bytes_before(t: &[u8], i: usize, n: usize) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    (8..=n).step_by(8).all(|k| {
        i.checked_sub(k)
            .and_then(|p| t.get(p..p + 8))
            .and_then(|c| c.first_chunk::<8>())
            .is_some_and(|c| {
                let w = u64::from_le_bytes(*c);
                // Bytes below 0x2D, as the high bit of each (exact as a whole, for bytes < 0x80;
                // a byte of 0x80 or more is no base64url either and the walk rejects it).
                w.wrapping_sub(ONES * 0x2D) & !w & (ONES * 0x80) == 0
            })
    })
}

/// What a detector makes of a stop byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Not its shape: the next detector that stops at this byte looks.
    Pass,
    /// Its shape (`--` of a PEM block, the dash of `xoxb-`): it alone decides at this byte,
    /// with its value's span or none. A later detector must not take the byte it rejected: a
    /// Slack token's matcher would swallow `--4111 1111…` whole, and the card in it with it.
    Claim(Option<Range<usize>>),
}

impl Stop {
    /// [`Stop::Claim`] of a value from `start` to the matcher's end, if it found one.
    pub fn claim(start: usize, end: Option<usize>) -> Stop {
        Stop::Claim(end.map(|e| start..e))
    }
}

/// A built-in detector's entries into the single scan pass. A detector implements the entries
/// it needs; where two detectors could take the same candidate, the earlier catalogue row
/// is tried first and the first match wins.
pub trait BuiltIn {
    const NAME: &'static str;
    const FINDS: &'static str;

    /// Reached at every word that starts with a digit where a word starts.
    const DIGIT_WORD: bool = false;
    /// A value that starts at the word's start: its end.
    fn at_digit_word(_w: &DigitWord) -> Option<usize> {
        None
    }
    /// The span of a value that holds the word: [`BuiltIn::at_digit_word`]'s value, unless the
    /// detector's values may start before their first digit word (a UK National Insurance
    /// number as HMRC prints it, `AB 12 34 56 C`: its letters are a word of their own, which
    /// the pass does not stop at).
    fn digit_word_span(w: &DigitWord) -> Option<Range<usize>> {
        Self::at_digit_word(w).map(|end| w.start..end)
    }

    /// Reached once per word that starts with a letter and holds a digit (`bc1…`, `DE89…`,
    /// `fe80:`).
    const LETTER_WORD: bool = false;
    /// A value that starts at the word's start (`t[start..end]` is the word): its end.
    fn at_letter_word(_t: &[u8], _start: usize, _end: usize) -> Option<usize> {
        None
    }

    /// Reached at each of these bytes (`@`, `+`, `-`, `A`…). They must be among the bytes
    /// `scan::may_hold_trigger` lets through (a test checks).
    const STOPS: &'static [u8] = &[];
    /// What it makes of the stop byte `t[i]`: [`Stop::Pass`] when the byte is not part of its
    /// shape, else [`Stop::Claim`] with the value's span (it may start before the byte:
    /// `xoxb-` is found from its dash), if there is one.
    fn at_stop(_t: &[u8], _i: usize) -> Stop {
        Stop::Pass
    }
}

/// Declares the catalogue (in `detect/mod.rs`, beside the detectors' `mod` lines). Rows are in
/// precedence order; `= n` is the kind, dense from 0 (the order of `detected` lists, metrics
/// and docs).
macro_rules! catalogue {
    ($( $(#[$doc:meta])* $kind:ident = $id:literal => $det:ty, )+) => {
        impl $crate::detect::Kind {
            $( $(#[$doc])* pub const $kind: $crate::detect::Kind = $crate::detect::Kind($id); )+
        }

        const ROWS: &[(u8, $crate::detect::Detector)] = &[
            $( ($id, $crate::detect::Detector {
                name: <$det as $crate::detect::catalogue::BuiltIn>::NAME,
                finds: <$det as $crate::detect::catalogue::BuiltIn>::FINDS,
            }), )+
        ];

        /// The built-in detectors, in kind order.
        pub const BUILT_INS: [$crate::detect::Detector; ROWS.len()] =
            $crate::detect::catalogue::by_kind(ROWS);

        /// Whether a built-in detector stops the pass at `b`.
        pub(super) const fn is_stop_byte(b: u8) -> bool {
            $( $crate::detect::catalogue::contains(<$det as $crate::detect::catalogue::BuiltIn>::STOPS, b) || )+ false
        }

        /// The first enabled numeric detector that finds a value at this digit word.
        #[inline(always)]
        pub(super) fn at_digit_word(enabled: $crate::detect::KindSet, w: &$crate::detect::catalogue::DigitWord<'_>) -> Option<($crate::detect::Kind, std::ops::Range<usize>)> {
            $(
                if <$det as $crate::detect::catalogue::BuiltIn>::DIGIT_WORD && enabled.contains($crate::detect::Kind::$kind) {
                    if let Some(span) = <$det as $crate::detect::catalogue::BuiltIn>::digit_word_span(w) {
                        return Some(($crate::detect::Kind::$kind, span));
                    }
                }
            )+
            None
        }

        /// The first enabled letter-led detector that finds a value at this word.
        #[inline(always)]
        pub(super) fn at_letter_word(
            enabled: $crate::detect::KindSet,
            t: &[u8],
            start: usize,
            end: usize,
        ) -> Option<($crate::detect::Kind, usize)> {
            $(
                if <$det as $crate::detect::catalogue::BuiltIn>::LETTER_WORD && enabled.contains($crate::detect::Kind::$kind) {
                    if let Some(e) = <$det as $crate::detect::catalogue::BuiltIn>::at_letter_word(t, start, end) {
                        return Some(($crate::detect::Kind::$kind, e));
                    }
                }
            )+
            None
        }

        /// The value at the stop byte `t[i]`, from the first enabled detector that claims it.
        #[inline(always)]
        pub(super) fn at_stop(
            enabled: $crate::detect::KindSet,
            t: &[u8],
            i: usize,
            b: u8,
        ) -> Option<($crate::detect::Kind, std::ops::Range<usize>)> {
            $(
                if $crate::detect::catalogue::contains(<$det as $crate::detect::catalogue::BuiltIn>::STOPS, b) && enabled.contains($crate::detect::Kind::$kind) {
                    if let $crate::detect::catalogue::Stop::Claim(span) = <$det as $crate::detect::catalogue::BuiltIn>::at_stop(t, i) {
                        return span.map(|span| ($crate::detect::Kind::$kind, span));
                    }
                }
            )+
            None
        }
    };
}

pub(super) use catalogue;

#[allow(clippy::indexing_slicing)] // const evaluation: indices are below the lengths
pub(super) const fn contains(bytes: &[u8], b: u8) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b {
            return true;
        }
        i += 1;
    }
    false
}

/// Places each row at its kind. A kind used twice or left out leaves an empty name, which a
/// test catches.
#[allow(clippy::indexing_slicing)] // const evaluation: an index out of range fails the build
pub(super) const fn by_kind<const N: usize>(rows: &[(u8, Detector)]) -> [Detector; N] {
    let mut out = [Detector {
        name: "",
        finds: "",
    }; N];
    let mut r = 0;
    while r < rows.len() {
        out[rows[r].0 as usize] = rows[r].1;
        r += 1;
    }
    out
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::super::{at_digit_word, at_stop, is_stop_byte, ROWS};
    use super::*;
    use crate::detect::{Kind, KindSet, BUILT_INS};

    #[test]
    fn every_kind_has_one_row() {
        for (i, d) in BUILT_INS.iter().enumerate() {
            assert!(!d.name.is_empty(), "kind {i} has no row");
            assert!(
                d.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                d.name
            );
            assert_eq!(
                BUILT_INS.iter().position(|o| o.name == d.name),
                Some(i),
                "{} twice",
                d.name
            );
        }
        assert_eq!(ROWS.len(), BUILT_INS.len());
        assert_eq!(BUILT_INS[Kind::CREDIT_CARD.index()].name, "credit_card");
        assert_eq!(BUILT_INS[Kind::JWT.index()].name, "jwt");
    }

    /// A detector that claims a stop byte decides there alone: `--` is a PEM block's start or
    /// nothing, never the inside of a Slack token that would swallow the values after it.
    #[test]
    fn a_claimed_stop_byte_is_not_taken_by_a_later_detector() {
        let scan = |enabled: KindSet, text: &str| {
            let scanner = super::super::Scanner::new(enabled);
            let mut found = Vec::new();
            scanner.scan_input(
                text.as_bytes(),
                super::super::Decoding {
                    percent: true,
                    plus_is_space: false,
                    json: true,
                    fold: true,
                    nested: true,
                },
                super::super::Format::Text,
                &mut super::super::Findings::default(),
                |f| found.push((scanner.name(f.kind).to_string(), text[f.span].to_string())),
            );
            found
        };
        let all = KindSet::all_built_ins();
        for (text, value) in [
            ("xoxb--123-45-6789", "123-45-6789"),
            (r"xoxb-\u002d123-45-6789", "123-45-6789"),
            ("xoxb-%2D123-45-6789", "123-45-6789"),
            ("xoxb--4111111111111111", "4111111111111111"),
        ] {
            let found = scan(all, text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(found[0].1, value, "{text}: {found:?}");
        }
        // The PEM detector claims `-----BEGIN ` alone: the Slack detector itself leaves a
        // second dash and what follows it, with or without the PEM detector.
        let no_pem = KindSet::default().with(Kind::SLACK_TOKEN).with(Kind::SSN);
        assert_eq!(
            scan(no_pem, "xoxb--123-45-6789"),
            vec![("ssn".to_string(), "123-45-6789".to_string())]
        );
        // Any other double dash reaches the later detectors: a GitLab token's random part
        // may start with one.
        assert_eq!(
            scan(all, "token: glpat--_4jPvoNtWYXlxP9YPv7"),
            vec![(
                "gitlab_token".to_string(),
                "glpat--_4jPvoNtWYXlxP9YPv7".to_string()
            )]
        );
        // The dashes of `-----BEGIN ` stay the PEM detector's.
        let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----";
        assert_eq!(
            scan(all, key),
            vec![("private_key".to_string(), key.to_string())]
        );
        // A token glued to its value is still one token.
        assert_eq!(scan(all, "xoxb-7302918465ab")[0].0, "slack_token");
    }

    #[test]
    fn the_more_specific_detector_is_tried_first() {
        // `123-45-6789` could start a phone number; an SSN it is.
        let t = b"123-45-6789";
        let w = DigitWord {
            t,
            start: 0,
            end: 3,
            digits: 3,
            sep_next: true,
        };
        assert_eq!(
            at_digit_word(KindSet::all_built_ins(), &w),
            Some((Kind::SSN, 0..11))
        );
        let phone_only = KindSet::default().with(Kind::PHONE);
        assert_eq!(at_digit_word(phone_only, &w), None);
        assert!(is_stop_byte(b'@') && is_stop_byte(b'-') && !is_stop_byte(b'x'));
        let key = b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----";
        assert_eq!(
            at_stop(KindSet::all_built_ins(), key, 0, b'-').map(|(k, _)| k),
            Some(Kind::PRIVATE_KEY)
        );
    }

    /// docs/configuration.md's detectors table is the catalogue's.
    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn docs_list_every_detector() {
        use crate::registry::docs::{assert_table, doc, markdown_table};
        let rows = markdown_table(&doc("docs/configuration.md"), "## Detectors");
        let want: Vec<Vec<String>> = BUILT_INS
            .iter()
            .map(|d| vec![format!("`{}`", d.name), d.finds.to_string()])
            .collect();
        assert_table("docs/configuration.md", "the detectors table", &rows, &want);
    }
}
