use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use super::*;
use crate::manifest::{Retention, Reversibility, TrustLevel};
use crate::phases::SlotUpdate;
use crate::remote_manifest::{Attestation, MAX_SUMMARY_BYTES};

const T0: u64 = 1_800_000_000_000;
const A: &str = "https://a.example:443";
const B: &str = "https://b.example:443";

/// Envoy's shared data as proxy-wasm's host implements it (`SharedData::set`): a value and a
/// CAS number per key; a write with CAS 0 always succeeds, another only while the number
/// matches; every write gets a new number. `claim` is the filter's `compare_and_swap` without
/// creating keys (`Host::claim_once`), with a hook that runs once between a read and its
/// write: another worker's whole operation, interleaved.
#[derive(Default)]
struct Shared {
    map: RefCell<HashMap<String, (Vec<u8>, u32)>>,
    next_cas: Cell<u32>,
    hook: RefCell<Option<Box<dyn FnOnce()>>>,
    /// Writes refused as if another worker always won.
    refuse_writes: Cell<bool>,
    writes: Cell<u32>,
}

impl Shared {
    fn new(cache: &Cache) -> Rc<Shared> {
        let s = Rc::new(Shared::default());
        for key in cache.slot_keys() {
            s.set(&key, b"", 0).unwrap();
        }
        s
    }

    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), ()> {
        let mut map = self.map.borrow_mut();
        if let Some((_, current)) = map.get(key) {
            if cas != 0 && cas != *current {
                return Err(());
            }
        }
        let n = self.next_cas.get() + 1;
        self.next_cas.set(n);
        map.insert(key.to_string(), (value.to_vec(), n));
        Ok(())
    }

    fn read(&self, key: &str) -> Option<Vec<u8>> {
        self.map.borrow().get(key).map(|(v, _)| v.clone())
    }

    fn claim(&self, key: &str, update: SlotUpdate) -> bool {
        for _ in 0..4 {
            let Some((value, cas)) = self.map.borrow().get(key).cloned() else {
                return false;
            };
            let Some(next) = update(Some(&value)) else {
                return false;
            };
            let hook = self.hook.borrow_mut().take();
            if let Some(other_worker) = hook {
                other_worker();
            }
            if self.refuse_writes.get() {
                continue;
            }
            if self.set(key, &next, cas).is_ok() {
                self.writes.set(self.writes.get() + 1);
                return true;
            }
        }
        false
    }

    fn on_next_write(&self, f: impl FnOnce() + 'static) {
        *self.hook.borrow_mut() = Some(Box::new(f));
    }
}

/// One worker's view: the cache's calls over the shared store.
struct Worker<'a> {
    cache: &'a Cache,
    shared: &'a Shared,
}

impl Worker<'_> {
    fn lookup(&self, origin: &str, now: u64) -> Lookup {
        self.cache.lookup(origin, now, &|k| self.shared.read(k))
    }
    fn claim(&self, origin: &str, now: u64) -> Lease {
        self.cache
            .claim_fetch(origin, now, &|k, u| self.shared.claim(k, u))
    }
    fn store(&self, origin: &str, now: u64, fetched: Fetched) -> Stored {
        self.cache
            .store(origin, now, fetched, &|k, u| self.shared.claim(k, u))
    }
}

fn summary(id: &str) -> Summary {
    Summary {
        agent_id: id.into(),
        trust_level: TrustLevel::Trusted,
        retention: Some(Retention::Ephemeral),
        reversibility: Reversibility::Partial,
        human_in_loop: false,
        training_consent: false,
        attestation: Attestation::Absent,
        attested_until_ms: None,
    }
}

fn cache(slots: u32) -> Cache {
    Cache::new(slots).unwrap()
}

#[test]
fn miss_claim_fetch_store_hit() {
    let c = cache(DEFAULT_MAX_ENTRIES);
    let shared = Shared::new(&c);
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    assert_eq!(w.lookup(A, T0), Lookup::Miss);
    assert_eq!(w.claim(A, T0), Lease::Granted);
    // Another worker (or request) sees the lease: nothing to serve, someone is fetching.
    assert_eq!(w.lookup(A, T0 + 1), Lookup::Wait);
    assert_eq!(w.claim(A, T0 + 1), Lease::Held);
    assert_eq!(
        w.store(A, T0 + 2, Fetched::Found(summary("a"))),
        Stored::Written
    );
    assert_eq!(w.lookup(A, T0 + 3), Lookup::Hit(summary("a")));
    assert_eq!(w.claim(A, T0 + 3), Lease::Current);
    // Other origins are not this one.
    assert_eq!(w.lookup(B, T0 + 3), Lookup::Miss);
}

#[test]
fn two_workers_racing_for_a_new_entry_fetch_once() {
    let c = cache(DEFAULT_MAX_ENTRIES);
    let shared = Shared::new(&c);
    let first = Rc::new(Cell::new(None));
    {
        let (shared2, first2) = (Rc::clone(&shared), Rc::clone(&first));
        // Worker 1's claim runs whole between worker 2's read of the slot and its write.
        shared.on_next_write(move || {
            let w1 = Worker {
                cache: &c,
                shared: &shared2,
            };
            first2.set(Some(w1.claim(A, T0)));
        });
    }
    let w2 = Worker {
        cache: &c,
        shared: &shared,
    };
    let second = w2.claim(A, T0);
    assert_eq!(first.get(), Some(Lease::Granted));
    assert_eq!(second, Lease::Held);
    assert_eq!(shared.writes.get(), 1);
    assert_eq!(w2.lookup(A, T0), Lookup::Wait);
}

#[test]
fn two_workers_racing_to_refresh_a_stale_entry_fetch_once() {
    let c = cache(DEFAULT_MAX_ENTRIES);
    let shared = Shared::new(&c);
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    assert_eq!(w.claim(A, T0), Lease::Granted);
    w.store(A, T0, Fetched::Found(summary("a")));
    let later = T0 + c.ttl_ms;
    assert_eq!(
        w.lookup(A, later),
        Lookup::Stale {
            summary: summary("a"),
            refresh: true
        }
    );
    let first = Rc::new(Cell::new(None));
    {
        let (shared2, first2) = (Rc::clone(&shared), Rc::clone(&first));
        shared.on_next_write(move || {
            let w1 = Worker {
                cache: &c,
                shared: &shared2,
            };
            first2.set(Some(w1.claim(A, later)));
        });
    }
    assert_eq!(w.claim(A, later), Lease::Held);
    assert_eq!(first.get(), Some(Lease::Granted));
    // While it refreshes, everyone serves the stale summary and nobody else fetches.
    assert_eq!(
        w.lookup(A, later + 1),
        Lookup::Stale {
            summary: summary("a"),
            refresh: false
        }
    );
}

#[test]
fn a_live_lease_blocks_others_until_it_expires() {
    let c = cache(DEFAULT_MAX_ENTRIES);
    let shared = Shared::new(&c);
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    assert_eq!(w.claim(A, T0), Lease::Granted);
    let end = T0 + c.lease_ms;
    assert_eq!(w.lookup(A, end - 1), Lookup::Wait);
    assert_eq!(w.claim(A, end - 1), Lease::Held);
    // The fetcher never stored: its lease runs out, the next one fetches.
    assert_eq!(w.lookup(A, end), Lookup::Miss);
    assert_eq!(w.claim(A, end), Lease::Granted);
    assert_eq!(w.claim(A, end + 1), Lease::Held);
}

#[test]
fn expiry_then_stale_then_refresh_then_fresh() {
    let c = cache(DEFAULT_MAX_ENTRIES);
    let shared = Shared::new(&c);
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    w.claim(A, T0);
    w.store(A, T0, Fetched::Found(summary("old")));
    let expiry = T0 + c.ttl_ms;
    assert_eq!(w.lookup(A, expiry - 1), Lookup::Hit(summary("old")));
    assert_eq!(
        w.lookup(A, expiry),
        Lookup::Stale {
            summary: summary("old"),
            refresh: true
        }
    );
    assert_eq!(w.claim(A, expiry), Lease::Granted);
    assert_eq!(
        w.lookup(A, expiry + 1),
        Lookup::Stale {
            summary: summary("old"),
            refresh: false
        }
    );
    assert_eq!(
        w.store(A, expiry + 2, Fetched::Found(summary("new"))),
        Stored::Written
    );
    assert_eq!(w.lookup(A, expiry + 3), Lookup::Hit(summary("new")));
    // Never refreshed: served stale up to the stale window's end, then gone.
    let end = expiry + 2 + c.ttl_ms + c.stale_ms;
    assert!(matches!(w.lookup(A, end - 1), Lookup::Stale { .. }));
    assert_eq!(w.lookup(A, end), Lookup::Miss);
    assert_eq!(w.claim(A, end), Lease::Granted);
    // A lease taken on a dead entry drops its summary: nothing stale to serve.
    assert_eq!(w.lookup(A, end + 1), Lookup::Wait);
}

#[test]
fn negative_entries_hold_then_expire() {
    for (fetched, reason) in [
        (Fetched::NotFound, Reason::NotFound),
        (Fetched::Invalid, Reason::Invalid),
        (Fetched::Failed, Reason::Failed),
    ] {
        let c = cache(DEFAULT_MAX_ENTRIES);
        let shared = Shared::new(&c);
        let w = Worker {
            cache: &c,
            shared: &shared,
        };
        w.claim(A, T0);
        assert_eq!(w.store(A, T0, fetched), Stored::Written);
        let until = T0 + c.negative_ttl_ms;
        assert_eq!(w.lookup(A, until - 1), Lookup::Negative(reason));
        assert_eq!(w.claim(A, until - 1), Lease::Current);
        assert_eq!(w.lookup(A, until), Lookup::Miss);
        assert_eq!(w.claim(A, until), Lease::Granted);
    }
    assert_eq!(Reason::NotFound.as_str(), "not_found");
    assert_eq!(Reason::Invalid.as_str(), "invalid");
    assert_eq!(Reason::Failed.as_str(), "failed");
}

#[test]
fn a_failed_refresh_keeps_the_stale_summary_with_a_back_off() {
    let c = cache(DEFAULT_MAX_ENTRIES);
    let shared = Shared::new(&c);
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    w.store(A, T0, Fetched::Found(summary("a")));
    let expiry = T0 + c.ttl_ms;
    let stale_end = expiry + c.stale_ms;
    assert_eq!(w.claim(A, expiry), Lease::Granted);
    assert_eq!(w.store(A, expiry + 10, Fetched::Failed), Stored::KeptUsable);
    // Served stale, no new fetch during the back-off...
    let back_off = expiry + 10 + c.negative_ttl_ms;
    assert_eq!(
        w.lookup(A, back_off - 1),
        Lookup::Stale {
            summary: summary("a"),
            refresh: false
        }
    );
    assert_eq!(w.claim(A, back_off - 1), Lease::Held);
    // ...then one may refresh again.
    assert_eq!(
        w.lookup(A, back_off),
        Lookup::Stale {
            summary: summary("a"),
            refresh: true
        }
    );
    // A failure near the window's end: the back-off ends with the window, which is not
    // extended.
    assert_eq!(w.claim(A, stale_end - 5), Lease::Granted);
    assert_eq!(
        w.store(A, stale_end - 4, Fetched::Failed),
        Stored::KeptUsable
    );
    assert!(matches!(
        w.lookup(A, stale_end - 1),
        Lookup::Stale { refresh: false, .. }
    ));
    assert_eq!(w.lookup(A, stale_end), Lookup::Miss);
    // A failure once the window is over is a negative entry.
    assert_eq!(w.claim(A, stale_end), Lease::Granted);
    assert_eq!(w.store(A, stale_end + 1, Fetched::Failed), Stored::Written);
    assert_eq!(w.lookup(A, stale_end + 2), Lookup::Negative(Reason::Failed));
}

#[test]
fn a_failure_never_overwrites_a_fresh_summary_but_an_answer_does() {
    let c = cache(DEFAULT_MAX_ENTRIES);
    let shared = Shared::new(&c);
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    w.store(A, T0, Fetched::Found(summary("a")));
    let before = shared.writes.get();
    assert_eq!(w.store(A, T0 + 1, Fetched::Failed), Stored::KeptUsable);
    assert_eq!(shared.writes.get(), before);
    assert_eq!(w.lookup(A, T0 + 2), Lookup::Hit(summary("a")));
    // The target answered 404 on a refresh: that replaces the summary.
    let expiry = T0 + c.ttl_ms;
    assert_eq!(w.store(A, expiry, Fetched::NotFound), Stored::Written);
    assert_eq!(w.lookup(A, expiry + 1), Lookup::Negative(Reason::NotFound));
}

#[test]
fn dead_entries_of_another_origin_are_taken_over() {
    // One slot: every origin collides.
    let c = cache(1);
    let shared = Shared::new(&c);
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    w.store(A, T0, Fetched::Found(summary("a")));
    // A's entry is live (fresh, then stale): B has no room, and never reads A's summary.
    for now in [T0, T0 + c.ttl_ms + c.stale_ms - 1] {
        assert_eq!(w.lookup(B, now), Lookup::Uncacheable);
        assert_eq!(w.claim(B, now), Lease::NoRoom);
        assert_eq!(
            w.store(B, now, Fetched::Found(summary("b"))),
            Stored::NoRoom
        );
    }
    let dead = T0 + c.ttl_ms + c.stale_ms;
    assert_eq!(w.lookup(B, dead), Lookup::Miss);
    assert_eq!(w.claim(B, dead), Lease::Granted);
    assert_eq!(w.lookup(A, dead), Lookup::Uncacheable);
    // B's lease alone holds the slot until it expires.
    assert_eq!(w.claim(A, dead + c.lease_ms - 1), Lease::NoRoom);
    assert_eq!(w.claim(A, dead + c.lease_ms), Lease::Granted);
    // A negative entry of another origin gives way at once (a refusal is cheap to lose; were
    // it kept, names that never resolve could keep a target out of the cache).
    assert_eq!(
        w.store(A, dead + c.lease_ms, Fetched::NotFound),
        Stored::Written
    );
    let t = dead + c.lease_ms + 1;
    assert_eq!(w.lookup(B, t), Lookup::Miss);
    assert_eq!(w.claim(B, t), Lease::Granted);
    assert_eq!(w.store(B, t, Fetched::Invalid), Stored::Written);
    assert_eq!(w.lookup(B, t), Lookup::Negative(Reason::Invalid));
    // And B's refusal gives way to A in turn.
    assert_eq!(w.lookup(A, t), Lookup::Miss);
}

#[test]
fn a_table_full_of_live_entries_is_uncacheable_and_collisions_probe_on() {
    // As many slots as probes: every origin probes every slot.
    let c = cache(PROBES);
    let shared = Shared::new(&c);
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    let origins: Vec<String> = (0..PROBES)
        .map(|i| format!("https://t{i}.example:443"))
        .collect();
    for (i, o) in origins.iter().enumerate() {
        assert_eq!(w.claim(o, T0), Lease::Granted, "{o}");
        w.store(o, T0, Fetched::Found(summary(&format!("t{i}"))));
    }
    // Each origin finds its own entry among the colliding ones.
    for (i, o) in origins.iter().enumerate() {
        assert_eq!(w.lookup(o, T0 + 1), Lookup::Hit(summary(&format!("t{i}"))));
    }
    let extra = "http://extra.example:80";
    assert_eq!(w.lookup(extra, T0 + 1), Lookup::Uncacheable);
    assert_eq!(w.claim(extra, T0 + 1), Lease::NoRoom);
    // Once one entry dies (the others were refreshed), the newcomer takes its slot, and the
    // others stay.
    for (i, o) in origins.iter().enumerate().filter(|(i, _)| *i != 1) {
        w.store(o, T0 + 1, Fetched::Found(summary(&format!("t{i}"))));
    }
    let dead = T0 + c.ttl_ms + c.stale_ms;
    assert_eq!(w.lookup(&origins[1], dead), Lookup::Miss);
    assert_eq!(w.lookup(extra, dead), Lookup::Miss);
    assert_eq!(w.claim(extra, dead), Lease::Granted);
    assert_eq!(w.lookup(extra, dead), Lookup::Wait);
    assert_eq!(w.lookup(&origins[1], dead), Lookup::Uncacheable);
    for (i, o) in origins.iter().enumerate().filter(|(i, _)| *i != 1) {
        assert_eq!(
            w.lookup(o, dead),
            Lookup::Stale {
                summary: summary(&format!("t{i}")),
                refresh: true
            }
        );
    }
}

#[test]
fn entries_are_bounded_and_the_encoding_is_versioned() {
    let c = cache(1);
    let shared = Shared::new(&c);
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    let host = "h".repeat(MAX_ORIGIN_BYTES - "https://:65535".len());
    let longest = format!("https://{host}:65535");
    assert_eq!(longest.len(), MAX_ORIGIN_BYTES);
    let mut big = summary(&"é".repeat(crate::manifest::MAX_AGENT_ID_LEN / 2));
    big.attested_until_ms = Some(T0);
    assert_eq!(big.encode().unwrap().len(), MAX_SUMMARY_BYTES);
    assert_eq!(
        w.store(&longest, T0, Fetched::Found(big.clone())),
        Stored::Written
    );
    let value = shared.read(&slot_key(0)).unwrap();
    assert_eq!(value.len(), MAX_ENTRY_BYTES);
    assert_eq!(MAX_ENTRY_BYTES, 606);
    assert_eq!(value.first(), Some(&VERSION));
    assert_eq!(w.lookup(&longest, T0), Lookup::Hit(big));
    // Too long an origin is never cached.
    let over = format!("https://h{host}:65535");
    assert_eq!(w.lookup(&over, T0), Lookup::Uncacheable);
    assert_eq!(w.claim(&over, T0), Lease::NoRoom);
    assert_eq!(w.lookup("", T0), Lookup::Uncacheable);
    // A summary with an agent id `read` refuses is stored as invalid.
    let mut bad = summary("a");
    bad.agent_id = "x".repeat(crate::manifest::MAX_AGENT_ID_LEN + 1);
    let dead = T0 + c.ttl_ms + c.stale_ms;
    assert_eq!(w.store(A, dead, Fetched::Found(bad)), Stored::Written);
    assert_eq!(w.lookup(A, dead), Lookup::Negative(Reason::Invalid));
}

#[test]
fn undecodable_slots_are_empty() {
    let c = cache(1);
    // A found entry, a negative one, a lease alone.
    let mut goods = Vec::new();
    for fetched in [
        Some(Fetched::Found(summary("a"))),
        Some(Fetched::NotFound),
        None,
    ] {
        let shared = Shared::new(&c);
        let w = Worker {
            cache: &c,
            shared: &shared,
        };
        match fetched {
            Some(f) => assert_eq!(w.store(A, T0, f), Stored::Written),
            None => assert_eq!(w.claim(A, T0), Lease::Granted),
        }
        assert_ne!(w.lookup(A, T0 + 1), Lookup::Miss);
        goods.push(shared.read(&slot_key(0)).unwrap());
    }
    for good in goods {
        let mut damaged: Vec<Vec<u8>> = (0..good.len()).map(|n| good[..n].to_vec()).collect();
        let mut longer = good.clone();
        longer.push(0);
        damaged.push(longer);
        let mut other_version = good.clone();
        other_version[0] = VERSION + 1;
        damaged.push(other_version);
        let mut bad_tag = good.clone();
        bad_tag[1] = 3;
        damaged.push(bad_tag);
        let mut no_origin = good.clone();
        no_origin[10] = 0;
        no_origin[11] = 0;
        damaged.push(no_origin);
        damaged.push(b"garbage".to_vec());
        for bytes in damaged {
            let shared = Shared::new(&c);
            shared.set(&slot_key(0), &bytes, 0).unwrap();
            let w = Worker {
                cache: &c,
                shared: &shared,
            };
            // Read as empty: B may take it at once, A's (damaged) entry is not served.
            assert_eq!(w.lookup(A, T0 + 1), Lookup::Miss, "{bytes:?}");
            assert_eq!(w.claim(B, T0 + 1), Lease::Granted, "{bytes:?}");
        }
    }
    // A well-formed entry of no origin (a live lease otherwise).
    let mut nameless = vec![VERSION, 0];
    nameless.extend_from_slice(&u64::MAX.to_be_bytes());
    nameless.extend_from_slice(&[0, 0]);
    let shared = Shared::new(&c);
    shared.set(&slot_key(0), &nameless, 0).unwrap();
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    assert_eq!(w.claim(B, T0), Lease::Granted);
    // A negative entry's reason out of its set.
    let shared = Shared::new(&c);
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    w.store(A, T0, Fetched::Invalid);
    let mut bytes = shared.read(&slot_key(0)).unwrap();
    *bytes.last_mut().unwrap() = 3;
    shared.set(&slot_key(0), &bytes, 0).unwrap();
    assert_eq!(w.lookup(A, T0 + 1), Lookup::Miss);
}

#[test]
fn a_write_shared_data_keeps_refusing_is_reported() {
    let c = cache(DEFAULT_MAX_ENTRIES);
    let shared = Shared::new(&c);
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    shared.refuse_writes.set(true);
    assert_eq!(w.claim(A, T0), Lease::Lost);
    assert_eq!(w.store(A, T0, Fetched::NotFound), Stored::Lost);
    assert_eq!(w.lookup(A, T0), Lookup::Miss);
    // Slots that were never created cannot be claimed (no CAS on a missing key).
    let missing = Shared::default();
    let w = Worker {
        cache: &c,
        shared: &missing,
    };
    assert_eq!(w.lookup(A, T0), Lookup::Miss);
    assert_eq!(w.claim(A, T0), Lease::NoRoom);
}

#[test]
fn settings_keys_and_origins() {
    assert_eq!(Cache::new(0), None);
    assert_eq!(Cache::new(MAX_ENTRIES + 1), None);
    let c = Cache::new(MAX_ENTRIES).unwrap();
    assert_eq!(c.slots(), 65_536);
    assert_eq!(c.slot_keys().count(), 65_536);
    let c = cache(DEFAULT_MAX_ENTRIES);
    assert_eq!(
        (c.ttl_ms, c.negative_ttl_ms, c.stale_ms, c.lease_ms),
        (3_600_000, 60_000, 300_000, 5_000)
    );
    assert_eq!(slot_key(7), "iatp.manifest.7");
    assert_eq!(c.slot_keys().last().as_deref(), Some("iatp.manifest.1023"));
    // Probes are consecutive slots from a home slot, within the table.
    let probes: Vec<String> = c.probe_keys(A).collect();
    assert_eq!(probes.len(), PROBES as usize);
    assert!(probes.iter().all(|k| c.slot_keys().any(|s| &s == k)));
    assert_eq!(cache(2).probe_keys(A).count(), 2);
    let o = |url: &str| origin(&Target::parse(url).unwrap());
    assert_eq!(
        o("https://API.Example.com/v1"),
        "https://api.example.com:443"
    );
    assert_eq!(
        o("http://api.example.com:8080"),
        "http://api.example.com:8080"
    );
    assert_eq!(
        o("http://[::FFFF:127.0.0.1]/"),
        "http://[::ffff:127.0.0.1]:80"
    );
    assert_eq!(o("http://0x7f.1/"), "http://127.0.0.1:80");
}

#[test]
fn an_origin_further_along_its_probes_is_found_before_a_free_slot_is_taken() {
    let c = cache(2);
    let shared = Shared::new(&c);
    let w = Worker {
        cache: &c,
        shared: &shared,
    };
    // Another origin's live entry in A's home slot (its manifest, stale until T0 + 1): A goes
    // to its second probe.
    let home = c.probe_keys(A).next().unwrap();
    let other = State {
        lease_until: 0,
        content: Content::Found {
            fetched_at: T0 - 1,
            expires_at: T0,
            stale_until: T0 + 1,
            summary: summary("b"),
        },
    };
    shared.set(&home, &encode(B, &other).unwrap(), 0).unwrap();
    assert_eq!(
        w.store(A, T0, Fetched::Found(summary("a"))),
        Stored::Written
    );
    // The home slot is free again (B's entry dead) when A's refresh is claimed: the lease
    // goes on A's entry, whose stale summary is still served; no second entry for A.
    let expiry = T0 + c.ttl_ms;
    assert_eq!(w.claim(A, expiry), Lease::Granted);
    assert_eq!(
        w.lookup(A, expiry + 1),
        Lookup::Stale {
            summary: summary("a"),
            refresh: false
        }
    );
    assert_eq!(w.store(A, expiry + 2, Fetched::Failed), Stored::KeptUsable);
    assert!(matches!(w.lookup(A, expiry + 3), Lookup::Stale { .. }));
    assert!(Entry::decode(&shared.read(&home).unwrap()).is_some_and(|e| e.origin == B));
}
