//! The JSON-RPC 2.0 envelope (<https://www.jsonrpc.org/specification>, §4 Request object,
//! §4.1 Notification, §4.2 Parameter structures, §5 Response object, §6 Batch): one object,
//! or an array of them, each read once. `params` is read in the same pass when its method
//! came first (the usual order); otherwise it is kept as its text and read once the method
//! is known ([`super::mcp`], [`super::a2a`]), since members come in any order.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::params::{Params, ParamsSeed};
use super::strict::{fold, once, scalars_are_none, Ambiguous, AnyStr, Key};
use super::{reads, MAX_BATCH_CALLS};

/// Serde's message when a batch is over [`MAX_BATCH_CALLS`]: reading stops there.
pub(super) const TOO_MANY: &str = "iatp: batch too large";

/// One object of the body, as far as the envelope goes.
#[derive(Debug, Default)]
pub(super) struct Envelope<'de> {
    /// A member that folds to `jsonrpc` is there: the object means to be JSON-RPC, and
    /// everything below applies.
    pub(super) jsonrpc_like: bool,
    /// `jsonrpc`, when a string.
    pub(super) jsonrpc: Option<Option<String>>,
    /// `method`: outer `None` when absent, inner `None` when not a string.
    pub(super) method: Option<Option<String>>,
    pub(super) id: Option<&'de RawValue>,
    /// `params`, read at once when its method came first (the usual order: one pass).
    pub(super) params_read: Option<Params>,
    /// `params` as its text, when its method was not known yet: read by the caller.
    pub(super) params: Option<&'de RawValue>,
    params_seen: Option<()>,
    /// `result` or `error`: a response (an MCP client answers the server's requests, such as
    /// `sampling/createMessage`, with a POST of one).
    pub(super) response: bool,
    pub(super) ambiguous: Option<Ambiguous>,
}

/// What the body is, at the top.
pub(super) enum Top<'de> {
    One(Box<Envelope<'de>>),
    /// The JSON-RPC objects of an array (at most [`MAX_BATCH_CALLS`]), and whether the array
    /// also held something else (which makes it an invalid batch when it holds any of them).
    Batch {
        messages: Vec<Envelope<'de>>,
        others: bool,
    },
    /// Another JSON value (a string, a number...).
    Other,
}

pub(super) struct TopSeed;

impl<'de> DeserializeSeed<'de> for TopSeed {
    type Value = Top<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Top<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Top<'de>, E> {
        Ok(Top::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Top<'de>, E> {
        Ok(Top::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Top<'de>, E> {
        Ok(Top::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Top<'de>, E> {
        Ok(Top::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Top<'de>, E> {
        Ok(Top::Other)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Top<'de>, E> {
        Ok(Top::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Top<'de>, A::Error> {
        EnvelopeVisitor
            .visit_map(map)
            .map(|e| Top::One(Box::new(e)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top<'de>, A::Error> {
        let mut messages = Vec::new();
        let mut others = false;
        let mut count = 0usize;
        while let Some(e) = seq.next_element_seed(ElementSeed)? {
            count += 1;
            match e {
                Some(m) if m.jsonrpc_like => messages.push(m),
                _ => others = true,
            }
            // Refused whole, not partially checked: reading stops at the first call over.
            if count > MAX_BATCH_CALLS && !messages.is_empty() {
                return Err(de::Error::custom(TOO_MANY));
            }
        }
        Ok(Top::Batch { messages, others })
    }
}

/// An element of an array: an object's envelope, or `None`.
struct ElementSeed;

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Option<Envelope<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed {
    type Value = Option<Envelope<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    scalars_are_none!();
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        EnvelopeVisitor.visit_map(map).map(Some)
    }
    // A nested array is not a JSON-RPC message (nor a batch: §6 has no nesting).
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
        let mut e = Envelope::default();
        while let Some(Key(k)) = map.next_key::<Key>()? {
            match fold(&k).as_ref() {
                "jsonrpc" => {
                    e.jsonrpc_like = true;
                    let v = map.next_value_seed(AnyStr)?;
                    once(
                        &mut e.jsonrpc,
                        &k,
                        "jsonrpc",
                        "jsonrpc",
                        &mut e.ambiguous,
                        v,
                    );
                }
                "method" => {
                    let v = map.next_value_seed(AnyStr)?;
                    once(&mut e.method, &k, "method", "method", &mut e.ambiguous, v);
                }
                "id" => {
                    let v: &'de RawValue = map.next_value()?;
                    once(&mut e.id, &k, "id", "id", &mut e.ambiguous, v);
                }
                "params" => {
                    once(
                        &mut e.params_seen,
                        &k,
                        "params",
                        "params",
                        &mut e.ambiguous,
                        (),
                    );
                    let read = match &e.method {
                        Some(Some(m)) => reads(m),
                        _ => &[],
                    };
                    if read.is_empty() {
                        e.params = Some(map.next_value()?);
                    } else {
                        e.params_read = Some(map.next_value_seed(ParamsSeed { read })?);
                    }
                }
                "result" | "error" => {
                    e.response = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(e)
    }
}

/// Whether an id's text is one JSON-RPC allows: "a String, Number, or NULL value" (§4).
pub(super) fn id_is_valid(raw: &RawValue) -> bool {
    matches!(
        raw.get().as_bytes().first(),
        Some(b'"' | b'-' | b'0'..=b'9' | b'n')
    )
}

/// Reads `params` kept as text (its method came after it).
pub(super) fn read_params(raw: &RawValue, read: &'static [super::params::Member]) -> Params {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    // The text is a value the envelope already read: no syntax error is possible.
    ParamsSeed { read }
        .deserialize(&mut de)
        .unwrap_or_else(|_| Params {
            ambiguous: Some(Ambiguous("params")),
            ..Params::default()
        })
}
