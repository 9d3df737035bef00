//! Sensitive-data detection: one pass over the bytes, hand-written matchers, no regex.
//!
//! The scan walks the input once. Digit groups feed the numeric detectors (cards, SSNs);
//! an `@` feeds the e-mail detector, which looks back a bounded distance for the local part.
//! Every matcher looks ahead or back a bounded number of bytes, so the work is linear in the
//! input whatever it holds.
//!
//! Detector kinds are small integer ids ([`Kind`]) so that findings are a bit set and rules
//! test `has_<type>` without touching strings.

mod card;
pub mod decode;
mod email;
mod ssn;

pub use decode::Decoding;

use std::ops::Range;

/// A detector type. Built-ins have fixed ids; the catalogue maps names to ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind(u8);

impl Kind {
    pub const CREDIT_CARD: Kind = Kind(0);
    pub const SSN: Kind = Kind(1);
    pub const EMAIL: Kind = Kind(2);

    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

struct BuiltIn {
    kind: Kind,
    name: &'static str,
    placeholder: &'static str,
}

const BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        kind: Kind::CREDIT_CARD,
        name: "credit_card",
        placeholder: "[CREDIT_CARD_REDACTED]",
    },
    BuiltIn {
        kind: Kind::SSN,
        name: "ssn",
        placeholder: "[SSN_REDACTED]",
    },
    BuiltIn {
        kind: Kind::EMAIL,
        name: "email",
        placeholder: "[EMAIL_REDACTED]",
    },
];

/// Names of all built-in detectors, in catalogue order.
pub fn built_in_names() -> impl Iterator<Item = &'static str> {
    BUILT_INS.iter().map(|b| b.name)
}

pub fn kind_by_name(name: &str) -> Option<Kind> {
    BUILT_INS.iter().find(|b| b.name == name).map(|b| b.kind)
}

pub fn name(kind: Kind) -> &'static str {
    BUILT_INS
        .get(kind.index())
        .map(|b| b.name)
        .unwrap_or("unknown")
}

pub fn placeholder(kind: Kind) -> &'static str {
    BUILT_INS
        .get(kind.index())
        .map(|b| b.placeholder)
        .unwrap_or("[REDACTED]")
}

/// A set of detector kinds (at most 64).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindSet(u64);

impl KindSet {
    pub fn all_built_ins() -> KindSet {
        BUILT_INS
            .iter()
            .fold(KindSet::default(), |s, b| s.with(b.kind))
    }

    pub fn with(self, kind: Kind) -> KindSet {
        KindSet(self.0 | (1u64 << (kind.0 & 63)))
    }

    pub fn contains(self, kind: Kind) -> bool {
        self.0 & (1u64 << (kind.0 & 63)) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Kinds in the set, in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Kind> {
        BUILT_INS
            .iter()
            .map(|b| b.kind)
            .filter(move |k| self.contains(*k))
    }

    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(name).collect()
    }
}

/// One detected value: its kind and where it is (byte offsets into the scanned input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    pub span: Range<usize>,
}

/// What a scan found. Reused across scans of one request (path, then body).
#[derive(Debug, Default, Clone)]
pub struct Findings {
    pub kinds: KindSet,
    /// Number of values found (all kinds together).
    pub count: usize,
}

impl Findings {
    fn add(&mut self, kind: Kind) {
        self.kinds = self.kinds.with(kind);
        self.count = self.count.saturating_add(1);
    }
}

/// The compiled set of enabled detectors.
#[derive(Debug, Clone)]
pub struct Scanner {
    enabled: KindSet,
}

impl Scanner {
    pub fn new(enabled: KindSet) -> Scanner {
        Scanner { enabled }
    }

    pub fn enabled(&self) -> KindSet {
        self.enabled
    }

    /// Scans `text`, records what it found in `findings` and calls `on_match` for every
    /// value with its byte range (the scrubber uses the ranges; the policy only the summary).
    pub fn scan(&self, text: &[u8], findings: &mut Findings, mut on_match: impl FnMut(Finding)) {
        if self.enabled.is_empty() {
            return;
        }
        let numeric = self.enabled.contains(Kind::CREDIT_CARD) || self.enabled.contains(Kind::SSN);
        let email = self.enabled.contains(Kind::EMAIL);
        let mut report = |kind: Kind, span: Range<usize>| {
            findings.add(kind);
            on_match(Finding { kind, span });
        };
        let mut i = 0;
        while let Some(&b) = text.get(i) {
            if b.is_ascii_digit() && numeric && !prev_is_digit(text, i) {
                if self.enabled.contains(Kind::SSN) {
                    if let Some(end) = ssn::match_at(text, i) {
                        report(Kind::SSN, i..end);
                        i = end;
                        continue;
                    }
                }
                if self.enabled.contains(Kind::CREDIT_CARD) {
                    if let Some(end) = card::match_at(text, i) {
                        report(Kind::CREDIT_CARD, i..end);
                        i = end;
                        continue;
                    }
                }
                i = skip_digits(text, i);
                continue;
            }
            if b == b'@' && email {
                if let Some(span) = email::match_around(text, i) {
                    let end = span.end;
                    report(Kind::EMAIL, span);
                    i = end;
                    continue;
                }
            }
            i += 1;
        }
    }
}

impl Scanner {
    /// Scans `input` and, when it holds escapes of the kinds `decoding` names, its decoded view
    /// too (the agent sees decoded values). `on_match` gets every value once, in input order,
    /// with its span in `input`.
    pub fn scan_input(
        &self,
        input: &[u8],
        decoding: Decoding,
        findings: &mut Findings,
        mut on_match: impl FnMut(Finding),
    ) {
        let view = match self.enabled.is_empty() {
            true => None,
            false => decode::view(input, decoding),
        };
        let Some(view) = view else {
            self.scan(input, findings, on_match);
            return;
        };
        let mut found = Vec::new();
        self.scan(input, findings, |f| found.push(f));
        let mut decoded = Vec::new();
        self.scan(&view.bytes, &mut Findings::default(), |f| decoded.push(f));
        // Both lists are in input order: one walk finds the values the raw scan missed.
        let raw_count = found.len();
        let mut j = 0;
        for f in decoded {
            let span = view.raw_span(&f.span);
            while found
                .get(j)
                .is_some_and(|r| j < raw_count && r.span.end <= span.start)
            {
                j += 1;
            }
            let overlaps = j < raw_count && found.get(j).is_some_and(|r| r.span.start < span.end);
            if !overlaps {
                findings.add(f.kind);
                found.push(Finding { kind: f.kind, span });
            }
        }
        found.sort_by_key(|f| f.span.start);
        found.into_iter().for_each(&mut on_match);
    }
}

fn prev_is_digit(text: &[u8], i: usize) -> bool {
    i.checked_sub(1)
        .and_then(|p| text.get(p))
        .is_some_and(u8::is_ascii_digit)
}

fn skip_digits(text: &[u8], mut i: usize) -> usize {
    while text.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// Byte at `i`, if `i` is in range (and not negative).
fn at(text: &[u8], i: Option<usize>) -> Option<u8> {
    i.and_then(|i| text.get(i)).copied()
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    fn scan_all(text: &str) -> Vec<(&'static str, String)> {
        let scanner = Scanner::new(KindSet::all_built_ins());
        let mut findings = Findings::default();
        let mut out = Vec::new();
        scanner.scan(text.as_bytes(), &mut findings, |f| {
            out.push((name(f.kind), text[f.span].to_string()));
        });
        assert_eq!(findings.count, out.len());
        out
    }

    #[test]
    fn finds_each_kind_in_json_and_text() {
        let body =
            r#"{"card":"4111 1111 1111 1111","ssn":"123-45-6789","to":"jane.doe+x@example.co.uk"}"#;
        assert_eq!(
            scan_all(body),
            vec![
                ("credit_card", "4111 1111 1111 1111".to_string()),
                ("ssn", "123-45-6789".to_string()),
                ("email", "jane.doe+x@example.co.uk".to_string()),
            ]
        );
        assert_eq!(
            scan_all("pay with 4111111111111111 now"),
            vec![("credit_card", "4111111111111111".to_string())]
        );
    }

    #[test]
    fn disabled_detectors_do_not_run() {
        let scanner = Scanner::new(KindSet::default().with(Kind::EMAIL));
        let mut findings = Findings::default();
        scanner.scan(
            b"4111111111111111 123-45-6789 a@b.io",
            &mut findings,
            |_| {},
        );
        assert_eq!(findings.kinds.names(), vec!["email"]);
        assert_eq!(findings.count, 1);
    }

    #[test]
    fn names_round_trip() {
        for n in built_in_names() {
            assert_eq!(name(kind_by_name(n).unwrap()), n);
        }
        assert!(kind_by_name("nope").is_none());
    }

    #[test]
    fn encoded_values_are_found_and_mapped_back() {
        let scanner = Scanner::new(KindSet::all_built_ins());
        let url = Decoding {
            percent: true,
            plus_is_space: true,
            json: false,
        };
        let input = "/q?e=jane%40example.com&c=4111+1111+1111+1111&s=123-45-6789";
        let mut f = Findings::default();
        let mut spans = Vec::new();
        scanner.scan_input(input.as_bytes(), url, &mut f, |x| spans.push(x));
        let got: Vec<(&str, &str)> = spans
            .iter()
            .map(|x| (name(x.kind), &input[x.span.clone()]))
            .collect();
        assert_eq!(
            got,
            vec![
                ("email", "jane%40example.com"),
                ("credit_card", "4111+1111+1111+1111"),
                ("ssn", "123-45-6789"),
            ]
        );
        assert_eq!(
            f.count, 3,
            "a value found raw is not counted again from the view"
        );
        let json = Decoding {
            json: true,
            ..Decoding::default()
        };
        let body = r#"{"n":"4111111111111111","ok":"a@b.io"}"#;
        let mut f = Findings::default();
        let mut spans = Vec::new();
        scanner.scan_input(body.as_bytes(), json, &mut f, |x| spans.push(x));
        let got: Vec<&str> = spans.iter().map(|x| &body[x.span.clone()]).collect();
        assert_eq!(got, vec![r"4111111111111111", "a@b.io"]);
        assert_eq!(f.kinds.names(), vec!["credit_card", "email"]);
    }

    #[test]
    fn linear_on_hostile_input() {
        // Long separated digit chains and runs of '@' must not blow up (bounded look-ahead).
        let chain = "1 ".repeat(200_000);
        let ats = "a@".repeat(200_000);
        let digits = "9".repeat(400_000);
        let escapes = "a%40b.io+".repeat(100_000) + &r"@x.io ".repeat(100_000);
        let all = Decoding {
            percent: true,
            plus_is_space: true,
            json: true,
        };
        for t in [chain, ats, digits, escapes] {
            let scanner = Scanner::new(KindSet::all_built_ins());
            let mut f = Findings::default();
            scanner.scan_input(t.as_bytes(), all, &mut f, |_| {});
        }
    }
}
