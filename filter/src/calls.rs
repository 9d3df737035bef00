//! Host calls counted by kind, for the profile of issue 15 ("count them per request; each
//! crossing costs"). Only with the `hostcall-count` feature: then the root's timer logs the
//! totals and the number of streams since the VM started (`scripts/hostcalls.sh` reads them).
//! Without it every `hit` is empty and compiled away.

/// What kind of host call.
#[derive(Debug, Clone, Copy)]
pub enum Call {
    HeaderMapRead,
    HeaderRead,
    HeaderWrite,
    BufferRead,
    BufferWrite,
    PropertyRead,
    PropertyWrite,
    SharedRead,
    SharedWrite,
    Time,
    Metric,
    Reply,
    Stream,
    Callout,
}

#[cfg(feature = "hostcall-count")]
mod counting {
    use std::sync::atomic::{AtomicU64, Ordering};

    pub const NAMES: [&str; 14] = [
        "header_map_read",
        "header_read",
        "header_write",
        "buffer_read",
        "buffer_write",
        "property_read",
        "property_write",
        "shared_read",
        "shared_write",
        "time",
        "metric",
        "reply",
        "stream",
        "callout",
    ];
    #[allow(clippy::declare_interior_mutable_const)]
    const ZERO: AtomicU64 = AtomicU64::new(0);
    pub static COUNTS: [AtomicU64; 14] = [ZERO; 14];
    pub static STREAMS: AtomicU64 = AtomicU64::new(0);
    /// The root's timer runs: its own calls (metrics, the report) are not a request's.
    pub static PAUSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    pub fn hit(c: super::Call) {
        if PAUSED.load(Ordering::Relaxed) {
            return;
        }
        if let Some(n) = COUNTS.get(c as usize) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn stream() {
        STREAMS.fetch_add(1, Ordering::Relaxed);
    }

    pub fn report() -> String {
        let counts: Vec<String> = NAMES
            .iter()
            .zip(COUNTS.iter())
            .map(|(n, c)| format!("{n}={}", c.load(Ordering::Relaxed)))
            .collect();
        format!(
            "hostcalls streams={} {}",
            STREAMS.load(Ordering::Relaxed),
            counts.join(" ")
        )
    }
}

/// One host call of kind `c`.
#[inline(always)]
pub fn hit(c: Call) {
    #[cfg(feature = "hostcall-count")]
    counting::hit(c);
    #[cfg(not(feature = "hostcall-count"))]
    let _ = c;
}

/// One stream ended (its `on_log`).
#[inline(always)]
pub fn stream() {
    #[cfg(feature = "hostcall-count")]
    counting::stream();
}

/// Calls made by the root's timer are not counted between `timer(true)` and `timer(false)`.
#[inline(always)]
pub fn timer(running: bool) {
    #[cfg(feature = "hostcall-count")]
    counting::PAUSED.store(running, std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(feature = "hostcall-count"))]
    let _ = running;
}

/// The totals, as the log line says them (`None` without the feature).
pub fn report() -> Option<String> {
    #[cfg(feature = "hostcall-count")]
    return Some(counting::report());
    #[cfg(not(feature = "hostcall-count"))]
    None
}
