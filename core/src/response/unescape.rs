//! JSON string escapes undone as a body's chunks come (RFC 8259 §7): what a JSON parser reads,
//! for searches that must see the text (a contract's denied terms, `project \u007aeus`). An
//! escape split across chunks is carried to the next one. Outside strings nothing is escaped,
//! so the whole text can go through.

/// The longest escape: a surrogate pair, `\uD83D\uDE00`.
const LONGEST: usize = 12;

#[derive(Debug, Default, Clone)]
pub struct JsonUnescape {
    carry: Vec<u8>,
}

impl JsonUnescape {
    /// `chunk` with its escapes undone (an unpaired surrogate or a bad escape becomes U+FFFD or
    /// stays as written); the start of an escape that the chunk cuts waits for the next.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut input = std::mem::take(&mut self.carry);
        input.extend_from_slice(chunk);
        let mut out = Vec::with_capacity(input.len());
        let mut i = 0;
        while let Some(&b) = input.get(i) {
            if b != b'\\' {
                out.push(b);
                i += 1;
                continue;
            }
            let rest = input.get(i..).unwrap_or_default();
            match rest.get(1) {
                None => {
                    self.carry = rest.to_vec();
                    break;
                }
                Some(b'u') => {
                    let Some(unit) = hex4(rest.get(2..6)) else {
                        if rest.len() < 6 && rest.len() < LONGEST {
                            self.carry = rest.to_vec();
                            break;
                        }
                        out.extend_from_slice(b"\\u");
                        i += 2;
                        continue;
                    };
                    if (0xD800..0xDC00).contains(&unit) {
                        // A high surrogate: its low half may follow.
                        if rest.len() < LONGEST
                            && b"\\u".starts_with(rest.get(6..).unwrap_or_default())
                        {
                            self.carry = rest.to_vec();
                            break;
                        }
                        let low = (rest.get(6..8) == Some(b"\\u"))
                            .then(|| hex4(rest.get(8..12)))
                            .flatten()
                            .filter(|l| (0xDC00..0xE000).contains(l));
                        if let Some(low) = low {
                            let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                            push_char(&mut out, c);
                            i += 12;
                            continue;
                        }
                        push_char(&mut out, 0xFFFD);
                        i += 6;
                        continue;
                    }
                    push_char(&mut out, unit);
                    i += 6;
                }
                Some(&c) => {
                    out.push(match c {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'b' => 0x08,
                        b'f' => 0x0C,
                        other => other,
                    });
                    i += 2;
                }
            }
        }
        out
    }
}

fn hex4(bytes: Option<&[u8]>) -> Option<u32> {
    let b = bytes?;
    if b.len() != 4 {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?;
    u32::from_str_radix(s, 16).ok()
}

fn push_char(out: &mut Vec<u8>, cp: u32) {
    let c = char::from_u32(cp).unwrap_or('\u{FFFD}');
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&str]) -> String {
        let mut u = JsonUnescape::default();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(u.feed(c.as_bytes()));
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_are_undone_even_when_a_chunk_cuts_them() {
        assert_eq!(
            all(&[r#"{"a":"project \u007aeus"}"#]),
            r#"{"a":"project zeus"}"#
        );
        assert_eq!(all(&[r#"project \u00"#, r#"7aeus"#]), "project zeus");
        assert_eq!(all(&[r#"x\"#, r#"ny"#]), "x\ny");
        assert_eq!(all(&[r#"\ud83d"#, r#"\ude00!"#]), "\u{1F600}!");
        assert_eq!(all(&[r#"\ud83d and"#]), "\u{FFFD} and");
        assert_eq!(all(&[r#"a\/b\\c\"d"#]), "a/b\\c\"d");
        assert_eq!(all(&[r#"bad \uZZZZ"#]), r#"bad \uZZZZ"#);
    }
}
