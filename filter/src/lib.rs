//! IATP (Inter-Agent Trust Protocol) as a proxy-wasm HTTP filter.
//!
//! Everything that can be decided from bytes and strings lives in the pure modules below
//! (no `proxy_wasm` import; unit-tested natively). `glue` is the only code that talks to the
//! host.

pub mod agent_card;
pub mod config;
pub mod detect;
pub mod events;
pub mod manifest;
pub mod pipeline;
pub mod policy;
pub mod replies;
pub mod rules;
pub mod scrub;
pub mod time;
pub mod trace;
pub mod trust;

mod glue;

proxy_wasm::main! {{
    glue::register();
}}
