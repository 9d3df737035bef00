//! Worst-case bodies for the national identifier detectors (issue 11's tester): 1 MiB of one
//! near-miss unit repeated, timed against 1 MiB of prose, all built-in detectors on. Prints
//! `unit<TAB>MB/s<TAB>times prose<TAB>MB/s without the national-id kinds`. Run with
//! `cargo run --release -p iatp-core --example id_timing`.

use std::hint::black_box;
use std::time::Instant;

use iatp_core::detect::{Decoding, Findings, Format, KindSet, Scanner};

/// The national identifier kinds (issue 11).
const IDS: &[&str] = &[
    "uk_nhs_number",
    "ca_sin",
    "in_aadhaar",
    "au_tfn",
    "au_abn",
    "au_acn",
    "au_medicare",
    "pl_pesel",
    "br_cpf",
    "kr_rrn",
    "us_itin",
    "uk_nino",
    "in_pan",
    "es_nif",
    "it_fiscal_code",
    "sg_nric",
    "fi_hetu",
];

fn body(unit: &str, n: usize) -> Vec<u8> {
    let mut b = String::new();
    while b.len() < n {
        b.push_str(unit);
    }
    b.into_bytes()
}

/// The best of five scans, in seconds.
fn time(s: &Scanner, b: &[u8]) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut f = Findings::default();
        let t = Instant::now();
        s.scan_input(black_box(b), Decoding::BODY, Format::Text, &mut f, |_| {});
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    let s = Scanner::new(KindSet::all_built_ins());
    // `id_timing UNIT`: scan 1 MiB of UNIT twenty times, untimed (for a profiler).
    if let Some(unit) = std::env::args().nth(1) {
        let b = body(&unit.replace("\\n", "\n"), 1 << 20);
        for _ in 0..20 {
            s.scan_input(
                black_box(&b),
                Decoding::BODY,
                Format::Text,
                &mut Findings::default(),
                |_| {},
            );
        }
        return;
    }
    let mut rest = KindSet::default();
    for k in KindSet::all_built_ins().iter() {
        if !IDS.contains(&s.name(k)) {
            rest = rest.with(k);
        }
    }
    let without = Scanner::new(rest);
    let n = 1 << 20;
    let prose = "The quick brown fox jumps over the lazy dog while the agent books a flight for two guests arriving late. ";
    let base = time(&s, &body(prose, n));
    let mbs = |t: f64| n as f64 / t / 1e6;
    println!("prose\t{:.0}\t1.0", mbs(base));
    for unit in [
        "AB 12 34 56 ",
        "123.456.789-",
        "nie 1234567",
        "nie 12345678 ",
        "sin 046 454 ",
        "pesel 4405140135 ",
        "nhs 943 476 591 ",
        "800101-",
        "S1234567",
        "131052-308",
        "1 ",
        "1.",
        "12 345 678 ",
        "nhs_number,name\n4010232137,x\n",
        "{\"type\":\"x\",\"value\":\"4010232137\"}",
        "PESEL\n92031501233\n",
    ] {
        let b = body(unit, n);
        let t = time(&s, &b);
        let w = time(&without, &b);
        println!("{unit:?}\t{:.0}\t{:.1}\t{:.0}", mbs(t), t / base, mbs(w));
    }
}
