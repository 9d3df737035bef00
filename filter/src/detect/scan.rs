//! The single pass. It stops only at bytes that can start, or betray, a value: digits, the
//! letter `A` (AWS keys) and a little punctuation (`@ + ( - : . _ % \`). Letters, spaces and
//! JSON structure are skipped in a tight loop without stopping at every word, which is where
//! a word-by-word walk spent its time (a mispredicted branch at every word boundary).
//!
//! Values that start with letters are found from a byte they carry: `bc1…` from its digit,
//! `ghp_…` from its underscore, `xoxb-…` from its dash, `eyJ….` from its dot, `fe80::` from its
//! colon, `DE89…` from its check digits; the detector then runs from the start of that word.
//! Whether a finding sits inside a JSON string is worked out only when a body is redacted.

use super::text::{at, before, is_word, word_end};

use super::{card, crypto, email, iban, ip, phone, routing, secrets, ssn};
use super::{Finding, Format, Kind, Scanner};

/// Escapes the pass met: they decide whether a decoded view is worth scanning too.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Seen {
    pub json_unicode_escape: bool,
    pub percent_escape: bool,
    pub plus: bool,
}

/// Bytes the pass stops at.
#[allow(clippy::indexing_slicing)] // const evaluation: `b` is below 256 by the loop condition
const fn trigger_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_digit()
            || matches!(
                c,
                b'A' | b'@' | b'+' | b'(' | b'-' | b':' | b'.' | b'_' | b'%' | b'\\'
            );
        b += 1;
    }
    t
}

static TRIGGER: [bool; 256] = trigger_table();

fn is_trigger(b: u8) -> bool {
    TRIGGER.get(usize::from(b)).copied().unwrap_or(false)
}

fn next_trigger(t: &[u8], i: usize) -> Option<usize> {
    t.get(i..)?
        .iter()
        .position(|&b| is_trigger(b))
        .map(|p| i + p)
}

/// The start of the run of bytes satisfying `f` that ends at `i`, looking back at most `max`.
fn run_start(t: &[u8], i: usize, max: usize, f: impl Fn(u8) -> bool) -> usize {
    let mut s = i;
    while s > 0 && i - s < max && before(t, s).is_some_and(&f) {
        s -= 1;
    }
    s
}

/// Nothing of a word right before `i`; an escape (`\n4111`) counts as a boundary.
fn word_start_at(t: &[u8], i: usize) -> bool {
    !before(t, i).is_some_and(is_word) || i.checked_sub(2).and_then(|p| t.get(p)) == Some(&b'\\')
}

pub(super) fn scan(sc: &Scanner, t: &[u8], format: Format, emit: &mut impl FnMut(Finding)) -> Seen {
    let mut seen = Seen::default();
    let mut found: Vec<Finding> = Vec::new();
    let mut report = |kind: Kind, start: usize, end: usize| {
        found.push(Finding {
            kind,
            span: start..end,
            in_string: false,
        })
    };
    let en = sc.enabled;
    let on = |k: Kind| en.contains(k);
    // Where a letter-led word was last looked at, so that its other triggers do not repeat it.
    let mut checked_word = usize::MAX;
    let mut i = 0usize;
    while let Some(p) = next_trigger(t, i) {
        i = p;
        let Some(&b) = t.get(i) else { break };
        if b.is_ascii_digit() {
            let end = word_end(t, i);
            let m = if word_start_at(t, i) {
                numeric(sc, t, i, end)
            } else {
                // A digit inside a word: the word may be a letter-led value.
                let ws = run_start(t, i, 64, is_word);
                if ws != checked_word {
                    checked_word = ws;
                    letter_led(sc, t, ws)
                } else {
                    None
                }
            };
            match m {
                Some((kind, start, m_end)) => {
                    report(kind, start, m_end);
                    i = m_end.max(i + 1);
                }
                None => i = end.max(i + 1),
            }
            continue;
        }
        let m = match b {
            b'A' if word_start_at(t, i) && on(Kind::AWS_ACCESS_KEY) => {
                secrets::match_aws(t, i).map(|e| (Kind::AWS_ACCESS_KEY, i, e))
            }
            b'@' if on(Kind::EMAIL) => {
                email::match_around(t, i).map(|s| (Kind::EMAIL, s.start, s.end))
            }
            b'+' => {
                seen.plus = true;
                if on(Kind::PHONE) {
                    phone::match_plus(t, i).map(|e| (Kind::PHONE, i, e))
                } else {
                    None
                }
            }
            b'(' if on(Kind::PHONE) => phone::match_at(t, i).map(|e| (Kind::PHONE, i, e)),
            b'-' => {
                if at(t, i + 1) == Some(b'-') && on(Kind::PRIVATE_KEY) {
                    secrets::match_private_key(t, i).map(|e| (Kind::PRIVATE_KEY, i, e))
                } else {
                    // `xoxb-`
                    let ws = run_start(t, i, 4, |c| c.is_ascii_lowercase());
                    (ws + 4 == i && word_start_at(t, ws) && on(Kind::SLACK_TOKEN))
                        .then(|| secrets::match_slack(t, ws).map(|e| (Kind::SLACK_TOKEN, ws, e)))
                        .flatten()
                }
            }
            b'_' if on(Kind::GITHUB_TOKEN) => {
                // `ghp_`, `github_pat_`
                let ws = run_start(t, i, 6, |c| c.is_ascii_lowercase());
                (word_start_at(t, ws) && at(t, ws) == Some(b'g'))
                    .then(|| secrets::match_github(t, ws).map(|e| (Kind::GITHUB_TOKEN, ws, e)))
                    .flatten()
            }
            b'.' if on(Kind::JWT) => {
                // The end of a JWT header: `eyJ…` and base64url up to here.
                let rs = run_start(t, i, 1400, |c| {
                    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
                });
                (t.get(rs..rs + 3) == Some(b"eyJ") && word_start_at(t, rs))
                    .then(|| secrets::match_jwt(t, rs).map(|e| (Kind::JWT, rs, e)))
                    .flatten()
            }
            b':' if on(Kind::IP_ADDRESS) => {
                let hs = run_start(t, i, 4, |c| c.is_ascii_hexdigit());
                let start = if hs < i { hs } else { i };
                let first = hs < i || at(t, i + 1) == Some(b':');
                (first
                    && start != checked_word
                    && !before(t, start).is_some_and(|c| c == b':' || c.is_ascii_hexdigit()))
                .then(|| {
                    checked_word = start;
                    ip::match_v6(t, start).map(|e| (Kind::IP_ADDRESS, start, e))
                })
                .flatten()
            }
            b'%' => {
                seen.percent_escape |= at(t, i + 1).is_some_and(|c| c.is_ascii_hexdigit())
                    && at(t, i + 2).is_some_and(|c| c.is_ascii_hexdigit());
                None
            }
            b'\\' => {
                seen.json_unicode_escape |= at(t, i + 1) == Some(b'u');
                // The escaped character is not the start of anything (`\n4111` starts at 4).
                i += 2;
                continue;
            }
            _ => None,
        };
        match m {
            Some((kind, start, end)) => {
                report(kind, start, end);
                i = end.max(i + 1);
            }
            None => i += 1,
        }
    }
    let customs = !sc.custom.is_empty();
    if customs {
        custom(sc, t, format, &mut found);
    }
    found.into_iter().for_each(emit);
    seen
}

/// Numeric values that start where a digit word starts (`end` is the word's end). Cheap tests
/// of the word's shape come first: most numbers start nothing.
fn numeric(sc: &Scanner, t: &[u8], i: usize, end: usize) -> Option<(Kind, usize, usize)> {
    let en = sc.enabled;
    let on = |k: Kind| en.contains(k);
    let len = end - i;
    let next = at(t, end);
    let digits = t
        .get(i..end)
        .map_or(0, |w| w.iter().take_while(|d| d.is_ascii_digit()).count());
    let sep_next = matches!(at(t, i + digits), Some(b' ' | b'-' | b'.' | 0xE2 | 0xEF));
    let hex_word = || {
        len <= 4
            && t.get(i..end)
                .is_some_and(|w| w.iter().all(u8::is_ascii_hexdigit))
    };
    let found = |k: Kind, e: Option<usize>| e.map(|e| (k, i, e));
    if date_or_time(t, i, digits) {
        return None;
    }
    // Most specific first: an SSN or a card is never also one of the later kinds.
    if on(Kind::SSN) && ((digits == 3 && sep_next) || digits == 9) {
        if let Some(m) = found(Kind::SSN, ssn::match_at(t, i)) {
            return Some(m);
        }
    }
    if on(Kind::CREDIT_CARD)
        && ((4..=6).contains(&digits) && sep_next || (13..=19).contains(&digits))
    {
        if let Some(m) = found(Kind::CREDIT_CARD, card::match_at(t, i)) {
            return Some(m);
        }
    }
    if on(Kind::IP_ADDRESS) {
        let m = match next {
            Some(b'.') if digits == len => ip::match_v4(t, i),
            Some(b':') if hex_word() => ip::match_v6(t, i),
            _ => None,
        };
        if let Some(m) = found(Kind::IP_ADDRESS, m) {
            return Some(m);
        }
    }
    if on(Kind::PHONE) && (digits >= 7 || sep_next || at(t, i + digits) == Some(b')')) {
        if let Some(m) = found(Kind::PHONE, phone::match_at(t, i)) {
            return Some(m);
        }
    }
    if on(Kind::US_BANK_ROUTING) && digits == 9 {
        if let Some(m) = found(Kind::US_BANK_ROUTING, routing::match_at(t, i)) {
            return Some(m);
        }
    }
    if on(Kind::CRYPTO_WALLET) && len >= 26 {
        if let Some(m) = found(Kind::CRYPTO_WALLET, crypto::match_base58(t, i)) {
            return Some(m);
        }
    }
    None
}

/// `2026-01-23`, `2026/01/23` and `12:34:56` (not followed by more groups): none of the
/// detectors matches them, and timestamps are everywhere in JSON, so they are dismissed first.
fn date_or_time(t: &[u8], i: usize, digits: usize) -> bool {
    let d = |k: usize| at(t, i + k).is_some_and(|c| c.is_ascii_digit());
    let is = |k: usize, c: u8| at(t, i + k) == Some(c);
    match digits {
        4 => {
            let sep = at(t, i + 4);
            matches!(sep, Some(b'-' | b'/'))
                && d(5)
                && d(6)
                && sep == at(t, i + 7)
                && d(8)
                && d(9)
                && !d(10)
        }
        2 => is(2, b':') && d(3) && d(4) && is(5, b':') && d(6) && d(7) && !d(8) && !is(8, b':'),
        _ => false,
    }
}

/// Values that start with letters, looked at from a digit inside their first word (which
/// starts at `ws`): Bech32 (`bc1…`), Base58 (`m…`, `n…`), IBANs (`DE89…`), IPv6 groups
/// (`fe80:`).
fn letter_led(sc: &Scanner, t: &[u8], ws: usize) -> Option<(Kind, usize, usize)> {
    let en = sc.enabled;
    let on = |k: Kind| en.contains(k);
    let end = word_end(t, ws);
    let len = end - ws;
    let b = at(t, ws)?;
    if on(Kind::IP_ADDRESS) && at(t, end) == Some(b':') && len <= 4 {
        if let Some(e) = t
            .get(ws..end)
            .filter(|w| w.iter().all(u8::is_ascii_hexdigit))
            .and_then(|_| ip::match_v6(t, ws))
        {
            return Some((Kind::IP_ADDRESS, ws, e));
        }
    }
    if on(Kind::CRYPTO_WALLET) {
        let m = match b {
            b'b' | b't' | b'B' | b'T' if len >= 14 => crypto::match_bech32(t, ws),
            b'm' | b'n' if len >= 26 => crypto::match_base58(t, ws),
            _ => None,
        };
        if let Some(e) = m {
            return Some((Kind::CRYPTO_WALLET, ws, e));
        }
    }
    if on(Kind::IBAN)
        && b.is_ascii_uppercase()
        && at(t, ws + 1).is_some_and(|c| c.is_ascii_uppercase())
    {
        if let Some(e) = iban::match_at(t, ws) {
            return Some((Kind::IBAN, ws, e));
        }
    }
    None
}

/// Marks the findings that sit inside a JSON string: one walk over the quotes and escapes up to
/// the last finding. Only redaction needs to know (a value outside a string is quoted when
/// replaced), so only redaction pays for it. `found` must be in input order.
pub(super) fn mark_strings(t: &[u8], found: &mut [Finding]) {
    let mut in_string = false;
    let mut i = 0usize;
    for f in found.iter_mut() {
        // Jump from quote to quote (and over escapes) up to the finding.
        while let Some(p) = t
            .get(i..f.span.start)
            .and_then(|r| r.iter().position(|&b| b == b'"' || b == b'\\'))
        {
            i += p;
            if t.get(i) == Some(&b'"') {
                in_string = !in_string;
                i += 1;
            } else {
                i += 2;
            }
        }
        i = i.max(f.span.start);
        f.in_string = in_string;
    }
}

/// The operator's patterns, over bounded segments: JSON string values, or lines of text.
fn custom(sc: &Scanner, t: &[u8], format: Format, found: &mut Vec<Finding>) {
    let mut segments = Vec::new();
    if format == Format::Json {
        let mut in_string = false;
        let mut start = 0usize;
        let mut i = 0usize;
        while let Some(&b) = t.get(i) {
            match b {
                b'"' => {
                    if in_string {
                        segments.push(start..i);
                    }
                    in_string = !in_string;
                    start = i + 1;
                }
                b'\\' => i += 1,
                _ => {}
            }
            i += 1;
        }
        if in_string {
            segments.push(start..t.len());
        }
    } else {
        let mut start = 0usize;
        for (i, &b) in t.iter().enumerate() {
            if b == b'\n' {
                segments.push(start..i);
                start = i + 1;
            }
        }
        segments.push(start..t.len());
    }
    for (kind, d) in &sc.custom {
        if !sc.enabled.contains(*kind) {
            continue;
        }
        for seg in &segments {
            d.find(t, seg.clone(), |span| {
                found.push(Finding {
                    kind: *kind,
                    span,
                    in_string: false,
                })
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::date_or_time;

    #[test]
    fn dates_and_times() {
        assert!(date_or_time(b"2026-01-23T12", 0, 4));
        assert!(date_or_time(b"2026/01/23 x", 0, 4));
        assert!(!date_or_time(b"2026-01/23", 0, 4));
        assert!(!date_or_time(b"2026-01-234", 0, 4));
        assert!(date_or_time(b"12:34:56Z", 0, 2));
        assert!(
            !date_or_time(b"12:34:56:78", 0, 2),
            "could be an IPv6 address"
        );
    }
}
