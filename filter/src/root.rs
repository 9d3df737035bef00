//! The root context: parses and compiles the configuration once per VM, then hands the
//! compiled policy to every HTTP context.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use crate::http::IatpHttp;
use crate::metrics::Metrics;
use crate::{abi, host};
use iatp_core::chain::Chain;
use iatp_core::config;
use iatp_core::held::HeldRequests;
use iatp_core::policy::Policy;

/// How often counters counted in the VM reach Envoy's stats.
const METRICS_FLUSH_PERIOD_MS: u32 = 1000;

pub struct IatpRoot {
    policy: Option<Rc<Policy>>,
    metrics: Rc<Metrics>,
    /// This VM's chain of event lines: a new one at every configuration (a new plugin
    /// configuration gets a new root context anyway).
    chain: Rc<RefCell<Chain>>,
    /// The requests whose headers this VM holds while their body arrives: watched for an
    /// Envoy that never hands the body over (no `allow_on_headers_stop_iteration`).
    held: Rc<RefCell<HeldRequests>>,
}

impl IatpRoot {
    pub fn new() -> IatpRoot {
        IatpRoot {
            policy: None,
            metrics: Rc::new(Metrics::default()),
            chain: Rc::new(RefCell::new(Chain::random(None, host::now_nanos))),
            held: Rc::new(RefCell::new(HeldRequests::default())),
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

impl Context for IatpRoot {
    /// The VM is going away: what it counted since the last tick still reaches Envoy.
    fn on_done(&mut self) -> bool {
        self.metrics.flush();
        true
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
                    "configured for agent '{}': mode {}, trust score {}, threshold {}, {} rule(s), detectors [{}]",
                    policy.manifest.agent_id,
                    policy.mode.as_str(),
                    policy.trust_score,
                    policy.trust_threshold,
                    policy.rules.len(),
                    policy.scanner.names(policy.scanner.enabled()).join(", ")
                );
                if policy.override_key.is_some() {
                    host::ensure_shared_keys(iatp_core::overrides::slot_keys());
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
        self.metrics.flush();
        // Last: it points the host at other contexts for the rest of this callback.
        self.check_held();
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        // The SDK panics on None; an unconfigured context answers 503 instead.
        Some(Box::new(IatpHttp::new(
            context_id,
            self.policy.clone(),
            self.metrics.clone(),
            self.chain.clone(),
            self.held.clone(),
        )))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
