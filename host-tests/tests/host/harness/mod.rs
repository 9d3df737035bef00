//! One stack per test: a mock agent, and a real Envoy running the built filter in front of it,
//! on free loopback ports, in a scratch directory of its own.

pub mod envoy_config;
pub mod gateway;
pub mod http;
pub mod moderation;
pub mod paths;
pub mod pki;
pub mod procs;
pub mod stream;
pub mod upstream;

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use envoy_config::EnvoyConfig;
pub use gateway::{AttestationKeys, Gateway, GatewayFilter, TargetSpec};
pub use http::{Request, Response};
pub use moderation::ModerationMock;
pub use pki::{ClientCert, Credentials, Token};
pub use procs::{read_jsonl, Envoy, MockAgent, StartFailure};
pub use stream::{
    parse_sse, peak_rss_kib, rss_kib, send_streaming, RssSampler, SseEvent, StreamOptions, Streamed,
};
pub use upstream::{ClientCall, PyUpstream};

/// A scratch directory, removed on drop unless the test failed (then its path is printed,
/// with the tail of Envoy's log, to help whoever reads the failure).
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new() -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "iatp-host-tests-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&path).unwrap();
        Scratch { path }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = fs::read_to_string(self.path.join("envoy.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!(
                "test files kept in {}; last lines of envoy.log:\n{}",
                self.path.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

pub struct Stack {
    // Field order is drop order: Envoy first, then the agents, then the directory.
    pub envoy: Envoy,
    /// The Python upstream, when the stack runs one (`StackBuilder::python_upstream`): the
    /// `agent` cluster then points at it, and the mock agent below sees nothing.
    pub upstream: Option<PyUpstream>,
    /// The moderation mock behind the `moderation` cluster (`StackBuilder::moderation`).
    pub moderation: Option<ModerationMock>,
    pub agent: MockAgent,
    /// The certificates and keys, when the configuration reads `certs/...` files.
    pub creds: Option<Credentials>,
    pub dir: Scratch,
}

/// How to build a stack; defaults are the shipped envoy.yaml as is.
pub struct StackBuilder {
    config: EnvoyConfig,
    plugin: Option<String>,
    workers: u32,
    python_upstream: bool,
    moderation: bool,
}

impl StackBuilder {
    pub fn plugin(mut self, config: &Value) -> StackBuilder {
        self.plugin = Some(config.to_string());
        self
    }

    pub fn plugin_text(mut self, config: &str) -> StackBuilder {
        self.plugin = Some(config.to_string());
        self
    }

    /// Another Envoy configuration file of the repository instead of envoy/envoy.yaml.
    pub fn config_file(mut self, relative: &str) -> StackBuilder {
        self.config = EnvoyConfig::load(&paths::repo().join(relative));
        self
    }

    /// The shipped envoy/envoy-mtls-jwt.yaml: mutual TLS (client certificates of a CA made for
    /// the test), jwt_authn with a JWKS made for the test, the filter, then a local rate limit
    /// on `x-iatp-caller`. The stack's `creds` hold the CA, a client certificate for
    /// `pki::BILLING`, and mint tokens; requests go with `Stack::send_tls`.
    pub fn mtls_jwt(self) -> StackBuilder {
        self.config_file("envoy/envoy-mtls-jwt.yaml")
    }

    /// The Python upstream (`host-tests/py/upstream.py`: MCP at `/mcp`, A2A at `/a2a`, OpenAI
    /// chat at `/v1/chat/completions`) behind Envoy instead of the mock agent. It starts in
    /// about a second.
    pub fn python_upstream(mut self) -> StackBuilder {
        self.python_upstream = true;
        self
    }

    /// The moderation mock (`host-tests/py/moderation.py`) and a cluster `moderation` in
    /// Envoy pointing at it (for the filter's moderation callout). It starts in well under a
    /// second.
    pub fn moderation(mut self) -> StackBuilder {
        self.moderation = true;
        self
    }

    /// Envoy worker threads (one Wasm VM each); 1 unless set.
    pub fn workers(mut self, n: u32) -> StackBuilder {
        self.workers = n;
        self
    }

    pub fn envoy(mut self, f: impl FnOnce(&mut EnvoyConfig)) -> StackBuilder {
        f(&mut self.config);
        self
    }

    /// Starts the stack, or says why Envoy did not start (the agent and directory are
    /// returned too, so the caller can look at them).
    pub fn try_start(mut self) -> Result<Stack, (StartFailure, Scratch)> {
        let dir = Scratch::new();
        let agent = MockAgent::start(&dir.path);
        let upstream = self.python_upstream.then(|| PyUpstream::start(&dir.path));
        let moderation = self.moderation.then(|| ModerationMock::start(&dir.path));
        if let Some(m) = &moderation {
            self.config.add_cluster("moderation", m.addr.port());
        }
        let creds = self
            .config
            .uses_certs()
            .then(|| Credentials::make(&dir.path));
        if let Some(p) = &self.plugin {
            self.config.set_plugin_config(p);
        }
        let port = upstream
            .as_ref()
            .map_or(agent.addr.port(), |u| u.addr.port());
        self.config.localize(&dir.path, port);
        let config_path = dir.path.join("envoy.json");
        self.config.write(&config_path);
        match Envoy::start(&dir.path, &config_path, self.workers) {
            Ok(envoy) => Ok(Stack {
                envoy,
                upstream,
                moderation,
                agent,
                creds,
                dir,
            }),
            Err(f) => {
                drop(agent);
                Err((f, dir))
            }
        }
    }

    pub fn start(self) -> Stack {
        match self.try_start() {
            Ok(s) => s,
            Err((f, _dir)) => panic!("Envoy did not start ({:?}):\n{}", f.status, f.log),
        }
    }
}

impl Stack {
    pub fn builder() -> StackBuilder {
        StackBuilder {
            config: EnvoyConfig::shipped(),
            plugin: None,
            workers: 1,
            python_upstream: false,
            moderation: false,
        }
    }

    pub fn with_plugin(config: &Value) -> Stack {
        Stack::builder().plugin(config).start()
    }

    pub fn addr(&self) -> SocketAddr {
        self.envoy.listener
    }

    pub fn send(&self, req: Request) -> Response {
        req.send(self.addr())
    }

    /// The stack's credentials (a configuration that reads `certs/...`, e.g. `mtls_jwt`).
    pub fn creds(&self) -> &Credentials {
        self.creds
            .as_ref()
            .expect("this stack has no credentials (its configuration reads no certs/ files)")
    }

    /// The Python upstream (`StackBuilder::python_upstream`).
    pub fn upstream(&self) -> &PyUpstream {
        self.upstream
            .as_ref()
            .expect("this stack runs no Python upstream")
    }

    /// The moderation mock (`StackBuilder::moderation`).
    pub fn moderation(&self) -> &ModerationMock {
        self.moderation
            .as_ref()
            .expect("this stack runs no moderation mock")
    }

    /// Sends `req` to Envoy and reads the response as it arrives (`stream::send_streaming`).
    pub fn send_streaming(&self, req: Request) -> Streamed {
        send_streaming(self.addr(), &req, &StreamOptions::default())
    }

    /// A real client library's call to `path` on Envoy's plain HTTP listener (the shipped
    /// envoy.yaml; no TLS): add `headers` before `run`.
    pub fn client_call_plain(&self, path: &str) -> ClientCall<'_> {
        ClientCall {
            url: format!("http://{}{path}", self.addr()),
            ca: None,
            cert: None,
            headers: Vec::new(),
        }
    }

    /// `https://127.0.0.1:PORT<path>`, Envoy's listener.
    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr())
    }

    /// Sends `req` over TLS with the default client certificate (`pki::BILLING`).
    pub fn send_tls(&self, req: Request) -> Response {
        let creds = self.creds();
        http::send_tls(self.addr(), &creds.ca, Some(&creds.client), &req)
            .unwrap_or_else(|e| panic!("no HTTPS response: {e}"))
    }

    /// Sends `req` over TLS with `cert` (or none): a response, or why none came.
    pub fn send_tls_as(&self, cert: Option<&ClientCert>, req: Request) -> http::TlsOutcome {
        http::send_tls(self.addr(), &self.creds().ca, cert, &req)
    }

    /// A real client library's call to `path` on Envoy's TLS listener, with the default client
    /// certificate; change `cert`, add `headers` on the returned value before `run`.
    pub fn client_call(&self, path: &str) -> ClientCall<'_> {
        let creds = self.creds();
        ClientCall {
            url: self.https_url(path),
            ca: Some(&creds.ca),
            cert: Some(&creds.client),
            headers: Vec::new(),
        }
    }

    pub fn events_path(&self) -> PathBuf {
        self.dir.path.join("events.jsonl")
    }

    /// All event lines so far, parsed (panics on a line that is not JSON).
    pub fn events(&self) -> Vec<Value> {
        read_jsonl(&self.events_path())
    }

    /// The event lines of one trace, once there are at least `n` of them (Envoy writes the
    /// access log when the stream ends and flushes it every 20 ms here).
    pub fn events_for(&self, trace_id: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let lines: Vec<Value> = self
                .events()
                .into_iter()
                .filter(|e| e["trace_id"] == trace_id)
                .collect();
            if lines.len() >= n || Instant::now() > deadline {
                assert!(
                    lines.len() >= n,
                    "expected {n} event line(s) for trace {trace_id}, got {lines:#?}"
                );
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The requests the agent received with this trace id.
    pub fn agent_requests_for(&self, trace_id: &str) -> Vec<Value> {
        self.agent
            .requests()
            .into_iter()
            .filter(|r| r["headers"]["x-agent-trace-id"] == trace_id)
            .collect()
    }

    /// Proves that nothing of the request `trace_id` reached the agent, not even its headers:
    /// a later request that did get through is recorded, and this one is not.
    pub fn assert_never_reached_agent(&self, trace_id: &str) {
        self.wait_for_probe(trace_id);
        let seen: Vec<Value> = self
            .agent
            .records()
            .into_iter()
            .filter(|r| r["headers"]["x-agent-trace-id"] == trace_id)
            .collect();
        assert_eq!(
            seen,
            Vec::<Value>::new(),
            "the agent saw request {trace_id}"
        );
    }

    /// Proves that the body of request `trace_id` never reached the agent (its headers may
    /// have, when the filter does not hold them).
    pub fn assert_body_never_reached_agent(&self, trace_id: &str) {
        self.wait_for_probe(trace_id);
        assert_eq!(
            self.agent_requests_for(trace_id),
            Vec::<Value>::new(),
            "the agent received the whole request {trace_id}"
        );
    }

    fn wait_for_probe(&self, trace_id: &str) {
        let probe = format!("probe-{trace_id}");
        let r = self.send(
            Request::get("/probe")
                .header("x-agent-trace-id", &probe)
                .header("x-user-override", "true"),
        );
        if r.status == 200 {
            let deadline = Instant::now() + Duration::from_secs(5);
            while self.agent_requests_for(&probe).is_empty() {
                assert!(Instant::now() < deadline, "probe never reached the agent");
                std::thread::sleep(Duration::from_millis(10));
            }
        } else {
            // This policy stops the probe too (e.g. overrides are disabled): give a stray
            // request time to arrive instead.
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// A file's text, for tests that look at raw bytes rather than parsed lines.
pub fn read_text(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}
