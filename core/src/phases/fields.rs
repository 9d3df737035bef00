//! The request's own fields, scanned as one list: the method, the path and query, every header
//! name and value (but those the operator skips), and the trailers. What is found here counts
//! for the rules exactly like what the body holds, and the same spans scrub the event lines:
//! the decision and the scrubber never see different fields.

use crate::detect::{Decoding, Finding, Findings, Format, Kind, KindSet, Scanner};
use crate::policy::Policy;
use crate::scrub::{redact, scrub, BodyFormat};

use super::Headers;

/// Paths and query strings are percent-encoded (`+` is a space in query strings), and may hide
/// look-alikes and nested encodings like a body.
pub(super) const PATH_DECODING: Decoding = Decoding {
    plus_is_space: true,
    json: false,
    ..Decoding::BODY
};

/// Header values may be percent-encoded (cookies, `Link`), carry JSON text, look-alikes and
/// nested encodings.
const HEADER_DECODING: Decoding = Decoding::BODY;

/// Headers whose value is where the request is addressed or where it came from, written by
/// proxies: an IP address there is routing, not data the caller sends (other detectors still
/// run on them).
const ADDRESSING_HEADERS: [&[u8]; 7] = [
    b":authority",
    b"host",
    b"x-forwarded-for",
    b"x-forwarded-host",
    b"x-real-ip",
    b"x-envoy-external-address",
    b"forwarded",
];

/// Header names and values in events are bounded like paths.
const MAX_EVENT_NAME_BYTES: usize = 256;

/// A run of at least this many ASCII digits inside a word (`4111111111111111abcdef`) is
/// scanned alone too, in the short request-controlled strings that become headers or event
/// fields (trace ids, header values): the word boundary that keeps `v4111…` from being a card
/// in prose is no protection in an id that the filter copies into every event line.
const EMBEDDED_DIGITS: usize = 9;

/// A header (or trailer) in which something was found: its name as events show it (scrubbed
/// itself) and the kinds found in it; for a `redact` rule, its name and value as sent and the
/// values to replace. Events never see the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldDetection {
    pub name: String,
    pub kinds: KindSet,
    /// The name as sent (lower-case, as Envoy keeps it).
    pub raw_name: Vec<u8>,
    /// Something was found in the name itself: a rewrite removes the header.
    pub name_found: bool,
    pub value: Vec<u8>,
    /// What was found in the value, in value order.
    pub value_spans: Vec<Finding>,
}

/// What detection found in the request's fields before its body.
#[derive(Debug, Clone, Default)]
pub(super) struct FieldScan {
    /// Totals over every field: what the rules see (with the body's).
    pub findings: Findings,
    pub method_spans: Vec<Finding>,
    pub path_spans: Vec<Finding>,
    pub headers: Vec<FieldDetection>,
    pub trailers: Vec<FieldDetection>,
}

/// Which list a header map goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Headers,
    Trailers,
}

impl FieldScan {
    /// Scans the method and the path (query string included, percent-decoded).
    pub fn of_request_line(policy: &Policy, method: &[u8], path: &[u8]) -> FieldScan {
        let mut scan = FieldScan::default();
        let scanner = &policy.scanner;
        scanner.scan_input(
            method,
            Decoding::default(),
            Format::Text,
            &mut scan.findings,
            |f| scan.method_spans.push(f),
        );
        let seen = scan.method_spans.clone();
        embedded_digits(scanner, method, &seen, &mut scan.findings, |f| {
            scan.method_spans.push(f)
        });
        scan.method_spans.sort_by_key(|f| f.span.start);
        scanner.scan_input(path, PATH_DECODING, Format::Text, &mut scan.findings, |f| {
            scan.path_spans.push(f)
        });
        scan
    }

    /// Scans every header (or trailer) name and value, but the pseudo-headers that are fields
    /// of their own (`:method`, `:path`) and the names in `detectors.skip_headers`.
    pub fn add_headers(&mut self, policy: &Policy, pairs: &[(&[u8], &[u8])], section: Section) {
        for (name, value) in pairs {
            if matches!(*name, b":method" | b":path")
                || policy.skip_headers.iter().any(|s| s.as_bytes() == *name)
            {
                continue;
            }
            let mut kinds = KindSet::default();
            let mut name_spans = Vec::new();
            let mut count = 0usize;
            let addressing = ADDRESSING_HEADERS.contains(name);
            let keep = |f: &Finding| !(addressing && f.kind == Kind::IP_ADDRESS);
            let mut value_findings = Findings::default();
            let mut seen = Vec::new();
            let mut value_spans = Vec::new();
            policy.scanner.scan_input(
                value,
                HEADER_DECODING,
                Format::Text,
                &mut value_findings,
                |f| seen.push(f),
            );
            let mut embedded = Vec::new();
            embedded_digits(&policy.scanner, value, &seen, &mut value_findings, |f| {
                embedded.push(f)
            });
            for f in seen.into_iter().chain(embedded).filter(|f| keep(f)) {
                kinds = kinds.with(f.kind);
                count += 1;
                value_spans.push(f);
            }
            value_spans.sort_by_key(|f| f.span.start);
            let mut name_findings = Findings::default();
            policy
                .scanner
                .scan(name, &mut name_findings, |f| name_spans.push(f));
            for f in &name_spans {
                kinds = kinds.with(f.kind);
                count += 1;
            }
            if kinds.is_empty() {
                continue;
            }
            self.findings.kinds = self.findings.kinds.union(kinds);
            self.findings.count = self.findings.count.saturating_add(count);
            let name_bytes: &[u8] = name;
            let name = scrub(name, &name_spans, MAX_EVENT_NAME_BYTES, &policy.scanner).text;
            let list = match section {
                Section::Headers => &mut self.headers,
                Section::Trailers => &mut self.trailers,
            };
            list.push(FieldDetection {
                name,
                kinds,
                raw_name: name_bytes.to_vec(),
                name_found: !name_spans.is_empty(),
                value: value.to_vec(),
                value_spans,
            });
        }
    }
}

/// What a `redact` rule does to the request's fields: headers and trailers whose values held
/// something get the value with `[TYPE]` placeholders (a header whose name held one is
/// removed), the path gets its values replaced (brackets percent-encoded). The method cannot be
/// rewritten: a rule must block what it holds.
#[derive(Debug, Default)]
pub(super) struct FieldRewrite {
    /// (map, name, new value or `None` to remove).
    pub edits: Vec<(Headers, String, Option<String>)>,
    pub kinds: KindSet,
    /// How many values were replaced.
    pub values: usize,
}

impl FieldScan {
    pub fn rewrite(&self, policy: &Policy, path: &str) -> FieldRewrite {
        let mut out = FieldRewrite::default();
        let scanner = &policy.scanner;
        if !self.path_spans.is_empty() {
            let mut spans = self.path_spans.clone();
            let new = redact(path.as_bytes(), &mut spans, BodyFormat::Form, scanner);
            out.note(&spans);
            out.edits.push((
                Headers::Request,
                ":path".into(),
                Some(String::from_utf8_lossy(&new).into_owned()),
            ));
        }
        for (list, map) in [
            (&self.headers, Headers::Request),
            (&self.trailers, Headers::RequestTrailers),
        ] {
            for h in list {
                let name = String::from_utf8_lossy(&h.raw_name).into_owned();
                if h.name_found {
                    out.kinds = out.kinds.union(h.kinds);
                    out.values += 1;
                    out.edits.push((map, name, None));
                    continue;
                }
                let mut spans = h.value_spans.clone();
                let new = redact(&h.value, &mut spans, BodyFormat::Text, scanner);
                out.note(&spans);
                out.edits
                    .push((map, name, Some(String::from_utf8_lossy(&new).into_owned())));
            }
        }
        out
    }
}

impl FieldRewrite {
    fn note(&mut self, spans: &[Finding]) {
        for f in spans {
            self.kinds = self.kinds.with(f.kind);
            self.values += 1;
        }
    }
}

/// Whether a short request-controlled string (a trace id) holds a detected value, as a whole
/// or in a digit run inside a word.
pub fn holds_sensitive(scanner: &Scanner, text: &[u8]) -> bool {
    let mut seen = Vec::new();
    let mut findings = Findings::default();
    scanner.scan(text, &mut findings, |f| seen.push(f));
    embedded_digits(scanner, text, &seen, &mut findings, |_| {});
    findings.count > 0
}

/// Scans alone each run of [`EMBEDDED_DIGITS`] or more ASCII digits that touches a letter
/// (runs between non-letters were seen by the ordinary scan), but runs within a value the
/// ordinary scan found (`seen`). Spans are in `text`.
fn embedded_digits(
    scanner: &Scanner,
    text: &[u8],
    seen: &[Finding],
    findings: &mut Findings,
    mut on_match: impl FnMut(Finding),
) {
    let mut i = 0;
    while i < text.len() {
        let Some(start) = text
            .get(i..)
            .and_then(|t| t.iter().position(u8::is_ascii_digit))
            .map(|p| p + i)
        else {
            break;
        };
        let len = text
            .get(start..)
            .map_or(0, |t| t.iter().take_while(|b| b.is_ascii_digit()).count());
        let end = start + len;
        let touches_letter = |at: Option<&u8>| at.is_some_and(u8::is_ascii_alphabetic);
        let embedded = touches_letter(start.checked_sub(1).and_then(|p| text.get(p)))
            || touches_letter(text.get(end));
        let known = seen
            .iter()
            .any(|f| f.span.start < end && start < f.span.end);
        if len >= EMBEDDED_DIGITS && embedded && !known {
            let run = text.get(start..end).unwrap_or_default();
            scanner.scan(run, findings, |f| {
                on_match(Finding {
                    span: f.span.start + start..f.span.end + start,
                    ..f
                })
            });
        }
        i = end.max(i + 1);
    }
}

/// The request's method for an event line: scrubbed of what was found in it (Envoy takes any
/// token as a method over HTTP/2, `123-45-6789` included).
pub(super) fn event_method(policy: &Policy, method: &str, spans: &[Finding]) -> String {
    if spans.is_empty() {
        return method.to_string();
    }
    scrub(
        method.as_bytes(),
        spans,
        MAX_EVENT_NAME_BYTES,
        &policy.scanner,
    )
    .text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Kind;

    fn policy(extra: &str) -> Policy {
        let cfg = format!(
            r#"{{"manifest": {{"identity": {{"agent_id": "a"}}, "trust_level": "standard",
                "privacy": {{"retention": "ephemeral"}}}}{extra}}}"#
        );
        crate::config::parse(cfg.as_bytes()).unwrap()
    }

    #[test]
    fn every_header_is_scanned_but_the_skipped_ones() {
        let p = policy("");
        let mut scan = FieldScan::of_request_line(&p, b"POST", b"/x");
        let pairs: Vec<(&[u8], &[u8])> = vec![
            (b":method", b"POST"),
            (b":authority", b"10.1.2.3:8080"),
            (b"x-card", b"4111 1111 1111 1111"),
            (b"cookie", b"a=1; ssn=536-22-1234"),
            (b"x-mail", b"ann%40example.com"),
            (b"authorization", b"Bearer 4111111111111111"),
            (b"x-forwarded-for", b"203.0.113.7"),
            (b"x-ip", b"203.0.113.7"),
            (b"x-id", b"req-4111111111111111abc"),
            (b"4111111111111111", b"x"),
        ];
        scan.add_headers(&p, &pairs, Section::Headers);
        let got: Vec<(&str, Vec<&str>)> = scan
            .headers
            .iter()
            .map(|h| (h.name.as_str(), p.scanner.names(h.kinds)))
            .collect();
        assert_eq!(
            got,
            vec![
                ("x-card", vec!["credit_card"]),
                ("cookie", vec!["ssn"]),
                ("x-mail", vec!["email"]),
                ("x-ip", vec!["ip_address"]),
                ("x-id", vec!["credit_card"]),
                ("[CREDIT_CARD_REDACTED]", vec!["credit_card"]),
            ]
        );
        assert_eq!(scan.findings.count, 6);
        assert!(scan.findings.kinds.contains(Kind::SSN));
        assert!(!scan.findings.kinds.contains(Kind::JWT));
    }

    #[test]
    fn the_method_is_a_field_like_any_other() {
        let p = policy("");
        let scan = FieldScan::of_request_line(&p, b"4111111111111111", b"/x");
        assert!(scan.findings.kinds.contains(Kind::CREDIT_CARD));
        assert_eq!(
            event_method(&p, "4111111111111111", &scan.method_spans),
            "[CREDIT_CARD_REDACTED]"
        );
        let scan = FieldScan::of_request_line(&p, b"POST", b"/pay?ssn=536-22-1234");
        assert!(scan.findings.kinds.contains(Kind::SSN));
        assert!(scan.method_spans.is_empty());
    }

    #[test]
    fn ids_are_checked_for_embedded_values() {
        let p = policy("");
        assert!(holds_sensitive(
            &p.scanner,
            b"4111111111111111abcdefabcdefabcd"
        ));
        assert!(holds_sensitive(&p.scanner, b"123-45-6789"));
        assert!(!holds_sensitive(
            &p.scanner,
            b"4bf92f3577b34da6a3ce929d0e0e4736"
        ));
        assert!(!holds_sensitive(&p.scanner, b"req-1234"));
    }
}
