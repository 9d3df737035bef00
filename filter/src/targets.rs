//! This VM's work on gateway targets' manifests (`gateway.manifests`): the streams waiting for
//! another request's fetch, polled on the root context's timer and whenever a fetch in this VM
//! ends; and the refreshes of stale entries, which the root context fetches (a refresh outlives
//! the request that noticed it). The decisions are the core's (`manifest_cache`,
//! `manifest_fetch`); this is who asks whom, when.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use iatp_core::manifest_fetch::Fetch;

use crate::http::Stream;

/// How often the root's timer runs while streams wait (milliseconds); otherwise the metrics'
/// period.
pub const WAIT_TICK_MS: u32 = 20;

#[derive(Default)]
pub struct Targets {
    /// The root timer's period as last set, by the root or a stream that started waiting
    /// (milliseconds; 0 before the first).
    pub tick_ms: Cell<u32>,
    /// Streams held for another request's fetch: their context id and state.
    waiters: Vec<(u32, Weak<RefCell<Stream>>)>,
    /// Stale entries to refresh, by origin (once each).
    refresh: BTreeMap<String, Fetch>,
    /// The root's fetches under way, by call token.
    pub fetching: BTreeMap<u32, Fetch>,
}

impl Targets {
    /// Puts a stream on the waiting list, and the root's timer at [`WAIT_TICK_MS`].
    pub fn start_waiting(&mut self, context_id: u32, stream: Weak<RefCell<Stream>>) {
        self.wait(context_id, stream);
        if self.tick_ms.get() != WAIT_TICK_MS {
            match crate::abi::set_tick_period(WAIT_TICK_MS) {
                Ok(()) => self.tick_ms.set(WAIT_TICK_MS),
                Err(s) => log::warn!("could not shorten the tick period: host status {s}"),
            }
        }
    }

    pub fn wait(&mut self, context_id: u32, stream: Weak<RefCell<Stream>>) {
        if !self.waiters.iter().any(|(id, _)| *id == context_id) {
            self.waiters.push((context_id, stream));
        }
    }

    pub fn forget(&mut self, context_id: u32) {
        self.waiters.retain(|(id, _)| *id != context_id);
    }

    pub fn has_waiters(&self) -> bool {
        !self.waiters.is_empty()
    }

    /// The waiters, taken out (each one asked is put back with [`Targets::wait`] if it still
    /// waits).
    pub fn take_waiters(&mut self) -> Vec<(u32, Weak<RefCell<Stream>>)> {
        std::mem::take(&mut self.waiters)
    }

    pub fn want_refresh(&mut self, fetch: Fetch) {
        if !self.fetching.values().any(|f| f.origin == fetch.origin) {
            self.refresh.entry(fetch.origin.clone()).or_insert(fetch);
        }
    }

    pub fn take_refreshes(&mut self) -> Vec<Fetch> {
        std::mem::take(&mut self.refresh).into_values().collect()
    }
}

/// Asks every waiting stream of this VM again (`own`: the context of the callback this runs
/// in, pointed back at when done; the root's id from the timer).
pub fn poll_waiters(targets: &Rc<RefCell<Targets>>, own: u32) {
    let waiters = match targets.try_borrow_mut() {
        Ok(mut t) => t.take_waiters(),
        Err(_) => return,
    };
    if waiters.is_empty() {
        return;
    }
    for (id, weak) in waiters {
        let Some(stream) = weak.upgrade() else {
            continue;
        };
        let Ok(mut s) = stream.try_borrow_mut() else {
            // The stream is the one running this callback: it is not waiting.
            continue;
        };
        if crate::abi::set_effective_context(id).is_err() {
            // The stream is gone.
            continue;
        }
        if s.poll_target() {
            if let Ok(mut t) = targets.try_borrow_mut() {
                t.wait(id, weak.clone());
            }
        }
    }
    let _ = crate::abi::set_effective_context(own);
}
