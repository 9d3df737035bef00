//! The pure core of the IATP (Inter-Agent Trust Protocol) filter: everything that can be
//! decided from bytes and strings. This crate has no proxy-wasm dependency at all, so the
//! crate graph keeps the line between core and glue: `iatp-filter` (the cdylib Envoy loads)
//! reads what Envoy has, calls in here, and carries out what comes back.
//!
//! See `ARCHITECTURE.md` at the repository root for the data flow of one request and where
//! each decision is made.

pub mod agent_card;
pub mod attestation;
pub mod caller;
pub mod canonical;
pub mod chain;
pub mod charset;
pub mod config;
pub mod contract;
pub mod control_plane;
pub mod detect;
pub mod events;
pub mod gateway;
pub mod header_map;
pub mod held;
pub mod json_path;
pub mod manifest;
pub mod manifest_cache;
pub mod manifest_fetch;
pub mod metrics;
pub mod overrides;
pub mod phases;
pub mod policy;
pub mod protocol;
mod registry;
pub mod remote_manifest;
pub mod replies;
pub mod response;
pub mod route;
#[cfg(test)]
mod route_attack2_tests;
pub mod rules;
pub mod scrub;
pub mod secret;
pub mod sse;
pub mod target;
pub mod time;
pub mod trace;
pub mod trust;
