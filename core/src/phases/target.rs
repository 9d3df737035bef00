//! The target of a gateway request as its own manifest says, capped by what the operator
//! trusts (`gateway.trust`): the facts rules read as `target_*`.

use crate::manifest::{Retention, Reversibility, TrustLevel};

pub use crate::metrics::CacheResult;

/// What a target's manifest says, as counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFacts {
    pub agent_id: String,
    /// `trust_level` as the target declares it.
    pub declared: TrustLevel,
    /// As it counts: at most `gateway.trust.ceiling` unless listed or attested.
    pub trust_level: TrustLevel,
    /// The trust score (0..10) of the manifest with its counted trust level.
    pub trust_score: u8,
    /// `None`: the manifest does not say (scored as `permanent`).
    pub retention: Option<Retention>,
    pub reversibility: Reversibility,
    pub human_in_loop: bool,
    pub training_consent: bool,
    /// A valid attestation signed by a trusted key.
    pub attested: bool,
    /// In `gateway.trust.directory`.
    pub listed: bool,
}

/// The target's facts for rules and events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetFacts {
    /// `None`: no manifest (none published, not fetched, or failed open).
    pub manifest: Option<RemoteFacts>,
    /// `None`: not looked up (`gateway.manifests` is not configured).
    pub cache: Option<CacheResult>,
}

use super::{Exchange, Host, Phase, Step};
use crate::gateway::Gateway;
use crate::manifest_cache::{Fetched, Lease, Lookup, Reason};
use crate::manifest_fetch::{Fetch, Next};
use crate::metrics::FetchResult;
use crate::policy::{Mode, Policy};
use crate::remote_manifest::{capped, Summary};

/// Where the exchange stands with its target's manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum Pending {
    #[default]
    Nothing,
    /// This request fetches it; `cached`: it holds the lease and stores what it gets.
    Fetching { fetch: Fetch, cached: bool },
    /// Another request (maybe in another worker) fetches it: polled until `until_ms`;
    /// `retried`: that fetch was abandoned once and the root asked to fetch instead.
    Waiting { until_ms: u64, retried: bool },
}

fn now_ms(host: &impl Host) -> u64 {
    host.now_nanos() / 1_000_000
}

impl RemoteFacts {
    /// A summary as it counts for this gateway: capped unless listed or attested now.
    fn of(
        summary: &Summary,
        gateway: &Gateway,
        target: &crate::target::Target,
        now_ms: u64,
    ) -> RemoteFacts {
        let listed = gateway.trust.listed(target);
        let attested = summary.attested(now_ms) && gateway.trust.bound(target, &summary.agent_id);
        let trust_level = capped(summary, gateway.trust.ceiling, listed, attested);
        RemoteFacts {
            agent_id: summary.agent_id.clone(),
            declared: summary.trust_level,
            trust_level,
            trust_score: summary.score(trust_level),
            retention: summary.retention,
            reversibility: summary.reversibility,
            human_in_loop: summary.human_in_loop,
            training_consent: summary.training_consent,
            attested,
            listed,
        }
    }
}

impl Exchange {
    /// Gateway mode with `gateway.manifests`: the target's manifest from the cache, or a
    /// fetch (`Step::Call`), or a wait for another request's fetch (`Step::Wait`), or the fail
    /// mode's refusal. `None`: known, go on.
    pub(super) fn judge_target(&mut self, policy: &Policy, host: &impl Host) -> Option<Step> {
        let gw = policy.gateway.as_ref()?;
        let m = gw.manifests.as_ref()?;
        let g = self.gw.as_deref()?;
        let now = now_ms(host);
        let origin = g.origin.clone();
        let read = |key: &str| host.shared(key);
        let claim = |key: &str, update: super::SlotUpdate| host.claim_once(key, update);
        let mut lookup = m.cache.lookup(&origin, now, &read);
        // A lease lost to a store that made the entry usable meanwhile: look again, once.
        for _ in 0..2 {
            let claimed = match &lookup {
                Lookup::Miss => Some(m.cache.claim_fetch(&origin, now, &claim)),
                _ => None,
            };
            match claimed {
                Some(Lease::Current) => lookup = m.cache.lookup(&origin, now, &read),
                Some(Lease::Granted) => return Some(self.fetch_target(policy, true)),
                Some(Lease::Held) => lookup = Lookup::Wait,
                // No room (every probed slot holds another target's live manifest): fetched for
                // this request alone, so that no one can keep a target out by filling its slots.
                Some(Lease::NoRoom) => return Some(self.fetch_target(policy, false)),
                // Shared data refusing writes: fetched for this request alone.
                Some(Lease::Lost) => return Some(self.fetch_target(policy, false)),
                None => break,
            }
        }
        match lookup {
            Lookup::Hit(s) => self.settle(policy, Some(&s), CacheResult::Hit, now),
            Lookup::Stale { summary, refresh } => {
                if refresh {
                    if let Some(g) = self.gw.as_deref_mut() {
                        g.refresh = true;
                    }
                }
                self.settle(policy, Some(&summary), CacheResult::Stale, now)
            }
            Lookup::Negative(Reason::NotFound) => {
                self.settle(policy, None, CacheResult::Negative, now)
            }
            Lookup::Negative(Reason::Invalid | Reason::Failed) => {
                self.target_unavailable(policy, now)
            }
            Lookup::Wait => {
                self.phase = Phase::AwaitingTarget;
                if let Some(g) = self.gw.as_deref_mut() {
                    g.pending = Pending::Waiting {
                        until_ms: now.saturating_add(m.cache.lease_ms),
                        retried: false,
                    };
                }
                Some(Step::Wait)
            }
            Lookup::Uncacheable | Lookup::Miss => Some(self.fetch_target(policy, false)),
        }
    }

    /// This request fetches its target's manifest.
    fn fetch_target(&mut self, policy: &Policy, cached: bool) -> Step {
        let (Some(m), Some(g)) = (
            policy.gateway.as_ref().and_then(|g| g.manifests.as_ref()),
            self.gw.as_deref_mut(),
        ) else {
            return Step::Continue;
        };
        let fetch = Fetch::new(&g.route.target);
        let call = fetch.callout(m);
        g.pending = Pending::Fetching { fetch, cached };
        self.phase = Phase::AwaitingTarget;
        Step::Call(call)
    }

    /// Whether the exchange's callout is its target's manifest (not the moderation service).
    pub fn awaits_target(&self) -> bool {
        self.gw
            .as_deref()
            .is_some_and(|g| matches!(g.pending, Pending::Fetching { .. }))
    }

    /// Whether the exchange waits for another request's fetch ([`Step::Wait`]).
    pub fn waits_for_target(&self) -> bool {
        self.gw
            .as_deref()
            .is_some_and(|g| matches!(g.pending, Pending::Waiting { .. }))
    }

    /// The answer to this request's fetch of its target's manifest: stored in the cache (for
    /// every request to that target), then the request goes on or is refused.
    pub(super) fn target_answer(
        &mut self,
        status: Option<u16>,
        body: &[u8],
        host: &impl Host,
    ) -> Step {
        let Some(policy) = self.policy.clone() else {
            return Step::Continue;
        };
        let Some(gw) = policy.gateway.as_ref() else {
            return Step::Continue;
        };
        let Some(m) = gw.manifests.as_ref() else {
            return Step::Continue;
        };
        let now = now_ms(host);
        let Some(g) = self.gw.as_deref_mut() else {
            return Step::Continue;
        };
        let Pending::Fetching { mut fetch, cached } = std::mem::take(&mut g.pending) else {
            return Step::Continue;
        };
        let (fetched, result) = match fetch.answer(gw, status, body, now) {
            Next::Call(call) => {
                g.pending = Pending::Fetching { fetch, cached };
                return Step::Call(call);
            }
            Next::Done(fetched, result) => (fetched, result),
        };
        g.fetched = Some(result);
        if cached {
            let claim = |key: &str, update: super::SlotUpdate| host.claim_once(key, update);
            m.cache.store(&fetch.origin, now, fetched.clone(), &claim);
        }
        let step = match fetched {
            Fetched::Found(s) => self.settle(&policy, Some(&s), CacheResult::Miss, now),
            Fetched::NotFound => self.settle(&policy, None, CacheResult::Miss, now),
            Fetched::Invalid | Fetched::Failed => self.target_unavailable(&policy, now),
        };
        match step {
            Some(step) => step,
            None => self.headers_tail(&policy, host),
        }
    }

    /// A request waiting for another's fetch, asked again: the entry is there (go on or
    /// refuse), or still being fetched (wait on, until the lease's time), or the fetch ended
    /// without a store (fail mode).
    pub fn poll_target(&mut self, host: &impl Host) -> Step {
        let Some(policy) = self.policy.clone() else {
            return Step::Continue;
        };
        let Some(m) = policy.gateway.as_ref().and_then(|g| g.manifests.as_ref()) else {
            return Step::Continue;
        };
        let Some(g) = self.gw.as_deref() else {
            return Step::Continue;
        };
        let Pending::Waiting { until_ms, retried } = g.pending else {
            return Step::Continue;
        };
        let now = now_ms(host);
        let read = |key: &str| host.shared(key);
        let settled = match m.cache.lookup(&g.origin, now, &read) {
            Lookup::Hit(s) => self.settle(&policy, Some(&s), CacheResult::Miss, now),
            Lookup::Stale { summary, .. } => {
                self.settle(&policy, Some(&summary), CacheResult::Stale, now)
            }
            Lookup::Negative(Reason::NotFound) => {
                self.settle(&policy, None, CacheResult::Negative, now)
            }
            Lookup::Negative(_) => self.target_unavailable(&policy, now),
            // A live lease bounds the wait by itself (it ends at most `lease_ms` after it was
            // taken); `until_ms` is this request's own reading of the clock, which Envoy caches
            // per worker's event loop: another worker's lease may end a little after it.
            // Waiting on through one more lease's time keeps a skewed clock from failing a
            // fetch that is about to store.
            Lookup::Wait if now < until_ms.saturating_add(m.cache.lease_ms) => return Step::Wait,
            // The fetch it waited for was abandoned (its request reset, its worker gone): the
            // root context fetches instead, once, and the request waits for that.
            Lookup::Miss | Lookup::Uncacheable if !retried => {
                if let Some(g) = self.gw.as_deref_mut() {
                    g.refresh = true;
                    g.pending = Pending::Waiting {
                        until_ms: now.saturating_add(m.cache.lease_ms).saturating_add(1000),
                        retried: true,
                    };
                }
                return Step::Wait;
            }
            Lookup::Wait | Lookup::Miss | Lookup::Uncacheable => {
                self.target_unavailable(&policy, now)
            }
        };
        if let Some(g) = self.gw.as_deref_mut() {
            g.pending = Pending::Nothing;
        }
        match settled {
            Some(step) => step,
            None => self.headers_tail(&policy, host),
        }
    }

    /// The target's facts are known (`summary` `None`: it has no manifest).
    fn settle(
        &mut self,
        policy: &Policy,
        summary: Option<&Summary>,
        cache: CacheResult,
        now_ms: u64,
    ) -> Option<Step> {
        let gw = policy.gateway.as_ref()?;
        let g = self.gw.as_deref_mut()?;
        g.target = TargetFacts {
            manifest: summary.map(|s| RemoteFacts::of(s, gw, &g.route.target, now_ms)),
            cache: Some(cache),
        };
        g.pending = Pending::Nothing;
        self.phase = Phase::RequestHeaders;
        None
    }

    /// The target's manifest could not be had: `fail: open` goes on as if it had none,
    /// `fail: closed` answers 502 (a gateway refusal, its line naming the target).
    fn target_unavailable(&mut self, policy: &Policy, now_ms: u64) -> Option<Step> {
        let fail = policy
            .gateway
            .as_ref()
            .and_then(|g| g.manifests.as_ref())
            .map(|m| m.fail)?;
        // Monitor mode refuses nothing on policy: the request goes on, as with `fail: open`,
        // and its line says `failed_open`.
        if fail == crate::contract::moderation::Fail::Open || policy.mode == Mode::Monitor {
            return self.settle(policy, None, CacheResult::FailedOpen, now_ms);
        }
        let g = self.gw.as_deref_mut()?;
        g.target.cache = Some(CacheResult::FailedClosed);
        g.pending = Pending::Nothing;
        let contract = policy.contracts.at(g.route.contract).map(|c| c.id.as_str());
        let origin = g.origin.clone();
        Some(self.gateway_refusal(
            policy,
            crate::gateway::Refusal::TargetUnavailable,
            contract,
            Some(&origin),
            now_ms.saturating_mul(1_000_000),
        ))
    }

    /// A stale entry this request served: the root context should refresh it (a fetch that
    /// outlives this request). Taken once.
    pub fn take_refresh(&mut self) -> Option<Fetch> {
        let g = self.gw.as_deref_mut()?;
        if !std::mem::take(&mut g.refresh) {
            return None;
        }
        Some(Fetch::new(&g.route.target))
    }

    /// How this request's target manifest was had, and the fetch it made: for the metrics,
    /// taken once.
    pub fn take_target_tally(&mut self) -> (Option<CacheResult>, Option<FetchResult>) {
        let Some(g) = self.gw.as_deref_mut() else {
            return (None, None);
        };
        let cache = if g.counted { None } else { g.target.cache };
        if cache.is_some() {
            g.counted = true;
        }
        (cache, g.fetched.take())
    }
}
