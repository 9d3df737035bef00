//! Credentials: AWS access key ids, GitHub tokens, Slack tokens, PEM private keys, JWTs.
//! Each is anchored on its fixed prefix, so the scanner looks at them only where a word starts
//! with that prefix.

use super::catalogue::{BuiltIn, Stop};
use super::text::{at, is_word, run_end, run_start, word_start_at};

pub(super) struct AwsAccessKey;

impl BuiltIn for AwsAccessKey {
    const NAME: &'static str = "aws_access_key";
    const FINDS: &'static str = "`AKIA` or `ASIA` and 16 upper-case letters or digits.";
    const STOPS: &'static [u8] = b"A";
    /// `AKIA…` where a word starts.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        if !word_start_at(t, i) {
            return Stop::Pass;
        }
        Stop::claim(i, match_aws(t, i))
    }
}

pub(super) struct GithubToken;

impl BuiltIn for GithubToken {
    const NAME: &'static str = "github_token";
    const FINDS: &'static str = "`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and 36 or more letters and digits; `github_pat_` and 22 or more.";
    const STOPS: &'static [u8] = b"_";
    /// The underscore of `ghp_`, `github_pat_`.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let ws = run_start(t, i, 6, |c| c.is_ascii_lowercase());
        if !(word_start_at(t, ws) && at(t, ws) == Some(b'g')) {
            return Stop::Pass;
        }
        Stop::claim(ws, match_github(t, ws))
    }
}

pub(super) struct SlackToken;

impl BuiltIn for SlackToken {
    const NAME: &'static str = "slack_token";
    const FINDS: &'static str =
        "`xoxa-`, `xoxb-`, `xoxp-`, `xoxr-` and 10 or more letters, digits and dashes.";
    const STOPS: &'static [u8] = b"-";
    /// The dash of `xoxb-`.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let ws = run_start(t, i, 4, |c| c.is_ascii_lowercase());
        if !(ws + 4 == i && word_start_at(t, ws)) {
            return Stop::Pass;
        }
        Stop::claim(ws, match_slack(t, ws))
    }
}

pub(super) struct PrivateKey;

impl BuiltIn for PrivateKey {
    const NAME: &'static str = "private_key";
    const FINDS: &'static str = "A PEM `-----BEGIN … PRIVATE KEY-----` block through its `END` line (or, unterminated, to the end of its JSON string, at most 4 KiB).";
    const STOPS: &'static [u8] = b"-";
    /// `--`: the start of `-----BEGIN`. A double dash is this detector's alone, value or not.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        if at(t, i + 1) != Some(b'-') {
            return Stop::Pass;
        }
        Stop::claim(i, match_private_key(t, i))
    }
}

pub(super) struct Jwt;

impl BuiltIn for Jwt {
    const NAME: &'static str = "jwt";
    const FINDS: &'static str =
        "Three base64url segments (`eyJ…`), the first decoding to a JSON object with an `alg`.";
    const STOPS: &'static [u8] = b".";
    /// The end of a JWT header: `eyJ…` and base64url up to here.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let rs = run_start(t, i, 1400, is_b64url);
        if !(t.get(rs..rs + 3) == Some(b"eyJ") && word_start_at(t, rs)) {
            return Stop::Pass;
        }
        Stop::claim(rs, match_jwt(t, rs))
    }
}

fn boundary_after(t: &[u8], end: usize) -> bool {
    !at(t, end).is_some_and(|b| is_word(b) || b == b'_' || b == b'-')
}

/// `AKIA…`/`ASIA…`: four letters and sixteen upper-case letters or digits.
pub(super) fn match_aws(t: &[u8], start: usize) -> Option<usize> {
    let prefix = t.get(start..start + 4)?;
    if prefix != b"AKIA" && prefix != b"ASIA" {
        return None;
    }
    let end = run_end(t, start + 4, |b| {
        b.is_ascii_uppercase() || b.is_ascii_digit()
    });
    (end - start == 20 && boundary_after(t, end)).then_some(end)
}

/// `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and 36 or more letters and digits; `github_pat_` and
/// 22 or more letters, digits and underscores.
pub(super) fn match_github(t: &[u8], start: usize) -> Option<usize> {
    if t.get(start..start + 11) == Some(b"github_pat_") {
        let end = run_end(t, start + 11, |b| b.is_ascii_alphanumeric() || b == b'_');
        return ((22..=255).contains(&(end - start - 11)) && boundary_after(t, end)).then_some(end);
    }
    let p = t.get(start..start + 4)?;
    if !(p.starts_with(b"gh")
        && matches!(p.get(2), Some(b'p' | b'o' | b'u' | b's' | b'r'))
        && p.get(3) == Some(&b'_'))
    {
        return None;
    }
    let end = run_end(t, start + 4, |b| b.is_ascii_alphanumeric());
    ((36..=251).contains(&(end - start - 4)) && boundary_after(t, end)).then_some(end)
}

/// `xoxa-`, `xoxb-`, `xoxp-`, `xoxr-` and ten or more letters, digits and dashes.
pub(super) fn match_slack(t: &[u8], start: usize) -> Option<usize> {
    let p = t.get(start..start + 5)?;
    if !(p.starts_with(b"xox")
        && matches!(p.get(3), Some(b'a' | b'b' | b'p' | b'r'))
        && p.get(4) == Some(&b'-'))
    {
        return None;
    }
    let end = run_end(t, start + 5, |b| b.is_ascii_alphanumeric() || b == b'-');
    (end - start - 5 >= 10 && boundary_after(t, end)).then_some(end)
}

const PEM_SEARCH: usize = 16 * 1024;
const PEM_UNTERMINATED: usize = 4096;

/// `-----BEGIN … PRIVATE KEY-----` through its `-----END … PRIVATE KEY-----` line; a block
/// without its end line is taken to the end of its JSON string or 4 KiB.
pub(super) fn match_private_key(t: &[u8], start: usize) -> Option<usize> {
    let head = t.get(start..start + 11)?;
    if head != b"-----BEGIN " {
        return None;
    }
    // The label: letters and spaces (`RSA `, `EC `, `OPENSSH `, `ENCRYPTED `), then the fixed end.
    let label_end = run_end(t, start + 11, |b| b.is_ascii_uppercase() || b == b' ');
    let label = t.get(start + 11..label_end)?;
    if label.len() > 40
        || !label.ends_with(b"PRIVATE KEY")
        || t.get(label_end..label_end + 5) != Some(b"-----")
    {
        return None;
    }
    let body_start = label_end + 5;
    let window = t.get(body_start..(body_start + PEM_SEARCH).min(t.len()))?;
    if let Some(p) = window.windows(9).position(|w| w == b"-----END ") {
        let end_label = body_start + p + 9;
        let close = run_end(t, end_label, |b| b.is_ascii_uppercase() || b == b' ');
        if t.get(close..close + 5) == Some(b"-----") {
            return Some(close + 5);
        }
    }
    let stop = window
        .iter()
        .take(PEM_UNTERMINATED)
        .position(|&b| b == b'"')
        .unwrap_or_else(|| window.len().min(PEM_UNTERMINATED));
    Some(body_start + stop)
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn b64url_value(b: u8) -> Option<u32> {
    Some(u32::from(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    }))
}

/// Decodes unpadded base64url (at most 1 KiB of output is looked at).
fn b64url_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in s.iter().take(1400) {
        acc = (acc << 6) | b64url_value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// `eyJ…` header `.` payload `.` signature, in base64url, whose header decodes to a JSON object
/// with an `alg`.
pub(super) fn match_jwt(t: &[u8], start: usize) -> Option<usize> {
    if t.get(start..start + 3) != Some(b"eyJ") {
        return None;
    }
    let h_end = run_end(t, start, is_b64url);
    if at(t, h_end) != Some(b'.') {
        return None;
    }
    let p_end = run_end(t, h_end + 1, is_b64url);
    if p_end == h_end + 1 || at(t, p_end) != Some(b'.') {
        return None;
    }
    // The signature is empty for unsecured tokens (`"alg":"none"`).
    let end = run_end(t, p_end + 1, is_b64url);
    if at(t, end).is_some_and(|b| b == b'.' || b == b'=') {
        return None;
    }
    let header = b64url_decode(t.get(start..h_end)?)?;
    let header = header.trim_ascii_start();
    (header.starts_with(b"{") && header.windows(5).any(|w| w == b"\"alg\"")).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(f: fn(&[u8], usize) -> Option<usize>, text: &str, start: usize) -> Option<&str> {
        f(text.as_bytes(), start).and_then(|end| text.get(start..end))
    }

    #[test]
    fn aws() {
        assert_eq!(
            m(match_aws, "k AKIAIOSFODNN7EXAMPLE.", 2),
            Some("AKIAIOSFODNN7EXAMPLE")
        );
        assert_eq!(
            m(match_aws, "k ASIAY34FZKBOKMUTVV7A", 2),
            Some("ASIAY34FZKBOKMUTVV7A")
        );
        assert_eq!(m(match_aws, "k AKIAIOSFODNN7EXAMPL", 2), None);
        assert_eq!(m(match_aws, "k AKIAIOSFODNN7EXAMPLEX", 2), None);
        assert_eq!(m(match_aws, "k AKIAiosfodnn7example", 2), None);
    }

    #[test]
    fn github() {
        let classic = format!("t ghp_{} x", "a1B2c3D4e5".repeat(4).get(..36).unwrap());
        assert!(m(match_github, &classic, 2).is_some());
        let fine = format!("t github_pat_11ABCDEFG0{} x", "x_Y1".repeat(20));
        assert!(m(match_github, &fine, 2).is_some());
        assert_eq!(m(match_github, "t ghp_short x", 2), None);
        assert_eq!(
            m(match_github, &format!("t ghx_{} x", "a".repeat(36)), 2),
            None
        );
    }

    #[test]
    fn slack() {
        assert_eq!(
            m(
                match_slack,
                "t xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx ",
                2
            ),
            Some("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx")
        );
        assert_eq!(m(match_slack, "t xoxz-123456789012 ", 2), None);
        assert_eq!(m(match_slack, "t xoxb-123 ", 2), None);
    }

    #[test]
    fn private_keys() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK=\n-----END RSA PRIVATE KEY-----";
        let text = format!("k: {pem}\nrest");
        assert_eq!(m(match_private_key, &text, 3), Some(pem));
        let json = r#"{"key":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n","x":1}"#;
        let start = json.find("-----").unwrap();
        assert_eq!(
            m(match_private_key, json, start),
            Some(r"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n")
        );
        assert_eq!(
            m(match_private_key, "-----BEGIN PUBLIC KEY-----\nMII", 0),
            None
        );
        assert_eq!(m(match_private_key, "-----BEGIN CERTIFICATE-----", 0), None);
    }

    #[test]
    fn jwt() {
        // {"alg":"HS256","typ":"JWT"} . {"sub":"1234567890"} . signature
        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let text = format!("Bearer {token}");
        assert_eq!(m(match_jwt, &text, 7), Some(token));
        let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
        assert_eq!(m(match_jwt, none, 0), Some(none));
        // eyJ… that decodes to JSON without "alg"
        assert_eq!(m(match_jwt, "eyJmb28iOiJiYXIifQ.eyJ4IjoxfQ.c2ln", 0), None);
        assert_eq!(m(match_jwt, "eyJhbGciOiJIUzI1NiJ9.only-two", 0), None);
    }
}
