//! The hold-back window: a stream's text scanned as it passes, holding back only what could
//! still become part of a value, so that a value split across chunks or events is found
//! before any of it leaves.
//!
//! The window keeps the text not yet let go (`held`) and, before it, up to
//! [`CONTEXT_BYTES`] of text already let go (read, never changed): cue words ("SSN:", a
//! column header) and the start of a value are seen across the cut. Each step scans context
//! and held text together; values are found whole, whatever the chunking. The release point
//! ([`Window::limit`]) is the last safe boundary (`Release::Words`) or the point `hold_bytes`
//! back from the end, whichever is later, pulled back to the start of any value it would cut.
//! Memory per stream is bounded: `4 × hold_bytes` of held text at most (a value longer than
//! that is let go in parts, each part redacted), plus the context.

use std::ops::Range;

use crate::detect::{Decoding, Finding, Findings, Format, Kind, Scanner, CUE_AFTER_BYTES};

use super::Release;

/// Text already let go that is kept to be read with what follows.
pub const CONTEXT_BYTES: usize = 256;

/// A value found in the stream: its kind and where it lies in the stream's text (offsets from
/// the start of the stream, so that they stay valid as the window moves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub kind: Kind,
    pub start: u64,
    pub end: u64,
    /// Found only when all of it had left (a cue that came after it): counted, and the rules
    /// see it, but there is nothing left to replace.
    pub left: bool,
}

/// What one scan of the window found.
#[derive(Debug, Default)]
pub struct Scanned {
    /// Values that reach into the held text, in stream order.
    pub found: Vec<Found>,
    /// Values not seen before (the kinds and the count the rules are told about).
    pub new: Vec<Found>,
    /// The decoded views were over their memory budget: the text was not scanned whole.
    pub incomplete: bool,
}

#[derive(Debug, Clone)]
pub struct Window {
    /// Context, then held text.
    text: Vec<u8>,
    /// The stream offset of `text[0]`.
    base: u64,
    /// Where the held text starts in `text`.
    held_from: usize,
    hold_bytes: usize,
    release: Release,
    /// How the text is read: as text, or as JSON (number forms undone).
    format: Format,
    /// Values already reported (start, kind), so that each is counted once however many scans
    /// see it; those behind the window are forgotten.
    seen: Vec<(u64, Kind)>,
}

impl Window {
    pub fn new(hold_bytes: usize, release: Release) -> Window {
        Window::with_format(hold_bytes, release, Format::Text)
    }

    /// A window whose text is read as `format` (JSON: a JSON or NDJSON body).
    pub fn with_format(hold_bytes: usize, release: Release, format: Format) -> Window {
        Window {
            text: Vec::new(),
            base: 0,
            held_from: 0,
            hold_bytes,
            release,
            format,
            seen: Vec::new(),
        }
    }

    /// Appends text to the held part.
    pub fn push(&mut self, bytes: &[u8]) {
        self.text.extend_from_slice(bytes);
    }

    /// The stream offset just past the last text pushed.
    pub fn end(&self) -> u64 {
        self.base + len_u64(self.text.len())
    }

    /// The stream offset where the held text starts (everything before has been let go).
    pub fn released(&self) -> u64 {
        self.base + len_u64(self.held_from)
    }

    /// Bytes held (not yet let go).
    pub fn held(&self) -> usize {
        self.text.len().saturating_sub(self.held_from)
    }

    /// The text between two stream offsets that the window still has (context or held).
    pub fn slice(&self, range: Range<u64>) -> &[u8] {
        let at = |o: u64| usize::try_from(o.saturating_sub(self.base)).unwrap_or(usize::MAX);
        self.text
            .get(at(range.start)..at(range.end).min(self.text.len()))
            .unwrap_or_default()
    }

    /// Scans context and held text together, as text with every decoding a body gets.
    pub fn scan(&mut self, scanner: &Scanner) -> Scanned {
        let mut out = Scanned::default();
        if self.held() == 0 {
            return out;
        }
        let mut findings = Findings::default();
        let mut spans: Vec<Finding> = Vec::new();
        scanner.scan_input(
            &self.text,
            Decoding::BODY,
            self.format,
            &mut findings,
            |f| spans.push(f),
        );
        out.incomplete = findings.incomplete;
        let released = self.released();
        for f in spans {
            let mut found = Found {
                kind: f.kind,
                start: self.base + len_u64(f.span.start),
                end: self.base + len_u64(f.span.end),
                left: false,
            };
            // Wholly in the context: judged when it was held, or found only now that what
            // follows it came (a cue after an identifier): then it has left, and is reported.
            found.left = found.end <= released;
            if !self.seen.contains(&(found.start, found.kind)) {
                self.seen.push((found.start, found.kind));
                out.new.push(found);
            }
            if !found.left {
                out.found.push(found);
            }
        }
        out
    }

    /// Where the held text may be let go to, given what the last scan found: everything when
    /// the stream has ended; else the later of the last safe boundary (with
    /// [`Release::Words`]) and `hold_bytes` back from the end, pulled back to the start of a
    /// value it would cut (unless that value began before the held text, or is longer than
    /// the window's bound: it is let go in redacted parts).
    pub fn limit(&self, found: &[Found], end_of_stream: bool) -> u64 {
        let end = self.end();
        let released = self.released();
        if end_of_stream {
            return end;
        }
        let by_age = end.saturating_sub(len_u64(self.hold_bytes));
        let by_words = match self.release {
            Release::Words => self.base + len_u64(safe_boundary(&self.text, self.held_from)),
            Release::Window => released,
        };
        let mut limit = by_age.max(by_words).max(released);
        let bound = len_u64(self.hold_bytes.saturating_mul(4));
        // Latest first: pulling back to one value's start may cut an earlier one.
        for f in found.iter().rev() {
            if f.start >= released && f.start < limit && limit < f.end {
                if end - f.start > bound {
                    continue;
                }
                limit = f.start;
            }
        }
        // A value not yet complete (its end still to come) is unknown: the scan saw only
        // what is there. Nothing else to do: the boundary and age rules hold it.
        limit.clamp(released, end)
    }

    /// Lets go of the held text up to `to` (a stream offset), keeping up to
    /// [`CONTEXT_BYTES`] of it as context.
    pub fn release(&mut self, to: u64) {
        let to = to.clamp(self.released(), self.end());
        self.held_from = usize::try_from(to - self.base).unwrap_or(self.text.len());
        if self.held_from > CONTEXT_BYTES {
            let drop = self.held_from - CONTEXT_BYTES;
            self.text.drain(..drop);
            self.base += len_u64(drop);
            self.held_from = CONTEXT_BYTES;
            let base = self.base;
            self.seen.retain(|(start, _)| *start >= base);
        }
    }
}

/// The last place in `text[from..]` where held text can be cut with no value crossing it:
/// just after a whitespace byte that follows two plain words (`from` when there is none).
///
/// Values that contain whitespace are groups of digits or of letters and digits (card
/// numbers, phone numbers, IBANs, national identifiers: `4111 1111 …`, `GB82 WEST 1234 …`,
/// `AB 12 34 56 C`); values without are single tokens (keys, e-mail addresses, tokens), which
/// end at whitespace. A plain word has no digit, no byte outside ASCII (a full-width digit or
/// a look-alike may fold into one) and is not one or two capital letters (the letters that
/// begin an identifier); after two of them, what follows cannot continue a value that began
/// before. And no cut comes within [`CUE_AFTER_BYTES`] after a digit: an identifier's cue may
/// follow it (`046 454 286 is my SIN`). The rule holds for every built-in detector; a value it
/// misjudges is still found (the context is scanned with the held text): what of it is still
/// held is redacted, and one that had all left is still counted (the rules and the contract
/// see it, and can end the stream).
pub fn safe_boundary(text: &[u8], from: usize) -> usize {
    let mut i = text.len();
    while i > from {
        let at = i - 1;
        if text.get(at).is_some_and(u8::is_ascii_whitespace) {
            let w1 = word_before(text, at);
            if is_plain(text.get(w1.clone()).unwrap_or_default()) {
                let w2 = word_before(text, w1.start);
                let second = text.get(w2.clone()).unwrap_or_default();
                // The start of the text (a stream's first word) counts as plain.
                let plain = (second.is_empty() && w2.start == 0) || is_plain(second);
                // A cue may follow a number (`046 454 286 is my SIN`): nothing within
                // `CUE_AFTER_BYTES` after a digit (or a byte outside ASCII) is a boundary.
                let near_digits = text
                    .get(i.saturating_sub(CUE_AFTER_BYTES)..i)
                    .is_some_and(|w| w.iter().any(|b| b.is_ascii_digit() || !b.is_ascii()));
                if plain && !near_digits {
                    return i;
                }
            }
        }
        i -= 1;
    }
    from
}

/// The word (maximal run of non-whitespace bytes) that ends just before the whitespace run
/// ending at `at` (exclusive).
fn word_before(text: &[u8], at: usize) -> Range<usize> {
    let mut end = at;
    while end > 0 && text.get(end - 1).is_some_and(u8::is_ascii_whitespace) {
        end -= 1;
    }
    let mut start = end;
    while start > 0
        && text
            .get(start - 1)
            .is_some_and(|b| !b.is_ascii_whitespace())
    {
        start -= 1;
    }
    start..end
}

fn is_plain(word: &[u8]) -> bool {
    !word.is_empty()
        && word.iter().all(|b| b.is_ascii() && !b.is_ascii_digit())
        && !(word.len() <= 2 && word.iter().all(u8::is_ascii_uppercase))
}

fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::KindSet;

    fn scanner() -> Scanner {
        Scanner::new(KindSet::all_built_ins())
    }

    /// Streams `pieces` through a window, letting go as it says; returns what was let go at
    /// each step and every value found.
    fn run(pieces: &[&str], hold: usize, release: Release) -> (Vec<String>, Vec<Found>) {
        let s = scanner();
        let mut w = Window::new(hold, release);
        let mut out = Vec::new();
        let mut all = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            w.push(p.as_bytes());
            let scanned = w.scan(&s);
            all.extend(scanned.new.iter().copied());
            let eos = i + 1 == pieces.len();
            let to = w.limit(&scanned.found, eos);
            let from = w.released();
            out.push(String::from_utf8_lossy(w.slice(from..to)).into_owned());
            w.release(to);
        }
        (out, all)
    }

    #[test]
    fn a_card_split_over_four_pieces_is_found_before_any_digit_leaves() {
        let (out, found) = run(
            &[
                "Your card is 4111",
                " 1111",
                " 1111 ",
                "1111 thanks for asking",
            ],
            512,
            Release::Words,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let card = found[0];
        // Nothing of the card was let go before its last piece arrived.
        for step in &out[..3] {
            assert!(!step.contains("4111"), "{out:?}");
        }
        assert_eq!(
            out.concat(),
            "Your card is 4111 1111 1111 1111 thanks for asking"
        );
        assert_eq!(card.end - card.start, 19);
    }

    #[test]
    fn prose_flows_at_the_pace_of_its_words() {
        let (out, found) = run(
            &["The weather ", "today is ", "quite nice ", "and warm"],
            512,
            Release::Words,
        );
        assert!(found.is_empty());
        // Each step lets go of what two plain words end.
        assert_eq!(out[0], "The weather ");
        assert_eq!(out[1], "today is ");
        assert_eq!(out[2], "quite nice ");
        assert_eq!(out[3], "and warm");
    }

    #[test]
    fn the_window_mode_holds_hold_bytes() {
        let (out, _) = run(
            &["a".repeat(40).as_str(), "b".repeat(40).as_str(), ""],
            32,
            Release::Window,
        );
        assert_eq!(out[0].len(), 8);
        assert_eq!(out[1].len(), 40);
        assert_eq!(out[2].len(), 32);
    }

    #[test]
    fn a_token_is_held_until_it_ends() {
        let (out, found) = run(
            &[
                "write to ",
                "jane.doe",
                "@exam",
                "ple.com",
                " when you can ok",
            ],
            512,
            Release::Words,
        );
        assert_eq!(out[0], "write to ");
        assert!(out[1..4].iter().all(String::is_empty), "{out:?}");
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn digit_groups_and_short_capitals_are_never_a_boundary() {
        let t = b"ref AB 12 34 56 C and";
        // The last boundary is after `ref ` (preceded by the stream's start and `ref`).
        assert_eq!(safe_boundary(t, 0), 4);
        assert_eq!(safe_boundary(b"GB82 WEST 1234 ", 0), 0);
        assert_eq!(safe_boundary(b"it is fine ", 0), 11);
        // Full-width digits are not plain.
        assert_eq!(safe_boundary("x \u{ff14}\u{ff11} y ".as_bytes(), 0), 2);
    }

    #[test]
    fn a_cue_in_the_context_still_counts() {
        // An SSN needs a cue; the cue leaves before the number arrives.
        let (out, found) = run(
            &[
                "My social security number is ",
                "078-05-",
                "1120 ok then and so on",
            ],
            512,
            Release::Words,
        );
        assert_eq!(found.len(), 1, "{out:?}");
    }

    #[test]
    fn each_value_is_reported_once_however_many_scans_see_it() {
        let (_, found) = run(
            &[
                "mail jane@example.com",
                " and",
                " then",
                " more text here ok",
            ],
            512,
            Release::Window,
        );
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn memory_is_bounded_by_the_hold_and_the_context() {
        let s = scanner();
        let mut w = Window::new(64, Release::Window);
        for _ in 0..10_000 {
            w.push(b"0123456789");
            let scanned = w.scan(&s);
            let to = w.limit(&scanned.found, false);
            w.release(to);
            assert!(
                w.text.len() <= CONTEXT_BYTES + 64 * 4 + 10,
                "{}",
                w.text.len()
            );
        }
    }
}
