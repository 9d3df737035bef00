//! The gateway stack (issue 14): a real Envoy running the shipped `envoy/envoy-gateway.yaml`
//! (free ports, the test's CA as the HTTPS targets' trust anchor, the test's plugin
//! configuration), remote agents for clients to name as targets (`host-tests/py/target_agent.py`:
//! plain HTTP on 127.0.0.1, and HTTPS for `localhost` with a certificate of a CA made for the
//! test), and a control plane serving contracts (`host-tests/py/control_plane.py`).
//!
//! ```ignore
//! let gw = Gateway::builder().plugin(&config).http_targets(2).https_target().control_plane(json!([])).start();
//! let t = gw.target(0);
//! gw.send(Request::get("/v1/x").header("x-target-endpoint", &t.url("")));
//! assert_eq!(t.count("/v1/x"), 1);
//! ```

// The gateway tests of issue 14 (the lead's) use what gateway_infra.rs does not yet.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};

use serde_json::Value;

use super::envoy_config::EnvoyConfig;
use super::http::{Request, Response};
use super::paths;
use super::pki::{ClientCert, Credentials};
use super::procs::{read_jsonl, Envoy, Proc, StartFailure};
use super::Scratch;

/// The header the filter sets and the routes of envoy-gateway.yaml read (then remove).
pub const SCHEME_HEADER: &str = "x-iatp-target-scheme";

/// The first line `prefix ADDR` of a child's stdout.
fn read_addr(out: &mut BufReader<ChildStdout>, name: &str, prefix: &str) -> SocketAddr {
    let mut line = String::new();
    out.read_line(&mut line)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    line.trim()
        .strip_prefix(prefix)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{name} said {line:?}"))
}

/// POSTs `body` as JSON to `addr` `path`; panics unless 200; the answer parsed.
fn post_json(addr: SocketAddr, path: &str, body: &Value) -> Value {
    let r = Request::post(path, body.to_string()).send(addr);
    assert_eq!(r.status, 200, "POST {path} {body}: {}", r.text());
    r.json()
}

/// What a target agent serves at start (everything can be changed later with `set`).
#[derive(Debug, Clone, Default)]
pub struct TargetSpec {
    /// Its name, echoed as `agent` in its answers.
    pub name: String,
    /// The manifest at `/.well-known/agent-manifest` (`{}` when none).
    pub manifest: Option<Value>,
    /// The attestation record at `/.well-known/agent-attestation` (404 when none).
    pub attestation: Option<Value>,
    /// The attestation also embedded in the manifest as `attestation`, as the SDK's sidecar does.
    pub embed_attestation: bool,
    /// HTTPS with this certificate and key (the DNS name the certificate names is the one to
    /// use in target URLs; `Gateway` uses `localhost`).
    pub tls: Option<ClientCert>,
}

/// A remote agent (`host-tests/py/target_agent.py`), killed by its PID when dropped.
pub struct TargetAgent {
    proc: Proc,
    /// Where it listens (127.0.0.1, a free port).
    pub addr: SocketAddr,
    /// Its plain-HTTP control port (the same as `addr` without TLS).
    pub control: SocketAddr,
    pub name: String,
    pub tls: bool,
    /// Every request it received (control paths left out), one JSON line each.
    pub record: PathBuf,
}

impl TargetAgent {
    pub fn start(dir: &Path, spec: &TargetSpec) -> TargetAgent {
        let record = dir.join(format!("target-{}-requests.jsonl", spec.name));
        let mut cmd = Command::new(paths::python());
        cmd.arg(paths::repo().join("host-tests/py/target_agent.py"))
            .arg("--name")
            .arg(&spec.name)
            .arg("--record")
            .arg(&record);
        let write = |what: &str, v: &Value| {
            let p = dir.join(format!("target-{}-{what}.json", spec.name));
            std::fs::write(&p, v.to_string()).unwrap();
            p
        };
        if let Some(m) = &spec.manifest {
            cmd.arg("--manifest").arg(write("manifest", m));
        }
        if let Some(a) = &spec.attestation {
            cmd.arg("--attestation").arg(write("attestation", a));
        }
        if spec.embed_attestation {
            cmd.arg("--embed-attestation");
        }
        if let Some(c) = &spec.tls {
            cmd.arg("--tls-cert")
                .arg(&c.cert)
                .arg("--tls-key")
                .arg(&c.key);
        }
        let mut proc = Proc::spawn(
            "target_agent.py",
            cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()),
        );
        let mut out = BufReader::new(proc.stdout().expect("target_agent.py stdout"));
        let addr = read_addr(&mut out, "target_agent.py", "listening on ");
        let control = read_addr(&mut out, "target_agent.py", "control on ");
        TargetAgent {
            proc,
            addr,
            control,
            name: spec.name.clone(),
            tls: spec.tls.is_some(),
            record,
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }

    /// The host[:port] a client names: `localhost:PORT` over HTTPS (the name its certificate
    /// carries), `127.0.0.1:PORT` over HTTP.
    pub fn authority(&self) -> String {
        if self.tls {
            format!("localhost:{}", self.addr.port())
        } else {
            self.addr.to_string()
        }
    }

    /// Its URL with `base` as the base path (`""` or `/api`): an `X-Target-Endpoint` value.
    pub fn url(&self, base: &str) -> String {
        format!("{}://{}{base}", self.scheme(), self.authority())
    }

    /// `GET /__counts`: `{"<path>": n}` (query left out, control paths not counted).
    pub fn counts(&self) -> Value {
        Request::get("/__counts").send(self.control).json()
    }

    /// How many requests it received for `path` (query left out).
    pub fn count(&self, path: &str) -> u64 {
        self.counts()[path].as_u64().unwrap_or(0)
    }

    /// Every request it received, oldest first: `{"agent", "method", "path", "headers"
    /// (lower-cased names), "body", "tls", "sni"}`.
    pub fn requests(&self) -> Vec<Value> {
        read_jsonl(&self.record)
    }

    /// `POST /__set` (members: manifest, attestation, embed_attestation, manifest_status,
    /// manifest_delay_ms, reset_counts); the whole setting after the change.
    pub fn set(&self, settings: &Value) -> Value {
        post_json(self.control, "/__set", settings)
    }
}

/// The control plane mock (`host-tests/py/control_plane.py`), killed by its PID when dropped.
pub struct ControlPlane {
    proc: Proc,
    pub addr: SocketAddr,
}

impl ControlPlane {
    /// Starts it serving `contracts` (a JSON array) at `/v1/contracts`.
    pub fn start(dir: &Path, contracts: &Value) -> ControlPlane {
        let file = dir.join("control-plane-contracts.json");
        std::fs::write(&file, contracts.to_string()).unwrap();
        let mut proc = Proc::spawn(
            "control_plane.py",
            Command::new(paths::python())
                .arg(paths::repo().join("host-tests/py/control_plane.py"))
                .arg("--contracts")
                .arg(&file)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        );
        let mut out = BufReader::new(proc.stdout().expect("control_plane.py stdout"));
        let addr = read_addr(&mut out, "control_plane.py", "listening on ");
        ControlPlane { proc, addr }
    }

    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// `POST /__set` (members: contracts, status, delay_ms, body, reset_counts); the whole
    /// setting after the change.
    pub fn set(&self, settings: &Value) -> Value {
        post_json(self.addr, "/__set", settings)
    }

    /// `GET /__counts`: `{"fetches": n, "last": {"method", "path", "query", "params",
    /// "headers"} | null}`.
    pub fn counts(&self) -> Value {
        Request::get("/__counts").send(self.addr).json()
    }

    /// How many times the contracts were fetched.
    pub fn fetches(&self) -> u64 {
        self.counts()["fetches"].as_u64().unwrap_or(0)
    }

    /// The last fetch (`Value::Null` before the first).
    pub fn last_fetch(&self) -> Value {
        self.counts()["last"].clone()
    }
}

/// Which Wasm module the gateway's Wasm filter loads.
#[derive(Debug, Clone)]
pub enum GatewayFilter {
    /// The IATP filter (`paths::wasm()`), with the plugin configuration the test gives (or the
    /// shipped one).
    Iatp,
    /// Another module (e.g. `paths::noop_wasm()`): routing without the filter's decisions.
    Module(PathBuf),
    /// No Wasm filter at all.
    None,
}

/// How to build a gateway stack; defaults: the shipped envoy-gateway.yaml with the IATP filter
/// and its shipped plugin configuration, the DNS cache's address filter removed (the targets
/// listen on loopback), no targets, no control plane, one worker.
pub struct GatewayBuilder {
    config: EnvoyConfig,
    plugin: Option<String>,
    filter: GatewayFilter,
    targets: Vec<TargetSpec>,
    https_targets: Vec<TargetSpec>,
    control_plane: Option<Value>,
    manifests_route: bool,
    address_filter: bool,
    workers: u32,
}

impl GatewayBuilder {
    /// The plugin configuration (JSON).
    pub fn plugin(mut self, config: &Value) -> GatewayBuilder {
        self.plugin = Some(config.to_string());
        self
    }

    pub fn plugin_text(mut self, config: &str) -> GatewayBuilder {
        self.plugin = Some(config.to_string());
        self
    }

    /// Which Wasm module runs (`GatewayFilter::Iatp` unless set).
    pub fn filter(mut self, filter: GatewayFilter) -> GatewayBuilder {
        self.filter = filter;
        self
    }

    /// `n` more plain-HTTP target agents named `http-<i>`, manifest `{}`.
    pub fn http_targets(mut self, n: usize) -> GatewayBuilder {
        let start = self.targets.len();
        self.targets.extend((start..start + n).map(|i| TargetSpec {
            name: format!("http-{i}"),
            ..TargetSpec::default()
        }));
        self
    }

    /// A target agent as described (`tls` is ignored: use `https_target_with` for HTTPS).
    pub fn http_target_with(mut self, spec: TargetSpec) -> GatewayBuilder {
        self.targets.push(TargetSpec { tls: None, ..spec });
        self
    }

    /// One more HTTPS target agent named `https-<i>`: a certificate for DNS `localhost` only,
    /// signed by the test's CA (the one `dfp_https` trusts); reach it as `localhost:PORT`.
    pub fn https_target(self) -> GatewayBuilder {
        let name = format!("https-{}", self.https_targets.len());
        self.https_target_with(TargetSpec {
            name,
            ..TargetSpec::default()
        })
    }

    /// An HTTPS target agent as described (its certificate is made at start as for
    /// `https_target`).
    pub fn https_target_with(mut self, spec: TargetSpec) -> GatewayBuilder {
        self.https_targets.push(spec);
        self
    }

    /// The control plane mock serving `contracts`, and the `control_plane` cluster pointed at it.
    pub fn control_plane(mut self, contracts: Value) -> GatewayBuilder {
        self.control_plane = Some(contracts);
        self
    }

    /// FOR TESTS OF THE ENVOY SIDE ONLY: a first route on the gateway listener sending requests
    /// that carry `x-test-via-manifests` to the `iatp_manifests` cluster (the internal
    /// listener), so that a client can do what the filter's manifest fetch does.
    pub fn manifests_route(mut self) -> GatewayBuilder {
        self.manifests_route = true;
        self
    }

    /// Keeps the shipped DNS cache's `resolved_address_filter`, which refuses loopback
    /// addresses (the targets' here): by default the harness removes it.
    pub fn keep_address_filter(mut self) -> GatewayBuilder {
        self.address_filter = true;
        self
    }

    pub fn workers(mut self, n: u32) -> GatewayBuilder {
        self.workers = n;
        self
    }

    /// Any other change to the Envoy configuration, before it is localized.
    pub fn envoy(mut self, f: impl FnOnce(&mut EnvoyConfig)) -> GatewayBuilder {
        f(&mut self.config);
        self
    }

    pub fn try_start(mut self) -> Result<Gateway, (StartFailure, Scratch)> {
        let dir = Scratch::new();
        let creds = Credentials::make(&dir.path);
        let mut targets: Vec<TargetAgent> = self
            .targets
            .iter()
            .map(|s| TargetAgent::start(&dir.path, s))
            .collect();
        for spec in &self.https_targets {
            let cert = creds.server_with_sans(&format!("server-{}", spec.name), "DNS:localhost");
            let spec = TargetSpec {
                tls: Some(cert),
                ..spec.clone()
            };
            targets.push(TargetAgent::start(&dir.path, &spec));
        }
        let control_plane = self
            .control_plane
            .as_ref()
            .map(|c| ControlPlane::start(&dir.path, c));
        if let Some(p) = &self.plugin {
            self.config.set_plugin_config(p);
        }
        if !self.address_filter {
            self.config.allow_loopback_targets();
        }
        if self.manifests_route {
            self.config
                .add_test_route_to("x-test-via-manifests", "iatp_manifests");
        }
        let wasm = match &self.filter {
            GatewayFilter::Iatp => Some(paths::wasm()),
            GatewayFilter::Module(p) => Some(p.clone()),
            GatewayFilter::None => {
                self.config
                    .http_filters()
                    .retain(|f| f["name"] != "envoy.filters.http.wasm");
                None
            }
        };
        self.config.localize_gateway(
            &dir.path,
            wasm.as_deref(),
            &creds.ca,
            control_plane.as_ref().map(|c| c.addr.port()),
        );
        let config_path = dir.path.join("envoy.json");
        self.config.write(&config_path);
        match Envoy::start(&dir.path, &config_path, self.workers) {
            Ok(envoy) => Ok(Gateway {
                envoy,
                targets,
                control_plane,
                creds,
                dir,
            }),
            Err(f) => Err((f, dir)),
        }
    }

    pub fn start(self) -> Gateway {
        match self.try_start() {
            Ok(g) => g,
            Err((f, _dir)) => panic!("Envoy did not start ({:?}):\n{}", f.status, f.log),
        }
    }
}

pub struct Gateway {
    // Field order is drop order: Envoy first, then the mocks, then the directory.
    pub envoy: Envoy,
    /// The plain-HTTP targets first (in the order added), then the HTTPS ones.
    pub targets: Vec<TargetAgent>,
    pub control_plane: Option<ControlPlane>,
    /// The CA `dfp_https` trusts (it signed the HTTPS targets' certificates).
    pub creds: Credentials,
    pub dir: Scratch,
}

impl Gateway {
    pub fn builder() -> GatewayBuilder {
        GatewayBuilder {
            config: EnvoyConfig::gateway(),
            plugin: None,
            filter: GatewayFilter::Iatp,
            targets: Vec::new(),
            https_targets: Vec::new(),
            control_plane: None,
            manifests_route: false,
            address_filter: false,
            workers: 1,
        }
    }

    /// The gateway listener.
    pub fn addr(&self) -> SocketAddr {
        self.envoy.listener
    }

    pub fn send(&self, req: Request) -> Response {
        req.send(self.addr())
    }

    /// The `i`-th target (plain-HTTP ones first, then HTTPS ones).
    pub fn target(&self, i: usize) -> &TargetAgent {
        self.targets
            .get(i)
            .unwrap_or_else(|| panic!("no target {i} (there are {})", self.targets.len()))
    }

    /// The first HTTPS target.
    pub fn https_target(&self) -> &TargetAgent {
        self.targets
            .iter()
            .find(|t| t.tls)
            .expect("this gateway has no HTTPS target (GatewayBuilder::https_target)")
    }

    /// The control plane (`GatewayBuilder::control_plane`).
    pub fn control_plane(&self) -> &ControlPlane {
        self.control_plane
            .as_ref()
            .expect("this gateway runs no control plane")
    }

    /// A request as a client sends it to reach `target` without the filter's help: Host =
    /// the target's authority, `x-iatp-target-scheme` = its scheme.
    pub fn direct(&self, target: &TargetAgent, req: Request) -> Response {
        self.send(
            req.header("host", target.authority())
                .header(SCHEME_HEADER, target.scheme()),
        )
    }

    pub fn events_path(&self) -> PathBuf {
        self.dir.path.join("events.jsonl")
    }

    /// All event lines so far, parsed.
    pub fn events(&self) -> Vec<Value> {
        read_jsonl(&self.events_path())
    }

    /// A counter or gauge at Envoy's admin endpoint (`Envoy::stat`), e.g.
    /// `dns_cache.iatp_dfp.host_added`, `cluster.dfp_https.ssl.fail_verify_san`.
    pub fn stat(&self, name: &str) -> u64 {
        self.envoy.stat(name)
    }
}

/// An Ed25519 key pair and attestation records made as the reference IATP SDK makes them
/// (`host-tests/py/sign_attestation.py`; keys are base64 of the raw 32 bytes).
pub struct AttestationKeys {
    pub private_key: String,
    pub public_key: String,
}

impl AttestationKeys {
    pub fn generate() -> AttestationKeys {
        let v = sign_attestation(&["keygen"]);
        AttestationKeys {
            private_key: v["private_key"].as_str().expect("private_key").into(),
            public_key: v["public_key"].as_str().expect("public_key").into(),
        }
    }

    /// A record for `agent_id` signed under `key_id`, expiring in 24 h (hashes: SHA-256 hex of
    /// "codebase" / "config"). `extra` are more `sign` arguments (`--timestamp T`,
    /// `--expires-at T`, `--no-expiry`, `--codebase-hash H`, ...).
    pub fn sign(&self, agent_id: &str, key_id: &str, extra: &[&str]) -> Value {
        let mut args = vec![
            "sign",
            "--private-key",
            &self.private_key,
            "--agent-id",
            agent_id,
            "--key-id",
            key_id,
        ];
        args.extend_from_slice(extra);
        sign_attestation(&args)
    }

    /// Whether `record`'s signature verifies under this public key, as the SDK's
    /// `AttestationValidator._verify_signature` checks it (expiry not looked at).
    pub fn verify(&self, record: &Value) -> bool {
        let v = sign_attestation_with_input(
            &["verify", "--public-key", &self.public_key],
            &record.to_string(),
        );
        v["valid"]
            .as_bool()
            .expect("verify prints {\"valid\": bool}")
    }
}

fn sign_attestation(args: &[&str]) -> Value {
    sign_attestation_with_input(args, "")
}

/// Runs sign_attestation.py with `args`, `input` on its stdin; its JSON line.
fn sign_attestation_with_input(args: &[&str], input: &str) -> Value {
    let mut child = Command::new(paths::python())
        .arg(paths::repo().join("host-tests/py/sign_attestation.py"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python for sign_attestation.py");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "sign_attestation.py {args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("sign_attestation.py: {e}: {text}"))
}
