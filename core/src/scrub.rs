//! Replacing detected values. One function does it for the two uses: event payloads and paths
//! (`[CREDIT_CARD_REDACTED]`, so that no detected value reaches a log) and bodies forwarded by
//! a `redact` rule (`[CREDIT_CARD]`, written so the body stays valid JSON, form or text).

use crate::detect::{self, Finding, Scanner};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scrubbed {
    pub text: String,
    /// True when `text` stops before the end of the input because of the byte limit.
    pub truncated: bool,
}

/// How a redacted body is written, so that a placeholder keeps it well-formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// A placeholder outside a JSON string (a card number written as a JSON number) is quoted.
    Json,
    /// `application/x-www-form-urlencoded`: brackets are percent-encoded.
    Form,
    Text,
}

/// Replaces each finding's span in `input` by what `put` writes, keeping at most `limit` bytes
/// of the input (a finding that starts before the limit is replaced whole). `findings` must
/// come from scanning `input`, in input order; overlapping spans are merged. Returns the bytes
/// and whether they stop before the end of the input.
pub fn replace(
    input: &[u8],
    findings: &[Finding],
    limit: usize,
    mut put: impl FnMut(&Finding, &mut Vec<u8>),
) -> (Vec<u8>, bool) {
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
        put(f, &mut out);
        pos = end.min(input.len());
    }
    if pos < cut {
        out.extend_from_slice(input.get(pos..cut).unwrap_or_default());
    }
    (out, pos.max(cut) < input.len())
}

/// For events: at most `limit` bytes of `input`, every detected value replaced by its
/// `[TYPE_REDACTED]` placeholder, as text.
pub fn scrub(input: &[u8], findings: &[Finding], limit: usize, scanner: &Scanner) -> Scrubbed {
    let (bytes, truncated) = replace(input, findings, limit, |f, out| {
        out.extend_from_slice(scanner.event_placeholder(f.kind).as_bytes());
    });
    // Nearly always UTF-8 already: validated in place, not copied (a lossy pass walks it
    // chunk by chunk and copies it again, which showed in the per-request profile).
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Scrubbed { text, truncated }
}

/// For a `redact` rule: the whole body with every detected value replaced by its `[TYPE]`
/// placeholder, written so the body keeps its format.
pub fn redact(
    body: &[u8],
    findings: &mut [Finding],
    format: BodyFormat,
    scanner: &Scanner,
) -> Vec<u8> {
    if format == BodyFormat::Json {
        detect::mark_json_strings(body, findings);
        // A negative JSON number is replaced with its sign: `-"[CREDIT_CARD]"` is not JSON.
        for f in findings.iter_mut().filter(|f| !f.in_string) {
            if let Some(minus) = f.span.start.checked_sub(1) {
                if body.get(minus) == Some(&b'-') {
                    f.span.start = minus;
                }
            }
        }
    }
    replace(body, findings, body.len(), |f, out| {
        let p = scanner.redaction_placeholder(f.kind).as_bytes();
        match format {
            BodyFormat::Json if !f.in_string => {
                out.push(b'"');
                out.extend_from_slice(p);
                out.push(b'"');
            }
            BodyFormat::Form => {
                for &b in p {
                    match b {
                        b'[' => out.extend_from_slice(b"%5B"),
                        b']' => out.extend_from_slice(b"%5D"),
                        _ => out.push(b),
                    }
                }
            }
            _ => out.extend_from_slice(p),
        }
    })
    .0
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
    use crate::detect::{Decoding, Findings, Format, KindSet, Scanner};

    fn run(text: &str, limit: usize) -> Scrubbed {
        let scanner = Scanner::new(KindSet::all_built_ins());
        let mut spans = Vec::new();
        scanner.scan(text.as_bytes(), &mut Findings::default(), |f| spans.push(f));
        scrub(text.as_bytes(), &spans, limit, &scanner)
    }

    fn redacted(text: &str, format: BodyFormat) -> String {
        let scanner = Scanner::new(KindSet::all_built_ins());
        let mut spans = Vec::new();
        let (scan_format, decoding) = match format {
            BodyFormat::Json => (
                Format::Json,
                Decoding {
                    json: true,
                    ..Decoding::default()
                },
            ),
            BodyFormat::Form => (
                Format::Text,
                Decoding {
                    percent: true,
                    plus_is_space: true,
                    json: false,
                    fold: true,
                    nested: true,
                },
            ),
            BodyFormat::Text => (Format::Text, Decoding::default()),
        };
        scanner.scan_input(
            text.as_bytes(),
            decoding,
            scan_format,
            &mut Findings::default(),
            |f| spans.push(f),
        );
        String::from_utf8(redact(text.as_bytes(), &mut spans, format, &scanner)).unwrap()
    }

    #[test]
    fn redaction_keeps_the_format() {
        let json =
            r#"{"card":"4111 1111 1111 1111","n":4111111111111111,"e":"jane\u0040example.com"}"#;
        let out = redacted(json, BodyFormat::Json);
        assert_eq!(
            out,
            r#"{"card":"[CREDIT_CARD]","n":"[CREDIT_CARD]","e":"[EMAIL]"}"#
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["n"], "[CREDIT_CARD]");
        assert_eq!(
            redacted(
                "card=4111+1111+1111+1111&to=jane%40example.com",
                BodyFormat::Form
            ),
            "card=%5BCREDIT_CARD%5D&to=%5BEMAIL%5D"
        );
        assert_eq!(redacted("ssn 123-45-6789.", BodyFormat::Text), "ssn [SSN].");
        // A negative number keeps the body JSON.
        for body in [r#"{"a":-4111111111111111}"#, r#"[-4111111111111111, 1]"#] {
            let out = redacted(body, BodyFormat::Json);
            assert!(
                serde_json::from_str::<serde_json::Value>(&out).is_ok(),
                "{out}"
            );
            assert!(out.contains(r#""[CREDIT_CARD]""#), "{out}");
        }
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

    /// Attack on f532479 (`String::from_utf8` first, lossy only on error): the same text as
    /// the lossy pass of every byte string, for random bytes (invalid UTF-8, cut sequences)
    /// and findings at odd offsets (inside a character, overlapping, empty, past the end),
    /// with limits that cut anywhere.
    #[test]
    fn validated_in_place_is_the_lossy_text() {
        let scanner = Scanner::new(KindSet::all_built_ins());
        let pieces: [&[u8]; 10] = [
            b"a",
            b"\xc3\xa9",
            b"\xf0\x9f\x98\x80",
            b"\xe2\x82",
            b"\x80",
            b"\xff",
            b"4111 1111 1111 1111",
            b" ",
            b"\xed\xa0\x80",
            b"\xc0\xaf",
        ];
        let mut x: u64 = 0x0123_4567_89ab_cdef;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        for _ in 0..20_000 {
            let mut input = Vec::new();
            for _ in 0..next(12) {
                input.extend_from_slice(pieces[next(pieces.len())]);
            }
            let mut findings: Vec<Finding> = (0..next(4))
                .map(|_| {
                    let start = next(input.len() + 2);
                    let end = start + next(6);
                    Finding {
                        kind: detect::Kind::CREDIT_CARD,
                        span: start..end,
                        in_string: false,
                    }
                })
                .collect();
            findings.sort_by_key(|f| f.span.start);
            let limit = next(input.len() + 4);
            let got = scrub(&input, &findings, limit, &scanner);
            let (bytes, truncated) = replace(&input, &findings, limit, |f, out| {
                out.extend_from_slice(scanner.event_placeholder(f.kind).as_bytes());
            });
            assert_eq!(
                got.text,
                String::from_utf8_lossy(&bytes),
                "{input:?} {findings:?}"
            );
            assert_eq!(got.truncated, truncated);
        }
    }
}
