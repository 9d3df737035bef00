//! SPIFFE IDs, as the SPIFFE ID standard defines them
//! (<https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md>, §2):
//! `spiffe://<trust domain>/<path>`.
//!
//! * The scheme is `spiffe`, lower-case, followed by `://` (§2.1).
//! * The trust domain is 1 to 255 characters of `[a-z0-9.-_]`: lower-case only, and no port,
//!   user info or percent-encoding (none of `:`, `@`, `%` is in the set) (§2.1).
//! * The path is empty, or `/`-separated segments of `[A-Za-z0-9.-_]`; a segment is never empty
//!   (so no `//` and no trailing `/`) and never `.` or `..` (§2.2).
//! * No query or fragment (`?`, `#` are not in either set), and at most 2048 bytes in all
//!   (§2.3, "Maximum SPIFFE ID Length").
//!
//! Envoy hands the filter the first URI SAN of the peer certificate
//! (`connection.uri_san_peer_certificate`); only a valid SPIFFE ID is an identity
//! ([`SpiffeId::parse`] says `None` for anything else).

/// The scheme and its separator.
pub const SCHEME: &str = "spiffe://";
/// §2.3: SPIFFE implementations must support IDs of up to 2048 bytes; longer ones are refused.
pub const MAX_ID_BYTES: usize = 2048;
/// §2.1: a trust domain is at most 255 characters.
pub const MAX_TRUST_DOMAIN_BYTES: usize = 255;

/// A valid SPIFFE ID: its text, and where its trust domain ends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpiffeId {
    text: String,
    /// Byte offset of the end of the trust domain (the start of the path, or the end).
    domain_end: usize,
}

impl SpiffeId {
    /// The ID in `text`, or `None` when it is not a valid SPIFFE ID (see the module's rules).
    pub fn parse(text: &str) -> Option<SpiffeId> {
        if text.len() > MAX_ID_BYTES {
            return None;
        }
        let rest = text.strip_prefix(SCHEME)?;
        let (domain, path) = match rest.find('/') {
            Some(i) => (rest.get(..i)?, rest.get(i..)?),
            None => (rest, ""),
        };
        if !is_trust_domain(domain) || !is_path(path) {
            return None;
        }
        Some(SpiffeId {
            text: text.to_string(),
            domain_end: SCHEME.len() + domain.len(),
        })
    }

    /// The ID from Envoy's bytes: UTF-8 and valid, or `None`.
    pub fn from_bytes(bytes: &[u8]) -> Option<SpiffeId> {
        std::str::from_utf8(bytes).ok().and_then(SpiffeId::parse)
    }

    /// The whole ID, `spiffe://example.org/ns/billing`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The trust domain, `example.org`.
    pub fn trust_domain(&self) -> &str {
        self.text.get(SCHEME.len()..self.domain_end).unwrap_or("")
    }

    /// The path, `/ns/billing` (empty for the ID of a trust domain itself).
    pub fn path(&self) -> &str {
        self.text.get(self.domain_end..).unwrap_or("")
    }

    pub fn into_string(self) -> String {
        self.text
    }
}

/// §2.1: 1 to 255 characters of `[a-z0-9.-_]`.
pub fn is_trust_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_TRUST_DOMAIN_BYTES
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        })
}

/// §2.2: empty, or `/segment` repeated, each segment of `[A-Za-z0-9.-_]`, not empty, not `.`
/// or `..`.
fn is_path(path: &str) -> bool {
    if path.is_empty() {
        return true;
    }
    let Some(segments) = path.strip_prefix('/') else {
        return false;
    };
    segments.split('/').all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    })
}

/// An ID prefix of the configuration (`spiffe_id_prefix`): a valid SPIFFE ID, written with or
/// without a trailing `/`. It matches the ID itself and every ID below it, at a path-segment
/// boundary: `spiffe://example.org/ns/ops` matches `spiffe://example.org/ns/ops` and
/// `spiffe://example.org/ns/ops/sa/x`, never `spiffe://example.org/ns/opsx` (a plain string
/// prefix would, and would hand `opsx` the rights of `ops`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpiffePrefix {
    /// Without the trailing `/`.
    id: String,
}

impl SpiffePrefix {
    /// The prefix in `text`, or `None` when `text` (without one trailing `/`) is not a valid
    /// SPIFFE ID.
    pub fn parse(text: &str) -> Option<SpiffePrefix> {
        let id = text.strip_suffix('/').unwrap_or(text);
        SpiffeId::parse(id).map(|id| SpiffePrefix {
            id: id.into_string(),
        })
    }

    /// Whether `id` is this prefix or below it (at a segment boundary).
    pub fn matches(&self, id: &SpiffeId) -> bool {
        match id.as_str().strip_prefix(self.id.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// The prefix as written without its trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ids_and_their_parts() {
        let id = SpiffeId::parse("spiffe://example.org/ns/billing/sa/agent").unwrap();
        assert_eq!(id.trust_domain(), "example.org");
        assert_eq!(id.path(), "/ns/billing/sa/agent");
        let id = SpiffeId::parse("spiffe://example.org").unwrap();
        assert_eq!(id.trust_domain(), "example.org");
        assert_eq!(id.path(), "");
        for ok in [
            "spiffe://a-b_c.9/A.b-C_d/..x/x..",
            "spiffe://td/.../x",
            "spiffe://td/a",
        ] {
            assert!(SpiffeId::parse(ok).is_some(), "{ok}");
        }
    }

    #[test]
    fn invalid_ids_are_not_identities() {
        let long_domain = format!("spiffe://{}", "a".repeat(256));
        let long = format!("spiffe://td/{}", "a".repeat(MAX_ID_BYTES));
        for bad in [
            "",
            "spiffe://",
            "spiffe:///path",
            "SPIFFE://td/x",
            "spiffe:/td/x",
            "https://td/x",
            "spiffe://Example.org/x",
            "spiffe://td:443/x",
            "spiffe://user@td/x",
            "spiffe://td/x?q=1",
            "spiffe://td/x#f",
            "spiffe://td/",
            "spiffe://td//x",
            "spiffe://td/x/",
            "spiffe://td/./x",
            "spiffe://td/x/..",
            "spiffe://td/a%20b",
            "spiffe://td/a b",
            "spiffe://td/é",
            long_domain.as_str(),
            long.as_str(),
        ] {
            assert!(SpiffeId::parse(bad).is_none(), "{bad}");
        }
        assert!(SpiffeId::from_bytes(b"spiffe://td/\xff").is_none());
        // The bound itself is accepted.
        let at = format!("spiffe://td/{}", "a".repeat(MAX_ID_BYTES - 12));
        assert_eq!(at.len(), MAX_ID_BYTES);
        assert!(SpiffeId::parse(&at).is_some());
        let domain = format!("spiffe://{}", "a".repeat(255));
        assert!(SpiffeId::parse(&domain).is_some());
    }

    #[test]
    fn prefixes_match_at_segment_boundaries() {
        let id = |s| SpiffeId::parse(s).unwrap();
        for p in [
            "spiffe://example.org/ns/ops",
            "spiffe://example.org/ns/ops/",
        ] {
            let p = SpiffePrefix::parse(p).unwrap();
            assert_eq!(p.as_str(), "spiffe://example.org/ns/ops");
            assert!(p.matches(&id("spiffe://example.org/ns/ops")));
            assert!(p.matches(&id("spiffe://example.org/ns/ops/sa/x")));
            assert!(!p.matches(&id("spiffe://example.org/ns/opsx")));
            assert!(!p.matches(&id("spiffe://example.org/ns")));
            assert!(!p.matches(&id("spiffe://example.org.evil/ns/ops")));
        }
        let td = SpiffePrefix::parse("spiffe://example.org/").unwrap();
        assert!(td.matches(&id("spiffe://example.org/x")));
        assert!(!td.matches(&id("spiffe://example.orgx/x")));
        for bad in [
            "spiffe://example.org//",
            "spiffe://td/x//",
            "td/x",
            "spiffe://td/x/../",
        ] {
            assert!(SpiffePrefix::parse(bad).is_none(), "{bad}");
        }
    }
}
