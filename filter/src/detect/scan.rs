//! The single pass: walks the input word by word and hands each place that can start a value
//! to the detectors that can match there.

use super::text::{at, word_end};
use super::{card, crypto, email, iban, ip, phone, routing, secrets, ssn};
use super::{Finding, Format, Kind, Scanner};

/// Escapes the pass met: they decide whether a decoded view is worth scanning too.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Seen {
    pub json_unicode_escape: bool,
    pub percent_escape: bool,
    pub plus: bool,
}

/// What a byte can be to the pass. Most bytes are `QUIET` (skipped at once) or `WORD`.
const QUIET: u8 = 0;
const WORD: u8 = 1;
const PUNCT: u8 = 2;

#[allow(clippy::indexing_slicing)] // const evaluation: `b` is below 256 by the loop condition
const fn class_table() -> [u8; 256] {
    let mut t = [QUIET; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphanumeric() {
            WORD
        } else if matches!(
            c,
            b'"' | b'\\' | b'%' | b'@' | b'+' | b'(' | b'-' | b':' | b'\n'
        ) {
            PUNCT
        } else {
            QUIET
        };
        b += 1;
    }
    t
}

static CLASS: [u8; 256] = class_table();

fn class(b: u8) -> u8 {
    CLASS.get(usize::from(b)).copied().unwrap_or(QUIET)
}

/// The first offset from `i` whose byte is not quiet. (Testing eight bytes at a time was
/// measured slower: words and gaps in JSON are shorter than eight bytes.)
fn next_not_quiet(t: &[u8], i: usize) -> Option<usize> {
    t.get(i..)?
        .iter()
        .position(|&b| class(b) != QUIET)
        .map(|p| i + p)
}

pub(super) fn scan(sc: &Scanner, t: &[u8], format: Format, emit: &mut impl FnMut(Finding)) -> Seen {
    let mut seen = Seen::default();
    let json = format == Format::Json;
    let en = sc.enabled;
    let email_on = en.contains(Kind::EMAIL);
    let phone_on = en.contains(Kind::PHONE);
    let key_on = en.contains(Kind::PRIVATE_KEY);
    let ip_on = en.contains(Kind::IP_ADDRESS);
    let customs = !sc.custom.is_empty();
    let mut segments: Vec<std::ops::Range<usize>> = Vec::new();
    let mut segment_start = 0usize;
    let mut in_string = false;
    let mut i = 0usize;
    // Skip what cannot start anything, then look closer.
    while let Some(p) = next_not_quiet(t, i) {
        i = p;
        let Some(&b) = t.get(i) else { break };
        if class(b) == WORD {
            let end = word_end(t, i);
            let len = end - i;
            let next = at(t, end);
            // Most words start nothing: only digits, and words whose length or next byte
            // fits a credential, IBAN or IPv6 group, are looked at.
            let candidate = b.is_ascii_digit()
                || len >= 14
                || matches!(next, Some(b'_' | b'-' | b'.' | b':'))
                || (len == 4 && b.is_ascii_uppercase() && next == Some(b' '));
            match candidate.then(|| word(sc, t, i, end, b)).flatten() {
                Some((kind, m_end)) => {
                    emit(Finding {
                        kind,
                        span: i..m_end,
                        in_string,
                    });
                    i = m_end.max(i + 1);
                }
                None => i = end,
            }
            continue;
        }
        let matched = match b {
            b'"' => {
                if json {
                    if in_string && customs {
                        segments.push(segment_start..i);
                    }
                    in_string = !in_string;
                    segment_start = i + 1;
                }
                None
            }
            b'\n' => {
                if !json && customs {
                    segments.push(segment_start..i);
                    segment_start = i + 1;
                }
                None
            }
            b'\\' => {
                seen.json_unicode_escape |= at(t, i + 1) == Some(b'u');
                // The escaped character is not the start of anything (`\n4111` starts at 4).
                i += 2;
                continue;
            }
            b'%' => {
                seen.percent_escape |= at(t, i + 1).is_some_and(|c| c.is_ascii_hexdigit())
                    && at(t, i + 2).is_some_and(|c| c.is_ascii_hexdigit());
                None
            }
            b'@' if email_on => email::match_around(t, i).map(|s| (Kind::EMAIL, s.start, s.end)),
            b'+' => {
                seen.plus = true;
                if phone_on {
                    phone::match_plus(t, i).map(|e| (Kind::PHONE, i, e))
                } else {
                    None
                }
            }
            b'(' if phone_on => phone::match_at(t, i).map(|e| (Kind::PHONE, i, e)),
            b'-' if key_on && at(t, i + 1) == Some(b'-') => {
                secrets::match_private_key(t, i).map(|e| (Kind::PRIVATE_KEY, i, e))
            }
            b':' if ip_on && at(t, i + 1) == Some(b':') => {
                ip::match_v6(t, i).map(|e| (Kind::IP_ADDRESS, i, e))
            }
            _ => None,
        };
        match matched {
            Some((kind, start, end)) => {
                emit(Finding {
                    kind,
                    span: start..end,
                    in_string,
                });
                i = end.max(i + 1);
            }
            None => i += 1,
        }
    }
    if customs {
        if !json || in_string {
            segments.push(segment_start..t.len());
        }
        custom(sc, t, &segments, json, emit);
    }
    seen
}

/// Detectors that can start where a word starts (`b` is its first byte, `end` its end).
/// Cheap tests of the word's shape come first: most words start nothing.
fn word(sc: &Scanner, t: &[u8], i: usize, end: usize, b: u8) -> Option<(Kind, usize)> {
    let en = sc.enabled;
    let on = |k: Kind| en.contains(k);
    let len = end - i;
    let next = at(t, end);
    let hex_word = || {
        len <= 4
            && t.get(i..end)
                .is_some_and(|w| w.iter().all(u8::is_ascii_hexdigit))
    };
    if b.is_ascii_digit() {
        let digits = t
            .get(i..end)
            .map_or(0, |w| w.iter().take_while(|d| d.is_ascii_digit()).count());
        let sep_next = matches!(at(t, i + digits), Some(b' ' | b'-' | b'.' | 0xE2 | 0xEF));
        // Most specific first: an SSN or a card is never also one of the later kinds.
        if on(Kind::SSN) && ((digits == 3 && sep_next) || digits == 9) {
            if let Some(e) = ssn::match_at(t, i) {
                return Some((Kind::SSN, e));
            }
        }
        if on(Kind::CREDIT_CARD)
            && ((4..=6).contains(&digits) && sep_next || (13..=19).contains(&digits))
        {
            if let Some(e) = card::match_at(t, i) {
                return Some((Kind::CREDIT_CARD, e));
            }
        }
        if on(Kind::IP_ADDRESS) {
            let m = match next {
                Some(b'.') if digits == len => ip::match_v4(t, i),
                Some(b':') if hex_word() => ip::match_v6(t, i),
                _ => None,
            };
            if let Some(e) = m {
                return Some((Kind::IP_ADDRESS, e));
            }
        }
        if on(Kind::PHONE) && (digits >= 7 || sep_next || at(t, i + digits) == Some(b')')) {
            if let Some(e) = phone::match_at(t, i) {
                return Some((Kind::PHONE, e));
            }
        }
        if on(Kind::US_BANK_ROUTING) && digits == 9 {
            if let Some(e) = routing::match_at(t, i) {
                return Some((Kind::US_BANK_ROUTING, e));
            }
        }
        if on(Kind::CRYPTO_WALLET) && len >= 26 {
            if let Some(e) = crypto::match_base58(t, i) {
                return Some((Kind::CRYPTO_WALLET, e));
            }
        }
        return None;
    }
    if next == Some(b':') && on(Kind::IP_ADDRESS) && hex_word() {
        if let Some(e) = ip::match_v6(t, i) {
            return Some((Kind::IP_ADDRESS, e));
        }
    }
    let special = match b {
        b'A' if on(Kind::AWS_ACCESS_KEY) && len == 20 => {
            secrets::match_aws(t, i).map(|e| (Kind::AWS_ACCESS_KEY, e))
        }
        b'g' if on(Kind::GITHUB_TOKEN) && matches!(next, Some(b'_')) => {
            secrets::match_github(t, i).map(|e| (Kind::GITHUB_TOKEN, e))
        }
        b'x' if on(Kind::SLACK_TOKEN) && len == 4 && next == Some(b'-') => {
            secrets::match_slack(t, i).map(|e| (Kind::SLACK_TOKEN, e))
        }
        b'e' if on(Kind::JWT) && next == Some(b'.') && len > 3 => {
            secrets::match_jwt(t, i).map(|e| (Kind::JWT, e))
        }
        b'b' | b't' | b'B' | b'T' if on(Kind::CRYPTO_WALLET) && len >= 14 => {
            crypto::match_bech32(t, i).map(|e| (Kind::CRYPTO_WALLET, e))
        }
        b'm' | b'n' if on(Kind::CRYPTO_WALLET) && len >= 26 => {
            crypto::match_base58(t, i).map(|e| (Kind::CRYPTO_WALLET, e))
        }
        _ => None,
    };
    if special.is_some() {
        return special;
    }
    if b.is_ascii_uppercase()
        && len >= 4
        && on(Kind::IBAN)
        && at(t, i + 1).is_some_and(|c| c.is_ascii_uppercase())
    {
        return iban::match_at(t, i).map(|e| (Kind::IBAN, e));
    }
    None
}

/// The operator's patterns, over bounded segments: JSON string values, or lines of text.
fn custom(
    sc: &Scanner,
    t: &[u8],
    segments: &[std::ops::Range<usize>],
    json: bool,
    emit: &mut impl FnMut(Finding),
) {
    let mut found: Vec<Finding> = Vec::new();
    for (kind, d) in &sc.custom {
        if !sc.enabled.contains(*kind) {
            continue;
        }
        for seg in segments {
            d.find(t, seg.clone(), |span| {
                found.push(Finding {
                    kind: *kind,
                    span,
                    in_string: json,
                })
            });
        }
    }
    found.into_iter().for_each(emit);
}
