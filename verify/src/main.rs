//! `iatp-verify FILE...`: checks the hash chains of IATP event files.
//!
//! Reads the files in the order given, as one stream (a rotated log: oldest first), and prints
//! per chain its line count, its `seq` range and its first broken line (edited, deleted,
//! inserted or reordered), then lines that belong to no chain. Exit status: 0 when every chain
//! verifies, 1 when one does not, 2 when a file cannot be read.

use std::io::{BufRead, BufReader};
use std::process::ExitCode;

use iatp_filter::chain::Verifier;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() || files.iter().any(|f| f == "-h" || f == "--help") {
        eprintln!("usage: iatp-verify EVENTS.jsonl [MORE.jsonl ...]  (oldest first)");
        return ExitCode::from(2);
    }
    let mut v = Verifier::default();
    let mut where_lines = Vec::new(); // (first line number of each file, its name)
    let mut total = 0u64;
    for f in &files {
        let file = match std::fs::File::open(f) {
            Ok(file) => file,
            Err(e) => {
                eprintln!("iatp-verify: cannot read {f}: {e}");
                return ExitCode::from(2);
            }
        };
        where_lines.push((total + 1, f.as_str()));
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {
                    let l = line.strip_suffix(b"\n").unwrap_or(&line);
                    v.line(l);
                    total += 1;
                }
                Err(e) => {
                    eprintln!("iatp-verify: cannot read {f}: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    // Line numbers are counted over all files; say which file and line they are.
    let locate = |n: u64| -> String {
        let (start, name) = where_lines
            .iter()
            .rev()
            .find(|(start, _)| *start <= n)
            .copied()
            .unwrap_or((1, ""));
        format!("{name}:{}", n - start + 1)
    };
    let chains: Vec<_> = v.chains().collect();
    println!(
        "{} line(s), {} chain(s), in {}",
        total,
        chains.len(),
        files.join(", ")
    );
    for c in &chains {
        let from = if c.first_seq == 1 {
            String::new()
        } else {
            format!(
                " (starts at seq {}: its earlier lines are not in these files)",
                c.first_seq
            )
        };
        match &c.first_break {
            None => println!(
                "chain {}: {} line(s), seq {}..{}: ok{from}",
                c.id, c.lines, c.first_seq, c.last_seq
            ),
            Some((n, why)) => println!(
                "chain {}: {} line(s), seq {}..{}: BROKEN at {}: {why}{from}",
                c.id,
                c.lines,
                c.first_seq,
                c.last_seq,
                locate(*n)
            ),
        }
    }
    for (n, why) in &v.unreadable {
        println!("{}: {why}", locate(*n));
    }
    if v.ok() {
        println!("verified");
        ExitCode::SUCCESS
    } else {
        println!("NOT verified");
        ExitCode::from(1)
    }
}
