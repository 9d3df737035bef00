//! IATP (Inter-Agent Trust Protocol) as a proxy-wasm HTTP filter.
//!
//! Everything that can be decided from bytes and strings lives in the pure modules below
//! (no `proxy_wasm` import; unit-tested natively). `glue` is the only code that talks to the
//! host.

pub mod agent_card;
pub mod chain;
pub mod config;
pub mod detect;
pub mod events;
pub mod header_map;
pub mod json_path;
pub mod manifest;
pub mod metrics;
pub mod pipeline;
pub mod policy;
pub mod replies;
pub mod rules;
pub mod scrub;
pub mod time;
pub mod trace;
pub mod trust;

mod glue;

proxy_wasm::main! {{
    glue::register();
}}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The line between core and glue: only `glue/` (and this file's entry point) may talk to
    /// the host. Everything else must stay testable natively. (A check of the sources: it runs
    /// natively; the Wasm test run has no file system.)
    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn core_modules_do_not_import_proxy_wasm() {
        fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    if p.file_name().unwrap() != "glue" {
                        walk(&p, out);
                    }
                } else if p.extension().is_some_and(|e| e == "rs")
                    && p.file_name().unwrap() != "lib.rs"
                {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        assert!(files.len() > 10, "found only {files:?}");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(
                !text.contains("proxy_wasm"),
                "{} imports proxy_wasm",
                f.display()
            );
        }
    }
}
