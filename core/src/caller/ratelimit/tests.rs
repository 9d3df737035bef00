use std::cell::RefCell;
use std::collections::HashMap;

use super::*;

const L: Limit = Limit {
    requests_per_minute: 60,
    burst: 10,
};

/// Runs `n` requests at `now` on one slot's state, returning the decisions.
fn run(
    state: &mut Option<[u8; STATE_BYTES]>,
    fp: u64,
    now: u64,
    n: usize,
    limit: Limit,
) -> Vec<Decision> {
    (0..n)
        .map(|_| {
            let (s, d) = take(fp, state.as_ref().map(|s| &s[..]), now, limit).unwrap();
            *state = Some(s);
            d
        })
        .collect()
}

#[test]
fn a_fresh_bucket_allows_its_burst_then_refuses() {
    let mut s = None;
    let ds = run(&mut s, 7, 1_000_000, 11, L);
    assert!(ds[..10].iter().all(|d| d.allowed));
    assert_eq!(ds[0].remaining, 9);
    assert_eq!(ds[9].remaining, 0);
    let d = ds[10];
    assert!(!d.allowed);
    assert_eq!(d.remaining, 0);
    // 60/min: one token a second.
    assert_eq!(d.retry_after_secs, 1);
    assert_eq!(d.window_secs, 1);
    assert_eq!(d.reset_secs, 10);
}

#[test]
fn refill_is_exact_and_capped() {
    let mut s = None;
    run(&mut s, 7, 0, 10, L);
    // 999 ms: not a whole token yet.
    assert!(!run(&mut s, 7, 999, 1, L)[0].allowed);
    // 1000 ms: one token, taken.
    let d = run(&mut s, 7, 1000, 1, L)[0];
    assert!(d.allowed);
    assert_eq!(d.remaining, 0);
    // Requests every ms lose no fraction: 1 per minute refills after 60 s however often asked.
    let slow = Limit {
        requests_per_minute: 1,
        burst: 1,
    };
    let mut s = None;
    assert!(run(&mut s, 1, 0, 1, slow)[0].allowed);
    let mut allowed_at = None;
    for t in (1..=60_010).step_by(7) {
        if run(&mut s, 1, t, 1, slow)[0].allowed {
            allowed_at = Some(t);
            break;
        }
    }
    // The first request at or after 60,000 ms (1 + 7k).
    assert_eq!(allowed_at, Some(60_005), "{allowed_at:?}");
    // A long pause refills to the burst, not beyond.
    let mut s = None;
    run(&mut s, 7, 0, 10, L);
    let ds = run(&mut s, 7, 3_600_000, 11, L);
    assert_eq!(ds.iter().filter(|d| d.allowed).count(), 10);
}

#[test]
fn retry_after_and_window_follow_the_rate() {
    // 6 per minute: a token every 10 s.
    let l = Limit {
        requests_per_minute: 6,
        burst: 2,
    };
    let mut s = None;
    let ds = run(&mut s, 3, 0, 3, l);
    assert_eq!(ds[0].remaining, 1);
    assert_eq!(ds[0].window_secs, 10);
    assert_eq!(ds[0].reset_secs, 10);
    assert_eq!(ds[1].reset_secs, 20);
    assert_eq!(ds[2].retry_after_secs, 10);
    let d = run(&mut s, 3, 7_500, 1, l)[0];
    assert!(!d.allowed);
    assert_eq!(d.retry_after_secs, 3);
    assert_eq!(d.window_secs, 3);
    assert_eq!(d.reset_secs, 13);
    // A high rate: sub-second waits round up to 1.
    let fast = Limit {
        requests_per_minute: 600_000,
        burst: 1,
    };
    let mut s = None;
    let ds = run(&mut s, 3, 0, 2, fast);
    assert_eq!(ds[1].retry_after_secs, 1);
    assert_eq!(ds[0].window_secs, 1);
}

#[test]
fn a_clock_going_backwards_refills_nothing() {
    let mut s = None;
    run(&mut s, 7, 10_000, 10, L);
    // Back 5 s: nothing refilled, nothing moved back.
    assert!(!run(&mut s, 7, 5_000, 1, L)[0].allowed);
    // 1 s after the original time: one token.
    assert!(run(&mut s, 7, 11_000, 1, L)[0].allowed);
    assert!(!run(&mut s, 7, 11_000, 1, L)[0].allowed);
}

#[test]
fn extreme_values_saturate() {
    let max = Limit {
        requests_per_minute: u32::MAX,
        burst: u32::MAX,
    };
    let mut s = None;
    let d = run(&mut s, 7, u64::MAX, 1, max)[0];
    assert!(d.allowed);
    assert_eq!(d.remaining, u64::from(u32::MAX) - 1);
    let d = run(&mut s, 7, 0, 1, max)[0];
    assert!(d.allowed);
    // A state from a larger limit is capped to the current one.
    let mut s = None;
    run(
        &mut s,
        7,
        0,
        1,
        Limit {
            requests_per_minute: 60,
            burst: 1000,
        },
    );
    let d = run(&mut s, 7, 0, 1, L)[0];
    assert_eq!(d.remaining, 9);
    // requests_per_minute 0 (never configured; the configuration refuses it) refills as 1.
    let zero = Limit {
        requests_per_minute: 0,
        burst: 1,
    };
    let mut s = None;
    assert!(run(&mut s, 7, 0, 1, zero)[0].allowed);
    assert!(run(&mut s, 7, 60_000, 1, zero)[0].allowed);
    // Bytes of another size are a fresh bucket.
    let (_, d) = take(7, Some(b"garbage"), 0, L).unwrap();
    assert_eq!(d.remaining, 9);
}

#[test]
fn another_callers_slot_is_busy_until_its_bucket_would_be_full() {
    let mut s = None;
    run(&mut s, 1, 0, 3, L); // full again at 3 s
    let state = s.unwrap();
    assert_eq!(take(2, Some(&state), 2_999, L), None);
    let (taken, d) = take(2, Some(&state), 3_000, L).unwrap();
    assert_eq!(d.remaining, 9, "a fresh bucket");
    // Now it is 2's, and 1 is the stranger.
    assert_eq!(take(1, Some(&taken), 3_000, L), None);
    // An untouched full bucket is free at once.
    let mut s = None;
    let l = Limit {
        requests_per_minute: 60,
        burst: 1,
    };
    run(&mut s, 1, 0, 1, l);
    assert!(take(2, Some(&s.unwrap()), 999, l).is_none());
    assert!(take(2, Some(&s.unwrap()), 1_000, l).is_some());
}

/// Shared data as the host keeps it, with `claim_once`'s contract.
#[derive(Default)]
struct Shared(RefCell<HashMap<String, Vec<u8>>>, bool);

impl Shared {
    fn claim(&self, key: &str, update: SlotUpdate) -> bool {
        if self.1 {
            // The store keeps failing: update is still asked.
            update(self.0.borrow().get(key).map(Vec::as_slice));
            return false;
        }
        let new = update(self.0.borrow().get(key).map(Vec::as_slice));
        match new {
            Some(v) => {
                self.0.borrow_mut().insert(key.to_string(), v);
                true
            }
            None => false,
        }
    }
}

#[test]
fn many_callers_get_their_own_buckets() {
    let shared = Shared::default();
    let l = Limit {
        requests_per_minute: 60,
        burst: 2,
    };
    let mut overflowed = 0;
    for i in 0..2_000 {
        let key = BucketKey::of(Source::Header, &format!("caller-{i}"));
        for n in 0..3 {
            let c = charge(&key, 0, l, &|k, u| shared.claim(k, u));
            assert!(c.stored);
            overflowed += usize::from(c.overflow);
            if !c.overflow {
                assert_eq!(c.decision.allowed, n < 2, "caller {i} request {n}");
            }
        }
    }
    // 2,000 callers in 16,384 slots with 4 probes: none needs the overflow bucket.
    assert_eq!(overflowed, 0);
    assert!(shared.0.borrow().len() <= 2_000);
}

#[test]
fn all_probed_slots_busy_charges_the_overflow_bucket() {
    let shared = Shared::default();
    let victim = BucketKey::of(Source::Header, "victim");
    // Every probed slot taken by a stranger whose bucket is not full.
    let mut s = None;
    run(&mut s, 99, 0, 1, L);
    for slot in victim.slots() {
        shared
            .0
            .borrow_mut()
            .insert(slot_key(slot), s.unwrap().to_vec());
    }
    let c = charge(&victim, 0, L, &|k, u| shared.claim(k, u));
    assert!(c.overflow && c.stored && c.decision.allowed);
    assert_eq!(c.decision.remaining, 9);
    assert!(shared.0.borrow().contains_key(OVERFLOW_KEY));
    // Another displaced caller shares it.
    let other = BucketKey::of(Source::Header, "other");
    for slot in other.slots() {
        shared
            .0
            .borrow_mut()
            .insert(slot_key(slot), s.unwrap().to_vec());
    }
    let c = charge(&other, 0, L, &|k, u| shared.claim(k, u));
    assert!(c.overflow);
    assert_eq!(c.decision.remaining, 8);
    // Once the stranger's bucket would be full (1 s), the victim takes its home slot.
    let c = charge(&victim, 1_000, L, &|k, u| shared.claim(k, u));
    assert!(!c.overflow);
    assert_eq!(c.decision.remaining, 9);
}

#[test]
fn a_failing_store_still_decides() {
    let shared = Shared(RefCell::default(), true);
    let key = BucketKey::of(Source::Anonymous, "");
    let c = charge(&key, 0, L, &|k, u| shared.claim(k, u));
    assert!(!c.stored && !c.overflow && c.decision.allowed);
}

#[test]
fn keys_are_per_identity_and_source() {
    let a = BucketKey::of(Source::Header, "x");
    assert_eq!(a, BucketKey::of(Source::Header, "x"));
    assert_ne!(a, BucketKey::of(Source::Jwt, "x"));
    assert_ne!(a, BucketKey::of(Source::Header, "y"));
    assert_ne!(a.fingerprint(), 0);
    let slots: Vec<u32> = a.slots().collect();
    assert_eq!(slots.len(), PROBES as usize);
    assert!(slots.iter().all(|s| *s < SLOTS));
    assert!(slot_key(slots[0]).starts_with("iatp.ratelimit."));
}

#[test]
fn state_round_trips() {
    let s = State {
        fingerprint: 1,
        units: 2,
        last_ms: 3,
        full_at_ms: u64::MAX,
    };
    assert_eq!(State::decode(&s.encode()), Some(s));
    assert_eq!(State::decode(&[0; 31]), None);
}

#[test]
fn header_strings() {
    assert_eq!(policy_header(L), "\"default\";q=60;w=60;iatp-burst=10");
    let mut s = None;
    let ds = run(&mut s, 1, 0, 11, L);
    assert_eq!(ratelimit_header(&ds[0]), "\"default\";r=9;t=1");
    assert_eq!(retry_after_header(&ds[0]), None);
    assert_eq!(ratelimit_header(&ds[10]), "\"default\";r=0;t=1");
    assert_eq!(retry_after_header(&ds[10]).as_deref(), Some("1"));
    let l = Limit {
        requests_per_minute: 5,
        burst: 1,
    };
    let mut s = None;
    let ds = run(&mut s, 1, 0, 2, l);
    assert_eq!(ratelimit_header(&ds[1]), "\"default\";r=0;t=12");
    assert_eq!(retry_after_header(&ds[1]).as_deref(), Some("12"));
}
