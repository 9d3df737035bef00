//! The flight recorder's tamper evidence: every event line carries `chain`, `seq` and `hash`.
//!
//! A chain is one Wasm VM's sequence of lines (one VM per Envoy worker; a new id at every VM
//! start or configuration). `seq` counts its lines from 1 without gaps. `hash` is SHA-256, in
//! lowercase hex, over the previous line's hash (64 `0`s before the first line), a newline,
//! and this line's canonical content: the line exactly as written, without its closing
//! `,"hash":"…"` member. With a chain key it is HMAC-SHA256 under that key instead, so that
//! only a holder of the key can compute a chain that verifies. Editing, deleting, inserting or
//! moving a line breaks the chain at that line; the verifier ([`Verifier`]) says where.
//!
//! Lines are sealed when the request's access log is written (the filter's `on_log` runs just
//! before Envoy's access loggers on the same worker), so within a chain the file holds the
//! lines in `seq` order.

use sha2::{Digest, Sha256};

/// The hash before a chain's first line.
pub const GENESIS: [u8; 64] = [b'0'; 64];

const HASH_KEY: &[u8] = br#","hash":""#;
/// `,"hash":"` + 64 hex digits + `"}`.
const HASH_SUFFIX_LEN: usize = HASH_KEY.len() + 64 + 2;

/// A secret for HMAC sealing (`events.chain_key`).
pub type ChainKey = crate::secret::Secret;

/// One VM's chain: its id, the last `seq` used and the last line's hash.
#[derive(Debug, Clone)]
pub struct Chain {
    id: String,
    seq: u64,
    last: [u8; 64],
    key: Option<ChainKey>,
}

impl Chain {
    /// A chain id from 8 random bytes: 16 lowercase hex digits.
    pub fn new(random: [u8; 8], key: Option<ChainKey>) -> Chain {
        let mut id = String::with_capacity(16);
        for b in random {
            push_hex(&mut id, b);
        }
        Chain {
            id,
            seq: 0,
            last: GENESIS,
            key,
        }
    }

    /// A chain with a random id: 8 bytes from the host's (WASI's) random source, or, should it
    /// refuse, the clock's nanoseconds (unique enough to tell VMs apart in one file).
    pub fn random(key: Option<ChainKey>, now_nanos: impl FnOnce() -> u64) -> Chain {
        let mut id = [0u8; 8];
        if getrandom::fill(&mut id).is_err() {
            id = now_nanos().to_be_bytes();
        }
        Chain::new(id, key)
    }

    pub fn keyed(&self) -> bool {
        self.key.is_some()
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Lines sealed so far.
    pub fn len(&self) -> u64 {
        self.seq
    }

    pub fn is_empty(&self) -> bool {
        self.seq == 0
    }

    /// Seals newline-separated event lines (each one JSON object, as `EventLog` writes them)
    /// and appends them, newline-separated, to `out`. A line that does not end in `}` (none
    /// does) is skipped rather than sealed wrong.
    pub fn seal(&mut self, lines: &[u8], out: &mut Vec<u8>) {
        let end = self.seal_pending(lines, out);
        self.advance(end);
    }

    /// Seals like [`Chain::seal`] without moving the chain on: the caller moves it with
    /// [`Chain::advance`] once the lines are taken (a line that never reaches the file must not
    /// leave a gap).
    pub fn seal_pending(&self, lines: &[u8], out: &mut Vec<u8>) -> ChainEnd {
        let mut seq = self.seq;
        let mut last = self.last;
        for line in lines.split(|&b| b == b'\n') {
            let Some(open) = line.strip_suffix(b"}") else {
                continue;
            };
            if !out.is_empty() {
                out.push(b'\n');
            }
            seq += 1;
            let start = out.len();
            out.extend_from_slice(open);
            out.extend_from_slice(br#","chain":""#);
            out.extend_from_slice(self.id.as_bytes());
            out.extend_from_slice(br#"","seq":"#);
            out.extend_from_slice(seq.to_string().as_bytes());
            out.push(b'}');
            let hash = line_hash(
                self.key.as_ref(),
                &last,
                out.get(start..).unwrap_or_default(),
            );
            out.pop();
            out.extend_from_slice(HASH_KEY);
            out.extend_from_slice(&hash);
            out.extend_from_slice(b"\"}");
            last = hash;
        }
        ChainEnd { seq, last }
    }

    pub fn advance(&mut self, end: ChainEnd) {
        self.seq = end.seq;
        self.last = end.last;
    }
}

/// Where a chain stands after sealing some lines.
#[derive(Debug, Clone, Copy)]
pub struct ChainEnd {
    seq: u64,
    last: [u8; 64],
}

/// SHA-256 (or with a key, HMAC-SHA256) over `prev`, a newline and `content`, in lowercase
/// hex.
pub fn line_hash(key: Option<&ChainKey>, prev: &[u8; 64], content: &[u8]) -> [u8; 64] {
    let digest = match key {
        None => {
            let mut h = Sha256::new();
            h.update(prev);
            h.update(b"\n");
            h.update(content);
            h.finalize()
        }
        Some(k) => hmac_sha256(k.bytes(), &[prev, b"\n", content]),
    };
    let mut out = [b'0'; 64];
    for (pair, b) in out.chunks_exact_mut(2).zip(digest.iter()) {
        let [hi, lo] = hex_pair(*b);
        if let [a, c] = pair {
            *a = hi;
            *c = lo;
        }
    }
    out
}

/// HMAC-SHA256 (RFC 2104) of the concatenated `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> sha2::digest::Output<Sha256> {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        let digest = Sha256::digest(key);
        k.iter_mut().zip(digest.iter()).for_each(|(d, s)| *d = *s);
    } else {
        k.iter_mut().zip(key.iter()).for_each(|(d, s)| *d = *s);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize()
}

fn hex_pair(b: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let d = |n: u8| HEX.get(usize::from(n & 0xF)).copied().unwrap_or(b'0');
    [d(b >> 4), d(b)]
}

fn push_hex(s: &mut String, b: u8) {
    for c in hex_pair(b) {
        s.push(char::from(c));
    }
}

/// The fields the verifier reads from a line.
#[derive(serde::Deserialize)]
struct Sealed<'a> {
    #[serde(borrow)]
    chain: std::borrow::Cow<'a, str>,
    seq: u64,
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// Not a JSON object with `chain`, `seq` and a final `hash`.
    Unreadable(String),
    /// The chain's first line in the files is not its `seq` 1 (and no anchor says where it
    /// goes on from): its beginning is missing.
    Start { found: u64 },
    /// `seq` is not the one after the chain's previous line: lines are missing, repeated or
    /// out of order.
    Sequence { expected: u64, found: u64 },
    /// The hash does not match the content and the previous line: edited, or inserted.
    Hash,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Unreadable(why) => write!(f, "unreadable: {why}"),
            Break::Start { found } => write!(
                f,
                "the chain starts at seq {found}: its first {} line(s) are missing (give the \
                 earlier file first, or --anchor the chain where that file ended)",
                found - 1
            ),
            Break::Sequence { expected, found } if found < expected => write!(
                f,
                "seq {found} where {expected} was expected: a repeated or reordered line"
            ),
            Break::Sequence { expected, found } => write!(
                f,
                "seq {found} where {expected} was expected: {} line(s) missing before it, or reordered",
                found - expected
            ),
            Break::Hash => write!(
                f,
                "hash mismatch: the line was edited, or does not follow the chain's previous line"
            ),
        }
    }
}

/// One chain as the verifier saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub id: String,
    pub lines: u64,
    pub first_seq: u64,
    /// The highest `seq` seen.
    pub last_seq: u64,
    /// The hash of the chain's last line in the files: where a later file goes on from.
    pub last_hash: String,
    /// The first broken line: its line number in the files (1-based) and what is wrong.
    pub first_break: Option<(u64, Break)>,
}

/// Where a chain goes on from: its `seq` and `hash` at the end of an earlier, verified file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub chain: String,
    pub seq: u64,
    pub hash: [u8; 64],
}

impl std::str::FromStr for Anchor {
    type Err = String;

    /// `CHAIN:SEQ:HASH`, as the verifier prints them.
    fn from_str(s: &str) -> Result<Anchor, String> {
        let mut parts = s.split(':');
        let (Some(chain), Some(seq), Some(hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("anchor {s:?}: expected CHAIN:SEQ:HASH"));
        };
        let seq = seq.parse().map_err(|e| format!("anchor {s:?}: seq: {e}"))?;
        let hash: [u8; 64] = hash
            .as_bytes()
            .try_into()
            .ok()
            .filter(|h: &[u8; 64]| h.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .ok_or_else(|| format!("anchor {s:?}: the hash must be 64 lowercase hex digits"))?;
        Ok(Anchor {
            chain: chain.to_string(),
            seq,
            hash,
        })
    }
}

/// Checks events files line by line. Chains are independent (one per VM), interleaved in the
/// files; each must start at `seq` 1 (or where an anchor says) and run gaplessly in `seq`
/// order with every hash matching.
#[derive(Debug, Default)]
pub struct Verifier {
    /// The chain keys (`events.chain_key`) chains may be sealed under; empty: plain SHA-256.
    /// More than one when a reload changed the key: each chain is verified under the one its
    /// first line verifies under (a chain is sealed under one key from its start).
    keys: Vec<ChainKey>,
    anchors: Vec<Anchor>,
    /// Accept chains whose beginning is not in the files, taking their first line on trust.
    allow_partial: bool,
    /// Each chain's report, its last line's hash and `seq`, and the index of its key in `keys`
    /// (`None` until known: a partial chain's first line, taken on trust, says nothing).
    chains: Vec<(ChainReport, [u8; 64], u64, Option<usize>)>,
    index: std::collections::HashMap<String, usize>,
    /// Lines that belong to no chain.
    pub unreadable: Vec<(u64, Break)>,
    line_no: u64,
}

impl Verifier {
    pub fn new(key: Option<ChainKey>, anchors: Vec<Anchor>, allow_partial: bool) -> Verifier {
        Verifier::with_keys(key.into_iter().collect(), anchors, allow_partial)
    }

    /// A verifier for files whose chains are sealed under any of `keys` (each chain under one:
    /// a reload that changed `events.chain_key` starts new chains under the new key).
    pub fn with_keys(keys: Vec<ChainKey>, anchors: Vec<Anchor>, allow_partial: bool) -> Verifier {
        Verifier {
            keys,
            anchors,
            allow_partial,
            ..Verifier::default()
        }
    }

    /// The key (its index in `keys`) under which `content` chained from `prev` hashes to
    /// `hash`: the first that does, else the first key (its check then fails).
    fn key_for(&self, prev: &[u8; 64], content: &[u8], hash: &[u8; 64]) -> usize {
        self.keys
            .iter()
            .position(|k| line_hash(Some(k), prev, content) == *hash)
            .unwrap_or(0)
    }

    pub fn line(&mut self, line: &[u8]) {
        self.line_no += 1;
        let n = self.line_no;
        if line.iter().all(u8::is_ascii_whitespace) {
            self.unreadable
                .push((n, Break::Unreadable("blank line".to_string())));
            return;
        }
        let sealed: Sealed = match serde_json::from_slice(line) {
            Ok(s) => s,
            Err(e) => {
                self.unreadable.push((n, Break::Unreadable(e.to_string())));
                return;
            }
        };
        let Some((content, hash)) = split_hash(line) else {
            self.unreadable
                .push((n, Break::Unreadable("no final \"hash\" member".to_string())));
            return;
        };
        let Some(&pos) = self.index.get(sealed.chain.as_ref()) else {
            // A chain's first line in these files: it starts the chain, or goes on from an
            // anchor. Its key is the one its first line verifies under.
            let anchor = self.anchors.iter().find(|a| a.chain == sealed.chain);
            let k = match anchor {
                Some(a) => Some(self.key_for(&a.hash, &content, &hash)),
                None if sealed.seq == 1 => Some(self.key_for(&GENESIS, &content, &hash)),
                None => None,
            };
            let key = k.and_then(|k| self.keys.get(k));
            let problem = match anchor {
                Some(a) if sealed.seq != a.seq + 1 => Some(Break::Sequence {
                    expected: a.seq + 1,
                    found: sealed.seq,
                }),
                Some(a) => (line_hash(key, &a.hash, &content) != hash).then_some(Break::Hash),
                None if sealed.seq == 1 => {
                    (line_hash(key, &GENESIS, &content) != hash).then_some(Break::Hash)
                }
                None if self.allow_partial => None,
                None => Some(Break::Start { found: sealed.seq }),
            };
            self.index
                .insert(sealed.chain.to_string(), self.chains.len());
            self.chains.push((
                ChainReport {
                    id: sealed.chain.into_owned(),
                    lines: 1,
                    first_seq: sealed.seq,
                    last_seq: sealed.seq,
                    last_hash: String::from_utf8_lossy(&hash).into_owned(),
                    first_break: problem.map(|p| (n, p)),
                },
                hash,
                sealed.seq,
                k,
            ));
            return;
        };
        let Some((_, prev, _, known)) = self.chains.get(pos) else {
            return;
        };
        let k = known.unwrap_or_else(|| self.key_for(prev, &content, &hash));
        let keys = &self.keys;
        let Some((report, last, current, known)) = self.chains.get_mut(pos) else {
            return;
        };
        *known = Some(k);
        let key = keys.get(k);
        report.lines += 1;
        let expected = *current + 1;
        let problem = if sealed.seq != expected {
            Some(Break::Sequence {
                expected,
                found: sealed.seq,
            })
        } else if line_hash(key, last, &content) != hash {
            Some(Break::Hash)
        } else {
            None
        };
        if let Some(p) = problem {
            report.first_break.get_or_insert((n, p));
        }
        // Go on from this line, so that one bad line is reported once, not for every line after.
        *current = sealed.seq;
        report.last_seq = report.last_seq.max(sealed.seq);
        report.last_hash = String::from_utf8_lossy(&hash).into_owned();
        *last = hash;
    }

    pub fn chains(&self) -> impl Iterator<Item = &ChainReport> {
        self.chains.iter().map(|(c, _, _, _)| c)
    }

    pub fn ok(&self) -> bool {
        self.unreadable.is_empty() && self.chains().all(|c| c.first_break.is_none())
    }
}

/// The line without its final `,"hash":"…"` member, and the hash.
fn split_hash(line: &[u8]) -> Option<(Vec<u8>, [u8; 64])> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let cut = line.len().checked_sub(HASH_SUFFIX_LEN)?;
    let (head, tail) = line.split_at_checked(cut)?;
    let hex = tail.strip_prefix(HASH_KEY)?.strip_suffix(b"\"}")?;
    let hash: [u8; 64] = hex.try_into().ok()?;
    if !hash.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut content = head.to_vec();
    content.push(b'}');
    Some((content, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed_file(chain: &mut Chain, n: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for i in 0..n {
            let mut buf = Vec::new();
            let line = format!(r#"{{"type":"request","trace_id":"t{i}","path":"/a\"b\n"}}"#);
            chain.seal(line.as_bytes(), &mut buf);
            out.push(buf);
        }
        out
    }

    fn verify(lines: &[Vec<u8>]) -> Verifier {
        let mut v = Verifier::new(None, vec![], false);
        for l in lines {
            v.line(l);
        }
        v
    }

    #[test]
    fn sealed_lines_are_json_with_gapless_seq_and_verify() {
        let mut c = Chain::new([0xAB; 8], None);
        let lines = sealed_file(&mut c, 5);
        for (i, l) in lines.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_slice(l).unwrap();
            assert_eq!(v["chain"], "abababababababab");
            assert_eq!(v["seq"], i as u64 + 1);
            assert_eq!(v["hash"].as_str().unwrap().len(), 64);
            assert_eq!(v["path"], "/a\"b\n");
        }
        let v = verify(&lines);
        assert!(v.ok(), "{:?}", v.chains().collect::<Vec<_>>());
        let r = v.chains().next().unwrap();
        assert_eq!((r.lines, r.first_seq, r.last_seq), (5, 1, 5));
    }

    #[test]
    fn several_lines_at_once_chain_like_one_at_a_time() {
        let mut a = Chain::new([1; 8], None);
        let mut b = Chain::new([1; 8], None);
        let mut together = Vec::new();
        a.seal(b"{\"x\":1}\n{\"x\":2}", &mut together);
        let mut one = Vec::new();
        b.seal(b"{\"x\":1}", &mut one);
        one.push(b'\n');
        let mut two = Vec::new();
        b.seal(b"{\"x\":2}", &mut two);
        one.extend_from_slice(&two);
        assert_eq!(together, one);
    }

    #[test]
    fn each_kind_of_tampering_is_caught_at_its_line() {
        let mut c = Chain::new([7; 8], None);
        let clean = sealed_file(&mut c, 6);

        let mut deleted = clean.clone();
        deleted.remove(2);
        let r = verify(&deleted);
        assert_eq!(
            r.chains().next().unwrap().first_break,
            Some((
                3,
                Break::Sequence {
                    expected: 3,
                    found: 4
                }
            ))
        );

        let mut edited = clean.clone();
        edited[3] = String::from_utf8(edited[3].clone())
            .unwrap()
            .replace("t3", "t9")
            .into_bytes();
        assert_eq!(
            verify(&edited).chains().next().unwrap().first_break,
            Some((4, Break::Hash))
        );

        let mut swapped = clean.clone();
        swapped.swap(1, 2);
        assert!(matches!(
            verify(&swapped).chains().next().unwrap().first_break,
            Some((2, Break::Sequence { .. }))
        ));

        // An inserted line that copies a real one's chain and next seq: its hash gives it away,
        // or the real line after it does.
        let mut inserted = clean.clone();
        let forged = String::from_utf8(clean[2].clone())
            .unwrap()
            .replace("t2", "tX")
            .into_bytes();
        inserted.insert(2, forged);
        assert_eq!(
            verify(&inserted).chains().next().unwrap().first_break,
            Some((3, Break::Hash))
        );

        // Re-sealing an edited line with a recomputed hash still breaks at the next line.
        let mut resealed = clean.clone();
        let prev: [u8; 64] = split_hash(&clean[1]).unwrap().1;
        let (content, _) = split_hash(&clean[2]).unwrap();
        let content = String::from_utf8(content).unwrap().replace("t2", "tY");
        let h = line_hash(None, &prev, content.as_bytes());
        let mut l = content.into_bytes();
        l.pop();
        l.extend_from_slice(HASH_KEY);
        l.extend_from_slice(&h);
        l.extend_from_slice(b"\"}");
        resealed[2] = l;
        assert_eq!(
            verify(&resealed).chains().next().unwrap().first_break,
            Some((4, Break::Hash))
        );
    }

    #[test]
    fn a_missing_beginning_is_caught_unless_anchored_or_allowed() {
        let mut c = Chain::new([3; 8], None);
        let lines = sealed_file(&mut c, 4);
        let tail = &lines[2..];
        let v = verify(tail);
        assert_eq!(
            v.chains().next().unwrap().first_break,
            Some((1, Break::Start { found: 3 }))
        );
        // Where the earlier file ended, as the verifier printed it.
        let earlier = verify(&lines[..2]);
        let end = earlier.chains().next().unwrap();
        let anchor: Anchor = format!("{}:{}:{}", end.id, end.last_seq, end.last_hash)
            .parse()
            .unwrap();
        let mut v = Verifier::new(None, vec![anchor.clone()], false);
        tail.iter().for_each(|l| v.line(l));
        assert!(v.ok());
        // An anchor does not excuse a wrong line after it.
        let mut v = Verifier::new(None, vec![anchor], false);
        v.line(&lines[3]);
        assert!(!v.ok());
        let mut v = Verifier::new(None, vec![], true);
        tail.iter().for_each(|l| v.line(l));
        assert!(v.ok());
        assert!("x:1".parse::<Anchor>().is_err());
        assert!("x:1:ABC".parse::<Anchor>().is_err());
    }

    #[test]
    fn chains_under_two_keys_verify_with_both_and_not_with_one() {
        // A reload changed `events.chain_key`: the old chain goes on under the old key, new
        // chains start under the new one, lines interleaved in one file.
        let (a, b) = (
            ChainKey::new(b"the first key, long"),
            ChainKey::new(b"the second key, long"),
        );
        let mut old = Chain::new([1; 8], Some(a.clone()));
        let mut new = Chain::new([2; 8], Some(b.clone()));
        let mut lines = Vec::new();
        for _ in 0..3 {
            lines.extend(sealed_file(&mut old, 1));
            lines.extend(sealed_file(&mut new, 1));
        }
        let run = |keys: Vec<ChainKey>, lines: &[Vec<u8>]| {
            let mut v = Verifier::with_keys(keys, vec![], false);
            lines.iter().for_each(|l| v.line(l));
            v
        };
        let v = run(vec![a.clone(), b.clone()], &lines);
        assert!(v.ok(), "{:?}", v.chains().collect::<Vec<_>>());
        assert_eq!(v.chains().count(), 2);
        // One key: the other key's chain reads as broken.
        assert!(!run(vec![a], &lines).ok());
        assert!(!run(vec![b], &lines).ok());
    }

    #[test]
    fn with_a_key_only_its_holder_makes_a_chain_that_verifies() {
        let key = ChainKey::new(b"0123456789abcdef0123");
        let mut keyed = Chain::new([5; 8], Some(key.clone()));
        let lines = sealed_file(&mut keyed, 3);
        let mut v = Verifier::new(Some(key.clone()), vec![], false);
        lines.iter().for_each(|l| v.line(l));
        assert!(v.ok());
        // Without the key (or with another), nothing verifies.
        assert!(!verify(&lines).ok());
        let mut v = Verifier::new(
            Some(ChainKey::new(b"another key, long enough")),
            vec![],
            false,
        );
        lines.iter().for_each(|l| v.line(l));
        assert!(!v.ok());
        // A forger without the key writes a plain SHA-256 chain: the keyed verifier rejects it.
        let mut forged = Chain::new([6; 8], None);
        let fake = sealed_file(&mut forged, 2);
        let mut v = Verifier::new(Some(key), vec![], false);
        fake.iter().for_each(|l| v.line(l));
        assert_eq!(
            v.chains().next().unwrap().first_break,
            Some((1, Break::Hash))
        );
        assert_eq!(format!("{:?}", ChainKey::new(b"secret")), "Secret(..)");
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2: key "Jefe", data "what do ya want for nothing?".
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn interleaved_chains_verify_independently() {
        let mut a = Chain::new([1; 8], None);
        let mut b = Chain::new([2; 8], None);
        let la = sealed_file(&mut a, 3);
        let lb = sealed_file(&mut b, 3);
        let mixed = vec![
            la[0].clone(),
            lb[0].clone(),
            lb[1].clone(),
            la[1].clone(),
            la[2].clone(),
            lb[2].clone(),
        ];
        let v = verify(&mixed);
        assert!(v.ok());
        assert_eq!(v.chains().count(), 2);
    }

    #[test]
    fn junk_is_reported() {
        let mut v = Verifier::new(None, vec![], false);
        v.line(b"not json");
        v.line(b"{\"chain\":\"x\",\"seq\":1}");
        v.line(b"");
        assert!(!v.ok());
        assert_eq!(v.unreadable.len(), 3);
    }
}
