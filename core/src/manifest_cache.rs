//! The cache of targets' manifests (gateway mode): a table in proxy-wasm shared data, which
//! every worker of one Envoy shares, whose only primitives are a read (bytes and a CAS number)
//! and a write that succeeds only if the CAS number still matches. Every decision here is a
//! value; the glue carries it out (fetch, wait, serve, fail).
//!
//! **Key space.** Targets are chosen by clients, so entries do not get a key per target: the
//! target's origin (`scheme://host:port`, [`origin`]) hashes (SHA-256) to a home slot among
//! the configured number of slots ([`Cache::new`], default [`DEFAULT_MAX_ENTRIES`], at most
//! [`MAX_ENTRIES`]), keys `iatp.manifest.<slot>`, and a target probes [`PROBES`] consecutive
//! slots (open addressing, like the rate-limit buckets, `caller::ratelimit`). Each entry
//! stores its own origin, so an entry of another origin in a probed slot is recognized. An
//! entry that is dead (past its stale window, its negative time and its lease) may be taken
//! over by any origin. When every probed slot holds another origin's live entry, the target
//! is [`Lookup::Uncacheable`].
//!
//! **Slots exist in advance.** Envoy's shared data compares-and-swaps only a value that exists:
//! a write with CAS 0 (a new key) always succeeds, so two workers creating one key at once
//! would both win a lease. The glue creates every slot when it is configured
//! ([`Cache::slot_keys`], with an empty value: an empty slot) and writes through
//! `Host::claim_once`, like the override slots.
//!
//! **An entry** holds a content and a lease:
//! * content: nothing, `Found` (fetched at, expires at = fetched at + TTL, stale until =
//!   expiry + stale window, the manifest's [`Summary`]) or `Negative` (until = written at +
//!   negative TTL, its [`Reason`]: not found, invalid, failed);
//! * lease (`fetching_until`, Unix ms): single flight. Only the request (or root context)
//!   whose compare-and-swap stored the lease fetches ([`Cache::claim_fetch`] →
//!   [`Lease::Granted`]); the others see [`Lookup::Wait`] (nothing usable) or
//!   [`Lookup::Stale`] with `refresh: false` (a stale summary to serve). The lease lasts the
//!   fetch's timeout ([`Cache::lease_ms`]): a fetcher that never stores (its worker
//!   restarted, its answer lost) blocks the others that long at most.
//!
//! **A failed fetch** ([`Fetched::Failed`]: a timeout, a reset, a 5xx) does not throw away a
//! stale summary: it stays served until its stale window ends (not extended: a target that
//! stays down is not trusted on an old manifest for more than `stale_ms` past its TTL), and
//! no one fetches again for `negative_ttl_ms` (the lease is kept that long, as a back-off).
//! Without a usable summary, a failure is a negative entry. A failure never overwrites a fresh
//! summary another worker stored meanwhile. A `404`, or a body `remote_manifest::read`
//! refuses, replaces whatever was there (the target answered).
//!
//! **Encoding** (version [`VERSION`], big-endian; anything else is an empty slot): version
//! (u8), content tag (u8: 0 nothing, 1 found, 2 negative), lease until (u64, 0 = none), origin
//! length (u16), origin (ASCII, at most [`MAX_ORIGIN_BYTES`]); found: fetched at, expires at,
//! stale until (u64 each), the summary (`Summary::encode`, the rest of the value); negative:
//! until (u64), reason (u8). At most [`MAX_ENTRY_BYTES`] bytes.

use std::cell::Cell;

use sha2::{Digest, Sha256};

use crate::caller::ratelimit::Claim;
use crate::remote_manifest::{Summary, MAX_SUMMARY_BYTES};
use crate::target::{Host, Scheme, Target};

/// Slots (entries) by default.
pub const DEFAULT_MAX_ENTRIES: u32 = 1024;
/// The most slots a configuration may ask for.
pub const MAX_ENTRIES: u32 = 65_536;
/// Slots a target tries, from its home slot on.
pub const PROBES: u32 = 4;
/// How long a manifest is fresh, by default: one hour.
pub const DEFAULT_TTL_MS: u64 = 3_600_000;
/// How long a refusal (not found, invalid, failed) is remembered, by default: one minute.
pub const DEFAULT_NEGATIVE_TTL_MS: u64 = 60_000;
/// How long after its expiry a manifest may still be served while one refreshes it, by
/// default: five minutes.
pub const DEFAULT_STALE_MS: u64 = 300_000;
/// How long a lease lasts by default: the fetch's timeout.
pub const DEFAULT_LEASE_MS: u64 = 5_000;
/// The encoding's version, the first byte of every entry.
pub const VERSION: u8 = 1;
/// The longest origin an entry holds (`https://` + a 253-byte DNS name + `:65535` fits).
pub const MAX_ORIGIN_BYTES: usize = 300;
/// The shared-data key prefix; a slot's key is the prefix and its number.
pub const KEY_PREFIX: &str = "iatp.manifest.";
/// Version, tag, lease (u64), origin length (u16).
const HEAD_BYTES: usize = 1 + 1 + 8 + 2;
/// Fetched at, expires at, stale until.
const FOUND_BYTES: usize = 8 * 3;
/// The largest entry: a found summary under the longest origin.
pub const MAX_ENTRY_BYTES: usize = HEAD_BYTES + MAX_ORIGIN_BYTES + FOUND_BYTES + MAX_SUMMARY_BYTES;

const TAG_EMPTY: u8 = 0;
const TAG_FOUND: u8 = 1;
const TAG_NEGATIVE: u8 = 2;

/// Reads one shared-data key: its bytes, `None` when it does not exist
/// (`get_shared_data`, without the CAS number).
pub type Read<'a> = &'a dyn Fn(&str) -> Option<Vec<u8>>;

/// Why a target has no manifest, as remembered by a negative entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The target answered `404` (or `410`): it publishes no manifest.
    NotFound,
    /// It answered with a body `remote_manifest::read` refuses.
    Invalid,
    /// No answer: a timeout, a reset, a 5xx, an unusable status.
    Failed,
}

impl Reason {
    const ALL: [Reason; 3] = [Reason::NotFound, Reason::Invalid, Reason::Failed];

    /// `not_found`, `invalid`, `failed`: for events and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NotFound => "not_found",
            Reason::Invalid => "invalid",
            Reason::Failed => "failed",
        }
    }

    fn code(self) -> u8 {
        match self {
            Reason::NotFound => 0,
            Reason::Invalid => 1,
            Reason::Failed => 2,
        }
    }
}

/// What a fetch of a target's manifest gave, for [`Cache::store`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// A manifest read (`remote_manifest::read`), with `attested_until_ms` filled when its
    /// attestation was verified.
    Found(Summary),
    NotFound,
    Invalid,
    Failed,
}

/// What the cache holds for a target, now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A fresh summary: use it.
    Hit(Summary),
    /// Expired, within its stale window: serve it; when `refresh`, no one is fetching, so ask
    /// for the lease ([`Cache::claim_fetch`]) and refresh in the background.
    Stale { summary: Summary, refresh: bool },
    /// A remembered refusal: no fetch until it expires.
    Negative(Reason),
    /// Someone else is fetching and nothing usable is here: wait for its store (poll), at
    /// most the lease's time.
    Wait,
    /// Nothing (or only dead entries): ask for the lease and fetch.
    Miss,
    /// Nothing, and every probed slot holds another target's live entry: the target cannot be
    /// cached now.
    Uncacheable,
}

/// What [`Cache::claim_fetch`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// The lease is this caller's: fetch, then [`Cache::store`].
    Granted,
    /// Another holds a live lease (or a failed refresh's back-off runs): wait or serve stale.
    Held,
    /// The entry became usable meanwhile (fresh or negative): look it up again.
    Current,
    /// No slot for the target ([`Lookup::Uncacheable`]).
    NoRoom,
    /// The write failed: shared data kept refusing it (every compare-and-swap retry lost, or
    /// the slot is missing). No lease was stored.
    Lost,
}

/// What [`Cache::store`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored as fetched (a found summary, or a negative entry).
    Written,
    /// A failure left a usable summary in place: a fresh one (another fetch stored it
    /// meanwhile) untouched, or a stale one kept, with a back-off lease.
    KeptUsable,
    /// No slot for the target.
    NoRoom,
    /// Shared data kept refusing the write.
    Lost,
}

/// The cache's settings, compiled once at configure time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cache {
    slots: u32,
    /// How long a found manifest is fresh (`ttl_s` × 1000).
    pub ttl_ms: u64,
    /// How long a refusal is remembered.
    pub negative_ttl_ms: u64,
    /// How long past its expiry a summary may be served while it is refreshed.
    pub stale_ms: u64,
    /// How long a lease lasts: the fetch's timeout, so also the longest a [`Lookup::Wait`]
    /// lasts.
    pub lease_ms: u64,
}

/// The origin of a target, as entries are keyed: `scheme://host:port`, the port always
/// written, an IPv6 address in brackets (RFC 5952 text), a name as `Target::parse` lowered it.
pub fn origin(target: &Target) -> String {
    let scheme = match target.scheme {
        Scheme::Http => "http",
        Scheme::Https => "https",
    };
    let port = target.port;
    match &target.host {
        Host::Ipv4(a) => format!("{scheme}://{a}:{port}"),
        Host::Ipv6(a) => format!("{scheme}://[{a}]:{port}"),
        Host::Name(n) => format!("{scheme}://{n}:{port}"),
    }
}

/// The shared-data key of a slot.
pub fn slot_key(slot: u32) -> String {
    format!("{KEY_PREFIX}{slot}")
}

/// An entry's content and lease.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    lease_until: u64,
    content: Content,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    Empty,
    Found {
        fetched_at: u64,
        expires_at: u64,
        stale_until: u64,
        summary: Summary,
    },
    Negative {
        until: u64,
        reason: Reason,
    },
}

impl State {
    fn leased(&self, now: u64) -> bool {
        now < self.lease_until
    }

    /// Another origin may take the slot: nothing in it matters any more, or it only remembers
    /// a refusal (cheap to lose: that origin is asked again on its next request) and no fetch
    /// holds it. Were a live negative entry kept, a client could fill a target's probed slots
    /// with names that never resolve and keep that target out of the cache.
    fn evictable(&self, now: u64) -> bool {
        self.dead(now) || (matches!(self.content, Content::Negative { .. }) && !self.leased(now))
    }

    /// Nothing in it matters any more.
    fn dead(&self, now: u64) -> bool {
        let end = match &self.content {
            Content::Empty => 0,
            Content::Found { stale_until, .. } => *stale_until,
            Content::Negative { until, .. } => *until,
        };
        now >= end.max(self.lease_until)
    }
}

/// A slot's value, decoded: the origin it belongs to and its state.
#[derive(Debug)]
struct Entry<'a> {
    origin: &'a str,
    state: State,
}

fn word(b: &[u8], at: usize) -> Option<u64> {
    let mut w = [0u8; 8];
    w.copy_from_slice(b.get(at..at.checked_add(8)?)?);
    Some(u64::from_be_bytes(w))
}

impl<'a> Entry<'a> {
    /// `None` for anything but a whole entry of this version: an empty slot.
    fn decode(b: &'a [u8]) -> Option<Entry<'a>> {
        if b.first() != Some(&VERSION) {
            return None;
        }
        let tag = *b.get(1)?;
        let lease_until = word(b, 2)?;
        let mut len = [0u8; 2];
        len.copy_from_slice(b.get(10..HEAD_BYTES)?);
        let len = usize::from(u16::from_be_bytes(len));
        if len == 0 || len > MAX_ORIGIN_BYTES {
            return None;
        }
        let origin = std::str::from_utf8(b.get(HEAD_BYTES..HEAD_BYTES + len)?).ok()?;
        let rest = b.get(HEAD_BYTES + len..)?;
        let content = match tag {
            TAG_EMPTY if rest.is_empty() => Content::Empty,
            TAG_FOUND => Content::Found {
                fetched_at: word(rest, 0)?,
                expires_at: word(rest, 8)?,
                stale_until: word(rest, 16)?,
                summary: Summary::decode(rest.get(FOUND_BYTES..)?)?,
            },
            TAG_NEGATIVE if rest.len() == 9 => Content::Negative {
                until: word(rest, 0)?,
                reason: *Reason::ALL.get(usize::from(*rest.get(8)?))?,
            },
            _ => return None,
        };
        Some(Entry {
            origin,
            state: State {
                lease_until,
                content,
            },
        })
    }
}

/// The bytes of `origin`'s entry in `state`; `None` for an origin or summary out of bounds.
fn encode(origin: &str, state: &State) -> Option<Vec<u8>> {
    let o = origin.as_bytes();
    if o.is_empty() || o.len() > MAX_ORIGIN_BYTES {
        return None;
    }
    let mut out = Vec::with_capacity(HEAD_BYTES + o.len() + FOUND_BYTES + MAX_SUMMARY_BYTES);
    out.push(VERSION);
    out.push(match state.content {
        Content::Empty => TAG_EMPTY,
        Content::Found { .. } => TAG_FOUND,
        Content::Negative { .. } => TAG_NEGATIVE,
    });
    out.extend_from_slice(&state.lease_until.to_be_bytes());
    out.extend_from_slice(&u16::try_from(o.len()).ok()?.to_be_bytes());
    out.extend_from_slice(o);
    match &state.content {
        Content::Empty => {}
        Content::Found {
            fetched_at,
            expires_at,
            stale_until,
            summary,
        } => {
            for w in [fetched_at, expires_at, stale_until] {
                out.extend_from_slice(&w.to_be_bytes());
            }
            out.extend_from_slice(&summary.encode()?);
        }
        Content::Negative { until, reason } => {
            out.extend_from_slice(&until.to_be_bytes());
            out.push(reason.code());
        }
    }
    Some(out)
}

/// What one compare-and-swap attempt on a slot saw.
#[derive(Clone, Copy)]
enum Seen<T> {
    /// The update never ran (the slot could not be read).
    Unread,
    /// Another origin's entry: dead (or no entry at all: `free`), or live.
    Other { free: bool },
    /// This origin's entry (or a free slot taken): the outcome, and whether it wrote.
    Ours { outcome: T, writes: bool },
}

/// A decision about this origin's state in a slot (`None`: a free slot): the state to write,
/// if any, and the outcome to report.
type Decide<'a, T> = &'a dyn Fn(Option<&State>) -> (Option<State>, T);

impl Cache {
    /// A cache of `max_entries` slots (1 to [`MAX_ENTRIES`]) with the default TTLs and lease;
    /// `None` out of bounds.
    pub fn new(max_entries: u32) -> Option<Cache> {
        (1..=MAX_ENTRIES).contains(&max_entries).then_some(Cache {
            slots: max_entries,
            ttl_ms: DEFAULT_TTL_MS,
            negative_ttl_ms: DEFAULT_NEGATIVE_TTL_MS,
            stale_ms: DEFAULT_STALE_MS,
            lease_ms: DEFAULT_LEASE_MS,
        })
    }

    /// The number of slots.
    pub fn slots(&self) -> u32 {
        self.slots
    }

    /// Every slot's key: the glue creates the missing ones (empty) when it is configured.
    pub fn slot_keys(&self) -> impl Iterator<Item = String> {
        (0..self.slots).map(slot_key)
    }

    /// The keys `origin` probes, in order (fewer than [`PROBES`] when there are fewer slots).
    fn probe_keys(&self, origin: &str) -> impl Iterator<Item = String> {
        let d = Sha256::digest(origin.as_bytes());
        let mut h = [0u8; 4];
        for (dst, src) in h.iter_mut().zip(d.iter()) {
            *dst = *src;
        }
        let slots = self.slots.max(1);
        let home = u32::from_be_bytes(h) % slots;
        (0..PROBES.min(slots)).map(move |k| slot_key((home + k) % slots))
    }

    /// What the cache holds for `origin` ([`origin`]) at `now_ms` (Unix ms): one read per
    /// probed slot, up to the first that holds `origin`. Writes nothing.
    pub fn lookup(&self, origin: &str, now_ms: u64, read: Read) -> Lookup {
        if origin.is_empty() || origin.len() > MAX_ORIGIN_BYTES {
            return Lookup::Uncacheable;
        }
        let mut room = false;
        for key in self.probe_keys(origin) {
            let value = read(&key);
            match value.as_deref().and_then(Entry::decode) {
                Some(e) if e.origin == origin => return classify(e.state, now_ms),
                Some(e) => room |= e.state.evictable(now_ms),
                None => room = true,
            }
        }
        if room {
            Lookup::Miss
        } else {
            Lookup::Uncacheable
        }
    }

    /// Takes the lease on `origin`'s entry (single flight), atomically: granted when no live
    /// lease is held and no fresh or negative content makes a fetch pointless. A stale summary
    /// is kept (still served while this fetch runs). The lease lasts [`Cache::lease_ms`].
    pub fn claim_fetch(&self, origin: &str, now_ms: u64, claim: Claim) -> Lease {
        let lease_until = now_ms.saturating_add(self.lease_ms);
        let decide = |current: Option<&State>| -> (Option<State>, Lease) {
            let content = match current {
                None => Content::Empty,
                Some(s) => match &s.content {
                    Content::Found { expires_at, .. } if now_ms < *expires_at => {
                        return (None, Lease::Current)
                    }
                    Content::Negative { until, .. } if now_ms < *until => {
                        return (None, Lease::Current)
                    }
                    _ if s.leased(now_ms) => return (None, Lease::Held),
                    c @ Content::Found { stale_until, .. } if now_ms < *stale_until => c.clone(),
                    _ => Content::Empty,
                },
            };
            (
                Some(State {
                    lease_until,
                    content,
                }),
                Lease::Granted,
            )
        };
        self.place(origin, now_ms, claim, &decide, Lease::NoRoom, Lease::Lost)
    }

    /// Stores what a fetch of `origin`'s manifest gave, clearing the lease: a summary is fresh
    /// for [`Cache::ttl_ms`] then stale for [`Cache::stale_ms`]; not found and invalid are
    /// negative for [`Cache::negative_ttl_ms`]; a failure keeps a usable summary (see the
    /// module's notes) and is otherwise negative. A summary that cannot be encoded (an agent
    /// id `remote_manifest::read` would refuse) is stored as invalid.
    pub fn store(&self, origin: &str, now_ms: u64, fetched: Fetched, claim: Claim) -> Stored {
        let fetched = match fetched {
            Fetched::Found(s) if s.encode().is_none() => Fetched::Invalid,
            other => other,
        };
        let negative = |reason| State {
            lease_until: 0,
            content: Content::Negative {
                until: now_ms.saturating_add(self.negative_ttl_ms),
                reason,
            },
        };
        let decide = |current: Option<&State>| -> (Option<State>, Stored) {
            let state = match &fetched {
                Fetched::Found(summary) => {
                    let expires_at = now_ms.saturating_add(self.ttl_ms);
                    State {
                        lease_until: 0,
                        content: Content::Found {
                            fetched_at: now_ms,
                            expires_at,
                            stale_until: expires_at.saturating_add(self.stale_ms),
                            summary: summary.clone(),
                        },
                    }
                }
                Fetched::NotFound => negative(Reason::NotFound),
                Fetched::Invalid => negative(Reason::Invalid),
                Fetched::Failed => match current.map(|s| &s.content) {
                    Some(Content::Found { expires_at, .. }) if now_ms < *expires_at => {
                        return (None, Stored::KeptUsable)
                    }
                    Some(c @ Content::Found { stale_until, .. }) if now_ms < *stale_until => {
                        let back_off = now_ms.saturating_add(self.negative_ttl_ms);
                        return (
                            Some(State {
                                lease_until: back_off.min(*stale_until),
                                content: c.clone(),
                            }),
                            Stored::KeptUsable,
                        );
                    }
                    _ => negative(Reason::Failed),
                },
            };
            (Some(state), Stored::Written)
        };
        self.place(origin, now_ms, claim, &decide, Stored::NoRoom, Stored::Lost)
    }

    /// Applies `decide` to `origin`'s entry: first the probed slot that holds it, else the
    /// first probed slot that is free (empty, undecodable, or another origin's dead entry),
    /// each through one compare-and-swap (`claim` re-runs the update on what a concurrent
    /// writer stored, so a slot taken meanwhile is seen as taken).
    fn place<T: Copy>(
        &self,
        origin: &str,
        now_ms: u64,
        claim: Claim,
        decide: Decide<T>,
        no_room: T,
        lost: T,
    ) -> T {
        if origin.is_empty() || origin.len() > MAX_ORIGIN_BYTES {
            return no_room;
        }
        // One attempt on `key`; `take_free`: a free slot may be taken.
        let attempt = |key: &str, take_free: bool| -> Seen<T> {
            let seen = Cell::new(Seen::Unread);
            let stored = claim(key, &|value: Option<&[u8]>| {
                let entry = value.and_then(Entry::decode);
                let current = match &entry {
                    Some(e) if e.origin == origin => Some(&e.state),
                    Some(e) if !e.state.evictable(now_ms) => {
                        seen.set(Seen::Other { free: false });
                        return None;
                    }
                    _ if take_free => None,
                    _ => {
                        seen.set(Seen::Other { free: true });
                        return None;
                    }
                };
                let (next, outcome) = decide(current);
                let bytes = next.and_then(|s| encode(origin, &s));
                seen.set(Seen::Ours {
                    outcome,
                    writes: bytes.is_some(),
                });
                bytes
            });
            match seen.get() {
                Seen::Ours { writes: true, .. } if !stored => Seen::Ours {
                    outcome: lost,
                    writes: false,
                },
                other => other,
            }
        };
        let mut free = [false; PROBES as usize];
        for (key, is_free) in self.probe_keys(origin).zip(free.iter_mut()) {
            match attempt(&key, false) {
                Seen::Ours { outcome, .. } => return outcome,
                Seen::Other { free } => *is_free = free,
                Seen::Unread => {}
            }
        }
        for (key, _) in self
            .probe_keys(origin)
            .zip(free)
            .filter(|(_, is_free)| *is_free)
        {
            if let Seen::Ours { outcome, .. } = attempt(&key, true) {
                return outcome;
            }
        }
        no_room
    }
}

/// What an entry of this origin means at `now`.
fn classify(state: State, now: u64) -> Lookup {
    let leased = state.leased(now);
    match state.content {
        Content::Found {
            expires_at,
            summary,
            ..
        } if now < expires_at => Lookup::Hit(summary),
        Content::Found {
            stale_until,
            summary,
            ..
        } if now < stale_until => Lookup::Stale {
            summary,
            refresh: !leased,
        },
        Content::Negative { until, reason } if now < until => Lookup::Negative(reason),
        _ if leased => Lookup::Wait,
        _ => Lookup::Miss,
    }
}

#[cfg(test)]
mod tests;
