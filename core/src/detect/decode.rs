//! Decoded views of encoded input: percent-encoding (`jane%40example.com`, `+` for a space in
//! forms and query strings) and JSON escapes (`"jane\u0040example.com"`). The agent sees the
//! decoded value, so the scanner must too. A view remembers where each decoded byte came from,
//! so that what is found maps back to the bytes to scrub.
//!
//! Views are made only when the input holds an escape; most inputs are scanned once, as is.

use std::ops::Range;

/// Which encodings to undo.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decoding {
    /// `%XX` escapes.
    pub percent: bool,
    /// `+` means a space (`application/x-www-form-urlencoded`, query strings).
    pub plus_is_space: bool,
    /// JSON string escapes (`\uXXXX`, surrogate pairs, `\n`, `\"`, ...).
    pub json: bool,
}

/// A decoded copy of an input. `segments` maps decoded offsets back to input offsets: each
/// starts at a decoded offset; a literal run advances one input byte per decoded byte, an
/// escape stands for `raw_len` input bytes.
#[derive(Debug)]
pub struct View {
    pub bytes: Vec<u8>,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    decoded: usize,
    raw: usize,
    /// 0 for a literal run; the length of the escape in the input otherwise.
    raw_len: usize,
}

impl View {
    /// The input range a decoded range came from.
    pub fn raw_span(&self, span: &Range<usize>) -> Range<usize> {
        let start = self.raw_unit(span.start).start;
        let end = self
            .raw_unit(span.end.saturating_sub(1).max(span.start))
            .end;
        start..end.max(start)
    }

    /// The input bytes that produced the decoded byte at `d`.
    fn raw_unit(&self, d: usize) -> Range<usize> {
        let idx = self
            .segments
            .partition_point(|s| s.decoded <= d)
            .saturating_sub(1);
        match self.segments.get(idx) {
            Some(s) if s.raw_len == 0 => {
                let r = s.raw + (d - s.decoded);
                r..r + 1
            }
            Some(s) => s.raw..s.raw + s.raw_len,
            None => d..d + 1,
        }
    }
}

/// The decoded view of `input`, or `None` when there is nothing to decode.
pub fn view(input: &[u8], how: Decoding) -> Option<View> {
    let needs = (how.percent && input.contains(&b'%'))
        || (how.plus_is_space && input.contains(&b'+'))
        || (how.json && input.windows(2).any(|w| w == b"\\u"));
    if !needs {
        return None;
    }
    let mut out = View {
        bytes: Vec::with_capacity(input.len()),
        segments: Vec::new(),
    };
    let mut literal_open = false;
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        let escape = match b {
            b'%' if how.percent => percent(input, i).map(|v| (Decoded::Byte(v), 3)),
            b'+' if how.plus_is_space => Some((Decoded::Byte(b' '), 1)),
            b'\\' if how.json => json_escape(input, i),
            _ => None,
        };
        match escape {
            Some((value, raw_len)) => {
                out.segments.push(Segment {
                    decoded: out.bytes.len(),
                    raw: i,
                    raw_len,
                });
                value.push_to(&mut out.bytes);
                literal_open = false;
                i += raw_len;
            }
            None => {
                if !literal_open {
                    out.segments.push(Segment {
                        decoded: out.bytes.len(),
                        raw: i,
                        raw_len: 0,
                    });
                    literal_open = true;
                }
                out.bytes.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

enum Decoded {
    Byte(u8),
    Char(char),
}

impl Decoded {
    fn push_to(&self, out: &mut Vec<u8>) {
        match self {
            Decoded::Byte(b) => out.push(*b),
            Decoded::Char(c) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

fn hex(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

fn hex_n(input: &[u8], at: usize, n: usize) -> Option<u32> {
    input
        .get(at..at.checked_add(n)?)?
        .iter()
        .try_fold(0u32, |acc, &b| Some(acc * 16 + hex(b)?))
}

fn percent(input: &[u8], i: usize) -> Option<u8> {
    u8::try_from(hex_n(input, i + 1, 2)?).ok()
}

/// A JSON escape at `i` (the backslash): its value and length in the input.
fn json_escape(input: &[u8], i: usize) -> Option<(Decoded, usize)> {
    let simple = |c: u8| Some((Decoded::Byte(c), 2));
    match input.get(i + 1)? {
        b'"' => simple(b'"'),
        b'\\' => simple(b'\\'),
        b'/' => simple(b'/'),
        b'b' => simple(0x08),
        b'f' => simple(0x0c),
        b'n' => simple(b'\n'),
        b'r' => simple(b'\r'),
        b't' => simple(b'\t'),
        b'u' => {
            let hi = hex_n(input, i + 2, 4)?;
            if (0xD800..0xDC00).contains(&hi) {
                // A surrogate pair is one character.
                if input.get(i + 6..i + 8) == Some(b"\\u") {
                    if let Some(lo) =
                        hex_n(input, i + 8, 4).filter(|lo| (0xDC00..0xE000).contains(lo))
                    {
                        let c = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
                        return Some((Decoded::Char(c.unwrap_or('\u{FFFD}')), 12));
                    }
                }
                return Some((Decoded::Char('\u{FFFD}'), 6));
            }
            Some((Decoded::Char(char::from_u32(hi).unwrap_or('\u{FFFD}')), 6))
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    const URL: Decoding = Decoding {
        percent: true,
        plus_is_space: true,
        json: false,
    };
    const JSON: Decoding = Decoding {
        percent: false,
        plus_is_space: false,
        json: true,
    };

    #[test]
    fn nothing_to_decode_means_no_view() {
        assert!(view(b"plain text @ 4111", URL).is_none());
        assert!(view(br#"{"a":"b\n"}"#, JSON).is_none());
    }

    #[test]
    fn percent_and_plus_map_back() {
        let raw = "q=jane%40example.com&c=4111+1111";
        let v = view(raw.as_bytes(), URL).unwrap();
        assert_eq!(v.bytes, b"q=jane@example.com&c=4111 1111");
        // "jane@example.com" in the view is "jane%40example.com" in the input.
        let span = v.raw_span(&(2..18));
        assert_eq!(&raw[span], "jane%40example.com");
        let span = v.raw_span(&(21..30));
        assert_eq!(&raw[span], "4111+1111");
        // Invalid escapes stay as they are.
        assert_eq!(view(b"100%+x%zz%4", URL).unwrap().bytes, b"100% x%zz%4");
    }

    #[test]
    fn json_escapes_map_back() {
        let raw = r#"{"e":"jane\u0040example.com","x":"\ud83d\ude00\/\u00e9"}"#;
        let v = view(raw.as_bytes(), JSON).unwrap();
        let text = String::from_utf8(v.bytes.clone()).unwrap();
        assert_eq!(text, "{\"e\":\"jane@example.com\",\"x\":\"😀/é\"}");
        let start = text.find("jane").unwrap();
        let span = v.raw_span(&(start..start + "jane@example.com".len()));
        assert_eq!(&raw[span], r"jane\u0040example.com");
        // A lone surrogate does not break decoding.
        let v = view(br#""\ud800x""#, JSON).unwrap();
        assert_eq!(String::from_utf8(v.bytes).unwrap(), "\"\u{FFFD}x\"");
    }
}
