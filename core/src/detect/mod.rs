//! Sensitive-data detection: one pass over the bytes, hand-written matchers, no regex (except
//! the operator's own patterns, on bounded segments).
//!
//! The pass walks the input once and looks closer only where a word starts or at a few
//! punctuation bytes (`@`, `+`, `(`, `-`, `:`): digit words go to the numeric detectors
//! (cards, SSNs, phones, IPs, routing numbers), words with a known prefix to the credential
//! detectors, `@` to the e-mail detector. Every matcher looks ahead or back a bounded number of
//! bytes, so the work is linear in the input whatever it holds. Input that hides values from a
//! byte scan (escapes, look-alike characters, integer-valued JSON number forms, base64 or hex
//! text) is scanned once more as a decoded view ([`decode`]), built only where it changes
//! something; what is found there maps back to the original bytes.
//!
//! Detector kinds are small integer ids ([`Kind`]) so that findings are a bit set and rules
//! test `has_<type>` without touching strings.

mod card;
pub mod catalogue;
mod crypto;
pub mod custom;
pub mod decode;
mod digit_ids;
mod email;
mod es_nif;
mod fi_hetu;
mod iban;
mod id_cue;
/// How far after a value a cue may end (`046 454 286 is my SIN`), bytes: a stream holds
/// text that close to a number back (`response::window::safe_boundary`).
pub const CUE_AFTER_BYTES: usize = id_cue::CUE_AFTER_WINDOW + id_cue::MAX_CUE;
mod id_shape;
mod in_pan;
mod ip;
mod it_fiscal_code;
mod llm_keys;
mod phone;
mod placeholder;
mod platform;
#[cfg(test)]
mod quality;
mod routing;
mod scan;
mod secrets;
mod sg_nric;
mod ssn;
mod text;
pub mod tokens;
mod uk_nino;

use std::ops::Range;

use catalogue::catalogue;
pub use catalogue::Detector;
pub use custom::{Checksum, CustomDetector};
pub use decode::Decoding;

// The built-in detectors, one row each (see `catalogue`), in precedence order: where two could
// take the same candidate, the earlier row is tried first. `= n` is the kind: the order of
// `detected` lists, metric series and the docs. A new detector takes the next kind.
catalogue! {
    /// US Social Security numbers (before cards and phones: `123-45-6789` is neither).
    SSN = 1 => ssn::Ssn,
    /// Payment card numbers.
    CREDIT_CARD = 0 => card::CreditCard,
    /// IPv4 and IPv6 addresses.
    IP_ADDRESS = 5 => ip::IpAddress,
    /// Spanish DNI/NIF and NIE. The national identifiers come before phones, the loosest
    /// numeric matcher: their digits (`12345678-Z`, `131052-308T`, `AB 12 34 56 C`) are theirs
    /// with the letter that validates them, never the start of a phone number.
    ES_NIF = 32 => es_nif::EsNif,
    /// Finnish personal identity codes.
    FI_HETU = 33 => fi_hetu::FiHetu,
    /// UK National Insurance numbers (letter-led like the three after it, which share no
    /// shape with the earlier letter-led rows: IPv6 groups need a colon).
    UK_NINO = 34 => uk_nino::UkNino,
    /// Indian Permanent Account Numbers.
    IN_PAN = 35 => in_pan::InPan,
    /// Italian fiscal codes.
    IT_FISCAL_CODE = 36 => it_fiscal_code::ItFiscalCode,
    /// Singapore NRIC/FIN numbers.
    SG_NRIC = 37 => sg_nric::SgNric,
    /// National identifiers written with digits only (before phones: a cued NHS number is
    /// not a phone number, nor a cued TFN, RRN or Medicare number a cued phone's digits).
    /// Their cues and shapes keep them apart from each other; an SSN or a card comes first.
    /// UK NHS numbers.
    UK_NHS_NUMBER = 38 => digit_ids::uk_nhs::UkNhsNumber,
    /// Canadian Social Insurance Numbers.
    CA_SIN = 39 => digit_ids::ca_sin::CaSin,
    /// Indian Aadhaar numbers.
    IN_AADHAAR = 40 => digit_ids::in_aadhaar::InAadhaar,
    /// Australian tax file numbers.
    AU_TFN = 41 => digit_ids::au::AuTfn,
    /// Australian Business Numbers.
    AU_ABN = 42 => digit_ids::au::AuAbn,
    /// Australian Company Numbers.
    AU_ACN = 43 => digit_ids::au::AuAcn,
    /// Australian Medicare card numbers.
    AU_MEDICARE = 44 => digit_ids::au::AuMedicare,
    /// Polish PESEL numbers.
    PL_PESEL = 45 => digit_ids::pl_pesel::PlPesel,
    /// Brazilian CPF numbers.
    BR_CPF = 46 => digit_ids::br_cpf::BrCpf,
    /// Korean resident registration numbers.
    KR_RRN = 47 => digit_ids::kr_rrn::KrRrn,
    /// US Individual Taxpayer Identification Numbers.
    US_ITIN = 48 => digit_ids::us_itin::UsItin,
    /// US bank routing numbers (before phones: nine digits with a routing cue of their own in
    /// their field, a Federal Reserve prefix and the ABA checksum are a routing number, even
    /// with a phone word nearby; a phone number is decided on a cue alone).
    US_BANK_ROUTING = 6 => routing::UsBankRouting,
    /// Phone numbers.
    PHONE = 3 => phone::Phone,
    /// Bitcoin addresses.
    CRYPTO_WALLET = 7 => crypto::CryptoWallet,
    /// International Bank Account Numbers.
    IBAN = 4 => iban::Iban,
    /// PEM private key blocks (before Slack tokens, which also start from a dash).
    PRIVATE_KEY = 11 => secrets::PrivateKey,
    /// Slack tokens.
    SLACK_TOKEN = 10 => secrets::SlackToken,
    /// E-mail addresses.
    EMAIL = 2 => email::Email,
    /// AWS access key ids.
    AWS_ACCESS_KEY = 8 => secrets::AwsAccessKey,
    /// GitHub tokens.
    GITHUB_TOKEN = 9 => secrets::GithubToken,
    /// JSON Web Tokens.
    JWT = 12 => secrets::Jwt,
    /// Anthropic API keys (before OpenAI's, which claims every other `sk-`).
    ANTHROPIC_API_KEY = 14 => llm_keys::AnthropicApiKey,
    /// OpenRouter API keys (`sk-or-v1-`, before OpenAI's).
    OPENROUTER_API_KEY = 21 => llm_keys::OpenRouterApiKey,
    /// OpenAI API keys.
    OPENAI_API_KEY = 13 => llm_keys::OpenAiApiKey,
    /// Google API keys (`AIza`).
    GOOGLE_API_KEY = 15 => llm_keys::GoogleApiKey,
    /// Groq API keys.
    GROQ_API_KEY = 16 => llm_keys::GroqApiKey,
    /// Hugging Face tokens.
    HUGGINGFACE_TOKEN = 17 => llm_keys::HuggingfaceToken,
    /// xAI API keys.
    XAI_API_KEY = 18 => llm_keys::XaiApiKey,
    /// Perplexity API keys.
    PERPLEXITY_API_KEY = 19 => llm_keys::PerplexityApiKey,
    /// Replicate API tokens.
    REPLICATE_API_TOKEN = 20 => llm_keys::ReplicateApiToken,
    /// Slack incoming-webhook and workflow URLs.
    SLACK_WEBHOOK_URL = 22 => platform::SlackWebhookUrl,
    /// GitLab tokens.
    GITLAB_TOKEN = 23 => platform::GitlabToken,
    /// npm access tokens.
    NPM_TOKEN = 24 => platform::NpmToken,
    /// PyPI API tokens.
    PYPI_TOKEN = 25 => platform::PypiToken,
    /// Stripe secret and restricted keys.
    STRIPE_KEY = 26 => platform::StripeKey,
    /// Twilio API key SIDs.
    TWILIO_API_KEY = 27 => platform::TwilioApiKey,
    /// SendGrid API keys.
    SENDGRID_API_KEY = 28 => platform::SendgridApiKey,
    /// Discord bot tokens and webhook URLs.
    DISCORD_TOKEN = 29 => platform::DiscordToken,
    /// Azure storage account and shared access keys of connection strings.
    AZURE_STORAGE_KEY = 30 => platform::AzureStorageKey,
    /// Google Cloud service-account key ids.
    GCP_SERVICE_ACCOUNT = 31 => platform::GcpServiceAccount,
}

/// A detector type: an index into the scanner's catalogue (built-ins first, numbered by their
/// catalogue rows above, which also declare the `Kind::CREDIT_CARD`… constants; then custom
/// detectors in configuration order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind(u8);

impl Kind {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The kind of the `n`-th custom detector.
    pub fn custom(n: usize) -> Kind {
        Kind(u8::try_from(BUILT_INS.len() + n).unwrap_or(u8::MAX))
    }
}

/// At most this many detectors, built-in and custom together (a kind set is 128 bits).
pub const MAX_KINDS: usize = 128;

/// A set of detector kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindSet(u128);

impl KindSet {
    pub fn all_built_ins() -> KindSet {
        KindSet((1u128 << BUILT_INS.len()) - 1)
    }

    pub fn with(self, kind: Kind) -> KindSet {
        KindSet(self.0 | (1u128 << (kind.0 & 127)))
    }

    pub fn contains(self, kind: Kind) -> bool {
        self.0 & (1u128 << (kind.0 & 127)) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn union(self, other: KindSet) -> KindSet {
        KindSet(self.0 | other.0)
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Kinds in the set, in id order.
    pub fn iter(self) -> impl Iterator<Item = Kind> {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let k = rest.trailing_zeros();
            (k < 128).then(|| {
                rest &= rest - 1;
                Kind(k as u8)
            })
        })
    }
}

/// One detected value: its kind, where it is (byte offsets into the scanned input), and
/// whether it sits inside a JSON string (so a replacement knows whether to quote itself; set
/// by [`mark_json_strings`], false until then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    pub span: Range<usize>,
    pub in_string: bool,
}

/// What a scan found. Reused across the scans of one request (path, then body).
#[derive(Debug, Default, Clone)]
pub struct Findings {
    pub kinds: KindSet,
    /// Number of values found (all kinds together).
    pub count: usize,
    /// Some input's decoded views would have taken more memory than
    /// [`decode::view_budget`] allows: what they hold is unknown, and the input must not be
    /// treated as scanned (the exchange refuses it).
    pub incomplete: bool,
}

impl Findings {
    fn add(&mut self, kind: Kind) {
        self.kinds = self.kinds.with(kind);
        self.count = self.count.saturating_add(1);
    }
}

/// Sets `in_string` on findings of a JSON input (in input order), for redaction.
pub fn mark_json_strings(input: &[u8], findings: &mut [Finding]) {
    scan::mark_strings(input, findings);
}

/// How the scanned input is written: JSON (string state is tracked, custom patterns run over
/// string values) or anything else (custom patterns run over lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// The compiled detector catalogue: the enabled built-ins and the operator's own detectors.
#[derive(Debug, Clone)]
pub struct Scanner {
    enabled: KindSet,
    /// Names, built-ins then custom, by kind index.
    names: Vec<String>,
    event_placeholders: Vec<String>,
    redaction_placeholders: Vec<String>,
    custom: Vec<(Kind, CustomDetector)>,
}

impl Scanner {
    /// The built-in detectors in `enabled`, and no custom ones.
    pub fn new(enabled: KindSet) -> Scanner {
        Scanner::with_custom(enabled, Vec::new())
    }

    /// `custom` detectors get the kinds after the built-ins, in order; `enabled` says which
    /// kinds (of both) run. Callers keep the total within [`MAX_KINDS`].
    pub fn with_custom(enabled: KindSet, custom: Vec<(String, CustomDetector)>) -> Scanner {
        let mut names: Vec<String> = BUILT_INS.iter().map(|d| d.name.to_string()).collect();
        let mut detectors = Vec::new();
        for (n, (name, d)) in custom
            .into_iter()
            .take(MAX_KINDS - BUILT_INS.len())
            .enumerate()
        {
            names.push(name);
            detectors.push((Kind::custom(n), d));
        }
        let upper: Vec<String> = names.iter().map(|n| n.to_ascii_uppercase()).collect();
        Scanner {
            enabled,
            event_placeholders: upper.iter().map(|u| format!("[{u}_REDACTED]")).collect(),
            redaction_placeholders: upper.iter().map(|u| format!("[{u}]")).collect(),
            names,
            custom: detectors,
        }
    }

    pub fn enabled(&self) -> KindSet {
        self.enabled
    }

    /// The same catalogue with these kinds enabled.
    pub fn enable(mut self, enabled: KindSet) -> Scanner {
        self.enabled = enabled;
        self
    }

    /// The kind of a detector name, built-in or custom.
    pub fn kind_by_name(&self, name: &str) -> Option<Kind> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|p| u8::try_from(p).ok())
            .map(Kind)
    }

    /// Every detector name this scanner knows, enabled or not.
    pub fn all_names(&self) -> &[String] {
        &self.names
    }

    pub fn name(&self, kind: Kind) -> &str {
        self.names
            .get(kind.index())
            .map_or("unknown", String::as_str)
    }

    pub fn names(&self, set: KindSet) -> Vec<&str> {
        set.iter().map(|k| self.name(k)).collect()
    }

    /// `[CREDIT_CARD_REDACTED]`: what event lines show instead of a value.
    pub fn event_placeholder(&self, kind: Kind) -> &str {
        self.event_placeholders
            .get(kind.index())
            .map_or("[REDACTED]", String::as_str)
    }

    /// `[CREDIT_CARD]`: what a redacted body carries instead of a value.
    pub fn redaction_placeholder(&self, kind: Kind) -> &str {
        self.redaction_placeholders
            .get(kind.index())
            .map_or("[REDACTED]", String::as_str)
    }

    /// Scans `input` and, when it holds what `decoding` undoes (escapes, look-alikes, number
    /// forms, base64/hex text), its decoded view too (the agent sees decoded values).
    /// `on_match` gets every value once, in input order, with its span in `input` (covering
    /// every original byte of it).
    pub fn scan_input(
        &self,
        input: &[u8],
        decoding: Decoding,
        format: Format,
        findings: &mut Findings,
        on_match: impl FnMut(Finding),
    ) {
        let (found, complete) = self.find(input, decoding, format);
        findings.incomplete |= !complete;
        for f in &found {
            findings.add(f.kind);
        }
        found.into_iter().for_each(on_match);
    }

    /// What [`Scanner::scan_input`] reports, as a list: not generic, so that the scan and its
    /// views are compiled once however many callers there are. `false` with them when the
    /// decoded views were over their budget (the raw scan's values are still reported).
    fn find(&self, input: &[u8], decoding: Decoding, format: Format) -> (Vec<Finding>, bool) {
        if self.enabled.is_empty() {
            return (Vec::new(), true);
        }
        let (seen, mut found) = scan::scan(self, input, format);
        // Custom detectors report after the pass: put everything in input order.
        found.sort_by_key(|f| f.span.start);
        let hints = decode::Hints {
            json_escape: seen.json_unicode_escape,
            percent: seen.percent_escape,
            plus: seen.plus,
            non_ascii: decoding.fold && !text::is_ascii(input),
            number: seen.number_form,
        };
        let words = seen.token_words.as_slice();
        let view = match decode::view(input, decoding, format, &hints, words) {
            Ok(view) => view,
            Err(decode::OverBudget) => return (found, false),
        };
        let percent_decoded = view.as_ref().is_some_and(decode::View::percent_decoded);
        if let Some(view) = view {
            merge(&mut found, self.scan_view(&view, format));
        }
        if decoding.nested && percent_decoded {
            // A receiver that does not undo percent escapes reads the raw input's tokens as they
            // are, and an escape may cut one (`%34` + `313131…`: percent-decoding takes the first
            // two digits of a hex token): the raw input's tokens are searched on their own too.
            // Only then: it copies and scans the input once more.
            match decode::raw_tokens(input, words) {
                Ok(Some(view)) => merge(&mut found, self.scan_view(&view, format)),
                Ok(None) => {}
                Err(decode::OverBudget) => return (found, false),
            }
        }
        (found, true)
    }

    /// The values a view holds, with their spans in the input, in input order.
    fn scan_view(&self, view: &decode::View, format: Format) -> Vec<Finding> {
        let (_, mut decoded) = scan::scan(self, view.bytes(), format);
        for f in &mut decoded {
            f.span = view.raw_span(&f.span);
        }
        // Custom detectors report after the pass: in input order, as the raw list is.
        decoded.sort_by_key(|f| f.span.start);
        decoded
    }

    /// Scans without decoding, as text.
    pub fn scan(&self, input: &[u8], findings: &mut Findings, on_match: impl FnMut(Finding)) {
        self.scan_input(input, Decoding::default(), Format::Text, findings, on_match);
    }
}

/// Adds what a decoded view found (`decoded`, in input order) to `found` (in input order, and
/// so it stays). Both lists are in input order: one walk finds the values the raw scan missed,
/// and the values it saw only in part (`doe@example.com` of `jane\u{200b}.doe@…`): a decoded
/// value that covers found ones takes their place; one inside a found value (an e-mail in a
/// JWT's payload) is already counted; one that overlaps found ones partly counts beside them.
fn merge(found: &mut Vec<Finding>, decoded: Vec<Finding>) {
    let raw_count = found.len();
    let mut replaced = vec![false; raw_count];
    let mut j = 0;
    for f in decoded {
        let span = f.span.clone();
        while j < raw_count && found.get(j).is_some_and(|r| r.span.end <= span.start) {
            j += 1;
        }
        let mut k = j;
        let mut covers = true;
        while let Some(r) = found
            .get(k)
            .filter(|r| k < raw_count && r.span.start < span.end)
        {
            covers &= span.start <= r.span.start && r.span.end <= span.end && span != r.span;
            k += 1;
        }
        if k == j || covers {
            for flag in replaced.iter_mut().take(k).skip(j) {
                *flag = true;
            }
            found.push(f);
        } else if !found.get(j..k).is_some_and(|raw| {
            raw.iter()
                .any(|r| r.span.start <= f.span.start && f.span.end <= r.span.end)
        }) {
            // Overlapping a raw value of another extent without containing it
            // (`4111<NBSP>1111 1111 1111 22`: a phone raw, a card decoded): both count, and
            // the spans merge where they are scrubbed.
            found.push(f);
        }
    }
    let mut n = 0;
    found.retain(|_| {
        n += 1;
        !replaced.get(n - 1).copied().unwrap_or(false)
    });
    found.sort_by_key(|f| f.span.start);
}

/// Test support: what the whole scanner finds in `text`, scanned as a body is (JSON when it
/// starts with `{`, else text), as (type, raw value) pairs in input order.
#[cfg(test)]
#[allow(clippy::string_slice)]
pub(crate) fn scan_body(text: &str) -> Vec<(String, String)> {
    let scanner = Scanner::new(KindSet::all_built_ins());
    let format = if text.starts_with('{') {
        Format::Json
    } else {
        Format::Text
    };
    let mut out = Vec::new();
    scanner.scan_input(
        text.as_bytes(),
        Decoding::BODY,
        format,
        &mut Findings::default(),
        |f| out.push((scanner.name(f.kind).to_string(), text[f.span].to_string())),
    );
    out
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    fn scan_all(text: &str) -> Vec<(String, String)> {
        let scanner = Scanner::new(KindSet::all_built_ins());
        let mut findings = Findings::default();
        let mut out = Vec::new();
        scanner.scan_input(
            text.as_bytes(),
            Decoding::default(),
            Format::Json,
            &mut findings,
            |f| {
                out.push((scanner.name(f.kind).to_string(), text[f.span].to_string()));
            },
        );
        assert_eq!(findings.count, out.len());
        out
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn finds_each_kind() {
        let body = r#"{"card":"4111 1111 1111 1111","ssn":"123-45-6789","to":"jane.doe+x@example.co.uk",
 "phone":"+1 (415) 555-2671","iban":"DE89 3704 0044 0532 0130 00","ip":"192.168.1.10","ip6":"2001:db8::8a2e:370:7334",
 "routing":"021000021","btc":"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2","aws":"AKIAUJZDEGXDNCF32EPF",
 "gh":"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","slack":"xoxb-231948757491-LiMcVbpT4r5yHUig",
 "key":"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----",
 "jwt":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"}"#;
        let got = scan_all(body);
        let kinds: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            vec![
                "credit_card",
                "ssn",
                "email",
                "phone",
                "iban",
                "ip_address",
                "ip_address",
                "us_bank_routing",
                "crypto_wallet",
                "aws_access_key",
                "github_token",
                "slack_token",
                "private_key",
                "jwt"
            ]
        );
        assert_eq!(got[2].1, "jane.doe+x@example.co.uk");
        assert_eq!(
            got[12].1,
            r"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----"
        );
    }

    #[test]
    fn json_escapes_are_word_boundaries() {
        assert_eq!(
            scan_all(r#"{"note":"line one\n4111111111111111\tend"}"#),
            pairs(&[("credit_card", "4111111111111111")])
        );
    }

    #[test]
    fn in_string_is_known_in_json() {
        let scanner = Scanner::new(KindSet::all_built_ins());
        let body = br#"{"a":"4111111111111111","b":4111111111111111,"c":"x\"4111111111111111"}"#;
        let mut found = Vec::new();
        scanner.scan_input(
            body,
            Decoding::default(),
            Format::Json,
            &mut Findings::default(),
            |f| found.push(f),
        );
        mark_json_strings(body, &mut found);
        let flags: Vec<bool> = found.iter().map(|f| f.in_string).collect();
        assert_eq!(flags, vec![true, false, true]);
    }

    #[test]
    fn disabled_detectors_do_not_run() {
        let scanner = Scanner::new(KindSet::default().with(Kind::EMAIL));
        let mut findings = Findings::default();
        scanner.scan(
            b"4111111111111111 123-45-6789 a@b.io",
            &mut findings,
            |_| {},
        );
        assert_eq!(scanner.names(findings.kinds), vec!["email"]);
        assert_eq!(findings.count, 1);
    }

    #[test]
    fn names_and_placeholders() {
        let custom = CustomDetector::compile(r"EMP-\d{6}", None, &[]).unwrap();
        let scanner = Scanner::with_custom(
            KindSet::all_built_ins(),
            vec![("employee_id".into(), custom)],
        );
        for d in BUILT_INS {
            assert_eq!(scanner.name(scanner.kind_by_name(d.name).unwrap()), d.name);
        }
        let k = scanner.kind_by_name("employee_id").unwrap();
        assert_eq!(k.index(), BUILT_INS.len());
        assert_eq!(scanner.event_placeholder(k), "[EMPLOYEE_ID_REDACTED]");
        assert_eq!(
            scanner.redaction_placeholder(Kind::CREDIT_CARD),
            "[CREDIT_CARD]"
        );
        assert!(scanner.kind_by_name("nope").is_none());
    }

    #[test]
    fn custom_detectors_run_on_string_values_and_lines() {
        let custom = CustomDetector::compile(r"EMP-\d{6}", None, &[]).unwrap();
        let scanner = Scanner::with_custom(
            KindSet::all_built_ins().with(Kind(BUILT_INS.len() as u8)),
            vec![("employee_id".into(), custom)],
        );
        let mut f = Findings::default();
        let mut spans = Vec::new();
        let body = br#"{"who":"EMP-123456","n":1}"#;
        scanner.scan_input(body, Decoding::default(), Format::Json, &mut f, |x| {
            spans.push(x.span)
        });
        assert_eq!(spans, vec![8..18]);
        let mut f = Findings::default();
        scanner.scan_input(
            b"a\nby EMP-654321\n",
            Decoding::default(),
            Format::Text,
            &mut f,
            |_| {},
        );
        assert_eq!(scanner.names(f.kinds), vec!["employee_id"]);
    }

    #[test]
    fn encoded_values_are_found_and_mapped_back() {
        let scanner = Scanner::new(KindSet::all_built_ins());
        let url = Decoding {
            percent: true,
            plus_is_space: true,
            json: false,
            fold: true,
            nested: true,
        };
        let input = "/q?e=jane%40example.com&c=4111+1111+1111+1111&s=123-45-6789";
        let mut f = Findings::default();
        let mut spans = Vec::new();
        scanner.scan_input(input.as_bytes(), url, Format::Text, &mut f, |x| {
            spans.push(x)
        });
        let got: Vec<(&str, &str)> = spans
            .iter()
            .map(|x| (scanner.name(x.kind), &input[x.span.clone()]))
            .collect();
        assert_eq!(
            got,
            vec![
                ("email", "jane%40example.com"),
                ("credit_card", "4111+1111+1111+1111"),
                ("ssn", "123-45-6789"),
            ]
        );
        assert_eq!(
            f.count, 3,
            "a value found raw is not counted again from the view"
        );
        let json = Decoding {
            json: true,
            ..Decoding::default()
        };
        let body = r#"{"n":"\u0034111111111111111","ok":"a@b.io"}"#;
        let mut f = Findings::default();
        let mut spans = Vec::new();
        scanner.scan_input(body.as_bytes(), json, Format::Json, &mut f, |x| {
            spans.push(x)
        });
        let got: Vec<&str> = spans.iter().map(|x| &body[x.span.clone()]).collect();
        assert_eq!(got, vec![r"\u0034111111111111111", "a@b.io"]);
        assert_eq!(scanner.names(f.kinds), vec!["credit_card", "email"]);
    }

    #[test]
    fn linear_on_hostile_input() {
        // Long separated digit chains, runs of '@', long words and escapes must not blow up.
        let all = Decoding {
            percent: true,
            plus_is_space: true,
            json: true,
            fold: true,
            nested: true,
        };
        let inputs = [
            "1 ".repeat(200_000),
            "a@".repeat(200_000),
            "9".repeat(400_000),
            "a%40b.io+".repeat(100_000) + &r"\u0040x.io ".repeat(100_000),
            "ghp_".repeat(100_000),
            "-----BEGIN PRIVATE KEY-----".repeat(20_000),
            "eyJ.".repeat(100_000),
            "1:".repeat(200_000),
            "+1 ".repeat(100_000),
            "sk-".repeat(100_000),
            "sk-ant-api03-".repeat(30_000),
            "sk_live_".repeat(50_000),
            "xoxb-".repeat(100_000),
            "xoxe.xoxp-".repeat(50_000),
            "github_pat_".repeat(40_000),
            "glpat-".repeat(60_000),
            "pypi-AgEIcHlwaS5vcmc".repeat(20_000),
            "hooks.slack.com/services/".repeat(20_000),
            r#""private_key_id":""#.repeat(20_000),
            "AccountKey=".repeat(40_000),
            "MTk4NjIyNDgzNDcxOTI1MjQ4.".repeat(20_000),
        ];
        for t in inputs {
            let scanner = Scanner::new(KindSet::all_built_ins());
            let start = std::time::Instant::now();
            scanner.scan_input(
                t.as_bytes(),
                all,
                Format::Json,
                &mut Findings::default(),
                |_| {},
            );
            assert!(start.elapsed().as_secs() < 5, "{}", &t[..20]);
        }
    }
}

/// Issue 10 ("No way around the scanner"), classes 2 to 4: each example of the issue is a
/// value the scanner finds, and the span it reports covers every original byte of it.
#[cfg(test)]
#[allow(clippy::string_slice)]
mod issue_10 {
    use super::*;

    const CARD: &str = "4111111111111111";

    /// Scans `text` as a body is scanned (`Decoding::BODY`), returning (type, raw value).
    fn found(text: &str, format: Format) -> Vec<(String, String)> {
        let scanner = Scanner::new(KindSet::all_built_ins());
        let mut out = Vec::new();
        scanner.scan_input(
            text.as_bytes(),
            Decoding::BODY,
            format,
            &mut Findings::default(),
            |f| out.push((scanner.name(f.kind).to_string(), text[f.span].to_string())),
        );
        out
    }

    fn assert_found(text: &str, format: Format, kind: &str, raw: &str) {
        let got = found(text, format);
        assert!(
            got.iter().any(|(k, v)| k == kind && v == raw),
            "{text:?}: want {kind} {raw:?}, got {got:?}"
        );
    }

    use super::tokens::tests::b64;

    /// Issue 11, item 3: phones, UATP cards, dashed routing numbers and IBANs, through the whole
    /// scanner: the pass's shortcuts (`short_chain`, `date_or_time`) must not pass over them,
    /// in JSON nor in prose, nor after a timestamp or a count.
    #[test]
    fn issue_11_numbers_beyond_the_us() {
        for (kind, value, cue) in [
            ("phone", "090-1234-5678", ""),
            ("phone", "09-7625400", ""),
            ("phone", "13812345678", "\u{624b}\u{673a}"),
            ("phone", "13812345678", "phone"),
            ("phone", "02-123-4567", ""),
            ("phone", "8 (495) 123-45-67", ""),
            ("phone", "(11) 91234-5678", ""),
            ("phone", "06 12 34 56 78", "t\u{e9}l\u{e9}phone"),
            ("phone", "+81 90-1234-5678", ""),
            ("phone", "+44 (0)20 7946 0958", ""),
            ("phone", "+972 9-762-5400", ""),
            ("phone", "+683 4002", ""),
            ("credit_card", "1357 90246 813574", ""),
            ("credit_card", "135790246813574", "UATP card"),
            ("us_bank_routing", "0711-0130-7", "routing"),
            ("iban", "DE89-3704-0044-0532-0130-00", ""),
        ] {
            for text in [
                format!(r#"{{"{cue}":"{value}"}}"#),
                format!(r#"{{"at":"2026-11-30T12:00:00Z","n":217,"{cue}":"{value}"}}"#),
                format!("{cue} {value}, thanks"),
                format!("2026-11-30 12:00:00 0.314 {cue} {value}"),
            ] {
                let format = if text.starts_with('{') {
                    Format::Json
                } else {
                    Format::Text
                };
                assert_eq!(
                    found(&text, format),
                    vec![(kind.to_string(), value.to_string())],
                    "{text}"
                );
            }
        }
        // Japanese text writes fullwidth digits and dashes: the folded view finds them.
        let fullwidth = "\u{ff10}\u{ff19}\u{ff10}\u{ff0d}\u{ff11}\u{ff12}\u{ff13}\u{ff14}\u{ff0d}\u{ff15}\u{ff16}\u{ff17}\u{ff18}";
        assert_found(
            &format!("\u{96fb}\u{8a71}\u{ff1a}{fullwidth}"),
            Format::Text,
            "phone",
            fullwidth,
        );
        // Without a cue, an id is an id.
        for text in [
            r#"{"id":"13812345678"}"#,
            r#"{"user_id":135790246813574}"#,
            r#"{"ts":1764504000123,"port":8080,"took":"1234567ms"}"#,
            "0711-0130-7",
            "release 2026-11-30, build 09-11-2001",
            r#"{"order":"01-2345678-9"}"#,
        ] {
            assert_eq!(found(text, Format::Json), vec![], "{text}");
        }
    }

    /// Issue 11, attack on the number detectors: every value found whole and alone, through the
    /// whole scanner (JSON escapes, a following `(home)`, neighbouring numbers, bracket prints,
    /// cue words of other languages); and the look-alikes found nothing in (cue words inside
    /// other words, signs, series of measurements, labelled ids).
    #[test]
    fn issue_11_attack_numbers() {
        let json = Format::Json;
        let text = Format::Text;
        for (input, format, kind, want) in [
            // A1: a JSON escape is a boundary.
            (
                r#"{"t":"line1\n+44 20 7946 0958"}"#,
                json,
                "phone",
                vec!["+44 20 7946 0958"],
            ),
            (
                r#"{"t":"line1\n090-1234-5678"}"#,
                json,
                "phone",
                vec!["090-1234-5678"],
            ),
            (
                r#"{"t":"line1\n(11) 91234-5678"}"#,
                json,
                "phone",
                vec!["(11) 91234-5678"],
            ),
            (
                r#"{"t":"a\t+49 30 1234567"}"#,
                json,
                "phone",
                vec!["+49 30 1234567"],
            ),
            (
                r#"{"t":"line1\nphone:\n0612345678"}"#,
                json,
                "phone",
                vec!["0612345678"],
            ),
            // A2: a following group that is no number ends it.
            (
                "Phone: 0612345678 (home), 0698765432 (work)",
                text,
                "phone",
                vec!["0612345678", "0698765432"],
            ),
            (
                r#"{"phone":"0612345678 (home)"}"#,
                json,
                "phone",
                vec!["0612345678"],
            ),
            (
                "+44 20 7946 0958 (office)",
                text,
                "phone",
                vec!["+44 20 7946 0958"],
            ),
            (
                "Call +1 415 555 2671 (mobile) today",
                text,
                "phone",
                vec!["+1 415 555 2671"],
            ),
            ("090-1234-5678 (Ken)", text, "phone", vec!["090-1234-5678"]),
            // A3: numbers next to it across a space neither hide nor join it.
            (
                "+44 20 7946 0958 24/7",
                text,
                "phone",
                vec!["+44 20 7946 0958"],
            ),
            (
                "090-1234-5678 9am-5pm",
                text,
                "phone",
                vec!["090-1234-5678"],
            ),
            (
                "Call 0800 123 4567 24/7",
                text,
                "phone",
                vec!["0800 123 4567"],
            ),
            ("Apt 4 090-1234-5678", text, "phone", vec!["090-1234-5678"]),
            (
                "Rua Augusta 123 (11) 91234-5678",
                text,
                "phone",
                vec!["(11) 91234-5678"],
            ),
            (
                "ext 12 +44 20 7946 0958",
                text,
                "phone",
                vec!["+44 20 7946 0958"],
            ),
            (
                "Ken 35 +7 (495) 123-45-67",
                text,
                "phone",
                vec!["+7 (495) 123-45-67"],
            ),
            (
                "Suite 100 +1 415 555 2671",
                text,
                "phone",
                vec!["+1 415 555 2671"],
            ),
            (
                "Phone 1 090-1234-5678",
                text,
                "phone",
                vec!["090-1234-5678"],
            ),
            // A4: bracket prints without a space, a country code in brackets, a spaced slash.
            ("+7(495)123-45-67", text, "phone", vec!["+7(495)123-45-67"]),
            ("8(495)123-45-67", text, "phone", vec!["8(495)123-45-67"]),
            ("+44(0)2079460958", text, "phone", vec!["+44(0)2079460958"]),
            (
                "+44(0)20 7946 0958",
                text,
                "phone",
                vec!["+44(0)20 7946 0958"],
            ),
            (
                "(+44) 20 7946 0958",
                text,
                "phone",
                vec!["(+44) 20 7946 0958"],
            ),
            ("(+49) 30 1234567", text, "phone", vec!["(+49) 30 1234567"]),
            (
                "(+1) 415-555-2671",
                text,
                "phone",
                vec!["(+1) 415-555-2671"],
            ),
            (
                "(+86) 138 1234 5678",
                text,
                "phone",
                vec!["(+86) 138 1234 5678"],
            ),
            ("Tel: 030 / 1234567", text, "phone", vec!["030 / 1234567"]),
            ("+49 30 / 1234567", text, "phone", vec!["+49 30 / 1234567"]),
            // A5: UATP's 4-4-4-3 print, card cue words.
            (
                "1354 1001 4004 955",
                text,
                "credit_card",
                vec!["1354 1001 4004 955"],
            ),
            (
                "PAN 135410014004955",
                text,
                "credit_card",
                vec!["135410014004955"],
            ),
            (
                r#"{"pan":"135410014004955"}"#,
                json,
                "credit_card",
                vec!["135410014004955"],
            ),
            (
                "Kartennummer 135410014004955",
                text,
                "credit_card",
                vec!["135410014004955"],
            ),
            (
                "n\u{fa}mero de tarjeta 135410014004955",
                text,
                "credit_card",
                vec!["135410014004955"],
            ),
            // A6: cue words of more languages.
            ("Mob: 07700 900123", text, "phone", vec!["07700 900123"]),
            ("Ph. (02) 9876 5432", text, "phone", vec!["(02) 9876 5432"]),
            ("Cel: 55 1234 5678", text, "phone", vec!["55 1234 5678"]),
            ("Tfno: 912 345 678", text, "phone", vec!["912 345 678"]),
            ("tlf 98765432", text, "phone", vec!["98765432"]),
            ("mobiel: 06 12345678", text, "phone", vec!["06 12345678"]),
            ("GSM: 0470 12 34 56", text, "phone", vec!["0470 12 34 56"]),
            ("no HP 081234567890", text, "phone", vec!["081234567890"]),
            (
                "contact number 0612345678",
                text,
                "phone",
                vec!["0612345678"],
            ),
            (
                r#"{"msisdn":"447700900123"}"#,
                json,
                "phone",
                vec!["447700900123"],
            ),
            (
                "S\u{110}T: 0912 345 678",
                text,
                "phone",
                vec!["0912 345 678"],
            ),
            (
                "\u{110}i\u{1ec7}n tho\u{1ea1}i: 0912345678",
                text,
                "phone",
                vec!["0912345678"],
            ),
            (
                "\u{3c4}\u{3b7}\u{3bb}. 210 123 4567",
                text,
                "phone",
                vec!["210 123 4567"],
            ),
            (
                "\u{62a}\u{644}\u{641}\u{646}: 09121234567",
                text,
                "phone",
                vec!["09121234567"],
            ),
            (
                "\u{9ab}\u{9cb}\u{9a8} 01712345678",
                text,
                "phone",
                vec!["01712345678"],
            ),
            (
                "\u{9023}\u{7d61}\u{5148} 09012345678",
                text,
                "phone",
                vec!["09012345678"],
            ),
            (
                "\u{8054}\u{7cfb}\u{65b9}\u{5f0f} 13812345678",
                text,
                "phone",
                vec!["13812345678"],
            ),
            (
                "\u{c5f0}\u{b77d}\u{cc98} 01012345678",
                text,
                "phone",
                vec!["01012345678"],
            ),
            ("Tlf: 22 12 34 56", text, "phone", vec!["22 12 34 56"]),
            // A7: the international call prefix, Australia, IBAN and routing prints.
            (
                "0044 20 7946 0958",
                text,
                "phone",
                vec!["0044 20 7946 0958"],
            ),
            (
                "011 44 20 7946 0958",
                text,
                "phone",
                vec!["011 44 20 7946 0958"],
            ),
            ("(02) 9876 5432", text, "phone", vec!["(02) 9876 5432"]),
            (
                "iban:de89-3704-0044-0532-0130-00",
                text,
                "iban",
                vec!["de89-3704-0044-0532-0130-00"],
            ),
            (
                "de89 3704 0044 0532 0130 00",
                text,
                "iban",
                vec!["de89 3704 0044 0532 0130 00"],
            ),
            (
                "DE89\u{2013}3704\u{2013}0044\u{2013}0532\u{2013}0130\u{2013}00",
                text,
                "iban",
                vec!["DE89\u{2013}3704\u{2013}0044\u{2013}0532\u{2013}0130\u{2013}00"],
            ),
            (
                "DE89.3704.0044.0532.0130.00",
                text,
                "iban",
                vec!["DE89.3704.0044.0532.0130.00"],
            ),
            (
                "routing number 0711 0130 7",
                text,
                "us_bank_routing",
                vec!["0711 0130 7"],
            ),
        ] {
            let want: Vec<(String, String)> = want
                .iter()
                .map(|v| (kind.to_string(), v.to_string()))
                .collect();
            assert_eq!(found(input, format), want, "{input}");
        }
        for input in [
            // B1: cue words inside other words, and ordinary words.
            "Can you tell me the status of order 123456789?",
            "Tell me about invoice 20261130",
            "tell the user that ticket 4815162342 is closed",
            r#"{"telemetry": {"ts": 1717000000000}}"#,
            "telemetry batch 12345678 sent",
            "television channel 1234567",
            "telnet session 31337001 closed",
            "Telegram message_id 987654321",
            "cellular data used: 12345678 bytes",
            r#"{"cells": [12345678, 23456789]}"#,
            "cell A1 = 12345678",
            "portable build 20261130",
            "a portable binary of 1234567 bytes",
            "mobility score 12345678",
            "mobile app build 20261130",
            "handy script took 12345678 ns",
            "smsc queue 1234567",
            "faxed invoice 12345678",
            "phonetic index 12345678",
            "call stack depth 1234567",
            "RPC call took 1234567 ns",
            "tool call 1717000000 completed",
            r#"{"call": 12345678}"#,
            r#"{"call_id": "0612345678"}"#,
            "t\u{e9}l\u{e9}chargement de 12345678 octets",
            "t\u{e9}l\u{e9}vision 1234567",
            "\u{e42}\u{e17}\u{e23}\u{e17}\u{e31}\u{e28}\u{e19}\u{e4c} 12345678",
            "abandoned cart 021000021",
            "abacus 071101307",
            "cardinality 123456789012347",
            r#"{"cardinality": 135410014004955}"#,
            "cardboard box 135410014004955",
            // B2: a `+` that is a sign.
            "score +4912345",
            "balance +4912345 points",
            "@@ -1,3 +1,3 @@\n-2718281828\n+3141592653\n",
            r#"{"patch":"@@ -1 +1 @@\n-12345678901\n+12345678902\n"}"#,
            "expires in +864000000 ms",
            "+31536000000 ms per year",
            "delta: +12345678901",
            "x = y +4412345678",
            "offset +3312345678 bytes",
            "gained +2345678 followers",
            "id +11234567890 (+1: area code 123 is not one)",
            "+14151552671",
            // B3: series of numbers.
            "dims: 768 768 3072",
            "hidden sizes 512 256 1024",
            "resolution 640 480 1920",
            "fps 144 1920 1080",
            "sizes 160 2048 4096",
            "items: 150 1000 2000",
            "137 1000 2000",
            "0.1 0.2 0.3 415.555.2671",
            // B4: labelled ids with a leading 0.
            "Order 0123-4567-8901 shipped",
            "Invoice: 0123-4567-8901",
            "Invoice no. 012-345-6789",
            "account 0123-4567890",
            "EIN 04-1234567",
            "Tax ID: 06-1234567",
            "case 02-1234567 filed",
            "request_id=0102-3456-7890",
            "part no. 0800-1234-5678",
            "[2026-11-30 12:34:56,789] INFO 0123-456-7890",
            "IBAN DE 89 3704 0044 0532 0130 00",
        ] {
            assert_eq!(found(input, text), vec![], "{input}");
        }
    }

    #[test]
    fn class_2_unicode_spaces_between_digits() {
        for space in ['\u{a0}', '\u{2009}', '\u{202f}', '\u{2007}', '\u{3000}'] {
            let v = ["4111", "1111", "1111", "1111"].join(&space.to_string());
            assert_found(
                &format!(r#"{{"card":"{v}"}}"#),
                Format::Json,
                "credit_card",
                &v,
            );
            let v = ["123", "45", "6789"].join(&space.to_string());
            assert_found(&format!("ssn {v}."), Format::Text, "ssn", &v);
        }
    }

    /// JSON in a JSON string (an OpenAI tool call's `arguments`) is escaped twice.
    #[test]
    fn json_in_a_json_string_is_unescaped_again() {
        for inner in [
            r#"{\"card\":\"\\u0034111 1111 1111 1111\"}"#,
            r#"{\"card\":\"4111\\u00a01111\\u00a01111\\u00a01111\"}"#,
            r#"{\"card\":\"\\uff14\\uff11\\uff11\\uff11 1111 1111 1111\"}"#,
            r#"{\"to\":\"ann\\u0040example.com\"}"#,
        ] {
            let body = format!(
                r#"{{"tool_calls":[{{"function":{{"name":"pay","arguments":"{inner}"}}}}]}}"#
            );
            let got = found(&body, Format::Json);
            assert!(
                got.iter().any(|(k, _)| k == "credit_card" || k == "email"),
                "{body}: {got:?}"
            );
        }
    }

    /// Percent levels inside a decoded token are counted from the token, whatever layers lie
    /// below it; and no amount of harmless tokens spends the decoding budget before a value.
    #[test]
    fn nested_decoding_has_no_cut_short_levels_nor_budget() {
        let mail = b64("mail ann%2540example.com");
        let body = format!("{{\"x\":\"caf\\u00e9 %41 \u{a0}\",\"b\":\"{mail}\"}}");
        let got = found(&body, Format::Json);
        assert!(got.iter().any(|(k, _)| k == "email"), "{body}: {got:?}");
        let blob = b64("plain words of an ordinary letter, nothing to see here. ".repeat(4));
        let mut body = String::from("{\"blobs\":[");
        for _ in 0..6000 {
            body.push('"');
            body.push_str(&blob);
            body.push_str("\",");
        }
        body.push_str(&format!("\"{}\"]}}", b64("card 4111111111111111")));
        assert!(body.len() > 3 << 19);
        let got = found(&body, Format::Json);
        assert!(
            got.iter().any(|(k, _)| k == "credit_card"),
            "{:?}",
            got.last()
        );
    }

    /// A MIME part without padding whose last line is full, before its boundary.
    #[test]
    fn a_base64_part_that_ends_on_a_full_line_is_decoded() {
        // 114 bytes: two full lines of 76 characters, no padding.
        // The card straddles the two lines: only the block decodes it whole.
        let text = format!("{:<45}card 4111111111111111 ok{:<45}", "attached note:", "");
        assert_eq!(text.len(), 114);
        let encoded = b64(&text);
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let body = format!(
            "--b\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n------WebKitFormBoundaryx--\r\n",
            lines.join("\r\n")
        );
        let got = found(&body, Format::Text);
        assert!(
            got.iter().any(|(k, _)| k == "credit_card"),
            "{body}: {got:?}"
        );
    }

    /// A token followed by a line break and a word is a token of its own.
    #[test]
    fn a_token_before_a_line_of_text_is_decoded() {
        let hex_card = "34313131313131313131313131313131";
        for text in [
            format!("{{\"x\":\"{hex_card}\\nok\"}}"),
            format!("id {hex_card}\nthanks\n"),
        ] {
            let got = found(&text, Format::Json);
            assert!(
                got.iter().any(|(k, _)| k == "credit_card"),
                "{text}: {got:?}"
            );
        }
    }

    /// Domain names with the full stops UTS #46 reads as `.`.
    #[test]
    fn ideographic_full_stops_in_an_address() {
        for text in [
            "mail ann@example\u{3002}com now",
            "mail ann@example\u{ff61}com now",
        ] {
            let got = found(text, Format::Text);
            assert!(got.iter().any(|(k, _)| k == "email"), "{text}: {got:?}");
        }
    }

    /// A decoded value that overlaps a raw value of another type partly counts beside it.
    #[test]
    fn a_decoded_value_overlapping_a_raw_one_partly_counts() {
        let text = "{\"tel\":\"4111\u{a0}1111 1111 1111 22\"}";
        let got = found(text, Format::Json);
        assert!(got.iter().any(|(k, _)| k == "credit_card"), "{got:?}");
    }

    #[test]
    fn class_2_invisible_characters_between_digits() {
        for inv in [
            '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ad}',
        ] {
            let v = ["4111", "1111", "1111", "1111"].join(&inv.to_string());
            assert_found(
                &format!(r#"{{"card":"{v}"}}"#),
                Format::Json,
                "credit_card",
                &v,
            );
            let v = format!("jane{inv}.doe@example.com");
            assert_found(&format!("mail {v} now"), Format::Text, "email", &v);
        }
    }

    #[test]
    fn class_2_ascii_separators_between_digits() {
        for sep in [".", "/", "\t", "\n", "  "] {
            let v = ["4111", "1111", "1111", "1111"].join(sep);
            assert_found(&format!("card {v} ok"), Format::Text, "credit_card", &v);
        }
        for sep in [r"\t", r"\n", r"\/"] {
            let v = ["4111", "1111", "1111", "1111"].join(sep);
            assert_found(
                &format!(r#"{{"c":"{v}"}}"#),
                Format::Json,
                "credit_card",
                &v,
            );
        }
    }

    #[test]
    fn class_2_json_unicode_escapes_of_separators() {
        for esc in [r"\u00a0", r"\u2009", r"\u200b", r"\u00AD", r"\u3000"] {
            let v = ["4111", "1111", "1111", "1111"].join(esc);
            assert_found(
                &format!(r#"{{"c":"{v}"}}"#),
                Format::Json,
                "credit_card",
                &v,
            );
        }
    }

    #[test]
    fn class_2_fullwidth_and_other_decimal_digits() {
        let fullwidth: String = CARD
            .chars()
            .map(|c| char::from_u32(u32::from(c) - 0x30 + 0xFF10).unwrap())
            .collect();
        assert_found(
            &format!("card {fullwidth}"),
            Format::Text,
            "credit_card",
            &fullwidth,
        );
        for zero in [0x0660u32, 0x0966, 0x1D7CE] {
            let v: String = "123-45-6789"
                .chars()
                .map(|c| match c.to_digit(10) {
                    Some(d) => char::from_u32(zero + d).unwrap(),
                    None => c,
                })
                .collect();
            assert_found(&format!("ssn {v}"), Format::Text, "ssn", &v);
        }
        let v = "jane.doe\u{ff20}example.com";
        assert_found(&format!(r#"{{"to":"{v}"}}"#), Format::Json, "email", v);
    }

    #[test]
    fn class_3_numbers_in_other_json_forms() {
        for n in [
            "4111111111111111.0",
            "4.111111111111111e15",
            "41111111111111110e-1",
        ] {
            assert_found(&format!(r#"{{"n":{n}}}"#), Format::Json, "credit_card", n);
        }
        // The card matcher takes the digits before the exponent itself: all of them.
        assert_found(
            r#"{"n":4111111111111111E0}"#,
            Format::Json,
            "credit_card",
            CARD,
        );
        // A fraction a double drops: the number a parser gives is the card.
        for n in ["4111111111111111.2", "4.1111111111111112e15"] {
            assert_found(&format!(r#"{{"n":{n}}}"#), Format::Json, "credit_card", n);
        }
        // Not integers: no card.
        assert_eq!(found(r#"{"n":4111111111111111.5}"#, Format::Json), vec![]);
    }

    /// Issue 11, item 2: every credential kind through the whole scanner, in a JSON body; the
    /// value's span is exactly the credential.
    #[test]
    fn secrets_of_agent_traffic_are_found() {
        let mut cases: Vec<(&str, String, String)> = vec![
            ("openai_api_key", r#"{"v":"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"}"#.to_string(), "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".to_string()),
            ("anthropic_api_key", r#"{"v":"sk-ant-api03-h1d0szAOZAnV4ah17kZCNnJEH1mvlYMyzWh6qQQ5x1Wugaj7wX98VJe6BOq_JqAjBo0hVRGyEGrdlU4H1dYO-VijuJZWtAA"}"#.to_string(), "sk-ant-api03-h1d0szAOZAnV4ah17kZCNnJEH1mvlYMyzWh6qQQ5x1Wugaj7wX98VJe6BOq_JqAjBo0hVRGyEGrdlU4H1dYO-VijuJZWtAA".to_string()),
            ("google_api_key", r#"{"v":"AIzaKOQRTLEwVtdUrGr3YnWOS_BdwMe4KUV4vgo"}"#.to_string(), "AIzaKOQRTLEwVtdUrGr3YnWOS_BdwMe4KUV4vgo".to_string()),
            ("groq_api_key", r#"{"v":"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"}"#.to_string(), "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".to_string()),
            ("huggingface_token", r#"{"v":"hf_agt5xOLhaDNPpQK1kGbAk8B1MI59LoTD4Q"}"#.to_string(), "hf_agt5xOLhaDNPpQK1kGbAk8B1MI59LoTD4Q".to_string()),
            ("xai_api_key", r#"{"v":"xai-LlwbJA7pCgZ7cEKlOVbIe6nFXgKOukfNt2GbnM5zLIev5PL1rQKphrzg632iEPPhOrtaZhjEPQUxkVfM"}"#.to_string(), "xai-LlwbJA7pCgZ7cEKlOVbIe6nFXgKOukfNt2GbnM5zLIev5PL1rQKphrzg632iEPPhOrtaZhjEPQUxkVfM".to_string()),
            ("perplexity_api_key", r#"{"v":"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"}"#.to_string(), "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".to_string()),
            ("replicate_api_token", r#"{"v":"r8_wCtowfTJCDWbcrgJA3O3Kv_2whpsOifIEcipN"}"#.to_string(), "r8_wCtowfTJCDWbcrgJA3O3Kv_2whpsOifIEcipN".to_string()),
            ("openrouter_api_key", r#"{"v":"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"}"#.to_string(), "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".to_string()),
            ("slack_webhook_url", r#"{"v":"https://hooks.slack.com/services/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"}"#.to_string(), "https://hooks.slack.com/services/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".to_string()),
            ("gitlab_token", r#"{"v":"glpat-KB2L26NKAYLemYOShnWY"}"#.to_string(), "glpat-KB2L26NKAYLemYOShnWY".to_string()),
            ("npm_token", r#"{"v":"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"}"#.to_string(), "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".to_string()),
            ("pypi_token", r#"{"v":"pypi-AgEIcHlwaS5vcmcda28UsWnCCsTQ3FIoluWqMlEr2ZUFWL8y2wvwhNatRIhMAvxoePlj0QRQkDhSf0Qhm3xLsD-d9I_meEQ"}"#.to_string(), "pypi-AgEIcHlwaS5vcmcda28UsWnCCsTQ3FIoluWqMlEr2ZUFWL8y2wvwhNatRIhMAvxoePlj0QRQkDhSf0Qhm3xLsD-d9I_meEQ".to_string()),
            ("stripe_key", r#"{"v":"sk_live_dzyE7Wj9I9p7WxviCEA1Nuv7"}"#.to_string(), "sk_live_dzyE7Wj9I9p7WxviCEA1Nuv7".to_string()),
            ("twilio_api_key", r#"{"v":"SK0e6ef06174d54e9019117cbf49b41ab6"}"#.to_string(), "SK0e6ef06174d54e9019117cbf49b41ab6".to_string()),
            ("sendgrid_api_key", r#"{"v":"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"}"#.to_string(), "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".to_string()),
            ("discord_token", r#"{"v":"MTA1MjI5MDc5NTIxNjQ3NDI1NQ.L8wbh4.AX23ojVS9vR947X6-m57M9E6YPs-Bw3oHZQP2A"}"#.to_string(), "MTA1MjI5MDc5NTIxNjQ3NDI1NQ.L8wbh4.AX23ojVS9vR947X6-m57M9E6YPs-Bw3oHZQP2A".to_string()),
        ];
        let az = "OQYRcgCsHFZEYcabAX7h8tusrflC5NVFbzkvrX8qm9/B8DgLqND2vAWvturiohxVdnKL9JKZOsxpcfGQgyVAro==";
        cases.push((
            "azure_storage_key",
            format!(r#"{{"conn":"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={az};EndpointSuffix=core.windows.net"}}"#),
            az.to_string(),
        ));
        let id = "6c8f5501419bf4149b87a7178d32506afcb476de";
        cases.push((
            "gcp_service_account",
            format!(r#"{{"type": "service_account", "project_id": "acme-1", "private_key_id": "{id}", "client_id": "1"}}"#),
            id.to_string(),
        ));
        for (kind, text, value) in &cases {
            assert_eq!(
                found(text, Format::Json),
                vec![(kind.to_string(), value.clone())],
                "{text}"
            );
        }
        // Slack's xoxc- and xapp- tokens and PGP key blocks, missed before.
        for (kind, v) in [
            ("slack_token", "xoxc-17653672481-198746983231-5093847261530-8d6e7916ae6315168d0225072322208bb5ec1d5f6ea2b5991661a7e38d6315f3"),
            ("slack_token", "xapp-1-A04R7N3TZ9K-5092714368251-5645d282760ee88e4ebf73422574d909c5b1268b44fbe5ab768873f4f88e5690"),
            ("private_key", r"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGVkZ2wBCADHv3q0uP9iJk1\n=Zx4c\n-----END PGP PRIVATE KEY BLOCK-----"),
        ] {
            assert_found(&format!(r#"{{"t":"{v}"}}"#), Format::Json, kind, v);
        }
    }

    /// Issue 11, item 1: placeholders are no credentials, whatever their kind.
    #[test]
    fn placeholders_are_not_secrets() {
        for p in [
            "xoxb-your-bot-token-here",
            "xoxb-xxxxxxxxxxxx",
            "AKIAIOSFODNN7EXAMPLE",
            "AKIAXXXXXXXXXXXXXXXX",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "github_pat_YOUR_TOKEN_HERE_1234567890",
            "sk-proj-your-openai-api-key-here",
            "sk-ant-api03-<your-key>",
            "AIzaSyYOUR_API_KEY_HERE_xxxxxxxxxxxxxx",
            "gsk_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "glpat-xxxxxxxxxxxxxxxxxxxx",
            "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
            "sk_test_1234567890abcdefghijklmn",
            "SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "AccountKey=<your-account-key>",
            "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----",
            "const PREFIX = \\\"sk-\\\";",
            "pip install sk-learn",
        ] {
            let body = format!(r#"{{"token":"{p}"}}"#);
            assert_eq!(found(&body, Format::Json), vec![], "{body}");
        }
    }

    /// Issue 11, after review: credentials a tester found missed, through the whole scanner;
    /// the value's span is the whole credential.
    #[test]
    fn secrets_a_tester_found_missed_are_found() {
        let jws = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIyODQyMDg3NDMiLCJpYXQiOjE3MTYyMzkwMjJ9.4k1G3wuBN5ulTG1cLv4fKXAw9ixwA9VgAjjKHLLUuYY";
        let jwe = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..dt-aCfejQ1HcmfWf.ktH62CQ1a7YvEBndzcKiPcTrWDavbzEqxDGk82l2hhjieKpIIQMdcgznUMY6yTOctZCVNjEqQTEfdPiqYttyn9H0R9L6nb_E1vqtnQrGPBglHAd4nXmhz1f1jWisW1IcH2BKCoZ9ep2U06AEPRBYy1wutL8-SpdJaK2UtaX7458Z9T36F1uL_pkHTrGu3S-coA3qYI876THJdAUFWn9n1YYcVp4sGDWnPNdttX_SFUkQA-rp.ayAxSypeFk36pwpjAf2sww";
        let ghs = format!(
            "ghs_1234567_eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.{}.{}",
            "532ErcURtRrJpEWDKjKgCApNhfUPBacPYeMTK2lhIhB28wd_-OjYMhcjuOJ9OGA0be5P5tN5dqyDKViCQuSkP8fUceq3fARJCbKBrRRXEZDEhQL-5-to0LtJ5p4S9Sw6OIU88r0Q9mREVsxmKtXuiUTmoUbNif9-LbQ11aPwN0ccTwwecQuApS2Jqj_WwYF5KnygVDmnj6xmcjjDmKKWO9Fz8LYJ7_iloQWTrpIDd7iND0N3U7",
            "nKK18DH-Ao4xotvbGYUe25njPu9avelzSNT6ZN_-BI5-Cy7fWBXy8dPPqhet_jM_xbQJQPdqrKwVpXyogGZpAVfQ5hb03YjlKZkSKht3NqKmWH1ttcuz0MxA8yaoP1TQCaAxTulYy3joqVz_LUCkyWrLsgXKAYwSVnsMU9YOGYEmkqYM"
        );
        let az = "5UpWmRJTtHVLNGK5UjkZXyLGDXhLxdNs+ljp01sYEq0nienD72UPZ0BghitCM67qrtELDFv/DAa42XNcbX/Mgi==";
        let az_php = az.replace('/', r"\/");
        let hook = r"https:\/\/hooks.slack.com\/services\/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";
        let discord = r"https:\/\/discord.com\/api\/webhooks\/1884767499366750173\/7dzKYZydipGyyhhnXkkUiD9XDjmsyTmOAHplMG3QDVw_G429BFd5ACpQQmjpW1x7EYUH";
        let kid = "5db0faf6db6322eeb8d94f192014bcc1ba2bb1e7";
        let cases: Vec<(&str, String, Format, String)> = vec![
            // 1. A GitLab token whose random part starts with a dash.
            ("gitlab_token", "token: glpat--_4jPvoNtWYXlxP9YPv7".into(), Format::Text, "glpat--_4jPvoNtWYXlxP9YPv7".into()),
            ("gitlab_token", r#"{"t":"gldt--16rNH3zWSy4KgbajAir"}"#.into(), Format::Json, "gldt--16rNH3zWSy4KgbajAir".into()),
            // 2. A JWT that ends a sentence; a JWE (NextAuth's session cookie).
            ("jwt", format!("Use this token: {jws}."), Format::Text, jws.into()),
            ("jwt", format!(r#"{{"msg":"token {jws}. Thanks"}}"#), Format::Json, jws.into()),
            ("jwt", format!("Cookie: next-auth.session-token={jwe}"), Format::Text, jwe.into()),
            // 3. GitHub's stateless installation token.
            ("github_token", format!(r#"{{"token":"{ghs}","expires_at":"2026-06-01T00:00:00Z"}}"#), Format::Json, ghs.clone()),
            // 4. JSON whose only escape is `\/` (PHP's json_encode).
            ("slack_webhook_url", format!(r#"{{"url":"{hook}"}}"#), Format::Json, hook.into()),
            ("discord_token", format!(r#"{{"u":"{discord}"}}"#), Format::Json, discord.into()),
            ("azure_storage_key", format!(r#"{{"cs":"AccountName=acct;AccountKey={az_php};EndpointSuffix=core.windows.net"}}"#), Format::Json, az_php.clone()),
            // 6. Azure's name in any case and with spaces; GCP's key file in YAML.
            ("azure_storage_key", format!("AccountName=acct;accountkey={az};EndpointSuffix=core.windows.net"), Format::Text, az.into()),
            ("azure_storage_key", format!("AccountName=a; AccountKey = {az}"), Format::Text, az.into()),
            ("gcp_service_account", format!("type: service_account\nprivate_key_id: {kid}\nclient_id: \"1\"\n"), Format::Text, kid.into()),
            // 7. GitLab's routable tokens, versioned.
            ("gitlab_token", "GITLAB_TOKEN=glpat-lhfU-apaO2zi2X4DrmoNdpbOSVc86MQp1OjEH.01.0wxkm6i7p".into(), Format::Text, "glpat-lhfU-apaO2zi2X4DrmoNdpbOSVc86MQp1OjEH.01.0wxkm6i7p".into()),
            ("gitlab_token", "glrt-t1_-9RkbrK80IkhGpVvDaGbBhw5cAJ.01.0wub03pif".into(), Format::Text, "glrt-t1_-9RkbrK80IkhGpVvDaGbBhw5cAJ.01.0wub03pif".into()),
            // 8. Documented formats the catalogue did not promise.
            ("slack_token", "Cookie: d=xoxd-5PkxMMudb3ep1548HMEXMsFaUOc9j2BE5TmWetw9zu7EZVk0ZBrYPExKzYbRPr7oiy8aQdKLZe7blJXHmixIksWsWdEc5PnLNBMs%2FXwmGeN6U5H7Mqc5Uhqq3rN6Fv9iMedaV41qNku1BLrg6JaKQdTalkiiQNaEZ%3D".into(), Format::Text, "xoxd-5PkxMMudb3ep1548HMEXMsFaUOc9j2BE5TmWetw9zu7EZVk0ZBrYPExKzYbRPr7oiy8aQdKLZe7blJXHmixIksWsWdEc5PnLNBMs%2FXwmGeN6U5H7Mqc5Uhqq3rN6Fv9iMedaV41qNku1BLrg6JaKQdTalkiiQNaEZ%3D".into()),
            ("stripe_key", "STRIPE_WEBHOOK_SECRET=whsec_8SF21hEoBtgNBsV2TUHB3NezXpTzjoNr".into(), Format::Text, "whsec_8SF21hEoBtgNBsV2TUHB3NezXpTzjoNr".into()),
            ("pypi_token", "password = pypi-AgENdGVzdC5weXBpLm9yZwvO4z5mpxOVoXUYvBgN19ljloQR4911huaytWLX0z9Ch_ND1M-E1ORQ1_DEnkA-ifSYm0isjO4lua40pf4cOxKHjURp940jSNUHrpUQBJ5M2tK2o4S_cV-aTX\n".into(), Format::Text, "pypi-AgENdGVzdC5weXBpLm9yZwvO4z5mpxOVoXUYvBgN19ljloQR4911huaytWLX0z9Ch_ND1M-E1ORQ1_DEnkA-ifSYm0isjO4lua40pf4cOxKHjURp940jSNUHrpUQBJ5M2tK2o4S_cV-aTX".into()),
            ("aws_access_key", "k ABIAE3QUM7KSC4AQX5QQ".into(), Format::Text, "ABIAE3QUM7KSC4AQX5QQ".into()),
            ("aws_access_key", "k ACCAVGMVYDI7PFIIBHLP".into(), Format::Text, "ACCAVGMVYDI7PFIIBHLP".into()),
            ("aws_access_key", "k A3TX6EYILDFJS4ZJVSTY".into(), Format::Text, "A3TX6EYILDFJS4ZJVSTY".into()),
        ];
        for (kind, text, format, value) in &cases {
            assert_eq!(
                found(text, *format),
                vec![(kind.to_string(), value.clone())],
                "{text}"
            );
        }
        // 5. PGP armor headers, a body line that starts with `your`, a real key cut short.
        let lines = [
            "akSS17LPwgijUdCafU9G+nDNTuJWj/Bt9CeDP8SHR3i12FGAoJSauV4kESb+wB/O",
            "yourd90fECBW0xH0D0d5nl4Wd39RUYLoIa5Lz36Hx2Vjp5Wnz3Nj8hv1krLK7fWv",
            "wa4uKsifmNynRD0hsbYMSW8N3t/Q0sG5GNXgzD6BdBtbbLjJ9XmhuRJ9RMYbE3bI",
        ]
        .join("\n");
        let pgp = |head: &str| {
            format!("-----BEGIN PGP PRIVATE KEY BLOCK-----\n{head}\n\n{lines}\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----")
        };
        for key in [
            pgp("Version: GnuPG v2\nComment: Alice Lovelace <alice@example.org>"),
            pgp("Comment: test key for CI signing"),
            format!("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,8A3F19D2E4B7C6A1\n\n{lines}\n-----END RSA PRIVATE KEY-----"),
            format!("-----BEGIN EC PRIVATE KEY-----\n{lines}\n...\n-----END EC PRIVATE KEY-----"),
        ] {
            assert_found(&key, Format::Text, "private_key", &key);
        }
    }

    /// Issue 11, after review: look-alikes a tester found reported as credentials.
    #[test]
    fn look_alikes_a_tester_found_are_not_secrets() {
        for text in [
            "github_pat_fine_grained_permissions: true",
            "let github_pat_expiration_notification_days = 7;",
            "Tokens look like glpat-prefixed-strings-20-chars and gldt-deploy-tokens-with-prefix",
            "variables: glpat-rotation-schedule-weekly2",
            "love you all, xoxo-jen-2024-04-01",
            "<div class=\"xoxb-btn-3xl-primary\">",
            "def sk_test_ChargesAreRefundedOnCancel(self): pass",
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net",
            "trace MTIzNDU2Nzg5MDEyMzQ1Njc4.YWJjZG.ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx",
            "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 = None",
        ] {
            assert_eq!(found(text, Format::Text), vec![], "{text}");
        }
    }

    #[test]
    fn class_4_percent_encoding_in_bodies_and_twice_in_paths() {
        let v = "mailto:ann%40example.com";
        assert_found(
            &format!(r#"{{"url":"{v}"}}"#),
            Format::Json,
            "email",
            "ann%40example.com",
        );
        let path = "/find?who=ann%2540example.com";
        let scanner = Scanner::new(KindSet::all_built_ins());
        let mut spans = Vec::new();
        let url = Decoding {
            plus_is_space: true,
            json: false,
            ..Decoding::BODY
        };
        scanner.scan_input(
            path.as_bytes(),
            url,
            Format::Text,
            &mut Findings::default(),
            |f| spans.push(path[f.span].to_string()),
        );
        assert_eq!(spans, vec!["ann%2540example.com"]);
        assert_found(
            "card=4111%25201111%25201111%25201111",
            Format::Text,
            "credit_card",
            "4111%25201111%25201111%25201111",
        );
    }

    #[test]
    fn class_4_base64_and_hex_text_values() {
        for text in [
            CARD,
            "4111 1111 1111 1111",
            "123-45-6789",
            "jane.doe@example.com",
        ] {
            let b = b64(text);
            let kind = found(text, Format::Text)[0].0.clone();
            assert_found(&format!(r#"{{"v":"{b}"}}"#), Format::Json, &kind, &b);
            let url_safe = b.trim_end_matches('=').replace('+', "-").replace('/', "_");
            assert_found(&format!("x {url_safe} y"), Format::Text, &kind, &url_safe);
            let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
            assert_found(&format!(r#"{{"v":"{hex}"}}"#), Format::Json, &kind, &hex);
        }
        // Twice encoded.
        let twice = b64(b64("card 4111 1111 1111 1111"));
        assert_found(
            &format!(r#"{{"v":"{twice}"}}"#),
            Format::Json,
            "credit_card",
            &twice,
        );
    }

    #[test]
    fn class_4_base64_multipart_parts() {
        let payload =
            b64("Name: Ann\r\nCard: 4111 1111 1111 1111\r\nThanks, and see you soon!\r\n");
        let lines: Vec<&str> = payload
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let part = lines.join("\r\n");
        let body = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n{part}\r\n--XyZ--\r\n"
        );
        assert!(
            lines.last().unwrap().len() < 76,
            "a short last line, then the boundary"
        );
        assert_found(&body, Format::Text, "credit_card", &part);
    }

    /// Variant 1: underscores between groups, like the other unusual separators: alone in
    /// the field or after a cue; identifiers in code do not flood.
    #[test]
    fn variant_underscores_between_groups() {
        let v = "4111_1111_1111_1111";
        assert_found(&format!(r#"{{"x":"{v}"}}"#), Format::Json, "credit_card", v);
        assert_found(
            &format!(r#"{{"note":"card {v} ok"}}"#),
            Format::Json,
            "credit_card",
            v,
        );
        let s = "123_45_6789";
        assert_found(&format!(r#"{{"x":"{s}"}}"#), Format::Json, "ssn", s);
        assert_found(
            &format!(r#"{{"note":"my ssn is {s}"}}"#),
            Format::Json,
            "ssn",
            s,
        );
        for code in [
            r#"{"code":"let id_4111_1111_1111_1111 = f(x_123_45_6789);"}"#,
            r#"{"code":"const X = V_4111_1111_1111_1111_A;"}"#,
            r#"{"path":"/tmp/run_4111_1111_1111_1111/log_123_45_6789.txt"}"#,
        ] {
            assert_eq!(found(code, Format::Json), vec![], "{code}");
        }
    }

    /// Round 3: an escape right before a token cuts it in the unescaped text (`%34` takes the
    /// first two digits of a hex token); a receiver that does not unescape reads it whole.
    #[test]
    fn an_escape_before_a_token_does_not_cut_it() {
        for (kind, value) in [
            ("credit_card", "4111111111111111"),
            ("email", "jane.doe@example.com"),
            ("ssn", "123-45-6789"),
        ] {
            let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
            let token = b64(value);
            for t in [
                format!(r#"{{"t":"see %{hex}"}}"#),
                format!("see %{hex}"),
                format!(r#"{{"t":"see %25{token}"}}"#),
            ] {
                let got = found(&t, Format::Json);
                assert!(got.iter().any(|(k, _)| k == kind), "{t}: {got:?}");
            }
        }
    }

    /// Round 3: a harmless token joined to a value's token by a space reads as one block of
    /// groups, whose text glues the value to the text before it (`foobarbazqux4111…`); the
    /// groups are read apart too, as the tokens they look like. Joined by a line break, they
    /// are a block of lines, which every receiver decodes as one text, glued: so does the view.
    #[test]
    fn a_text_token_joined_to_a_value_token_does_not_hide_it() {
        let values = [
            ("credit_card", "4111111111111111"),
            ("credit_card", "4111 1111 1111 1111"),
            ("ssn", "123-45-6789"),
            ("email", "jane.doe@example.com"),
        ];
        // Decoys of 16 and of 24 characters (a value's token may be as wide).
        for decoy in ["foobarbazqux", "foobarbazquxfoobar"] {
            let d = b64(decoy);
            for (kind, value) in values {
                for (how, v) in [("once", b64(value)), ("twice", b64(b64(value)))] {
                    let t = format!(r#"{{"t":"{d} {v}"}}"#);
                    let got = found(&t, Format::Json);
                    assert!(
                        got.iter().any(|(k, _)| k == kind),
                        "{how} {kind} after {decoy:?}: {got:?}"
                    );
                }
            }
        }
    }

    /// Reading a block's lines apart would make values of digit runs a line break cuts, and
    /// table rows are no fields of their own: neither is a value (a fresh tester's finds).
    #[test]
    fn rows_and_lines_of_attachments_are_not_values() {
        // base64 of "id,value\n0000000000000000000000004111111111111111,ok\n", in lines of 44.
        let mime = "aWQsdmFsdWUKMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw\nNDExMTExMTExMTExMTExMSxvawo=";
        assert_eq!(found(mime, Format::Text), vec![]);
        for row in [
            "id\tq1\tq2\tq3\n4111\t1111\t1111\t1111\n",
            "files:\n4111/1111/1111/1111\n",
            "ID    A     B     C\n4111  1111  1111  1111\n",
            "build_2024_0115_1234_5678\n4111_1111_1111_1111\n",
            "files\n123_45_6789\nend",
        ] {
            assert_eq!(found(row, Format::Text), vec![], "{row:?}");
        }
    }

    /// Variant 2: base64 with trailing junk, and base64 split by single spaces into groups.
    #[test]
    fn variant_base64_with_junk_or_spaces() {
        let b = b64("card 4111 1111 1111 1111");
        for junk in ["!!", "...", "!", "?!", "\u{2026}"] {
            let t = format!(r#"{{"x":"{b}{junk}"}}"#);
            assert_found(&t, Format::Json, "credit_card", &b);
        }
        // Unpadded and followed by junk.
        let u = b.trim_end_matches('=');
        assert_found(
            &format!(r#"{{"x":"{u}!!"}}"#),
            Format::Json,
            "credit_card",
            u,
        );
        // Split by single spaces into groups of one width, at least 16 (the lines of a block
        // pasted into one line). Shorter groups are not seen (see docs/detection.md).
        let long = b64("Name: Ann, card 4111 1111 1111 1111, see you soon! Regards, Ann.");
        assert!(long.ends_with("=="));
        for width in [16, 20, 24, 64, 76] {
            let groups: Vec<&str> = long
                .as_bytes()
                .chunks(width)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            let v = groups.join(" ");
            assert_found(
                &format!(r#"{{"x":"{v}"}}"#),
                Format::Json,
                "credit_card",
                &v,
            );
        }
    }

    /// Variant 3: UTF-16 text (either byte order, with or without a byte order mark) inside
    /// base64.
    #[test]
    fn variant_utf16_inside_base64() {
        let text = "card 4111 1111 1111 1111";
        for (le, bom) in [(true, false), (true, true), (false, false), (false, true)] {
            let mut bytes = Vec::new();
            if bom {
                bytes.extend(if le { [0xFF, 0xFE] } else { [0xFE, 0xFF] });
            }
            for u in text.encode_utf16() {
                bytes.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            let b = b64(&bytes);
            assert_found(
                &format!(r#"{{"x":"{b}"}}"#),
                Format::Json,
                "credit_card",
                &b,
            );
        }
        let mail: Vec<u8> = "mail jane.doe@example.com"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let b = b64(&mail);
        assert_found(&format!(r#"{{"x":"{b}"}}"#), Format::Json, "email", &b);
    }

    /// Variant 4: hex of base64 (two levels).
    #[test]
    fn variant_hex_of_base64() {
        for text in [
            CARD,
            "card 4111 1111 1111 1111",
            "ssn 123-45-6789 ok",
            "card: 4111111111111111!?",
            "x 4111-1111-1111-1111",
        ] {
            let kind = found(text, Format::Text)[0].0.clone();
            let inner = b64(text);
            for hex in [
                inner
                    .bytes()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
                inner
                    .bytes()
                    .map(|b| format!("{b:02X}"))
                    .collect::<String>(),
                inner
                    .trim_end_matches('=')
                    .bytes()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
            ] {
                assert_found(&format!(r#"{{"x":"{hex}"}}"#), Format::Json, &kind, &hex);
                assert_found(&format!("x {hex} y"), Format::Text, &kind, &hex);
            }
        }
    }

    /// Variant 5: unpadded base64url of unpadded base64url.
    #[test]
    fn variant_unpadded_base64url_twice() {
        let url = |s: &str| {
            b64(s)
                .trim_end_matches('=')
                .replace('+', "-")
                .replace('/', "_")
        };
        for text in [
            "card 4111 1111 1111 1111",
            CARD,
            "ssn 123-45-6789",
            "jane.doe@example.com",
            "card 4111111111111111",
            "card 4111111111111111 ",
            "card 4111111111111111 x",
            "mail: ann@example.com??>",
            "a@example.com",
        ] {
            let twice = url(&url(text));
            let kind = found(text, Format::Text)[0].0.clone();
            assert_found(
                &format!(r#"{{"x":"{twice}"}}"#),
                Format::Json,
                &kind,
                &twice,
            );
        }
    }

    /// Variant 6: characters that render digits almost unchanged: a braille blank between
    /// groups, combining marks on digits.
    #[test]
    fn variant_braille_blank_and_combining_marks() {
        let v = ["4111", "1111", "1111", "1111"].join("\u{2800}");
        assert_found(
            &format!(r#"{{"card":"{v}"}}"#),
            Format::Json,
            "credit_card",
            &v,
        );
        let s = ["123", "45", "6789"].join("\u{2800}");
        assert_found(&format!("ssn {s}."), Format::Text, "ssn", &s);
        for mark in [
            '\u{301}', '\u{300}', '\u{336}', '\u{20dd}', '\u{1ab0}', '\u{1dc0}', '\u{fe20}',
        ] {
            // A mark on every digit: the one after the last digit lies outside the value.
            let v: String = CARD.chars().flat_map(|c| [c, mark]).collect();
            let value = v.strip_suffix(mark).unwrap();
            assert_found(
                &format!(r#"{{"card":"{v}"}}"#),
                Format::Json,
                "credit_card",
                value,
            );
            let v = format!("4{mark}111 1111 1111 1111");
            assert_found(&format!("card {v} ok"), Format::Text, "credit_card", &v);
        }
    }

    /// A value encoded twice, after a large base64 text: the second level decoded the first
    /// level's tokens again (they stay in the layer, before their text), which spent the
    /// decoded-bytes budget, and the tokens after were skipped without a word.
    #[test]
    fn a_value_encoded_twice_after_a_large_base64_text_is_found() {
        let inner = b64(b64("card 4111 1111 1111 1111"));
        let mut harmless = String::new();
        while harmless.len() < 700 << 10 {
            harmless.push_str("The quarterly report is attached; nothing sensitive here.\n");
        }
        let body = format!(r#"{{"a":"{}","b":"{inner}"}}"#, b64(&harmless));
        let scanner = Scanner::new(KindSet::all_built_ins());
        let mut f = Findings::default();
        let mut got = Vec::new();
        scanner.scan_input(body.as_bytes(), Decoding::BODY, Format::Json, &mut f, |x| {
            got.push((scanner.name(x.kind).to_string(), body[x.span].to_string()))
        });
        assert!(!f.incomplete);
        assert_eq!(got, vec![("credit_card".to_string(), inner)]);
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// Review of issue 11, class 1: a national identifier in a CSV cell followed by a numeric
    /// cell (`,12`) is a whole value, not the integer part of a decimal; an Aadhaar number
    /// alone in its cell stands as it does alone in a JSON string. In prose, `,50` after a
    /// number is still its fraction.
    #[test]
    fn ids_in_csv_cells_next_to_numbers() {
        for (text, kind, value) in [
            ("id,a,b\n7,529.982.247-25,12", "br_cpf", "529.982.247-25"),
            ("id,a,b\n7,53 004 085 616,12", "au_abn", "53 004 085 616"),
            ("id,a,b\n7,912-78-4321,12", "us_itin", "912-78-4321"),
            ("id,a,b\n7,850315-1234566,12", "kr_rrn", "850315-1234566"),
            (
                "id,a,b\n7,4986 5432 1078,12",
                "in_aadhaar",
                "4986 5432 1078",
            ),
            ("| a | 4986 5432 1078 |", "in_aadhaar", "4986 5432 1078"),
        ] {
            assert_eq!(scan_body(text), pairs(&[(kind, value)]), "{text}");
        }
        let row = "customer_id,name,email,phone,nhs_number,cpf,abn,aadhaar,iban,signup\n\
            10023,Jane Roe,jane.roe@example.co.uk,+44 7700 900123,401 023 2137,529.982.247-25,\
            53 004 085 616,4986 5432 1078,GB82WEST12345698765432,2023-11-02\n";
        assert_eq!(
            scan_body(row),
            pairs(&[
                ("email", "jane.roe@example.co.uk"),
                ("phone", "+44 7700 900123"),
                ("uk_nhs_number", "401 023 2137"),
                ("br_cpf", "529.982.247-25"),
                ("au_abn", "53 004 085 616"),
                ("in_aadhaar", "4986 5432 1078"),
                ("iban", "GB82WEST12345698765432"),
            ])
        );
        for text in [
            "total 12 345 678 901,50 EUR",
            "12 345 678 901,50",
            "x, 4986 5432 1078, y",
        ] {
            assert_eq!(scan_body(text), vec![], "{text}");
        }
    }

    /// Class 2: a Markdown table inside a JSON string (an MCP tool result, its line breaks
    /// escaped): each value's own column header decides, the `phone` header does not claim the
    /// NHS column's value.
    #[test]
    fn markdown_table_columns_decide() {
        let want = pairs(&[("uk_nhs_number", "401 023 2137"), ("phone", "07700 900123")]);
        let table = r"| name | nhs number | phone |\n|---|---|---|\n| A. Smith | 401 023 2137 | 07700 900123 |";
        for body in [
            format!(r#"{{"content":"{table}"}}"#),
            format!(r#"{{"type":"tool_result","content":[{{"type":"text","text":"{table}"}}]}}"#),
            table.replace(r"\n", "\n"),
        ] {
            assert_eq!(scan_body(&body), want, "{body}");
        }
        // Another column's phone header does not make a value a phone number.
        assert_eq!(
            scan_body("| ref | phone |\n|---|---|\n| 020 7946 0958 | |"),
            vec![]
        );
        // A key-value table: the row's own label still counts.
        assert_eq!(
            scan_body("| key | value |\n|---|---|\n| phone | 020 7946 0958 |"),
            pairs(&[("phone", "020 7946 0958")])
        );
    }

    /// Class 3: a phone word in the previous JSON member or clause is not the next value's
    /// cue; a routing number with its own cue, prefix and checksum is a routing number.
    #[test]
    fn phone_cues_stop_at_the_field() {
        for (text, want) in [
            (
                r#"{"phone":"+61 412 345 678","routing_number":"021000021"}"#,
                vec![
                    ("phone", "+61 412 345 678"),
                    ("us_bank_routing", "021000021"),
                ],
            ),
            (
                r#"{"tel":"","routing":"021000021"}"#,
                vec![("us_bank_routing", "021000021")],
            ),
            (
                "Call me at 07700 900461; routing 021000021",
                vec![("phone", "07700 900461"), ("us_bank_routing", "021000021")],
            ),
            (r#"{"tel":"","order":"021000021"}"#, vec![]),
            (
                r#"{"note":"{\"tel\":\"\",\"routing\":\"021000021\"}"}"#,
                vec![("us_bank_routing", "021000021")],
            ),
            // An array's strings share their key; an HTML entity does not end a field.
            (
                r#"{"phones": ["020 7946 0958", "020 7946 0959"]}"#,
                vec![("phone", "020 7946 0958"), ("phone", "020 7946 0959")],
            ),
            (
                "Phone:&nbsp;020 7946 0958",
                vec![("phone", "020 7946 0958")],
            ),
        ] {
            assert_eq!(scan_body(text), pairs(&want), "{text}");
        }
    }

    /// Class 6: `ring` is a weak phone cue (a phone-shaped number only), `call me on` a phrase.
    #[test]
    fn ring_me_on() {
        for text in ["Ring me on 020 7946 0958", "call me on 020 7946 0958"] {
            assert_eq!(
                scan_body(text),
                pairs(&[("phone", "020 7946 0958")]),
                "{text}"
            );
        }
        for text in [
            "ring buffer of 4096 entries",
            "ring_size 12345678",
            "ringtone 12345678",
        ] {
            assert_eq!(scan_body(text), vec![], "{text}");
        }
    }

    /// Class 4: a CSV header naming the NHS number inside an identifier (`uk_nhs`, `nhs_no`)
    /// cues its column, also for a value alone on its row.
    #[test]
    fn nhs_header_identifiers() {
        for text in [
            "uk_nhs,x\n943 476 5919",
            "nhs_no,x\n943 476 5919,a",
            "x,uk_nhs\na,943 476 5919",
        ] {
            assert_eq!(
                scan_body(text),
                pairs(&[("uk_nhs_number", "943 476 5919")]),
                "{text}"
            );
        }
    }
}
#[cfg(test)]
mod custom_in_views {
    use super::*;

    /// A custom detector's value found again in a decoded view is the same value: counted once.
    #[test]
    fn a_custom_value_seen_raw_and_in_a_view_counts_once() {
        let custom = CustomDetector::compile(r"\bEMP-\d{6}\b", None, &[]).unwrap();
        let scanner = Scanner::with_custom(
            KindSet::all_built_ins().with(Kind(BUILT_INS.len() as u8)),
            vec![("employee_id".into(), custom)],
        );
        // An escape makes a view, and the custom pass runs on it too, after the built-ins.
        let body = r#"{"badge":"EMP-204817","n":"\u0041","to":"a@b.io"}"#;
        let mut f = Findings::default();
        let mut spans = Vec::new();
        scanner.scan_input(body.as_bytes(), Decoding::BODY, Format::Json, &mut f, |x| {
            spans.push(x.span)
        });
        assert_eq!(f.count, 2, "{spans:?}");
    }
}
