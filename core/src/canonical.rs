//! The JSON Canonicalization Scheme (JCS, RFC 8785), and the ACVPS certificate digest over
//! its bytes (`X-DC-Digest: sha256:<64 hex>`).
//!
//! RFC 8785 serializes a JSON value the way ECMAScript's `JSON.stringify` does, with object
//! members sorted:
//! * no white space between tokens (§3.2.1);
//! * literals `null`, `true`, `false` (§3.2.2.1);
//! * strings with only `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t` and `\u00xx` (lower-case hex,
//!   for the other controls below U+0020) escaped, everything else literal UTF-8 (§3.2.2.2);
//! * numbers as ECMAScript's `Number.prototype.toString` writes an IEEE 754 double (§3.2.2.3,
//!   ECMA-262 `Number::toString`): the fewest digits that read back as the same double (the
//!   closest such, ties to even), plain notation for decimal exponents in `[-7, 21)`, else
//!   `1e+21` / `1.5e-7`; `-0` is `0`;
//! * object members sorted by their names' UTF-16 code units (§3.2.3), recursively; array
//!   order kept.
//!
//! Two entry points: [`canonicalize_json`] reads a JSON text (numbers correctly rounded from
//! their text, duplicate names refused) and is the one to use for a contract as configured or
//! as the control plane sent it; [`canonicalize`] writes an already parsed
//! [`serde_json::Value`] (exact for the doubles it holds, but serde_json's own reading of a
//! number with more than about 15 significant digits may be one unit in the last place off;
//! see [`canonicalize_json`]).
//!
//! Written here rather than with `serde_jcs` or `serde_json_canonicalizer`: both turn on
//! serde_json's `float_roundtrip` feature for the whole workspace (feature unification) and
//! bring `ryu-js` as a second float formatter. The digits come from Rust's own float
//! formatting (`{:e}` for the fewest digits, `{:.Ne}` for the correctly rounded ones) and
//! Rust's `str::parse::<f64>` (correctly rounded). Checked against RFC 8785 Appendix B and
//! against V8 (Node 20) on 2,200 committed values (`canonical/v8_numbers.csv`) and, once,
//! 420,000 more made by the same script with another seed.
//!
//! Integers are read as I-JSON (RFC 7493 §2.2) asks: a `u64`/`i64` beyond 2^53 is written as
//! the double it rounds to (`18446744073709551615` → `18446744073709552000`), as a JavaScript
//! producer would. Strings cannot hold lone surrogates (serde_json refuses `"\ud800"`, as
//! RFC 8785 §3.2.2.2 requires). In a `Value`, duplicate member names were already resolved by
//! the parser (serde_json keeps the last one); [`canonicalize_json`] refuses them.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The bytes of `value` in the JSON Canonicalization Scheme (RFC 8785): UTF-8, no white space,
/// members sorted by UTF-16 code units, numbers as ECMAScript writes them.
pub fn canonicalize(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_value(&mut out, value);
    out.into_bytes()
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            // serde_json's map (without `preserve_order`) is sorted by UTF-8 bytes, which is
            // code point order; UTF-16 order differs for names with characters above U+FFFF
            // (surrogates 0xD800.. sort before U+E000..U+FFFF), so sort again (RFC 8785 §3.2.3).
            let entries: Vec<(&String, &Value)> = members.iter().collect();
            let names: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
            let sorted = utf16_order(&names)
                .into_iter()
                .filter_map(|i| entries.get(i));
            out.push('{');
            for (i, (name, member)) in sorted.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                write_value(out, member);
            }
            out.push('}');
        }
    }
}

/// The indices of `names` in the order of their UTF-16 code units (RFC 8785 §3.2.3), stable.
///
/// A bottom-up merge sort written out rather than `sort_by`: each `sort_by` instantiation
/// weighs about 16 KB in the Wasm module, this about a tenth of that. A serde_json map
/// (without `preserve_order`) is already in code point order, which is UTF-16 order unless a
/// name has a character at U+E000..U+FFFF where another has one above U+FFFF; the first pass
/// finds that it is sorted and stops.
fn utf16_order(names: &[&str]) -> Vec<usize> {
    let n = names.len();
    let mut order: Vec<usize> = (0..n).collect();
    let in_order = |a: Option<&usize>, b: Option<&usize>| match (a, b) {
        (Some(&a), Some(&b)) => match (names.get(a), names.get(b)) {
            (Some(x), Some(y)) => x.encode_utf16().le(y.encode_utf16()),
            _ => true,
        },
        _ => true,
    };
    if (1..n).all(|i| in_order(order.get(i - 1), order.get(i))) {
        return order;
    }
    let mut merged = vec![0; n];
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = start.saturating_add(width).min(n);
            let end = start.saturating_add(width.saturating_mul(2)).min(n);
            let (mut i, mut j) = (start, mid);
            for slot in merged.iter_mut().take(end).skip(start) {
                let left = i < mid && (j >= end || in_order(order.get(i), order.get(j)));
                let from = if left { &mut i } else { &mut j };
                if let Some(&v) = order.get(*from) {
                    *slot = v;
                }
                *from += 1;
            }
            start = end;
        }
        std::mem::swap(&mut order, &mut merged);
        width = width.saturating_mul(2);
    }
    order
}

/// A string as RFC 8785 §3.2.2.2 (ECMAScript's `QuoteJSONString`) writes it.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let n = u32::from(c);
                out.push_str("\\u00");
                for nibble in [n >> 4, n & 0xF] {
                    let digit = HEX.get(nibble as usize).copied().unwrap_or(b'0');
                    out.push(char::from(digit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_number(out: &mut String, n: &serde_json::Number) {
    // Integers beyond 2^53 become the double they round to (`as` rounds to nearest, ties to
    // even, as ECMAScript's `ToNumber` does).
    let x = if let Some(u) = n.as_u64() {
        u as f64
    } else if let Some(i) = n.as_i64() {
        i as f64
    } else if let Some(f) = n.as_f64() {
        f
    } else {
        // Only reachable with serde_json's `arbitrary_precision`, which this crate does not use.
        out.push_str(&n.to_string());
        return;
    };
    write_f64(out, x);
}

/// 2^53: every integer of smaller magnitude is a double exactly.
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// ECMA-262 `Number::toString(x)` (radix 10) for a finite double.
fn write_f64(out: &mut String, x: f64) {
    if x == 0.0 || !x.is_finite() {
        // `-0` is `0`. A non-finite double cannot be in a `serde_json::Value` and
        // [`canonicalize_json`] refuses it; `0` keeps this total without a panic.
        out.push('0');
        return;
    }
    if x.fract() == 0.0 && x.abs() < EXACT_INTEGERS {
        // The common case, and the same text as the general one: an integer below 10^16 has
        // no trailing zeros beyond its digits and no exponent (n <= 16 <= 21).
        out.push_str(&(x as i64).to_string());
        return;
    }
    if x < 0.0 {
        out.push('-');
    }
    let (digits, n) = shortest_digits(x.abs());
    // ECMA-262's names: the value is 0.`digits` × 10^n, with k digits.
    let k = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if k <= n && n <= 21 {
        // Integer: the digits, then n - k zeros.
        out.push_str(&digits);
        for _ in k..n {
            out.push('0');
        }
    } else if 0 < n && n <= 21 {
        // A point inside the digits.
        for (i, d) in digits.chars().enumerate() {
            if i32::try_from(i).unwrap_or(i32::MAX) == n {
                out.push('.');
            }
            out.push(d);
        }
    } else if -6 < n && n <= 0 {
        // `0.` then -n zeros, then the digits.
        out.push_str("0.");
        for _ in n..0 {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        // Exponential: `d[.ddd]e±(n-1)`.
        let mut chars = digits.chars();
        if let Some(first) = chars.next() {
            out.push(first);
        }
        let rest = chars.as_str();
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if n - 1 < 0 { '-' } else { '+' });
        out.push_str(&(n - 1).unsigned_abs().to_string());
    }
}

/// ECMA-262 `Number::toString` step 5 for a positive finite double: the fewest decimal digits
/// `s` (k of them) and the exponent `n` with `s × 10^(n-k)` reading back as `x`; among several
/// such `s`, the one closest to `x`, and on a tie the even one.
///
/// Rust's `{:e}` gives the fewest digits, but on an exact tie it may round up
/// (`1424953923781206.25` → `…206.3`, RFC 8785 Appendix B wants `…206.2`). Rust's `{:.Ne}`
/// rounds the exact binary value correctly, ties to even; that rounding to the same k digits is
/// the closest k-digit decimal, and is taken when it still reads back as `x` (next to a power
/// of two the interval that reads back is lopsided, and the shortest form stands).
fn shortest_digits(x: f64) -> (String, i32) {
    let shortest = format!("{x:e}");
    let Some((digits, n)) = split_exponential(&shortest) else {
        return (String::from("0"), 1);
    };
    let precision = digits.len().saturating_sub(1);
    let nearest = format!("{x:.precision$e}");
    if nearest != shortest && nearest.parse::<f64>() == Ok(x) {
        if let Some(split) = split_exponential(&nearest) {
            return split;
        }
    }
    (digits, n)
}

/// `d.ddde±E` (Rust's exponential form) as its digits without trailing zeros, and n = E + 1.
fn split_exponential(sci: &str) -> Option<(String, i32)> {
    let (mantissa, exponent) = sci.split_once('e')?;
    let exponent = exponent.parse::<i32>().ok()?;
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    Some((digits, exponent.checked_add(1)?))
}

/// Why [`canonicalize_json`] refuses a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanonicalError {
    /// Not one JSON value (RFC 8259), or a string with a lone surrogate escape
    /// (RFC 8785 §3.2.2.2 requires an error).
    Json,
    /// A number out of the range of an IEEE 754 double (`1e400`): RFC 8785 §3.2.2.3 has no form
    /// for it.
    NumberRange,
    /// An object with two members of the same name (I-JSON, RFC 7493 §2.3, which RFC 8785 §3.1
    /// takes as its input).
    DuplicateName,
    /// Arrays and objects nested more than [`MAX_DEPTH`] deep.
    TooDeep,
}

/// The deepest nesting [`canonicalize_json`] reads: serde_json's own limit for a `Value`.
pub const MAX_DEPTH: usize = 128;

impl CanonicalError {
    /// A short fixed name, for log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            CanonicalError::Json => "json",
            CanonicalError::NumberRange => "number_range",
            CanonicalError::DuplicateName => "duplicate_name",
            CanonicalError::TooDeep => "too_deep",
        }
    }
}

/// The JCS bytes (RFC 8785) of the JSON text `text`, reading every number from its own text as
/// the nearest double (correctly rounded, like ECMAScript's `JSON.parse`).
///
/// Prefer this over [`canonicalize`] when the text is at hand: serde_json (without its
/// `float_roundtrip` feature, which this workspace does not turn on) reads a number with more
/// than 15 or so significant digits or a large exponent "best effort", which can be one unit in
/// the last place off (RFC 8785 §3.2.2's own `333333333.33333329` reads as
/// `333333333.33333325`), and another JCS implementation would then hash a different text.
/// Unlike serde_json's `Value`, duplicate member names are refused here rather than resolved.
/// Each nesting level is read again from its text (through `RawValue`), so the work is the
/// size times the depth (serde_json bounds the depth at 128): meant for configuration-time
/// documents such as contracts, not per request.
pub fn canonicalize_json(text: &str) -> Result<Vec<u8>, CanonicalError> {
    let raw: &RawValue = serde_json::from_str(text).map_err(|_| CanonicalError::Json)?;
    let mut out = String::with_capacity(text.len());
    write_raw(&mut out, raw, 0)?;
    Ok(out.into_bytes())
}

fn write_raw(out: &mut String, raw: &RawValue, depth: usize) -> Result<(), CanonicalError> {
    let text = raw
        .get()
        .trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    let opens = matches!(text.as_bytes().first(), Some(b'{' | b'['));
    if opens && depth >= MAX_DEPTH {
        // Checked before reading the level: serde_json skips a `RawValue`'s inside without
        // its recursion limit, and this function recurses.
        return Err(CanonicalError::TooDeep);
    }
    match text.as_bytes().first() {
        Some(b'{') => {
            let Members(members) = serde_json::from_str(text).map_err(|_| CanonicalError::Json)?;
            let names: Vec<&str> = members.iter().map(|(name, _)| name.as_str()).collect();
            let order = utf16_order(&names);
            let sorted_names = order.iter().filter_map(|&i| names.get(i));
            if sorted_names
                .clone()
                .zip(sorted_names.skip(1))
                .any(|(a, b)| a == b)
            {
                return Err(CanonicalError::DuplicateName);
            }
            out.push('{');
            for (i, (name, member)) in order.iter().filter_map(|&i| members.get(i)).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                write_raw(out, member, depth + 1)?;
            }
            out.push('}');
        }
        Some(b'[') => {
            let items: Vec<&RawValue> =
                serde_json::from_str(text).map_err(|_| CanonicalError::Json)?;
            out.push('[');
            for (i, item) in items.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_raw(out, item, depth + 1)?;
            }
            out.push(']');
        }
        Some(b'"') => {
            let s: String = serde_json::from_str(text).map_err(|_| CanonicalError::Json)?;
            write_string(out, &s);
        }
        Some(b't' | b'f' | b'n') => out.push_str(text),
        _ => {
            // serde_json checked the number's syntax; Rust's parse is correctly rounded.
            let x: f64 = text.parse().map_err(|_| CanonicalError::Json)?;
            if !x.is_finite() {
                return Err(CanonicalError::NumberRange);
            }
            write_f64(out, x);
        }
    }
    Ok(())
}

/// An object's members in document order, duplicates kept (serde's maps keep the last).
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

/// The prefix of an ACVPS certificate digest (`X-DC-Digest`).
pub const DIGEST_PREFIX: &str = "sha256:";

/// SHA-256 of canonical bytes.
pub fn sha256(canonical: &[u8]) -> [u8; 32] {
    Sha256::digest(canonical).into()
}

/// `sha256:` + the 64 lower-case hex digits of SHA-256 over `canonical` (the bytes
/// [`canonicalize`] gives): the value of `X-DC-Digest` for that document.
pub fn digest(canonical: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(DIGEST_PREFIX.len() + 64);
    s.push_str(DIGEST_PREFIX);
    for b in sha256(canonical) {
        for nibble in [b >> 4, b & 0xF] {
            s.push(char::from(
                HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}

/// Why a digest header value does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestError {
    /// Not starting with `sha256:` (exactly, lower case: the only algorithm ACVPS names).
    Algorithm,
    /// Not 64 hex digits after the prefix.
    Length,
    /// A character after the prefix that is not a hex digit.
    NotHex,
}

impl DigestError {
    /// A short fixed name, for log lines (never the value itself).
    pub fn as_str(self) -> &'static str {
        match self {
            DigestError::Algorithm => "algorithm",
            DigestError::Length => "length",
            DigestError::NotHex => "not_hex",
        }
    }
}

/// Reads a header value `sha256:<64 hex>` into the 32 bytes it names.
///
/// The prefix must be exactly `sha256:`. The hex digits may be lower or upper case (they name
/// the same bytes, and the comparison is over bytes); the gateway itself always writes lower
/// case ([`digest`]). Nothing is trimmed: Envoy already strips a header value's surrounding
/// white space.
pub fn parse_digest(value: &str) -> Result<[u8; 32], DigestError> {
    let hex = value
        .strip_prefix(DIGEST_PREFIX)
        .ok_or(DigestError::Algorithm)?
        .as_bytes();
    if hex.len() != 64 {
        return Err(DigestError::Length);
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let (Some(hi), Some(lo)) = (
            pair.first().copied().and_then(hex_value),
            pair.get(1).copied().and_then(hex_value),
        ) else {
            return Err(DigestError::NotHex);
        };
        *byte = (hi << 4) | lo;
    }
    Ok(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Whether two digests are equal, in time that does not depend on where they differ (every
/// byte is compared).
pub fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Whether the header value `value` (`sha256:<hex>`) names `expected` (from [`sha256`]); a value
/// that does not parse names nothing.
pub fn digest_matches(value: &str, expected: &[u8; 32]) -> bool {
    parse_digest(value).is_ok_and(|got| digests_equal(&got, expected))
}

#[cfg(test)]
mod tests;
