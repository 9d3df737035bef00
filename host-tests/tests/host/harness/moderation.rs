//! The moderation mock (`host-tests/py/moderation.py`): `POST /v1/moderations` in the OpenAI
//! moderation API's shape, scores chosen by markers in the input (`TOXIC`, `BIASED`, `SLOW`,
//! `FAIL500`), behind Envoy's `moderation` cluster (`StackBuilder::moderation`).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::paths;
use super::procs::{read_jsonl, Proc};

/// The moderation mock, killed by its PID when dropped.
pub struct ModerationMock {
    proc: Proc,
    pub addr: SocketAddr,
    pub record: PathBuf,
}

impl ModerationMock {
    /// Starts it on a free loopback port; its requests are recorded in
    /// `dir/moderation-requests.jsonl`.
    pub fn start(dir: &Path) -> ModerationMock {
        let record = dir.join("moderation-requests.jsonl");
        let mut proc = Proc::spawn(
            "moderation.py",
            Command::new(paths::python())
                .arg(paths::repo().join("host-tests/py/moderation.py"))
                .arg("--record")
                .arg(&record)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        );
        let stdout = proc.stdout().expect("moderation.py stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("moderation.py first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("moderation.py said {line:?}"));
        ModerationMock { proc, addr, record }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// Every request it received: `{"method", "path", "headers", "body"}`.
    pub fn requests(&self) -> Vec<Value> {
        read_jsonl(&self.record)
    }

    /// The requests' bodies parsed as JSON (`{"input", "model"}`).
    pub fn inputs(&self) -> Vec<Value> {
        self.requests()
            .iter()
            .map(|r| {
                serde_json::from_str(r["body"].as_str().unwrap_or_default()).unwrap_or(Value::Null)
            })
            .collect()
    }
}
