//! The root context: parses and compiles the configuration once per VM, then hands the
//! compiled policy to every HTTP context.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use super::host;
use super::http::IatpHttp;
use crate::config;
use crate::policy::Policy;

#[derive(Default)]
pub struct IatpRoot {
    policy: Option<Rc<Policy>>,
}

impl Context for IatpRoot {}

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

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        // The SDK panics on None; an unconfigured context answers 503 instead.
        Some(Box::new(IatpHttp::new(self.policy.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
