//! API keys of LLM providers, the credentials agent traffic carries most: each has a fixed
//! documented prefix and a random part of a fixed alphabet and length. Found from the `-`,
//! `_` or `A` of their prefix; each detector claims that byte only when its own prefix is
//! there, so the others sharing the byte still see theirs. Sources: the providers' docs and
//! the public rule catalogues of gitleaks (`config/gitleaks.toml`) and trufflehog
//! (`pkg/detectors/<provider>`), for prefixes, lengths and alphabets.

use super::catalogue::{BuiltIn, Stop};
use super::placeholder::Alphabet;
use super::secrets::{boundary_after, exact_run, is_alnum, is_lower_hex, random_part, run_end_max};
use super::text::{before, word_start_at};

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// `word` ends at the stop byte `i` and starts a word: its start.
pub(super) fn prefix_is(t: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    // The byte before the stop settles nearly every stop at once (`created_at`, `e-mail`): many
    // detectors share `-`, `_` and `.`, and each asks here first.
    if before(t, i) != word.last().copied() {
        return None;
    }
    let ws = i.checked_sub(word.len())?;
    (t.get(ws..i) == Some(word) && word_start_at(t, ws)).then_some(ws)
}

/// `prefix` (ending with the stop byte at `i`) and exactly `len` bytes of `alphabet`, not a
/// placeholder: the common shape of a fixed-prefix key, claimed at `i` when its word is there.
fn fixed(
    t: &[u8],
    i: usize,
    word: &[u8],
    len: usize,
    alphabet: fn(u8) -> bool,
    a: Alphabet,
) -> Stop {
    let Some(ws) = prefix_is(t, i, word) else {
        return Stop::Pass;
    };
    let body = i + 1;
    let end = exact_run(t, body, len, alphabet).filter(|&e| random_part(t, body, e, a));
    Stop::claim(ws, end)
}

pub(super) struct OpenAiApiKey;

impl BuiltIn for OpenAiApiKey {
    const NAME: &'static str = "openai_api_key";
    const FINDS: &'static str = "`sk-proj-`, `sk-svcacct-`, `sk-service-`, `sk-admin-`, `sk-None-` and 40 to 300 base64url characters, or `sk-` and 40 to 300 letters and digits; either way holding OpenAI's `T3BlbkFJ` marker (every form needs it), not a placeholder.";
    const STOPS: &'static [u8] = b"-";
    /// The dash of `sk-` (after Anthropic's and OpenRouter's `sk-ant-`, `sk-or-`).
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        match prefix_is(t, i, b"sk") {
            Some(ws) => Stop::claim(ws, match_openai(t, ws)),
            None => Stop::Pass,
        }
    }
}

/// The base64 of `OpenAI`, which every OpenAI key carries in its middle.
const OPENAI_MARK: &[u8] = b"T3BlbkFJ";

/// `sk-` [family `-`] base64url with `T3BlbkFJ` at least 16 characters from either end; a
/// key without a family (the legacy user keys, `sk-` and 48) has letters and digits only
/// (gitleaks `openai-api-key`), so `sk-sk-sk-…` is settled at its next dash.
pub(super) fn match_openai(t: &[u8], start: usize) -> Option<usize> {
    let mut body = start + 3;
    let mut family = false;
    for f in [&b"proj-"[..], b"svcacct-", b"service-", b"admin-", b"None-"] {
        if t.get(body..body + f.len()) == Some(f) {
            body += f.len();
            family = true;
            break;
        }
    }
    let end = if family {
        run_end_max(t, body, 301, is_b64url)
    } else {
        run_end_max(t, body, 301, is_alnum)
    };
    let s = t.get(body..end)?;
    let ok = (40..=300).contains(&s.len())
        && boundary_after(t, end)
        && s.windows(8)
            .position(|w| w == OPENAI_MARK)
            .is_some_and(|p| p >= 16 && p + 8 + 16 <= s.len())
        && random_part(t, body, end, Alphabet::Alnum);
    ok.then_some(end)
}

pub(super) struct AnthropicApiKey;

impl BuiltIn for AnthropicApiKey {
    const NAME: &'static str = "anthropic_api_key";
    const FINDS: &'static str = "`sk-ant-api03-`, `sk-ant-admin01-` (and the `oat01`, `ort01` OAuth forms) then 93 base64url characters and `AA` (95 in all), not a placeholder.";
    const STOPS: &'static [u8] = b"-";
    /// The first dash of `sk-ant-`.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        match prefix_is(t, i, b"sk") {
            Some(ws) if t.get(i..i + 5) == Some(b"-ant-") => {
                Stop::claim(ws, match_anthropic(t, ws))
            }
            _ => Stop::Pass,
        }
    }
}

/// `sk-ant-` a family (letters and two digits: `api03`, `admin01`), `-`, 93 base64url and `AA`.
pub(super) fn match_anthropic(t: &[u8], start: usize) -> Option<usize> {
    let fam = start + 7;
    let letters = run_end_max(t, fam, 6, |b| b.is_ascii_lowercase());
    if !(3..=5).contains(&(letters - fam))
        || !t.get(letters..letters + 2)?.iter().all(u8::is_ascii_digit)
        || t.get(letters + 2) != Some(&b'-')
    {
        return None;
    }
    let body = letters + 3;
    let end = exact_run(t, body, 95, is_b64url)?;
    (t.get(end - 2..end) == Some(b"AA") && random_part(t, body, end - 2, Alphabet::Alnum))
        .then_some(end)
}

pub(super) struct OpenRouterApiKey;

impl BuiltIn for OpenRouterApiKey {
    const NAME: &'static str = "openrouter_api_key";
    const FINDS: &'static str = "`sk-or-v1-` and 64 lower-case hex digits, not a placeholder.";
    const STOPS: &'static [u8] = b"-";
    /// The first dash of `sk-or-`.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        match prefix_is(t, i, b"sk") {
            Some(ws) if t.get(i..i + 4) == Some(b"-or-") => {
                let end = (t.get(i..i + 7) == Some(b"-or-v1-"))
                    .then(|| exact_run(t, i + 7, 64, is_lower_hex))
                    .flatten()
                    .filter(|&e| random_part(t, i + 7, e, Alphabet::Hex));
                Stop::claim(ws, end)
            }
            _ => Stop::Pass,
        }
    }
}

pub(super) struct GoogleApiKey;

impl BuiltIn for GoogleApiKey {
    const NAME: &'static str = "google_api_key";
    const FINDS: &'static str =
        "`AIza` and 35 base64url characters (Google Cloud, Gemini, Firebase, Maps), not a placeholder.";
    const STOPS: &'static [u8] = b"A";
    /// `AIza` where a word starts.
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        if !(t.get(i..i + 4) == Some(b"AIza") && word_start_at(t, i)) {
            return Stop::Pass;
        }
        let end = exact_run(t, i + 4, 35, is_b64url)
            .filter(|&e| random_part(t, i + 4, e, Alphabet::Alnum));
        Stop::claim(i, end)
    }
}

pub(super) struct GroqApiKey;

impl BuiltIn for GroqApiKey {
    const NAME: &'static str = "groq_api_key";
    const FINDS: &'static str = "`gsk_` and 52 letters and digits, not a placeholder.";
    const STOPS: &'static [u8] = b"_";
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        fixed(t, i, b"gsk", 52, is_alnum, Alphabet::Alnum)
    }
}

pub(super) struct HuggingfaceToken;

impl BuiltIn for HuggingfaceToken {
    const NAME: &'static str = "huggingface_token";
    const FINDS: &'static str =
        "`hf_` (user access tokens) or `api_org_` (organization tokens) and 34 letters and digits, not a placeholder.";
    const STOPS: &'static [u8] = b"_";
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        if let Some(ws) = prefix_is(t, i, b"api") {
            if t.get(i..i + 5) != Some(b"_org_") {
                return Stop::Pass;
            }
            let end = exact_run(t, i + 5, 34, is_alnum)
                .filter(|&e| random_part(t, i + 5, e, Alphabet::Alnum));
            return Stop::claim(ws, end);
        }
        fixed(t, i, b"hf", 34, is_alnum, Alphabet::Alnum)
    }
}

pub(super) struct XaiApiKey;

impl BuiltIn for XaiApiKey {
    const NAME: &'static str = "xai_api_key";
    const FINDS: &'static str = "`xai-` and 80 letters, digits and underscores, not a placeholder.";
    const STOPS: &'static [u8] = b"-";
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        fixed(
            t,
            i,
            b"xai",
            80,
            |b| b.is_ascii_alphanumeric() || b == b'_',
            Alphabet::Alnum,
        )
    }
}

pub(super) struct PerplexityApiKey;

impl BuiltIn for PerplexityApiKey {
    const NAME: &'static str = "perplexity_api_key";
    const FINDS: &'static str = "`pplx-` and 48 letters and digits, not a placeholder.";
    const STOPS: &'static [u8] = b"-";
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        fixed(t, i, b"pplx", 48, is_alnum, Alphabet::Alnum)
    }
}

pub(super) struct ReplicateApiToken;

impl BuiltIn for ReplicateApiToken {
    const NAME: &'static str = "replicate_api_token";
    const FINDS: &'static str = "`r8_` and 37 base64url characters, not a placeholder.";
    const STOPS: &'static [u8] = b"_";
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        fixed(t, i, b"r8", 37, is_b64url, Alphabet::Alnum)
    }
}

#[cfg(test)]
#[allow(clippy::string_slice, clippy::type_complexity)]
pub(super) mod tests {
    use super::*;

    fn at(f: fn(&[u8], usize) -> Stop, text: &str) -> Option<String> {
        let t = text.as_bytes();
        let i = t
            .iter()
            .position(|&b| b == b'-' || b == b'_' || b == b'A')?;
        (i..t.len())
            .filter(|&k| matches!(t[k], b'-' | b'_' | b'A'))
            .find_map(|k| match f(t, k) {
                Stop::Claim(span) => Some(span.map(|s| text[s].to_string())),
                Stop::Pass => None,
            })
            .flatten()
    }

    pub(crate) fn rnd(alphabet: &[u8], n: usize, seed: u64) -> String {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize] as char
            })
            .collect()
    }

    const B62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const B64U: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    #[test]
    fn openai() {
        let legacy = format!("sk-{}T3BlbkFJ{}", rnd(B62, 20, 1), rnd(B62, 20, 2));
        let proj = format!("sk-proj-{}T3BlbkFJ{}", rnd(B64U, 74, 3), rnd(B64U, 74, 4));
        let svc = format!(
            "sk-svcacct-{}T3BlbkFJ{}",
            rnd(B64U, 58, 5),
            rnd(B64U, 58, 6)
        );
        let admin = format!("sk-admin-{}T3BlbkFJ{}", rnd(B64U, 58, 7), rnd(B64U, 58, 8));
        for k in [&legacy, &proj, &svc, &admin] {
            assert_eq!(
                at(OpenAiApiKey::at_stop, &format!("key {k} ok")).as_deref(),
                Some(k.as_str())
            );
        }
        for no in [
            "const PREFIX = \"sk-\";".to_string(),
            "pip install scikit-learn sk-learn".into(),
            format!("sk-{}", rnd(B62, 48, 9)), // no marker
            format!("sk-proj-{}T3BlbkFJ", rnd(B64U, 60, 10)),
            "sk-proj-xxxxxxxxxxxxxxxxxxxxT3BlbkFJxxxxxxxxxxxxxxxxxxxx".into(),
            format!(
                "sk-your-key-here-{}T3BlbkFJ{}",
                rnd(B62, 20, 11),
                rnd(B62, 20, 12)
            ),
            // Without a family, a key is letters and digits only.
            format!("sk-{}-T3BlbkFJ{}", rnd(B62, 20, 13), rnd(B62, 20, 14)),
            "sk-sk-sk-sk-sk-sk-sk-sk-sk-sk-sk-sk-sk-sk-sk-sk-sk-sk-".into(),
        ] {
            assert_eq!(at(OpenAiApiKey::at_stop, &no), None, "{no}");
        }
        // `sk-ant-` is Anthropic's: OpenAI claims the dash but finds nothing in it.
        assert_eq!(at(OpenAiApiKey::at_stop, "sk-ant-api03-x"), None);
    }

    #[test]
    fn anthropic() {
        let k = format!("sk-ant-api03-{}AA", rnd(B64U, 93, 21));
        let a = format!("sk-ant-admin01-{}AA", rnd(B64U, 93, 22));
        for v in [&k, &a] {
            assert_eq!(
                at(AnthropicApiKey::at_stop, &format!("x {v}\n")).as_deref(),
                Some(v.as_str())
            );
        }
        for no in [
            format!("sk-ant-api03-{}AB", rnd(B64U, 93, 23)),
            format!("sk-ant-api03-{}AA", rnd(B64U, 90, 24)),
            format!("sk-ant-api03-{}AA", "x".repeat(93)),
            "sk-ant-api03-...".into(),
        ] {
            assert_eq!(at(AnthropicApiKey::at_stop, &no), None, "{no}");
        }
        // Not its prefix: the dash is left to the others.
        assert!(matches!(
            AnthropicApiKey::at_stop(b"sk-proj-abc", 2),
            Stop::Pass
        ));
    }

    #[test]
    fn others() {
        let hex = b"0123456789abcdef";
        let cases: [(fn(&[u8], usize) -> Stop, String); 7] = [
            (
                OpenRouterApiKey::at_stop,
                format!("sk-or-v1-{}", rnd(hex, 64, 31)),
            ),
            (GoogleApiKey::at_stop, format!("AIza{}", rnd(B64U, 35, 32))),
            (GroqApiKey::at_stop, format!("gsk_{}", rnd(B62, 52, 33))),
            (
                HuggingfaceToken::at_stop,
                format!("hf_{}", rnd(B62, 34, 34)),
            ),
            (XaiApiKey::at_stop, format!("xai-{}", rnd(B62, 80, 35))),
            (
                PerplexityApiKey::at_stop,
                format!("pplx-{}", rnd(B62, 48, 36)),
            ),
            (
                ReplicateApiToken::at_stop,
                format!("r8_{}", rnd(B64U, 37, 37)),
            ),
        ];
        for (f, v) in &cases {
            assert_eq!(
                at(*f, &format!("\"{v}\"")).as_deref(),
                Some(v.as_str()),
                "{v}"
            );
            // One character more or less is another shape.
            let long = format!("{v}a");
            assert_eq!(at(*f, &long), None, "{long}");
            let short = &v[..v.len() - 1];
            assert_eq!(at(*f, short), None, "{short}");
        }
        // Tokens of letters only (gitleaks' alphabet for them) in mixed case are found.
        let letters = format!("hf_{}", rnd(&B62[..52], 34, 39));
        assert_eq!(
            at(HuggingfaceToken::at_stop, &letters).as_deref(),
            Some(letters.as_str())
        );
        let org = format!("api_org_{}", rnd(B62, 34, 38));
        assert_eq!(
            at(HuggingfaceToken::at_stop, &org).as_deref(),
            Some(org.as_str())
        );
        for no in [
            "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "gsk_your_groq_api_key_here_1234567890abcdefghijklmnop",
            "AIzaSyDUMMYKEY-EXAMPLE-0000000000000000",
            "xai-",
            "see hf_hub_download() in the docs",
            // A class name of 34 letters in camel case: words, not a token.
            "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 = None",
        ] {
            for (f, _) in &cases {
                assert_eq!(at(*f, no), None, "{no}");
            }
        }
    }
}
