//! Host calls, without the SDK's panics. Its convenience methods `unwrap()`; its `String`
//! getters panic on header values that are not UTF-8 (which any client can send); its setters
//! panic on any status but Ok. Reads here use the byte variants, and only in the callbacks
//! where Envoy has the data (the SDK still panics on a status other than Ok or NotFound, which
//! Envoy gives only for a map or buffer that does not exist in that phase). Writes go through
//! `abi`, which returns the status. A failed write is logged and the request goes on.

use std::time::UNIX_EPOCH;

use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, Bytes, MapType};

use crate::abi;
use iatp_core::header_map::HeaderMap;
use iatp_core::held;
use iatp_core::phases::{Host, SlotUpdate};

/// All request headers in one host call (`HeaderMap::parse` reads them).
pub fn request_headers() -> Bytes {
    abi::header_map_pairs(MapType::HttpRequestHeaders)
        .map_err(|s| log::warn!("could not read the request headers: host status {s}"))
        .unwrap_or_default()
}

/// Sets (or with `None` removes) a request header. False when the host refused, e.g. because
/// the headers have already gone upstream.
pub fn set_request_header(name: &str, value: Option<&str>) -> bool {
    set_header(MapType::HttpRequestHeaders, name, value)
}

pub fn set_request_trailer(name: &str, value: Option<&str>) -> bool {
    set_header(MapType::HttpRequestTrailers, name, value)
}

pub fn set_response_header(name: &str, value: Option<&str>) -> bool {
    set_header(MapType::HttpResponseHeaders, name, value)
}

fn set_header(map: MapType, name: &str, value: Option<&str>) -> bool {
    let result = match value {
        Some(v) => abi::replace_header(map, name, v),
        None => abi::remove_header(map, name),
    };
    result
        .map_err(|status| log::warn!("could not set header {name}: host status {status}"))
        .is_ok()
}

/// Replaces the response body Envoy holds (`old_size` bytes: all of it while buffered, the
/// current chunk while streaming) with `body`.
pub fn replace_response_body(old_size: usize, body: &[u8]) -> bool {
    abi::set_buffer(BufferType::HttpResponseBody, 0, old_size, body)
        .map_err(|s| log::error!("could not replace the response body: host status {s}"))
        .is_ok()
}

/// Makes an HTTP call through an Envoy cluster; its answer comes to the context's
/// `on_http_call_response` with the token returned. `None` when Envoy refused the call (no
/// such cluster).
pub fn dispatch(call: &iatp_core::phases::Callout) -> Option<u32> {
    let headers: Vec<(&str, &str)> = call
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    crate::calls::hit(crate::calls::Call::Callout);
    hostcalls::dispatch_http_call(
        &call.cluster,
        headers,
        Some(&call.body),
        Vec::new(),
        std::time::Duration::from_millis(u64::from(call.timeout_ms)),
    )
    .map_err(|s| log::warn!("could not call cluster {}: host status {s:?}", call.cluster))
    .ok()
}

/// The answer to a call: its `:status` (`None` when Envoy ended the call: a timeout, a
/// connection failure) and up to `max` bytes of its body.
pub fn call_answer(body_size: usize, max: usize) -> (Option<u16>, Bytes) {
    let headers = abi::header_map_pairs(MapType::HttpCallResponseHeaders).unwrap_or_default();
    let status = HeaderMap::parse(&headers)
        .get(":status")
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|s| s.parse().ok());
    let body = if body_size == 0 {
        Vec::new()
    } else {
        hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size.min(max))
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    (status, body)
}

/// Lets a response paused for a call go on.
pub fn resume_response() {
    if let Err(s) = abi::continue_response() {
        log::error!("could not resume the response: host status {s}");
    }
}

/// Lets a request paused for its target's manifest go on.
pub fn resume_request() {
    if let Err(s) = abi::continue_request() {
        log::error!("could not resume the request: host status {s}");
    }
}

/// Resets the stream (a refused response whose headers have left).
pub fn reset_stream() {
    if let Err(s) = abi::reset_response() {
        log::error!("could not reset the stream: host status {s}");
    }
}

/// Replaces the whole buffered request body (`old_size` bytes) with `body`.
pub fn replace_request_body(old_size: usize, body: &[u8]) -> bool {
    abi::set_buffer(BufferType::HttpRequestBody, 0, old_size, body)
        .map_err(|s| log::error!("could not replace the request body: host status {s}"))
        .is_ok()
}

pub fn send_reply(status: u32, details: &str, headers: &[(&str, &str)], body: &[u8]) {
    if let Err(s) = abi::send_local_response(status, details, headers, body) {
        log::error!("could not send the {status} reply: host status {s}");
    }
}

/// False (and a warning logged) when the host refused.
pub fn set_property(name: &str, value: &[u8]) -> bool {
    abi::set_property(name, value)
        .map_err(|s| log::warn!("could not set property {name}: host status {s}"))
        .is_ok()
}

/// A stream property (`["response", "code_details"]`…), if the host has it.
pub fn property(path: &[&str]) -> Option<Bytes> {
    abi::get_property(path)
        .map_err(|s| {
            log::warn!(
                "could not read property {}: host status {s}",
                path.join(".")
            )
        })
        .ok()
        .flatten()
}

/// How many bytes of request body Envoy has received on stream `context`, asked from any
/// context: `None` when there is no such stream (any more), `Some(None)` when the host cannot
/// tell.
pub fn body_bytes_received(context: u32) -> Option<Option<u64>> {
    abi::set_effective_context(context).ok()?;
    let total = abi::get_property(&["request", "total_size"]).ok().flatten();
    let headers = abi::header_map_pairs(MapType::HttpRequestHeaders).unwrap_or_default();
    Some(total.and_then(|t| held::body_bytes_received(&t, &HeaderMap::parse(&headers))))
}

pub fn plugin_configuration() -> Bytes {
    hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// What the core reads from Envoy, read only when a phase asks (`iatp_core::phases::Host`).
pub struct Envoy;

impl Host for Envoy {
    fn now_nanos(&self) -> u64 {
        now_nanos()
    }

    /// The buffered request body, at most `size` bytes of it (the one copy proxy-wasm makes).
    fn request_body(&self, size: usize) -> Vec<u8> {
        crate::calls::hit(crate::calls::Call::BufferRead);
        hostcalls::get_buffer(BufferType::HttpRequestBody, 0, size)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    fn response_status(&self) -> Option<u16> {
        crate::calls::hit(crate::calls::Call::HeaderRead);
        hostcalls::get_map_value_bytes(MapType::HttpResponseHeaders, ":status")
            .ok()
            .flatten()
            .and_then(|v| std::str::from_utf8(&v).ok().and_then(|s| s.parse().ok()))
    }

    fn response_code_details(&self) -> Vec<u8> {
        property(&["response", "code_details"]).unwrap_or_default()
    }

    fn claim_once(&self, key: &str, update: SlotUpdate) -> bool {
        // on_configure creates every slot; without one, no claim can be atomic.
        compare_and_swap(key, update, false)
    }

    fn peer_uri_san(&self) -> Option<Vec<u8>> {
        // Absent (no TLS, no client certificate, no URI SAN) is `Ok(None)` in Envoy 1.40.
        abi::get_property(&["connection", "uri_san_peer_certificate"])
            .ok()
            .flatten()
            .filter(|v| !v.is_empty())
    }

    fn dynamic_metadata(&self) -> Option<Vec<u8>> {
        abi::get_property(&["metadata"])
            .ok()
            .flatten()
            .filter(|v| !v.is_empty())
    }

    fn route_metadata(&self) -> Option<Vec<u8>> {
        // The whole Metadata as protobuf (one host call): a path into it would lose an empty
        // or null profile, which Envoy answers as "not found" (see `iatp_core::route`).
        abi::get_property(&["xds", "route_metadata"])
            .ok()
            .flatten()
            .filter(|v| !v.is_empty())
    }

    fn update_shared(&self, key: &str, update: SlotUpdate) -> bool {
        // A missing key is created by the write: Envoy accepts any cas for a new key, so two
        // workers creating it at once both succeed (the first request of a bucket may count
        // once too few; documented).
        compare_and_swap(key, update, true)
    }

    /// All response headers in one host call.
    fn response_headers(&self) -> Vec<u8> {
        abi::header_map_pairs(MapType::HttpResponseHeaders)
            .map_err(|s| log::warn!("could not read the response headers: host status {s}"))
            .unwrap_or_default()
    }

    /// The response body Envoy holds, at most `size` bytes of it.
    fn response_body(&self, size: usize) -> Vec<u8> {
        crate::calls::hit(crate::calls::Call::BufferRead);
        hostcalls::get_buffer(BufferType::HttpResponseBody, 0, size)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    fn shared(&self, key: &str) -> Option<Vec<u8>> {
        shared(key)
    }

    /// All request trailers in one host call.
    fn request_trailers(&self) -> Vec<u8> {
        abi::header_map_pairs(MapType::HttpRequestTrailers)
            .map_err(|s| log::warn!("could not read the request trailers: host status {s}"))
            .unwrap_or_default()
    }
}

/// Replaces the shared-data value at `key` with what `update` makes of it, retried while
/// another worker writes between the read and the write (CAS says so, and the update is made
/// again on what it wrote). A missing key is `update(None)` with `create`, else a failure.
fn compare_and_swap(key: &str, update: SlotUpdate, create: bool) -> bool {
    for _ in 0..CAS_ATTEMPTS {
        let (current, cas) = match abi::get_shared_data(key) {
            Ok(Some((value, cas))) => (Some(value), cas),
            Ok(None) if create => (None, 0),
            Ok(None) => {
                log::warn!("shared data {key} is missing: it cannot be updated atomically");
                return false;
            }
            Err(s) => {
                log::warn!("could not read shared data {key}: host status {s}");
                return false;
            }
        };
        let Some(next) = update(current.as_deref()) else {
            return false;
        };
        match abi::set_shared_data(key, &next, cas) {
            Ok(()) => return true,
            Err(CAS_MISMATCH) => continue,
            Err(s) => {
                log::warn!("could not write shared data {key}: host status {s}");
                return false;
            }
        }
    }
    false
}

/// A compare-and-swap on one of the slots made at configure time (the manifest cache's).
pub fn claim_slot(key: &str, update: SlotUpdate) -> bool {
    compare_and_swap(key, update, false)
}

/// A compare-and-swap on the control plane's shared record (made by its first write).
pub fn update_control_plane(update: iatp_core::control_plane::Update) -> bool {
    compare_and_swap(iatp_core::control_plane::SHARED_KEY, update, true)
}

/// How many times a shared-data update is tried against concurrent writers.
const CAS_ATTEMPTS: usize = 8;
/// proxy-wasm's `CasMismatch` status.
const CAS_MISMATCH: u32 = 8;

/// Creates the shared-data keys that are missing (empty), so that later updates can be
/// compare-and-swapped.
pub fn ensure_shared_keys(keys: impl Iterator<Item = String>) {
    for key in keys {
        match abi::get_shared_data(&key) {
            Ok(Some(_)) => {}
            Ok(None) => {
                if let Err(s) = abi::set_shared_data(&key, b"", 0) {
                    log::warn!("could not create shared data {key}: host status {s}");
                }
            }
            Err(s) => log::warn!("could not read shared data {key}: host status {s}"),
        }
    }
}

/// The shared-data value at `key` (`None` when there is none, or it cannot be read).
pub fn shared(key: &str) -> Option<Vec<u8>> {
    abi::get_shared_data(key)
        .map_err(|s| log::warn!("could not read shared data {key}: host status {s}"))
        .ok()
        .flatten()
        .map(|(value, _)| value)
}

/// Wall-clock time in nanoseconds since the Unix epoch (0 if the host cannot tell).
pub fn now_nanos() -> u64 {
    crate::calls::hit(crate::calls::Call::Time);
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| u64::try_from(d.as_nanos()).ok())
        .unwrap_or(0)
}

/// The VM's linear memory in bytes (Wasm pages of 64 KiB): what this VM holds for its heap,
/// which never shrinks (`memory.grow` only grows). Each VM of the filter (one per worker and
/// one on the main thread) has its own. 0 outside Wasm.
pub fn linear_memory_bytes() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) * 65536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}
