//! `responses`: which responses are scanned, how much is buffered, how much of a stream is
//! held back.

use serde::Deserialize;

use super::strict::{deserialize_named, object, Named};
use super::ConfigError;
use crate::response::{
    Release, Responses, DEFAULT_HOLD_BYTES, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_EVENT_BYTES,
    MAX_HOLD_BYTES, MAX_MAX_BODY_BYTES, MAX_MAX_EVENT_BYTES, MIN_HOLD_BYTES, MIN_MAX_EVENT_BYTES,
};

const MAX_CONTENT_TYPES: usize = 32;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawResponses {
    pub(super) scan: Option<bool>,
    pub(super) content_types: Option<Vec<String>>,
    pub(super) max_body_bytes: Option<u64>,
    #[serde(default, deserialize_with = "object")]
    pub(super) stream: Option<RawStream>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStream {
    pub(super) hold_bytes: Option<u64>,
    pub(super) max_event_bytes: Option<u64>,
    pub(super) release: Option<Release>,
}

impl Named for Release {
    const ALL: &'static [Self] = &[Release::Words, Release::Window];
    const NAMES: &'static [&'static str] = &["words", "window"];
    fn name(self) -> &'static str {
        match self {
            Release::Words => "words",
            Release::Window => "window",
        }
    }
}

deserialize_named!(Release);

/// `responses`, compiled; `response_rules`: some rule reads the response.
pub(super) fn compile(
    raw: Option<RawResponses>,
    response_rules: bool,
) -> Result<Responses, ConfigError> {
    let raw = raw.unwrap_or_default();
    let d = Responses::default();
    let content_types = match raw.content_types {
        None => d.content_types,
        Some(list) => content_types(list)?,
    };
    let stream = raw.stream.unwrap_or_default();
    Ok(Responses {
        inspect: raw.scan.unwrap_or(false) || response_rules,
        content_types,
        max_body_bytes: bounded(
            "responses.max_body_bytes",
            raw.max_body_bytes,
            DEFAULT_MAX_BODY_BYTES,
            1,
            MAX_MAX_BODY_BYTES,
        )?,
        hold_bytes: bounded(
            "responses.stream.hold_bytes",
            stream.hold_bytes,
            DEFAULT_HOLD_BYTES,
            MIN_HOLD_BYTES,
            MAX_HOLD_BYTES,
        )?,
        max_event_bytes: bounded(
            "responses.stream.max_event_bytes",
            stream.max_event_bytes,
            DEFAULT_MAX_EVENT_BYTES,
            MIN_MAX_EVENT_BYTES,
            MAX_MAX_EVENT_BYTES,
        )?,
        release: stream.release.unwrap_or_default(),
    })
}

fn bounded(
    path: &str,
    raw: Option<u64>,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ConfigError> {
    let Some(n) = raw else {
        return Ok(default);
    };
    usize::try_from(n)
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| ConfigError::OutOfRange {
            path: path.into(),
            bound: format!("is {n}; must be between {min} and {max}"),
        })
}

/// Media types as RFC 6838 writes them (`type/subtype`), a whole top-level type (`text/*`),
/// or a structured syntax suffix (`+json`, RFC 6838 §4.2.8); lower-cased.
fn content_types(list: Vec<String>) -> Result<Vec<String>, ConfigError> {
    if list.len() > MAX_CONTENT_TYPES {
        return Err(ConfigError::OutOfRange {
            path: "responses.content_types".into(),
            bound: format!("at most {MAX_CONTENT_TYPES} media types"),
        });
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, t) in list.into_iter().enumerate() {
        let t = t.to_ascii_lowercase();
        let token = |s: &str| {
            !s.is_empty()
                && s.len() <= 127
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        let valid = match (t.strip_prefix('+'), t.split_once('/')) {
            (Some(suffix), _) => token(suffix),
            (None, Some((top, sub))) => token(top) && (sub == "*" || token(sub)),
            (None, None) => false,
        };
        if !valid {
            let why = if t.contains(';') {
                "parameters (`; charset=...`) are not part of a media type here: the type alone \
                 matches whatever its parameters"
            } else if t.starts_with("*/") {
                "`*/*` is not accepted: list the types (`text/*`, `application/json`, ...), so that \
                 binary bodies are not scanned as text"
            } else {
                "must be a media type (`application/json`), a top-level type (`text/*`) or a \
                 suffix (`+json`)"
            };
            return Err(ConfigError::OutOfRange {
                path: format!("responses.content_types[{i}]"),
                bound: why.into(),
            });
        }
        if out.contains(&t) {
            return Err(ConfigError::Duplicate {
                path: format!("responses.content_types[{i}]"),
                message: format!("media type '{t}' is listed twice"),
            });
        }
        out.push(t);
    }
    Ok(out)
}
