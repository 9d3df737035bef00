//! Tokens of the platforms agents call: Slack webhook URLs, GitLab, npm, PyPI, Stripe,
//! Twilio, SendGrid, Discord, Azure storage keys, GCP service-account keys. Each has a fixed
//! documented prefix or a cue that is part of the value's syntax (`AccountKey=`,
//! `"private_key_id"`); npm's carries a checksum. Sources: the providers' docs and the public
//! rule catalogues of gitleaks (`config/gitleaks.toml`) and trufflehog (`pkg/detectors/…`),
//! for prefixes, lengths and alphabets.

use super::catalogue::{no_low_bytes_before, BuiltIn, Stop};
use super::llm_keys::prefix_is;
use super::placeholder::{is_placeholder_text, Alphabet};
use super::secrets::{
    boundary_after, crc32_base62_ok, exact_run, is_alnum, is_lower_hex, random_part, run_end_max,
    word_before,
};
use super::text::{at, before, run_start, word_start_at};

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// `https://` or `http://` right before `host`: the URL's start.
fn url_start(t: &[u8], host: usize) -> usize {
    for scheme in [&b"https://"[..], b"http://"] {
        if let Some(s) = host.checked_sub(scheme.len()) {
            if t.get(s..host) == Some(scheme) {
                return s;
            }
        }
    }
    host
}

pub(super) struct SlackWebhookUrl;

impl BuiltIn for SlackWebhookUrl {
    const NAME: &'static str = "slack_webhook_url";
    const FINDS: &'static str = "`hooks.slack.com/services/`, `/workflows/` or `/triggers/` and a path of 40 to 120 letters, digits and slashes (`T…/B…/` and a secret), not a placeholder.";
    const STOPS: &'static [u8] = b".";
    /// The dot of `hooks.slack.com`.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        match prefix_is(t, i, b"hooks") {
            Some(ws) if t.get(i..i + 11) == Some(b".slack.com/") => {
                Stop::claim(url_start(t, ws), match_slack_webhook(t, i + 11))
            }
            _ => Stop::Pass,
        }
    }
}

/// After `hooks.slack.com/`: the kind, then the ids and the secret.
fn match_slack_webhook(t: &[u8], p: usize) -> Option<usize> {
    let kind = [&b"services/"[..], b"workflows/", b"triggers/"]
        .into_iter()
        .find(|k| t.get(p..p + k.len()) == Some(*k))?;
    let path = p + kind.len();
    let end = run_end_max(t, path, 121, |b| b.is_ascii_alphanumeric() || b == b'/');
    let s = t.get(path..end)?;
    let slashes = s.iter().filter(|&&b| b == b'/').count();
    let secret = s.rsplit(|&b| b == b'/').next()?;
    ((40..=120).contains(&s.len())
        && slashes >= 2
        && secret.len() >= 16
        && boundary_after(t, end)
        && !super::placeholder::is_placeholder(secret, Alphabet::Alnum))
    .then_some(end)
}

pub(super) struct GitlabToken;

/// GitLab's token prefixes (docs.gitlab.com, "Token prefixes").
const GITLAB_PREFIXES: [&[u8]; 11] = [
    b"glpat", b"gldt", b"glrt", b"glptt", b"glsoat", b"glcbt", b"gloas", b"glimt", b"glagent",
    b"glffct", b"glft",
];

impl BuiltIn for GitlabToken {
    const NAME: &'static str = "gitlab_token";
    const FINDS: &'static str = "`glpat-`, `gldt-`, `glrt-`, `glptt-`, `glsoat-`, `glcbt-`, `gloas-`, `glimt-`, `glagent-`, `glffct-`, `glft-` and 20 to 300 base64url characters (with a routable token's `.` suffix); `GR1348941` runner registration tokens; not a placeholder.";
    const STOPS: &'static [u8] = b"-";
    /// The dash after a GitLab prefix.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        // Every prefix ends in `t` or `s` (`glpat`, `gloas`): most dashes are settled here.
        if !matches!(before(t, i), Some(b't' | b's')) {
            return Stop::Pass;
        }
        let Some(ws) = word_before(t, i, 7) else {
            return Stop::Pass;
        };
        if !GITLAB_PREFIXES.contains(&t.get(ws..i).unwrap_or_default()) {
            return Stop::Pass;
        }
        Stop::claim(ws, gitlab_body(t, i + 1))
    }
    const LETTER_WORD: bool = true;
    /// `GR1348941…`: a runner registration token.
    #[inline]
    fn at_letter_word(t: &[u8], start: usize, _end: usize) -> Option<usize> {
        if t.get(start..start + 9) != Some(b"GR1348941") {
            return None;
        }
        gitlab_body(t, start + 9)
    }
}

/// 20 to 300 base64url characters, then a routable token's `.` and 9 of `[0-9a-z]`, if there.
fn gitlab_body(t: &[u8], body: usize) -> Option<usize> {
    let mut end = run_end_max(t, body, 301, is_b64url);
    if !(20..=300).contains(&(end - body)) || !random_part(t, body, end, Alphabet::Alnum) {
        return None;
    }
    if at(t, end) == Some(b'.') {
        let suffix = run_end_max(t, end + 1, 10, |b| {
            b.is_ascii_lowercase() || b.is_ascii_digit()
        });
        if suffix - end - 1 == 9 {
            end = suffix;
        }
    }
    boundary_after(t, end).then_some(end)
}

pub(super) struct NpmToken;

impl BuiltIn for NpmToken {
    const NAME: &'static str = "npm_token";
    const FINDS: &'static str = "`npm_` and 36 letters and digits whose last 6 are the CRC32 checksum of the first 30 (base62).";
    const STOPS: &'static [u8] = b"_";
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let Some(ws) = prefix_is(t, i, b"npm") else {
            return Stop::Pass;
        };
        let end = exact_run(t, i + 1, 36, is_alnum).filter(|&e| {
            t.get(i + 1..e).is_some_and(crc32_base62_ok)
                && random_part(t, i + 1, e, Alphabet::Alnum)
        });
        Stop::claim(ws, end)
    }
}

pub(super) struct PypiToken;

impl BuiltIn for PypiToken {
    const NAME: &'static str = "pypi_token";
    const FINDS: &'static str = "`pypi-AgEIcHlwaS5vcmc` (a macaroon for pypi.org) and 50 to 1000 base64url characters, not a placeholder.";
    const STOPS: &'static [u8] = b"-";
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let Some(ws) = prefix_is(t, i, b"pypi") else {
            return Stop::Pass;
        };
        const HEAD: &[u8] = b"-AgEIcHlwaS5vcmc";
        if t.get(i..i + HEAD.len()) != Some(HEAD) {
            return Stop::claim(ws, None);
        }
        let body = i + HEAD.len();
        let end = run_end_max(t, body, 1001, is_b64url);
        let ok = (50..=1000).contains(&(end - body))
            && boundary_after(t, end)
            && !t.get(body..end).is_some_and(is_placeholder_text);
        Stop::claim(ws, ok.then_some(end))
    }
}

pub(super) struct StripeKey;

impl BuiltIn for StripeKey {
    const NAME: &'static str = "stripe_key";
    const FINDS: &'static str = "`sk_live_`, `sk_test_`, `rk_live_`, `rk_test_` (secret and restricted keys) and 16 to 255 letters and digits, not a placeholder.";
    const STOPS: &'static [u8] = b"_";
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let ws = match prefix_is(t, i, b"sk").or_else(|| prefix_is(t, i, b"rk")) {
            Some(ws) => ws,
            None => return Stop::Pass,
        };
        if !matches!(t.get(i..i + 6), Some(b"_live_" | b"_test_")) {
            return Stop::Pass;
        }
        let body = i + 6;
        let end = run_end_max(t, body, 256, is_alnum);
        let ok = (16..=255).contains(&(end - body))
            && boundary_after(t, end)
            && random_part(t, body, end, Alphabet::Alnum);
        Stop::claim(ws, ok.then_some(end))
    }
}

pub(super) struct TwilioApiKey;

impl BuiltIn for TwilioApiKey {
    const NAME: &'static str = "twilio_api_key";
    const FINDS: &'static str =
        "`SK` and 32 hex digits of one case (an API key SID), not a placeholder.";
    const LETTER_WORD: bool = true;
    #[inline]
    fn at_letter_word(t: &[u8], start: usize, end: usize) -> Option<usize> {
        if end - start != 34 || t.get(start..start + 2) != Some(b"SK") {
            return None;
        }
        let hex = t.get(start + 2..end)?;
        let one_case = hex.iter().all(|&b| is_lower_hex(b))
            || hex
                .iter()
                .all(|&b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
        (one_case && boundary_after(t, end) && random_part(t, start + 2, end, Alphabet::Hex))
            .then_some(end)
    }
}

pub(super) struct SendgridApiKey;

impl BuiltIn for SendgridApiKey {
    const NAME: &'static str = "sendgrid_api_key";
    const FINDS: &'static str =
        "`SG.`, 22 base64url characters, `.` and 43 base64url characters, not a placeholder.";
    const STOPS: &'static [u8] = b".";
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let ws = match i.checked_sub(2) {
            Some(ws) if t.get(ws..i) == Some(b"SG") && word_start_at(t, ws) => ws,
            _ => return Stop::Pass,
        };
        let id_end = run_end_max(t, i + 1, 23, is_b64url);
        let end = (id_end - i - 1 == 22 && at(t, id_end) == Some(b'.'))
            .then(|| exact_run(t, id_end + 1, 43, is_b64url))
            .flatten()
            .filter(|&e| {
                random_part(t, i + 1, id_end, Alphabet::Alnum)
                    && random_part(t, id_end + 1, e, Alphabet::Alnum)
            });
        Stop::claim(ws, end)
    }
}

pub(super) struct DiscordToken;

impl BuiltIn for DiscordToken {
    const NAME: &'static str = "discord_token";
    const FINDS: &'static str = "A bot token (the base64 of a 17 to 20 digit user id, `.`, 6, `.`, 27 to 38 base64url characters) or a webhook URL (`discord.com/api/webhooks/<id>/` and 60 to 80 base64url characters), not a placeholder.";
    const STOPS: &'static [u8] = b".";
    /// The first dot of a bot token, or the dot of `discord.com`, `discordapp.com`.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        for host in [&b"discord"[..], b"discordapp"] {
            if let Some(ws) = prefix_is(t, i, host) {
                return match match_discord_webhook(t, i) {
                    Some(end) => Stop::claim(url_start(t, ws), Some(end)),
                    None => Stop::Pass,
                };
            }
        }
        // A bot token's first segment is 24 to 28 base64url characters.
        if !no_low_bytes_before(t, i, 24) {
            return Stop::Pass;
        }
        let rs = run_start(t, i, 29, is_b64url);
        if !(24..=28).contains(&(i - rs))
            || !matches!(at(t, rs), Some(b'M' | b'N' | b'O'))
            || !word_start_at(t, rs)
            || before(t, rs).is_some_and(|b| b == b'-' || b == b'_')
        {
            return Stop::Pass;
        }
        Stop::claim(rs, match_discord_bot(t, rs, i))
    }
}

/// After `discord.`/`discordapp.` at `dot`: `com/api/` [`v10/`] `webhooks/` id `/` token.
fn match_discord_webhook(t: &[u8], dot: usize) -> Option<usize> {
    let mut p = dot + 1;
    if t.get(p..p + 8) != Some(b"com/api/") {
        return None;
    }
    p += 8;
    if at(t, p) == Some(b'v') {
        let v = run_end_max(t, p + 1, 3, |b| b.is_ascii_digit());
        if !(v > p + 1 && at(t, v) == Some(b'/')) {
            return None;
        }
        p = v + 1;
    }
    if t.get(p..p + 9) != Some(b"webhooks/") {
        return None;
    }
    p += 9;
    let id_end = run_end_max(t, p, 21, |b| b.is_ascii_digit());
    if !(17..=20).contains(&(id_end - p)) || at(t, id_end) != Some(b'/') {
        return None;
    }
    let body = id_end + 1;
    let end = run_end_max(t, body, 81, is_b64url);
    ((60..=80).contains(&(end - body))
        && boundary_after(t, end)
        && random_part(t, body, end, Alphabet::Alnum))
    .then_some(end)
}

/// `t[start..dot]` is the unpadded base64 of a decimal user id; then `.`, 6 base64url, `.`,
/// 27 to 38 base64url.
fn match_discord_bot(t: &[u8], start: usize, dot: usize) -> Option<usize> {
    if !b64_of_digits(t.get(start..dot)?) {
        return None;
    }
    let ts_end = run_end_max(t, dot + 1, 7, is_b64url);
    if ts_end - dot - 1 != 6 || at(t, ts_end) != Some(b'.') {
        return None;
    }
    let end = run_end_max(t, ts_end + 1, 39, is_b64url);
    ((27..=38).contains(&(end - ts_end - 1))
        && boundary_after(t, end)
        && random_part(t, ts_end + 1, end, Alphabet::Alnum))
    .then_some(end)
}

/// Whether `s` (base64, unpadded) decodes to 17 to 20 ASCII digits.
fn b64_of_digits(s: &[u8]) -> bool {
    let mut acc = 0u32;
    let mut bits = 0u32;
    let mut n = 0usize;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return false,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if !((acc >> bits) as u8).is_ascii_digit() {
                return false;
            }
            n += 1;
            acc &= (1 << bits) - 1;
        }
    }
    (17..=20).contains(&n)
}

pub(super) struct AzureStorageKey;

impl BuiltIn for AzureStorageKey {
    const NAME: &'static str = "azure_storage_key";
    const FINDS: &'static str = "The key of a connection string: `AccountKey=` and 88 base64 characters (a storage account key), `SharedAccessKey=` and 44 (Service Bus, Event Hubs, IoT Hub), not a placeholder.";
    const STOPS: &'static [u8] = b"A";
    /// The `A` of `AccountKey=` or of `SharedAccessKey=`; the value alone is reported.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let (value, len) = if t.get(i..i + 11) == Some(b"AccountKey=") && word_start_at(t, i) {
            (i + 11, 88)
        } else if t.get(i..i + 10) == Some(b"AccessKey=")
            && i.checked_sub(6)
                .is_some_and(|s| t.get(s..i) == Some(b"Shared") && word_start_at(t, s))
        {
            (i + 10, 44)
        } else {
            return Stop::Pass;
        };
        let data = run_end_max(t, value, 89, |b| {
            b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
        });
        let end = run_end_max(t, data, 3, |b| b == b'=');
        let ok = end - value == len
            && end - data <= 2
            && !at(t, end).is_some_and(|b| b.is_ascii_alphanumeric())
            && random_part(t, value, data, Alphabet::Alnum);
        Stop::Claim(ok.then_some(value..end))
    }
}

pub(super) struct GcpServiceAccount;

/// How far from its `private_key_id` a service-account key file's `"service_account"` type or
/// `….iam.gserviceaccount.com` address is looked for: the key's PEM (about 1.7 KB) may sit
/// between them.
const GCP_CUE_BACK: usize = 512;
const GCP_CUE_AHEAD: usize = 4096;

impl BuiltIn for GcpServiceAccount {
    const NAME: &'static str = "gcp_service_account";
    const FINDS: &'static str = "The `private_key_id` of a Google Cloud service-account key file (40 hex digits, in a JSON object with `\"type\": \"service_account\"` or a `gserviceaccount.com` address); its `private_key` is found as `private_key`.";
    const STOPS: &'static [u8] = b"_";
    /// The first underscore of `private_key_id`; the id's value alone is reported.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        if !(t.get(i..i + 7) == Some(b"_key_id") && prefix_is(t, i, b"private").is_some()) {
            return Stop::Pass;
        }
        Stop::Claim(match_gcp(t, i + 7))
    }
}

/// After `private_key_id`: the closing quote, `:`, the opening quote (either perhaps escaped)
/// and 40 hex digits; then the cue around.
fn match_gcp(t: &[u8], mut p: usize) -> Option<std::ops::Range<usize>> {
    let skip_quote = |p: usize| -> Option<usize> {
        let p = if at(t, p) == Some(b'\\') { p + 1 } else { p };
        (at(t, p) == Some(b'"')).then_some(p + 1)
    };
    p = skip_quote(p)?;
    p = run_end_max(t, p, 8, |b| b == b' ');
    if at(t, p) != Some(b':') {
        return None;
    }
    p = run_end_max(t, p + 1, 8, |b| b == b' ');
    p = skip_quote(p)?;
    let end = run_end_max(t, p, 41, is_lower_hex);
    if end - p != 40 || !matches!(at(t, end), Some(b'"' | b'\\')) {
        return None;
    }
    let back = t.get(p.saturating_sub(GCP_CUE_BACK)..p)?;
    let ahead = t.get(end..(end + GCP_CUE_AHEAD).min(t.len()))?;
    let cue = back.windows(15).any(|w| w == b"service_account")
        || ahead.windows(19).any(|w| w == b"gserviceaccount.com")
        || ahead.windows(15).any(|w| w == b"service_account");
    (cue && random_part(t, p, end, Alphabet::Hex)).then_some(p..end)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    const B62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const B64U: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const HEX: &[u8] = b"0123456789abcdef";

    fn rnd(a: &[u8], n: usize, seed: u64) -> String {
        super::super::llm_keys::tests::rnd(a, n, seed)
    }

    /// What the first claiming stop of `f` reports.
    fn stop(f: fn(&[u8], usize) -> Stop, stops: &[u8], text: &str) -> Option<String> {
        let t = text.as_bytes();
        (0..t.len())
            .filter(|&k| stops.contains(&t[k]))
            .find_map(|k| match f(t, k) {
                Stop::Claim(span) => Some(span.map(|s| text[s].to_string())),
                Stop::Pass => None,
            })
            .flatten()
    }

    pub(crate) fn npm(seed: u64) -> String {
        let r = rnd(B62, 30, seed);
        let c = super::super::secrets::crc32(r.as_bytes());
        format!("npm_{r}{}", base62(u64::from(c)))
    }

    pub(crate) fn base62(mut v: u64) -> String {
        let mut s = Vec::new();
        for _ in 0..6 {
            s.push(B62_DIGITS[(v % 62) as usize]);
            v /= 62;
        }
        s.reverse();
        String::from_utf8(s).unwrap()
    }

    const B62_DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    #[test]
    fn slack_webhooks() {
        let u = format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            rnd(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10, 1),
            rnd(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10, 2),
            rnd(B62, 24, 3)
        );
        assert_eq!(
            stop(SlackWebhookUrl::at_stop, b".", &format!("url: {u} ok")).as_deref(),
            Some(u.as_str())
        );
        for no in [
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.slack.com/services/",
            "see hooks.slack.com for details",
        ] {
            assert_eq!(stop(SlackWebhookUrl::at_stop, b".", no), None, "{no}");
        }
    }

    #[test]
    fn gitlab() {
        for v in [
            format!("glpat-{}", rnd(B64U, 20, 4)),
            format!(
                "glpat-{}.01{}",
                rnd(B64U, 40, 5),
                rnd(b"abcdefghijklmnopqrstuvwxyz0123456789", 7, 6)
            ),
            format!("gldt-{}", rnd(B64U, 20, 7)),
            format!("glrt-{}", rnd(B64U, 20, 8)),
            format!("glptt-{}", rnd(HEX, 40, 9)),
        ] {
            assert_eq!(
                stop(GitlabToken::at_stop, b"-", &format!("t {v} x")).as_deref(),
                Some(v.as_str())
            );
        }
        let gr = format!("GR1348941{}", rnd(B64U, 20, 10));
        let t = format!("reg {gr} ");
        assert_eq!(
            GitlabToken::at_letter_word(t.as_bytes(), 4, 4 + 9).map(|e| &t[4..e]),
            Some(gr.as_str())
        );
        for no in [
            "glpat-xxxxxxxxxxxxxxxxxxxx",
            "glpat-short",
            "glpat-your-token-goes-here-1234",
            "gl-pat",
        ] {
            assert_eq!(stop(GitlabToken::at_stop, b"-", no), None, "{no}");
        }
    }

    #[test]
    fn npm_checksum() {
        let v = npm(11);
        assert_eq!(
            stop(
                NpmToken::at_stop,
                b"_",
                &format!("//registry.npmjs.org/:_authToken={v}")
            )
            .as_deref(),
            Some(v.as_str())
        );
        let mut bad = v.clone().into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        assert_eq!(
            stop(NpmToken::at_stop, b"_", std::str::from_utf8(&bad).unwrap()),
            None
        );
        assert_eq!(
            stop(
                NpmToken::at_stop,
                b"_",
                &format!("npm_{}", rnd(B62, 36, 12))
            ),
            None
        );
    }

    #[test]
    fn pypi_stripe_twilio_sendgrid() {
        let p = format!("pypi-AgEIcHlwaS5vcmc{}", rnd(B64U, 120, 13));
        assert_eq!(
            stop(PypiToken::at_stop, b"-", &format!("password = {p}\n")).as_deref(),
            Some(p.as_str())
        );
        assert_eq!(
            stop(PypiToken::at_stop, b"-", "pypi-AgEIcHlwaS5vcmc..."),
            None
        );
        assert_eq!(
            stop(PypiToken::at_stop, b"-", "pip install pypi-simple"),
            None
        );
        for s in [
            format!("sk_live_{}", rnd(B62, 24, 14)),
            format!("rk_test_{}", rnd(B62, 99, 15)),
        ] {
            assert_eq!(
                stop(StripeKey::at_stop, b"_", &format!("{s};")).as_deref(),
                Some(s.as_str())
            );
        }
        for no in [
            "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
            "sk_test_your_stripe_key_here",
            "sk_live_short",
            "risk_live_abcdefghijklmnopqrstu1",
        ] {
            assert_eq!(stop(StripeKey::at_stop, b"_", no), None, "{no}");
        }
        let tw = format!("SK{}", rnd(HEX, 32, 16));
        let t = format!("sid {tw} ");
        assert_eq!(
            TwilioApiKey::at_letter_word(t.as_bytes(), 4, 4 + 34),
            Some(38)
        );
        let bad = format!("sid SK{} ", "0".repeat(32));
        assert_eq!(
            TwilioApiKey::at_letter_word(bad.as_bytes(), 4, 4 + 34),
            None
        );
        let sg = format!("SG.{}.{}", rnd(B64U, 22, 17), rnd(B64U, 43, 18));
        assert_eq!(
            stop(SendgridApiKey::at_stop, b".", &format!("key={sg}")).as_deref(),
            Some(sg.as_str())
        );
        assert_eq!(
            stop(
                SendgridApiKey::at_stop,
                b".",
                "SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            ),
            None
        );
        assert_eq!(stop(SendgridApiKey::at_stop, b".", "SG.example"), None);
    }

    pub(crate) fn discord_bot(seed: u64) -> String {
        let id = format!(
            "{}",
            100_000_000_000_000_000u64 + seed * 7_919_000_000_013 % 800_000_000_000_000_000
        );
        format!(
            "{}.{}.{}",
            b64(id.as_bytes()),
            rnd(B64U, 6, seed),
            rnd(B64U, 27, seed + 1)
        )
    }

    pub(crate) fn b64(data: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (k, &b)| n | u32::from(b) << (16 - 8 * k));
            for k in 0..=chunk.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            }
        }
        out
    }

    #[test]
    fn discord() {
        let bot = discord_bot(19);
        assert_eq!(
            stop(DiscordToken::at_stop, b".", &format!("Bot {bot}")).as_deref(),
            Some(bot.as_str())
        );
        let hook = format!(
            "https://discord.com/api/webhooks/{}/{}",
            1_234_567_890_123_456_789u64 - 1_111_111,
            rnd(B64U, 68, 20)
        );
        assert_eq!(
            stop(DiscordToken::at_stop, b".", &format!("{hook} ")).as_deref(),
            Some(hook.as_str())
        );
        // Base64 of letters is no user id.
        let no = format!(
            "{}.{}.{}",
            b64(b"abcdefghijklmnopqr"),
            rnd(B64U, 6, 21),
            rnd(B64U, 27, 22)
        );
        assert_eq!(stop(DiscordToken::at_stop, b".", &no), None);
        assert_eq!(
            stop(DiscordToken::at_stop, b".", "join discord.com today"),
            None
        );
    }

    #[test]
    fn azure() {
        let key = format!("{}==", rnd(B62, 86, 23));
        let cs = format!("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={key};EndpointSuffix=core.windows.net");
        assert_eq!(
            stop(AzureStorageKey::at_stop, b"A", &cs).as_deref(),
            Some(key.as_str())
        );
        let sas = format!("{}=", rnd(B62, 43, 24));
        let sb = format!("Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={sas}");
        assert_eq!(
            stop(AzureStorageKey::at_stop, b"A", &sb).as_deref(),
            Some(sas.as_str())
        );
        for no in [
            "AccountKey=<your-account-key>".to_string(),
            format!("AccountKey={}==", "A".repeat(86)),
            format!("AccountKey={}", rnd(B62, 40, 25)),
            format!("{}==", rnd(B62, 86, 26)),
        ] {
            assert_eq!(stop(AzureStorageKey::at_stop, b"A", &no), None, "{no}");
        }
    }

    #[test]
    fn gcp() {
        let id = rnd(HEX, 40, 27);
        let doc = format!(
            r#"{{"type": "service_account", "project_id": "acme", "private_key_id": "{id}", "private_key": "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n"}}"#
        );
        assert_eq!(
            stop(GcpServiceAccount::at_stop, b"_", &doc).as_deref(),
            Some(id.as_str())
        );
        let escaped =
            format!(r#"{{"file":"{{\"type\":\"service_account\",\"private_key_id\":\"{id}\"}}"}}"#);
        assert_eq!(
            stop(GcpServiceAccount::at_stop, b"_", &escaped).as_deref(),
            Some(id.as_str())
        );
        // Without the cue, a hex id is nothing.
        let bare = format!(r#"{{"private_key_id": "{id}"}}"#);
        assert_eq!(stop(GcpServiceAccount::at_stop, b"_", &bare), None);
    }
}
