//! `params` of a call whose method is known: only the members its method's rule variables
//! come from ([`Member`]), each read once (see [`super::strict`]); the subtrees read as a
//! whole (MCP `arguments`, A2A `message`) are refused if any object in them repeats a key.
//! An ambiguity is recorded, not raised: the read goes on, so that the envelope around it
//! (its `id`, for the reply) is still read.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::strict::{fold, once, Ambiguous, AnyStr, Key, NoTwice, ScalarStr, Seen};

/// A member of `params` some method's variables come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Member {
    /// MCP `tools/call`, `prompts/get`: `params.name`.
    Name,
    /// MCP `tools/call`, `prompts/get`: `params.arguments`, kept whole.
    Arguments,
    /// MCP `resources/read`, `resources/subscribe`, `resources/unsubscribe`: `params.uri`.
    Uri,
    /// A2A `TaskIdParams.id` (v0.3 `tasks/*`; v1.0 `GetTask`, `CancelTask`, `SubscribeToTask`).
    Id,
    /// A2A `TaskPushNotificationConfig.taskId` (v0.3 `tasks/pushNotificationConfig/set`;
    /// v1.0 the push notification config methods).
    TaskId,
    /// A2A v1.0 `ListTasks`: `params.contextId`.
    ContextId,
    /// A2A `MessageSendParams.message` (v0.3 `message/send`, `message/stream`; v1.0
    /// `SendMessage`, `SendStreamingMessage`): its `role`, `taskId`, `contextId`.
    Message,
}

impl Member {
    /// Its name as sent, its fold, and its path in a refusal.
    const fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Member::Name => ("name", "name", "params.name"),
            Member::Arguments => ("arguments", "arguments", "params.arguments"),
            Member::Uri => ("uri", "uri", "params.uri"),
            Member::Id => ("id", "id", "params.id"),
            Member::TaskId => ("taskId", "taskid", "params.taskId"),
            Member::ContextId => ("contextId", "contextid", "params.contextId"),
            Member::Message => ("message", "message", "params.message"),
        }
    }
}

/// What was read from `params`.
#[derive(Debug, Default)]
pub(super) struct Params {
    pub(super) name: Option<Option<String>>,
    pub(super) arguments: Option<Box<RawValue>>,
    pub(super) uri: Option<Option<String>>,
    pub(super) id: Option<Option<String>>,
    pub(super) task_id: Option<Option<String>>,
    pub(super) context_id: Option<Option<String>>,
    pub(super) message: Option<MessageFields>,
    /// The first member read twice or under another spelling.
    pub(super) ambiguous: Option<Ambiguous>,
}

/// An A2A `Message`'s members the rules see (v0.3 `types.ts` `Message`; v1.0 `a2a.proto`
/// `Message`, in its JSON form).
#[derive(Debug, Default)]
pub(super) struct MessageFields {
    pub(super) role: Option<Option<String>>,
    pub(super) task_id: Option<Option<String>>,
    pub(super) context_id: Option<Option<String>>,
    /// No member read twice, no object in the message repeats a key.
    pub(super) clean: bool,
}

/// Reads `params` for a method that reads `read`.
#[derive(Clone, Copy)]
pub(super) struct ParamsSeed {
    pub(super) read: &'static [Member],
}

impl<'de> DeserializeSeed<'de> for ParamsSeed {
    type Value = Params;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Params, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ParamsSeed {
    type Value = Params;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    // By-position params (an array, §4.2) and other values hold none of the members.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Params, E> {
        Ok(Params::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Params, E> {
        Ok(Params::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Params, E> {
        Ok(Params::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Params, E> {
        Ok(Params::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Params, E> {
        Ok(Params::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Params, E> {
        Ok(Params::default())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Params, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Params::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
        let mut p = Params::default();
        let mut stop = None;
        while let Some(Key(k)) = map.next_key::<Key>()? {
            let folded = fold(&k);
            let Some(m) = self
                .read
                .iter()
                .copied()
                .find(|m| m.names().1 == folded.as_ref())
            else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let (exact, _, path) = m.names();
            match m {
                Member::Name => {
                    let v = map.next_value_seed(AnyStr)?;
                    once(&mut p.name, &k, exact, path, &mut stop, v);
                }
                Member::Uri => {
                    let v = map.next_value_seed(AnyStr)?;
                    once(&mut p.uri, &k, exact, path, &mut stop, v);
                }
                Member::Id => {
                    let v = map.next_value_seed(AnyStr)?;
                    once(&mut p.id, &k, exact, path, &mut stop, v);
                }
                Member::TaskId => {
                    let v = map.next_value_seed(AnyStr)?;
                    once(&mut p.task_id, &k, exact, path, &mut stop, v);
                }
                Member::ContextId => {
                    let v = map.next_value_seed(AnyStr)?;
                    once(&mut p.context_id, &k, exact, path, &mut stop, v);
                }
                Member::Arguments => {
                    // Kept as its text for `Call::arg`, and walked once for repeated keys.
                    let raw: &'de RawValue = map.next_value()?;
                    let mut de = serde_json::Deserializer::from_str(raw.get());
                    if !NoTwice.deserialize(&mut de).unwrap_or(false) {
                        stop.get_or_insert(Ambiguous(path));
                    }
                    once(&mut p.arguments, &k, exact, path, &mut stop, raw.to_owned());
                }
                Member::Message => {
                    let v = map.next_value_seed(MessageSeed)?;
                    if !v.clean {
                        stop.get_or_insert(Ambiguous(path));
                    }
                    once(&mut p.message, &k, exact, path, &mut stop, v);
                }
            }
        }
        p.ambiguous = stop;
        Ok(p)
    }
}

/// An A2A message: `role`, `taskId`, `contextId` read once; no object in it repeats a key.
struct MessageSeed;

impl<'de> DeserializeSeed<'de> for MessageSeed {
    type Value = MessageFields;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<MessageFields, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MessageSeed {
    type Value = MessageFields;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    // Not a message: no member, nothing repeated.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<MessageFields, E> {
        Ok(NOT_AN_OBJECT)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<MessageFields, E> {
        Ok(NOT_AN_OBJECT)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<MessageFields, E> {
        Ok(NOT_AN_OBJECT)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<MessageFields, E> {
        Ok(NOT_AN_OBJECT)
    }
    fn visit_unit<E: de::Error>(self) -> Result<MessageFields, E> {
        Ok(NOT_AN_OBJECT)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<MessageFields, E> {
        Ok(NOT_AN_OBJECT)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<MessageFields, A::Error> {
        Ok(MessageFields {
            clean: NoTwice.visit_seq(seq)?,
            ..MessageFields::default()
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MessageFields, A::Error> {
        let mut m = MessageFields::default();
        let mut seen = Seen::default();
        let mut stop = None;
        let mut clean = true;
        while let Some(Key(k)) = map.next_key::<Key>()? {
            match fold(&k).as_ref() {
                "role" => {
                    let v = map.next_value_seed(ScalarStr)?;
                    once(&mut m.role, &k, "role", MESSAGE, &mut stop, v);
                }
                "taskid" => {
                    let v = map.next_value_seed(AnyStr)?;
                    once(&mut m.task_id, &k, "taskId", MESSAGE, &mut stop, v);
                }
                "contextid" => {
                    let v = map.next_value_seed(AnyStr)?;
                    once(&mut m.context_id, &k, "contextId", MESSAGE, &mut stop, v);
                }
                _ => clean &= map.next_value_seed(NoTwice)?,
            }
            seen.push(k);
        }
        m.clean = clean && stop.is_none() && !seen.twice();
        Ok(m)
    }
}

const MESSAGE: &str = "params.message";

const NOT_AN_OBJECT: MessageFields = MessageFields {
    role: None,
    task_id: None,
    context_id: None,
    clean: true,
};
