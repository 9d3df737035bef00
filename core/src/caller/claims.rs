//! The verified claims of a JWT, as Envoy's `jwt_authn` filter puts them in dynamic metadata
//! (`payload_in_metadata`): the filter never sees, let alone decodes, the token itself.
//!
//! Envoy 1.40 hands the Wasm VM the whole dynamic metadata as protobuf wire bytes
//! (`envoy.config.core.v3.Metadata`): [`Claims::from_metadata`] finds the payload's
//! `google.protobuf.Value` in it ([`Claims::from_value_bytes`]), decoded with bounded depth and
//! size, never a panic ([`decode_struct`], [`decode_value`]); [`Claims::from_json`] builds
//! claims from a JSON object (tests, and any other source).
//!
//! A claim keeps what rules and the directory compare: a string, a number, a boolean, a list
//! of strings; anything else (objects, mixed lists, values over the bounds) is
//! [`ClaimValue::Other`]: present, but equal to nothing.

use serde_json::{Map, Number, Value};

/// At most this many claims are kept (in name order); real tokens carry a few dozen.
pub const MAX_CLAIMS: usize = 256;
/// A claim name longer than this is dropped.
pub const MAX_CLAIM_NAME_BYTES: usize = 256;
/// A string claim (or list member) longer than this is kept as [`ClaimValue::Other`].
pub const MAX_CLAIM_STRING_BYTES: usize = 4096;
/// A list with more members than this is kept as [`ClaimValue::Other`].
pub const MAX_CLAIM_LIST: usize = 256;
/// The largest protobuf payload decoded (`jwt_authn` payloads are a few hundred bytes).
pub const MAX_STRUCT_BYTES: usize = 64 * 1024;
/// The deepest nesting of objects and lists (`Struct`, `ListValue`) decoded.
pub const MAX_STRUCT_DEPTH: usize = 32;

/// One claim's value, as far as the filter compares it.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimValue {
    Str(Box<str>),
    Number(f64),
    Bool(bool),
    /// An array whose members are all strings (`groups`, `roles`, `permitted_actions`).
    StrList(Box<[Box<str>]>),
    /// Present, but none of the above (an object, a mixed list, `null`, over the bounds).
    Other,
}

impl ClaimValue {
    fn of(v: &Value) -> ClaimValue {
        match v {
            Value::String(s) if s.len() <= MAX_CLAIM_STRING_BYTES => {
                ClaimValue::Str(s.as_str().into())
            }
            Value::Number(n) => n.as_f64().map_or(ClaimValue::Other, ClaimValue::Number),
            Value::Bool(b) => ClaimValue::Bool(*b),
            Value::Array(a) if a.len() <= MAX_CLAIM_LIST => {
                let list: Option<Vec<Box<str>>> = a
                    .iter()
                    .map(|m| match m {
                        Value::String(s) if s.len() <= MAX_CLAIM_STRING_BYTES => {
                            Some(s.as_str().into())
                        }
                        _ => None,
                    })
                    .collect();
                list.map_or(ClaimValue::Other, |l| ClaimValue::StrList(l.into()))
            }
            _ => ClaimValue::Other,
        }
    }

    /// The string, if the claim is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ClaimValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the claim says `want`: a string equal to it, a list of strings holding it, a
    /// boolean written `true`/`false`, or an integer written in decimal (`3`). How the
    /// directory's `claims` match (their values are strings in the configuration).
    pub fn says(&self, want: &str) -> bool {
        match self {
            ClaimValue::Str(s) => &**s == want,
            ClaimValue::StrList(l) => l.iter().any(|s| &**s == want),
            ClaimValue::Bool(b) => want == if *b { "true" } else { "false" },
            ClaimValue::Number(n) => {
                n.fract() == 0.0
                    && n.abs() < 9.0e15
                    && want.parse::<i64>().ok().map(|w| w as f64) == Some(*n)
            }
            ClaimValue::Other => false,
        }
    }

    /// A small integer: a number without fraction, or a string of decimal digits, in
    /// `0..=max`. How a `tier` claim is read.
    pub fn small_int(&self, max: u8) -> Option<u8> {
        let n = match self {
            ClaimValue::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(max) => {
                // In 0..=max, so the conversion is exact.
                u8::try_from(*n as i64).ok()?
            }
            ClaimValue::Str(s)
                if !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit()) =>
            {
                s.parse::<u8>().ok()?
            }
            _ => return None,
        };
        (n <= max).then_some(n)
    }
}

/// A JWT's verified claims, by name (sorted, for binary search).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims {
    sorted: Box<[(Box<str>, ClaimValue)]>,
}

impl Claims {
    /// The claims of a JSON object (the payload as `jwt_authn` verified it). Names over
    /// [`MAX_CLAIM_NAME_BYTES`] are dropped; at most [`MAX_CLAIMS`] are kept, the first in
    /// name order.
    pub fn from_json(payload: &Map<String, Value>) -> Claims {
        let mut sorted: Vec<(Box<str>, ClaimValue)> = payload
            .iter()
            .filter(|(k, _)| k.len() <= MAX_CLAIM_NAME_BYTES)
            .map(|(k, v)| (k.as_str().into(), ClaimValue::of(v)))
            .collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        sorted.dedup_by(|a, b| a.0 == b.0);
        sorted.truncate(MAX_CLAIMS);
        Claims {
            sorted: sorted.into(),
        }
    }

    /// The claims of a `google.protobuf.Value` whose `struct_value` is the payload, or `None`.
    pub fn from_value_bytes(bytes: &[u8]) -> Option<Claims> {
        match decode_value(bytes) {
            Ok(Value::Object(m)) => Some(Claims::from_json(&m)),
            _ => None,
        }
    }

    /// The claims `jwt_authn` put in the stream's dynamic metadata: `bytes` is the whole
    /// metadata in protobuf wire format (`envoy.config.core.v3.Metadata`, `map<string, Struct>
    /// filter_metadata = 1`, what Envoy 1.40 answers to `get_property(["metadata"])`), the
    /// claims are the Struct at `namespace` → `payload_key` (the provider's
    /// `payload_in_metadata`). `None` when that is absent or not a well-formed Struct: no
    /// verified claims. Other namespaces are skipped, not decoded.
    pub fn from_metadata(bytes: &[u8], namespace: &str, payload_key: &str) -> Option<Claims> {
        let filter = entry_value(bytes, namespace.as_bytes())?;
        let payload = entry_value(filter, payload_key.as_bytes())?;
        Claims::from_value_bytes(payload)
    }

    /// The claim `name`, if present.
    pub fn get(&self, name: &str) -> Option<&ClaimValue> {
        self.sorted
            .binary_search_by(|(k, _)| (**k).cmp(name))
            .ok()
            .and_then(|i| self.sorted.get(i))
            .map(|(_, v)| v)
    }

    /// A string claim (`iss`, `sub`).
    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(ClaimValue::as_str)
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }
}

/// Why protobuf bytes were not decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PbError {
    /// Over [`MAX_STRUCT_BYTES`].
    TooLarge,
    /// Nested deeper than [`MAX_STRUCT_DEPTH`].
    TooDeep,
    /// Not the wire format of the message (a truncated field, a bad varint, a deprecated
    /// group, a string that is not UTF-8, a map entry without key).
    Malformed,
}

/// A `google.protobuf.Struct` (`struct.proto`: `Struct { map<string, Value> fields = 1; }`,
/// each map entry a message `{ string key = 1; Value value = 2; }`) from its wire format
/// (<https://protobuf.dev/programming-guides/encoding/>), as a JSON object. Unknown fields are
/// skipped, as the encoding requires; a key given twice keeps its last value (protobuf's map
/// semantics). Never panics; bounded by [`MAX_STRUCT_BYTES`] and [`MAX_STRUCT_DEPTH`].
pub fn decode_struct(bytes: &[u8]) -> Result<Map<String, Value>, PbError> {
    if bytes.len() > MAX_STRUCT_BYTES {
        return Err(PbError::TooLarge);
    }
    struct_at(bytes, 0)
}

/// A `google.protobuf.Value` from its wire format, as JSON (see [`decode_struct`]).
pub fn decode_value(bytes: &[u8]) -> Result<Value, PbError> {
    if bytes.len() > MAX_STRUCT_BYTES {
        return Err(PbError::TooLarge);
    }
    value_at(bytes, 0)
}

/// Protobuf wire types (encoding guide, "Message Structure").
const VARINT: u64 = 0;
const I64: u64 = 1;
const LEN: u64 = 2;
const I32: u64 = 5;

/// A reader over one message's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
}

/// One field's value.
enum Field<'a> {
    Varint(u64),
    I64([u8; 8]),
    Len(&'a [u8]),
    I32,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, PbError> {
        let mut v: u64 = 0;
        for i in 0..10u32 {
            let (&b, rest) = self.bytes.split_first().ok_or(PbError::Malformed)?;
            self.bytes = rest;
            // The tenth byte may carry only the top bit of a 64-bit value.
            if i == 9 && b > 1 {
                return Err(PbError::Malformed);
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(PbError::Malformed)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PbError> {
        if n > self.bytes.len() {
            return Err(PbError::Malformed);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// The next field's number and value, or `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, Field<'a>)>, PbError> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let tag = self.varint()?;
        let number = tag >> 3;
        if number == 0 {
            return Err(PbError::Malformed);
        }
        let field = match tag & 7 {
            VARINT => Field::Varint(self.varint()?),
            I64 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Field::I64(a)
            }
            LEN => {
                let n = usize::try_from(self.varint()?).map_err(|_| PbError::Malformed)?;
                Field::Len(self.take(n)?)
            }
            I32 => {
                self.take(4)?;
                Field::I32
            }
            // 3 and 4 are the deprecated groups; 6 and 7 do not exist.
            _ => return Err(PbError::Malformed),
        };
        Ok(Some((number, field)))
    }
}

fn struct_at(bytes: &[u8], depth: usize) -> Result<Map<String, Value>, PbError> {
    if depth > MAX_STRUCT_DEPTH {
        return Err(PbError::TooDeep);
    }
    let mut map = Map::new();
    let mut r = Reader { bytes };
    while let Some((number, field)) = r.field()? {
        match (number, field) {
            (1, Field::Len(entry)) => {
                let (key, value) = entry_at(entry, depth)?;
                map.insert(key, value);
            }
            (1, _) => return Err(PbError::Malformed),
            _ => {}
        }
    }
    Ok(map)
}

/// A map entry: `key = 1` (string), `value = 2` (Value; absent is the default Value, which
/// has no kind set: `null`).
fn entry_at(bytes: &[u8], depth: usize) -> Result<(String, Value), PbError> {
    let mut key = None;
    let mut value = Value::Null;
    let mut r = Reader { bytes };
    while let Some((number, field)) = r.field()? {
        match (number, field) {
            (1, Field::Len(k)) => key = Some(utf8(k)?),
            (2, Field::Len(v)) => value = value_at(v, depth)?,
            (1 | 2, _) => return Err(PbError::Malformed),
            _ => {}
        }
    }
    // proto3 would read a missing key as "": a payload without names is not a JWT payload.
    Ok((key.ok_or(PbError::Malformed)?, value))
}

/// A `Value`: `null_value = 1` (enum), `number_value = 2` (double), `string_value = 3`,
/// `bool_value = 4`, `struct_value = 5`, `list_value = 6`; a oneof, so the last one wins.
fn value_at(bytes: &[u8], depth: usize) -> Result<Value, PbError> {
    let mut value = Value::Null;
    let mut r = Reader { bytes };
    while let Some((number, field)) = r.field()? {
        value = match (number, field) {
            (1, Field::Varint(_)) => Value::Null,
            (2, Field::I64(b)) => {
                // JSON has no NaN or infinities: such a number is `null`.
                Number::from_f64(f64::from_le_bytes(b)).map_or(Value::Null, Value::Number)
            }
            (3, Field::Len(s)) => Value::String(utf8(s)?),
            (4, Field::Varint(b)) => Value::Bool(b != 0),
            (5, Field::Len(s)) => Value::Object(struct_at(s, depth + 1)?),
            (6, Field::Len(l)) => Value::Array(list_at(l, depth + 1)?),
            (1..=6, _) => return Err(PbError::Malformed),
            _ => continue,
        };
    }
    Ok(value)
}

/// A `ListValue`: `repeated Value values = 1`.
fn list_at(bytes: &[u8], depth: usize) -> Result<Vec<Value>, PbError> {
    if depth > MAX_STRUCT_DEPTH {
        return Err(PbError::TooDeep);
    }
    let mut list = Vec::new();
    let mut r = Reader { bytes };
    while let Some((number, field)) = r.field()? {
        match (number, field) {
            (1, Field::Len(v)) => list.push(value_at(v, depth)?),
            (1, _) => return Err(PbError::Malformed),
            _ => {}
        }
    }
    Ok(list)
}

/// The value bytes of the map entry (field 1 of the message in `bytes`: `{key = 1, value =
/// 2}`) whose key is `key`; the last such entry wins, as for protobuf maps. `None` when absent
/// or when the bytes are malformed.
fn entry_value<'a>(bytes: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    map_entry(bytes, key).ok().flatten()
}

/// [`entry_value`] telling malformed bytes apart from an absent key: the value bytes of the
/// map entry `key` in the message `bytes` (field 1, `{key = 1, value = 2}`; the last entry
/// wins), `Ok(None)` when there is none. For `envoy.config.core.v3.Metadata` (its
/// `filter_metadata` namespaces) and `google.protobuf.Struct` (its fields).
pub fn map_entry<'a>(bytes: &'a [u8], key: &[u8]) -> Result<Option<&'a [u8]>, PbError> {
    map_entry_at(bytes, 1, key)
}

/// [`map_entry`] in the map field numbered `field` (`Metadata.typed_filter_metadata` is 2).
pub fn map_entry_at<'a>(
    bytes: &'a [u8],
    field: u64,
    key: &[u8],
) -> Result<Option<&'a [u8]>, PbError> {
    let mut found = None;
    let mut r = Reader { bytes };
    while let Some((number, value)) = r.field()? {
        let Field::Len(entry) = value else {
            continue;
        };
        if number != field {
            continue;
        }
        let (mut k, mut v) = (None, None);
        let mut e = Reader { bytes: entry };
        while let Some((n, f)) = e.field()? {
            match (n, f) {
                (1, Field::Len(b)) => k = Some(b),
                (2, Field::Len(b)) => v = Some(b),
                _ => {}
            }
        }
        if k == Some(key) {
            found = Some(v.unwrap_or_default());
        }
    }
    Ok(found)
}

fn utf8(b: &[u8]) -> Result<String, PbError> {
    String::from_utf8(b.to_vec()).map_err(|_| PbError::Malformed)
}

/// The wire format of a JSON value as a `google.protobuf.Value`, and of an object as a
/// `Struct`: what Envoy would hand over, for tests.
#[cfg(test)]
pub(crate) mod encode {
    use serde_json::{Map, Value};

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    pub fn len_field(number: u64, bytes: &[u8], out: &mut Vec<u8>) {
        varint(number << 3 | 2, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }

    pub fn value(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        match v {
            Value::Null => {
                varint(1 << 3, &mut out);
                varint(0, &mut out);
            }
            Value::Number(n) => {
                varint(2 << 3 | 1, &mut out);
                out.extend_from_slice(&n.as_f64().unwrap().to_le_bytes());
            }
            Value::String(s) => len_field(3, s.as_bytes(), &mut out),
            Value::Bool(b) => {
                varint(4 << 3, &mut out);
                varint(u64::from(*b), &mut out);
            }
            Value::Object(m) => len_field(5, &structure(m), &mut out),
            Value::Array(a) => {
                let mut list = Vec::new();
                for x in a {
                    len_field(1, &value(x), &mut list);
                }
                len_field(6, &list, &mut out);
            }
        }
        out
    }

    pub fn structure(m: &Map<String, Value>) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, v) in m {
            let mut entry = Vec::new();
            len_field(1, k.as_bytes(), &mut entry);
            len_field(2, &value(v), &mut entry);
            len_field(1, &entry, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn payload() -> Map<String, Value> {
        obj(json!({
            "iss": "https://idp.example", "sub": "user-1", "aud": ["a", "b"], "exp": 1_700_000_000,
            "tier": 3, "tier_s": "4", "role": "admin", "email_verified": true,
            "permitted_actions": ["read_file", "delete_file"], "mixed": ["a", 1],
            "realm": {"roles": ["x"]}, "nothing": null, "pi": 3.5
        }))
    }

    /// The bytes Envoy 1.40 answered to `get_property(["metadata"])` after `jwt_authn` verified
    /// a token (measured; /work/notes and docs/configuration.md say how).
    const ENVOY_METADATA_HEX: &[&str] = &[
        "0af6020a1c656e766f792e66696c746572732e687474702e6a77745f617574686e12d5020a420a0a6a77745f68656164",
        "657212342a320a0e0a03616c6712071a0545533235360a0c0a0374797012051a034a57540a120a036b6964120b1a0969",
        "6174702d746573740a8e020a0b6a77745f7061796c6f616412fe012afb010a1d0a066e657374656412132a110a0f0a04",
        "726f6c6512071a0561646d696e0a0d0a06746965725f7312031a01330a130a03617564120c1a0a696174702d6167656e",
        "740a0f0a0373756212081a06757365722d310a1c0a0369737312151a1368747470733a2f2f6964702e6578616d706c65",
        "0a0f0a02666c120911000000000000f83f0a100a036269671209110000a8e1e0fe06420a100a036961741209110000c0",
        "0d50c3da410a110a047469657212091100000000000000400a0a0a04666c6167120220010a100a036578701209110000",
        "009353c3da410a210a117065726d69747465645f616374696f6e73120c320a0a031a01610a031a0162",
    ];

    #[test]
    fn claims_from_envoys_own_metadata_bytes() {
        let hex: String = ENVOY_METADATA_HEX.concat();
        let bytes: Vec<u8> = hex
            .as_bytes()
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect();
        let c = Claims::from_metadata(&bytes, "envoy.filters.http.jwt_authn", "jwt_payload")
            .expect("claims");
        assert_eq!(c.str("sub"), Some("user-1"));
        assert_eq!(c.str("iss"), Some("https://idp.example"));
        assert_eq!(c.get("tier"), Some(&ClaimValue::Number(2.0)));
        assert_eq!(c.get("tier").and_then(|t| t.small_int(9)), Some(2));
        assert_eq!(c.get("flag"), Some(&ClaimValue::Bool(true)));
        assert_eq!(
            c.get("permitted_actions"),
            Some(&ClaimValue::StrList(vec!["a".into(), "b".into()].into()))
        );
        assert_eq!(c.get("tier_s").and_then(|t| t.small_int(9)), Some(3));
        // The header is another key of the same namespace; another namespace is absent.
        let h = Claims::from_metadata(&bytes, "envoy.filters.http.jwt_authn", "jwt_header")
            .expect("header");
        assert_eq!(h.str("alg"), Some("ES256"));
        assert!(Claims::from_metadata(&bytes, "other", "jwt_payload").is_none());
        assert!(Claims::from_metadata(&bytes, "envoy.filters.http.jwt_authn", "nope").is_none());
        // Every truncation is refused or partial, never a panic.
        for n in 0..bytes.len() {
            let _ =
                Claims::from_metadata(&bytes[..n], "envoy.filters.http.jwt_authn", "jwt_payload");
        }
    }

    #[test]
    fn claims_from_json() {
        let c = Claims::from_json(&payload());
        assert_eq!(c.str("iss"), Some("https://idp.example"));
        assert_eq!(c.str("sub"), Some("user-1"));
        assert!(c.get("aud").unwrap().says("b"));
        assert!(!c.get("aud").unwrap().says("c"));
        assert!(c.get("email_verified").unwrap().says("true"));
        assert!(c.get("tier").unwrap().says("3"));
        assert!(!c.get("pi").unwrap().says("3"));
        assert_eq!(c.get("mixed"), Some(&ClaimValue::Other));
        assert_eq!(c.get("realm"), Some(&ClaimValue::Other));
        assert_eq!(c.get("nothing"), Some(&ClaimValue::Other));
        assert!(!c.get("realm").unwrap().says(""));
        assert_eq!(c.get("tier").unwrap().small_int(9), Some(3));
        assert_eq!(c.get("tier_s").unwrap().small_int(9), Some(4));
        assert_eq!(c.get("pi").unwrap().small_int(9), None);
        assert_eq!(c.get("missing"), None);
        assert_eq!(ClaimValue::Number(10.0).small_int(9), None);
        assert_eq!(ClaimValue::Number(-1.0).small_int(9), None);
        assert_eq!(ClaimValue::Str("10".into()).small_int(9), None);
        assert_eq!(ClaimValue::Str("-1".into()).small_int(9), None);
        assert_eq!(ClaimValue::Str("".into()).small_int(9), None);
        assert_eq!(ClaimValue::Str("09".into()).small_int(9), Some(9));
        assert_eq!(ClaimValue::Number(f64::NAN).small_int(9), None);
    }

    #[test]
    fn claims_are_bounded() {
        let mut m = Map::new();
        for i in 0..1000 {
            m.insert(format!("c{i:04}"), json!(i));
        }
        m.insert("x".repeat(MAX_CLAIM_NAME_BYTES + 1), json!(1));
        m.insert("long".into(), json!("v".repeat(MAX_CLAIM_STRING_BYTES + 1)));
        m.insert("biglist".into(), json!(vec!["a"; MAX_CLAIM_LIST + 1]));
        let c = Claims::from_json(&m);
        assert_eq!(c.len(), MAX_CLAIMS);
        let m = obj(json!({"long": "v".repeat(MAX_CLAIM_STRING_BYTES + 1),
                           "biglist": vec!["a"; MAX_CLAIM_LIST + 1]}));
        let c = Claims::from_json(&m);
        assert_eq!(c.get("long"), Some(&ClaimValue::Other));
        assert_eq!(c.get("biglist"), Some(&ClaimValue::Other));
    }

    #[test]
    fn struct_wire_format_round_trips() {
        let p = payload();
        let bytes = encode::structure(&p);
        let mut want = p.clone();
        want.insert("exp".into(), json!(1_700_000_000.0));
        want.insert("tier".into(), json!(3.0));
        want.insert("mixed".into(), json!(["a", 1.0]));
        assert_eq!(decode_struct(&bytes).unwrap(), want);
        assert_eq!(
            decode_struct(&bytes).ok().map(|m| Claims::from_json(&m)),
            Some(Claims::from_json(&p))
        );
        let v = encode::value(&Value::Object(p.clone()));
        assert_eq!(Claims::from_value_bytes(&v), Some(Claims::from_json(&p)));
        // A Value that is not a struct is no payload; an empty Struct is no claims.
        assert_eq!(Claims::from_value_bytes(&encode::value(&json!("x"))), None);
        assert_eq!(
            decode_struct(b"").ok().map(|m| Claims::from_json(&m)),
            Some(Claims::default())
        );
    }

    #[test]
    fn unknown_fields_are_skipped_and_malformed_bytes_refused() {
        // Field 9 as varint, i64, len and i32 around one entry.
        let mut bytes = vec![
            9 << 3,
            1,
            9 << 3 | 1,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            9 << 3 | 2,
            1,
            0,
        ];
        bytes.extend(encode::structure(&obj(json!({"sub": "u"}))));
        bytes.extend([9 << 3 | 5, 0, 0, 0, 0]);
        assert_eq!(decode_struct(&bytes).unwrap(), obj(json!({"sub": "u"})));
        for bad in [
            &[0x0a][..],                     // a length missing
            &[0x0a, 5, 0],                   // a length past the end
            &[0x0b],                         // a group
            &[0x0e],                         // wire type 6
            &[0x00, 0x00],                   // field number 0
            &[0xff; 11][..],                 // a varint too long
            &[0x08, 1],                      // fields is not a varint
            &[0x0a, 2, 0x12, 0],             // an entry without key
            &[0x0a, 4, 0x0a, 2, 0xff, 0xfe], // a key that is not UTF-8
        ] {
            assert_eq!(decode_struct(bad), Err(PbError::Malformed), "{bad:?}");
        }
        assert_eq!(
            decode_struct(&vec![0; MAX_STRUCT_BYTES + 1]),
            Err(PbError::TooLarge)
        );
        // Nesting beyond the bound.
        let mut v = json!("x");
        for _ in 0..MAX_STRUCT_DEPTH {
            v = json!({"a": [v]});
        }
        assert_eq!(decode_value(&encode::value(&v)), Err(PbError::TooDeep));
        let mut v = json!("x");
        for _ in 0..(MAX_STRUCT_DEPTH / 2) {
            v = json!({"a": [v]});
        }
        assert!(decode_value(&encode::value(&v)).is_ok());
    }

    /// Random bytes, and random mutations of a real payload, never panic.
    #[test]
    fn random_bytes_never_panic() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = encode::structure(&payload());
        for _ in 0..20_000 {
            let len = (next() % 64) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let _ = decode_struct(&bytes);
            let _ = decode_value(&bytes);
            let mut m = base.clone();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() as usize) % m.len();
                m[i] = next() as u8;
            }
            m.truncate((next() as usize) % (m.len() + 1));
            let _ = decode_struct(&m);
        }
    }
}
