//! Issue 16 attack round: per-route profiles with route metadata Envoy serializes oddly,
//! scripts/package.sh's `--out`, and iatp-check-config on discovery files Envoy refuses.

use std::fs;
use std::process::Command;

use serde_json::{json, Value};

use crate::harness::{paths, Request, Scratch, Stack};

const SSN_BODY: &str = r#"{"note":"ssn 536-22-1234"}"#;

fn policy() -> Value {
    json!({
        "manifest": {"identity": {"agent_id": "attack16"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"allow_override": false,
                   "block_rules": [{"name": "no_ssn", "condition": "has_ssn", "action": "block"}]},
        "profiles": {"open": {"policy": {"block_rules": []}}}
    })
}

/// A route for `/v{i}/` to the agent whose metadata `iatp.profile` is `v` (any JSON).
fn profile_route(i: usize, v: &Value) -> Value {
    json!({
        "match": {"prefix": format!("/v{i}/")},
        "route": {"cluster": "agent", "timeout": "10s"},
        "metadata": {"filter_metadata": {"iatp": {"profile": v}}}
    })
}

/// Routes `/v{i}/` whose metadata `iatp.profile` is each value.
fn stack(values: &[Value]) -> Stack {
    let values = values.to_vec();
    Stack::builder()
        .plugin(&policy())
        .envoy(move |c| {
            let routes = c.routes();
            for (i, v) in values.iter().enumerate() {
                routes.insert(i, profile_route(i, v));
            }
        })
        .start()
}

fn post(stack: &Stack, path: &str, trace: &str) -> u16 {
    stack
        .send(
            Request::post(path, SSN_BODY)
                .header("content-type", "application/json")
                .header("x-agent-trace-id", trace),
        )
        .status
}

/// Finding (MEDIUM): docs/configuration.md § Profiles says a route whose `iatp.profile` "is not
/// a name (a number, a list)" is refused 500 before anything is forwarded. An empty string and
/// a null (YAML `profile:` with nothing after it, or a template that rendered empty) are judged
/// by the base configuration instead: `abi::get_property` reads Envoy's OK-with-no-data (an
/// empty string) as "not found", and `Host::route_profile` turns the host's serialization
/// failure (a null) into `None`. With a lenient base and a strict profile, the SSN reaches the
/// agent.
#[test]
fn an_empty_or_null_route_profile_is_refused_not_judged_by_the_base() {
    // The base lets everything through; the profile the routes meant blocks the SSN.
    let lenient = json!({
        "manifest": {"identity": {"agent_id": "attack16"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"allow_override": false, "block_rules": []},
        "profiles": {"strict": {"policy": {"allow_override": false, "block_rules": [
            {"name": "no_ssn", "condition": "has_ssn", "action": "block"}]}}}
    });
    let values = [json!(""), Value::Null, json!("strict")];
    let stack = Stack::builder()
        .plugin(&lenient)
        .envoy(move |c| {
            let routes = c.routes();
            for (i, v) in values.iter().enumerate() {
                routes.insert(i, profile_route(i, v));
            }
        })
        .start();
    // The route that names the profile: blocked (the test's control).
    assert_eq!(post(&stack, "/v2/x", "a16-strict"), 403);
    let mut wrong = Vec::new();
    for (i, what) in [(0, "\"\""), (1, "null")] {
        let trace = format!("a16-empty-{i}");
        let status = post(&stack, &format!("/v{i}/x"), &trace);
        let reached = !stack.agent_requests_for(&trace).is_empty();
        if status != 500 || reached {
            wrong.push(format!(
                "profile {what}: {status}, reached the agent: {reached}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Finding (LOW): a profile name is 1-64 of `A-Z a-z 0-9 _ -`, so an SSN-shaped name is one;
/// an unknown one is written into the `error` line as it is ("the route names profile
/// '123-45-6789'"), unscrubbed, though docs/events.md § What cannot happen says no detected
/// value is in a line. Route metadata is the operator's text, hence LOW.
#[test]
fn a_detected_value_in_a_routes_profile_name_reaches_no_event_line() {
    let stack = stack(&[json!("123-45-6789")]);
    assert_eq!(post(&stack, "/v0/x", "a16-ssn-name"), 500);
    let lines = stack.events_for("a16-ssn-name", 2);
    let text = serde_json::to_string(&lines).unwrap();
    assert!(!text.contains("123-45-6789"), "{text}");
}

/// Pin: every other value that is not a profile name (a struct, a bool, a list, a number, a
/// 100,000-byte string) is refused 500 and reaches nobody; the error line gives its length,
/// not its text.
#[test]
fn odd_route_profile_values_are_refused_500_before_anything_passes() {
    let long = "x".repeat(100_000);
    let values = vec![
        json!({"name": "open"}),
        json!(true),
        json!(["open"]),
        json!(1.5),
        json!(long),
    ];
    let stack = stack(&values);
    for (i, v) in values.iter().enumerate() {
        let trace = format!("a16-odd-{i}");
        assert_eq!(post(&stack, &format!("/v{i}/x"), &trace), 500, "{i}");
        stack.assert_never_reached_agent(&trace);
        let lines = stack.events_for(&trace, 2);
        let error = lines.iter().find(|l| l["type"] == "error").unwrap();
        assert!(
            error["error"]
                .as_str()
                .unwrap()
                .ends_with("is not a profile name"),
            "{v}: {error}"
        );
    }
    assert!(!serde_json::to_string(&stack.events())
        .unwrap()
        .contains(&long));
}

/// Runs target/release/iatp-check-config on `file` from `cwd`: (passed, output).
fn check_config(file: &std::path::Path, cwd: &std::path::Path) -> (bool, String) {
    let out = Command::new(paths::check_config())
        .arg(file)
        .current_dir(cwd)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The shipped discovery response (envoy/ecds/iatp.yaml) as JSON.
fn shipped_ecds() -> Value {
    let text = fs::read_to_string(paths::repo().join("envoy/ecds/iatp.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// Finding (MEDIUM): Envoy takes exactly one resource from an extension config discovery
/// response, named like the filter (envoy source/common/filter/config_discovery_impl.cc
/// `FilterConfigSubscription::onConfigUpdate`: "Unexpected number of resources in
/// ExtensionConfigDS response: 2", and "Unexpected resource name"), and refuses the update
/// otherwise: the last good policy keeps serving. iatp-check-config, the check step of the
/// documented swap (envoy/ecds/iatp.yaml, docs/operations.md § Reload), passes a file with two
/// resources, both on its own and through envoy/envoy-ecds.yaml: the operator is told the new
/// policy is fine, renames it in, and it never applies.
#[test]
fn check_config_refuses_a_discovery_file_envoy_would_refuse() {
    let dir = Scratch::new();
    let mut two = shipped_ecds();
    let first = two["resources"][0].clone();
    two["resources"].as_array_mut().unwrap().push(first);
    fs::create_dir_all(dir.path.join("envoy/ecds")).unwrap();
    let file = dir.path.join("envoy/ecds/iatp.yaml");
    fs::write(&file, two.to_string()).unwrap();
    std::os::unix::fs::symlink(paths::repo().join("target"), dir.path.join("target")).unwrap();
    let mut wrong = Vec::new();
    let (ok, text) = check_config(&file, &dir.path);
    if ok {
        wrong.push(format!("the file on its own passed:\n{text}"));
    }
    let (ok, text) = check_config(&paths::repo().join("envoy/envoy-ecds.yaml"), &dir.path);
    if ok {
        wrong.push(format!("envoy-ecds.yaml with it passed:\n{text}"));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Pin: through envoy/envoy-ecds.yaml, a discovery file whose only resource has another name
/// is refused (Envoy refuses it too: "Unexpected resource name").
#[test]
fn check_config_refuses_a_discovered_resource_of_another_name() {
    let dir = Scratch::new();
    let mut other = shipped_ecds();
    other["resources"][0]["name"] = json!("iatp2");
    fs::create_dir_all(dir.path.join("envoy/ecds")).unwrap();
    fs::write(dir.path.join("envoy/ecds/iatp.yaml"), other.to_string()).unwrap();
    std::os::unix::fs::symlink(paths::repo().join("target"), dir.path.join("target")).unwrap();
    let (ok, text) = check_config(&paths::repo().join("envoy/envoy-ecds.yaml"), &dir.path);
    assert!(!ok, "{text}");
    assert!(text.contains("holds no resource named 'iatp'"), "{text}");
}

/// Finding (LOW): iatp-check-config warns when the listener buffers less than
/// `limits.max_body_bytes`, but only for the base: a profile's larger limit (the docs' own
/// `uploads` example, 100 MiB, under envoy.yaml's 16 MiB listener) gets no warning, and its
/// route answers Envoy's bare 413 above 16 MiB.
#[test]
fn check_config_warns_about_a_profiles_body_limit_above_the_listeners() {
    let dir = Scratch::new();
    let shipped = fs::read_to_string(paths::repo().join("envoy/envoy.yaml")).unwrap();
    let with = shipped.replacen(
        "\"mode\": \"enforce\",",
        "\"mode\": \"enforce\", \"profiles\": {\"uploads\": {\"limits\": {\"max_body_bytes\": 104857600}}},",
        1,
    );
    assert_ne!(with, shipped);
    let file = dir.path.join("envoy.yaml");
    fs::write(&file, with).unwrap();
    let (ok, text) = check_config(&file, &paths::repo());
    assert!(ok, "{text}");
    assert!(
        text.contains("104857600") && text.contains("per_connection_buffer_limit_bytes"),
        "no warning:\n{text}"
    );
}

/// Finding (MEDIUM): `scripts/package.sh --out DIR` runs `rm -rf -- DIR` on whatever DIR is
/// (usage: "replaced"), with no check that it is an OCI image layout it wrote: `--out .` in the
/// repository, or `--out ~`, deletes it whole.
#[test]
fn package_out_does_not_delete_a_directory_that_is_not_an_image_layout() {
    let dir = Scratch::new();
    let out = dir.path.join("mine");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("keep.txt"), "precious").unwrap();
    let status = Command::new(paths::repo().join("scripts/package.sh"))
        .arg("--wasm")
        .arg(paths::wasm())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        out.join("keep.txt").is_file(),
        "package.sh (exit {:?}) deleted {}:\n{}",
        status.status.code(),
        out.display(),
        String::from_utf8_lossy(&status.stderr)
    );
}
