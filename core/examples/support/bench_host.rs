//! The `Host` the core benchmarks give an exchange (`request_bench.rs`, `curves.rs`, included
//! with `#[path]`): Envoy as the exchange sees it, a clock that the loop moves, the body, a 200,
//! and the TLS peer's URI SAN when there is one. No shared data: override tokens never claim.

use std::cell::Cell;

use iatp_core::phases::{Host, SlotUpdate};

pub struct Bench<'a> {
    pub now: Cell<u64>,
    pub body: &'a [u8],
    pub san: Option<&'a [u8]>,
}

impl Host for Bench<'_> {
    fn now_nanos(&self) -> u64 {
        self.now.get()
    }
    fn request_body(&self, size: usize) -> Vec<u8> {
        self.body.get(..size).unwrap_or(self.body).to_vec()
    }
    fn response_status(&self) -> Option<u16> {
        Some(200)
    }
    fn response_code_details(&self) -> Vec<u8> {
        b"via_upstream".to_vec()
    }
    fn request_trailers(&self) -> Vec<u8> {
        Vec::new()
    }
    fn claim_once(&self, _: &str, _: SlotUpdate) -> bool {
        false
    }
    fn peer_uri_san(&self) -> Option<Vec<u8>> {
        self.san.map(<[u8]>::to_vec)
    }
}
