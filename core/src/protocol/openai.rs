//! OpenAI-style requests: the endpoints the OpenAI API and the servers that copy it (vLLM,
//! LiteLLM, Ollama, Azure OpenAI's `/openai/deployments/{name}/...`) answer, and the members
//! of their bodies the rules see.
//!
//! Source: the OpenAI API reference, <https://platform.openai.com/docs/api-reference/chat/create>
//! (`model`, `stream`), `/completions` (legacy), `/responses`, `/embeddings`.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::strict::{fold, once, scalars_are_none, Ambiguous, AnyBool, AnyStr, Key};

/// Which OpenAI endpoint a path ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `.../chat/completions`
    ChatCompletions,
    /// `.../completions` (the legacy text completions)
    Completions,
    /// `.../responses`
    Responses,
    /// `.../embeddings`
    Embeddings,
}

impl Endpoint {
    /// The path's last segments, as matched.
    pub fn suffix(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "/chat/completions",
            Endpoint::Completions => "/completions",
            Endpoint::Responses => "/responses",
            Endpoint::Embeddings => "/embeddings",
        }
    }

    /// The endpoint a request path (as sent: query and a trailing `/` ignored; case as sent,
    /// like the OpenAI API's) ends with, if any. Any prefix is accepted (`/v1`, `/openai/v1`,
    /// `/openai/deployments/{name}`): proxies mount the API under their own.
    pub fn of_path(path: &str) -> Option<Endpoint> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let path = path.strip_suffix('/').unwrap_or(path);
        [
            Endpoint::ChatCompletions,
            Endpoint::Completions,
            Endpoint::Responses,
            Endpoint::Embeddings,
        ]
        .into_iter()
        .find(|e| path.ends_with(e.suffix()))
    }
}

/// An OpenAI-style request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAi {
    pub endpoint: Endpoint,
    /// `model`, when a string (absent for Azure OpenAI, whose deployment is in the path).
    pub model: Option<String>,
    /// `stream: true` (absent or anything else: false).
    pub stream: bool,
}

/// The body's top-level object: `model` and `stream` read once; whether a `jsonrpc` member
/// says it is JSON-RPC after all.
#[derive(Debug, Default)]
pub(super) struct Fields {
    pub(super) model: Option<Option<String>>,
    pub(super) stream: Option<Option<bool>>,
    pub(super) jsonrpc_like: bool,
    pub(super) ambiguous: Option<Ambiguous>,
}

/// Reads [`Fields`] from an object; another value is `None`.
pub(super) struct FieldsSeed;

impl<'de> DeserializeSeed<'de> for FieldsSeed {
    type Value = Option<Fields>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed {
    type Value = Option<Fields>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    scalars_are_none!();
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut f = Fields::default();
        while let Some(Key(k)) = map.next_key::<Key>()? {
            match fold(&k).as_ref() {
                "model" => {
                    let v = map.next_value_seed(AnyStr)?;
                    once(&mut f.model, &k, "model", "model", &mut f.ambiguous, v);
                }
                "stream" => {
                    let v = map.next_value_seed(AnyBool)?;
                    once(&mut f.stream, &k, "stream", "stream", &mut f.ambiguous, v);
                }
                "jsonrpc" => {
                    f.jsonrpc_like = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(f))
    }
}
