//! Trace ids: the caller's `X-Agent-Trace-ID` when well-formed, else the trace id of a W3C
//! `traceparent`, else a new UUIDv4.

pub const MAX_TRACE_ID_LEN: usize = 128;

/// 1 to 128 characters of `[A-Za-z0-9._-]`: safe in a header, a log line and a file name.
pub fn is_valid_trace_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_TRACE_ID_LEN
        && id
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The 32-hex-digit trace id of a W3C `traceparent` (`00-<trace-id>-<parent-id>-<flags>`), if
/// the header is well-formed. Version `ff` and the all-zero trace id are invalid by the spec.
pub fn traceparent_trace_id(header: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(header).ok()?.trim();
    let mut parts = s.split('-');
    let version = parts.next()?;
    let trace_id = parts.next()?;
    let parent_id = parts.next()?;
    let flags = parts.next()?;
    let hex = |p: &str, n: usize| {
        p.len() == n && p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    // Version 00 has exactly four fields; later versions may append more.
    let more = parts.next().is_some();
    if !hex(version, 2) || version == "ff" || (version == "00" && more) {
        return None;
    }
    if !hex(trace_id, 32) || !hex(parent_id, 16) || !hex(flags, 2) {
        return None;
    }
    if trace_id.bytes().all(|b| b == b'0') || parent_id.bytes().all(|b| b == b'0') {
        return None;
    }
    Some(trace_id)
}

/// Lower-case hyphenated UUID version 4 from 16 random bytes.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0x0f), 16).unwrap_or('0'));
    }
    out
}

/// Picks the trace id for a request. `random` is only used when neither header gives one.
/// `sensitive` says whether a caller's id holds a value the scanner detects (`123-45-6789` is
/// a well-formed id): such an id would print that value in every event line and header, so a
/// new one is used instead.
pub fn resolve(
    agent_trace_id: Option<&[u8]>,
    traceparent: Option<&[u8]>,
    sensitive: impl Fn(&[u8]) -> bool,
    random: impl FnOnce() -> [u8; 16],
) -> String {
    if let Some(id) = agent_trace_id.filter(|id| is_valid_trace_id(id) && !sensitive(id)) {
        return String::from_utf8_lossy(id).into_owned();
    }
    if let Some(id) = traceparent.and_then(traceparent_trace_id) {
        return id.to_string();
    }
    uuid_v4(random())
}

/// 16 random bytes for a UUIDv4 trace id. WASI's `random_get` is asked for 32 ids' worth at a
/// time: a host call per request costs more than the rest of the id, and a generator seeded
/// once would make ids (which the caller sees) predictable. Should the host refuse, the time
/// and a per-VM counter keep ids unique (not unpredictable).
pub fn random_bytes(now: u64) -> [u8; 16] {
    use std::cell::{Cell, RefCell};
    const BATCH: usize = 32 * 16;
    thread_local! {
        static POOL: RefCell<([u8; BATCH], usize)> = const { RefCell::new(([0; BATCH], BATCH)) };
        static COUNTER: Cell<u64> = const { Cell::new(0) };
    }
    let drawn = POOL.with(|pool| {
        let mut pool = pool.try_borrow_mut().ok()?;
        let (bytes, used) = &mut *pool;
        if *used + 16 > BATCH {
            getrandom::fill(bytes).ok()?;
            *used = 0;
        }
        let id: [u8; 16] = bytes.get(*used..*used + 16)?.try_into().ok()?;
        *used += 16;
        Some(id)
    });
    if let Some(id) = drawn {
        return id;
    }
    let n = COUNTER.with(|c| {
        c.set(c.get().wrapping_add(1));
        c.get()
    });
    let hi = splitmix64(now ^ 0x9e37_79b9_7f4a_7c15);
    let lo = splitmix64(n.wrapping_add(hi));
    let mut b = [0u8; 16];
    b.iter_mut()
        .zip(hi.to_le_bytes().into_iter().chain(lo.to_le_bytes()))
        .for_each(|(slot, v)| *slot = v);
    b
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &[u8] = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_caller_id_holding_a_sensitive_value_is_replaced() {
        let ssn = |id: &[u8]| id == b"123-45-6789";
        assert_eq!(
            resolve(Some(b"123-45-6789"), None, ssn, || [0; 16]).len(),
            36
        );
        assert_eq!(resolve(Some(b"abc"), None, ssn, || [0; 16]), "abc");
    }

    #[test]
    fn caller_id_wins_when_well_formed() {
        assert_eq!(
            resolve(Some(b"abc-123_x.y"), Some(TP), |_| false, || [0; 16]),
            "abc-123_x.y"
        );
        assert_eq!(
            resolve(Some(b"bad id"), Some(TP), |_| false, || [0; 16]),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        let long = vec![b'a'; 129];
        assert!(!is_valid_trace_id(&long));
        assert!(is_valid_trace_id(&long[..128]));
        assert!(!is_valid_trace_id(b""));
        assert!(!is_valid_trace_id(b"a\"b"));
        assert!(!is_valid_trace_id("é".as_bytes()));
    }

    #[test]
    fn traceparent_validation() {
        assert!(traceparent_trace_id(TP).is_some());
        for bad in [
            &b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"[..],
            b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            b"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            b"garbage",
        ] {
            assert_eq!(
                traceparent_trace_id(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // A future version may carry more fields.
        assert!(traceparent_trace_id(
            b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-zz"
        )
        .is_some());
    }

    #[test]
    fn uuid_shape() {
        let id = resolve(None, None, |_| false, || [0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = uuid_v4([0; 16]);
        assert_eq!(id, "00000000-0000-4000-8000-000000000000");
    }
}
