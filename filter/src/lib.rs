//! IATP (Inter-Agent Trust Protocol) as a proxy-wasm HTTP filter: the glue between Envoy and
//! `iatp_core`. It reads what the host has, calls the core, and writes back; every decision is
//! made in the core.

mod abi;
mod calls;
mod host;
mod http;
mod metrics;
mod root;
mod targets;

use proxy_wasm::types::LogLevel;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|id| Box::new(root::IatpRoot::new(id)));
}}
