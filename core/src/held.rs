//! Requests whose headers the filter holds while their body arrives, watched for the one Envoy
//! misconfiguration that fails silently.
//!
//! Envoy hands the body to a Wasm filter that paused on the request headers only when the
//! filter's config sets `allow_on_headers_stop_iteration: true`. Without it, the filter holds
//! the headers (`hold_headers`, on by default), Envoy holds the body back from the filter, and
//! every request with a body hangs until the client gives up: nothing fails, nothing is logged.
//!
//! The glue reports each request it holds ([`HeldRequests::hold`]) and each one that got a body
//! callback or ended ([`HeldRequests::release`]). On its timer it asks Envoy, for the requests
//! held longer than [`STALL_NANOS`] ([`HeldRequests::overdue`]), how many
//! body bytes it has received ([`body_bytes_received`]). Body bytes in Envoy that the filter
//! never saw prove the flag missing: [`HeldRequests::report`] gives the error line, once per
//! VM. A request whose body has not started (a slow client) is asked about again later
//! ([`HeldRequests::recheck_later`]).

use crate::header_map::HeaderMap;

/// How long a request is held without a body callback before Envoy is asked about it. With the
/// flag set, Envoy calls the filter as soon as body data arrives; only a filter before this one
/// that buffers the whole body could keep it that long.
pub const STALL_NANOS: u64 = 3_000_000_000;

/// At most this many held requests are asked about per tick (each question is three host calls).
pub const MAX_CHECKS_PER_TICK: usize = 8;

/// What fixes it; also said by `iatp-check-config`.
pub const FIX: &str = "set `allow_on_headers_stop_iteration: true` in the config of the envoy.filters.http.wasm filter, or `\"hold_headers\": false` in the plugin configuration (Istio's WasmPlugin cannot set the flag)";

/// The error line the glue logs, once per VM.
pub fn stalled_message() -> String {
    format!(
        "requests with a body hang: Envoy has received request body bytes that it does not hand to this filter, which holds the request headers until the body is decided (`hold_headers`, on by default); Envoy hands them over only with `allow_on_headers_stop_iteration: true`. To fix: {FIX}"
    )
}

/// How many bytes of request body Envoy has received: its `request.total_size` attribute (an
/// integer, 8 bytes little-endian) is those plus the size of the request headers as they are
/// now (every name and value), which the same callback reads.
pub fn body_bytes_received(total_size: &[u8], headers: &HeaderMap) -> Option<u64> {
    let total = i64::from_le_bytes(total_size.try_into().ok()?);
    u64::try_from(total).ok()?.checked_sub(headers.byte_size())
}

/// The held requests of one VM, by context id.
#[derive(Debug, Default)]
pub struct HeldRequests {
    /// Context ids and when each was held (or last asked about), nanoseconds since the epoch.
    /// A list: a worker holds few requests at a time, and a map's code would cost the module
    /// several KiB.
    since: Vec<(u32, u64)>,
    reported: bool,
}

impl HeldRequests {
    /// The filter holds the headers of request `context` and waits for its body.
    pub fn hold(&mut self, context: u32, now_nanos: u64) {
        // Envoy calls the headers callback once per stream, and ids are unique while it lives.
        if !self.reported {
            self.since.push((context, now_nanos));
        }
    }

    /// Request `context` got a body callback, or ended; when it was still held, since when.
    pub fn release(&mut self, context: u32) -> Option<u64> {
        let at = self.since.iter().position(|(c, _)| *c == context)?;
        Some(self.since.swap_remove(at).1)
    }

    /// Whether a request held since `since` has waited long enough to ask Envoy about it.
    pub fn is_overdue(since: u64, now_nanos: u64) -> bool {
        now_nanos.saturating_sub(since) >= STALL_NANOS
    }

    /// The held requests to ask Envoy about now: held for [`STALL_NANOS`] or more, at most
    /// [`MAX_CHECKS_PER_TICK`], in no particular order. None once reported.
    pub fn overdue(&self, now_nanos: u64) -> Vec<u32> {
        if self.reported {
            return Vec::new();
        }
        self.since
            .iter()
            .filter(|(_, since)| Self::is_overdue(*since, now_nanos))
            .map(|(context, _)| *context)
            .take(MAX_CHECKS_PER_TICK)
            .collect()
    }

    /// Envoy has no body bytes of request `context` yet: ask again after another
    /// [`STALL_NANOS`], and the other overdue requests first.
    pub fn recheck_later(&mut self, context: u32, now_nanos: u64) {
        if let Some((_, since)) = self.since.iter_mut().find(|(c, _)| *c == context) {
            *since = now_nanos;
        }
    }

    /// Envoy has body bytes of a request that the filter holds and never saw: the error line,
    /// the first time; `None` after that. Nothing more is watched once reported.
    pub fn report(&mut self) -> Option<String> {
        if self.reported {
            return None;
        }
        self.reported = true;
        self.since.clear();
        Some(stalled_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn sorted(mut v: Vec<u32>) -> Vec<u32> {
        v.sort_unstable();
        v
    }

    #[test]
    fn requests_held_long_enough_are_asked_about_then_reported_once() {
        let mut h = HeldRequests::default();
        h.hold(1, 10 * S);
        h.hold(2, 11 * S);
        h.hold(3, 12 * S);
        assert_eq!(sorted(h.overdue(12 * S)), Vec::<u32>::new());
        assert_eq!(sorted(h.overdue(13 * S)), vec![1]);
        assert_eq!(sorted(h.overdue(14 * S)), vec![1, 2]);
        // A body callback releases a request.
        assert_eq!(h.release(2), Some(11 * S));
        assert_eq!(h.release(2), None);
        assert_eq!(sorted(h.overdue(14 * S)), vec![1]);
        // Still arriving: asked about again later.
        h.recheck_later(1, 14 * S);
        assert_eq!(sorted(h.overdue(15 * S)), vec![3]);
        assert_eq!(sorted(h.overdue(17 * S)), vec![1, 3]);
        let line = h.report().unwrap();
        assert!(
            line.contains("allow_on_headers_stop_iteration: true"),
            "{line}"
        );
        assert!(line.contains("\"hold_headers\": false"), "{line}");
        assert_eq!(h.report(), None);
        // Nothing is watched after the report.
        h.hold(4, 20 * S);
        assert_eq!(sorted(h.overdue(30 * S)), Vec::<u32>::new());
        assert_eq!(h.release(4), None);
    }

    #[test]
    fn body_bytes_are_the_total_size_less_the_headers() {
        let pairs = crate::header_map::serialize(&[(":path", "/x"), ("content-length", "7")]);
        let headers = HeaderMap::parse(&pairs);
        assert_eq!(headers.byte_size(), 7 + 15);
        assert_eq!(body_bytes_received(&29i64.to_le_bytes(), &headers), Some(7));
        assert_eq!(body_bytes_received(&22i64.to_le_bytes(), &headers), Some(0));
        assert_eq!(body_bytes_received(&3i64.to_le_bytes(), &headers), None);
        assert_eq!(body_bytes_received(&(-1i64).to_le_bytes(), &headers), None);
        assert_eq!(body_bytes_received(b"29", &headers), None);
    }

    #[test]
    fn at_most_a_few_are_asked_about_per_tick() {
        let mut h = HeldRequests::default();
        for c in 0..100 {
            h.hold(c, 0);
        }
        assert_eq!(h.overdue(STALL_NANOS).len(), MAX_CHECKS_PER_TICK);
        assert!(!HeldRequests::is_overdue(1, STALL_NANOS));
        assert!(HeldRequests::is_overdue(0, STALL_NANOS));
    }
}
