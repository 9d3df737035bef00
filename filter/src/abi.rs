//! Raw proxy-wasm ABI calls for the few host functions whose SDK wrappers panic on a status
//! they did not expect (header, property and buffer writes, property reads, local replies,
//! metrics). Envoy answers `BadArgument` to a header write once the headers have
//! left (for instance after an override in stream mode); the SDK turns that into a panic,
//! which aborts the Wasm VM and fails every request on that worker. Here a status is a value.
#![allow(unsafe_code)]

use proxy_wasm::types::{BufferType, MapType, MetricType};

const OK: u32 = 0;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_replace_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_remove_header_map_value(map_type: u32, key_data: *const u8, key_size: usize) -> u32;
    fn proxy_set_property(
        path_data: *const u8,
        path_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_set_buffer_bytes(
        buffer_type: u32,
        start: usize,
        size: usize,
        buffer_data: *const u8,
        buffer_size: usize,
    ) -> u32;
    fn proxy_close_stream(stream_type: u32) -> u32;
    fn proxy_continue_stream(stream_type: u32) -> u32;
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> u32;
    fn proxy_get_header_map_pairs(
        map_type: u32,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> u32;
    fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    fn proxy_define_metric(
        metric_type: u32,
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> u32;
    fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
    fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
    fn proxy_record_metric(metric_id: u32, value: u64) -> u32;
    fn proxy_get_shared_data(
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
        return_cas: *mut u32,
    ) -> u32;
    fn proxy_set_shared_data(
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
        cas: u32,
    ) -> u32;
    fn proxy_set_effective_context(context_id: u32) -> u32;
}

/// The host's status code when it is not Ok.
pub type Failed = u32;

fn status(code: u32) -> Result<(), Failed> {
    if code == OK {
        Ok(())
    } else {
        Err(code)
    }
}

pub fn replace_header(map: MapType, name: &str, value: &str) -> Result<(), Failed> {
    crate::calls::hit(crate::calls::Call::HeaderWrite);
    // SAFETY: the pointers and lengths describe live byte slices for the call's duration;
    // the host copies what it needs.
    status(unsafe {
        proxy_replace_header_map_value(
            map as u32,
            name.as_ptr(),
            name.len(),
            value.as_ptr(),
            value.len(),
        )
    })
}

pub fn remove_header(map: MapType, name: &str) -> Result<(), Failed> {
    crate::calls::hit(crate::calls::Call::HeaderWrite);
    // SAFETY: as above.
    status(unsafe { proxy_remove_header_map_value(map as u32, name.as_ptr(), name.len()) })
}

/// Sets a top-level property (Envoy filter state `wasm.<name>`).
pub fn set_property(name: &str, value: &[u8]) -> Result<(), Failed> {
    crate::calls::hit(crate::calls::Call::PropertyWrite);
    // SAFETY: as above.
    status(unsafe { proxy_set_property(name.as_ptr(), name.len(), value.as_ptr(), value.len()) })
}

/// Replaces `size` bytes at `start` of a buffer (the request body) with `data`.
pub fn set_buffer(
    buffer: BufferType,
    start: usize,
    size: usize,
    data: &[u8],
) -> Result<(), Failed> {
    crate::calls::hit(crate::calls::Call::BufferWrite);
    // SAFETY: as above.
    status(unsafe { proxy_set_buffer_bytes(buffer as u32, start, size, data.as_ptr(), data.len()) })
}

/// Resets the HTTP stream (proxy-wasm `close_stream` of the response: Envoy resets the
/// stream downstream).
pub fn reset_response() -> Result<(), Failed> {
    crate::calls::hit(crate::calls::Call::Stream);
    // proxy-wasm's `StreamType::HttpResponse`.
    const HTTP_RESPONSE: u32 = 1;
    // SAFETY: no pointers.
    status(unsafe { proxy_close_stream(HTTP_RESPONSE) })
}

/// Lets a paused response go on (proxy-wasm `continue_stream` of the response).
pub fn continue_response() -> Result<(), Failed> {
    crate::calls::hit(crate::calls::Call::Stream);
    // proxy-wasm's `StreamType::HttpResponse`.
    const HTTP_RESPONSE: u32 = 1;
    // SAFETY: no pointers.
    status(unsafe { proxy_continue_stream(HTTP_RESPONSE) })
}

pub fn continue_request() -> Result<(), Failed> {
    crate::calls::hit(crate::calls::Call::Stream);
    // proxy-wasm's `StreamType::HttpRequest`.
    const HTTP_REQUEST: u32 = 0;
    // SAFETY: no pointers.
    status(unsafe { proxy_continue_stream(HTTP_REQUEST) })
}

/// Sends a local reply. `details` shows up as Envoy's `%RESPONSE_CODE_DETAILS%`.
pub fn send_local_response(
    code: u32,
    details: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(), Failed> {
    crate::calls::hit(crate::calls::Call::Reply);
    let map = iatp_core::header_map::serialize(headers);
    // SAFETY: as above.
    status(unsafe {
        proxy_send_local_response(
            code,
            details.as_ptr(),
            details.len(),
            body.as_ptr(),
            body.len(),
            map.as_ptr(),
            map.len(),
            -1,
        )
    })
}

const NOT_FOUND: u32 = 1;

/// A whole header map, serialized (`iatp_core::header_map` reads it).
pub fn header_map_pairs(map: MapType) -> Result<Vec<u8>, Failed> {
    crate::calls::hit(crate::calls::Call::HeaderMapRead);
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size: usize = 0;
    // SAFETY: `data` and `size` are written by the host, which allocates the value through the
    // SDK's exported `proxy_on_memory_allocate` (see `get_property`).
    let code = unsafe { proxy_get_header_map_pairs(map as u32, &mut data, &mut size) };
    match code {
        OK if data.is_null() => Ok(Vec::new()),
        // SAFETY: `data` is an allocation of `size` bytes now owned by us.
        OK => Ok(unsafe { Vec::from_raw_parts(data, size, size) }),
        other => Err(other),
    }
}

/// A property (`["response", "code_details"]`); `None` when the host does not have it.
pub fn get_property(path: &[&str]) -> Result<Option<Vec<u8>>, Failed> {
    crate::calls::hit(crate::calls::Call::PropertyRead);
    // The path's parts, NUL-separated.
    let serialized = path.join("\0");
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size: usize = 0;
    // SAFETY: the path is a live byte slice for the call's duration; `data` and `size` are
    // written by the host, which allocates the value through the SDK's exported
    // `proxy_on_memory_allocate` (a boxed `[u8]` of exactly `size` bytes, as the SDK's own
    // `get_property` assumes when it takes ownership the same way).
    let code =
        unsafe { proxy_get_property(serialized.as_ptr(), serialized.len(), &mut data, &mut size) };
    match code {
        OK if data.is_null() => Ok(None),
        // SAFETY: see above: `data` is an allocation of `size` bytes now owned by us.
        OK => Ok(Some(unsafe { Vec::from_raw_parts(data, size, size) })),
        NOT_FOUND => Ok(None),
        other => Err(other),
    }
}

/// A shared-data value and its CAS; `Ok(None)` when the key does not exist.
pub fn get_shared_data(key: &str) -> Result<Option<(Vec<u8>, u32)>, Failed> {
    crate::calls::hit(crate::calls::Call::SharedRead);
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size: usize = 0;
    let mut cas: u32 = 0;
    // SAFETY: the key is a live byte slice for the call; `data`, `size` and `cas` are written
    // by the host, which allocates the value as for `get_property`.
    let code =
        unsafe { proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut size, &mut cas) };
    match code {
        OK if data.is_null() => Ok(Some((Vec::new(), cas))),
        // SAFETY: `data` is an allocation of `size` bytes now owned by us.
        OK => Ok(Some((
            unsafe { Vec::from_raw_parts(data, size, size) },
            cas,
        ))),
        NOT_FOUND => Ok(None),
        other => Err(other),
    }
}

/// Sets a shared-data value if its CAS is still `cas` (0: unconditionally).
pub fn set_shared_data(key: &str, value: &[u8], cas: u32) -> Result<(), Failed> {
    crate::calls::hit(crate::calls::Call::SharedWrite);
    // SAFETY: as above.
    status(unsafe {
        proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas)
    })
}

/// Defines (or finds, if any VM of this proxy defined it already) a metric; its id.
pub fn define_metric(kind: MetricType, name: &str) -> Result<u32, Failed> {
    let mut id = 0u32;
    // SAFETY: as above; `id` is a live u32 the host writes once.
    status(unsafe { proxy_define_metric(kind as u32, name.as_ptr(), name.len(), &mut id) })
        .map(|()| id)
}

/// Asks for `on_tick` every `millis` milliseconds.
pub fn set_tick_period(millis: u32) -> Result<(), Failed> {
    // SAFETY: no pointers.
    status(unsafe { proxy_set_tick_period_milliseconds(millis) })
}

pub fn increment_metric(id: u32, offset: i64) -> Result<(), Failed> {
    crate::calls::hit(crate::calls::Call::Metric);
    // SAFETY: no pointers.
    status(unsafe { proxy_increment_metric(id, offset) })
}

pub fn record_metric(id: u32, value: u64) -> Result<(), Failed> {
    crate::calls::hit(crate::calls::Call::Metric);
    // SAFETY: no pointers.
    status(unsafe { proxy_record_metric(id, value) })
}

/// Makes the following host calls of this callback act on context `id` (a stream, from the
/// root context's timer).
pub fn set_effective_context(id: u32) -> Result<(), Failed> {
    // SAFETY: no pointers.
    status(unsafe { proxy_set_effective_context(id) })
}
