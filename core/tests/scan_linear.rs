//! No input makes the scan super-linear: for each of 70 shapes (every detector's values
//! repeated, escapes, tokens, lines and groups of them, separators alone), a body four times
//! as large takes about four times as long. A quadratic walk shows as a ratio of 16 and
//! seconds at 128 KiB (the token search's block retry took 3 s on `4111111111111111 `
//! repeated); the check fails only on both, a ratio over 10 and over 0.2 s, so that a loaded
//! machine does not fail it. Native only: the algorithm is the same in Wasm.
#![cfg(not(target_family = "wasm"))]

use iatp_core::detect::*;
fn body(unit: &str, n: usize, json: bool) -> Vec<u8> {
    let mut b = String::from(if json { "{\"t\":\"" } else { "" });
    while b.len() < n {
        b.push_str(unit);
    }
    if json {
        b.push_str("\"}");
    }
    b.into_bytes()
}
fn time(s: &Scanner, b: &[u8], json: bool) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let mut f = Findings::default();
        let t = std::time::Instant::now();
        s.scan_input(
            b,
            Decoding::BODY,
            if json { Format::Json } else { Format::Text },
            &mut f,
            |_| {},
        );
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}
#[test]
fn linear() {
    let s = Scanner::new(KindSet::all_built_ins());
    let units: &[(&str, bool)] = &[
        ("4111111111111111 ", true),
        ("4111 1111 1111 1111 ", true),
        ("4111_1111_1111_1111 ", true),
        ("4111-1111-1111-1111\n", false),
        ("123-45-6789 ", true),
        ("123 45 6789 ", true),
        ("QUJDREVGR0hJSktMTU5PUFFS ", true),
        ("QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\r\n", false),
        (r"QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n", true),
        ("0123456789abcdef0123456789abcdef ", true),
        ("0123456789abcdef\n", false),
        ("+14155552671 ", true),
        ("(415) 555-2671, ", true),
        ("a@b.io ", true),
        ("jane.doe@example.com, ", true),
        ("1.1.1.1 ", true),
        ("fe80::1 ", true),
        ("2001:db8::1 ", true),
        ("::", true),
        ("1:2:3:4:5:6:7:8 ", true),
        ("DE89370400440532013000 ", true),
        ("DE89 3704 0044 0532 0130 00 ", true),
        ("021000021 ", true),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 ", true),
        ("AKIAIOSFODNN7EXAMPLE ", true),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789 ", true),
        ("xoxb-123456789012-abcdefghij ", true),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig ", true),
        ("-----BEGIN ", true),
        ("4111111111111111.0,", true),
        ("1e15,", true),
        ("1,", true),
        ("2026-01-05T03:04:00Z ", true),
        ("12:34:56 ", true),
        ("1 2 3 4 ", true),
        ("11 ", true),
        ("1111 ", true),
        ("1111\t", true),
        ("1111/", true),
        ("card 1111 ", true),
        ("%41", true),
        ("%2541", true),
        (r"\u0041", true),
        (r"\\u0041", true),
        ("\u{200b}1", true),
        ("１", true),
        ("a1/", true),
        ("1+", true),
        ("1/", true),
        ("=", true),
        ("A", true),
        ("AAAA ", true),
        ("AAAAAAAAAAAAAAAA ", true),
        ("AAAAAAAAAAAAAAAA\n", false),
        ("4111", true),
        ("41111111", true),
        ("ssn 123456789 ", true),
        ("SSN: ", true),
        ("@", true),
        ("a@", true),
        ("@a.", true),
        (".", true),
        ("-", true),
        ("_", true),
        ("\\", true),
        ("\\\\", true),
        ("\"", true),
        ("+1", true),
        ("(", true),
    ];
    let mut bad = Vec::new();
    for &(u, json) in units {
        let small = body(u, 1 << 15, json);
        let big = body(u, 1 << 17, json);
        let ts = time(&s, &small, json);
        let tb = time(&s, &big, json);
        let r = tb / ts.max(1e-6);
        println!(
            "{u:?} json={json}: 32K {:.1} ms, 128K {:.1} ms, ratio {r:.1}",
            ts * 1e3,
            tb * 1e3
        );
        if r > 10.0 && tb > 0.2 {
            bad.push(u);
        }
    }
    assert!(bad.is_empty(), "super-linear: {bad:?}");
}
