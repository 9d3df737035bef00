//! The root context: parses and compiles the configuration once per VM, then hands the
//! compiled policy to every HTTP context.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use crate::http::IatpHttp;
use crate::metrics::Metrics;
use crate::targets::{self, Targets};
use crate::{abi, host};
use iatp_core::chain::Chain;
use iatp_core::config;
use iatp_core::control_plane;
use iatp_core::held::HeldRequests;
use iatp_core::manifest_cache::{Fetched, Lease};
use iatp_core::manifest_fetch::{self, Next};
use iatp_core::metrics::{FetchKind, FetchResult};
use iatp_core::policy::Policy;

/// How often counters counted in the VM reach Envoy's stats.
const METRICS_FLUSH_PERIOD_MS: u32 = 1000;

pub struct IatpRoot {
    policy: Option<Rc<Policy>>,
    /// The contracts set this VM applied (or refused) last, from the control plane's shared
    /// record: its fingerprint, so that a set is compiled once.
    applied_contracts: Option<[u8; 32]>,
    /// A control-plane fetch this root is waiting for.
    control_plane_call: Option<u32>,
    metrics: Rc<Metrics>,
    /// This VM's chain of event lines: a new one at every configuration (a new plugin
    /// configuration gets a new root context anyway).
    chain: Rc<RefCell<Chain>>,
    /// The requests whose headers this VM holds while their body arrives: watched for an
    /// Envoy that never hands the body over (no `allow_on_headers_stop_iteration`).
    held: Rc<RefCell<HeldRequests>>,
    /// Gateway targets' manifests: streams waiting for a fetch, refreshes, the root's fetches.
    targets: Rc<RefCell<Targets>>,
    /// This root context's id (the host is pointed back at it after asking waiting streams).
    context_id: u32,
}

impl IatpRoot {
    pub fn new(context_id: u32) -> IatpRoot {
        IatpRoot {
            policy: None,
            applied_contracts: None,
            control_plane_call: None,
            metrics: Rc::new(Metrics::default()),
            chain: Rc::new(RefCell::new(Chain::random(None, host::now_nanos))),
            held: Rc::new(RefCell::new(HeldRequests::default())),
            targets: Rc::new(RefCell::new(Targets::default())),
            context_id,
        }
    }

    /// Asks Envoy about the requests held too long: body bytes that Envoy has and this filter
    /// never saw mean Envoy withholds bodies (logged once per VM).
    fn check_held(&self) {
        let Ok(mut held) = self.held.try_borrow_mut() else {
            return;
        };
        let now = host::now_nanos();
        for context in held.overdue(now) {
            match host::body_bytes_received(context) {
                Some(Some(n)) if n > 0 => {
                    if let Some(line) = held.report() {
                        log::error!("{line}");
                    }
                    return;
                }
                Some(_) => held.recheck_later(context, now),
                None => {
                    held.release(context);
                }
            }
        }
    }
}

impl IatpRoot {
    /// Applies the control plane's last good contracts if they changed, and fetches new ones
    /// when this worker's tick finds a fetch due (one worker per interval: the lease in the
    /// shared record).
    fn control_plane_tick(&mut self) {
        let Some(policy) = self.policy.clone() else {
            return;
        };
        let Some(cp) = policy.control_plane.as_ref() else {
            return;
        };
        if let Some(record) = host::shared(control_plane::SHARED_KEY)
            .as_deref()
            .and_then(control_plane::Record::decode)
        {
            if !record.body.is_empty() {
                self.apply_contracts(&record.body);
            }
        }
        if self.control_plane_call.is_some() {
            return;
        }
        let now_ms = host::now_nanos() / 1_000_000;
        let claimed = control_plane::claim(now_ms, cp, &host::update_control_plane);
        if !claimed {
            return;
        }
        match host::dispatch(&cp.callout()) {
            Some(token) => self.control_plane_call = Some(token),
            None => {
                self.metrics
                    .fetched(FetchKind::ControlPlane, FetchResult::Failed);
                control_plane::store(now_ms, None, &host::update_control_plane);
            }
        }
    }

    /// A control plane's answer, compiled against the configuration: swapped in when valid
    /// (exchanges under way keep the policy they started with). `Err` says why not, for the
    /// log line; a set is compiled once per VM.
    fn apply_contracts(&mut self, body: &[u8]) -> Option<Result<(), String>> {
        let fingerprint = control_plane::fingerprint(body);
        if self.applied_contracts == Some(fingerprint) {
            return None;
        }
        // A refused set is not stored for the other workers; this worker keeps the
        // fingerprint of the set it applied, so that it does not compile that one again.
        let previous = self.applied_contracts.replace(fingerprint);
        let policy = self.policy.clone()?;
        match config::contracts_from_control_plane(body, &policy) {
            Ok((contracts, dropped)) => {
                log::info!(
                    "contracts from the control plane: {} applied{}",
                    contracts.len(),
                    if dropped > 0 {
                        format!(", {dropped} of other tenants dropped")
                    } else {
                        String::new()
                    }
                );
                self.policy = Some(Rc::new(policy.with_contracts(contracts)));
                Some(Ok(()))
            }
            Err(e) => {
                self.applied_contracts = previous;
                Some(Err(e.to_string()))
            }
        }
    }
}

impl IatpRoot {
    /// Asks the streams waiting for a target's manifest again, starts the refreshes that
    /// requests asked for, and sets the timer: short while streams wait.
    fn targets_tick(&mut self) {
        let Some(policy) = self.policy.clone() else {
            return;
        };
        let Some(m) = policy.gateway.as_ref().and_then(|g| g.manifests.as_ref()) else {
            return;
        };
        targets::poll_waiters(&self.targets, self.context_id);
        let refreshes = match self.targets.try_borrow_mut() {
            Ok(mut t) => t.take_refreshes(),
            Err(_) => Vec::new(),
        };
        // The clock is read only when there is something to refresh (a host call per tick).
        let now_ms = if refreshes.is_empty() {
            0
        } else {
            host::now_nanos() / 1_000_000
        };
        for fetch in refreshes {
            let lease = m
                .cache
                .claim_fetch(&fetch.origin, now_ms, &host::claim_slot);
            if lease != Lease::Granted {
                continue;
            }
            match host::dispatch(&fetch.callout(m)) {
                Some(token) => {
                    if let Ok(mut t) = self.targets.try_borrow_mut() {
                        t.fetching.insert(token, fetch);
                    }
                }
                None => {
                    self.metrics
                        .fetched(FetchKind::Manifest, FetchResult::Failed);
                    m.cache
                        .store(&fetch.origin, now_ms, Fetched::Failed, &host::claim_slot);
                }
            }
        }
        let waiting = self.targets.try_borrow().is_ok_and(|t| t.has_waiters());
        let period = if waiting {
            targets::WAIT_TICK_MS
        } else {
            METRICS_FLUSH_PERIOD_MS
        };
        let current = self.targets.try_borrow().map_or(0, |t| t.tick_ms.get());
        if period != current && abi::set_tick_period(period).is_ok() {
            if let Ok(t) = self.targets.try_borrow() {
                t.tick_ms.set(period);
            }
        }
    }

    /// A refresh the root fetched: stored for every worker; this VM's waiters asked again.
    fn target_answer(&mut self, token: u32, body_size: usize) -> bool {
        let Some(mut fetch) = self
            .targets
            .try_borrow_mut()
            .ok()
            .and_then(|mut t| t.fetching.remove(&token))
        else {
            return false;
        };
        let Some(policy) = self.policy.clone() else {
            return true;
        };
        let Some(gw) = policy.gateway.as_ref() else {
            return true;
        };
        let Some(m) = gw.manifests.as_ref() else {
            return true;
        };
        let (status, body) = host::call_answer(body_size, manifest_fetch::MAX_ANSWER_BYTES);
        let now_ms = host::now_nanos() / 1_000_000;
        match fetch.answer(gw, status, &body, now_ms) {
            Next::Call(call) => match host::dispatch(&call) {
                Some(token) => {
                    if let Ok(mut t) = self.targets.try_borrow_mut() {
                        t.fetching.insert(token, fetch);
                    }
                }
                None => {
                    // The attestation could not be asked: the manifest as read, unattested.
                    if let Next::Done(fetched, result) = fetch.answer(gw, None, &[], now_ms) {
                        self.metrics.fetched(FetchKind::Manifest, result);
                        m.cache
                            .store(&fetch.origin, now_ms, fetched, &host::claim_slot);
                    }
                }
            },
            Next::Done(fetched, result) => {
                self.metrics.fetched(FetchKind::Manifest, result);
                m.cache
                    .store(&fetch.origin, now_ms, fetched, &host::claim_slot);
                targets::poll_waiters(&self.targets, self.context_id);
            }
        }
        true
    }
}

impl Context for IatpRoot {
    /// The VM is going away: what it counted since the last tick still reaches Envoy.
    fn on_done(&mut self) -> bool {
        self.metrics.flush();
        true
    }

    /// The control plane answered (or Envoy ended the call): a valid set is stored for every
    /// worker and applied here; anything else keeps the last good set, and says why.
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        if self.target_answer(token_id, body_size) {
            return;
        }
        if self.control_plane_call != Some(token_id) {
            return;
        }
        self.control_plane_call = None;
        let now_ms = host::now_nanos() / 1_000_000;
        let (status, body) = host::call_answer(body_size, control_plane::MAX_ANSWER_BYTES + 1);
        let outcome = match status {
            Some(200) if body.len() <= control_plane::MAX_ANSWER_BYTES => {
                // Compiled before it is stored: an invalid set never reaches other workers.
                match self.apply_contracts(&body) {
                    Some(Ok(())) | None => Ok(()),
                    Some(Err(e)) => Err((FetchResult::Invalid, e)),
                }
            }
            Some(200) => Err((
                FetchResult::Invalid,
                format!("over {} bytes", control_plane::MAX_ANSWER_BYTES),
            )),
            Some(s) => Err((FetchResult::Failed, format!("status {s}"))),
            None => Err((
                FetchResult::Failed,
                "no answer (timeout or connection failure)".into(),
            )),
        };
        match outcome {
            Ok(()) => {
                self.metrics
                    .fetched(FetchKind::ControlPlane, FetchResult::Ok);
                control_plane::store(now_ms, Some(&body), &host::update_control_plane);
            }
            Err((result, why)) => {
                self.metrics.fetched(FetchKind::ControlPlane, result);
                log::error!(
                    "contracts from the control plane refused, the last good set stays: {why}"
                );
                control_plane::store(now_ms, None, &host::update_control_plane);
            }
        }
    }
}

impl RootContext for IatpRoot {
    fn on_configure(&mut self, _size: usize) -> bool {
        match config::parse(&host::plugin_configuration()) {
            Ok(policy) => {
                for note in &policy.notes {
                    log::warn!("{note}");
                }
                log::info!(
                    "configured for agent '{}': mode {}, trust score {}, threshold {}, {} rule(s), detectors [{}]; VM linear memory {} KiB",
                    policy.manifest.agent_id,
                    policy.mode.as_str(),
                    policy.trust_score,
                    policy.trust_threshold,
                    policy.rules.len(),
                    policy.scanner.names(policy.scanner.enabled()).join(", "),
                    host::linear_memory_bytes() / 1024
                );
                if let Some(g) = &policy.gateway {
                    log::info!(
                        "gateway mode: {} contract(s){}, targets' manifests {}{}",
                        policy.contracts.len(),
                        g.contract
                            .as_deref()
                            .map(|c| format!(" (default '{c}')"))
                            .unwrap_or_default(),
                        g.manifests.as_ref().map_or_else(
                            || "not fetched".to_string(),
                            |m| format!("fetched through cluster '{}'", m.cluster)
                        ),
                        policy
                            .control_plane
                            .as_ref()
                            .map(|c| format!(
                                ", contracts from cluster '{}' every {} s",
                                c.cluster,
                                c.interval_ms / 1000
                            ))
                            .unwrap_or_default()
                    );
                }
                if policy.override_key.is_some() {
                    host::ensure_shared_keys(iatp_core::overrides::slot_keys());
                }
                if let Some(m) = policy.gateway.as_ref().and_then(|g| g.manifests.as_ref()) {
                    // Compare-and-swap needs keys that exist: a lease on a new key would be
                    // won by every worker writing it at once.
                    host::ensure_shared_keys(m.cache.slot_keys());
                }
                self.metrics = Rc::new(Metrics::define(&policy));
                if let Err(s) = abi::set_tick_period(METRICS_FLUSH_PERIOD_MS) {
                    log::warn!("could not set the tick period (metrics stay unflushed): {s}");
                }
                self.chain = Rc::new(RefCell::new(Chain::random(
                    policy.chain_key.clone(),
                    host::now_nanos,
                )));
                self.policy = Some(Rc::new(policy));
                true
            }
            Err(e) => {
                // Returning false makes Envoy reject the filter configuration (fail closed).
                log::error!("configuration rejected: {e}");
                false
            }
        }
    }

    fn on_tick(&mut self) {
        crate::calls::timer(true);
        if let Some(line) = crate::calls::report() {
            log::info!("{line}");
        }
        self.metrics.flush();
        self.control_plane_tick();
        crate::calls::timer(false);
        // Waiting streams asked again: their calls count as theirs.
        self.targets_tick();
        crate::calls::timer(true);
        // Last: it points the host at other contexts for the rest of this callback.
        self.check_held();
        crate::calls::timer(false);
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        // The SDK panics on None; an unconfigured context answers 503 instead.
        Some(Box::new(IatpHttp::new(
            context_id,
            self.policy.clone(),
            self.metrics.clone(),
            self.chain.clone(),
            self.held.clone(),
            self.targets.clone(),
        )))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
