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
        "`AKIA`, `ASIA`, `ABIA`, `ACCA` or `A3T` and a letter or digit, then 16 upper-case letters or digits, not a placeholder (`AKIAIOSFODNN7EXAMPLE`).";
    const STOPS: &'static [u8] = b"A";
    /// `AKIA…`, `ASIA…`, `ABIA…`, `ACCA…`, `A3T…` where a word starts; any other `A` is not
    /// this detector's.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        if !(aws_prefix(t.get(i..i + 4)) && word_start_at(t, i)) {
            return Stop::Pass;
        }
        Stop::claim(i, match_aws(t, i))
    }
}

pub(super) struct GithubToken;

impl BuiltIn for GithubToken {
    const NAME: &'static str = "github_token";
    const FINDS: &'static str = "`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and 36 letters and digits whose last 6 are the CRC32 checksum of the first 30 (base62); `ghs_`, an app id, `_` and a JWT (stateless installation tokens); `github_pat_`, 22 letters and digits, `_` and 59.";
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
        "`xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`, `xoxs-`, `xoxo-`, `xoxc-`, `xoxe-`, `xoxe.xoxp-`, `xapp-` and 10 or more letters, digits and dashes with a digit, starting with a digit (a letter too after `xoxa-`, `xoxr-`), not a placeholder; `xoxd-` (the `d` session cookie) and 40 to 400 base64 characters, URL-encoded or not.";
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
    /// `-----BEGIN `: this detector's alone, value or not, and so is any double dash that
    /// does not follow a word. One after a word passes to the later detectors: a GitLab
    /// token's random part may start with `-` (`glpat--_4jP…`, one token in 64). Those that
    /// must not swallow what follows a double dash (`xoxb--4111 1111…`) say so themselves.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        if at(t, i + 1) != Some(b'-') {
            return Stop::Pass;
        }
        if t.get(i..i + 11) == Some(b"-----BEGIN ") {
            return Stop::claim(i, match_private_key(t, i));
        }
        // Only a double dash right after a word can end a later detector's prefix
        // (`glpat--`, `xoxb--`); any other (a rule `-----`, the dashes of `-----BEGIN `
        // whose first was looked at already) is settled here, at once.
        if before(t, i).is_some_and(is_word) {
            Stop::Pass
        } else {
            Stop::Claim(None)
        }
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

/// The unique-id prefixes of AWS credentials: `AKIA` (access keys), `ASIA` (temporary STS
/// keys), `ABIA` (STS service bearer tokens), `ACCA` (context-specific credentials)
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids>),
/// and `A3T` and any upper-case letter or digit (gitleaks `aws-access-token`).
fn aws_prefix(p: Option<&[u8]>) -> bool {
    match p {
        Some(b"AKIA" | b"ASIA" | b"ABIA" | b"ACCA") => true,
        Some([b'A', b'3', b'T', c]) => c.is_ascii_uppercase() || c.is_ascii_digit(),
        _ => false,
    }
}

/// An AWS prefix ([`aws_prefix`]) and sixteen upper-case letters or digits, not a placeholder.
pub(super) fn match_aws(t: &[u8], start: usize) -> Option<usize> {
    if !aws_prefix(t.get(start..start + 4)) {
        return None;
    }
    let end = exact_run(t, start + 4, 16, |b| {
        b.is_ascii_uppercase() || b.is_ascii_digit()
    })?;
    random_part(t, start + 4, end, Alphabet::Alnum).then_some(end)
}

/// `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and 36 letters and digits whose last six are the
/// checksum of the first 30 ([`crc32_base62_ok`]); `ghs_` and a stateless installation token
/// ([`match_ghs_stateless`]); `github_pat_`, 22 letters and digits, `_` and 59 (no published
/// checksum).
pub(super) fn match_github(t: &[u8], start: usize) -> Option<usize> {
    if t.get(start..start + 11) == Some(b"github_pat_") {
        // 22 letters and digits, `_`, 59 (GitHub's own redaction pattern,
        // github/redacting-logger): 93 characters in all, so that identifiers such as
        // `github_pat_expiration_notification_days` are none.
        let id = start + 11;
        let sep = run_end_max(t, id, 23, is_alnum);
        let end = (sep - id == 22 && at(t, sep) == Some(b'_'))
            .then(|| exact_run(t, sep + 1, 59, is_alnum))
            .flatten()?;
        let ok = random_part(t, id, sep, Alphabet::Alnum)
            && random_part(t, sep + 1, end, Alphabet::Alnum);
        return ok.then_some(end);
    }
    let p = t.get(start..start + 4)?;
    if !(p.starts_with(b"gh")
        && matches!(p.get(2), Some(b'p' | b'o' | b'u' | b's' | b'r'))
        && p.get(3) == Some(&b'_'))
    {
        return None;
    }
    if p == b"ghs_" {
        if let Some(end) = match_ghs_stateless(t, start + 4) {
            return Some(end);
        }
    }
    let end = exact_run(t, start + 4, 36, is_alnum)?;
    let body = t.get(start + 4..end)?;
    (crc32_base62_ok(body) && !is_placeholder(body, Alphabet::Alnum)).then_some(end)
}

/// The stateless installation token GitHub issues since April 2026 after `ghs_`: the app's
/// numeric id, `_`, and a JWT signed by GitHub (about 520 characters in all, two dots;
/// <https://github.blog/changelog/2026-04-24-notice-about-upcoming-new-format-for-github-app-installation-tokens/>).
/// The id is optional here: a JWT right after `ghs_` is one too.
fn match_ghs_stateless(t: &[u8], body: usize) -> Option<usize> {
    let id_end = run_end_max(t, body, 21, |b| b.is_ascii_digit());
    let jwt = if id_end > body && at(t, id_end) == Some(b'_') {
        id_end + 1
    } else {
        body
    };
    match_jwt(t, jwt).filter(|&end| boundary_after(t, end))
}

/// `xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`, `xoxs-`, `xoxo-`, `xoxc-`, `xoxe-`, `xapp-` and ten or
/// more letters, digits and dashes, with a digit, not a placeholder (`xoxb-your-bot-token-here`).
pub(super) fn match_slack(t: &[u8], start: usize) -> Option<usize> {
    let p = t.get(start..start + 5)?;
    if p == b"xoxd-" {
        return match_slack_cookie(t, start + 5);
    }
    let family = p.starts_with(b"xox")
        && matches!(
            p.get(3),
            Some(b'a' | b'b' | b'p' | b'r' | b's' | b'o' | b'c' | b'e')
        )
        || p.starts_with(b"xapp");
    // Every family but the legacy `xoxa-`/`xoxr-` starts with a number (a team id, a
    // version: `xoxb-<team id>-…`, `xoxe-1-…`, `xapp-1-…`; gitleaks' `slack-*` rules), and
    // those two with a letter or digit. A second dash is no token's, and what follows it
    // (`xoxb--4111 1111 1111 1111`) is not swallowed; `xoxb-xoxb-…` is settled here too.
    let first = at(t, start + 5);
    let legacy = matches!(p.get(3), Some(b'a' | b'r')) && p.starts_with(b"xox");
    let starts = if legacy {
        first.is_some_and(is_word)
    } else {
        first.is_some_and(|b| b.is_ascii_digit())
    };
    if !(family && p.get(4) == Some(&b'-') && starts) {
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

/// The longest `d` cookie value looked at (they are about 200 to 260 characters).
const SLACK_COOKIE_MAX: usize = 400;

/// After `xoxd-`: the value of Slack's `d` session cookie, which a browser session's `xoxc-`
/// token needs (gitleaks has none; documented by the tools that read it, e.g. slackdump):
/// base64, URL-encoded (`%2F`, `%2B`, `%3D`) or not, 40 characters or more, not a
/// placeholder. No dash: `xoxd-xoxd-…` is settled at the next one.
fn match_slack_cookie(t: &[u8], body: usize) -> Option<usize> {
    let end = run_end_max(t, body, SLACK_COOKIE_MAX + 1, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'%' | b'+' | b'/' | b'=')
    });
    ((40..=SLACK_COOKIE_MAX).contains(&(end - body))
        && boundary_after(t, end)
        && t.get(body..end)
            .is_some_and(|s| !is_placeholder_text(s) && !is_placeholder(s, Alphabet::Alnum)))
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
/// judged line by line (lines end at raw or JSON-escaped line breaks; a line's words, at
/// spaces and tabs). Armor headers (`Comment: Alice <alice@example.org>`, RFC 4880 §6.2;
/// `Proc-Type:`, `DEK-Info:`, RFC 1421) are not judged: a user id or a comment is free text.
/// A line of 40 base64 characters or more is key material: a block that has one is a key,
/// even elided further on (a real key truncated with `...` in a log still leaks what is
/// there), and such a line is judged only for the words no random value spells, since one
/// in about 5 million random lines starts with `your`.
fn pem_placeholder(body: &[u8]) -> bool {
    let mut placeholder = false;
    let mut i = 0;
    while i < body.len() {
        let line_end = pem_line_end(body, i);
        let line = body.get(i..line_end).unwrap_or_default();
        if !armor_header(line) {
            for word in line
                .split(|&b| matches!(b, b' ' | b'\t'))
                .filter(|w| !w.is_empty())
            {
                if word.len() >= 40 && word.iter().all(|&b| is_b64(b)) {
                    return is_placeholder_material(word);
                }
                placeholder |= is_placeholder_text(word);
            }
        }
        // Past the break: a raw one, or a JSON escape (`\n`, `\r\n`).
        i = line_end;
        while let Some(&b) = body.get(i) {
            match b {
                b'\n' | b'\r' => i += 1,
                b'\\' => i += 2,
                _ => break,
            }
        }
    }
    placeholder
}

/// A line of key material that is no key's: it spells a word no random value does.
fn is_placeholder_material(word: &[u8]) -> bool {
    super::placeholder::never_random(word)
}

/// The end of the line that starts at `i`: a raw line break or a backslash (a JSON escape).
fn pem_line_end(body: &[u8], i: usize) -> usize {
    run_end(body, i, |b| !matches!(b, b'\n' | b'\r' | b'\\'))
}

/// `Name: value`: an armor header line (RFC 4880 §6.2: `Version`, `Comment`, `Hash`,
/// `Charset`, `MessageID`; RFC 1421 §4.6: `Proc-Type`, `DEK-Info`). Base64 has no colon.
fn armor_header(line: &[u8]) -> bool {
    let name = run_end(line, 0, |b| b.is_ascii_alphanumeric() || b == b'-');
    name > 0
        && line.first().is_some_and(u8::is_ascii_alphabetic)
        && line.get(name..name + 2) == Some(b": ")
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
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

/// A JWS (`eyJ…` header `.` payload `.` signature, RFC 7515 compact form) whose header decodes
/// to a JSON object with an `alg`, or a JWE (RFC 7516 compact form: header `.` encrypted key
/// `.` IV `.` ciphertext `.` tag; the key is empty for `"alg":"dir"`, as in NextAuth's session
/// cookies) whose header has an `enc` too. A dot after the last part that no token character
/// follows ends a sentence (`token: eyJ….eyJ….sig.`) and is no part of the token, except an
/// unsecured JWS's (`"alg":"none"`), whose signature is empty: `eyJ….eyJ….`.
pub(super) fn match_jwt(t: &[u8], start: usize) -> Option<usize> {
    if t.get(start..start + 3) != Some(b"eyJ") {
        return None;
    }
    // The ends of up to five parts. A dot starts a part only when a token character or
    // another dot (an empty part) follows it.
    let mut ends = [0usize; 5];
    let mut n = 0;
    let mut p = start;
    let trailing_dot = loop {
        let e = run_end(t, p, is_b64url);
        if let Some(slot) = ends.get_mut(n) {
            *slot = e;
        }
        n += 1;
        if at(t, e) != Some(b'.') {
            break false;
        }
        if !at(t, e + 1).is_some_and(|b| is_b64url(b) || b == b'.') {
            break true;
        }
        if n == ends.len() {
            // A sixth part: no JOSE compact form has one.
            return None;
        }
        p = e + 1;
    };
    let part = |k: usize| -> usize {
        let s = if k == 0 {
            start
        } else {
            ends.get(k - 1).map_or(0, |e| e + 1)
        };
        ends.get(k).map_or(0, |&e| e.saturating_sub(s))
    };
    let last = ends.get(n.wrapping_sub(1)).copied()?;
    if at(t, last) == Some(b'=') {
        return None;
    }
    let end = match n {
        // `header.payload.`: an unsecured JWS, its empty signature and its dot.
        2 if trailing_dot && part(1) > 0 => last + 1,
        3 if part(1) > 0 => last,
        5 if part(2) > 0 && part(3) > 0 && part(4) > 0 => last,
        _ => return None,
    };
    let h_end = ends.first().copied()?;
    let header = b64url_decode(t.get(start..h_end)?)?;
    let header = header.trim_ascii_start();
    let has = |name: &[u8]| header.windows(name.len()).any(|w| w == name);
    (header.starts_with(b"{") && has(b"\"alg\"") && (n != 5 || has(b"\"enc\""))).then_some(end)
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
            "ABIAE3QUM7KSC4AQX5QQ",
            "ACCAVGMVYDI7PFIIBHLP",
            "A3TX6EYILDFJS4ZJVSTY",
        ] {
            assert_eq!(m(match_aws, &format!("k {p} "), 2), Some(p));
        }
        assert_eq!(m(match_aws, "k A3T_6EYILDFJS4ZJVSTYX ", 2), None);
        assert_eq!(m(match_aws, "k ABCAE3QUM7KSC4AQX5QQ ", 2), None);
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
        // 22, `_`, 59: GitHub's documented shape.
        let fine = "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";
        assert_eq!(m(match_github, &format!("t {fine} x"), 2), Some(fine));
        // GitHub's stateless installation token: `ghs_`, the app id, `_`, a JWT.
        let jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        for ghs in [format!("ghs_123456_{jwt}"), format!("ghs_{jwt}")] {
            assert_eq!(
                m(match_github, &format!("t {ghs}. x"), 2),
                Some(ghs.as_str())
            );
        }
        for no in [
            "t ghp_short x".to_string(),
            format!("t ghx_{} x", "a".repeat(36)),
            format!("t github_pat_11ABCDEFG0{} x", "x_Y1".repeat(20)),
            "t github_pat_YOUR_FINE_GRAINED_TOKEN_HERE x".into(),
            // One character more or less than the documented shape; identifiers.
            format!("t {fine}Q x"),
            format!("t {} x", fine.get(..fine.len() - 1).unwrap()),
            "t github_pat_fine_grained_permissions: true".into(),
            "t github_pat_expiration_notification_days = 7;".into(),
            format!("t ghp_123_{jwt} x"),
            "t ghs_123_eyJnotajwt x".into(),
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
            "xoxa-Lq8Zr3TnWv2Kc9Hd5Jm1Fx7B",
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
            // A second dash: what follows is not the token's.
            "t xoxb--4111111111111111 ",
            // Words in kebab case.
            "t xoxo-jen-2024-04-01 ",
            "t xoxb-btn-3xl-primary ",
            // A team id or version first, except after the legacy `xoxa-`, `xoxr-`.
            "t xoxb-T0123456789-LiMcVbpT4r5yHUig43kiJfah ",
            "t xoxb-xoxb-xoxb-xoxb-1 ",
        ] {
            assert_eq!(m(match_slack, no, 2), None, "{no}");
        }
        // The `d` session cookie, URL-encoded or not.
        let d = "xoxd-5PkxMMudb3ep1548HMEXMsFaUOc9j2BE5TmWetw9zu7EZVk0ZBrYPExKzYbRPr7oiy8aQdKLZe7blJXHmixIksWsWdEc5PnLNBMs%2FXwmGeN6U5H7Mqc5Uhqq3rN6Fv9iMedaV41qNku1BLrg6JaKQdTalkiiQNaEZ%3D";
        assert_eq!(m(match_slack, &format!("d={d}; path=/"), 2), Some(d));
        assert_eq!(
            m(
                match_slack,
                "d=xoxd-your-session-cookie-value-goes-here-ok;",
                2
            ),
            None
        );
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
        // Armor headers are free text (a user id, a comment), not the key's body.
        let lines = "akSS17LPwgijUdCafU9G+nDNTuJWj/Bt9CeDP8SHR3i12FGAoJSauV4kESb+wB/O\nMszed90fECBW0xH0D0d5nl4Wd39RUYLoIa5Lz36Hx2Vjp5Wnz3Nj8hv1krLK7fWv";
        for head in [
            "Comment: Alice Lovelace <alice@example.org>",
            "Comment: test key for CI signing",
            "Version: Keybase Go 1.0.10 (linux)\nComment: https://keybase.io/download",
        ] {
            let block = format!("-----BEGIN PGP PRIVATE KEY BLOCK-----\n{head}\n\n{lines}\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----");
            assert_eq!(m(match_private_key, &block, 0), Some(block.as_str()));
        }
        let block = format!("-----BEGIN RSA PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED\r\nDEK-Info: AES-128-CBC,8A3F19D2E4B7C6A1\r\n\r\n{lines}\r\n-----END RSA PRIVATE KEY-----");
        assert_eq!(m(match_private_key, &block, 0), Some(block.as_str()));
        // A line of key material that happens to start with `your`; a real key cut short.
        for body in [
            "yourd90fECBW0xH0D0d5nl4Wd39RUYLoIa5Lz36Hx2Vjp5Wnz3Nj8hv1krLK7fWv".to_string(),
            format!("{lines}\n..."),
            format!("{lines}\n[truncated]"),
        ] {
            let block =
                format!("-----BEGIN EC PRIVATE KEY-----\n{body}\n-----END EC PRIVATE KEY-----");
            assert_eq!(m(match_private_key, &block, 0), Some(block.as_str()));
        }
        // A header that says a key is elided, and nothing of it.
        let block = "-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: your key\n\n...\n-----END PGP PRIVATE KEY BLOCK-----";
        assert_eq!(m(match_private_key, block, 0), None);
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
        // A sentence's full stop is not the token's.
        for end in [".", ". Thanks", ".\n", ".\""] {
            assert_eq!(m(match_jwt, &format!("{token}{end}"), 0), Some(token));
        }
        // Four parts, or six, are no JOSE value; `=` is no base64url.
        assert_eq!(m(match_jwt, &format!("{token}.abc"), 0), None);
        assert_eq!(m(match_jwt, &format!("{token}="), 0), None);
        // A JWE: {"alg":"dir","enc":"A256GCM"}, an empty key, IV, ciphertext, tag.
        let jwe = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..dt-aCfejQ1HcmfWf.ktH62CQ1a7YvEBndzcKiPcTrWDavbzEqxDGk82l2hhji.ayAxSypeFk36pwpjAf2sww";
        assert_eq!(m(match_jwt, &format!("{jwe}; path=/"), 0), Some(jwe));
        assert_eq!(m(match_jwt, &format!("{jwe}."), 0), Some(jwe));
        assert_eq!(m(match_jwt, &format!("{jwe}.x"), 0), None);
        // Five parts whose header has no `enc`: no JWE.
        let five = format!("{token}.aaaa.bbbb");
        assert_eq!(m(match_jwt, &five, 0), None);
        // A JWE's IV, ciphertext and tag are never empty.
        assert_eq!(
            m(
                match_jwt,
                "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..dt-aCfejQ1HcmfWf..ayAx",
                0
            ),
            None
        );
    }
}
