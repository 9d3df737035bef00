//! What serde alone lets through, refused before and while the configuration is read:
//!
//! * a text that is too large, starts with a byte order mark, or is not a JSON object at all
//!   (an array, YAML) ([`check_text`]);
//! * a key given twice in one object (serde_json keeps the last one of a free-form map, such
//!   as `agent_card`, silently) and `null` anywhere (an `Option` field takes it for "absent",
//!   so `"mode": null` would silently mean the default) ([`check_keys_and_nulls`]);
//! * a positional array where an object is expected (serde's derived structs also read
//!   `["monitor", ...]` field by field): every struct position is read with [`object`] or
//!   [`objects`], which accept objects only;
//! * an enum value that is not a string (serde_json says only "expected value"): the closed
//!   sets are read with [`named`], which names what is expected.
//!
//! Messages name the expected type in the configuration's words ([`friendly`]).

use std::collections::BTreeSet;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::ConfigError;
use crate::json_path;

/// The largest configuration accepted: real ones are a few KiB; this is far above any of them
/// and below what Kubernetes stores in one object (about 1.5 MiB), where Istio keeps it.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

const NULL: &str =
    "null is not a value here: leave the key out for its default, or give a value of its type";

/// The text as a whole: its size, a byte order mark, and that it is a JSON object.
pub(super) fn check_text(bytes: &[u8]) -> Result<(), ConfigError> {
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::OutOfRange {
            path: String::new(),
            bound: format!(
                "the configuration is {} bytes; at most {MAX_CONFIG_BYTES} (1 MiB) are accepted",
                bytes.len()
            ),
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ConfigError::Empty);
    }
    let top = |message: String, at: usize| {
        let (line, column) = line_column(bytes, at);
        Err(ConfigError::Json {
            path: String::new(),
            line,
            column,
            message,
        })
    };
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return top(
            "the configuration starts with a UTF-8 byte order mark (EF BB BF): remove it; the configuration must be a JSON object".into(),
            0,
        );
    }
    let at = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let found = match bytes.get(at) {
        Some(b'{') => return Ok(()),
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        _ if looks_like_yaml(bytes) => {
            return top(
                "the configuration must be a JSON object (`{...}`); this looks like YAML, which is not accepted: write it as JSON".into(),
                at,
            )
        }
        Some(b) if b.is_ascii_digit() || *b == b'-' => "a number",
        _ => "text that is not a JSON object",
    };
    top(
        format!("the configuration must be a JSON object (`{{...}}`), found {found}"),
        at,
    )
}

/// Whether the first line that is not blank reads like YAML: a document start, a comment, a
/// list item, or `key: value`.
fn looks_like_yaml(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some(line) = text.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return false;
    };
    line.starts_with("---")
        || line.starts_with('#')
        || line.starts_with("- ")
        || line.ends_with(':')
        || line.contains(": ")
}

/// 1-based line and column of a byte offset.
fn line_column(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = bytes.get(..at).unwrap_or(bytes);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = at
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |n| n + 1)
        + 1;
    (line, column)
}

/// Every key once per object, and no `null`, anywhere: one pass over the text, before it is
/// read into the configuration's shape.
pub(super) fn check_keys_and_nulls(bytes: &[u8]) -> Result<(), ConfigError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Strict
        .deserialize(&mut de)
        .map_err(|e| json_error(bytes, &e))?;
    de.end().map_err(|e| json_error(bytes, &e))
}

/// A serde_json error as a [`ConfigError`] naming the key at its position.
pub(super) fn json_error(bytes: &[u8], e: &serde_json::Error) -> ConfigError {
    ConfigError::Json {
        path: json_path::path_at(bytes, e.line(), e.column()),
        line: e.line(),
        column: e.column(),
        message: friendly(&strip_position(&e.to_string())),
    }
}

/// serde_json appends " at line L column C" to its messages; the position is reported apart.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg).to_string(),
        None => msg.to_string(),
    }
}

/// serde's messages in the configuration's words: `expected <type>, found <value>`, with
/// JSON's names for types (`an object`, `an array`) instead of Rust's (`u8`, `a map`).
pub(super) fn friendly(msg: &str) -> String {
    match msg {
        "expected value" => {
            return "expected a JSON value (a string in double quotes, a number, true, false, an object or an array)".into()
        }
        "key must be a string" => {
            return "expected a key in double quotes (the configuration is JSON, not YAML)".into()
        }
        _ => {}
    }
    let rest = msg
        .strip_prefix("invalid type: ")
        .or_else(|| msg.strip_prefix("invalid value: "));
    let Some((found, expected)) = rest.and_then(|r| r.split_once(", expected ")) else {
        return msg.to_string();
    };
    let expected = match expected {
        "u8" => "an integer from 0 to 255",
        "u16" => "an integer from 0 to 65535",
        "u32" => "an integer from 0 to 4294967295",
        "u64" => "an integer from 0 to 18446744073709551615",
        "a boolean" => "true or false",
        "a sequence" => "an array",
        "a map" => "an object",
        other => other,
    };
    let found = match found {
        "sequence" => "an array".to_string(),
        "map" => "an object".to_string(),
        f if f.starts_with("string ") => f.to_string(),
        f => f.replace("floating point", "number").replace('`', ""),
    };
    format!("expected {expected}, found {found}")
}

/// The pre-pass: walks any JSON value, refusing `null` and a key seen twice in one object.
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Strict)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(NULL))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Strict)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(de::Error::custom(format_args!(
                    "`{key}` is given twice in the same object (JSON keys must be unique; one value would silently replace the other)"
                )));
            }
            seen.insert(key);
            map.next_value_seed(Strict)?;
        }
        Ok(())
    }
}

/// Reads a struct from an object only: serde's derived structs also read an array,
/// positionally. For `#[serde(default, deserialize_with = "object")]` on an `Option` field.
pub(crate) fn object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Object(PhantomData).deserialize(d).map(Some)
}

/// An array of structs, each from an object only (see [`object`]).
pub(crate) fn objects<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_seq(Objects(PhantomData)).map(Some)
}

/// A struct `T`, from an object only.
pub(crate) struct Object<T>(pub(crate) PhantomData<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Object<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Object<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

struct Objects<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Objects<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut all = Vec::new();
        while let Some(one) = seq.next_element_seed(Object(PhantomData))? {
            all.push(one);
        }
        Ok(all)
    }
}

/// A closed set of names (`mode`, `action`, `trust_level`, ...), read from a string only.
pub(crate) trait Named: Sized + Copy + 'static {
    const ALL: &'static [Self];
    const NAMES: &'static [&'static str];
    fn name(self) -> &'static str;
}

/// Implements `Deserialize` for a [`Named`] set: a string of the set, or an error that names
/// the set (`expected one of "enforce", "monitor", found integer 1`).
macro_rules! deserialize_named {
    ($($t:ty),+ $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::config::strict::named(d)
            }
        }
    )+};
}
pub(crate) use deserialize_named;

pub(crate) fn named<'de, D: Deserializer<'de>, T: Named>(d: D) -> Result<T, D::Error> {
    d.deserialize_str(NamedVisitor(PhantomData))
}

struct NamedVisitor<T>(PhantomData<T>);

impl<T: Named> Visitor<'_> for NamedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("one of ")?;
        for (i, n) in T::NAMES.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "\"{n}\"")?;
        }
        Ok(())
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        T::ALL
            .iter()
            .copied()
            .find(|v| v.name() == s)
            .ok_or_else(|| E::unknown_variant(s, T::NAMES))
    }
}
