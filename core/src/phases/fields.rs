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
        let over = &mut scan.findings.incomplete;
        scan.method_spans = field_values(scanner, method, Decoding::default(), Ids::Scanned, over);
        scan.path_spans = field_values(scanner, path, PATH_DECODING, Ids::Scanned, over);
        for f in scan.method_spans.iter().chain(&scan.path_spans) {
            scan.findings.kinds = scan.findings.kinds.with(f.kind);
            scan.findings.count = scan.findings.count.saturating_add(1);
        }
        scan
    }

    /// Scans every header (or trailer) name and value, but the pseudo-headers that are fields
    /// of their own (`:method`, `:path`), `X-User-Override` (the filter's own override token,
    /// which it removes before the request leaves: its random digits are nobody's data, and
    /// read as data they could block the confirmation they carry) and the names in
    /// `detectors.skip_headers`.
    pub fn add_headers(&mut self, policy: &Policy, pairs: &[(&[u8], &[u8])], section: Section) {
        // Every name and value in one scan (its fixed cost once, not twice per header), NUL
        // between fields: no value a detector finds holds a NUL, so none spans two fields.
        let scanned: Vec<&(&[u8], &[u8])> = pairs
            .iter()
            .filter(|(name, _)| {
                !matches!(*name, b":method" | b":path")
                    && *name != super::header::USER_OVERRIDE.as_bytes()
                    && !policy.skip_headers.iter().any(|s| s.as_bytes() == *name)
            })
            .collect();
        let mut buf = Vec::with_capacity(scanned.iter().map(|(n, v)| n.len() + v.len() + 2).sum());
        // Where each field starts in `buf`: name, then value, per header.
        let mut starts = Vec::with_capacity(scanned.len() * 2);
        for (name, value) in &scanned {
            for field in [*name, *value] {
                starts.push(buf.len());
                buf.extend_from_slice(field);
                buf.push(0);
            }
        }
        let over = &mut self.findings.incomplete;
        let found = field_values(&policy.scanner, &buf, HEADER_DECODING, Ids::Scanned, over);
        let mut per_field: Vec<Vec<Finding>> = vec![Vec::new(); starts.len()];
        for f in found {
            let k = starts
                .partition_point(|s| *s <= f.span.start)
                .saturating_sub(1);
            let (Some(at), Some(list)) = (starts.get(k).copied(), per_field.get_mut(k)) else {
                continue;
            };
            list.push(Finding {
                span: f.span.start - at..f.span.end - at,
                ..f
            });
        }
        let mut fields = per_field.into_iter();
        for (name, value) in scanned {
            let name_spans = fields.next().unwrap_or_default();
            let mut value_spans = fields.next().unwrap_or_default();
            if ADDRESSING_HEADERS.contains(name) {
                value_spans.retain(|f| f.kind != Kind::IP_ADDRESS);
            }
            if value_spans.is_empty() && name_spans.is_empty() {
                continue;
            }
            let mut kinds = KindSet::default();
            for f in value_spans.iter().chain(&name_spans) {
                kinds = kinds.with(f.kind);
            }
            let count = value_spans.len() + name_spans.len();
            self.findings.kinds = self.findings.kinds.union(kinds);
            self.findings.count = self.findings.count.saturating_add(count);
            let list = match section {
                Section::Headers => &mut self.headers,
                Section::Trailers => &mut self.trailers,
            };
            list.push(FieldDetection {
                name: scrub(name, &name_spans, MAX_EVENT_NAME_BYTES, &policy.scanner).text,
                kinds,
                raw_name: name.to_vec(),
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

/// Whether a short request-controlled string (a trace id) holds a detected value, as a whole,
/// or glued to letters.
pub fn holds_sensitive(scanner: &Scanner, text: &[u8]) -> bool {
    // Not decoded: no view, nothing over a budget.
    !field_values(
        scanner,
        text,
        Decoding::default(),
        Ids::Replaced,
        &mut false,
    )
    .is_empty()
}

/// A short request- or target-controlled string (a target's origin, an agent id) as the
/// events write it: each value a detector finds in it replaced by its placeholder
/// (`http://[IP_ADDRESS_REDACTED]:80`), at most `limit` bytes.
pub fn scrubbed_field<'t>(
    scanner: &Scanner,
    text: &'t str,
    limit: usize,
) -> std::borrow::Cow<'t, str> {
    let spans = field_values(
        scanner,
        text.as_bytes(),
        Decoding::default(),
        Ids::Replaced,
        &mut false,
    );
    if spans.is_empty() && text.len() <= limit {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(scrub(text.as_bytes(), &spans, limit, scanner).text)
}

/// The values in one short request-controlled field (a method, a path, a header name or
/// value, a trace id), in field order: what the scan and its decoded view find, and what it
/// finds once the letters that touch a digit are read as spaces. A word boundary keeps
/// `v4111…` from being a card in prose, but a field is no prose, and `ref4111-1111-1111-1111`,
/// `ssn536-22-1234` or `4111a1111b1111c1111` in a header or an id that the filter copies into
/// every event line is the value with letters glued on. Spans are in `text` (the glued view
/// has its length).
/// `incomplete` is set when the decoded views were over their budget.
fn field_values(
    scanner: &Scanner,
    text: &[u8],
    decoding: Decoding,
    ids: Ids,
    incomplete: &mut bool,
) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut findings = Findings::default();
    scanner.scan_input(text, decoding, Format::Text, &mut findings, |f| {
        found.push(f)
    });
    *incomplete |= findings.incomplete;
    // Hex words (ids, hashes, trace ids) are left whole: read as spaces, their letters would
    // cut them into digit groups that look like values. In an id the filter would copy (and
    // replaces when it holds a value) a long digit run is read on its own
    // (`4111111111111111abcdef`); elsewhere not, since one random 32-hex id in about 8,000
    // holds a run of 13 to 19 digits that passes Luhn.
    // Made only when a letter is cut: most fields have none to cut.
    let mut glued: Option<Vec<u8>> = None;
    let mut at = 0;
    while at < text.len() {
        let len = text
            .get(at..)
            .map_or(0, |t| t.iter().take_while(|b| is_token_byte(**b)).count());
        if len == 0 {
            at += 1;
            continue;
        }
        let token = text.get(at..at + len).unwrap_or_default();
        // Only a letter that touches a digit is ever cut.
        if !token.iter().any(u8::is_ascii_digit) || !token.iter().any(u8::is_ascii_alphabetic) {
            at += len;
            continue;
        }
        let hex_word = token
            .iter()
            .all(|b| b.is_ascii_hexdigit() || !b.is_ascii_alphanumeric());
        // The letters before the word's first digit and after its last one: a prefix or a
        // suffix glued on (`fee4111-1111-1111-1111`), not the inside of an id.
        // Not in the shapes ids come in (UUIDs, trace and span ids, hashes), whose edges are
        // as random as their insides.
        let id_shaped = hex_word && is_id_shaped(token);
        let first_digit = token
            .iter()
            .position(u8::is_ascii_digit)
            .filter(|_| !id_shaped)
            .map(|p| at + p);
        let last_digit = token
            .iter()
            .rposition(u8::is_ascii_digit)
            .filter(|_| !id_shaped)
            .map(|p| at + p);
        for i in at..at + len {
            let digit_at =
                |j: Option<usize>| j.and_then(|j| text.get(j)).is_some_and(u8::is_ascii_digit);
            let before = digit_at(i.checked_sub(1));
            let after = digit_at(i.checked_add(1));
            let letter = text.get(i).is_some_and(u8::is_ascii_alphabetic);
            let edge =
                first_digit.is_some_and(|f| i + 1 == f) || last_digit.is_some_and(|l| i == l + 1);
            let cut = if hex_word {
                letter
                    && (edge
                        || ids == Ids::Replaced
                            && (before && long_digit_run(text, i, true)
                                || after && long_digit_run(text, i + 1, false)))
            } else {
                letter && (before || after)
            };
            if cut {
                if let Some(b) = glued.get_or_insert_with(|| text.to_vec()).get_mut(i) {
                    *b = b' ';
                }
            }
        }
        at += len;
    }
    if ids == Ids::Scanned {
        // A value glued to the inner letters of a hex word is an id's digits, not a value.
        found.retain(|f| !glued_to_hex_word(text, &f.span));
    }
    if let Some(glued) = glued {
        let raw = found.len();
        scanner.scan(&glued, &mut Findings::default(), |f| {
            let known = found
                .iter()
                .take(raw)
                .any(|r| r.span.start < f.span.end && f.span.start < r.span.end);
            let inside_id = ids == Ids::Scanned && glued_to_hex_word(&glued, &f.span);
            if !known && !inside_id {
                found.push(f);
            }
        });
        found.sort_by_key(|f| f.span.start);
    }
    found
}

/// Whether digit runs inside hex words are read on their own: only in ids, where a false
/// finding costs a new id, never a refused request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ids {
    Replaced,
    Scanned,
}

/// Bytes of a word in a field: letters, digits and the separators values are written with.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/' | b'+')
}

/// A UUID (8-4-4-4-12 hex digits, RFC 9562) or a hex run of an id's or a hash's length (16:
/// W3C span ids; 32: trace ids, MD5; 40: SHA-1; 64: SHA-256; or any run of 32 or more).
fn is_id_shaped(word: &[u8]) -> bool {
    let uuid = word
        .split(|b| *b == b'-')
        .map(<[u8]>::len)
        .eq([8, 4, 4, 4, 12]);
    let hex = word.iter().all(u8::is_ascii_hexdigit);
    uuid || hex && (word.len() == 16 || word.len() >= 32)
}

/// Whether a span touches a letter of the hex word it sits in (`6247551729440463ecad…`).
fn glued_to_hex_word(text: &[u8], span: &std::ops::Range<usize>) -> bool {
    let start = text.get(..span.start).map_or(0, |t| {
        t.len() - t.iter().rev().take_while(|b| is_token_byte(**b)).count()
    });
    let end = span.end
        + text
            .get(span.end..)
            .map_or(0, |t| t.iter().take_while(|b| is_token_byte(**b)).count());
    let word = text.get(start..end).unwrap_or_default();
    let hex_word = word
        .iter()
        .all(|b| b.is_ascii_hexdigit() || !b.is_ascii_alphanumeric());
    let letter = |j: Option<usize>| {
        j.and_then(|j| text.get(j))
            .is_some_and(u8::is_ascii_alphabetic)
    };
    hex_word && (letter(span.start.checked_sub(1)) || letter(Some(span.end)))
}

/// Whether the digits that end just before `at` (`before`), or start at `at`, run for at
/// least 9: a card or an SSN without separators inside a hex word.
fn long_digit_run(text: &[u8], at: usize, before: bool) -> bool {
    let run = if before {
        text.get(..at).map_or(0, |t| {
            t.iter().rev().take_while(|b| b.is_ascii_digit()).count()
        })
    } else {
        text.get(at..)
            .map_or(0, |t| t.iter().take_while(|b| b.is_ascii_digit()).count())
    };
    run >= 9
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

    /// The ids proxies and clients generate (UUIDs, W3C trace and span ids, random tokens) must not read
    /// as values: a false finding in `x-request-id` would count on every request.
    #[test]
    fn random_ids_are_not_values() {
        let p = policy("");
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        const HEX: &[u8] = b"0123456789abcdef";
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut hits = Vec::new();
        for n in 0..20_000 {
            let mut pick = |alphabet: &[u8], len: usize| -> Vec<u8> {
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            };
            let hex32 = pick(HEX, 32);
            let mut uuid = hex32.clone();
            for at in [20, 16, 12, 8] {
                uuid.insert(at, b'-');
            }
            let token = pick(B64, 22 + n % 22);
            let span_id = pick(HEX, 16);
            for id in [hex32, uuid, token, span_id] {
                if !field_values(&p.scanner, &id, HEADER_DECODING, Ids::Scanned, &mut false)
                    .is_empty()
                {
                    hits.push(String::from_utf8_lossy(&id).into_owned());
                }
            }
        }
        assert!(
            hits.is_empty(),
            "{} of 80000: {:?}",
            hits.len(),
            &hits[..hits.len().min(20)]
        );
    }

    /// Values with letters glued on, as an attacker writes them to slip past a word boundary.
    #[test]
    fn values_glued_to_words_are_found_in_fields() {
        let p = policy("");
        for (text, kind) in [
            ("ref4111-1111-1111-1111", Kind::CREDIT_CARD),
            ("id536-22-1234", Kind::SSN),
            ("x4111111111111111", Kind::CREDIT_CARD),
            ("ssn536-22-1234", Kind::SSN),
            ("/u/acct4111111111111111", Kind::CREDIT_CARD),
            ("X4111-1111-1111-1111", Kind::CREDIT_CARD),
            ("card4111-1111-1111-1111", Kind::CREDIT_CARD),
            ("x536.22.1234", Kind::SSN),
            ("4111.1111.1111.1111", Kind::CREDIT_CARD),
            ("fee4111-1111-1111-1111", Kind::CREDIT_CARD),
            ("bad4111111111111111", Kind::CREDIT_CARD),
            ("abc536-22-1234", Kind::SSN),
            ("4111-1111-1111-1111abc", Kind::CREDIT_CARD),
        ] {
            let found = field_values(
                &p.scanner,
                text.as_bytes(),
                PATH_DECODING,
                Ids::Scanned,
                &mut false,
            );
            assert!(found.iter().any(|f| f.kind == kind), "{text}: {found:?}");
            assert!(holds_sensitive(&p.scanner, text.as_bytes()), "{text}");
        }
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
