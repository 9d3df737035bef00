//! The filter as an OCI image through a real registry: `scripts/package.sh` packs the release
//! `.wasm` (the compat variant of the Wasm image specification) and pushes it to Debian's
//! `docker-registry` on loopback; the test pulls it back by digest the way Istio's agent and
//! Envoy Gateway do (the registry's HTTP API: manifest, then the last layer, gunzip, the tar
//! entry named `plugin.wasm`; istio/istio pkg/wasm/imagefetcher.go), again with skopeo, compares
//! the module with the release `.wasm`, and runs the pulled module in a real Envoy.

use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::harness::procs::Proc;
use crate::harness::{
    http, paths, Envoy, EnvoyConfig, MockAgent, Request, Response, Scratch, Stack,
};

/// Debian's package of Docker's distribution registry (scripts/lib.sh `setup` installs it).
const REGISTRY_BIN: &str = "/usr/bin/docker-registry";
const REPOSITORY: &str = "iatp/iatp-filter";
const TAG: &str = "host-test";

/// The compat variant with OCI media types
/// (https://github.com/solo-io/wasm/blob/master/spec/spec-compat.md): what both fetchers'
/// `extractOCIStandardImage` accept.
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const VARIANT_ANNOTATION: &str = "module.wasm.image/variant";

/// `sha256:<hex>` of `bytes`, as OCI digests are written.
fn digest(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// A docker-registry on a free loopback port, storing in the scratch directory; killed by its
/// own PID when dropped.
struct Registry {
    _proc: Proc,
    addr: SocketAddr,
}

impl Registry {
    fn start(dir: &Path) -> Registry {
        assert!(
            Path::new(REGISTRY_BIN).is_file(),
            "{REGISTRY_BIN} is missing: scripts/setup.sh installs it (Debian package docker-registry)"
        );
        // A port the kernel chose, free a moment ago: the registry binds it next.
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let storage = dir.join("registry");
        fs::create_dir_all(&storage).unwrap();
        // Filesystem storage in the scratch directory, HTTP on loopback only (the distribution
        // registry's configuration: https://distribution.github.io/distribution/about/configuration/).
        let config = dir.join("registry.yml");
        fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: {addr}\n",
                storage.display()
            ),
        )
        .unwrap();
        let log = dir.join("registry.log");
        let mut proc = Proc::spawn(
            "docker-registry",
            Command::new(REGISTRY_BIN)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(fs::File::create(&log).unwrap())
                .stderr(fs::File::create(dir.join("registry.stderr")).unwrap()),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = proc.try_exit() {
                panic!(
                    "docker-registry exited ({status}): {}",
                    fs::read_to_string(dir.join("registry.stderr")).unwrap_or_default()
                );
            }
            let probe = Request::get("/v2/").header("host", addr.to_string());
            let ready = http::try_send_raw(addr, &probe.to_bytes()).is_ok_and(|r| r.status == 200);
            if ready {
                return Registry { _proc: proc, addr };
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer /v2/ within 20 s: {}",
                fs::read_to_string(dir.join("registry.stderr")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// GET on the registry's HTTP API (https://github.com/opencontainers/distribution-spec).
    fn get(&self, path: &str, accept: &str) -> Response {
        Request::get(path)
            .header("host", self.addr.to_string())
            .header("accept", accept)
            .send(self.addr)
    }
}

/// What `scripts/package.sh` printed: its `key: value` lines.
struct Printed(Vec<(String, String)>);

impl Printed {
    fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("package.sh printed no {key:?}: {:?}", self.0))
    }
}

fn package(args: &[&str]) -> Printed {
    let out = Command::new(paths::repo().join("scripts/package.sh"))
        .args(args)
        .output()
        .expect("scripts/package.sh");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "scripts/package.sh {args:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Printed(
        stdout
            .lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// The module in a compat layer, read as Istio's agent reads it (`extractWasmPluginBinary`):
/// gunzip, then the first tar entry whose base name is `plugin.wasm`. The layer must hold that
/// one file only.
fn module_from_layer(layer: &[u8]) -> Vec<u8> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(layer));
    let mut names = Vec::new();
    let mut module = None;
    for entry in archive.entries().expect("the layer is a tar.gz") {
        let mut entry = entry.expect("a tar entry");
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        if module.is_none() && Path::new(&name).file_name() == Some("plugin.wasm".as_ref()) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            module = Some(bytes);
        }
        names.push(name);
    }
    assert_eq!(names, ["plugin.wasm"], "the layer's entries");
    module.unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

/// Checks a manifest is the compat variant with OCI media types and returns its layer's
/// descriptor (digest, size) and its config's digest.
fn check_compat_manifest(manifest: &Value) -> ((String, u64), String) {
    assert_eq!(manifest["schemaVersion"], 2, "{manifest:#}");
    // OCI image manifests may leave mediaType out (the Content-Type says it); when present it
    // must be the OCI one, not Docker's (the fetchers' Docker path wants Docker layer types).
    assert!(
        manifest.get("mediaType").is_none() || manifest["mediaType"] == OCI_MANIFEST,
        "{manifest:#}"
    );
    assert_eq!(manifest["config"]["mediaType"], OCI_CONFIG, "{manifest:#}");
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1, "exactly one layer: {manifest:#}");
    assert_eq!(layers[0]["mediaType"], OCI_LAYER_TAR_GZIP, "{manifest:#}");
    assert_eq!(
        manifest["annotations"][VARIANT_ANNOTATION], "compat",
        "{manifest:#}"
    );
    (
        (
            layers[0]["digest"].as_str().unwrap().to_string(),
            layers[0]["size"].as_u64().unwrap(),
        ),
        manifest["config"]["digest"].as_str().unwrap().to_string(),
    )
}

/// A blob of an OCI image layout (`blobs/sha256/<hex>`), checked against its digest.
fn layout_blob(layout: &Path, digest_: &str) -> Vec<u8> {
    let hex = digest_.strip_prefix("sha256:").expect("a sha256 digest");
    let bytes = fs::read(layout.join("blobs/sha256").join(hex)).unwrap();
    assert_eq!(
        digest(&bytes),
        digest_,
        "blob {digest_} of {}",
        layout.display()
    );
    bytes
}

#[test]
fn the_oci_image_round_trips_through_a_registry_by_digest_and_its_module_blocks_in_envoy() {
    let started = Instant::now();
    let dir = Scratch::new();
    let registry = Registry::start(&dir.path);

    let release = paths::wasm();
    let release_bytes = fs::read(&release).unwrap();
    let module_digest = digest(&release_bytes);

    // Packed twice (two layouts): the same module gives the same image.
    let layout = dir.path.join("layout");
    let reference = format!("{}/{REPOSITORY}:{TAG}", registry.addr);
    let first = package(&[
        "--wasm",
        release.to_str().unwrap(),
        "--out",
        dir.path.join("layout-first").to_str().unwrap(),
    ]);
    let printed = package(&[
        "--wasm",
        release.to_str().unwrap(),
        "--out",
        layout.to_str().unwrap(),
        "--push",
        &reference,
        "--insecure",
    ]);
    let image_digest = printed.get("image digest").to_string();
    assert!(image_digest.starts_with("sha256:"), "{image_digest}");
    assert_eq!(first.get("image digest"), image_digest, "not reproducible");
    assert_eq!(
        format!("sha256:{}", printed.get("module sha256")),
        module_digest
    );
    assert_eq!(
        printed.get("module size"),
        format!("{} bytes", release_bytes.len())
    );
    let pushed = printed.get("pushed");
    assert_eq!(
        pushed,
        format!("{}/{REPOSITORY}@{image_digest}", registry.addr)
    );

    // Pulled by digest as go-containerregistry (Istio's agent, Envoy Gateway) does: the
    // manifest with the OCI Accept header, its bytes' digest checked against the reference.
    let accept = format!("{OCI_MANIFEST}, application/vnd.docker.distribution.manifest.v2+json");
    let r = registry.get(
        &format!("/v2/{REPOSITORY}/manifests/{image_digest}"),
        &accept,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some(OCI_MANIFEST));
    assert_eq!(
        r.header("docker-content-digest"),
        Some(image_digest.as_str())
    );
    // What Istio's WasmPlugin `sha256` (and Envoy Gateway's `image.sha256`) is compared with:
    // the manifest's digest (istio/istio pkg/wasm/cache.go, `dChecksum` from PrepareFetch).
    assert_eq!(digest(&r.body), image_digest, "the manifest's bytes");
    let manifest: Value = r.json();
    let ((layer_digest, layer_size), config_digest) = check_compat_manifest(&manifest);

    // The tag names the same manifest.
    let by_tag = registry.get(&format!("/v2/{REPOSITORY}/manifests/{TAG}"), &accept);
    assert_eq!(by_tag.status, 200, "{}", by_tag.text());
    assert_eq!(digest(&by_tag.body), image_digest);
    // A digest the registry does not hold is not served (one hex digit changed).
    let other = format!(
        "{}{}",
        &image_digest[..image_digest.len() - 1],
        if image_digest.ends_with('0') {
            '1'
        } else {
            '0'
        }
    );
    let missing = registry.get(&format!("/v2/{REPOSITORY}/manifests/{other}"), &accept);
    assert_eq!(missing.status, 404, "{}", missing.text());

    let layer = registry.get(&format!("/v2/{REPOSITORY}/blobs/{layer_digest}"), "*/*");
    assert_eq!(layer.status, 200, "{}", layer.text());
    assert_eq!(layer.body.len() as u64, layer_size);
    assert_eq!(digest(&layer.body), layer_digest, "the layer's bytes");
    let config = registry.get(&format!("/v2/{REPOSITORY}/blobs/{config_digest}"), "*/*");
    assert_eq!(config.status, 200, "{}", config.text());
    assert_eq!(digest(&config.body), config_digest, "the config's bytes");
    // The config names the layer by its uncompressed digest (OCI image spec, rootfs.diff_ids),
    // and its times are fixed (the epoch), so that packing again gives the same digest.
    let config = config.json();
    assert_eq!(
        config["rootfs"],
        json!({"type": "layers", "diff_ids": [digest(&gunzip(&layer.body))]})
    );
    let epoch = "1970-01-01T00:00:00Z";
    assert_eq!(config["created"], epoch, "{config:#}");
    let history = config["history"].as_array().expect("history");
    assert!(history.iter().all(|h| h["created"] == epoch), "{config:#}");
    let pulled = module_from_layer(&layer.body);
    assert_eq!(
        digest(&pulled),
        module_digest,
        "the module pulled through the registry API is not {}",
        release.display()
    );

    // A second, independent pull by digest: skopeo into an OCI layout.
    let pulled_layout = dir.path.join("pulled");
    let out = Command::new("skopeo")
        .args(["copy", "--quiet", "--src-tls-verify=false"])
        .arg(format!("docker://{pushed}"))
        .arg(format!("oci:{}:pulled", pulled_layout.display()))
        .output()
        .expect("skopeo");
    assert!(
        out.status.success(),
        "skopeo copy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index: Value =
        serde_json::from_slice(&fs::read(pulled_layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], image_digest.as_str());
    let manifest2: Value =
        serde_json::from_slice(&layout_blob(&pulled_layout, &image_digest)).unwrap();
    assert_eq!(manifest2, manifest);
    let ((layer2, _), _) = check_compat_manifest(&manifest2);
    let pulled2 = module_from_layer(&layout_blob(&pulled_layout, &layer2));
    assert_eq!(digest(&pulled2), module_digest, "the module skopeo pulled");

    // The pulled module is a working filter: Envoy (the shipped envoy.yaml) loads it from the
    // file the registry pull wrote and blocks a request.
    let module_path: PathBuf = dir.path.join("pulled-plugin.wasm");
    fs::write(&module_path, &pulled).unwrap();
    let agent = MockAgent::start(&dir.path);
    let mut envoy_config = EnvoyConfig::shipped();
    envoy_config.set_plugin_config(
        &json!({
            "manifest": {
                "identity": {"agent_id": "test-agent", "name": "Test Agent"},
                "trust_level": "standard",
                "privacy": {"retention": "ephemeral"}
            },
            "policy": {"block_rules": [
                {"name": "ssn_anywhere", "condition": "has_ssn", "action": "block", "message": "no SSNs here"}
            ]}
        })
        .to_string(),
    );
    envoy_config.localize(&dir.path, agent.addr.port());
    envoy_config.wasm()["vm_config"]["code"]["local"]["filename"] =
        json!(module_path.to_str().unwrap());
    let config_path = dir.path.join("envoy.json");
    envoy_config.write(&config_path);
    let envoy = Envoy::start(&dir.path, &config_path, 1)
        .unwrap_or_else(|f| panic!("Envoy did not start ({:?}):\n{}", f.status, f.log));
    let stack = Stack {
        envoy,
        upstream: None,
        moderation: None,
        agent,
        creds: None,
        dir,
    };
    let r = stack.send(Request::post(
        "/book",
        r#"{"name":"Jane","ssn":"123-45-6789"}"#,
    ));
    assert_eq!(r.status, 403, "{}", r.text());
    let trace = r
        .header("x-agent-trace-id")
        .expect("trace id on local replies")
        .to_string();
    assert_eq!(
        r.json(),
        json!({"error": "no SSNs here", "blocked": true, "rule": "ssn_anywhere",
               "detected": ["ssn"], "trace_id": trace})
    );
    stack.assert_never_reached_agent(&trace);
    let clean = stack.send(Request::post("/book", r#"{"task":"book_flight"}"#));
    assert_eq!(clean.status, 200, "{}", clean.text());
    eprintln!(
        "OCI image {image_digest} (module {module_digest}, {} bytes) round-tripped in {:.1} s",
        release_bytes.len(),
        started.elapsed().as_secs_f64()
    );
    drop(registry);
}
