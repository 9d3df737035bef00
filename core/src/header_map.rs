//! A header map as proxy-wasm hands it over in one piece (`proxy_get_header_map_pairs`): the
//! pair count, then each name's and value's length, then each name and value followed by a NUL
//! byte; integers 32-bit little-endian. Reading all request headers in one host call and
//! looking them up here is cheaper than a host call per header: each crossing between Envoy and
//! the Wasm VM costs more than finding a name among a few dozen.

/// Borrowed view of a serialized header map. Malformed input gives an empty map, never a panic.
#[derive(Debug, Default)]
pub struct HeaderMap<'a> {
    pairs: Vec<(&'a [u8], &'a [u8])>,
}

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(b)).ok()
}

impl<'a> HeaderMap<'a> {
    pub fn parse(bytes: &'a [u8]) -> HeaderMap<'a> {
        HeaderMap {
            pairs: Self::try_parse(bytes).unwrap_or_default(),
        }
    }

    fn try_parse(bytes: &'a [u8]) -> Option<Vec<(&'a [u8], &'a [u8])>> {
        if bytes.is_empty() {
            return Some(Vec::new());
        }
        let count = u32_at(bytes, 0)?;
        // Each pair takes at least 8 bytes of lengths and 2 NULs: a bogus count fails here.
        if count > bytes.len() / 10 {
            return None;
        }
        let mut pairs = Vec::with_capacity(count);
        let mut p = 4usize.checked_add(count.checked_mul(8)?)?;
        for n in 0..count {
            let lens = 4 + n * 8;
            let name_len = u32_at(bytes, lens)?;
            let value_len = u32_at(bytes, lens + 4)?;
            let name = bytes.get(p..p.checked_add(name_len)?)?;
            p = p.checked_add(name_len + 1)?;
            let value = bytes.get(p..p.checked_add(value_len)?)?;
            p = p.checked_add(value_len + 1)?;
            pairs.push((name, value));
        }
        Some(pairs)
    }

    /// The first value of `name` (lowercase, as Envoy keeps names).
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.pairs
            .iter()
            .find(|(n, _)| *n == name.as_bytes())
            .map(|(_, v)| *v)
    }

    /// Every value of `name`, in order (a header sent more than once).
    pub fn get_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a [u8]> + 's {
        self.pairs
            .iter()
            .filter(move |(n, _)| *n == name.as_bytes())
            .map(|(_, v)| *v)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> &[(&'a [u8], &'a [u8])] {
        &self.pairs
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Envoy's size of a header map: the bytes of every name and value.
    pub fn byte_size(&self) -> u64 {
        self.pairs
            .iter()
            .map(|(n, v)| (n.len() + v.len()) as u64)
            .sum()
    }
}

/// Serializes pairs the same way (for local replies, and tests).
pub fn serialize(map: &[(&str, &str)]) -> Vec<u8> {
    let len32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    let mut bytes = Vec::with_capacity(
        4 + map
            .iter()
            .map(|(k, v)| k.len() + v.len() + 10)
            .sum::<usize>(),
    );
    bytes.extend_from_slice(&len32(map.len()));
    for (name, value) in map {
        bytes.extend_from_slice(&len32(name.len()));
        bytes.extend_from_slice(&len32(value.len()));
    }
    for (name, value) in map {
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_lookup() {
        let bytes = serialize(&[
            (":method", "POST"),
            (":path", "/book"),
            ("x-empty", ""),
            ("a", "1"),
            ("a", "2"),
        ]);
        let m = HeaderMap::parse(&bytes);
        assert_eq!(m.len(), 5);
        assert_eq!(m.get(":method"), Some(&b"POST"[..]));
        assert_eq!(m.get("x-empty"), Some(&b""[..]));
        assert_eq!(m.get("a"), Some(&b"1"[..]));
        assert!(!m.contains("missing"));
    }

    #[test]
    fn malformed_maps_are_empty() {
        assert!(HeaderMap::parse(&[]).is_empty());
        assert!(HeaderMap::parse(&[1, 0, 0]).is_empty());
        assert!(HeaderMap::parse(&[255, 255, 255, 255, 0, 0, 0, 0]).is_empty());
        let mut bytes = serialize(&[("a", "b")]);
        bytes.truncate(bytes.len() - 2);
        assert!(HeaderMap::parse(&bytes).is_empty());
        // Lengths that point past the end.
        let mut bytes = serialize(&[("a", "b")]);
        bytes[8] = 200;
        assert!(HeaderMap::parse(&bytes).is_empty());
    }
}
