//! What protocol a request body speaks, and what it asks for: JSON-RPC 2.0 (single or
//! batch), and in it MCP or A2A; OpenAI-style requests; else plain `http`.
//!
//! [`Body::parse`] reads the body once (only when a rule needs it: the exchange calls it
//! lazily) into a small owned summary: per JSON-RPC call its raw `id`, method, family and the
//! rule variables' values (`rpc_method`, `mcp_tool`, `mcp_resource`, `mcp_prompt`,
//! `a2a_task_id`, `a2a_context_id`, `a2a_role`), MCP `arguments` kept as their text for
//! [`Call::arg`]; for OpenAI, `openai_model` and `openai_stream`.
//!
//! Read as the most lenient agent would ([`strict`]): a member the filter reads that is given
//! twice, or under another spelling an agent's parser would take for it, is a
//! [`Refusal::Ambiguous`], and a batch over [`MAX_BATCH_CALLS`] is refused whole
//! ([`Refusal::TooManyCalls`]): the exchange answers both with JSON-RPC -32600 (Invalid
//! Request) rather than decide on a reading the agent may not share.
//!
//! Sources: JSON-RPC 2.0 <https://www.jsonrpc.org/specification>; MCP 2025-06-18
//! ([`mcp`]); A2A v0.3 and v1.0 ([`a2a`]); the OpenAI API reference ([`openai`]).

pub mod a2a;
mod jsonrpc;
pub mod mcp;
mod openai;
mod params;
mod strict;
#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

pub use openai::{Endpoint, OpenAi};

use jsonrpc::{Envelope, Top, TopSeed, TOO_MANY};
use params::Params;
pub(crate) use strict::fold;

/// The most calls a batch may hold (JSON-RPC 2.0 §6 sets no bound). A larger batch is
/// refused whole: checking part of it would let the rest through unchecked, and checking it
/// all costs a rule evaluation per call. MCP 2025-06-18 has no batches at all; A2A sends
/// none; 128 is far above what any client sends.
pub const MAX_BATCH_CALLS: usize = 128;

/// The rule variable `protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Not JSON-RPC, not OpenAI-style (also: not JSON at all).
    Http,
    /// JSON-RPC 2.0 whose methods are neither MCP's nor A2A's.
    JsonRpc,
    /// JSON-RPC 2.0 with an A2A method (v0.3 or v1.0).
    A2a,
    /// JSON-RPC 2.0 with an MCP method (2025-06-18).
    Mcp,
    /// An OpenAI-style request ([`Endpoint`]).
    OpenAi,
}

impl Protocol {
    pub const ALL: &'static [Protocol] = &[
        Protocol::Http,
        Protocol::JsonRpc,
        Protocol::A2a,
        Protocol::Mcp,
        Protocol::OpenAi,
    ];

    /// Its name in rules: `http`, `jsonrpc`, `a2a`, `mcp`, `openai`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::JsonRpc => "jsonrpc",
            Protocol::A2a => "a2a",
            Protocol::Mcp => "mcp",
            Protocol::OpenAi => "openai",
        }
    }

    /// Whether replies take the JSON-RPC error shape.
    pub const fn is_jsonrpc(self) -> bool {
        matches!(self, Protocol::JsonRpc | Protocol::A2a | Protocol::Mcp)
    }
}

/// Which protocol a JSON-RPC method belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    Mcp,
    A2a,
    /// Another method, or a response (no method).
    #[default]
    Other,
}

impl Family {
    /// The family of a method name ([`mcp::is_method`], [`a2a::is_method`]). MCP 2025-06-18
    /// and A2A share no method name (MCP's later `tasks/get`, 2025-11-25, would be A2A's).
    pub fn of(method: &str) -> Family {
        if mcp::is_method(method) {
            Family::Mcp
        } else if a2a::is_method(method) {
            Family::A2a
        } else {
            Family::Other
        }
    }
}

/// Why a JSON-RPC body is refused before any rule sees it. Each is answered with JSON-RPC
/// -32600 Invalid Request (§5.1); none names request text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A member the filter reads (its path, e.g. `method`, `params.name`,
    /// `params.arguments`, `params.message`) is given twice, or under another spelling a
    /// lenient parser would take for it (`Method`, `task_id`): the agent could read another
    /// value than the filter.
    Ambiguous(&'static str),
    /// A batch of more than [`MAX_BATCH_CALLS`].
    TooManyCalls,
    /// Not a valid JSON-RPC 2.0 request: `jsonrpc` is not `"2.0"`, `method` not a string,
    /// `id` not a string, number or null, or a batch holds something else than JSON-RPC
    /// objects. The member at fault.
    InvalidRequest(&'static str),
    /// Not JSON the filter can read (RFC 8259: `NaN`, a lone surrogate, a trailing comma...)
    /// though declared JSON or naming `jsonrpc` ([`Body::malformed_json`]): refused when a
    /// condition reads what the body asks for, since a lenient agent (Python's `json` takes
    /// `NaN` and lone surrogates) could run it as a call the rules never saw.
    Malformed,
}

impl Refusal {
    /// JSON-RPC 2.0 §5.1: Invalid Request.
    pub const CODE: i32 = -32600;
    /// JSON-RPC 2.0 §5.1: Parse error.
    pub const PARSE_ERROR: i32 = -32700;

    /// Its JSON-RPC error code.
    pub fn code(self) -> i32 {
        match self {
            Refusal::Malformed => Refusal::PARSE_ERROR,
            _ => Refusal::CODE,
        }
    }

    /// The error's `message`: the spec's name for the code, and why.
    pub fn message(self) -> String {
        match self {
            Refusal::Ambiguous(m) => {
                format!(
                    "Invalid Request: `{m}` is ambiguous (given twice, or under another spelling)"
                )
            }
            Refusal::TooManyCalls => {
                format!("Invalid Request: a batch of more than {MAX_BATCH_CALLS} calls")
            }
            Refusal::InvalidRequest(m) => {
                format!("Invalid Request: `{m}` is not valid JSON-RPC 2.0")
            }
            Refusal::Malformed => {
                "Parse error: the body is not JSON the filter can read (RFC 8259)".to_string()
            }
        }
    }
}

/// One JSON-RPC message of the body (a request, a notification, or a response).
#[derive(Debug, Clone, Default)]
pub struct Call {
    /// The `id` exactly as sent (a string with its quotes and escapes, a number in its
    /// digits, `null`), for a reply to echo byte for byte; `None` for a notification (§4.1).
    /// `Some("null")` also stands for an id that could not be read (given twice, or of
    /// another type): §5 answers those with a null id.
    pub id: Option<Box<str>>,
    /// `method` (empty for a response).
    pub method: String,
    pub family: Family,
    /// A response (`result` or `error`, no `method`): what an MCP client POSTs to answer the
    /// server's own requests.
    pub response: bool,
    /// MCP `tools/call` `params.name`.
    pub mcp_tool: Option<String>,
    /// MCP `resources/read` (also `resources/subscribe`, `resources/unsubscribe`)
    /// `params.uri`.
    pub mcp_resource: Option<String>,
    /// MCP `prompts/get` `params.name`.
    pub mcp_prompt: Option<String>,
    /// A2A: the message's `taskId` (`message/send`, `message/stream`, `SendMessage`,
    /// `SendStreamingMessage`), `params.id` (`tasks/get`, `tasks/cancel`,
    /// `tasks/resubscribe`, `tasks/pushNotificationConfig/get|list|delete`, `GetTask`,
    /// `CancelTask`, `SubscribeToTask`), `params.taskId` (`tasks/pushNotificationConfig/set`,
    /// the v1.0 push notification config methods).
    pub a2a_task_id: Option<String>,
    /// A2A: the message's `contextId`; `ListTasks` `params.contextId`.
    pub a2a_context_id: Option<String>,
    /// A2A: the message's `role` (`user`, `agent`; v1.0's `ROLE_USER`, `ROLE_AGENT` read so).
    pub a2a_role: Option<String>,
    /// MCP `tools/call` or `prompts/get` `params.arguments`, as sent (no object in it repeats
    /// a key: checked).
    arguments: Option<Box<RawValue>>,
}

impl PartialEq for Call {
    fn eq(&self, o: &Self) -> bool {
        self.id == o.id
            && self.method == o.method
            && self.family == o.family
            && self.response == o.response
            && self.mcp_tool == o.mcp_tool
            && self.mcp_resource == o.mcp_resource
            && self.mcp_prompt == o.mcp_prompt
            && self.a2a_task_id == o.a2a_task_id
            && self.a2a_context_id == o.a2a_context_id
            && self.a2a_role == o.a2a_role
            && self.arguments() == o.arguments()
    }
}

impl Call {
    /// A notification: a request without `id` (§4.1); it gets no reply.
    pub fn is_notification(&self) -> bool {
        self.id.is_none() && !self.response
    }

    /// MCP `params.arguments` as sent.
    pub fn arguments(&self) -> Option<&str> {
        self.arguments.as_deref().map(RawValue::get)
    }

    /// The value at `path` in the MCP arguments: each step a key of an object (compared as
    /// [`strict`] folds keys, as an agent's lenient parser would match it) or, in an array,
    /// a decimal index. `None` when there are no arguments or the path leads nowhere. Reads
    /// the arguments' text on each call: no copy is kept for rules that do not ask.
    pub fn arg<S: AsRef<str>>(&self, path: &[S]) -> Option<Arg> {
        let text = self.arguments.as_deref()?.get();
        let mut de = serde_json::Deserializer::from_str(text);
        let out = Cell::new(None);
        // Stops with an error once the value is found or known absent; the text is valid.
        let _ = ArgSeed { path, out: &out }.deserialize(&mut de);
        out.take()
    }
}

/// A value in MCP arguments ([`Call::arg`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Str(String),
    /// An integer within `i64`.
    Int(i64),
    /// Any other number.
    Float(f64),
    Bool(bool),
    Null,
    /// An object or an array (its contents are reached by a longer path).
    Composite,
}

/// Splits a dotted path (`a.b.0`) into its steps, as `mcp_arg('a.b.0')` names them.
pub fn arg_path(dotted: &str) -> Vec<&str> {
    dotted.split('.').collect()
}

/// What the body is.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub protocol: Protocol,
    /// The body is a JSON-RPC batch (an array), even of one.
    pub batch: bool,
    /// The JSON-RPC messages, in order (at most [`MAX_BATCH_CALLS`]); empty for `http` and
    /// `openai`, and for a batch refused as too large.
    pub calls: Vec<Call>,
    /// An OpenAI-style request.
    pub openai: Option<OpenAi>,
    /// Refused before the rules: the exchange answers it ([`crate::replies`]). The calls are
    /// then what could be read of them (their ids, for the reply); no rule should see them.
    pub refusal: Option<Refusal>,
    /// The body looks like JSON (`{` or `[` first, whatever its declared type), but
    /// serde_json cannot read it (invalid UTF-8, a lone surrogate, `NaN`, a trailing comma,
    /// trailing data...). Its protocol is `http`; an agent with a more lenient parser
    /// (Python's `json` takes `NaN` and lone surrogates) may still read it as a call: the
    /// exchange refuses it when a condition reads the protocol.
    pub malformed_json: bool,
}

impl Body {
    fn http(malformed_json: bool) -> Body {
        Body {
            protocol: Protocol::Http,
            batch: false,
            calls: Vec::new(),
            openai: None,
            refusal: None,
            malformed_json,
        }
    }

    /// Reads a request body. `path` is the request's `:path` (for the OpenAI endpoints).
    /// Whether the body is JSON-RPC is decided from its bytes, never from its declared
    /// type, since agents do not all check the type (a2a-sdk's JSON-RPC server reads the body
    /// as JSON whatever its type; the MCP SDK takes any `application/json…`). A leading UTF-8 byte order mark is skipped (Python's
    /// `json.loads` of bytes skips it too). A body in UTF-16/32 is read as its UTF-8
    /// transcoding (the caller's, `crate::charset`).
    pub fn parse(path: &str, bytes: &[u8]) -> Body {
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let first = text.iter().copied().find(|b| !b.is_ascii_whitespace());
        if !matches!(first, Some(b'{' | b'[')) {
            return Body::http(false);
        }
        if let (Some(endpoint), Some(b'{')) = (Endpoint::of_path(path), first) {
            match read(text, openai::FieldsSeed) {
                Err(_) => return Body::http(true),
                Ok(Some(f)) if !f.jsonrpc_like => {
                    return Body {
                        protocol: Protocol::OpenAi,
                        openai: Some(OpenAi {
                            endpoint,
                            model: f.model.flatten(),
                            stream: f.stream.flatten().unwrap_or(false),
                        }),
                        refusal: f.ambiguous.map(|a| Refusal::Ambiguous(a.0)),
                        ..Body::http(false)
                    }
                }
                // A `jsonrpc` member: read as JSON-RPC, below.
                Ok(_) => {}
            }
        }
        // A body that starts as JSON and does not parse is malformed, whatever its declared
        // type and whatever it names: a lenient agent may still run it as a call (Python's
        // `json` reads `NaN`; the MCP SDK takes any `application/json…` type, a2a-sdk any
        // type; `"json\u0072pc"` names `jsonrpc` without its letters).
        let malformed = true;
        match read(text, TopSeed) {
            Err(e) if e.to_string().starts_with(TOO_MANY) => Body {
                protocol: Protocol::JsonRpc,
                batch: true,
                refusal: Some(Refusal::TooManyCalls),
                ..Body::http(false)
            },
            Err(_) => Body::http(malformed),
            Ok(Top::Other) => Body::http(false),
            Ok(Top::One(e)) if !e.jsonrpc_like => Body::http(false),
            Ok(Top::One(e)) => {
                let (call, refusal) = call(*e);
                Body::jsonrpc(false, vec![call], refusal)
            }
            Ok(Top::Batch { messages, .. }) if messages.is_empty() => Body::http(false),
            Ok(Top::Batch { messages, others }) => {
                let mut refusal = others.then_some(Refusal::InvalidRequest("batch element"));
                let calls = messages
                    .into_iter()
                    .map(|m| {
                        let (c, r) = call(m);
                        refusal = refusal.or(r);
                        c
                    })
                    .collect();
                Body::jsonrpc(true, calls, refusal)
            }
        }
    }

    fn jsonrpc(batch: bool, calls: Vec<Call>, refusal: Option<Refusal>) -> Body {
        let has = |f| calls.iter().any(|c: &Call| c.family == f);
        let protocol = if has(Family::Mcp) {
            Protocol::Mcp
        } else if has(Family::A2a) {
            Protocol::A2a
        } else {
            Protocol::JsonRpc
        };
        Body {
            protocol,
            batch,
            calls,
            refusal,
            ..Body::http(false)
        }
    }

    /// The first call (the only one, unless a batch).
    pub fn first(&self) -> Option<&Call> {
        self.calls.first()
    }

    /// Whether every call is a notification or a response: JSON-RPC §6 returns nothing for
    /// those (an error reply has no call to answer).
    pub fn nothing_to_answer(&self) -> bool {
        !self.calls.is_empty() && self.calls.iter().all(|c| c.id.is_none())
    }
}

/// Reads the whole text with `seed` (and nothing after it).
fn read<'de, S: DeserializeSeed<'de>>(text: &'de [u8], seed: S) -> serde_json::Result<S::Value> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let v = seed.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// A message's call, and why it is refused, if it is.
fn call(e: Envelope) -> (Call, Option<Refusal>) {
    let ambiguous = e.ambiguous.map(|a| a.0);
    let id = e.id.map(|raw| {
        if ambiguous == Some("id") || !jsonrpc::id_is_valid(raw) {
            Box::from("null")
        } else {
            Box::from(raw.get())
        }
    });
    let method = e.method.clone().flatten().unwrap_or_default();
    let mut c = Call {
        id,
        family: Family::of(&method),
        response: e.method.is_none() && e.response,
        method,
        ..Call::default()
    };
    let refusal = if let Some(a) = ambiguous {
        Some(Refusal::Ambiguous(a))
    } else if !matches!(e.jsonrpc, Some(Some(ref v)) if v == "2.0") {
        Some(Refusal::InvalidRequest("jsonrpc"))
    } else if e.id.is_some_and(|raw| !jsonrpc::id_is_valid(raw)) {
        Some(Refusal::InvalidRequest("id"))
    } else if matches!(e.method, Some(None)) || (e.method.is_none() && !e.response) {
        Some(Refusal::InvalidRequest("method"))
    } else {
        None
    };
    if refusal.is_some() || c.response {
        return (c, refusal);
    }
    let p = match (e.params_read, e.params) {
        (Some(p), _) => p,
        (None, Some(raw)) if !reads(&c.method).is_empty() => {
            jsonrpc::read_params(raw, reads(&c.method))
        }
        _ => return (c, None),
    };
    if let Some(a) = p.ambiguous {
        return (c, Some(Refusal::Ambiguous(a.0)));
    }
    fill(&mut c, p);
    (c, None)
}

/// The members of `params` a method's variables come from.
fn reads(method: &str) -> &'static [params::Member] {
    match Family::of(method) {
        Family::Mcp => mcp::reads(method),
        Family::A2a => a2a::reads(method),
        Family::Other => &[],
    }
}

/// The rule variables' values from `params`.
fn fill(c: &mut Call, p: Params) {
    match c.method.as_str() {
        "tools/call" => c.mcp_tool = p.name.flatten(),
        "prompts/get" => c.mcp_prompt = p.name.flatten(),
        _ => {}
    }
    c.mcp_resource = p.uri.flatten();
    c.arguments = p.arguments;
    c.a2a_task_id = p.id.flatten().or(p.task_id.flatten());
    c.a2a_context_id = p.context_id.flatten();
    if let Some(m) = p.message {
        c.a2a_task_id = m.task_id.flatten();
        c.a2a_context_id = m.context_id.flatten();
        c.a2a_role = m.role.flatten().map(a2a::role);
    }
}

/// Follows a path into a value ([`Call::arg`]), and stops reading as soon as the path's
/// value is found or cannot be (keys are unique: checked at parse), by an error it then
/// ignores: a rule that asks for `mcp_arg('path')` does not pay for the arguments after it.
struct ArgSeed<'p, 'o, S> {
    path: &'p [S],
    out: &'o Cell<Option<Arg>>,
}

impl<S> ArgSeed<'_, '_, S> {
    /// The value is there (or, with steps left, there is nothing at the path): stop.
    fn found<E: de::Error>(&self, value: Arg) -> Result<(), E> {
        if self.path.is_empty() {
            self.out.set(Some(value));
        }
        Err(E::custom("found"))
    }
}

impl<'de, S: AsRef<str>> DeserializeSeed<'de> for ArgSeed<'_, '_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: AsRef<str>> Visitor<'de> for ArgSeed<'_, '_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.found(Arg::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.found(Arg::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        // Beyond i64 a number is compared as a float (as JavaScript reads every number).
        self.found(i64::try_from(v).map_or(Arg::Float(v as f64), Arg::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.found(Arg::Float(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.found(Arg::Null)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if self.path.is_empty() {
            self.out.set(Some(Arg::Str(v.to_string())));
        }
        Err(E::custom("found"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((step, rest)) = self.path.split_first() else {
            return self.found(Arg::Composite);
        };
        let Ok(want) = step.as_ref().parse::<usize>() else {
            return self.found(Arg::Null);
        };
        for _ in 0..want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(ArgSeed {
            path: rest,
            out: self.out,
        })?;
        Err(de::Error::custom("found"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((step, rest)) = self.path.split_first() else {
            return self.found(Arg::Composite);
        };
        let want = fold(step.as_ref());
        while let Some(strict::Key(k)) = map.next_key::<strict::Key>()? {
            if fold(&k) == want {
                map.next_value_seed(ArgSeed {
                    path: rest,
                    out: self.out,
                })?;
                return Err(de::Error::custom("found"));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}
