//! Scrubbing: the text with every detected value replaced by its type-labelled placeholder.
//! Used for the payload of request events (and the path), so that no detected value reaches
//! a log.

use crate::detect::{self, Finding};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scrubbed {
    pub text: String,
    /// True when `text` stops before the end of the input because of the byte limit.
    pub truncated: bool,
}

/// Replaces each finding's span in `input` by its placeholder, keeping at most `limit` bytes
/// of the input (a finding that starts before the limit is replaced whole). `findings` must
/// come from scanning `input`, in scan order; overlapping spans are merged.
pub fn scrub(input: &[u8], findings: &[Finding], limit: usize) -> Scrubbed {
    let cut = char_boundary(input, limit.min(input.len()));
    let mut out: Vec<u8> = Vec::with_capacity(cut + 32);
    let mut pos = 0usize;
    let mut spans = findings.iter().peekable();
    while let Some(f) = spans.next() {
        if f.span.start >= cut {
            break;
        }
        let start = f.span.start.max(pos);
        let mut end = f.span.end.max(start);
        // Merge spans that overlap this one (an e-mail whose local part is a card number).
        while let Some(next) = spans.peek().filter(|n| n.span.start < end) {
            end = end.max(next.span.end);
            spans.next();
        }
        out.extend_from_slice(input.get(pos..start).unwrap_or_default());
        out.extend_from_slice(detect::placeholder(f.kind).as_bytes());
        pos = end.min(input.len());
    }
    if pos < cut {
        out.extend_from_slice(input.get(pos..cut).unwrap_or_default());
    }
    Scrubbed {
        text: String::from_utf8_lossy(&out).into_owned(),
        truncated: pos.max(cut) < input.len(),
    }
}

/// The largest offset <= `at` that does not split a UTF-8 sequence.
fn char_boundary(input: &[u8], at: usize) -> usize {
    let mut at = at;
    let mut steps = 0;
    while at > 0 && at < input.len() && steps < 3 && input.get(at).is_some_and(|b| b & 0xC0 == 0x80)
    {
        at -= 1;
        steps += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{Findings, KindSet, Scanner};

    fn run(text: &str, limit: usize) -> Scrubbed {
        let mut spans = Vec::new();
        Scanner::new(KindSet::all_built_ins()).scan(
            text.as_bytes(),
            &mut Findings::default(),
            |f| spans.push(f),
        );
        scrub(text.as_bytes(), &spans, limit)
    }

    #[test]
    fn replaces_every_value() {
        let s = run(
            r#"{"card":"4111 1111 1111 1111","ssn":"123-45-6789","email":"a@b.io"}"#,
            1 << 20,
        );
        assert_eq!(
            s.text,
            r#"{"card":"[CREDIT_CARD_REDACTED]","ssn":"[SSN_REDACTED]","email":"[EMAIL_REDACTED]"}"#
        );
        assert!(!s.truncated);
    }

    #[test]
    fn overlapping_spans_merge() {
        let s = run("x 4111111111111111@example.com y", 1 << 20);
        assert_eq!(s.text, "x [CREDIT_CARD_REDACTED] y");
    }

    #[test]
    fn truncation_never_leaks_a_partial_value() {
        let text = "card 4111111111111111 tail";
        for limit in 0..text.len() + 2 {
            let s = run(text, limit);
            assert!(!s.text.contains("4111"), "limit {limit}: {}", s.text);
            assert!(!s.text.contains("1111"), "limit {limit}: {}", s.text);
        }
        let s = run(text, 8);
        assert_eq!(s.text, "card [CREDIT_CARD_REDACTED]");
        assert!(s.truncated);
        let s = run(text, 3);
        assert_eq!(s.text, "car");
        assert!(s.truncated);
        // A limit that lands right after a value at the very end is not a truncation.
        let s = run("card 4111111111111111", 8);
        assert!(!s.truncated);
    }

    #[test]
    fn truncation_respects_utf8() {
        let s = run("ééé", 3);
        assert_eq!(s.text, "é");
        assert!(s.truncated);
    }
}
