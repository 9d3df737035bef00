//! The proxy-wasm glue: reads what the host has, calls the pure core, writes back. Thin on
//! purpose; every decision is made in the core.

mod abi;
mod host;
mod http;
mod metrics;
mod root;

use proxy_wasm::types::LogLevel;

pub fn register() {
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| Box::new(root::IatpRoot::new()));
}
