//! The Envoy the gateway tests run against: a clock, the request body buffered so far,
//! trailers, and proxy-wasm shared data that every exchange of a test sees (as every worker of
//! one Envoy does), with the manifest cache's slots made as the root context makes them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::{Host, SlotUpdate};
use crate::policy::Policy;

pub(super) const NOW: u64 = 1_769_171_696_789_000_000;
pub(super) const MS: u64 = 1_000_000;

#[derive(Default)]
pub(super) struct Fake {
    pub(super) now: u64,
    pub(super) body: Vec<u8>,
    pub(super) trailers: Vec<u8>,
    pub(super) shared: Rc<RefCell<HashMap<String, Vec<u8>>>>,
}

impl Host for Fake {
    fn now_nanos(&self) -> u64 {
        self.now
    }
    fn request_body(&self, size: usize) -> Vec<u8> {
        self.body.get(..size).unwrap_or(&self.body).to_vec()
    }
    fn response_status(&self) -> Option<u16> {
        Some(200)
    }
    fn response_code_details(&self) -> Vec<u8> {
        Vec::new()
    }
    fn request_trailers(&self) -> Vec<u8> {
        self.trailers.clone()
    }
    fn claim_once(&self, key: &str, update: SlotUpdate) -> bool {
        let mut shared = self.shared.borrow_mut();
        let Some(current) = shared.get(key) else {
            return false;
        };
        match update(Some(current.as_slice()).filter(|c| !c.is_empty())) {
            Some(v) => {
                shared.insert(key.to_string(), v);
                true
            }
            None => false,
        }
    }
    fn shared(&self, key: &str) -> Option<Vec<u8>> {
        self.shared.borrow().get(key).cloned()
    }
}

impl Fake {
    /// With the cache's slots made, as the root context makes them at configure time.
    pub(super) fn for_policy(p: &Policy) -> Fake {
        let fake = Fake {
            now: NOW,
            ..Fake::default()
        };
        if let Some(m) = p.gateway.as_ref().and_then(|g| g.manifests.as_ref()) {
            for key in m.cache.slot_keys() {
                fake.shared.borrow_mut().insert(key, Vec::new());
            }
        }
        fake
    }

    /// The same shared data and time, with `body` buffered.
    pub(super) fn sharing(&self, body: &[u8]) -> Fake {
        Fake {
            now: self.now,
            body: body.to_vec(),
            trailers: self.trailers.clone(),
            shared: self.shared.clone(),
        }
    }

    /// The same shared data, `ms` milliseconds after `NOW`, with `body` buffered.
    pub(super) fn at(&self, ms: u64, body: &[u8]) -> Fake {
        Fake {
            now: NOW + ms * MS,
            ..self.sharing(body)
        }
    }
}
