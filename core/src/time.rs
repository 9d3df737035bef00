//! RFC 3339 timestamps in UTC with milliseconds, from Unix time, without a date library.

/// `2026-01-23T12:34:56.789Z` for `unix_millis` milliseconds since the epoch.
pub fn rfc3339_millis(unix_millis: u64) -> String {
    let secs = unix_millis / 1000;
    let millis = unix_millis % 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    // Written digit by digit: two of these per request, and the formatting machinery cost
    // more than the rest of the line's numbers (the per-request profile, issue 15).
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let fields: [(usize, usize, u64); 7] = [
        (0, 4, y),
        (5, 2, m),
        (8, 2, d),
        (11, 2, rem / 3600),
        (14, 2, (rem % 3600) / 60),
        (17, 2, rem % 60),
        (20, 3, millis),
    ];
    for (at, width, value) in fields {
        let mut v = value;
        for i in (at..at + width).rev() {
            if let Some(b) = out.get_mut(i) {
                // `v % 10` < 10: the cast cannot truncate.
                *b = b'0' + (v % 10) as u8;
            }
            v /= 10;
        }
        if v > 0 {
            // A year past 9999 (not a date an event carries): the general form.
            return format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
                rem / 3600,
                (rem % 3600) / 60,
                rem % 60
            );
        }
    }
    // All ASCII digits and separators: valid UTF-8.
    std::str::from_utf8(&out)
        .map(str::to_owned)
        .unwrap_or_default()
}

/// Howard Hinnant's `civil_from_days`, for days since 1970-01-01 (non-negative only).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            rfc3339_millis(1_769_171_696_789),
            "2026-01-23T12:34:56.789Z"
        );
        assert_eq!(
            rfc3339_millis(4_102_444_799_999),
            "2099-12-31T23:59:59.999Z"
        );
        assert_eq!(
            rfc3339_millis(253_402_300_799_999),
            "9999-12-31T23:59:59.999Z"
        );
        // Past 9999 the year takes its digits (the general form).
        assert_eq!(
            rfc3339_millis(253_402_300_800_000),
            "10000-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn digits_written_by_hand_match_the_formatter() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ms = x % 253_402_300_800_000;
            let secs = ms / 1000;
            let rem = secs % 86_400;
            let (y, m, d) = civil_from_days(secs / 86_400);
            let want = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
                rem / 3600,
                (rem % 3600) / 60,
                rem % 60,
                ms % 1000
            );
            assert_eq!(rfc3339_millis(ms), want, "{ms}");
        }
    }

    /// Attack on f532479 (digits by hand): the boundaries, against the formatter's form.
    #[test]
    fn hand_written_digits_at_the_boundaries() {
        let formatted = |ms: u64| {
            let secs = ms / 1000;
            let rem = secs % 86_400;
            let (y, m, d) = civil_from_days(secs / 86_400);
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
                rem / 3600,
                (rem % 3600) / 60,
                rem % 60,
                ms % 1000
            )
        };
        let day = 86_400_000u64;
        let mut cases = vec![
            0,
            1,
            999,
            1000,
            59_999,
            60_000,
            3_599_999,
            3_600_000,
            day - 1,
            day,
            // 1972-02-29 and 2000-02-29 (leap days), 2100-03-01 (no 29th), 2400-02-29.
            (365 + 365 + 31 + 28) * day,
            11_016 * day,
            4_107_542_400_000,
            13_574_563_200_000,
            // The last hand-written millisecond, the first formatted one, and far beyond.
            253_402_300_799_999,
            253_402_300_800_000,
            253_402_300_800_001,
            u64::MAX / 2,
            u64::MAX - 1,
            u64::MAX,
        ];
        // Every day's last and first millisecond around each year change up to 10000.
        let mut days = 0u64;
        let mut year = 1970;
        while year <= 10_001 {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            days += if leap { 366 } else { 365 };
            cases.extend([days * day - 1, days * day]);
            year += 1;
        }
        for ms in cases {
            let got = rfc3339_millis(ms);
            assert_eq!(got, formatted(ms), "{ms}");
            if ms < 253_402_300_800_000 {
                assert_eq!(got.len(), 24, "{got}");
            }
        }
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_millis(u64::MAX), "584556019-04-03T14:25:51.615Z");
    }
}
