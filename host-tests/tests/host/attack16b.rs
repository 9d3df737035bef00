//! Issue 16, second attack round: route metadata Envoy builds from a real route table
//! (typed metadata, metadata over the Struct decoder's bound, deep values), and discovery (ECDS)
//! swaps under state that outlives one configuration: the events' chain key, override tokens.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{paths, read_jsonl, EnvoyConfig, Request, Stack};

const SSN_BODY: &str = r#"{"note":"ssn 536-22-1234"}"#;
const EMAIL_BODY: &str = r#"{"contact":"jane.doe@example.com"}"#;

/// A lenient base (no block rules) and a `strict` profile that blocks SSNs: a route judged by
/// the base lets an SSN through (200), one judged by `strict` answers 403.
fn lenient_base() -> Value {
    json!({
        "manifest": {"identity": {"agent_id": "attack16b"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"allow_override": false, "block_rules": []},
        "profiles": {"strict": {"policy": {"allow_override": false, "block_rules": [
            {"name": "no_ssn", "condition": "has_ssn", "action": "block"}]}}}
    })
}

fn post(stack: &Stack, path: &str, body: &str, trace: &str) -> crate::harness::http::Response {
    stack.send(Request::post(path, body).header("x-agent-trace-id", trace))
}

/// `{"a": {"a": ... "x"}}`, `depth` objects deep.
fn nested(depth: usize) -> Value {
    let mut v = json!("x");
    for _ in 0..depth {
        v = json!({ "a": v });
    }
    v
}

/// Routes whose metadata Envoy itself serializes: more than 64 KiB of another namespace (the
/// Struct decoder's bound is 64 KiB), nested 20 objects deep, beside `iatp.profile: strict`;
/// and a profile value that is an object nested 26 deep (under the decoder's 32). Pins: the
/// first is judged by `strict` (the bound applies to the profile's value only), the second is
/// refused 500 as "an object".
#[test]
fn route_metadata_over_the_decoders_size_bound_in_a_real_envoy() {
    let stack = Stack::builder()
        .plugin(&lenient_base())
        .envoy(|c| {
            let routes = c.routes();
            routes.insert(
                0,
                json!({"match": {"prefix": "/big/"}, "route": {"cluster": "agent", "timeout": "10s"},
                       "metadata": {"filter_metadata": {
                           "istio": {"config": "x".repeat(100_000), "deep": nested(20)},
                           "iatp": {"profile": "strict"}}}}),
            );
            routes.insert(
                1,
                json!({"match": {"prefix": "/deep/"}, "route": {"cluster": "agent", "timeout": "10s"},
                       "metadata": {"filter_metadata": {"iatp": {"profile": nested(26)}}}}),
            );
        })
        .start();
    let r = post(&stack, "/big/x", SSN_BODY, "big-1");
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["rule"], "no_ssn");
    stack.assert_never_reached_agent("big-1");
    // The base alone lets it through: the 403 is the profile's.
    assert_eq!(post(&stack, "/other", SSN_BODY, "base-1").status, 200);

    let r = post(&stack, "/deep/x", SSN_BODY, "deep-1");
    assert_eq!(r.status, 500, "{}", r.text());
    stack.assert_never_reached_agent("deep-1");
    let events = stack.events_for("deep-1", 2);
    assert_eq!(events[1]["type"], "error");
    assert!(
        events[1]["error"]
            .as_str()
            .unwrap()
            .contains("(an object) is not a profile name"),
        "{}",
        events[1]
    );
}

/// Pin: Envoy itself refuses route metadata nested past the filter's decoder depth (32): the
/// route table's protobuf, unpacked under protobuf's recursion limit (100 message levels;
/// each nested object costs three: map entry, Value, Struct), does not load, so a route whose
/// profile the decoder would refuse as too deep never reaches the filter.
#[test]
fn envoy_refuses_route_metadata_deeper_than_the_decoder_reads() {
    let failed = Stack::builder()
        .plugin(&lenient_base())
        .envoy(|c| {
            c.routes().insert(
                0,
                json!({"match": {"prefix": "/deep/"}, "route": {"cluster": "agent", "timeout": "10s"},
                       "metadata": {"filter_metadata": {"iatp": {"profile": nested(33)}}}}),
            );
        })
        .try_start();
    let Err((failure, _dir)) = failed else {
        panic!("Envoy started with route metadata nested 33 deep");
    };
    assert!(
        failure.log.contains(
            "Unable to unpack as envoy.extensions.filters.network.http_connection_manager"
        ),
        "{}",
        failure
            .log
            .lines()
            .filter(|l| l.contains("critical"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Finding (LOW): Envoy's `Metadata` has `typed_filter_metadata` beside `filter_metadata`, and
/// Envoy's API says a filter that reads typed metadata prefers it under the same key. A route
/// whose `iatp` entry is typed (`google.protobuf.Struct` `{profile: strict}` in an `Any`) is read
/// as a route without a profile: judged by the lenient base, the SSN reaches the agent. The
/// route's intended judgement is unknown to the filter: the case docs/configuration.md
/// § Profiles answers 500 (fail closed).
#[test]
fn a_routes_typed_iatp_metadata_is_not_judged_by_the_base() {
    let stack = Stack::builder()
        .plugin(&lenient_base())
        .envoy(|c| {
            c.routes().insert(
                0,
                json!({"match": {"prefix": "/typed/"}, "route": {"cluster": "agent", "timeout": "10s"},
                       "metadata": {"typed_filter_metadata": {"iatp": {
                           "@type": "type.googleapis.com/google.protobuf.Struct",
                           "value": {"profile": "strict"}}}}}),
            );
        })
        .start();
    let r = post(&stack, "/typed/x", SSN_BODY, "typed-1");
    assert_ne!(r.status, 200, "judged by the base: {}", r.text());
    stack.assert_never_reached_agent("typed-1");
}

/// The shipped ECDS policy without its rate limit (one caller sends everything here), with
/// `edit` applied.
fn ecds_policy(edit: impl FnOnce(&mut Value)) -> String {
    let shipped = EnvoyConfig::load(&paths::repo().join("envoy/envoy-ecds.yaml")).plugin_config();
    let mut v: Value = serde_json::from_str(&shipped).unwrap();
    v["manifest"]
        .as_object_mut()
        .unwrap()
        .remove("rate_limiting");
    edit(&mut v);
    v.to_string()
}

/// Moves a discovery file holding `plugin` over `ecds/iatp.yaml` (as envoy/ecds/iatp.yaml tells
/// an operator to) and waits until Envoy has applied it (`update_success` one up) and a little
/// more, so that new requests are decided by it.
fn swap(stack: &Stack, plugin: &str) {
    swap_vm(stack, plugin, None);
}

/// [`swap`], the Wasm VM's `vm_config.vm_id` set to `vm_id` when given.
fn swap_vm(stack: &Stack, plugin: &str, vm_id: Option<&str>) {
    let dir = stack.dir.path.join("ecds");
    let stat = || {
        stack
            .envoy
            .stat("extension_config_discovery.http_filter.iatp.update_success")
    };
    let before = stat();
    let mut doc: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("iatp.yaml")).unwrap()).unwrap();
    doc["resources"][0]["typed_config"]["config"]["configuration"]["value"] = json!(plugin);
    if let Some(id) = vm_id {
        doc["resources"][0]["typed_config"]["config"]["vm_config"]["vm_id"] = json!(id);
    }
    let tmp = dir.join(".iatp.yaml.new");
    fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    fs::rename(&tmp, dir.join("iatp.yaml")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while stat() <= before {
        assert!(Instant::now() < deadline, "the swap was not applied");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Applied in the main thread; the workers take it a moment later (docs: 15-96 ms).
    std::thread::sleep(Duration::from_millis(500));
}

const KEY_A: &str = "chain-key-a-0123456789abcdef";
const KEY_B: &str = "chain-key-b-0123456789abcdef";

/// An events file written under `events.chain_key` KEY_A, then (after an ECDS swap) KEY_B; the
/// trace ids sent under each.
fn rotated_events() -> (Stack, Vec<String>, Vec<String>) {
    let with_key = |k: &str| ecds_policy(|v| v["events"]["chain_key"] = json!(k));
    let stack = Stack::builder()
        .config_file("envoy/envoy-ecds.yaml")
        .plugin_text(&with_key(KEY_A))
        .workers(1)
        .start();
    let send = |prefix: &str| -> Vec<String> {
        (0..3)
            .map(|i| {
                let t = format!("{prefix}-{i}");
                assert_eq!(post(&stack, "/book", r#"{"x":1}"#, &t).status, 200);
                t
            })
            .collect()
    };
    let a = send("key-a");
    swap(&stack, &with_key(KEY_B));
    let b = send("key-b");
    // Every request's lines are in the file.
    for t in a.iter().chain(&b) {
        stack.events_for(t, 1);
    }
    (stack, a, b)
}

/// iatp-verify on the file with the chain key given by each name in `keys` (`--key-env`, once
/// each): exit code and stdout.
fn verify(events: &Path, keys: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(paths::verifier());
    for (i, k) in keys.iter().enumerate() {
        let name = format!("IATP_TEST_KEY_{i}");
        cmd.env(&name, k).arg("--key-env").arg(&name);
    }
    let out = cmd.arg(events).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The chain ids of the lines with these trace ids.
fn chains_of(events: &[Value], traces: &[String]) -> Vec<String> {
    let mut c: Vec<String> = events
        .iter()
        .filter(|e| traces.iter().any(|t| e["trace_id"] == t.as_str()))
        .map(|e| e["chain"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c.dedup();
    c
}

/// Pin: what iatp-verify does with an events file across a swap that changed
/// `events.chain_key` (operations.md § Reload: "iatp-verify verifies the events file across
/// reloads"; events.md § Istio: "as long as one events.chain_key sealed it"). Given either key,
/// the chains sealed under it verify and every chain of the other key is reported BROKEN at its
/// first line as a hash mismatch ("the line was edited"), exit 1: no tampering happened.
#[test]
fn a_chain_key_changed_by_a_swap_reads_as_tampering_to_the_verifier() {
    let (stack, a, b) = rotated_events();
    let path = stack.events_path();
    let events = read_jsonl(&path);
    let (chains_a, chains_b) = (chains_of(&events, &a), chains_of(&events, &b));
    assert_eq!((chains_a.len(), chains_b.len()), (1, 1), "one worker");
    assert_ne!(chains_a, chains_b, "a new configuration starts a new chain");
    for (key, good, bad) in [(KEY_A, &chains_a, &chains_b), (KEY_B, &chains_b, &chains_a)] {
        let (code, out) = verify(&path, &[key]);
        assert_eq!(code, 1, "{out}");
        let line = |c: &str| {
            out.lines()
                .find(|l| l.starts_with(&format!("chain {c}:")))
                .unwrap_or_else(|| panic!("chain {c} in {out}"))
                .to_string()
        };
        assert!(line(&good[0]).ends_with(": ok"), "{out}");
        // Broken at the other chain's first line (its position in the file).
        let first = 1 + events
            .iter()
            .position(|e| e["chain"] == bad[0].as_str())
            .unwrap();
        let broken = line(&bad[0]);
        assert!(
            broken.contains(&format!(
                "events.jsonl:{first}: hash mismatch: the line was edited"
            )),
            "{out}"
        );
        assert!(out.contains("NOT verified"), "{out}");
    }
}

/// Finding (LOW): the same file cannot be verified at all: `--key-env` takes one key (a second
/// replaces the first), so a chain key rotated through a swap - a secret rotation, a normal
/// operation the reload path invites - leaves a file that can only be checked by splitting it
/// per chain by hand. Expected: each chain verified under the keys given (or the key that
/// sealed it named by the chain's first line), exit 0.
#[test]
fn a_file_across_a_chain_key_rotation_verifies_given_both_keys() {
    let (stack, _a, _b) = rotated_events();
    let (code, out) = verify(&stack.events_path(), &[KEY_A, KEY_B]);
    assert_eq!(code, 0, "{out}");
}

/// Pin: override tokens across ECDS swaps. A token is single use within one Envoy through
/// proxy-wasm shared data, which belongs to the VM (`vm_id`), not to one configuration: a token
/// used before a swap stays used after it; one minted before a swap that changes
/// `policy.override_key` is refused after it (a new 449, with a new token); one minted before a
/// swap that keeps the key still confirms after it.
/// The shipped ECDS policy warning on e-mail addresses, overrides under `key`; `note` makes
/// another configuration of the same policy.
fn warn_policy(key: &str, note: u64) -> String {
    ecds_policy(|v| {
        v["policy"]["allow_override"] = json!(true);
        v["policy"]["override_key"] = json!(key);
        v["policy"]["block_rules"] =
            json!([{"name": "email_warn", "condition": "has_email", "action": "warn"}]);
        v["limits"] = json!({"max_body_bytes": 100_000 + note});
    })
}

fn token_for(stack: &Stack, trace: &str) -> String {
    let r = post(stack, "/book", EMAIL_BODY, trace);
    assert_eq!(r.status, 449, "{}", r.text());
    r.json()["override_token"].as_str().unwrap().to_string()
}

fn confirm(stack: &Stack, trace: &str, token: &str) -> u16 {
    stack
        .send(
            Request::post("/book", EMAIL_BODY)
                .header("x-agent-trace-id", trace)
                .header("x-user-override", token),
        )
        .status
}

const OVERRIDE_K1: &str = "override-key-one-0123456789abcdef0123";

#[test]
fn override_tokens_across_swaps_stay_single_use_and_bound_to_the_key() {
    let with_key = warn_policy;
    let k1 = OVERRIDE_K1;
    let k2 = "override-key-two-0123456789abcdef0123";
    let stack = Stack::builder()
        .config_file("envoy/envoy-ecds.yaml")
        .plugin_text(&with_key(k1, 0))
        .workers(2)
        .start();
    let token_for = |trace: &str| token_for(&stack, trace);
    let confirm = |trace: &str, token: &str| confirm(&stack, trace, token);
    let used = token_for("ov-used");
    assert_eq!(confirm("ov-used", &used), 200);
    let kept = token_for("ov-kept");
    swap(&stack, &with_key(k1, 1));
    assert_eq!(confirm("ov-used", &used), 449, "replayed after a swap");
    assert_eq!(confirm("ov-kept", &kept), 200, "same key, still valid");
    let stale = token_for("ov-stale");
    swap(&stack, &with_key(k2, 2));
    assert_eq!(confirm("ov-stale", &stale), 449, "minted under the old key");
    assert_eq!(confirm("ov-kept", &kept), 449, "still used");
}

/// Finding (LOW): the single-use claim lives in proxy-wasm shared data, which Envoy keys by
/// the VM's `vm_id`. A swap whose Wasm config names another `vm_id` (same module, same
/// `override_key`) starts with no claims: a token already used confirms again, within its
/// expiry (300 s by default). docs/configuration.md § Overrides: "single use within one Envoy
/// (all workers)". Measured: the replay after such a swap is answered 200 and forwarded.
#[test]
#[ignore = "finding: a swap that changes vm_id forgets used override tokens (replay)"]
fn a_used_override_token_stays_used_across_a_swap_that_changes_the_vm_id() {
    let stack = Stack::builder()
        .config_file("envoy/envoy-ecds.yaml")
        .plugin_text(&warn_policy(OVERRIDE_K1, 0))
        .workers(2)
        .start();
    let used = token_for(&stack, "vm-used");
    assert_eq!(confirm(&stack, "vm-used", &used), 200);
    assert_eq!(
        confirm(&stack, "vm-used", &used),
        449,
        "single use before the swap"
    );
    swap_vm(&stack, &warn_policy(OVERRIDE_K1, 1), Some("iatp-v2"));
    assert_eq!(
        confirm(&stack, "vm-used", &used),
        449,
        "replayed after a swap to another vm_id"
    );
}
