//! Unforgeable overrides. A 449 carries an override token; the caller's retry presents it in
//! `X-User-Override` with the same `X-Agent-Trace-ID`. The token is an HMAC-SHA256 (RFC 2104,
//! truncated to 128 bits as RFC 2104 §5 allows) under the configured `policy.override_key`,
//! bound to:
//!
//! - the trace id, the method, the path (query included) and the headers in which values were
//!   found (names and values, as sent): the *head* MAC, which the filter checks on the retry's
//!   headers, so that a forged token never makes it wait for a body;
//! - the warnings and a SHA-256 digest of what was warned about: the *full* MAC. A token
//!   issued on the headers (`h`: the headers alone made the warnings certain) digests the
//!   method and path; one issued on the whole request (`b`) digests them and the body.
//!
//! and to an expiry (`policy.override_ttl_seconds`, 300 by default). It is single use within
//! one Envoy: its id is claimed in proxy-wasm shared data ([`claim_in_slot`]), so a replay on
//! any worker of the same proxy is refused. The `override` event names the id, never the token.
//!
//! Token: `iatp1.<id: 16 hex>.<expiry: Unix seconds>.<scope: h|b>.<head MAC: 32 hex>.<full MAC:
//! 32 hex>`.

use sha2::{Digest, Sha256};

use crate::chain::hmac_sha256;

/// The token format's version prefix.
const PREFIX: &str = "iatp1";
/// Bytes of each MAC kept (RFC 2104 §5: at least half the hash, and at least 80 bits).
const MAC_BYTES: usize = 16;

/// A secret for override tokens (`policy.override_key`).
pub type OverrideKey = crate::secret::Secret;

/// What a token was issued on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The request headers decided the warnings; the body was never read.
    Headers,
    /// The whole request.
    Body,
}

impl Scope {
    fn tag(self) -> &'static str {
        match self {
            Scope::Headers => "h",
            Scope::Body => "b",
        }
    }
}

/// What a token binds: the request as it was warned about.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub trace_id: &'a str,
    pub method: &'a str,
    /// The path with its query string, as sent.
    pub path: &'a str,
    /// SHA-256 of the headers (and trailers) in which values were found, as sent: what the
    /// warnings may be about besides the path and the body ([`fields_digest`]).
    pub fields: [u8; 32],
}

/// The `fields` of a [`Request`]: SHA-256 over each (name, value) pair, length-prefixed, in
/// the order given.
pub fn fields_digest<'a>(pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> [u8; 32] {
    let mut h = Sha256::new();
    for (name, value) in pairs {
        for field in [name, value] {
            h.update(u64::try_from(field.len()).unwrap_or(u64::MAX).to_be_bytes());
            h.update(field);
        }
    }
    h.finalize().into()
}

/// A parsed token, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// 16 lowercase hex digits: what events and the single-use claim name.
    pub id: String,
    /// Unix seconds after which the token is refused.
    pub expiry: u64,
    pub scope: Scope,
    head_mac: [u8; MAC_BYTES],
    full_mac: [u8; MAC_BYTES],
}

/// When and on what a token is issued.
#[derive(Debug, Clone, Copy)]
pub struct Issue {
    /// 8 random bytes.
    pub id: [u8; 8],
    pub now_secs: u64,
    pub ttl_secs: u64,
    pub scope: Scope,
}

/// Mints a token for `req` and its `warnings` (and `body`, scope [`Scope::Body`]).
pub fn mint(
    key: &OverrideKey,
    issue: Issue,
    req: &Request,
    warnings: &[&str],
    body: Option<&[u8]>,
) -> String {
    let Issue {
        id,
        now_secs,
        ttl_secs,
        scope,
    } = issue;
    let id = hex(&id);
    let expiry = now_secs.saturating_add(ttl_secs);
    let head = head_mac(key, &id, expiry, scope, req);
    let full = full_mac(key, &id, expiry, scope, req, warnings, body);
    format!(
        "{PREFIX}.{id}.{expiry}.{}.{}.{}",
        scope.tag(),
        hex(&head),
        hex(&full)
    )
}

/// Reads a token's parts; `None` when it is not a token of this format.
pub fn parse(text: &[u8]) -> Option<Token> {
    let text = std::str::from_utf8(text).ok()?.trim();
    let mut parts = text.split('.');
    if parts.next()? != PREFIX {
        return None;
    }
    let id = parts.next()?;
    if id.len() != 16 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let expiry_text = parts.next()?;
    // One spelling per expiry: digits, no sign, no leading zero.
    if expiry_text.is_empty()
        || expiry_text.len() > 20
        || !expiry_text.bytes().all(|b| b.is_ascii_digit())
        || (expiry_text.len() > 1 && expiry_text.starts_with('0'))
    {
        return None;
    }
    let expiry: u64 = expiry_text.parse().ok()?;
    let scope = match parts.next()? {
        "h" => Scope::Headers,
        "b" => Scope::Body,
        _ => return None,
    };
    let head_mac = unhex(parts.next()?)?;
    let full_mac = unhex(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    Some(Token {
        id: id.to_string(),
        expiry,
        scope,
        head_mac,
        full_mac,
    })
}

impl Token {
    /// Whether the token is unexpired and was issued for this trace id, method and path.
    pub fn head_holds(&self, key: &OverrideKey, now_secs: u64, req: &Request) -> bool {
        now_secs <= self.expiry
            && same(
                &self.head_mac,
                &head_mac(key, &self.id, self.expiry, self.scope, req),
            )
    }

    /// Whether the token was issued for these warnings and this request (the body too, when
    /// its scope is [`Scope::Body`]; `body` is ignored otherwise).
    pub fn full_holds(
        &self,
        key: &OverrideKey,
        req: &Request,
        warnings: &[&str],
        body: &[u8],
    ) -> bool {
        let body = (self.scope == Scope::Body).then_some(body);
        same(
            &self.full_mac,
            &full_mac(key, &self.id, self.expiry, self.scope, req, warnings, body),
        )
    }
}

fn head_mac(
    key: &OverrideKey,
    id: &str,
    expiry: u64,
    scope: Scope,
    req: &Request,
) -> [u8; MAC_BYTES] {
    let expiry = expiry.to_string();
    mac(
        key,
        &[
            b"head",
            id.as_bytes(),
            expiry.as_bytes(),
            scope.tag().as_bytes(),
            req.trace_id.as_bytes(),
            req.method.as_bytes(),
            req.path.as_bytes(),
            &req.fields,
        ],
    )
}

fn full_mac(
    key: &OverrideKey,
    id: &str,
    expiry: u64,
    scope: Scope,
    req: &Request,
    warnings: &[&str],
    body: Option<&[u8]>,
) -> [u8; MAC_BYTES] {
    let expiry = expiry.to_string();
    let digest = digest(req, body);
    let mut fields: Vec<&[u8]> = vec![
        b"full",
        id.as_bytes(),
        expiry.as_bytes(),
        scope.tag().as_bytes(),
        req.trace_id.as_bytes(),
        &digest,
    ];
    fields.extend(warnings.iter().map(|w| w.as_bytes()));
    mac(key, &fields)
}

/// SHA-256 of what was warned about: the method, the path, the headers that held values and
/// (scope `b`) the body.
fn digest(req: &Request, body: Option<&[u8]>) -> [u8; 32] {
    let mut h = Sha256::new();
    for field in [req.method.as_bytes(), req.path.as_bytes(), &req.fields]
        .into_iter()
        .chain(body)
    {
        h.update(u64::try_from(field.len()).unwrap_or(u64::MAX).to_be_bytes());
        h.update(field);
    }
    h.finalize().into()
}

/// HMAC over length-prefixed fields (so that no two field lists share an input).
fn mac(key: &OverrideKey, fields: &[&[u8]]) -> [u8; MAC_BYTES] {
    let lens: Vec<[u8; 8]> = fields
        .iter()
        .map(|f| u64::try_from(f.len()).unwrap_or(u64::MAX).to_be_bytes())
        .collect();
    let mut parts: Vec<&[u8]> = Vec::with_capacity(fields.len() * 2 + 1);
    parts.push(PREFIX.as_bytes());
    for (len, f) in lens.iter().zip(fields) {
        parts.push(len);
        parts.push(f);
    }
    let full = hmac_sha256(key.bytes(), &parts);
    let mut out = [0u8; MAC_BYTES];
    out.iter_mut().zip(full.iter()).for_each(|(d, s)| *d = *s);
    out
}

/// Compares in time independent of where the inputs differ.
fn same(a: &[u8; MAC_BYTES], b: &[u8; MAC_BYTES]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; MAC_BYTES]> {
    if text.len() != MAC_BYTES * 2 {
        return None;
    }
    let mut out = [0u8; MAC_BYTES];
    for (i, o) in out.iter_mut().enumerate() {
        let pair = text.get(i * 2..i * 2 + 2)?;
        if !pair.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        *o = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// The proxy-wasm shared-data key of the slot that records a token id's use. Ids spread over
/// 256 slots (their first two hex digits), so that a slot stays small and one compare-and-swap
/// update touches few entries.
pub fn slot_key(id: &str) -> String {
    format!("iatp.override.{}", id.get(..2).unwrap_or(id))
}

/// Every slot's key. Envoy's shared data compares-and-swaps only a value that exists (a write
/// with CAS 0 always succeeds), so each VM creates the slots that are missing when it is
/// configured, before it serves a request: claims then always go through CAS.
pub fn slot_keys() -> impl Iterator<Item = String> {
    (0..=255u8).map(|n| format!("iatp.override.{n:02x}"))
}

/// Records the use of token `id` (valid until `expiry`) in a slot's value: the new value, or
/// `None` when the id was used already. The value is one `<id> <expiry>` line per used,
/// unexpired token; entries past their expiry are dropped as the slot is written, so a slot
/// holds only the tokens that could still be replayed.
pub fn claim_in_slot(slot: Option<&[u8]>, id: &str, expiry: u64, now_secs: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let text = slot.and_then(|s| std::str::from_utf8(s).ok()).unwrap_or("");
    for line in text.lines() {
        let mut parts = line.split(' ');
        let (Some(used), Some(until)) = (parts.next(), parts.next()) else {
            continue;
        };
        if used == id {
            return None;
        }
        if until.parse::<u64>().is_ok_and(|u| u >= now_secs) {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    out.extend_from_slice(format!("{id} {expiry}\n").as_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: Request = Request {
        trace_id: "t-1",
        method: "POST",
        path: "/book?x=1",
        fields: [0; 32],
    };

    fn issue(id: u8, scope: Scope) -> Issue {
        Issue {
            id: [id; 8],
            now_secs: 1000,
            ttl_secs: 300,
            scope,
        }
    }

    fn key() -> OverrideKey {
        OverrideKey::new(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn a_token_holds_for_what_it_was_issued_on_only() {
        let t = mint(&key(), issue(7, Scope::Body), &REQ, &["w1"], Some(b"{}"));
        assert!(t.starts_with("iatp1.0707070707070707.1300.b."), "{t}");
        let tok = parse(t.as_bytes()).unwrap();
        assert!(tok.head_holds(&key(), 1300, &REQ));
        assert!(tok.full_holds(&key(), &REQ, &["w1"], b"{}"));
        // Expired, another key, another trace id, path or method: the head fails.
        assert!(!tok.head_holds(&key(), 1301, &REQ));
        assert!(!tok.head_holds(&OverrideKey::new(&[1; 32]), 1000, &REQ));
        for other in [
            Request {
                trace_id: "t-2",
                ..REQ
            },
            Request {
                path: "/book?x=2",
                ..REQ
            },
            Request {
                method: "PUT",
                ..REQ
            },
            Request {
                fields: fields_digest(
                    [(b"x-contact".as_slice(), b"a@b.io".as_slice())].into_iter(),
                ),
                ..REQ
            },
        ] {
            assert!(!tok.head_holds(&key(), 1000, &other));
            assert!(!tok.full_holds(&key(), &other, &["w1"], b"{}"));
        }
        // Other warnings, another body: the full MAC fails.
        assert!(!tok.full_holds(&key(), &REQ, &["w1", "w2"], b"{}"));
        assert!(!tok.full_holds(&key(), &REQ, &["w1"], b"{ }"));
        // A token issued on the headers ignores the body.
        let t = mint(&key(), issue(8, Scope::Headers), &REQ, &["w1"], None);
        let tok = parse(t.as_bytes()).unwrap();
        assert!(tok.full_holds(&key(), &REQ, &["w1"], b"anything"));
    }

    #[test]
    fn a_tampered_token_does_not_parse_or_does_not_hold() {
        let t = mint(&key(), issue(7, Scope::Body), &REQ, &["w1"], Some(b"{}"));
        // A later expiry, another scope: the MACs cover them.
        // One spelling per expiry.
        assert_eq!(parse(t.replace(".1300.", ".01300.").as_bytes()), None);
        assert_eq!(parse(t.replace(".1300.", ".+1300.").as_bytes()), None);
        let later = t.replace(".1300.", ".9999999999.");
        assert!(!parse(later.as_bytes())
            .unwrap()
            .head_holds(&key(), 1000, &REQ));
        let scoped = t.replace(".b.", ".h.");
        let tok = parse(scoped.as_bytes()).unwrap();
        assert!(!tok.head_holds(&key(), 1000, &REQ));
        for bad in [
            "true",
            "",
            "iatp1",
            "iatp2.0707070707070707.1300.b.00000000000000000000000000000000.00000000000000000000000000000000",
            "iatp1.07070707070707.1300.b.00000000000000000000000000000000.00000000000000000000000000000000",
            "iatp1.0707070707070707.-1.b.00000000000000000000000000000000.00000000000000000000000000000000",
            "iatp1.0707070707070707.1300.x.00000000000000000000000000000000.00000000000000000000000000000000",
            "iatp1.0707070707070707.1300.b.0000000000000000000000000000000g.00000000000000000000000000000000",
            "iatp1.0707070707070707.1300.b.00000000000000000000000000000000.00000000000000000000000000000000.x",
        ] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn a_token_id_is_claimed_once_and_expired_claims_are_dropped() {
        let slot = claim_in_slot(None, "aaa0000000000001", 1300, 1000).unwrap();
        assert_eq!(
            claim_in_slot(Some(&slot), "aaa0000000000001", 1300, 1000),
            None
        );
        let slot = claim_in_slot(Some(&slot), "aaa0000000000002", 1500, 1000).unwrap();
        assert_eq!(slot, b"aaa0000000000001 1300\naaa0000000000002 1500\n");
        // Past 1300 the first entry can no longer be replayed (its token has expired): gone.
        let slot = claim_in_slot(Some(&slot), "aaa0000000000003", 1700, 1400).unwrap();
        assert_eq!(slot, b"aaa0000000000002 1500\naaa0000000000003 1700\n");
        assert_eq!(slot_key("aaa0000000000003"), "iatp.override.aa");
        let keys: Vec<String> = slot_keys().collect();
        assert_eq!(keys.len(), 256);
        assert!(keys.contains(&slot_key("aaa0000000000003")));
    }
}
