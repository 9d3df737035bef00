//! Contracts from a control plane (`control_plane` in the configuration; ACVPS: "the gateway
//! syncs contracts from the control plane, scoped by tenant"). Every Envoy worker runs its own
//! Wasm VM, and each would fetch on its own; instead they share one record in proxy-wasm shared
//! data ([`SHARED_KEY`]): the worker whose tick finds it due takes a lease and fetches, a valid
//! answer is stored there, and every worker applies what the record holds on its next tick.
//! A failed or invalid fetch stores nothing but its time: the last good set stays, everywhere.
//!
//! The answer is `{"contracts": [ <contract>, ... ]}`, each contract in the configuration's
//! shape (`config::contracts_from_control_plane` compiles it with the same checks).

use sha2::{Digest, Sha256};

use crate::phases::Callout;

/// `control_plane.path`'s default.
pub const DEFAULT_PATH: &str = "/v1/contracts";
pub const DEFAULT_INTERVAL_S: u64 = 30;
pub const DEFAULT_TIMEOUT_MS: u32 = 5_000;
/// The largest answer read (bytes): a thousand contracts of a few KiB.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;
/// The shared-data key of the record every worker reads.
pub const SHARED_KEY: &str = "iatp.control_plane";

const VERSION: u8 = 1;
/// version, fetched_at_ms, lease_until_ms, attempted_at_ms.
const HEADER_BYTES: usize = 1 + 8 + 8 + 8;

/// The compiled `control_plane` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPlane {
    /// The Envoy cluster of the control plane.
    pub cluster: String,
    /// `:authority` of the fetch (default: the cluster's name).
    pub authority: String,
    /// The path, without the tenant parameter (default `/v1/contracts`).
    pub path: String,
    /// Only this tenant's contracts are asked for and kept (RFC 3986 unreserved characters).
    pub tenant_id: String,
    /// How often the contracts are fetched, milliseconds.
    pub interval_ms: u64,
    pub timeout_ms: u32,
    /// `address_classes`: the address classes other than public that the control plane's
    /// contracts may allow targets in (none by default): a control plane cannot open more of
    /// the operator's network than the operator says.
    pub address_classes: Vec<crate::target::AddressClass>,
}

impl ControlPlane {
    /// `GET <path>?tenant_id=<tenant>` (or `&tenant_id=` when the path has a query).
    pub fn callout(&self) -> Callout {
        let sep = if self.path.contains('?') { '&' } else { '?' };
        Callout {
            cluster: self.cluster.clone(),
            headers: vec![
                (":method".into(), "GET".into()),
                (
                    ":path".into(),
                    format!("{}{sep}tenant_id={}", self.path, self.tenant_id),
                ),
                (":authority".into(), self.authority.clone()),
                ("accept".into(), "application/json".into()),
                ("x-tenant-id".into(), self.tenant_id.clone()),
            ],
            body: Vec::new(),
            timeout_ms: self.timeout_ms,
        }
    }
}

/// The shared record: when the last good set was fetched, a fetch's lease, when a fetch was
/// last tried, and the last good answer's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    pub fetched_at_ms: u64,
    pub lease_until_ms: u64,
    pub attempted_at_ms: u64,
    pub body: Vec<u8>,
}

impl Record {
    /// `None` for bytes this version did not write (read as no record).
    pub fn decode(bytes: &[u8]) -> Option<Record> {
        let (head, body) = (bytes.get(..HEADER_BYTES)?, bytes.get(HEADER_BYTES..)?);
        if head.first() != Some(&VERSION) {
            return None;
        }
        let n = |at: usize| -> Option<u64> {
            Some(u64::from_be_bytes(head.get(at..at + 8)?.try_into().ok()?))
        };
        Some(Record {
            fetched_at_ms: n(1)?,
            lease_until_ms: n(9)?,
            attempted_at_ms: n(17)?,
            body: body.to_vec(),
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_BYTES + self.body.len());
        out.push(VERSION);
        out.extend_from_slice(&self.fetched_at_ms.to_be_bytes());
        out.extend_from_slice(&self.lease_until_ms.to_be_bytes());
        out.extend_from_slice(&self.attempted_at_ms.to_be_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// Whether a fetch is due at `now_ms`: none tried for `interval_ms`, and no live lease.
    pub fn due(&self, now_ms: u64, interval_ms: u64) -> bool {
        self.lease_until_ms <= now_ms
            && (self.attempted_at_ms == 0
                || now_ms >= self.attempted_at_ms.saturating_add(interval_ms))
    }
}

/// The SHA-256 of an answer: which set a worker has applied (or refused), so that a record is
/// compiled once per worker, not on every tick.
pub fn fingerprint(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}

/// A read-modify-write of the shared record (compare-and-swap in the glue): `update` sees the
/// record (or `None`) and says what to store, or `None` to store nothing.
pub type Update<'a> = &'a dyn Fn(Option<&[u8]>) -> Option<Vec<u8>>;

/// Takes the lease for a fetch, if one is due: true when this worker must fetch now.
pub fn claim(now_ms: u64, cp: &ControlPlane, update: &dyn Fn(Update) -> bool) -> bool {
    let lease = now_ms
        .saturating_add(u64::from(cp.timeout_ms))
        .saturating_add(1000);
    update(&|old| {
        let mut r = old.and_then(Record::decode).unwrap_or_default();
        if !r.due(now_ms, cp.interval_ms) {
            return None;
        }
        r.lease_until_ms = lease;
        r.attempted_at_ms = now_ms;
        Some(r.encode())
    })
}

/// Stores a fetch's outcome: a valid answer's bytes (`Some`), or only that it was tried
/// (`None`: failed or invalid; the last good set stays). The lease is released.
pub fn store(now_ms: u64, good: Option<&[u8]>, update: &dyn Fn(Update) -> bool) -> bool {
    update(&|old| {
        let mut r = old.and_then(Record::decode).unwrap_or_default();
        r.lease_until_ms = 0;
        r.attempted_at_ms = now_ms;
        if let Some(body) = good {
            r.fetched_at_ms = now_ms;
            r.body = body.to_vec();
        }
        Some(r.encode())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn cp() -> ControlPlane {
        ControlPlane {
            cluster: "control_plane".into(),
            authority: "cp.local".into(),
            path: "/v1/contracts".into(),
            tenant_id: "tenant_abc".into(),
            interval_ms: 30_000,
            timeout_ms: 5_000,
            address_classes: Vec::new(),
        }
    }

    /// A shared store with compare-and-swap, as proxy-wasm's.
    #[derive(Default)]
    struct Shared(RefCell<Option<Vec<u8>>>);
    impl Shared {
        fn update(&self, f: Update) -> bool {
            let old = self.0.borrow().clone();
            match f(old.as_deref()) {
                Some(new) => {
                    *self.0.borrow_mut() = Some(new);
                    true
                }
                None => false,
            }
        }
    }

    #[test]
    fn the_fetch_asks_for_the_tenant() {
        let c = cp().callout();
        assert!(c
            .headers
            .contains(&(":path".into(), "/v1/contracts?tenant_id=tenant_abc".into())));
        let mut q = cp();
        q.path = "/v1/contracts?format=acvps".into();
        assert!(q.callout().headers.contains(&(
            ":path".into(),
            "/v1/contracts?format=acvps&tenant_id=tenant_abc".into()
        )));
    }

    #[test]
    fn one_worker_fetches_per_interval_and_a_failure_keeps_the_last_good_set() {
        let shared = Shared::default();
        let up = |f: Update| shared.update(f);
        // Two workers' ticks at the same time: one lease.
        assert!(claim(1_000, &cp(), &up));
        assert!(!claim(1_000, &cp(), &up));
        assert!(store(1_200, Some(b"{\"contracts\":[]}"), &up));
        let r = Record::decode(shared.0.borrow().as_deref().unwrap()).unwrap();
        assert_eq!(r.body, b"{\"contracts\":[]}");
        assert_eq!(r.fetched_at_ms, 1_200);
        // Not due before the interval.
        assert!(!claim(20_000, &cp(), &up));
        assert!(claim(31_300, &cp(), &up));
        // A failure: tried, nothing stored, the body stays.
        assert!(store(31_400, None, &up));
        let r = Record::decode(shared.0.borrow().as_deref().unwrap()).unwrap();
        assert_eq!(r.body, b"{\"contracts\":[]}");
        assert_eq!(r.fetched_at_ms, 1_200);
        assert_eq!(r.attempted_at_ms, 31_400);
        assert!(!claim(40_000, &cp(), &up));
        assert!(claim(61_400, &cp(), &up));
    }

    #[test]
    fn a_lease_whose_fetch_never_answered_expires() {
        let shared = Shared::default();
        let up = |f: Update| shared.update(f);
        assert!(claim(1_000, &cp(), &up));
        // The lease is the timeout and a second; then the interval since the attempt counts.
        assert!(!claim(5_000, &cp(), &up));
        assert!(claim(31_000, &cp(), &up));
    }

    #[test]
    fn records_of_another_version_read_as_none() {
        assert_eq!(Record::decode(b""), None);
        assert_eq!(Record::decode(&[2; 40]), None);
        let r = Record {
            fetched_at_ms: 1,
            lease_until_ms: 2,
            attempted_at_ms: 3,
            body: b"x".to_vec(),
        };
        assert_eq!(Record::decode(&r.encode()), Some(r));
    }
}
