//! Per-caller rate limits: token buckets in proxy-wasm shared data, which every worker of one
//! Envoy shares and updates by compare-and-swap, so a limit holds across workers.
//!
//! **Key space.** A caller's identity (its [`Source`] and id) may be attacker-chosen (a declared
//! header), so buckets do not get a key per identity: the identity's SHA-256 gives a 64-bit
//! fingerprint and a home slot among [`SLOTS`]; a caller probes [`PROBES`] consecutive slots
//! (open addressing). A slot belongs to the fingerprint stored in it, until that bucket would
//! be full by now (`full_at_ms` has passed): a full bucket is the same as a fresh one, so the
//! slot can then be taken by another caller without changing anything for its owner.
//!
//! **All probed slots busy.** The caller is charged on one shared overflow bucket
//! ([`OVERFLOW_KEY`]), with its own limit. Many identities created to evade a limit (or to push
//! a real caller out of its slots) then share one bucket: a flood of new identities is still
//! limited as a whole, rather than let through (fail open) or refused outright (which would let
//! anyone who finds identities hashing to a caller's slots deny it service).
//!
//! **State.** [`STATE_BYTES`] bytes, big-endian: fingerprint (u64), tokens in units of
//! 1/60,000 token (u64), time of the last refill (Unix ms, u64), time at which the bucket is
//! full again (Unix ms, u64). One token per minute per request-per-minute is exactly one unit
//! per millisecond per request-per-minute, so the refill is integer arithmetic without drift.
//!
//! **Headers.** `RateLimit-Policy` and `RateLimit` as draft-ietf-httpapi-ratelimit-headers-11
//! (May 2026) §3 and §4 define them (Structured Field lists whose items are Strings with
//! parameters), and `Retry-After` in seconds (RFC 9110 §10.2.3).

use std::cell::Cell;

use sha2::{Digest, Sha256};

use super::Source;
use crate::phases::SlotUpdate;

/// Buckets in shared data (each [`STATE_BYTES`] bytes, plus Envoy's key and bookkeeping).
pub const SLOTS: u32 = 16_384;
/// Slots a caller tries, from its home slot on.
pub const PROBES: u32 = 4;
/// The size of one bucket's state.
pub const STATE_BYTES: usize = 32;
/// One token, in the bucket's units: a limit of `n` requests per minute refills `n` units per
/// millisecond.
pub const UNITS_PER_TOKEN: u64 = 60_000;
/// The bounds of `requests_per_minute` and `burst` in the configuration.
pub const MAX_REQUESTS_PER_MINUTE: u32 = 1_000_000;
pub const MAX_BURST: u32 = 1_000_000;
/// The shared-data key of the overflow bucket.
pub const OVERFLOW_KEY: &str = "iatp.ratelimit.overflow";
/// The name of the one quota policy the headers describe.
pub const POLICY_NAME: &str = "default";
/// Response header names (lower-case, as HTTP/2 and Envoy write them).
pub const RATELIMIT_POLICY_HEADER: &str = "ratelimit-policy";
pub const RATELIMIT_HEADER: &str = "ratelimit";
pub const RETRY_AFTER_HEADER: &str = "retry-after";

/// A token bucket's parameters: refilled at `requests_per_minute`, holding at most `burst`
/// tokens (one request takes one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub requests_per_minute: u32,
    pub burst: u32,
}

impl Limit {
    fn capacity(self) -> u64 {
        u64::from(self.burst).saturating_mul(UNITS_PER_TOKEN)
    }

    fn rate(self) -> u64 {
        u64::from(self.requests_per_minute.max(1))
    }
}

/// Where a caller's bucket lives: its fingerprint and home slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketKey {
    fingerprint: u64,
    home: u32,
    /// A bucket of its own ([`identity_key`]).
    dedicated: bool,
}

impl BucketKey {
    /// The key of an identity: SHA-256 over the source's name, a NUL and the id (so that a
    /// header value never shares a bucket with the same text as a JWT subject).
    pub fn of(source: Source, id: &str) -> BucketKey {
        let mut h = Sha256::new();
        h.update(source.as_str().as_bytes());
        h.update([0u8]);
        h.update(id.as_bytes());
        let d = h.finalize();
        let mut fp = [0u8; 8];
        let mut home = [0u8; 4];
        for (dst, src) in fp.iter_mut().zip(d.iter()) {
            *dst = *src;
        }
        for (dst, src) in home.iter_mut().zip(d.iter().skip(8)) {
            *dst = *src;
        }
        BucketKey {
            // 0 is the overflow bucket's.
            fingerprint: u64::from_be_bytes(fp).max(1),
            home: u32::from_be_bytes(home) % SLOTS,
            dedicated: false,
        }
    }

    /// The same identity, in a bucket of its own ([`identity_key`]): for an identity a
    /// directory entry names exactly.
    pub fn dedicated(self) -> BucketKey {
        BucketKey {
            dedicated: true,
            ..self
        }
    }

    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The slots probed, in order.
    pub fn slots(&self) -> impl Iterator<Item = u32> {
        let home = self.home;
        (0..PROBES).map(move |k| (home + k) % SLOTS)
    }
}

/// The shared-data key of the bucket of an identity a directory entry names exactly, by its
/// fingerprint: as many as the configuration names (a reload that reorders the directory
/// keeps each identity's bucket; shared data keeps the keys of identities a reload dropped,
/// 32 bytes each).
pub fn identity_key(fingerprint: u64) -> String {
    format!("iatp.ratelimit.id.{fingerprint:016x}")
}

/// The shared-data key of a slot.
pub fn slot_key(slot: u32) -> String {
    format!("iatp.ratelimit.{slot}")
}

/// What one request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Whole tokens left after this request (the `r` of `RateLimit`).
    pub remaining: u64,
    /// Denied: seconds until one token is back (`Retry-After`), at least 1; allowed: 0.
    pub retry_after_secs: u64,
    /// Seconds within which no more than `remaining` requests can pass: until the next whole
    /// token (the `t` of `RateLimit`, draft §4.1.2); equal to `retry_after_secs` when denied.
    pub window_secs: u64,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
}

/// A bucket's state, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    fingerprint: u64,
    units: u64,
    last_ms: u64,
    full_at_ms: u64,
}

impl State {
    fn decode(b: &[u8]) -> Option<State> {
        let word = |i: usize| -> Option<u64> {
            let mut a = [0u8; 8];
            a.copy_from_slice(b.get(i * 8..i * 8 + 8)?);
            Some(u64::from_be_bytes(a))
        };
        if b.len() != STATE_BYTES {
            return None;
        }
        Some(State {
            fingerprint: word(0)?,
            units: word(1)?,
            last_ms: word(2)?,
            full_at_ms: word(3)?,
        })
    }

    fn encode(self) -> [u8; STATE_BYTES] {
        let mut out = [0u8; STATE_BYTES];
        for (chunk, w) in out.chunks_exact_mut(8).zip([
            self.fingerprint,
            self.units,
            self.last_ms,
            self.full_at_ms,
        ]) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

/// `units / rate` milliseconds, rounded up.
fn ms_for(units: u64, rate: u64) -> u64 {
    units.div_ceil(rate)
}

fn secs_ceil(ms: u64) -> u64 {
    ms.div_ceil(1000)
}

/// One request against the bucket in `state` (a slot's bytes, `None` if empty) at `now_ms`:
/// the state to store and the decision, or `None` when the slot belongs to another
/// fingerprint whose bucket is not full yet (busy: try the next slot).
///
/// A state of another size is a fresh bucket. A clock that goes backwards refills nothing
/// (and never moves the last refill back). Arithmetic saturates.
pub fn take(
    fingerprint: u64,
    state: Option<&[u8]>,
    now_ms: u64,
    limit: Limit,
) -> Option<([u8; STATE_BYTES], Decision)> {
    let cap = limit.capacity();
    let rate = limit.rate();
    let fresh = (cap, now_ms);
    let (units, last_ms) = match state.and_then(State::decode) {
        Some(s) if s.fingerprint == fingerprint => {
            let refill = now_ms.saturating_sub(s.last_ms).saturating_mul(rate);
            (
                s.units.min(cap).saturating_add(refill).min(cap),
                s.last_ms.max(now_ms),
            )
        }
        Some(s) if now_ms < s.full_at_ms => return None,
        _ => fresh,
    };
    let allowed = units >= UNITS_PER_TOKEN;
    let units = if allowed {
        units - UNITS_PER_TOKEN
    } else {
        units
    };
    let to_full_ms = ms_for(cap - units, rate);
    let retry_after_secs = if allowed {
        0
    } else {
        secs_ceil(ms_for(UNITS_PER_TOKEN - units, rate)).max(1)
    };
    // Allowed, the bucket is below its capacity by at least the token just taken, so the
    // next whole token is always coming.
    let window_secs = if allowed {
        secs_ceil(ms_for(UNITS_PER_TOKEN - units % UNITS_PER_TOKEN, rate))
    } else {
        retry_after_secs
    };
    let state = State {
        fingerprint,
        units,
        last_ms,
        full_at_ms: last_ms.saturating_add(to_full_ms),
    };
    Some((
        state.encode(),
        Decision {
            allowed,
            remaining: units / UNITS_PER_TOKEN,
            retry_after_secs,
            window_secs,
            reset_secs: secs_ceil(to_full_ms),
        },
    ))
}

/// What [`charge`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    pub decision: Decision,
    /// Charged on the shared overflow bucket: every probed slot was busy.
    pub overflow: bool,
    /// False when shared data kept refusing the write (compare-and-swap lost every retry):
    /// the decision stands (computed from the latest state read) but was not recorded.
    pub stored: bool,
}

/// The read-modify-write the host offers on one shared-data key (`phases::Host::update_shared`):
/// true when `update`'s bytes were stored; false when `update` said `None` or the store
/// failed.
pub type Claim<'a> = &'a dyn Fn(&str, SlotUpdate) -> bool;

/// Charges one request to `key`'s bucket: its probed slots in order, then the overflow
/// bucket. The exchange passes `|k, u| host.update_shared(k, u)` (the slots are not made in advance).
pub fn charge(key: &BucketKey, now_ms: u64, limit: Limit, claim: Claim) -> Charge {
    #[derive(Clone, Copy)]
    enum Outcome {
        Busy,
        Taken(Decision),
    }
    let attempt = |slot_key: &str, fingerprint: u64| {
        let outcome = Cell::new(Outcome::Busy);
        let stored = claim(
            slot_key,
            &|state| match take(fingerprint, state, now_ms, limit) {
                Some((s, d)) => {
                    outcome.set(Outcome::Taken(d));
                    Some(s.to_vec())
                }
                None => {
                    outcome.set(Outcome::Busy);
                    None
                }
            },
        );
        match outcome.get() {
            Outcome::Taken(decision) => Some((decision, stored)),
            Outcome::Busy => None,
        }
    };
    if key.dedicated {
        // Only this identity maps here (a 64-bit fingerprint: another identity's would be a
        // collision; the overflow bucket then, until it is full again).
        if let Some((decision, stored)) = attempt(&identity_key(key.fingerprint), key.fingerprint) {
            return Charge {
                decision,
                overflow: false,
                stored,
            };
        }
    }
    for slot in key.slots().filter(|_| !key.dedicated) {
        if let Some((decision, stored)) = attempt(&slot_key(slot), key.fingerprint) {
            return Charge {
                decision,
                overflow: false,
                stored,
            };
        }
    }
    // Fingerprint 0 is the overflow bucket's own: never busy.
    let (decision, stored) = attempt(OVERFLOW_KEY, 0).unwrap_or((
        Decision {
            allowed: true,
            remaining: 0,
            retry_after_secs: 0,
            window_secs: 0,
            reset_secs: 0,
        },
        false,
    ));
    Charge {
        decision,
        overflow: true,
        stored,
    }
}

/// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers-11 §3): the quota `q` requests per
/// window `w` of 60 seconds, and the bucket's size as the vendor parameter `iatp-burst` (§3.1:
/// service-specific parameters are prefixed). No `pk`: it would echo the caller's identity.
/// `"default";q=60;w=60;iatp-burst=10`.
pub fn policy_header(limit: Limit) -> String {
    format!(
        "\"{POLICY_NAME}\";q={};w=60;iatp-burst={}",
        limit.requests_per_minute, limit.burst
    )
}

/// `RateLimit` (draft §4): the available quota `r` and the effective window `t`, seconds.
/// `"default";r=0;t=12`.
pub fn ratelimit_header(d: &Decision) -> String {
    format!("\"{POLICY_NAME}\";r={};t={}", d.remaining, d.window_secs)
}

/// `Retry-After` (RFC 9110 §10.2.3, delay-seconds) of a denied request; `None` when allowed.
pub fn retry_after_header(d: &Decision) -> Option<String> {
    (!d.allowed).then(|| d.retry_after_secs.to_string())
}

#[cfg(test)]
mod tests;
