//! Does nothing, through the same SDK and the same Envoy configuration as the IATP filter:
//! Envoy with this filter minus Envoy without any filter is what any proxy-wasm filter costs
//! before it does any work (VM calls for every callback of every request, and the V8 runtime's
//! memory). scripts/bench.sh measures it beside the IATP filter.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| Box::new(Root));
}}

struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Nothing))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Nothing;

impl Context for Nothing {}

impl HttpContext for Nothing {}
