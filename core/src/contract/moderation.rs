//! The moderation service a contract's `toxicity_score` and `bias_score` bounds are measured
//! with: an Envoy cluster speaking the OpenAI moderation API shape
//! (<https://platform.openai.com/docs/api-reference/moderations/create>; field names as in the
//! `openai` Python package, `types/moderation*.py`), called by the glue with
//! `dispatch_http_call`. Everything here is pure: the request body, the reading of the answer,
//! and what a failure does.
//!
//! **Request**: `POST {path}` to `{authority}` on `{cluster}`, `content-type:
//! application/json`, body `{"input": "<text>", "model": "<model>"}` (`model` left out when not
//! configured: the service's default). No API key: credentials belong to Envoy (the cluster's
//! TLS, or a header its route adds), never to this configuration, which is not a secret store.
//!
//! **Response**: `{"id": ..., "model": ..., "results": [{"flagged": bool, "categories": {...},
//! "category_scores": {"harassment": 0.01, "hate": 0.002, ...}}]}`. Mapped to the envelope:
//! - `toxicity_score` = the highest of all `category_scores` of all results (any category the
//!   service scores: harassment, hate, illicit, self-harm, sexual, violence and their
//!   sub-categories in OpenAI's omni-moderation models);
//! - `bias_score` = the highest of `hate` and `hate/threatening`: OpenAI defines `hate` as
//!   content that "expresses, incites, or promotes hate based on race, gender, ethnicity,
//!   religion, nationality, sexual orientation, disability status, or caste", which is what
//!   bias means in the ACVPS envelope. `harassment` is left out: OpenAI files hateful content
//!   aimed at groups that are not protected ("chess players") and attacks on any individual
//!   there, which is hostility, not bias; it counts in `toxicity_score`.
//!
//! Several results (a service that splits long input) are folded to the highest of each.

use serde::{Deserialize, Serialize};

/// The OpenAI moderation endpoint's path, the default of `moderation.path`.
pub const DEFAULT_PATH: &str = "/v1/moderations";
/// `moderation.timeout_ms` default and bounds (milliseconds).
pub const DEFAULT_TIMEOUT_MS: u32 = 1000;
pub const MAX_TIMEOUT_MS: u32 = 60_000;
/// `moderation.max_input_bytes` default and bound: the text sent is cut to this many bytes
/// (at a character boundary). 32 KiB is about 8,000 tokens, within OpenAI's moderation
/// models' input; the bound keeps a call's body (and its copy into Envoy) small.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 32 * 1024;
pub const MAX_MAX_INPUT_BYTES: usize = 1024 * 1024;
/// The largest moderation answer read: a real one is about 1.5 KiB per result.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// The category scores `bias_score` is the highest of (see the module doc).
pub const BIAS_CATEGORIES: [&str; 2] = ["hate", "hate/threatening"];

/// What an exchange does when the moderation service cannot score it (`moderation.fail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fail {
    /// Pass without the toxicity and bias bounds checked, and say so in the event
    /// (`"moderation": "failed_open"`).
    Open,
    /// Refuse, as if the bounds were exceeded (the default: a contract is a guarantee).
    #[default]
    Closed,
}

/// `moderation`, compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderation {
    /// The Envoy cluster (`dispatch_http_call`'s upstream).
    pub cluster: String,
    /// `:authority` of the call (default: the cluster's name).
    pub authority: String,
    /// `:path` of the call (default [`DEFAULT_PATH`]).
    pub path: String,
    /// The moderation model (`omni-moderation-latest`); `None`: the service's default.
    pub model: Option<String>,
    /// How long the call may take, milliseconds (1 to [`MAX_TIMEOUT_MS`]).
    pub timeout_ms: u32,
    pub fail: Fail,
    /// The most text bytes sent ([`DEFAULT_MAX_INPUT_BYTES`]).
    pub max_input_bytes: usize,
}

impl Moderation {
    /// The call's headers, for `dispatch_http_call` (Envoy adds `content-length`).
    pub fn headers(&self) -> [(&str, &str); 4] {
        [
            (":method", "POST"),
            (":path", &self.path),
            (":authority", &self.authority),
            ("content-type", "application/json"),
        ]
    }

    /// The call's body for `text` ([`request_body`] with this configuration).
    pub fn request_body(&self, text: &str) -> Vec<u8> {
        request_body(text, self.model.as_deref(), self.max_input_bytes)
    }

    /// The call's body for all of `text`: one input of at most `max_input_bytes`, or several
    /// (the API's `input` is a string or an array of them; its answer has a result per input,
    /// and the scores are the highest of all), so that nothing of the text goes unmoderated.
    /// [`ModerationError::InputTooLarge`] past [`MAX_INPUTS`] inputs.
    pub fn request_all(&self, text: &str) -> Result<(Vec<u8>, usize), ModerationError> {
        #[derive(Serialize)]
        struct Request<'a> {
            input: Vec<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            model: Option<&'a str>,
        }
        if text.len() <= self.max_input_bytes {
            return Ok((self.request_body(text), 1));
        }
        // Pieces overlap, so that no word the service would judge is cut in two by the split
        // (`TOX` | `IC`).
        let size = self.max_input_bytes.max(8);
        let overlap = (size / 4).min(OVERLAP_BYTES);
        let mut input = Vec::new();
        let mut at = 0;
        while at < text.len() {
            if input.len() == MAX_INPUTS {
                return Err(ModerationError::InputTooLarge);
            }
            let rest = text.get(at..).unwrap_or_default();
            let mut piece = cut(rest, size);
            if piece.is_empty() {
                // A character longer than the limit: take it whole.
                piece = rest
                    .get(..rest.chars().next().map_or(rest.len(), char::len_utf8))
                    .unwrap_or(rest);
            }
            input.push(piece);
            if at + piece.len() >= text.len() {
                break;
            }
            // The next piece starts `overlap` back, at a character boundary.
            let mut next = at + piece.len().saturating_sub(overlap).max(1);
            while next < text.len() && !text.is_char_boundary(next) {
                next += 1;
            }
            at = next;
        }
        let n = input.len();
        let body = serde_json::to_vec(&Request {
            input,
            model: self.model.as_deref(),
        })
        .unwrap_or_default();
        Ok((body, n))
    }
}

/// How many bytes consecutive inputs share (at most a quarter of `max_input_bytes`).
pub const OVERLAP_BYTES: usize = 256;

/// The most inputs one moderation call carries ([`Moderation::request_all`]).
pub const MAX_INPUTS: usize = 64;

/// `{"input": text, "model": model}`, the text cut to `max_input_bytes` at a character
/// boundary (what follows is not moderated: the contract's other bounds still see it all).
pub fn request_body(text: &str, model: Option<&str>, max_input_bytes: usize) -> Vec<u8> {
    #[derive(Serialize)]
    struct Request<'a> {
        input: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        model: Option<&'a str>,
    }
    let input = cut(text, max_input_bytes);
    serde_json::to_vec(&Request { input, model }).unwrap_or_default()
}

/// The longest start of `text` of at most `max` bytes that ends at a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let end = (0..=max)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    text.get(..end).unwrap_or_default()
}

/// What the moderation service said, on the envelope's scale (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// The highest category score, 0.0 to 1.0.
    pub toxicity_score: f64,
    /// The highest of `hate` and `hate/threatening`, 0.0 to 1.0.
    pub bias_score: f64,
    /// The service's own verdict (`flagged` of any result): recorded, not enforced.
    pub flagged: bool,
}

/// Why the moderation service gave no scores. Its `Display` and [`ModerationError::code`]
/// hold no text from the answer (a server's text is not written anywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModerationError {
    /// No answer within `timeout_ms` (the glue's `dispatch_http_call` timeout).
    Timeout,
    /// The call could not be made or was reset (no such cluster, connection refused).
    Unreachable,
    /// An HTTP status outside 2xx.
    Status(u16),
    /// The response is a stream, which passes as it comes: there is no whole text to ask
    /// about before it leaves (the fail mode decides, when its headers come).
    Stream,
    /// The text is longer than [`MAX_INPUTS`] inputs of `max_input_bytes`: it cannot all be
    /// moderated in one call (the fail mode decides).
    InputTooLarge,
    /// An answer over [`MAX_RESPONSE_BYTES`].
    TooLarge,
    /// Not JSON, or not the moderation shape (no `results`, a result without
    /// `category_scores`, a score that is not a number).
    Malformed,
    /// `results` is empty.
    NoResults,
    /// A result without `hate` among its scores (`bias_score` is unknown).
    NoHateScore,
    /// A score outside 0.0..=1.0.
    OutOfRange,
}

impl ModerationError {
    /// For events and metric labels: `timeout`, `unreachable`, `status`, `too_large`,
    /// `malformed`, `no_results`, `no_hate_score`, `out_of_range`.
    pub fn code(self) -> &'static str {
        match self {
            ModerationError::Timeout => "timeout",
            ModerationError::Unreachable => "unreachable",
            ModerationError::Status(_) => "status",
            ModerationError::TooLarge => "too_large",
            ModerationError::Malformed => "malformed",
            ModerationError::NoResults => "no_results",
            ModerationError::NoHateScore => "no_hate_score",
            ModerationError::OutOfRange => "out_of_range",
            ModerationError::Stream => "stream",
            ModerationError::InputTooLarge => "input_too_large",
        }
    }
}

impl std::fmt::Display for ModerationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModerationError::Timeout => {
                f.write_str("the moderation service did not answer in time")
            }
            ModerationError::Unreachable => {
                f.write_str("the moderation service could not be reached")
            }
            ModerationError::Status(s) => write!(f, "the moderation service answered HTTP {s}"),
            ModerationError::TooLarge => write!(
                f,
                "the moderation service's answer is over {MAX_RESPONSE_BYTES} bytes"
            ),
            ModerationError::Malformed => {
                f.write_str("the moderation service's answer is not of the moderation API's shape")
            }
            ModerationError::NoResults => f.write_str("the moderation service returned no results"),
            ModerationError::NoHateScore => f.write_str(
                "the moderation service returned no `hate` score (bias_score is unknown)",
            ),
            ModerationError::OutOfRange => {
                f.write_str("the moderation service returned a score outside 0..1")
            }
            ModerationError::Stream => {
                f.write_str("a streamed response cannot be moderated before it leaves")
            }
            ModerationError::InputTooLarge => {
                f.write_str("the response is too long to be moderated in one call")
            }
        }
    }
}

impl std::error::Error for ModerationError {}

#[derive(Deserialize)]
struct Response {
    results: Vec<Result_>,
}

#[derive(Deserialize)]
struct Result_ {
    #[serde(default)]
    flagged: bool,
    category_scores: serde_json::Map<String, serde_json::Value>,
}

/// Reads the moderation service's answer: its HTTP status and body.
pub fn parse_response(status: u16, body: &[u8]) -> Result<Scores, ModerationError> {
    parse_answer(status, body, 1)
}

/// [`parse_response`] for a call that sent `inputs` inputs: an answer with fewer results
/// leaves some text unscored, and is [`ModerationError::NoResults`].
pub fn parse_answer(status: u16, body: &[u8], inputs: usize) -> Result<Scores, ModerationError> {
    if !(200..300).contains(&status) {
        return Err(ModerationError::Status(status));
    }
    if body.len() > MAX_RESPONSE_BYTES {
        return Err(ModerationError::TooLarge);
    }
    let r: Response = serde_json::from_slice(body).map_err(|_| ModerationError::Malformed)?;
    if r.results.is_empty() || r.results.len() < inputs {
        return Err(ModerationError::NoResults);
    }
    let mut scores = Scores {
        toxicity_score: 0.0,
        bias_score: 0.0,
        flagged: false,
    };
    for result in &r.results {
        let mut hate = false;
        for (category, v) in &result.category_scores {
            let x = v.as_f64().ok_or(ModerationError::Malformed)?;
            if !(0.0..=1.0).contains(&x) {
                return Err(ModerationError::OutOfRange);
            }
            scores.toxicity_score = scores.toxicity_score.max(x);
            if BIAS_CATEGORIES.contains(&category.as_str()) {
                scores.bias_score = scores.bias_score.max(x);
                hate |= category == "hate";
            }
        }
        if !hate {
            return Err(ModerationError::NoHateScore);
        }
        scores.flagged |= result.flagged;
    }
    Ok(scores)
}

/// What came of moderating an exchange.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Moderated {
    /// Scored: the envelope's toxicity and bias bounds are checked against these.
    Scored(Scores),
    /// Not scored, and `fail: open`: the exchange passes unchecked on toxicity and bias.
    FailedOpen(ModerationError),
    /// Not scored, and `fail: closed`: the exchange is refused.
    FailedClosed(ModerationError),
}

impl Moderated {
    /// The outcome of a call under a fail mode.
    pub fn new(fail: Fail, result: Result<Scores, ModerationError>) -> Moderated {
        match (result, fail) {
            (Ok(s), _) => Moderated::Scored(s),
            (Err(e), Fail::Open) => Moderated::FailedOpen(e),
            (Err(e), Fail::Closed) => Moderated::FailedClosed(e),
        }
    }

    /// The event's `moderation` value: `scored`, `failed_open` or `failed_closed`.
    pub fn record(&self) -> &'static str {
        match self {
            Moderated::Scored(_) => "scored",
            Moderated::FailedOpen(_) => "failed_open",
            Moderated::FailedClosed(_) => "failed_closed",
        }
    }

    /// The scores, when there are some (for [`super::Found::moderation`]).
    pub fn scores(&self) -> Option<&Scores> {
        match self {
            Moderated::Scored(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the exchange is refused for the failure itself (`fail: closed`).
    pub fn blocks(&self) -> bool {
        matches!(self, Moderated::FailedClosed(_))
    }

    /// Why there are no scores.
    pub fn error(&self) -> Option<ModerationError> {
        match self {
            Moderated::Scored(_) => None,
            Moderated::FailedOpen(e) | Moderated::FailedClosed(e) => Some(*e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer of OpenAI's `omni-moderation-latest`, as documented.
    const SAMPLE: &str = r#"{
      "id": "modr-0d9740456c391e43c445bf0f010940c7",
      "model": "omni-moderation-latest",
      "results": [
        {
          "flagged": true,
          "categories": {
            "harassment": true, "harassment/threatening": true, "sexual": false, "hate": false,
            "hate/threatening": false, "illicit": false, "illicit/violent": false,
            "self-harm/intent": false, "self-harm/instructions": false, "self-harm": false,
            "sexual/minors": false, "violence": true, "violence/graphic": true
          },
          "category_scores": {
            "harassment": 0.8189693396524255, "harassment/threatening": 0.804985420696006,
            "sexual": 1.573112165348997e-6, "hate": 0.007722866284671046,
            "hate/threatening": 0.008468182673912205, "illicit": 0.00014481674555336146,
            "illicit/violent": 0.00022986572506772033, "self-harm/intent": 0.0002105234812210299,
            "self-harm/instructions": 0.00011316478109355604, "self-harm": 0.0001460870064580737,
            "sexual/minors": 0.0000012187157296251964, "violence": 0.9971155107692852,
            "violence/graphic": 0.4321450456208704
          },
          "category_applied_input_types": {
            "harassment": ["text"], "harassment/threatening": ["text"], "sexual": ["text", "image"],
            "hate": ["text"], "hate/threatening": ["text"], "illicit": ["text"],
            "illicit/violent": ["text"], "self-harm/intent": ["text", "image"],
            "self-harm/instructions": ["text", "image"], "self-harm": ["text", "image"],
            "sexual/minors": ["text"], "violence": ["text", "image"], "violence/graphic": ["text", "image"]
          }
        }
      ]
    }"#;

    #[test]
    fn the_documented_answer() {
        let s = parse_response(200, SAMPLE.as_bytes()).unwrap();
        assert_eq!(s.toxicity_score, 0.9971155107692852);
        assert_eq!(s.bias_score, 0.008468182673912205);
        assert!(s.flagged);
    }

    #[test]
    fn several_results_take_the_highest() {
        let body = r#"{"results": [
          {"flagged": false, "category_scores": {"hate": 0.5, "violence": 0.1}},
          {"flagged": true, "category_scores": {"hate": 0.1, "hate/threatening": 0.2, "sexual": 0.7}}
        ]}"#;
        let s = parse_response(200, body.as_bytes()).unwrap();
        assert_eq!(s.toxicity_score, 0.7);
        assert_eq!(s.bias_score, 0.5);
        assert!(s.flagged);
        // `flagged` absent: false; integers are numbers.
        let s = parse_response(
            200,
            br#"{"results": [{"category_scores": {"hate": 0, "x": 1}}]}"#,
        )
        .unwrap();
        assert_eq!(
            s,
            Scores {
                toxicity_score: 1.0,
                bias_score: 0.0,
                flagged: false
            }
        );
    }

    #[test]
    fn anything_else_is_an_error() {
        use ModerationError::*;
        let p = |status: u16, body: &str| parse_response(status, body.as_bytes());
        assert_eq!(p(500, SAMPLE), Err(Status(500)));
        assert_eq!(p(429, "{}"), Err(Status(429)));
        assert_eq!(p(199, SAMPLE), Err(Status(199)));
        assert_eq!(p(200, ""), Err(Malformed));
        assert_eq!(p(200, "<html>oops</html>"), Err(Malformed));
        assert_eq!(p(200, "[]"), Err(Malformed));
        assert_eq!(p(200, "{}"), Err(Malformed));
        assert_eq!(p(200, r#"{"results": null}"#), Err(Malformed));
        assert_eq!(p(200, r#"{"results": {}}"#), Err(Malformed));
        assert_eq!(p(200, r#"{"results": []}"#), Err(NoResults));
        assert_eq!(p(200, r#"{"results": [{}]}"#), Err(Malformed));
        assert_eq!(
            p(200, r#"{"results": [{"category_scores": []}]}"#),
            Err(Malformed)
        );
        assert_eq!(
            p(
                200,
                r#"{"results": [{"category_scores": {"hate": "0.1"}}]}"#
            ),
            Err(Malformed)
        );
        assert_eq!(
            p(200, r#"{"results": [{"category_scores": {"hate": null}}]}"#),
            Err(Malformed)
        );
        assert_eq!(
            p(
                200,
                r#"{"results": [{"category_scores": {"hate": 1e999}}]}"#
            ),
            Err(Malformed)
        );
        assert_eq!(
            p(200, r#"{"results": [{"category_scores": {"hate": -0.1}}]}"#),
            Err(OutOfRange)
        );
        assert_eq!(
            p(200, r#"{"results": [{"category_scores": {"hate": 1.5}}]}"#),
            Err(OutOfRange)
        );
        assert_eq!(
            p(
                200,
                r#"{"results": [{"category_scores": {"violence": 0.1}}]}"#
            ),
            Err(NoHateScore)
        );
        assert_eq!(
            p(
                200,
                r#"{"results": [{"category_scores": {"hate": 0.1}}, {"category_scores": {}}]}"#
            ),
            Err(NoHateScore)
        );
        assert_eq!(
            p(
                200,
                r#"{"results": [{"category_scores": {"hate": 0.1}}]} x"#
            ),
            Err(Malformed)
        );
        // Huge answers are not read.
        let huge = format!(
            r#"{{"results": [{{"category_scores": {{"hate": 0.1}}, "pad": "{}"}}]}}"#,
            "x".repeat(MAX_RESPONSE_BYTES)
        );
        assert_eq!(p(200, &huge), Err(TooLarge));
        let deep = "[".repeat(100_000);
        assert_eq!(p(200, &deep), Err(Malformed));
        // Arbitrary bytes never panic.
        for n in 0..=255u8 {
            let _ = parse_response(200, &[b'{', n, b'}']);
        }
    }

    #[test]
    fn errors_write_no_server_text() {
        let e = parse_response(
            200,
            br#"{"results": [{"category_scores": {"hate": "secret 4111"}}]}"#,
        )
        .unwrap_err();
        assert!(!e.to_string().contains("4111"));
        assert_eq!(e.code(), "malformed");
        assert_eq!(
            ModerationError::Status(503).to_string(),
            "the moderation service answered HTTP 503"
        );
    }

    #[test]
    fn request_bodies() {
        assert_eq!(
            request_body("hello \"you\"", Some("omni-moderation-latest"), 100),
            br#"{"input":"hello \"you\"","model":"omni-moderation-latest"}"#
        );
        assert_eq!(request_body("hi", None, 100), br#"{"input":"hi"}"#);
        // Cut at a character boundary: `é` is two bytes.
        assert_eq!(request_body("aé", None, 2), br#"{"input":"a"}"#);
        assert_eq!(request_body("aé", None, 3), r#"{"input":"aé"}"#.as_bytes());
        assert_eq!(request_body("éé", None, 0), br#"{"input":""}"#);
        let big = "€".repeat(20_000);
        let body = request_body(&big, None, DEFAULT_MAX_INPUT_BYTES);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let input = v["input"].as_str().unwrap();
        assert_eq!(input.len(), DEFAULT_MAX_INPUT_BYTES / 3 * 3);
        assert!(input.len() <= DEFAULT_MAX_INPUT_BYTES);
    }

    #[test]
    fn fail_modes() {
        let s = Scores {
            toxicity_score: 0.1,
            bias_score: 0.0,
            flagged: false,
        };
        let ok = Moderated::new(Fail::Closed, Ok(s));
        assert_eq!(ok.record(), "scored");
        assert_eq!(ok.scores(), Some(&s));
        assert!(!ok.blocks());
        assert_eq!(ok.error(), None);
        for e in [
            ModerationError::Timeout,
            ModerationError::Status(503),
            ModerationError::Malformed,
        ] {
            let open = Moderated::new(Fail::Open, Err(e));
            assert_eq!(open.record(), "failed_open");
            assert!(!open.blocks());
            assert_eq!(open.scores(), None);
            assert_eq!(open.error(), Some(e));
            let closed = Moderated::new(Fail::Closed, Err(e));
            assert_eq!(closed.record(), "failed_closed");
            assert!(closed.blocks());
            assert_eq!(closed.scores(), None);
        }
        assert_eq!(Fail::default(), Fail::Closed);
    }

    #[test]
    fn call_headers() {
        let m = Moderation {
            cluster: "moderation".into(),
            authority: "moderation.local".into(),
            path: DEFAULT_PATH.into(),
            model: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            fail: Fail::Closed,
            max_input_bytes: 4,
        };
        assert_eq!(m.headers()[1], (":path", "/v1/moderations"));
        assert_eq!(m.headers()[2], (":authority", "moderation.local"));
        assert_eq!(m.request_body("hello"), br#"{"input":"hell"}"#);
    }
}
