//! Reading a request body the way the most lenient agent would, so that no two parsers can
//! read it two ways.
//!
//! A parser differential is an attack: if the filter reads `"method": "tools/list"` and the
//! agent reads another copy, `"method": "tools/call"`, a rule on the method is bypassed. The
//! agents' parsers differ from serde_json in three ways that matter, and every member the
//! filter reads is compared as the most lenient of them would:
//!
//! * a key given twice: Python's `json`, JavaScript's `JSON.parse` and Go's `encoding/json`
//!   all keep the last copy, silently (serde_json's derived structs refuse, its maps keep the
//!   last);
//! * Go's `encoding/json` matches a struct field's name case-insensitively, with Unicode
//!   simple folding (`ſ` U+017F is `s`, `K` U+212A is `k`): `"Method"` fills `Method`
//!   (<https://pkg.go.dev/encoding/json#Unmarshal>: "preferring an exact match but also
//!   accepting a case-insensitive match");
//! * pydantic models built with `validate_by_name=True` and a camel-case alias generator
//!   (the `a2a-sdk` Python package's `A2ABaseModel`, `a2a/_base.py`) accept `task_id` for
//!   `taskId`.
//!
//! So keys are compared by their [`fold`]: lower-cased, `ſ` read as `s`, underscores dropped.
//! A member the filter reads that appears twice under one fold, or under a spelling other
//! than its own, is [`Ambiguous`]: the request is refused rather than guessed.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Why a read stopped: the member (its path in the body, a static name, never request text)
/// that was given twice or under another spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ambiguous(pub(crate) &'static str);

/// A key as compared: lower case (Unicode), `ſ` as `s`, without `_`. Borrowed when the key
/// is already in that form (the usual case: JSON-RPC, MCP and most arguments are lower case).
pub(crate) fn fold(key: &str) -> Cow<'_, str> {
    if key
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'/' | b'-' | b'.'))
    {
        return Cow::Borrowed(key);
    }
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        match c {
            '_' => {}
            // LATIN SMALL LETTER LONG S: Unicode simple case folding maps it to `s`, and Go's
            // `encoding/json` matches it to an `s` in a field name.
            '\u{17F}' => out.push('s'),
            c => out.extend(c.to_lowercase()),
        }
    }
    Cow::Owned(out)
}

/// An object key, borrowed from the body when it has no escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

/// A JSON value as a scalar member is read: objects and arrays are consumed and ignored.
pub(crate) enum Scalar {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Other,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(i128::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Int(i128::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_string()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// Any JSON value; `Some` of its text when it is a string, `None` otherwise (a number, an
/// object... are consumed and ignored).
pub(crate) struct AnyStr;

impl<'de> DeserializeSeed<'de> for AnyStr {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        Ok(match d.deserialize_any(ScalarVisitor)? {
            Scalar::Str(s) => Some(s),
            _ => None,
        })
    }
}

/// A scalar read as text: a string as is, an integer as its decimal digits (an enum sent as
/// its number, which protobuf's JSON mapping accepts: `"role": 2` is `ROLE_AGENT`; `2.0` too);
/// anything else `None`.
pub(crate) struct ScalarStr;

impl<'de> DeserializeSeed<'de> for ScalarStr {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        Ok(match d.deserialize_any(ScalarVisitor)? {
            Scalar::Str(s) => Some(s),
            Scalar::Int(i) => Some(i.to_string()),
            Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(format!("{}", f as i64)),
            // Python's protobuf parser takes `true` for the enum number 1 (a bool is an int).
            Scalar::Bool(b) => Some(u8::from(b).to_string()),
            Scalar::Float(_) | Scalar::Other => None,
        })
    }
}

/// Any JSON value; `Some(b)` when it is `true` or `false`.
pub(crate) struct AnyBool;

impl<'de> DeserializeSeed<'de> for AnyBool {
    type Value = Option<bool>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<bool>, D::Error> {
        Ok(match d.deserialize_any(ScalarVisitor)? {
            Scalar::Bool(b) => Some(b),
            _ => None,
        })
    }
}

/// The scalar visits of a visitor that reads only objects (or arrays): every scalar is
/// `Ok(None)`.
macro_rules! scalars_are_none {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}
pub(crate) use scalars_are_none;

/// Keys seen in one object, by fold, to find one given twice: the first few compared as they
/// come, in place (most objects have a handful of keys: no allocation for borrowed, folded
/// keys), the rest sorted at the end: an object of n keys costs at most n log n, never n².
#[derive(Default)]
pub(crate) struct Seen<'de> {
    few: [Cow<'de, str>; FEW],
    n: usize,
    more: Vec<Cow<'de, str>>,
    twice: bool,
}

/// Up to this many keys, each new one is compared with those before it.
const FEW: usize = 8;

impl<'de> Seen<'de> {
    pub(crate) fn push(&mut self, key: Cow<'de, str>) {
        if self.twice {
            return;
        }
        let folded = match key {
            Cow::Borrowed(k) => fold(k),
            Cow::Owned(k) => Cow::Owned(fold(&k).into_owned()),
        };
        if let Some(slot) = self.few.get_mut(self.n) {
            *slot = folded;
            let (new, before) = (self.few.get(self.n), self.few.iter().take(self.n));
            self.twice = before.into_iter().any(|k| Some(k) == new);
            self.n += 1;
            return;
        }
        if self.more.is_empty() {
            self.more.extend(self.few.iter().cloned());
        }
        self.more.push(folded);
    }

    /// Whether two keys had one fold.
    pub(crate) fn twice(mut self) -> bool {
        if self.twice || self.more.is_empty() {
            return self.twice;
        }
        self.more.sort_unstable();
        self.more.windows(2).any(|w| w.first() == w.get(1))
    }
}

/// Walks any value and says whether no object in it repeats a key (by [`fold`]): for the
/// subtrees the filter reads anything of (MCP `params.arguments`, A2A `params.message`). It
/// walks to the end either way, so that the read goes on and the rest of the request (its
/// `id`) can still be read for the reply.
#[derive(Clone, Copy)]
pub(crate) struct NoTwice;

impl<'de> DeserializeSeed<'de> for NoTwice {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoTwice {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut clean = true;
        while let Some(c) = seq.next_element_seed(self)? {
            clean &= c;
        }
        Ok(clean)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut seen = Seen::default();
        let mut clean = true;
        while let Some(Key(k)) = map.next_key::<Key>()? {
            seen.push(k);
            clean &= map.next_value_seed(self)?;
        }
        Ok(clean && !seen.twice())
    }
}

/// Reads one member's value once: a second copy (under any spelling, see [`fold`]) or a
/// spelling other than `exact` is [`Ambiguous`] (`path` names it).
pub(crate) fn once<T>(
    slot: &mut Option<T>,
    key: &str,
    exact: &str,
    path: &'static str,
    stop: &mut Option<Ambiguous>,
    value: T,
) {
    if slot.is_some() || key != exact {
        stop.get_or_insert(Ambiguous(path));
    }
    *slot = Some(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_as_lenient_parsers_match() {
        assert_eq!(fold("method"), "method");
        assert!(matches!(fold("tools/call"), Cow::Borrowed(_)));
        assert_eq!(fold("Method"), "method");
        assert_eq!(fold("METHOD"), "method");
        assert_eq!(fold("task_id"), "taskid");
        assert_eq!(fold("taskId"), "taskid");
        assert_eq!(fold("param\u{17F}"), "params");
        assert_eq!(fold("\u{212A}ey"), "key");
    }
}
