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
    const FINDS: &'static str = "`glpat-`, `gldt-`, `glrt-`, `glptt-`, `glsoat-`, `glcbt-`, `gloas-`, `glimt-`, `glagent-`, `glffct-`, `glft-` and 20 to 300 base64url characters (with a routable token's suffix, `.` and 9 or `.01.` and 9); `GR1348941` runner registration tokens; not a placeholder.";
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

/// 20 to 300 base64url characters, then a routable token's suffix, if there: `.`, 2 of
/// `[0-9a-z]` (the payload's length) and 7 (its CRC-32), or, in the versioned form GitLab
/// issues since 2025, `.`, a 2-character version, `.` and those 9 (`….01.0w1pum4t4`).
/// Source: GitLab's secret-detection rules (`gitlab_personal_access_token_routable`),
/// handbook "Routable tokens".
fn gitlab_body(t: &[u8], body: usize) -> Option<usize> {
    let mut end = run_end_max(t, body, 301, is_b64url);
    if !(20..=300).contains(&(end - body)) || !random_part(t, body, end, Alphabet::Alnum) {
        return None;
    }
    let base36 = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if at(t, end) == Some(b'.') {
        let a = run_end_max(t, end + 1, 10, base36);
        if a - end - 1 == 9 {
            end = a;
        } else if a - end - 1 == 2 && at(t, a) == Some(b'.') {
            let b = run_end_max(t, a + 1, 10, base36);
            if b - a - 1 == 9 {
                end = b;
            }
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
    const FINDS: &'static str = "`pypi-AgEIcHlwaS5vcmc` or `pypi-AgENdGVzdC5weXBpLm9yZw` (a macaroon for pypi.org or test.pypi.org) and 50 to 1000 base64url characters, not a placeholder.";
    const STOPS: &'static [u8] = b"-";
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        let Some(ws) = prefix_is(t, i, b"pypi") else {
            return Stop::Pass;
        };
        // The macaroon's first field, its location: `pypi.org` or `test.pypi.org`.
        let Some(head) = [&b"-AgEIcHlwaS5vcmc"[..], b"-AgENdGVzdC5weXBpLm9yZw"]
            .into_iter()
            .find(|h| t.get(i..i + h.len()) == Some(*h))
        else {
            return Stop::claim(ws, None);
        };
        let body = i + head.len();
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
    const FINDS: &'static str = "`sk_live_`, `sk_test_`, `rk_live_`, `rk_test_` (secret and restricted keys) and 16 to 255 letters and digits; `whsec_` (webhook signing secrets) and 24 to 100 base64 characters; not a placeholder.";
    const STOPS: &'static [u8] = b"_";
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        if let Some(ws) = prefix_is(t, i, b"whsec") {
            return Stop::claim(ws, match_webhook_secret(t, i + 1));
        }
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

/// After `whsec_`: a webhook endpoint's signing secret, 24 to 100 base64 characters (Stripe's
/// are 32 letters and digits, <https://docs.stripe.com/webhooks#verify-events>; Svix, which
/// uses the same prefix, writes base64 with `+`, `/` and padding).
fn match_webhook_secret(t: &[u8], body: usize) -> Option<usize> {
    let data = run_end_max(t, body, 101, |b| {
        b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
    });
    let end = run_end_max(t, data, 3, |b| b == b'=');
    ((24..=100).contains(&(end - body))
        && end - data <= 2
        && boundary_after(t, end)
        && random_part(t, body, data, Alphabet::Alnum))
    .then_some(end)
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
                // The public test and canary clients' hosts: `ptb.discord.com`.
                let host = [&b"ptb."[..], b"canary."]
                    .into_iter()
                    .find_map(|sub| {
                        let s = ws.checked_sub(sub.len())?;
                        (t.get(s..ws) == Some(sub)).then_some(s)
                    })
                    .unwrap_or(ws);
                return match match_discord_webhook(t, i) {
                    Some(end) => Stop::claim(url_start(t, host), Some(end)),
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

/// `t[start..dot]` is the unpadded base64 of a decimal user id ([`b64_snowflake`]); then
/// `.`, 6 base64url, `.`, 27 to 38 base64url: an HMAC, random bytes, not text.
fn match_discord_bot(t: &[u8], start: usize, dot: usize) -> Option<usize> {
    if !b64_snowflake(t.get(start..dot)?) {
        return None;
    }
    let ts_end = run_end_max(t, dot + 1, 7, is_b64url);
    if ts_end - dot - 1 != 6 || at(t, ts_end) != Some(b'.') {
        return None;
    }
    let end = run_end_max(t, ts_end + 1, 39, is_b64url);
    let hmac = t.get(ts_end + 1..end)?;
    ((27..=38).contains(&hmac.len())
        && boundary_after(t, end)
        && !b64_is_text(hmac)
        && random_part(t, ts_end + 1, end, Alphabet::Alnum))
    .then_some(end)
}

/// The bytes of unpadded base64 (either alphabet), each passed to `f` until it says stop.
fn b64_bytes(s: &[u8], mut f: impl FnMut(u8) -> bool) -> bool {
    let mut acc = 0u32;
    let mut bits = 0u32;
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
            if !f((acc >> bits) as u8) {
                return false;
            }
            acc &= (1 << bits) - 1;
        }
    }
    true
}

/// Discord's epoch (2015-01-01) is where a snowflake's millisecond count starts; a user id
/// made 30 years later would be no user's yet.
const SNOWFLAKE_MAX_MS: u64 = 30 * 365 * 24 * 3600 * 1000;

/// Whether `s` (base64, unpadded) decodes to the 17 to 20 ASCII digits of a plausible Discord
/// snowflake: its top bits, the milliseconds since 2015, within 30 years
/// (<https://discord.com/developers/docs/reference#snowflakes>), and its digits not a run
/// (`123456789012345678`: placeholder rule 5).
fn b64_snowflake(s: &[u8]) -> bool {
    let mut digits = [0u8; 20];
    let mut n = 0usize;
    let mut id = 0u64;
    let ok = b64_bytes(s, |b| {
        let Some(slot) = digits.get_mut(n).filter(|_| b.is_ascii_digit()) else {
            return false;
        };
        *slot = b;
        n += 1;
        id = id.saturating_mul(10).saturating_add(u64::from(b - b'0'));
        true
    });
    ok && (17..=20).contains(&n)
        && id >> 22 <= SNOWFLAKE_MAX_MS
        && !digits
            .get(..n)
            .is_some_and(super::placeholder::is_placeholder_digits)
}

/// Whether base64 `s` decodes to printable ASCII only: text (`efghijklmnop…`), not a MAC (a
/// random 20-byte value is printable with a probability of about 2e-9).
fn b64_is_text(s: &[u8]) -> bool {
    b64_bytes(s, |b| (0x20..0x7f).contains(&b))
}

pub(super) struct AzureStorageKey;

/// The account key of Azurite, Azure's storage emulator: published in Microsoft's docs
/// (<https://learn.microsoft.com/azure/storage/common/storage-use-azurite#connection-strings>)
/// and in every project that tests against the emulator, as AWS's `…EXAMPLE` keys are. Not a
/// secret.
const AZURITE_KEY: &[u8] =
    b"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

impl BuiltIn for AzureStorageKey {
    const NAME: &'static str = "azure_storage_key";
    const FINDS: &'static str = "The key of a connection string: `AccountKey=` and 88 base64 characters (a storage account key), `SharedAccessKey=` and 44 (Service Bus, Event Hubs, IoT Hub), the name in any case, spaces around `=` allowed; not a placeholder, not the storage emulator's published key.";
    const STOPS: &'static [u8] = b"=";
    /// The `=` after `AccountKey` or `SharedAccessKey` (any case, perhaps after spaces); the
    /// value alone is reported.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        // Most `=` are settled by the byte before the name's end (`y`, or a space).
        if !matches!(before(t, i), Some(b'y' | b'Y' | b' ')) {
            return Stop::Pass;
        }
        let name_end = run_start(t, i, 3, |b| b == b' ');
        let named = |name: &[u8]| {
            name_end.checked_sub(name.len()).is_some_and(|s| {
                t.get(s..name_end)
                    .is_some_and(|w| w.eq_ignore_ascii_case(name))
                    && word_start_at(t, s)
            })
        };
        let len = if named(b"accountkey") {
            88
        } else if named(b"sharedaccesskey") {
            44
        } else {
            return Stop::Pass;
        };
        let value = run_end_max(t, i + 1, 3, |b| b == b' ');
        let data = run_end_max(t, value, 89, |b| {
            b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
        });
        let end = run_end_max(t, data, 3, |b| b == b'=');
        let ok = end - value == len
            && end - data <= 2
            && !at(t, end).is_some_and(|b| b.is_ascii_alphanumeric())
            && t.get(value..end) != Some(AZURITE_KEY)
            && random_part(t, value, data, Alphabet::Alnum);
        Stop::Claim(ok.then_some(value..end))
    }
}

pub(super) struct GcpServiceAccount;

/// How far from its `private_key_id` a service-account key file's `"service_account"` type or
/// `….iam.gserviceaccount.com` address is looked for: the type is next to the id (before it
/// in the file Google writes, after it when the keys are sorted), the address after the key's
/// PEM (about 1.7 KB). The look stops earlier at the file's object's brace or at another
/// `private_key_id` (another key's): a body of many ids costs a look at each one's neighbours
/// only.
const GCP_CUE_BACK: usize = 512;
const GCP_CUE_AHEAD: usize = 2048;

impl BuiltIn for GcpServiceAccount {
    const NAME: &'static str = "gcp_service_account";
    const FINDS: &'static str = "The `private_key_id` of a Google Cloud service-account key file (40 hex digits, in JSON, or in YAML unquoted, with `service_account` or a `gserviceaccount.com` address in the same object); its `private_key` is found as `private_key`.";
    const STOPS: &'static [u8] = b"_";
    /// The first underscore of `private_key_id`; the id's value alone is reported.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        if !(t.get(i..i + 7) == Some(b"_key_id") && prefix_is(t, i, b"private").is_some()) {
            return Stop::Pass;
        }
        Stop::Claim(match_gcp(t, i - 7, i + 7))
    }
}

/// After `private_key_id` (which starts at `key`): the closing quote, `:`, the opening quote
/// (either perhaps escaped, or both absent: YAML) and 40 hex digits; then the cue around.
fn match_gcp(t: &[u8], key: usize, mut p: usize) -> Option<std::ops::Range<usize>> {
    let skip_quote = |p: usize| -> Option<usize> {
        let p = if at(t, p) == Some(b'\\') { p + 1 } else { p };
        (at(t, p) == Some(b'"')).then_some(p + 1)
    };
    let key_quoted = skip_quote(p);
    p = key_quoted.unwrap_or(p);
    p = run_end_max(t, p, 8, |b| b == b' ');
    if at(t, p) != Some(b':') {
        return None;
    }
    p = run_end_max(t, p + 1, 8, |b| b == b' ');
    let value_quoted = skip_quote(p);
    p = value_quoted.unwrap_or(p);
    let end = run_end_max(t, p, 41, is_lower_hex);
    let closed = if value_quoted.is_some() {
        matches!(at(t, end), Some(b'"' | b'\\'))
    } else {
        key_quoted.is_none() && boundary_after(t, end)
    };
    if end - p != 40 || !closed {
        return None;
    }
    let cue = gcp_cue(t, key.saturating_sub(GCP_CUE_BACK), key, true)
        || gcp_cue(t, end, (end + GCP_CUE_AHEAD).min(t.len()), false);
    (cue && random_part(t, p, end, Alphabet::Hex)).then_some(p..end)
}

/// `service_account` or `serviceaccount.com` in `t[from..to]`, walking from the id outwards
/// (back: from `to`), up to the brace of the key file's object or another `private_key_id`.
fn gcp_cue(t: &[u8], from: usize, to: usize, back: bool) -> bool {
    let look = |k: usize| -> Option<bool> {
        match at(t, k)? {
            b's' => {
                let rest = t.get(k..).unwrap_or_default();
                (rest.starts_with(b"service_account") || rest.starts_with(b"serviceaccount.com"))
                    .then_some(true)
            }
            b'_' => t
                .get(k..k + 7)
                .is_some_and(|w| w == b"_key_id")
                .then_some(false),
            b'{' if back => Some(false),
            b'}' if !back => Some(false),
            _ => None,
        }
    };
    if back {
        (from..to).rev().find_map(look)
    } else {
        (from..to).find_map(look)
    }
    .unwrap_or(false)
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
        // A random part that starts with a dash; routable tokens, versioned.
        for v in [
            "glpat--_4jPvoNtWYXlxP9YPv7",
            "glpat-lhfU-apaO2zi2X4DrmoNdpbOSVc86MQp1OjEH.01.0wxkm6i7p",
            "glpat-bzox79Of-KE9FD2LjoXXF4CvyxA.0r03gxo7s",
            "glrt-t1_-9RkbrK80IkhGpVvDaGbBhw5cAJ.01.0wub03pif",
        ] {
            assert_eq!(
                stop(GitlabToken::at_stop, b"-", &format!("t {v}. x")).as_deref(),
                Some(v)
            );
        }
        for no in [
            "glpat-xxxxxxxxxxxxxxxxxxxx",
            "glpat-short",
            "glpat-your-token-goes-here-1234",
            "gl-pat",
            // Words in kebab case are no random part.
            "glpat-prefixed-strings-20-chars",
            "gldt-deploy-tokens-with-prefix",
            "glpat-rotation-schedule-weekly2",
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
        // test.pypi.org's tokens.
        let pt = format!("pypi-AgENdGVzdC5weXBpLm9yZw{}", rnd(B64U, 120, 30));
        assert_eq!(
            stop(PypiToken::at_stop, b"-", &format!("password = {pt}\n")).as_deref(),
            Some(pt.as_str())
        );
        // Webhook signing secrets.
        for w in [
            format!("whsec_{}", rnd(B62, 32, 31)),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string(),
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".to_string(),
        ] {
            assert_eq!(
                stop(StripeKey::at_stop, b"_", &format!("secret: {w}\n")).as_deref(),
                Some(w.as_str())
            );
        }
        for no in [
            "whsec_your_webhook_secret",
            "whsec_short",
            "swhsec_abcdefghijklmnopqrstuvwx12",
        ] {
            assert_eq!(stop(StripeKey::at_stop, b"_", no), None, "{no}");
        }
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
            // Test names in camel case.
            "def sk_test_ChargesAreRefundedOnCancel(self)",
            "sk_live_RejectsExpiredCardsWithoutRetry",
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
        // Dotted base64 of a run of digits and of text: a trace id, no token.
        for no in [
            "trace MTIzNDU2Nzg5MDEyMzQ1Njc4.YWJjZG.ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx".to_string(),
            format!(
                "{}.{}.{}",
                b64(b"1459348120913284097"),
                rnd(B64U, 6, 40),
                b64(b"efghijklmnopqrstuvwxyz0123").trim_end_matches('=')
            ),
            // An id 60 years after Discord's epoch is no user's.
            format!(
                "{}.{}.{}",
                b64(b"9223372036854775807"),
                rnd(B64U, 6, 41),
                rnd(B64U, 27, 42)
            ),
        ] {
            assert_eq!(stop(DiscordToken::at_stop, b".", &no), None, "{no}");
        }
        // The test and canary clients' hosts are part of the URL.
        let ptb = hook.replace("discord.com", "ptb.discord.com");
        assert_eq!(
            stop(DiscordToken::at_stop, b".", &format!("{ptb} ")).as_deref(),
            Some(ptb.as_str())
        );
    }

    #[test]
    fn azure() {
        let key = format!("{}==", rnd(B62, 86, 23));
        let cs = format!("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={key};EndpointSuffix=core.windows.net");
        assert_eq!(
            stop(AzureStorageKey::at_stop, b"=", &cs).as_deref(),
            Some(key.as_str())
        );
        let sas = format!("{}=", rnd(B62, 43, 24));
        let sb = format!("Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={sas}");
        assert_eq!(
            stop(AzureStorageKey::at_stop, b"=", &sb).as_deref(),
            Some(sas.as_str())
        );
        // The name in any case, spaces around `=`.
        for text in [
            format!("AccountName=acme;accountkey={key}"),
            format!("AccountName=acme;ACCOUNTKEY={key};"),
            format!("AccountName=a; AccountKey = {key}"),
        ] {
            assert_eq!(
                stop(AzureStorageKey::at_stop, b"=", &text).as_deref(),
                Some(key.as_str()),
                "{text}"
            );
        }
        for no in [
            "AccountKey=<your-account-key>".to_string(),
            format!("AccountKey={}==", "A".repeat(86)),
            format!("AccountKey={}", rnd(B62, 40, 25)),
            format!("{}==", rnd(B62, 86, 26)),
            format!("MyAccountKey={key}"),
            // Azurite's published key.
            format!("AccountKey={}", std::str::from_utf8(AZURITE_KEY).unwrap()),
        ] {
            assert_eq!(stop(AzureStorageKey::at_stop, b"=", &no), None, "{no}");
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
        // YAML, unquoted; the keys sorted (the type after the id).
        for doc in [
            format!("type: service_account\nprivate_key_id: {id}\nclient_email: a@p.iam.gserviceaccount.com\n"),
            format!(r#"{{"private_key": "", "private_key_id": "{id}", "project_id": "p", "type": "service_account"}}"#),
        ] {
            assert_eq!(
                stop(GcpServiceAccount::at_stop, b"_", &doc).as_deref(),
                Some(id.as_str()),
                "{doc}"
            );
        }
        // The cue of another object, or of another key's id, is not this id's.
        for no in [
            format!(r#"{{"type": "service_account"}}, {{"private_key_id": "{id}"}}"#),
            format!(r#"{{"private_key_id": "{id}"}} {{"type": "service_account"}}"#),
            format!("private_key_id: \"{id}\"x"),
            format!("private_key_id: {id}x service_account"),
        ] {
            assert_eq!(stop(GcpServiceAccount::at_stop, b"_", &no), None, "{no}");
        }
    }
}
