//! IP addresses. IPv4: four decimal octets up to 255, no leading zeros, not part of a longer
//! dotted number, not a version (`version 1.2.3.4`). IPv6: hex groups of up to four digits,
//! eight of them or fewer with one `::`, optionally ending in an IPv4 address; times
//! (`12:34:56`) and MAC addresses are not IPv6 addresses. An IPv6 address is a whole token
//! with a decimal digit in it: scope operators in code (`std::io`, `Foo::bar()`, `f32::add(`,
//! `a::b::c`), hex words (`dead::beef`) and a bare `::` are not addresses.

use super::catalogue::{BuiltIn, DigitWord, Stop};
use super::text::{at, before, digit, has_cue, run_start};

pub(super) struct IpAddress;

impl BuiltIn for IpAddress {
    const NAME: &'static str = "ip_address";
    const FINDS: &'static str = "IPv4 (four octets up to 255, no leading zeros, not after `version`/`release`/`build`) and IPv6 (full, `::`-compressed, with an IPv4 tail; a whole token with a decimal digit). Times, MAC addresses and code scopes (`std::io`, `Foo::bar`) are not IPv6; the machine's own addresses (loopback `127.0.0.0/8` and `::1`, unspecified `0.0.0.0`) are not reported.";
    const DIGIT_WORD: bool = true;
    /// Digits and a dot (IPv4), or a hex group and a colon (IPv6).
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        match w.next() {
            Some(b'.') if w.digits == w.len() => match_v4(w.t, w.start),
            Some(b':') if w.is_hex_group() => match_v6(w.t, w.start),
            _ => None,
        }
    }
    const LETTER_WORD: bool = true;
    /// A hex group that starts with a letter, and a colon (`fe80:`).
    fn at_letter_word(t: &[u8], start: usize, end: usize) -> Option<usize> {
        let group = at(t, end) == Some(b':')
            && end - start <= 4
            && t.get(start..end)
                .is_some_and(|w| w.iter().all(u8::is_ascii_hexdigit));
        group.then(|| match_v6(t, start)).flatten()
    }
    const STOPS: &'static [u8] = b":";
    /// A colon that ends the first group (`fe80:`, `a:`) or starts a compressed address (`::1`):
    /// IPv6 from there, unless the colon continues a longer run of groups.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let hs = run_start(t, i, 4, is_hex);
        let first = hs < i || at(t, i + 1) == Some(b':');
        let start = if hs < i { hs } else { i };
        if !first || before(t, start).is_some_and(|c| c == b':' || is_hex(c)) {
            return Stop::Pass;
        }
        Stop::claim(start, match_v6(t, start))
    }
}

const VERSION_CUES: &[&str] = &["version", "ver.", "release", "build", "firmware", "v."];

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// A byte that glues a token to an IPv6 address: letters, digits and `_` of an identifier.
fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A first group of at most four hex digits from `start` (perhaps none: `::1`), a colon, and
/// right after it a second colon or at most four hex digits and a colon.
fn second_colon(t: &[u8], start: usize) -> bool {
    let first = run_end_hex(t, start, 4);
    if at(t, first) != Some(b':') {
        return false;
    }
    let second = run_end_hex(t, first + 1, 4);
    at(t, second) == Some(b':')
}

/// The end of at most `max` hex digits from `i`.
fn run_end_hex(t: &[u8], i: usize, max: usize) -> usize {
    let mut j = i;
    while j - i < max && at(t, j).is_some_and(is_hex) {
        j += 1;
    }
    j
}

/// One octet at `i`: its end.
fn octet(t: &[u8], i: usize) -> Option<usize> {
    let mut v: u32 = 0;
    let mut j = i;
    while let Some(d) = digit(t, j) {
        v = v * 10 + u32::from(d);
        j += 1;
        if j - i > 3 {
            return None;
        }
    }
    let len = j - i;
    (len > 0 && v <= 255 && !(len > 1 && digit(t, i) == Some(0))).then_some(j)
}

/// The end of a dotted quad at `i`, without boundary checks.
fn quad(t: &[u8], i: usize) -> Option<usize> {
    let mut j = octet(t, i)?;
    for _ in 0..3 {
        if at(t, j) != Some(b'.') {
            return None;
        }
        j = octet(t, j + 1)?;
    }
    Some(j)
}

/// At a digit that starts a word: an IPv4 address.
pub(super) fn match_v4(t: &[u8], start: usize) -> Option<usize> {
    if before(t, start) == Some(b'.') {
        return None;
    }
    let end = quad(t, start)?;
    let longer =
        (at(t, end) == Some(b'.') && digit(t, end + 1).is_some()) || digit(t, end).is_some();
    let own = t.get(start..end).is_some_and(is_this_machine_v4);
    (!longer && !own && !has_cue(t, start, VERSION_CUES)).then_some(end)
}

/// The loopback network (`127.0.0.0/8`, RFC 1122 §3.2.1.3) and the unspecified address
/// (`0.0.0.0`): they name the machine itself, in every configuration file and log, never a
/// person's or another host's address.
fn is_this_machine_v4(a: &[u8]) -> bool {
    a.starts_with(b"127.") || a == b"0.0.0.0"
}

/// At a hex word start or a `::`: an IPv6 address.
pub(super) fn match_v6(t: &[u8], start: usize) -> Option<usize> {
    // Every address has a second colon within its first two groups (`::`, `a:b:`); times
    // (`9:40`), labels (`Note: `) and ratios (`16:9`) do not, and leave here.
    if !second_colon(t, start) {
        return None;
    }
    let continues = |b: u8| is_hex(b) || b == b':' || b == b'.';
    if before(t, start).is_some_and(|b| continues(b) || is_ident(b)) {
        return None;
    }
    let mut i = start;
    let mut groups = 0usize; // an IPv4 tail counts as two
    let mut compressed = false;
    if t.get(i..i + 2) == Some(b"::") {
        compressed = true;
        i += 2;
    }
    let mut end = i;
    loop {
        if groups > 0 || compressed {
            if let Some(q) = quad(t, i).filter(|&q| !at(t, q).is_some_and(continues)) {
                groups += 2;
                end = q;
                break;
            }
        }
        let mut g_end = i;
        while at(t, g_end).is_some_and(is_hex) && g_end - i <= 4 {
            g_end += 1;
        }
        match g_end - i {
            0 => break, // after a trailing "::", or a bare one
            1..=4 => {}
            _ => return None,
        }
        groups += 1;
        i = g_end;
        end = i;
        if groups > 8 {
            return None;
        }
        if t.get(i..i + 2) == Some(b"::") {
            if compressed {
                return None; // a second "::"
            }
            compressed = true;
            i += 2;
            end = i;
        } else if at(t, i) == Some(b':') && at(t, i + 1).is_some_and(is_hex) {
            i += 1;
        } else {
            break;
        }
    }
    // Glued to an identifier (`Foo::bar`) or called (`f32::add(`): code, not an address.
    if at(t, end).is_some_and(|b| {
        is_ident(b) || b == b':' || b == b'(' || (b == b'.' && digit(t, end + 1).is_some())
    }) {
        return None;
    }
    // Hex words only (`dead::beef`, `a::b`): names, not addresses.
    if !t
        .get(start..end)
        .is_some_and(|a| a.iter().any(u8::is_ascii_digit))
    {
        return None;
    }
    let complete = if compressed {
        (1..=7).contains(&groups)
    } else {
        groups == 8
    };
    // The loopback address (RFC 4291 §2.5.3) names the machine itself, as `127.0.0.1` does.
    let loopback = matches!(t.get(start..end), Some(b"::1" | b"0:0:0:0:0:0:0:1"));
    (complete && !loopback).then_some(end)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    fn v4(text: &str) -> Option<&str> {
        let start = text.find(|c: char| c.is_ascii_digit())?;
        match_v4(text.as_bytes(), start).map(|end| &text[start..end])
    }

    fn v6(text: &str, start: usize) -> Option<&str> {
        match_v6(text.as_bytes(), start).map(|end| &text[start..end])
    }

    #[test]
    fn ipv4() {
        assert_eq!(v4("from 192.168.1.10, then"), Some("192.168.1.10"));
        assert_eq!(v4("0.0.0.0"), None, "unspecified");
        assert_eq!(v4("listen 127.0.0.1:8080"), None, "loopback");
        assert_eq!(v4("127.10.20.30"), None, "loopback network");
        assert_eq!(v4("128.0.0.1"), Some("128.0.0.1"));
        assert_eq!(v4("10.0.0.1"), Some("10.0.0.1"));
        assert_eq!(v4("255.255.255.255."), Some("255.255.255.255"));
        assert_eq!(v4("256.1.1.1"), None);
        assert_eq!(v4("1.2.3"), None);
        assert_eq!(v4("1.2.3.4.5"), None);
        assert_eq!(v4("01.2.3.4"), None);
        assert_eq!(v4("version 1.2.3.4"), None);
        assert_eq!(v4("3.14159"), None);
    }

    #[test]
    fn ipv6() {
        for a in [
            "2001:db8:85a3::8a2e:370:7334",
            "2001:0db8:0000:0000:0000:ff00:0042:8329",
            "fe80::1",
            "::2",
            "::ffff:192.0.2.128",
            "2001:db8::",
        ] {
            let text = format!("addr {a} up");
            assert_eq!(v6(&text, 5), Some(a), "{a}");
        }
        assert_eq!(v6("t 12:34:56 x", 2), None, "time");
        assert_eq!(v6("m 00:1a:2b:3c:4d:5e x", 2), None, "MAC");
        assert_eq!(v6("x 1::2::3 y", 2), None, "two ::");
        assert_eq!(v6("x 1:2:3:4:5:6:7:8:9 y", 2), None, "nine groups");
        assert_eq!(v6("x 12345::1 y", 2), None, "long group");
        assert_eq!(v6("x :: y", 2), None, "bare ::");
        assert_eq!(v6("x ::1 y", 2), None, "loopback");
        assert_eq!(v6("x 0:0:0:0:0:0:0:1 y", 2), None, "loopback, full");
    }

    /// The IP addresses the whole scanner finds in `text` (as a body is scanned).
    fn found(text: &str) -> Vec<&str> {
        use crate::detect::{Decoding, Findings, Format, KindSet, Scanner};
        let scanner = Scanner::new(KindSet::all_built_ins());
        let mut out = Vec::new();
        scanner.scan_input(
            text.as_bytes(),
            Decoding::BODY,
            Format::Text,
            &mut Findings::default(),
            |f| {
                if scanner.name(f.kind) == IpAddress::NAME {
                    out.push(&text[f.span]);
                }
            },
        );
        out
    }

    #[test]
    fn ipv6_whole_tokens() {
        for a in [
            "2001:db8::8a2e:370:7334",
            "fe80::1",
            "::ffff:192.0.2.1",
            "2001:0db8:0000:0000:0000:ff00:0042:8329",
            "2001:db8:0:0:1:0:0:1",
        ] {
            for text in [
                format!("peer {a} up"),
                format!("[{a}]:443"),
                format!("addr={a},"),
                format!("({a})"),
                a.to_string(),
            ] {
                assert_eq!(found(&text), [a], "{text}");
            }
        }
        assert_eq!(found("fe80::1%eth0"), ["fe80::1"]);
    }

    /// The machine's own addresses, in code and configuration (a reviewer's examples).
    #[test]
    fn the_machines_own_addresses_are_not_reported() {
        for text in [
            r#"const ipv6Loopback = "::1";"#,
            "// ::1",
            "listen on [::1]:8080",
            "upstream http://127.0.0.1:8080/v1",
            "bind 0.0.0.0:443",
            r#"{"host": "127.0.0.53"}"#,
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
        assert_eq!(found("from 127.0.0.1 to 203.0.113.7"), ["203.0.113.7"]);
        assert_eq!(found("peer ::2 and ::1"), ["::2"]);
    }

    #[test]
    fn ipv6_not_code() {
        for text in [
            "use std::io;",
            "Foo::bar()",
            "a::b::c",
            "let x = Vec2::new(1, 2);",
            "u8::MAX",
            "i32::from(x)",
            "f64::EPSILON",
            "f32::add(a, b)",
            "std::f64::consts::PI",
            "C::f()",
            "dead::beef",
            "cafe::babe",
            "a::b",
            "x :: y",
            "::",
            "ab::cd::ef",
            "x::1",
            "_a1::2",
            "fe80::1x",
            "2001:db8::1_a",
            "<T as Trait>::Item",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }
}
