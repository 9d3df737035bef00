//! Peak heap memory of one body's scan (`Scanner::scan_input`, all detectors, every decoding),
//! on 1 MiB bodies built to make the decoded views large, and on ordinary encoded text of the
//! same size: the scan stays within 13 times the body in the Wasm build (17 natively, where
//! offsets and spans are 64-bit), and refuses (`incomplete`) rather than take more. `cargo test --release -p iatp-core --test scan_memory -- --nocapture`
//! prints the table `docs/operations.md` cites.
#![allow(unsafe_code)] // a counting global allocator is the only way to see the heap
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use iatp_core::detect::{Decoding, Findings, Format, KindSet, Scanner};

struct Counting;
static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let n = NOW.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(n, Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        NOW.fetch_sub(l.size(), Relaxed);
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Standard base64 (RFC 4648 §4), padded.
fn b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for g in bytes.chunks(3) {
        let v = g.iter().fold(0u32, |a, &b| a << 8 | u32::from(b)) << (8 * (3 - g.len()));
        for k in 0..=g.len() {
            out.extend(
                A.get((v >> (18 - 6 * k) & 63) as usize)
                    .map(|&c| char::from(c)),
            );
        }
        out.extend(std::iter::repeat_n('=', 3 - g.len()));
    }
    out
}

fn body(unit: &str, n: usize) -> Vec<u8> {
    let mut b = String::from("{\"t\":\"");
    while b.len() < n {
        b.push_str(unit);
    }
    b.push_str("\"}");
    b.into_bytes()
}

#[test]
fn peak() {
    let scanner = Scanner::new(KindSet::all_built_ins());
    let n = 1 << 20;
    // (name, repeated unit, whether the views are over their budget).
    let cases = [
        ("u-escape", r"\u0041", false),
        ("n-a", r"\na", false),
        ("double u", r"\\u0041", false),
        ("double n", r"\\na", false),
        ("triple", r"\\\\u0041", false),
        ("pct", "%41", false),
        ("pct2", "%2541", false),
        ("pct-json", r"%5Cu0041", false),
        ("zwsp", "\u{200b}a", false),
        ("zwsp esc", r"\u200ba", false),
        ("fullwidth", "１", false),
        ("num", "1,", false),
        ("b64", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo= ", false),
        // Tokens joined by single spaces are one block (lines pasted into one line): one
        // token, whose text fits the budget.
        ("b64 of pct", "JTQxJTQxJTQxJTQxJTQxJTQxJTQxJTQx ", false),
        // As many tokens apart, each with its text and map entries: they fit too, now that the
        // second level does not decode the first level's tokens again.
        (
            "b64 of pct apart",
            "JTQxJTQxJTQxJTQxJTQxJTQxJTQxJTQx, ",
            false,
        ),
        ("b64 of esc", "XHUwMDQxXHUwMDQxXHUwMDQxXHUwMDQx ", false),
        ("plain", "the booking agent ", false),
        (
            "cyrillic esc",
            r"\u043f\u0440\u0438\u0432\u0435\u0442 ",
            false,
        ),
        (
            "cyrillic esc2",
            r"\\u043f\\u0440\\u0438\\u0432\\u0435\\u0442 ",
            false,
        ),
        (
            "cyrillic pct",
            "%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82+",
            false,
        ),
        (
            "cjk raw",
            "\u{4f60}\u{597d}\u{ff0c}\u{4e16}\u{754c}\u{3002}",
            false,
        ),
        ("mixed", r"\\a\\bb\u0041%41\u200bx", false),
        ("mixed2", r"\\\\u0041\\\\", false),
        ("alt", r"\u0041\\", true),
        ("alt2", r"\u0041\u00e9", false),
        // From a tester: unlike escapes beside digit words, and values found by the thousand
        // (their list is the scan's other memory).
        ("mixed+plus", r"1+\u0041\\%41", false),
        ("alt digits", r"1\u0041\\", false),
        ("email+esc", r"\u0041a@b.io ", false),
        ("ip+esc", r"\u00411.1.1.1 ", false),
        ("digits+plus", r"\u00411+1+1+1+1+1+1+1+", false),
    ];
    // Base64 text attachments (an A2A FilePart's `bytes`), whose text is escaped or folded in
    // its turn: ordinary bodies, never over the budget.
    let mut bodies: Vec<(String, Vec<u8>, bool)> = cases
        .iter()
        .map(|&(name, unit, over)| (name.to_string(), body(unit, n), over))
        .collect();
    for (name, unit) in [
        (
            "b64 nbsp euro",
            "Le total est de 12\u{a0}€ pour la réservation.\n",
        ),
        ("b64 pct url", "see https://example.com/a%20b for details\n"),
        (
            "b64 of b64",
            "UmVwb3J0IGF0dGFjaGVkLCBuby4gNDIuIMOpdMOpLgo=\r\n",
        ),
    ] {
        let mut text = String::new();
        while text.len() < n * 3 / 4 - 200 {
            text.push_str(unit);
        }
        let part = format!(
            r#"{{"kind":"file","file":{{"name":"a.txt","mimeType":"text/plain","bytes":"{}"}}}}"#,
            b64(text.as_bytes())
        );
        bodies.push((name.to_string(), part.into_bytes(), false));
    }
    for (name, b, over) in bodies {
        let before = NOW.load(Relaxed);
        PEAK.store(before, Relaxed);
        let mut f = Findings::default();
        let mut k = 0usize;
        let t = std::time::Instant::now();
        // JSON: the format with the most layers (number forms); text bodies take the same views.
        scanner.scan_input(&b, Decoding::BODY, Format::Json, &mut f, |_| k += 1);
        let peak = PEAK.load(Relaxed) - before;
        assert_eq!(f.incomplete, over, "{name}");
        let factor = if cfg!(target_pointer_width = "32") {
            13
        } else {
            17
        };
        assert!(
            peak <= factor * b.len() + (3 << 20),
            "{name}: {peak} bytes for {}",
            b.len()
        );
        println!(
            "{name:14} peak {:6.2} x input, {} findings, incomplete {}, {:?}",
            peak as f64 / b.len() as f64,
            k,
            f.incomplete,
            t.elapsed()
        );
    }
}
