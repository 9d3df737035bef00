//! Adversarial bodies for the secret detectors: 1 MiB of one prefix or shape repeated
//! (`sk-sk-sk-…`, `"private_key_id":"<hex>",…`), each timed against 1 MiB of prose, all
//! built-in detectors on. The scan must stay linear and close to prose on all of them: a
//! matcher that fails inside a run is called again at the next stop, so its per-stop work is
//! what these bodies multiply. Release build:
//! `cargo run --release -p iatp-core --example secret_stress`.
//!
//! Output: one line per body, `unit<TAB>ms<TAB>times prose`, worst first.

use std::hint::black_box;
use std::time::Instant;

use iatp_core::detect::{Decoding, Findings, Format, KindSet, Scanner};

const UNITS: &[&str] = &[
    "sk-",
    "sk-proj-",
    "sk-ant-",
    "sk-ant-api03-",
    "sk-or-v1-",
    "xoxb-",
    "xoxd-",
    "xoxe.",
    "xoxe.xoxp-",
    "-----BEGIN ",
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n",
    "--",
    "-",
    "_",
    "=",
    "a-",
    "a_",
    "AccountKey=",
    "accountkey = ",
    "SharedAccessKey=",
    "hooks.slack.com/services/",
    "hooks.slack.com/services/T1/B1/",
    ".",
    "..",
    "eyJ",
    "eyJhbGciOiJub25lIn0.",
    "eyJhbGciOiJub25lIn0.e.",
    "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..",
    "ghp_",
    "ghs_",
    "ghs_1_eyJhbGciOiJub25lIn0.",
    "github_pat_",
    "glpat-",
    "glpat--",
    "glpat-a.01.",
    "GR1348941",
    "SG.",
    "SG.aaaaaaaaaaaaaaaaaaaaaa.",
    "MTIzNDU2Nzg5MDEyMzQ1Njc4.",
    "discord.com/api/webhooks/",
    "private_key_id\": \"",
    "\"private_key_id\":\"0123456789abcdef0123456789abcdef01234567\",",
    "private_key_id: 0123456789abcdef0123456789abcdef01234567\n",
    // The same bodies without the GCP detector's key: what the rest of the pass costs.
    "\"public_key_id\":\"0123456789abcdef0123456789abcdef01234567\",",
    "public_key_id: 0123456789abcdef0123456789abcdef01234567\n",
    "pypi-AgEIcHlwaS5vcmc",
    "AIza",
    "AKIA",
    "A3T",
    "npm_",
    "gsk_",
    "hf_",
    "r8_",
    "xai-",
    "pplx-",
    "sk_live_",
    "whsec_",
    "SK0123456789abcdef0123456789abcdef ",
    "T3BlbkFJ",
    "xoxb-1-",
    "sk-proj-T3BlbkFJ",
    "https://",
    "https:\\/\\/",
];

fn body(unit: &str, n: usize) -> Vec<u8> {
    let mut b = String::with_capacity(n + unit.len());
    while b.len() < n {
        b.push_str(unit);
    }
    b.into_bytes()
}

/// The best of five scans, in seconds.
fn time(s: &Scanner, b: &[u8]) -> f64 {
    (0..5)
        .map(|_| {
            let mut f = Findings::default();
            let t = Instant::now();
            s.scan_input(black_box(b), Decoding::BODY, Format::Text, &mut f, |x| {
                black_box(x);
            });
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

fn main() {
    let s = Scanner::new(KindSet::all_built_ins());
    let mib = 1 << 20;
    let prose = body(
        "The booking agent will confirm the reservation for two guests arriving late, with breakfast. ",
        mib,
    );
    let base = time(&s, &prose);
    println!("prose\t{:.2}\t1.00", base * 1e3);
    let mut rows: Vec<(f64, &str, f64)> = UNITS
        .iter()
        .map(|u| {
            let t = time(&s, &body(u, mib));
            (t / base, *u, t)
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (x, u, t) in rows {
        println!("{u:?}\t{:.2}\t{x:.1}", t * 1e3);
    }
}
