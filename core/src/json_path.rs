//! The key path (`policy.block_rules[1].condition`) at a position in a JSON text, for
//! configuration errors: serde_json says where (line and column) and what, this says which key.
//! A small walk over the text up to the error instead of tracking the path while deserializing,
//! which cost a sixth of the module's code in monomorphized copies (and the module's size is
//! most of the filter's memory in Envoy).

enum Frame {
    /// An object, and the key whose value is being read (or was read last).
    Object(Option<String>),
    /// An array, and the index of the element being read.
    Array(usize),
}

/// The byte offset just past `column` (1-based, in bytes, as serde_json counts) of `line`.
fn offset(text: &[u8], line: usize, column: usize) -> usize {
    let mut at = 0usize;
    for _ in 1..line {
        match text
            .get(at..)
            .and_then(|t| t.iter().position(|&b| b == b'\n'))
        {
            Some(p) => at += p + 1,
            None => return text.len(),
        }
    }
    (at + column).min(text.len())
}

/// The path at (line, column): the keys and indexes of everything open there, including the
/// key just read. Empty at the top level.
pub fn path_at(text: &[u8], line: usize, column: usize) -> String {
    let end = offset(text, line, column);
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0usize;
    // Whether the string starting next is an object key.
    let mut expect_key = false;
    while i < end {
        let Some(&b) = text.get(i) else { break };
        match b {
            b'{' => {
                stack.push(Frame::Object(None));
                expect_key = true;
            }
            b'[' => {
                stack.push(Frame::Array(0));
                expect_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(n)) => *n += 1,
                Some(Frame::Object(_)) => expect_key = true,
                None => {}
            },
            b'"' => {
                // A string: find its end, skipping escapes.
                let start = i + 1;
                let mut j = start;
                while let Some(&c) = text.get(j) {
                    match c {
                        b'\\' => j += 2,
                        b'"' => break,
                        _ => j += 1,
                    }
                }
                if expect_key {
                    if let Some(Frame::Object(key)) = stack.last_mut() {
                        let raw = text.get(start..j.min(text.len())).unwrap_or_default();
                        *key = Some(String::from_utf8_lossy(raw).into_owned());
                    }
                    expect_key = false;
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object(Some(key)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object(None) => {}
            Frame::Array(n) => {
                path.push('[');
                path.push_str(&n.to_string());
                path.push(']');
            }
        }
    }
    path
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    fn at_end_of(text: &str, needle: &str) -> String {
        let p = text.find(needle).unwrap() + needle.len();
        let line = text[..p].matches('\n').count() + 1;
        let col = p - text[..p].rfind('\n').map_or(0, |n| n + 1);
        path_at(text.as_bytes(), line, col)
    }

    #[test]
    fn paths() {
        let t = "{\"policy\": {\"block_rules\": [{\"name\": \"a\"}, {\"name\": \"b\", \"action\": \"blok\"}]}}";
        assert_eq!(at_end_of(t, "\"blok\""), "policy.block_rules[1].action");
        assert_eq!(at_end_of(t, "\"name\""), "policy.block_rules[0].name");
        let t = "{\n  \"a\": {\"x\": 1},\n  \"polcy\": {}\n}";
        assert_eq!(at_end_of(t, "\"polcy\""), "polcy");
        // After an object closed (a missing field is reported at its closing brace).
        assert_eq!(at_end_of(t, "{\"x\": 1}"), "a");
        assert_eq!(at_end_of("{\"k\": \"a\\\"b\", \"m\": 3}", "3"), "m");
        assert_eq!(path_at(b"[]", 1, 1), "[0]");
        assert_eq!(path_at(b"", 1, 0), "");
        assert_eq!(path_at(b"{\"a", 9, 9), "a");
    }
}
