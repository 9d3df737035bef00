//! The character encoding of a request body, as far as scanning cares: UTF-8 (and anything
//! that is not one of the others), or UTF-16 / UTF-32 of either byte order. A body in UTF-16 or
//! UTF-32 is transcoded to UTF-8 before it is scanned, so that its values are seen (in UTF-16
//! every ASCII character is followed or preceded by a NUL byte, which hides it from a byte scan),
//! and a redacted body is encoded back, placeholders included, in its own encoding.
//!
//! How the encoding is known, first match wins:
//! 1. a byte order mark (RFC 2781 §3.2 for UTF-16; the Unicode Standard §23.8 for UTF-32);
//! 2. a `charset` parameter of the content type naming UTF-16 or UTF-32 (without a byte order:
//!    the NUL pattern below if it tells, else big-endian, RFC 2781 §4.3);
//! 3. the pattern of NUL bytes in the first four bytes (RFC 4627 §3: `00 00 00 xx` UTF-32BE,
//!    `00 xx 00 xx` UTF-16BE, `xx 00 00 00` UTF-32LE, `xx 00 xx 00` UTF-16LE).
//!
//! What does not decode (a lone surrogate, a code point out of range) becomes U+FFFD, and a
//! byte left over at the end is dropped, as lenient decoders (Python's `errors="replace"`,
//! WHATWG's `TextDecoder`) read them: a value next to a broken unit is still a value. A
//! redacted body goes on with U+FFFD in those places. A body whose encoding was found from the
//! NUL pattern alone (no mark, no declared charset) is scanned as bytes when fewer than half of
//! its characters are ASCII: binary data that happens to look like UTF-16 stays bytes. A byte
//! order mark is taken at its word.
//!
//! A declared UTF-16 or UTF-32 without a byte order, and no mark nor NUL pattern at the start,
//! takes the byte order under which more of the body's NUL bytes sit where ASCII characters put
//! them (odd offsets: little-endian), else big-endian (RFC 2781 §4.3).

/// A body's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Charset {
    #[default]
    Utf8,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

/// How a body is encoded: what [`Encoding::encode`] writes text back as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    pub charset: Charset,
    /// The body starts with a byte order mark (not part of the transcoded text).
    pub bom: bool,
}

/// A body transcoded to UTF-8, and how to encode text back like it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcoded {
    pub encoding: Encoding,
    /// The body as UTF-8.
    pub text: Vec<u8>,
}

impl Charset {
    /// What a content type's `charset` parameter says (`application/json; charset=UTF-16LE`):
    /// UTF-16 or UTF-32 of a byte order, or of none (`utf-16`: `Utf16Be`, which [`detect`]
    /// corrects from the body when it can). Anything else is `Utf8`.
    pub fn declared(content_type: Option<&[u8]>) -> Charset {
        let Some(ct) = content_type else {
            return Charset::Utf8;
        };
        let value = ct.split(|&b| b == b';').skip(1).find_map(|param| {
            let (name, value) = split_once(param, b'=')?;
            name.trim_ascii()
                .eq_ignore_ascii_case(b"charset")
                .then(|| value.trim_ascii())
        });
        let Some(v) = value else {
            return Charset::Utf8;
        };
        let v = v.strip_prefix(b"\"").unwrap_or(v);
        let v = v.strip_suffix(b"\"").unwrap_or(v);
        // `UTF-16LE`, `utf16le`, `utf_16`: the IANA names and the spellings decoders accept.
        let name: Vec<u8> = v
            .iter()
            .filter(|b| !matches!(b, b'-' | b'_'))
            .map(u8::to_ascii_lowercase)
            .collect();
        match name.as_slice() {
            b"utf16le" => Charset::Utf16Le,
            b"utf16be" | b"utf16" | b"ucs2" => Charset::Utf16Be,
            b"utf32le" => Charset::Utf32Le,
            b"utf32be" | b"utf32" => Charset::Utf32Be,
            _ => Charset::Utf8,
        }
    }

    /// Transcodes `body` when it is UTF-16 or UTF-32 (see the module doc); `None` when it is
    /// UTF-8 or does not decode cleanly.
    pub fn detect(declared: Charset, body: &[u8]) -> Option<Transcoded> {
        let head: [Option<u8>; 4] = [0, 1, 2, 3].map(|i| body.get(i).copied());
        let nul = head.map(|b| b == Some(0));
        let (charset, bom) = match head {
            [Some(0xFF), Some(0xFE), Some(0), Some(0)] => (Charset::Utf32Le, true),
            [Some(0), Some(0), Some(0xFE), Some(0xFF)] => (Charset::Utf32Be, true),
            [Some(0xFF), Some(0xFE), ..] => (Charset::Utf16Le, true),
            [Some(0xFE), Some(0xFF), ..] => (Charset::Utf16Be, true),
            _ => {
                let pattern = match nul {
                    [true, true, true, false] => Some(Charset::Utf32Be),
                    [false, true, true, true] => Some(Charset::Utf32Le),
                    [true, false, true, false] => Some(Charset::Utf16Be),
                    [false, true, false, true] => Some(Charset::Utf16Le),
                    _ => None,
                };
                let charset = match (declared, pattern) {
                    (Charset::Utf8, p) => p?,
                    // A declared encoding without a byte order takes the body's.
                    (Charset::Utf16Be, Some(p @ (Charset::Utf16Le | Charset::Utf16Be))) => p,
                    (Charset::Utf32Be, Some(p @ (Charset::Utf32Le | Charset::Utf32Be))) => p,
                    (Charset::Utf16Be, None) if nuls_say_little_endian(body, 2) => Charset::Utf16Le,
                    (Charset::Utf32Be, None) if nuls_say_little_endian(body, 4) => Charset::Utf32Le,
                    (d, _) => d,
                };
                (charset, false)
            }
        };
        let payload = body.get(if bom { charset.unit() } else { 0 }..)?;
        let text = charset.decode(payload)?;
        // Found from the NUL pattern alone, the encoding must make text of them: at least half
        // of the characters ASCII (JSON and most text are), not binary that looks like it.
        if declared == Charset::Utf8 && !bom {
            let chars = payload.len() / charset.unit();
            let ascii = text.iter().filter(|b| b.is_ascii()).count();
            if ascii * 2 < chars {
                return None;
            }
        }
        Some(Transcoded {
            encoding: Encoding { charset, bom },
            text,
        })
    }

    /// Bytes per code unit.
    fn unit(self) -> usize {
        match self {
            Charset::Utf8 => 1,
            Charset::Utf16Le | Charset::Utf16Be => 2,
            Charset::Utf32Le | Charset::Utf32Be => 4,
        }
    }

    /// `bytes` in this encoding as UTF-8: U+FFFD for what does not decode, a partial unit at
    /// the end dropped. `None` for UTF-8.
    fn decode(self, bytes: &[u8]) -> Option<Vec<u8>> {
        let bytes = bytes.get(..bytes.len() - bytes.len() % self.unit())?;
        let mut out = String::with_capacity(bytes.len() / self.unit() + 8);
        match self {
            Charset::Utf8 => return None,
            Charset::Utf16Le | Charset::Utf16Be => {
                let units = bytes.chunks_exact(2).map(|p| {
                    let pair =
                        [p.first().copied(), p.get(1).copied()].map(Option::unwrap_or_default);
                    if self == Charset::Utf16Le {
                        u16::from_le_bytes(pair)
                    } else {
                        u16::from_be_bytes(pair)
                    }
                });
                for c in char::decode_utf16(units) {
                    out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
                }
            }
            Charset::Utf32Le | Charset::Utf32Be => {
                for q in bytes.chunks_exact(4) {
                    let quad = <[u8; 4]>::try_from(q).ok()?;
                    let u = if self == Charset::Utf32Le {
                        u32::from_le_bytes(quad)
                    } else {
                        u32::from_be_bytes(quad)
                    };
                    out.push(char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
            }
        }
        Some(out.into_bytes())
    }
}

/// Whether more NUL bytes of `body` (its first 4 KiB) sit at the offsets where little-endian
/// UTF-16 (`unit` 2) or UTF-32 (`unit` 4) puts the high bytes of ASCII characters than where
/// big-endian puts them.
fn nuls_say_little_endian(body: &[u8], unit: usize) -> bool {
    let (mut little, mut big) = (0usize, 0usize);
    for (i, b) in body.iter().take(4096).enumerate() {
        if *b == 0 {
            match i % unit {
                0 => big += 1,
                k if k == unit - 1 => little += 1,
                _ => {}
            }
        }
    }
    little > big
}

impl Encoding {
    /// UTF-8 text (a redacted `text`) encoded back as the body was: same encoding, same byte
    /// order, the byte order mark if it had one.
    pub fn encode(&self, utf8: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(utf8);
        let mut out = Vec::with_capacity(utf8.len() * self.charset.unit() + 4);
        let chars = self
            .bom
            .then_some('\u{FEFF}')
            .into_iter()
            .chain(text.chars());
        match self.charset {
            Charset::Utf8 => out.extend_from_slice(utf8),
            Charset::Utf16Le | Charset::Utf16Be => {
                let mut buf = [0u16; 2];
                for c in chars {
                    for u in c.encode_utf16(&mut buf).iter() {
                        out.extend_from_slice(&if self.charset == Charset::Utf16Le {
                            u.to_le_bytes()
                        } else {
                            u.to_be_bytes()
                        });
                    }
                }
            }
            Charset::Utf32Le | Charset::Utf32Be => {
                for c in chars {
                    let u = u32::from(c);
                    out.extend_from_slice(&if self.charset == Charset::Utf32Le {
                        u.to_le_bytes()
                    } else {
                        u.to_be_bytes()
                    });
                }
            }
        }
        out
    }
}

fn split_once(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let p = s.iter().position(|&b| b == sep)?;
    Some((s.get(..p)?, s.get(p + 1..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out: Vec<u8> = if bom { vec![0xFF, 0xFE] } else { vec![] };
        out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    #[test]
    fn boms_patterns_and_declarations() {
        let json = r#"{"card":"4111 1111 1111 1111","é":"😀"}"#;
        let t = Charset::detect(Charset::Utf8, &utf16le(json, true)).unwrap();
        assert_eq!(
            (t.encoding.charset, t.encoding.bom),
            (Charset::Utf16Le, true)
        );
        assert_eq!(t.text, json.as_bytes());
        let t = Charset::detect(Charset::Utf8, &utf16le(json, false)).unwrap();
        assert_eq!(
            (t.encoding.charset, t.encoding.bom),
            (Charset::Utf16Le, false)
        );
        let be: Vec<u8> = json.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(
            Charset::detect(Charset::Utf8, &be)
                .unwrap()
                .encoding
                .charset,
            Charset::Utf16Be
        );
        let le32: Vec<u8> = json
            .chars()
            .flat_map(|c| u32::from(c).to_le_bytes())
            .collect();
        assert_eq!(
            Charset::detect(Charset::Utf8, &le32).unwrap().text,
            json.as_bytes()
        );
        // Declared, body starting with a non-ASCII character (no NUL pattern).
        let text = "\u{20ac} 4111 1111 1111 1111";
        let body = utf16le(text, false);
        assert!(Charset::detect(Charset::Utf8, &body).is_none());
        let declared = Charset::declared(Some(b"text/plain; charset=\"UTF-16LE\""));
        assert_eq!(declared, Charset::Utf16Le);
        assert_eq!(
            Charset::detect(declared, &body).unwrap().text,
            text.as_bytes()
        );
        assert_eq!(Charset::declared(Some(b"application/json")), Charset::Utf8);
        assert_eq!(
            Charset::declared(Some(b"application/json;charset=utf-8")),
            Charset::Utf8
        );
        // UTF-8 bodies stay bytes.
        assert!(Charset::detect(Charset::Utf8, json.as_bytes()).is_none());
        // What does not decode is U+FFFD, a byte left over is dropped: the value next to them
        // is still read.
        let mut broken = utf16le(r#"{"c":"4111 1111 1111 1111","x":""#, true);
        broken.extend_from_slice(&[0x00, 0xD8]);
        broken.extend_from_slice(&utf16le(r#""}"#, false));
        broken.push(b'\n');
        let t = Charset::detect(Charset::Utf8, &broken).unwrap();
        assert_eq!(
            String::from_utf8(t.text).unwrap(),
            "{\"c\":\"4111 1111 1111 1111\",\"x\":\"\u{FFFD}\"}"
        );
        // A mark is taken at its word, whatever the characters.
        let cyrillic = utf16le("платёж по карте 4111 1111 1111 1111 принят", true);
        assert!(Charset::detect(Charset::Utf8, &cyrillic).is_some());
        // Without a mark or a declaration, mostly non-ASCII is not taken for UTF-16.
        let mut binary = vec![0x41, 0x00, 0x80, 0x00];
        binary.extend_from_slice(&[0x81, 0x97, 0x82, 0x96, 0x83, 0x95]);
        assert!(Charset::detect(Charset::Utf8, &binary).is_none());
        // Spellings of the declaration, and its byte order from the body.
        for ct in [
            "text/plain; charset=utf16",
            "text/plain; charset=UTF_16",
            "text/plain; charset=ucs-2",
        ] {
            assert_eq!(
                Charset::declared(Some(ct.as_bytes())),
                Charset::Utf16Be,
                "{ct}"
            );
        }
        let le = utf16le("中文 4111 1111 1111 1111", false);
        let t = Charset::detect(Charset::Utf16Be, &le).unwrap();
        assert_eq!(t.encoding.charset, Charset::Utf16Le);
    }

    #[test]
    fn encoding_back_round_trips() {
        for bom in [true, false] {
            let body = utf16le(r#"{"n":"[CARD]","x":"😀é"}"#, bom);
            let t = Charset::detect(Charset::Utf8, &body).unwrap();
            assert_eq!(t.encoding.encode(&t.text), body);
        }
        let be32: Vec<u8> = [0u8, 0, 0xFE, 0xFF]
            .into_iter()
            .chain("{\"a\":1}".chars().flat_map(|c| u32::from(c).to_be_bytes()))
            .collect();
        let t = Charset::detect(Charset::Utf8, &be32).unwrap();
        assert_eq!(
            (t.encoding.charset, t.encoding.bom),
            (Charset::Utf32Be, true)
        );
        assert_eq!(t.encoding.encode(&t.text), be32);
    }
}
