//! What comes back: which responses are inspected and how (buffered whole, or as a stream),
//! the hold-back window that lets a stream be scanned as it passes ([`window`]), and the
//! stream rewriters for server-sent events and other chunked bodies ([`stream`]).
//!
//! A response is inspected when something reads responses (a rule that reads a `response_*`
//! variable, or `responses.scan: true`) and its media type is one of
//! `responses.content_types`. It is buffered whole when it declares a `content-length` of at
//! most `responses.max_body_bytes` and is not `text/event-stream`; anything else is a stream,
//! scanned chunk by chunk and never held whole.

pub mod stream;
pub mod unescape;
pub mod window;

/// `responses`, compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responses {
    /// Responses are scanned at all (a response rule, or `responses.scan: true`).
    pub inspect: bool,
    /// The media types scanned: `type/subtype` (lower-case), `type/*`, or a structured syntax
    /// suffix written `+json` (RFC 6838 §4.2.8).
    pub content_types: Vec<String>,
    /// The largest response buffered whole and judged before any of it leaves.
    pub max_body_bytes: usize,
    /// The most text a stream holds back, bytes: a value split across chunks or events is
    /// found before any of it leaves when it is at most this long.
    pub hold_bytes: usize,
    /// The longest server-sent event, bytes: a longer one ends the stream (fail closed).
    pub max_event_bytes: usize,
    pub release: Release,
}

/// When a stream's held text is let go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Release {
    /// At word boundaries no value can cross ([`window::safe_boundary`]), else once it is
    /// `hold_bytes` old: a streamed answer flows at the pace of its words.
    #[default]
    Words,
    /// Only once it is `hold_bytes` old (or the stream ends): every value up to `hold_bytes`
    /// long is caught whatever it is made of, at the cost of `hold_bytes` of delay.
    Window,
}

/// Every text a client may read: any `text/*` (plain, HTML, Markdown, CSV, event streams),
/// JSON and its line-delimited and suffixed kinds, XML, YAML and forms. Binary media (images,
/// audio, archives) are left out unless listed.
pub const DEFAULT_CONTENT_TYPES: [&str; 9] = [
    "text/*",
    "application/json",
    "+json",
    "application/x-ndjson",
    "application/jsonl",
    "application/xml",
    "+xml",
    "application/yaml",
    "application/x-www-form-urlencoded",
];
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const MAX_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
pub const DEFAULT_HOLD_BYTES: usize = 512;
pub const MIN_HOLD_BYTES: usize = 16;
pub const MAX_HOLD_BYTES: usize = 64 * 1024;
pub const DEFAULT_MAX_EVENT_BYTES: usize = 64 * 1024;
pub const MIN_MAX_EVENT_BYTES: usize = 1024;
pub const MAX_MAX_EVENT_BYTES: usize = 1024 * 1024;

impl Default for Responses {
    fn default() -> Self {
        Responses {
            inspect: false,
            content_types: DEFAULT_CONTENT_TYPES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            hold_bytes: DEFAULT_HOLD_BYTES,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            release: Release::Words,
        }
    }
}

/// How a response body is read, from its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Held whole (at most `max_body_bytes`, declared), then judged.
    Buffered,
    /// `text/event-stream`: event by event.
    Events,
    /// Any other body: chunk by chunk, as text.
    Chunks,
}

impl Responses {
    /// Whether a response of this `content-type` is scanned. A response without one is
    /// scanned as text (RFC 9110 §8.3: the receiver may sniff it; an agent's client will).
    pub fn scans(&self, content_type: Option<&[u8]>) -> bool {
        // An empty one says no more than an absent one: a client sniffs both.
        let Some(media) = content_type.map(media_type).filter(|m| !m.is_empty()) else {
            return true;
        };
        self.content_types.iter().any(|t| matches(t, media))
    }

    /// How the body of a response is read: `content_length` is its declared length.
    pub fn shape(&self, content_type: Option<&[u8]>, content_length: Option<u64>) -> Shape {
        if content_type.is_some_and(|ct| media_type(ct).eq_ignore_ascii_case(b"text/event-stream"))
        {
            return Shape::Events;
        }
        match content_length {
            Some(n) if n <= u64::try_from(self.max_body_bytes).unwrap_or(u64::MAX) => {
                Shape::Buffered
            }
            // A JSON document without a length (sent chunked) is read whole by its client
            // anyway: buffered too, until it passes `max_body_bytes` (then it is read on as a
            // stream).
            None if content_type.is_some_and(is_json_document) => Shape::Buffered,
            _ => Shape::Chunks,
        }
    }
}

/// `application/json` or a `+json` type: one JSON document (not line-delimited JSON).
pub fn is_json_document(content_type: &[u8]) -> bool {
    let m = media_type(content_type);
    m.eq_ignore_ascii_case(b"application/json")
        || m.len() > 5
            && m.get(m.len() - 5..)
                .is_some_and(|s| s.eq_ignore_ascii_case(b"+json"))
}

/// The media type of a `content-type` value, without parameters or spaces.
pub fn media_type(content_type: &[u8]) -> &[u8] {
    content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii()
}

/// Whether `pattern` (`type/subtype`, `type/*` or `+suffix`, lower-case) covers `media`.
fn matches(pattern: &str, media: &[u8]) -> bool {
    let p = pattern.as_bytes();
    if let Some(suffix) = pattern.strip_prefix('+') {
        let Some(plus) = media.iter().rposition(|&b| b == b'+') else {
            return false;
        };
        return media
            .get(plus + 1..)
            .is_some_and(|s| s.eq_ignore_ascii_case(suffix.as_bytes()));
    }
    if let Some(top) = pattern.strip_suffix("/*") {
        return media.len() > top.len() + 1
            && media
                .get(..top.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(top.as_bytes()))
            && media.get(top.len()) == Some(&b'/');
    }
    media.eq_ignore_ascii_case(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_match_exactly_by_family_or_by_suffix() {
        let r = Responses::default();
        assert!(r.scans(Some(b"application/json; charset=utf-8")));
        assert!(r.scans(Some(b"Application/JSON")));
        assert!(r.scans(Some(b"application/problem+json")));
        assert!(r.scans(Some(b"text/event-stream")));
        assert!(r.scans(None));
        assert!(!r.scans(Some(b"image/png")));
        assert!(!r.scans(Some(b"application/jsonx")));
        assert!(r.scans(Some(b"text/html")));
        assert!(r.scans(Some(b"application/vnd.api+xml")));
        assert!(r.scans(Some(b"")));
        assert!(r.scans(Some(b"; charset=utf-8")));
        assert!(!r.scans(Some(b"application/octet-stream")));
        let any_text = Responses {
            content_types: vec!["text/*".into()],
            ..Responses::default()
        };
        assert!(any_text.scans(Some(b"text/html")));
        assert!(!any_text.scans(Some(b"texts/html")));
        assert!(!any_text.scans(Some(b"text/")));
    }

    #[test]
    fn a_response_is_buffered_only_when_it_declares_a_length_within_the_limit() {
        let r = Responses::default();
        assert_eq!(
            r.shape(Some(b"application/json"), Some(10)),
            Shape::Buffered
        );
        assert_eq!(
            r.shape(Some(b"application/json"), Some(2 * 1024 * 1024)),
            Shape::Chunks
        );
        assert_eq!(r.shape(Some(b"application/json"), None), Shape::Buffered);
        assert_eq!(r.shape(Some(b"application/x-ndjson"), None), Shape::Chunks);
        assert_eq!(r.shape(Some(b"text/plain"), None), Shape::Chunks);
        assert_eq!(r.shape(Some(b"text/event-stream"), Some(10)), Shape::Events);
        assert_eq!(
            r.shape(Some(b"Text/Event-Stream; charset=utf-8"), None),
            Shape::Events
        );
    }
}
