//! Findings of a first-time user's pass over issue 16's deliverables (per-route profiles,
//! `iatp-check-config`), as tests of what the docs say; both were fixed (the route's metadata
//! read whole, the profiles' body limits checked).

use std::fs;
use std::process::Command;

use serde_json::{json, Value};

use crate::harness::{paths, Request, Scratch, Stack};

const SSN: &str = r#"{"note":"ssn 536-22-1234"}"#;

/// docs/configuration.md § Profiles, "At run time": "A route that names a profile the
/// configuration does not define, or a value that is not a name (a number, a list), is refused
/// 500 (`iatp_unknown_profile`) before anything is forwarded ... fail closed, since the
/// route's intended judgement is unknown"; "Names: 1 to 64 of `A-Z a-z 0-9 _ -`". An empty
/// string and `null` are not names, and core's own unit test
/// (`core/src/phases/profile_tests.rs`, `b""` -> "(0 bytes) is not a profile name") expects
/// the 500. In Envoy 1.40 both reach the filter as "no value" (the host returns no bytes for
/// an empty string leaf), and the base configuration judges the route instead.
#[test]
fn a_route_whose_profile_is_empty_or_null_is_refused_like_any_value_that_is_not_a_name() {
    // A monitoring base: a route the base judges lets the SSN through (200); the documented
    // answer for a value that is not a name is 500, and nothing reaches the agent.
    let policy = json!({
        "mode": "monitor",
        "manifest": {"identity": {"agent_id": "user-agent"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"allow_override": false,
                   "block_rules": [{"name": "no_ssn", "condition": "has_ssn", "action": "block"}]},
        "profiles": {"strict": {"mode": "enforce"}}
    });
    let stack = Stack::builder()
        .plugin(&policy)
        .envoy(|c| {
            let routes = c.routes();
            for (i, (prefix, profile)) in [
                ("/strict/", json!("strict")),
                ("/empty/", json!("")),
                ("/null/", Value::Null),
            ]
            .into_iter()
            .enumerate()
            {
                routes.insert(
                    i,
                    json!({
                        "match": {"prefix": prefix},
                        "route": {"cluster": "agent", "timeout": "10s"},
                        "metadata": {"filter_metadata": {"iatp": {"profile": profile}}}
                    }),
                );
            }
        })
        .start();
    let post = |path: &str, trace: &str| {
        stack.send(
            Request::post(path, SSN)
                .header("content-type", "application/json")
                .header("x-agent-trace-id", trace),
        )
    };
    // The stack works: a named profile enforces, the base monitors.
    let r = post("/strict/book", "user-strict");
    assert_eq!(r.status, 403, "{}", r.text());
    let r = post("/book", "user-base");
    assert_eq!(r.status, 200, "{}", r.text());

    let mut wrong = Vec::new();
    for (path, trace) in [("/empty/book", "user-empty"), ("/null/book", "user-null")] {
        let r = post(path, trace);
        if r.status != 500 || !stack.agent_requests_for(trace).is_empty() {
            wrong.push(format!(
                "{path}: {} (agent saw it: {})",
                r.status,
                !stack.agent_requests_for(trace).is_empty()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected 500, nothing forwarded: {wrong:?}"
    );
}

/// docs/operations.md § Checking an Envoy configuration: check-config warns when "the
/// listener's `per_connection_buffer_limit_bytes` (1 MiB when unset) is below
/// `limits.max_body_bytes`: Envoy answers a bare 413 first". A profile's `limits` (the docs'
/// own example: `"uploads": {"limits": {"max_body_bytes": 104857600}}`) is not checked: the
/// shipped envoy.yaml with that profile passes without a warning, and a 20 MiB upload on the
/// profile's route gets Envoy's bare 413 (checked by hand; the listener buffers 16 MiB).
#[test]
fn check_config_warns_about_a_profiles_body_limit_above_the_listeners_buffer() {
    let shipped = fs::read_to_string(paths::repo().join("envoy/envoy.yaml")).unwrap();
    let buffer: u64 = shipped
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("per_connection_buffer_limit_bytes:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("the shipped listener's buffer limit");
    let upload = buffer * 4;
    let with_profile = shipped.replacen(
        "\"mode\": \"enforce\",",
        &format!(
            "\"mode\": \"enforce\", \"profiles\": {{\"uploads\": {{\"limits\": {{\"max_body_bytes\": {upload}}}}}}},"
        ),
        1,
    );
    assert_ne!(with_profile, shipped, "the edit did not apply");
    let dir = Scratch::new();
    let file = dir.path.join("envoy-profile.yaml");
    fs::write(&file, &with_profile).unwrap();
    let out = Command::new(paths::check_config())
        .arg(&file)
        .current_dir(paths::repo())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    // The profile is accepted and its key named (its notes that are the base's are not
    // repeated)...
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("profiles.uploads.limits.max_body_bytes"),
        "{text}"
    );
    // ...and the buffer warning the base would get should name the profile's limit.
    assert!(
        text.lines()
            .any(|l| l.contains(&format!("buffers at most {buffer} bytes"))
                && l.contains(&upload.to_string())),
        "no buffer-limit warning for profile 'uploads' ({upload} > {buffer}):\n{text}"
    );
}
