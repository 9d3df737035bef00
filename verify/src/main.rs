//! `iatp-verify [OPTIONS] FILE...`: checks the hash chains of IATP event files.
//!
//! Reads the files in the order given, as one stream (a rotated log: oldest first), and prints
//! per chain its line count, its `seq` range, the hash it ends at and its first broken line
//! (edited, deleted, inserted or reordered; or a chain whose first lines are missing), then
//! lines that belong to no chain. Exit status: 0 when every chain verifies, 1 when one does
//! not, 2 on a usage error or a file that cannot be read.
//!
//! Options:
//!   --key-env NAME           the chain key (`events.chain_key`) is in environment variable NAME;
//!                            given again for each key the file's chains were sealed under
//!                            (a reload that changed the key: each chain verifies under one)
//!   --anchor CHAIN:SEQ:HASH  CHAIN goes on from SEQ/HASH (where an earlier, verified file ended)
//!   --allow-partial          accept chains whose first lines are not in the files, unchecked

use std::io::{BufRead, BufReader};
use std::process::ExitCode;

use iatp_core::chain::{Anchor, ChainKey, Verifier};

const USAGE: &str = "usage: iatp-verify [--key-env NAME]... [--anchor CHAIN:SEQ:HASH]... \
[--allow-partial] EVENTS.jsonl [MORE.jsonl ...]  (oldest first)";

fn usage(msg: &str) -> ExitCode {
    if !msg.is_empty() {
        eprintln!("iatp-verify: {msg}");
    }
    eprintln!("{USAGE}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut files: Vec<String> = Vec::new();
    let mut keys = Vec::new();
    let mut anchors = Vec::new();
    let mut allow_partial = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => return usage(""),
            "--allow-partial" => allow_partial = true,
            "--key-env" => {
                let Some(name) = args.next() else {
                    return usage("--key-env needs a variable name");
                };
                match std::env::var(&name) {
                    Ok(k) if !k.is_empty() => keys.push(ChainKey::new(k.as_bytes())),
                    _ => return usage(&format!("environment variable {name} is not set")),
                }
            }
            "--anchor" => match args.next().map(|s| s.parse::<Anchor>()) {
                Some(Ok(anchor)) => anchors.push(anchor),
                Some(Err(e)) => return usage(&e),
                None => return usage("--anchor needs CHAIN:SEQ:HASH"),
            },
            flag if flag.starts_with("--") => return usage(&format!("unknown option {flag}")),
            _ => files.push(a),
        }
    }
    if files.is_empty() {
        return usage("no events file given");
    }
    let keyed = !keys.is_empty();
    let mut v = Verifier::with_keys(keys, anchors, allow_partial);
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
        "{} line(s), {} chain(s), in {} ({})",
        total,
        chains.len(),
        files.join(", "),
        if keyed { "HMAC-SHA256" } else { "SHA-256" }
    );
    for c in &chains {
        let state = match &c.first_break {
            None if c.first_seq != 1 => {
                format!(
                    "ok from seq {} on (its earlier lines unchecked)",
                    c.first_seq
                )
            }
            None => "ok".to_string(),
            Some((n, why)) => format!("BROKEN at {}: {why}", locate(*n)),
        };
        println!(
            "chain {}: {} line(s), seq {}..{}, ends {}:{}:{}: {state}",
            c.id, c.lines, c.first_seq, c.last_seq, c.id, c.last_seq, c.last_hash
        );
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
