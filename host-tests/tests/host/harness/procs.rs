//! Processes the tests start: Envoy, the mock agent (and, in `upstream.rs`, the Python one). Each is killed by its own PID when
//! dropped; nothing is ever killed by name.

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http;
use super::paths;

/// A child process killed (SIGKILL) and reaped on drop.
pub struct Proc {
    child: Child,
}

impl Proc {
    pub fn spawn(name: &'static str, cmd: &mut Command) -> Proc {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        Proc { child }
    }

    /// The child's piped stdout, once.
    pub fn stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// The child's process id (for `/proc/PID/...`; never to signal it by anything but its
    /// own handle).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct MockAgent {
    pub proc: Proc,
    pub addr: SocketAddr,
    pub record: PathBuf,
}

impl MockAgent {
    pub fn start(dir: &Path) -> MockAgent {
        let record = dir.join("agent-requests.jsonl");
        let mut proc = Proc::spawn(
            "mock-agent",
            Command::new(paths::mock_agent())
                .arg("--record")
                .arg(&record)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        );
        let stdout = proc.child.stdout.take().expect("mock-agent stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("mock-agent first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("mock-agent said {line:?}"));
        MockAgent { proc, addr, record }
    }

    /// Stops the agent (by its PID), so that Envoy finds nobody upstream.
    pub fn stop(&mut self) {
        let _ = self.proc.child.kill();
        let _ = self.proc.child.wait();
    }

    /// Every request the agent received whole so far, as the JSON it echoed.
    pub fn requests(&self) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|r| r["stage"] == "complete")
            .collect()
    }

    /// Everything the agent recorded, including requests of which only the head arrived.
    pub fn records(&self) -> Vec<Value> {
        read_jsonl(&self.record)
    }
}

pub struct Envoy {
    _proc: Proc,
    pub admin: SocketAddr,
    pub listener: SocketAddr,
    pub log: PathBuf,
}

/// Why Envoy did not come up.
#[derive(Debug)]
pub struct StartFailure {
    pub status: Option<ExitStatus>,
    pub log: String,
}

impl Envoy {
    /// Starts Envoy on `config` and waits until it is ready (admin `/ready` says LIVE) and its
    /// listener is bound. Ports are chosen by the kernel (port 0) and read back from admin.
    pub fn start(dir: &Path, config: &Path, workers: u32) -> Result<Envoy, StartFailure> {
        let log = dir.join("envoy.log");
        let admin_path = dir.join("admin-address");
        let mut proc = Proc::spawn(
            "envoy",
            Command::new(paths::envoy())
                .arg("-c")
                .arg(config)
                .args(["--concurrency", &workers.to_string()])
                .args(["--disable-hot-restart", "-l", "info"])
                .args(["--file-flush-interval-msec", "20"])
                .arg("--admin-address-path")
                .arg(&admin_path)
                .stdin(Stdio::null())
                .stdout(File::create(dir.join("envoy.stdout")).expect("stdout file"))
                .stderr(File::create(&log).expect("log file")),
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        let read_log = || fs::read_to_string(&log).unwrap_or_default();
        loop {
            if let Some(status) = proc.try_exit() {
                return Err(StartFailure {
                    status: Some(status),
                    log: read_log(),
                });
            }
            if Instant::now() > deadline {
                return Err(StartFailure {
                    status: None,
                    log: read_log(),
                });
            }
            let admin = fs::read_to_string(&admin_path)
                .ok()
                .and_then(|a| a.trim().parse::<SocketAddr>().ok());
            if let Some(admin) = admin {
                if http::try_get(admin, "/ready").is_some_and(|r| r.text().trim() == "LIVE") {
                    let listener = listener_address(admin);
                    return Ok(Envoy {
                        _proc: proc,
                        admin,
                        listener,
                        log,
                    });
                }
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// A counter or gauge from the admin endpoint (0 when Envoy has not created it yet).
    pub fn stat(&self, name: &str) -> u64 {
        let text = http::get(self.admin, &format!("/stats?filter=^{name}$")).text();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The value of one series at `/stats/prometheus`, e.g.
    /// `iatp_requests_total{phase="request",decision="allow"}` (0 when Envoy has not created
    /// it yet). Labels match as a set, in any order, and all of them: a series with a label
    /// `series` does not name is another series.
    pub fn prometheus(&self, series: &str) -> f64 {
        let want = series_key(series);
        let text = http::get(self.admin, "/stats/prometheus").text();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| {
                let (name, value) = l.rsplit_once(' ')?;
                (series_key(name) == want).then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0.0)
    }

    /// Waits (up to 10 s: histograms and counters show after Envoy's stats flush) until a
    /// series has a value.
    pub fn wait_for_prometheus(&self, series: &str, want: f64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let got = self.prometheus(series);
            if got == want {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{series} is {got}, expected {want}:\n{}",
                self.prometheus_text()
                    .lines()
                    .filter(|l| l.contains("iatp_"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Envoy's process id (for its RSS: `stream::rss_kib`).
    pub fn pid(&self) -> u32 {
        self._proc.pid()
    }

    pub fn prometheus_text(&self) -> String {
        http::get(self.admin, "/stats/prometheus").text()
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn listener_address(admin: SocketAddr) -> SocketAddr {
    let v = http::get(admin, "/listeners?format=json").json();
    let sa = &v["listener_statuses"][0]["local_address"]["socket_address"];
    format!(
        "{}:{}",
        sa["address"].as_str().expect("listener address"),
        sa["port_value"].as_u64().expect("listener port")
    )
    .parse()
    .expect("listener socket address")
}

/// One JSON value per non-empty line; panics on a line that is not JSON.
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}: line is not JSON ({e}): {l:?}", path.display()))
        })
        .collect()
}

/// A series as a name and its labels, sorted: `name{b="2",a="1"}` and `name{a="1",b="2"}` are
/// one series; `name` and `name{}` too.
fn series_key(series: &str) -> (String, Vec<String>) {
    let (name, labels) = match series.split_once('{') {
        Some((n, rest)) => (n, rest.trim_end_matches('}')),
        None => (series, ""),
    };
    let mut labels: Vec<String> = labels
        .split(',')
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    labels.sort();
    (name.to_string(), labels)
}
