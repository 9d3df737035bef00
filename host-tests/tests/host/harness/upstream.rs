//! The Python upstream (`host-tests/py/upstream.py`): an MCP server, an A2A agent and an
//! OpenAI-style chat endpoint built with the real libraries, in place of the Rust mock agent;
//! and the real client libraries (`host-tests/py/clients.py`) calling through Envoy.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::paths;
use super::pki::ClientCert;
use super::procs::{read_jsonl, Proc};

/// The Python upstream, killed by its PID when dropped.
pub struct PyUpstream {
    _proc: Proc,
    pub addr: SocketAddr,
    pub record: PathBuf,
}

impl PyUpstream {
    pub fn start(dir: &Path) -> PyUpstream {
        let record = dir.join("upstream-requests.jsonl");
        let mut proc = Proc::spawn(
            "upstream.py",
            Command::new(paths::python())
                .arg(paths::repo().join("host-tests/py/upstream.py"))
                .arg("--record")
                .arg(&record)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        );
        let stdout = proc.stdout().expect("upstream.py stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("upstream.py first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("upstream.py said {line:?}"));
        PyUpstream {
            _proc: proc,
            addr,
            record,
        }
    }

    /// Every request the upstream received whole: `{"method", "path", "headers", "body"}`.
    pub fn requests(&self) -> Vec<Value> {
        read_jsonl(&self.record)
    }
}

/// How a client library reaches Envoy: the URL, the CA that signed Envoy's certificate, the
/// client certificate (none: the handshake carries none), extra headers.
pub struct ClientCall<'a> {
    pub url: String,
    pub ca: Option<&'a Path>,
    pub cert: Option<&'a ClientCert>,
    pub headers: Vec<String>,
}

impl ClientCall<'_> {
    /// Runs `clients.py` with `args` (`mcp-list-tools`, `mcp-call TOOL ARGS_JSON`, `a2a-send
    /// TEXT`, `a2a-stream TEXT [--protocol 0.3]`, `openai-chat MODEL TEXT`,
    /// `openai-chat-stream MODEL TEXT`, `openai-moderation INPUT`) and returns its JSON line: `{"ok": true, "result": ...}`
    /// or `{"ok": false, "error": {"class", "module", "message", "code", "data", "status", ...}}`.
    pub fn run(&self, args: &[&str]) -> Value {
        let mut cmd = Command::new(paths::python());
        cmd.arg(paths::repo().join("host-tests/py/clients.py"))
            .arg(&self.url);
        if let Some(ca) = self.ca {
            cmd.arg("--cacert").arg(ca);
        }
        if let Some(c) = self.cert {
            cmd.arg("--cert").arg(&c.cert).arg("--key").arg(&c.key);
        }
        for h in &self.headers {
            cmd.arg(format!("--header={h}"));
        }
        let out = cmd.args(args).output().expect("python for clients.py");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "clients.py {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(text.trim().lines().last().unwrap_or_default()).unwrap_or_else(|e| {
            panic!(
                "clients.py {args:?} printed no JSON ({e}): {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}
