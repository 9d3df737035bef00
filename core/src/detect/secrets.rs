//! Credentials: AWS access key ids, GitHub tokens, Slack tokens, PEM and PGP private keys,
//! JWTs, and the helpers the other credential detectors (`llm_keys`, `platform`) share. Each
//! is anchored on its fixed prefix, so the scanner looks at them only where a word starts with
//! that prefix; the random part after the prefix must not be a placeholder
//! ([`super::placeholder`]).

use super::catalogue::{no_low_bytes_before, BuiltIn, Stop};
use super::placeholder::{is_placeholder, is_placeholder_text, Alphabet};
use super::text::{at, before, is_word, run_end, run_start, word_start_at};

pub(super) struct AwsAccessKey;

impl BuiltIn for AwsAccessKey {
    const NAME: &'static str = "aws_access_key";
    const FINDS: &'static str =
        "`AKIA` or `ASIA` and 16 upper-case letters or digits, not a placeholder (`AKIAIOSFODNN7EXAMPLE`).";
    const STOPS: &'static [u8] = b"A";
    /// `AKIA…`/`ASIA…` where a word starts; any other `A` is not this detector's.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        if !(matches!(t.get(i..i + 4), Some(b"AKIA" | b"ASIA")) && word_start_at(t, i)) {
            return Stop::Pass;
        }
        Stop::claim(i, match_aws(t, i))
    }
}

pub(super) struct GithubToken;

impl BuiltIn for GithubToken {
    const NAME: &'static str = "github_token";
    const FINDS: &'static str = "`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and 36 letters and digits whose last 6 are the CRC32 checksum of the first 30 (base62); `github_pat_` and 22 or more.";
    const STOPS: &'static [u8] = b"_";
    /// The underscore of `ghp_`, `github_pat_`; any other underscore is not this detector's.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        // The last letter of `ghp`…`ghr` or `github` first: most underscores are in snake case.
        if !matches!(before(t, i), Some(b'p' | b'o' | b'u' | b's' | b'r' | b'b')) {
            return Stop::Pass;
        }
        let Some(ws) = word_before(t, i, 6) else {
            return Stop::Pass;
        };
        let word = t.get(ws..i).unwrap_or_default();
        let classic = matches!(word, b"ghp" | b"gho" | b"ghu" | b"ghs" | b"ghr");
        if !(classic || word == b"github" && t.get(i..i + 5) == Some(b"_pat_")) {
            return Stop::Pass;
        }
        Stop::claim(ws, match_github(t, ws))
    }
}

pub(super) struct SlackToken;

impl BuiltIn for SlackToken {
    const NAME: &'static str = "slack_token";
    const FINDS: &'static str =
        "`xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`, `xoxs-`, `xoxo-`, `xoxc-`, `xoxe-`, `xoxe.xoxp-`, `xapp-` and 10 or more letters, digits and dashes with a digit, not a placeholder.";
    const STOPS: &'static [u8] = b"-";
    /// The dash of `xoxb-`, `xapp-`.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let ws = run_start(t, i, 4, |c| c.is_ascii_lowercase());
        let family = matches!(t.get(ws..ws + 3), Some(b"xox")) || t.get(ws..i) == Some(b"xapp");
        if !(ws + 4 == i && family && word_start_at(t, ws)) {
            return Stop::Pass;
        }
        // A configuration token's `xoxe.` in front belongs to the value.
        let start = match ws.checked_sub(5) {
            Some(s) if t.get(s..ws) == Some(b"xoxe.") && word_start_at(t, s) => s,
            _ => ws,
        };
        Stop::claim(start, match_slack(t, ws))
    }
}

pub(super) struct PrivateKey;

impl BuiltIn for PrivateKey {
    const NAME: &'static str = "private_key";
    const FINDS: &'static str = "A PEM `-----BEGIN … PRIVATE KEY-----` block (PKCS #1, #8, EC, OpenSSH, encrypted) or a PGP `-----BEGIN PGP PRIVATE KEY BLOCK-----` through its `END` line (or, unterminated, to the end of its JSON string, at most 4 KiB); not a placeholder body (`...`, `<key>`, `YOUR_KEY_HERE`).";
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
        // The shortest header with an `alg` (`{"alg":""}`) is 14 characters.
        if !no_low_bytes_before(t, i, 8) {
            return Stop::Pass;
        }
        let rs = run_start(t, i, 1400, is_b64url);
        if !(t.get(rs..rs + 3) == Some(b"eyJ") && word_start_at(t, rs)) {
            return Stop::Pass;
        }
        Stop::claim(rs, match_jwt(t, rs))
    }
}

/// The end of the run of bytes satisfying `f` that starts at `i`, looking at most `max` bytes:
/// a matcher that fails on a too long run is called again at the next stop inside it, so an
/// unbounded look would make a run of repeated prefixes (`sk-sk-sk-…`) quadratic.
pub(super) fn run_end_max(t: &[u8], i: usize, max: usize, f: impl Fn(u8) -> bool) -> usize {
    let lim = i.saturating_add(max).min(t.len());
    t.get(i..lim)
        .map_or(i, |w| i + w.iter().position(|&b| !f(b)).unwrap_or(w.len()))
}

/// The longest Slack token body looked at (`xoxe.xoxp-` configuration tokens are about 170).
const SLACK_MAX: usize = 300;

/// Nothing of a token right after `end`: no letter, digit, `_` or `-`.
pub(super) fn boundary_after(t: &[u8], end: usize) -> bool {
    !at(t, end).is_some_and(|b| is_word(b) || b == b'_' || b == b'-')
}

/// The start of the lower-case word of at most `max` letters that ends at `i` (a prefix such
/// as `sk`, `glpat`, `npm` before its `-` or `_`), if a word starts there.
#[inline]
pub(super) fn word_before(t: &[u8], i: usize, max: usize) -> Option<usize> {
    let ws = run_start(t, i, max, |c| c.is_ascii_lowercase());
    (ws < i && word_start_at(t, ws)).then_some(ws)
}

/// The end of a run of `len` bytes of `alphabet` from `start`, followed by a token boundary.
pub(super) fn exact_run(
    t: &[u8],
    start: usize,
    len: usize,
    alphabet: fn(u8) -> bool,
) -> Option<usize> {
    let end = run_end_max(t, start, len + 1, alphabet);
    (end - start == len && boundary_after(t, end)).then_some(end)
}

/// `t[start..end]` is not a placeholder of `alphabet`.
pub(super) fn random_part(t: &[u8], start: usize, end: usize, alphabet: Alphabet) -> bool {
    t.get(start..end)
        .is_some_and(|s| !is_placeholder(s, alphabet))
}

pub(super) fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

pub(super) fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// CRC-32 (IEEE 802.3, the polynomial of zlib and PNG), bit by bit: it runs only on the few
/// candidates that have a checksummed token's whole shape, so a table's kilobyte is not worth
/// its speed.
pub(super) fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// The value of a base62 numeral (`0-9A-Za-z`).
fn base62_value(s: &[u8]) -> Option<u64> {
    s.iter().try_fold(0u64, |v, &b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'Z' => b - b'A' + 10,
            b'a'..=b'z' => b - b'a' + 36,
            _ => return None,
        };
        Some(v * 62 + u64::from(d))
    })
}

/// The checksum of GitHub's and npm's token formats: 30 random base62 characters, then the
/// CRC-32 of those 30, in base62, padded with `0` to 6 characters
/// (<https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/>,
/// <https://github.blog/2021-09-23-announcing-npms-new-access-token-format/>).
pub(super) fn crc32_base62_ok(body: &[u8]) -> bool {
    match (body.get(..30), body.get(30..), body.len()) {
        (Some(random), Some(check), 36) => base62_value(check) == Some(u64::from(crc32(random))),
        _ => false,
    }
}

/// `AKIA…`/`ASIA…`: four letters and sixteen upper-case letters or digits, not a placeholder.
pub(super) fn match_aws(t: &[u8], start: usize) -> Option<usize> {
    let prefix = t.get(start..start + 4)?;
    if prefix != b"AKIA" && prefix != b"ASIA" {
        return None;
    }
    let end = exact_run(t, start + 4, 16, |b| {
        b.is_ascii_uppercase() || b.is_ascii_digit()
    })?;
    random_part(t, start + 4, end, Alphabet::Alnum).then_some(end)
}

/// `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and 36 letters and digits whose last six are the
/// checksum of the first 30 ([`crc32_base62_ok`]); `github_pat_` and 22 or more letters, digits
/// and underscores (its documented shape is 22, `_`, 59; it carries no published checksum).
pub(super) fn match_github(t: &[u8], start: usize) -> Option<usize> {
    if t.get(start..start + 11) == Some(b"github_pat_") {
        let end = run_end_max(t, start + 11, 256, |b| {
            b.is_ascii_alphanumeric() || b == b'_'
        });
        let ok = (22..=255).contains(&(end - start - 11))
            && boundary_after(t, end)
            && random_part(t, start + 11, end, Alphabet::Alnum);
        return ok.then_some(end);
    }
    let p = t.get(start..start + 4)?;
    if !(p.starts_with(b"gh")
        && matches!(p.get(2), Some(b'p' | b'o' | b'u' | b's' | b'r'))
        && p.get(3) == Some(&b'_'))
    {
        return None;
    }
    let end = exact_run(t, start + 4, 36, is_alnum)?;
    let body = t.get(start + 4..end)?;
    (crc32_base62_ok(body) && !is_placeholder(body, Alphabet::Alnum)).then_some(end)
}

/// `xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`, `xoxs-`, `xoxo-`, `xoxc-`, `xoxe-`, `xapp-` and ten or
/// more letters, digits and dashes, with a digit, not a placeholder (`xoxb-your-bot-token-here`).
pub(super) fn match_slack(t: &[u8], start: usize) -> Option<usize> {
    let p = t.get(start..start + 5)?;
    let family = p.starts_with(b"xox")
        && matches!(
            p.get(3),
            Some(b'a' | b'b' | b'p' | b'r' | b's' | b'o' | b'c' | b'e')
        )
        || p.starts_with(b"xapp");
    if !(family && p.get(4) == Some(&b'-')) {
        return None;
    }
    let end = run_end_max(t, start + 5, SLACK_MAX + 1, |b| {
        b.is_ascii_alphanumeric() || b == b'-'
    });
    // Every family carries numeric ids (team, user, version): `xoxo-hugs-and-kisses` is none.
    ((10..=SLACK_MAX).contains(&(end - start - 5))
        && t.get(start + 5..end)
            .is_some_and(|s| s.iter().any(u8::is_ascii_digit))
        && boundary_after(t, end)
        && random_part(t, start + 5, end, Alphabet::Alnum))
    .then_some(end)
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
    // The label: letters, digits and spaces (`RSA `, `EC `, `OPENSSH `, `ENCRYPTED `,
    // `SSH2 ENCRYPTED `), then the fixed end; or OpenPGP's armor (RFC 4880, 6.2).
    let label_end = run_end(t, start + 11, |b| {
        b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' '
    });
    let label = t.get(start + 11..label_end)?;
    if label.len() > 40
        || !(label.ends_with(b"PRIVATE KEY") || label == b"PGP PRIVATE KEY BLOCK")
        || t.get(label_end..label_end + 5) != Some(b"-----")
    {
        return None;
    }
    let body_start = label_end + 5;
    let window = t.get(body_start..(body_start + PEM_SEARCH).min(t.len()))?;
    let (body_end, end) = match window.windows(9).position(|w| w == b"-----END ") {
        Some(p) => {
            let end_label = body_start + p + 9;
            let close = run_end(t, end_label, |b| {
                b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' '
            });
            if t.get(close..close + 5) == Some(b"-----") {
                (body_start + p, close + 5)
            } else {
                unterminated(window, body_start)
            }
        }
        None => unterminated(window, body_start),
    };
    (!pem_placeholder(t.get(body_start..body_end)?)).then_some(end)
}

/// A block without its end line: to the end of its JSON string, or 4 KiB.
fn unterminated(window: &[u8], body_start: usize) -> (usize, usize) {
    let stop = window
        .iter()
        .take(PEM_UNTERMINATED)
        .position(|&b| b == b'"')
        .unwrap_or_else(|| window.len().min(PEM_UNTERMINATED));
    (body_start + stop, body_start + stop)
}

/// A key block's body that stands for a key (`...`, `<your key>`, `YOUR_PRIVATE_KEY_HERE`),
/// judged line by line (lines end at raw or JSON-escaped line breaks).
fn pem_placeholder(body: &[u8]) -> bool {
    let is_break = |b: u8| matches!(b, b'\\' | b' ' | b'\n' | b'\r' | b'\t');
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        if b == b'\\' {
            i += 2; // `\n`: the escape's letter is no part of a line
            continue;
        }
        if is_break(b) {
            i += 1;
            continue;
        }
        let end = run_end(body, i, |c| !is_break(c));
        if body.get(i..end).is_some_and(is_placeholder_text) {
            return true;
        }
        i = end;
    }
    false
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
            m(match_aws, "k AKIAUJZDEGXDNCF32EPF.", 2),
            Some("AKIAUJZDEGXDNCF32EPF")
        );
        assert_eq!(
            m(match_aws, "k ASIAY34FZKBOKMUTVV7A", 2),
            Some("ASIAY34FZKBOKMUTVV7A")
        );
        assert_eq!(m(match_aws, "k AKIAUJZDEGXDNCF32EP", 2), None);
        assert_eq!(m(match_aws, "k AKIAUJZDEGXDNCF32EPFX", 2), None);
        assert_eq!(m(match_aws, "k AKIAujzdegxdncf32epf", 2), None);
        // AWS's documentation example is no credential; neither are fillers.
        for p in [
            "AKIAIOSFODNN7EXAMPLE",
            "AKIAXXXXXXXXXXXXXXXX",
            "AKIA1234567890ABCDEF",
            "AKIAYOURACCESSKEYID0",
            "AKIAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(m(match_aws, &format!("k {p}"), 2), None, "{p}");
        }
    }

    /// A `ghp_` token with a valid checksum over `random` (30 base62 characters).
    pub(crate) fn github_token(prefix: &str, random: &str) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut v = u64::from(crc32(random.as_bytes()));
        let mut check = [b'0'; 6];
        for c in check.iter_mut().rev() {
            *c = A[(v % 62) as usize];
            v /= 62;
        }
        format!("{prefix}{random}{}", std::str::from_utf8(&check).unwrap())
    }

    #[test]
    fn github() {
        // Published examples of the format (valid checksums).
        for t in [
            "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",
            "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",
        ] {
            assert_eq!(m(match_github, &format!("t {t} x"), 2), Some(t));
        }
        for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
            let t = github_token(p, "k3Jq9ZtV0mXw4Rb7Lc2Np8Hs5Dy1Fg");
            assert_eq!(m(match_github, &format!("t {t} x"), 2), Some(t.as_str()));
        }
        // One character changed: the checksum fails.
        assert_eq!(
            m(
                match_github,
                "t ghp_M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V3 x",
                2
            ),
            None
        );
        assert_eq!(
            m(
                match_github,
                "t ghp_N7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V4 x",
                2
            ),
            None
        );
        // The checksum does not make a placeholder a token.
        let filler = github_token("ghp_", &"x".repeat(30));
        assert_eq!(m(match_github, &format!("t {filler} x"), 2), None);
        let fine = "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lEkGmr";
        assert_eq!(m(match_github, &format!("t {fine} x"), 2), Some(fine));
        for no in [
            "t ghp_short x".to_string(),
            format!("t ghx_{} x", "a".repeat(36)),
            format!("t github_pat_11ABCDEFG0{} x", "x_Y1".repeat(20)),
            "t github_pat_YOUR_FINE_GRAINED_TOKEN_HERE x".into(),
        ] {
            assert_eq!(m(match_github, &no, 2), None, "{no}");
        }
    }

    #[test]
    fn slack() {
        for t in [
            "xoxb-231948757491-1862527601895-LiMcVbpT4r5yHUig43kiJfah",
            "xoxp-17653672481-19874698323-19874698334-8c0ad19f3e2b47d6a5c1f0e9b8d7a6c5",
            "xoxc-17653672481-19874698323-19874698334-8c0ad19f3e2b47d6a5c1f0e9b8d7a6c58c0ad19f3e2b47d6a5c1f0e9b8d7a6c5",
            "xoxs-17653672481-19874698323-19874698334-8c0ad19f3e",
            "xoxe-1-My0xLTE3NjUzNjcyNDgxLTE5ODc0Njk4MzIzLTg0ZjI",
            "xapp-1-A04R7N3TZ9K-5092714368251-9f2e4c1d8b7a6350e4d3c2b1a0f9e8d7",
        ] {
            assert_eq!(m(match_slack, &format!("t {t} "), 2), Some(t), "{t}");
        }
        for no in [
            "t xoxz-123456789012 ",
            "t xoxb-123 ",
            "t xoxb-your-bot-token-here ",
            "t xoxb-xxxxxxxxxxxx ",
            "t xoxb-XXXXXXXXXXXX-XXXXXXXXXXXX ",
            "t xoxb-123456789012-abcdefghij ",
            "t xoxp-REDACTED-REDACTED ",
        ] {
            assert_eq!(m(match_slack, no, 2), None, "{no}");
        }
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
        // OpenSSH and PGP blocks.
        let ssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----";
        assert_eq!(m(match_private_key, ssh, 0), Some(ssh));
        let pgp = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGVkZ2wBCADHv3q0uP9iJk1\n=Zx4c\n-----END PGP PRIVATE KEY BLOCK-----";
        assert_eq!(m(match_private_key, pgp, 0), Some(pgp));
        assert_eq!(
            m(
                match_private_key,
                "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQ\n",
                0
            ),
            None
        );
        // Placeholders standing for a key.
        for body in [
            "...",
            "<your private key>",
            "YOUR_PRIVATE_KEY_HERE",
            "MIIEvQIBADANBg...",
            "\\n...\\n",
            "[redacted]",
        ] {
            let block = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----");
            assert_eq!(m(match_private_key, &block, 0), None, "{block}");
        }
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
