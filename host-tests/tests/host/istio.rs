//! The Istio resources in `istio/`: every document fits its kind's CRD (vendored from Istio in
//! `istio/crds/`), every plugin configuration parses with the filter's own parser, the
//! TrafficExtensions mirror the WasmPlugins, one image digest everywhere; the hold-headers
//! EnvoyFilter applied to envoy/envoy.yaml validates and holds a blocked request from the
//! agent; the events access log built as Istio builds it from the Telemetry resource writes
//! the event lines and nothing else.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::crd;
use crate::harness::{paths, read_text, EnvoyConfig, Request, Scratch, Stack};

/// The CRD of each kind the resources use.
const CRDS: &[&str] = &[
    "wasmplugin-crd.yaml",
    "trafficextension-crd.yaml",
    "envoyfilter-crd.yaml",
    "telemetry-crd.yaml",
];

/// Files in `istio/` that are not Kubernetes resources, each with the test that checks it.
const NOT_RESOURCES: &[(&str, &str)] = &[(
    "meshconfig-events.yaml",
    "the_events_access_log_built_from_the_telemetry_resource_writes_only_event_lines",
)];

fn istio_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(paths::repo().join("istio"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn file_name(p: &Path) -> &str {
    p.file_name().unwrap().to_str().unwrap()
}

/// Every YAML document of a file (separated by `---` lines).
fn documents(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap();
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else {
            let last = docs.last_mut().unwrap();
            last.push_str(line);
            last.push('\n');
        }
    }
    docs.iter()
        .map(|d| {
            serde_yaml::from_str::<Value>(d).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .filter(|v| !v.is_null())
        .collect()
}

/// Every Kubernetes resource in `istio/`, with its file's name.
fn resources() -> Vec<(String, Value)> {
    istio_files()
        .iter()
        .filter(|p| NOT_RESOURCES.iter().all(|(n, _)| *n != file_name(p)))
        .flat_map(|p| {
            let name = file_name(p).to_string();
            documents(p).into_iter().map(move |d| (name.clone(), d))
        })
        .collect()
}

fn one(file: &str) -> Value {
    let docs = documents(&paths::repo().join("istio").join(file));
    assert_eq!(docs.len(), 1, "{file}: one document expected");
    docs.into_iter().next().unwrap()
}

/// The errors of one resource against its kind's CRD (an unknown kind, an apiVersion the CRD
/// does not serve, a missing name: errors too).
fn check_resource(doc: &Value) -> Vec<String> {
    let kind = doc["kind"].as_str().unwrap_or_default();
    let api = doc["apiVersion"].as_str().unwrap_or_default();
    let Some(file) = CRDS.iter().find(|f| crd::group_and_kind(f).1 == kind) else {
        return vec![format!("kind {kind:?}: no CRD in istio/crds/")];
    };
    let (group, _) = crd::group_and_kind(file);
    let Some((g, version)) = api.split_once('/') else {
        return vec![format!("apiVersion {api:?} is not group/version")];
    };
    if g != group {
        return vec![format!(
            "apiVersion {api}: the {kind} CRD's group is {group}"
        )];
    }
    let Some(schema) = crd::spec_schema_of_version(file, version) else {
        return vec![format!("apiVersion {api}: {file} does not serve {version}")];
    };
    let mut errors = Vec::new();
    if !doc["metadata"]["name"].is_string() {
        errors.push("metadata.name missing".to_string());
    }
    for key in doc.as_object().into_iter().flatten().map(|(k, _)| k) {
        if !["apiVersion", "kind", "metadata", "spec"].contains(&key.as_str()) {
            errors.push(format!("{key}: unknown top-level field"));
        }
    }
    errors.extend(crd::validate(&schema, &doc["spec"]));
    errors
}

#[test]
fn every_istio_resource_fits_its_kinds_crd_schema() {
    let mut checked = 0;
    for file in istio_files() {
        let name = file_name(&file);
        if let Some((_, test)) = NOT_RESOURCES.iter().find(|(n, _)| *n == name) {
            // Not a resource: covered by its own test, and it must not pose as one.
            assert!(
                documents(&file).iter().all(|d| d.get("kind").is_none()),
                "{name} has a `kind`: check it as a resource (covered by {test})"
            );
            continue;
        }
        assert!(
            name.ends_with(".yaml") || name == "README.md",
            "{name}: a file in istio/ that no test covers"
        );
        if !name.ends_with(".yaml") {
            continue;
        }
        let docs = documents(&file);
        assert!(!docs.is_empty(), "{name}: no document");
        for doc in docs {
            assert_eq!(check_resource(&doc), Vec::<String>::new(), "{name}");
            checked += 1;
        }
    }
    // wasmplugin(-egress), trafficextension(-egress), decompressor, envoyfilter-hold-headers,
    // telemetry-events.
    assert!(checked >= 7, "only {checked} resources checked");
}

#[test]
fn the_checker_refuses_resources_istio_would_refuse() {
    let good = one("envoyfilter-hold-headers.yaml");
    assert_eq!(check_resource(&good), Vec::<String>::new());
    let mut unknown_kind = good.clone();
    unknown_kind["kind"] = json!("Sidecar");
    let mut wrong_version = one("telemetry-events.yaml");
    wrong_version["apiVersion"] = json!("telemetry.istio.io/v2");
    let mut bad_operation = good.clone();
    bad_operation["spec"]["configPatches"][1]["patch"]["operation"] = json!("PREPEND");
    let mut waypoint = good.clone();
    waypoint["spec"]["configPatches"][1]["match"]["waypoint"] = json!({"filter": {"name": "x"}});
    let mut two_selectors = good.clone();
    two_selectors["spec"]["targetRefs"] = json!([{"kind": "Gateway", "name": "g"}]);
    let mut lua_and_wasm = one("trafficextension.yaml");
    lua_and_wasm["spec"]["lua"] = json!({"inlineCode": "function envoy_on_request(h) end"});
    let mut bad_digest = one("trafficextension-egress.yaml");
    bad_digest["spec"]["wasm"]["sha256"] = json!("sha256:00");
    let mut telemetry_field = one("telemetry-events.yaml");
    telemetry_field["spec"]["accessLogging"][0]["filter"]["cel"] = json!("true");
    for bad in [
        unknown_kind,
        wrong_version,
        bad_operation,
        waypoint,
        two_selectors,
        lua_and_wasm,
        bad_digest,
        telemetry_field,
    ] {
        assert!(!check_resource(&bad).is_empty(), "accepted {bad}");
    }
}

/// The plugin configurations of a resource: a WasmPlugin's `pluginConfig`, a
/// TrafficExtension's `wasm.pluginConfig` (both as the JSON Istio makes of them), an
/// EnvoyFilter's Wasm `configuration` strings.
fn plugin_configs(doc: &Value) -> Vec<String> {
    match doc["kind"].as_str().unwrap() {
        "WasmPlugin" => vec![doc["spec"]["pluginConfig"].to_string()],
        "TrafficExtension" => vec![doc["spec"]["wasm"]["pluginConfig"].to_string()],
        "EnvoyFilter" => doc["spec"]["configPatches"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| {
                let tc = &p["patch"]["value"]["typed_config"];
                (tc["@type"] == WASM_TYPE).then(|| {
                    tc["config"]["configuration"]["value"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
            })
            .collect(),
        _ => vec![],
    }
}

const WASM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";

#[test]
fn every_istio_plugin_configuration_parses_with_the_filters_parser() {
    let mut parsed = 0;
    for (file, doc) in resources() {
        for config in plugin_configs(&doc) {
            if let Err(e) = iatp_core::config::parse(config.as_bytes()) {
                panic!("{file}: {e}\n{config}");
            }
            parsed += 1;
        }
    }
    // Two WasmPlugins, two TrafficExtensions, the EnvoyFilter's.
    assert_eq!(parsed, 5);
    // A WasmPlugin cannot set allow_on_headers_stop_iteration: its plugin must not hold headers.
    for file in [
        "wasmplugin.yaml",
        "wasmplugin-egress.yaml",
        "trafficextension.yaml",
        "trafficextension-egress.yaml",
    ] {
        let config: Value = serde_json::from_str(&plugin_configs(&one(file))[0]).unwrap();
        assert_eq!(config["hold_headers"], false, "{file}");
    }
    // The egress plugin runs the gateway mode.
    let egress: Value =
        serde_json::from_str(&plugin_configs(&one("wasmplugin-egress.yaml"))[0]).unwrap();
    assert!(egress["gateway"].is_object());
    assert_eq!(
        one("wasmplugin-egress.yaml")["spec"]["match"],
        json!([{"mode": "CLIENT"}])
    );
    assert_eq!(
        one("wasmplugin.yaml")["spec"]["match"],
        json!([{"mode": "SERVER"}])
    );
}

#[test]
fn the_traffic_extensions_are_the_wasmplugins() {
    for (wp, te) in [
        ("wasmplugin.yaml", "trafficextension.yaml"),
        ("wasmplugin-egress.yaml", "trafficextension-egress.yaml"),
    ] {
        let wp = one(wp);
        let te = one(te);
        assert_eq!(te["metadata"], wp["metadata"]);
        let spec = wp["spec"].as_object().unwrap();
        // Istio's own translation (pilot/pkg/config/kube/extensions/translate.go): selector,
        // phase, priority, match at the top, the rest under `wasm`.
        let mut expected = json!({"wasm": {}});
        for (k, v) in spec {
            if ["selector", "targetRefs", "phase", "priority", "match"].contains(&k.as_str()) {
                expected[k] = v.clone();
            } else {
                expected["wasm"][k] = v.clone();
            }
        }
        assert_eq!(te["spec"], expected);
    }
}

/// `oci://...@sha256:<hex>` URLs with their `sha256`: (url, sha256) of every Wasm module
/// reference in `istio/`.
fn module_references() -> Vec<(String, String, String)> {
    let mut refs = Vec::new();
    for (file, doc) in resources() {
        let spec = &doc["spec"];
        match doc["kind"].as_str().unwrap() {
            "WasmPlugin" => refs.push((file, spec["url"].clone(), spec["sha256"].clone())),
            "TrafficExtension" => refs.push((
                file,
                spec["wasm"]["url"].clone(),
                spec["wasm"]["sha256"].clone(),
            )),
            "EnvoyFilter" => {
                for p in spec["configPatches"].as_array().unwrap() {
                    let remote = &p["patch"]["value"]["typed_config"]["config"]["vm_config"]
                        ["code"]["remote"];
                    if !remote.is_null() {
                        refs.push((
                            file.clone(),
                            remote["http_uri"]["uri"].clone(),
                            remote["sha256"].clone(),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    refs.into_iter()
        .map(|(f, u, s)| {
            (
                f,
                u.as_str().unwrap().to_string(),
                s.as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_module_reference_is_one_image_pinned_by_its_digest() {
    let refs = module_references();
    assert_eq!(refs.len(), 5, "{refs:?}");
    let (_, first_url, _) = &refs[0];
    for (file, url, sha256) in &refs {
        let (image, digest) = url
            .strip_prefix("oci://")
            .and_then(|u| u.split_once("@sha256:"))
            .unwrap_or_else(|| panic!("{file}: {url} is not oci://...@sha256:<digest>"));
        assert!(!image.is_empty(), "{file}: {url}");
        assert!(
            digest.len() == 64
                && digest
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{file}: the digest of {url} is not 64 lowercase hex digits"
        );
        // Istio checks both and refuses a mismatch (istio/api extensions/v1alpha1/wasm.proto).
        assert_eq!(sha256, digest, "{file}: sha256 and the URL's digest differ");
        assert_eq!(
            url, first_url,
            "{file}: another image than the other resources"
        );
    }
}

// ---- the hold-headers EnvoyFilter applied to envoy/envoy.yaml ----

/// Applies an EnvoyFilter's patches to a static Envoy config as Istio applies them to a sidecar's
/// inbound listener, for the operations the shipped EnvoyFilters use (anything else panics):
/// `HTTP_FILTER` + `INSERT_BEFORE`/`INSERT_FIRST` in the HTTP connection manager's filters, and
/// `EXTENSION_CONFIG` + `ADD` (returned: the ECDS resources, by name). Istio's own inbound
/// filters are not there; the shipped config's own IATP Wasm filter is removed first (the
/// sidecar has none but the EnvoyFilter's).
fn apply_envoy_filter(config: &mut EnvoyConfig, envoy_filter: &Value) -> Vec<Value> {
    config
        .http_filters()
        .retain(|f| f["name"] != "envoy.filters.http.wasm");
    let mut extension_configs = Vec::new();
    for p in envoy_filter["spec"]["configPatches"].as_array().unwrap() {
        let op = p["patch"]["operation"].as_str().unwrap();
        let value = p["patch"]["value"].clone();
        match (p["applyTo"].as_str().unwrap(), op) {
            ("EXTENSION_CONFIG", "ADD") => extension_configs.push(value),
            ("HTTP_FILTER", "INSERT_BEFORE" | "INSERT_FIRST") => {
                assert_eq!(p["match"]["context"], "SIDECAR_INBOUND");
                let filter = &p["match"]["listener"]["filterChain"]["filter"];
                assert_eq!(
                    filter["name"],
                    "envoy.filters.network.http_connection_manager"
                );
                let filters = config.http_filters();
                let at = if op == "INSERT_FIRST" {
                    0
                } else {
                    let sub = filter["subFilter"]["name"].as_str().unwrap();
                    filters
                        .iter()
                        .position(|f| f["name"] == sub)
                        .unwrap_or_else(|| panic!("no HTTP filter {sub} to insert before"))
                };
                filters.insert(at, value);
            }
            (apply_to, op) => panic!("{apply_to} {op}: not implemented by this helper"),
        }
    }
    extension_configs
}

/// What istio-agent does to an ECDS Wasm resource before Envoy gets it (pkg/wasm/convert.go,
/// rewriteVMConfig): the `remote` module, once pulled and checked, becomes a `local` file (here
/// the built module), and the `ISTIO_META_*` environment variables are dropped.
fn as_the_agent_hands_it_to_envoy(mut extension_config: Value) -> Value {
    let vm = &mut extension_config["typed_config"]["config"]["vm_config"];
    assert!(vm["code"]["remote"]["http_uri"]["uri"].is_string());
    vm["code"] = json!({"local": {"filename": paths::wasm().to_str().unwrap()}});
    if let Some(env) = vm["environment_variables"]["key_values"].as_object_mut() {
        env.retain(|k, _| !k.starts_with("ISTIO_META_"));
    }
    extension_config
}

/// The hold-headers EnvoyFilter applied to envoy/envoy.yaml, its ECDS resource served from a
/// file in `ecds_dir` (Envoy's file-based extension config discovery stands in for Istio's ADS).
fn hold_headers_applied(config: &mut EnvoyConfig, ecds_dir: &Path) {
    let ef = one("envoyfilter-hold-headers.yaml");
    let resources: Vec<Value> = apply_envoy_filter(config, &ef)
        .into_iter()
        .map(|r| {
            let mut r = as_the_agent_hands_it_to_envoy(r);
            r["@type"] = json!("type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig");
            r
        })
        .collect();
    // xDS subscriptions need a node; a sidecar's, as Istio's bootstrap names it.
    config.doc["node"] = json!({
        "id": "sidecar~127.0.0.1~booking-agent-0.booking~booking.svc.cluster.local",
        "cluster": "booking-agent.booking"
    });
    let file = ecds_dir.join("ecds.json");
    fs::write(
        &file,
        serde_json::to_vec_pretty(&json!({"version_info": "1", "resources": resources})).unwrap(),
    )
    .unwrap();
    let mut found = 0;
    for f in config.http_filters() {
        if let Some(source) = f
            .get_mut("config_discovery")
            .and_then(|d| d.get_mut("config_source"))
            .and_then(Value::as_object_mut)
        {
            assert!(source.remove("ads").is_some(), "{f}");
            source.insert(
                "path_config_source".into(),
                json!({"path": file.to_str().unwrap()}),
            );
            found += 1;
        }
    }
    assert_eq!(found, 1);
}

/// The same, with the ECDS resource's filter config put inline: what Envoy runs once the ECDS
/// update arrived (so that `--mode validate` checks the Wasm config and loads the module).
fn hold_headers_inline(config: &mut EnvoyConfig) {
    let ef = one("envoyfilter-hold-headers.yaml");
    let resources = apply_envoy_filter(config, &ef);
    for f in config.http_filters() {
        if f.get("config_discovery").is_some() {
            let name = f["name"].clone();
            let r = resources
                .iter()
                .find(|r| r["name"] == name)
                .expect("its ECDS resource");
            let r = as_the_agent_hands_it_to_envoy(r.clone());
            *f = json!({"name": name, "typed_config": r["typed_config"]});
        }
    }
}

/// `envoy --mode validate` on `file`, from the tests' own directory.
fn envoy_validate(file: &Path) -> (bool, String) {
    crate::config::envoy_validate(file, &std::env::current_dir().unwrap())
}

/// envoy/envoy.yaml with its module and events file where a scratch directory has them.
fn shipped_in(dir: &Path) -> EnvoyConfig {
    let mut config = EnvoyConfig::shipped();
    config.localize(dir, 8000);
    config
}

#[test]
fn the_hold_headers_envoyfilter_applied_to_the_shipped_config_passes_envoy_validate() {
    let dir = Scratch::new();
    for (name, inline) in [("envoy-ecds.json", false), ("envoy-inline.json", true)] {
        let mut config = shipped_in(&dir.path);
        if inline {
            hold_headers_inline(&mut config);
        } else {
            hold_headers_applied(&mut config, &dir.path);
        }
        // Inserted before the router, with the flag the EnvoyFilter exists for.
        let names: Vec<String> = config
            .http_filters()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names.last().unwrap(), "envoy.filters.http.router");
        assert_eq!(names[names.len() - 2], "iatp-hold-headers", "{names:?}");
        let path = dir.path.join(name);
        config.write(&path);
        let (ok, text) = envoy_validate(&path);
        assert!(ok, "{name}:\n{text}");
    }
    // The inline form really reaches the filter: a configuration the filter refuses fails.
    let mut config = shipped_in(&dir.path);
    hold_headers_inline(&mut config);
    let wasm = config
        .http_filters()
        .iter_mut()
        .find(|f| f["name"] == "iatp-hold-headers")
        .unwrap();
    wasm["typed_config"]["config"]["configuration"]["value"] = json!("{\"polcy\": {}}");
    let path = dir.path.join("refused.json");
    config.write(&path);
    let (ok, text) = envoy_validate(&path);
    assert!(
        !ok && text.contains("configuration rejected: polcy"),
        "{text}"
    );
}

const SSN: &str = "123-45-6789";

#[test]
fn with_the_hold_headers_envoyfilter_a_blocked_request_never_reaches_the_agent() {
    let ecds = Scratch::new();
    let stack = Stack::builder()
        .envoy(|c| hold_headers_applied(c, &ecds.path))
        .start();
    // The filter came by extension config discovery, with the flag and hold_headers on.
    let dump: Value = admin_get(&stack, "/config_dump?resource=ecds_filters");
    let text = dump.to_string();
    assert!(text.contains("iatp-hold-headers"), "{text}");
    assert!(
        text.contains("\"allow_on_headers_stop_iteration\":true"),
        "{text}"
    );
    // Allowed: reaches the agent.
    let r = stack
        .send(Request::post("/book", r#"{"note": "hello"}"#).header("x-agent-trace-id", "ok-1"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(stack.agent_requests_for("ok-1").len(), 1);
    // A body the rule `ssn_to_permanent` blocks: decided before anything of the request, its
    // headers included, reaches the agent. (With istio/wasmplugin.yaml's `hold_headers: false`
    // its headers would have.)
    let trace = "held-ssn";
    let r = stack.send(
        Request::post("/book", format!(r#"{{"ssn": "{SSN}"}}"#)).header("x-agent-trace-id", trace),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("ssn_to_permanent"), "{}", r.text());
    stack.assert_never_reached_agent(trace);
}

fn admin_get(stack: &Stack, path: &str) -> Value {
    let r = Request::get(path).send(stack.envoy.admin);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

// ---- the events access log through the Telemetry API ----

/// The access log Istio builds for a workload from a Telemetry resource's `accessLogging` entry
/// and the `envoyFileAccessLog` provider it names (pilot/pkg/model/telemetry_logging.go
/// fileAccessLogFromTelemetry and fileAccessLogFormat: the text format, a newline appended when
/// missing; pilot/pkg/networking/core/accesslog.go buildAccessLogFilterFromTelemetry: the
/// filter's expression as Envoy's CEL access log filter).
fn access_log_as_istio_builds_it(telemetry: &Value, mesh: &Value, path: &Path) -> Value {
    let logging = &telemetry["spec"]["accessLogging"][0];
    let provider_name = &logging["providers"][0]["name"];
    let provider = mesh["meshConfig"]["extensionProviders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| &p["name"] == provider_name)
        .unwrap_or_else(|| panic!("no extension provider {provider_name}"));
    let file = &provider["envoyFileAccessLog"];
    // The keys this builder reads, and no other (a key it ignores would be a setting untested).
    let keys: Vec<&String> = file.as_object().unwrap().keys().collect();
    assert!(
        keys.iter()
            .all(|k| ["path", "logFormat"].contains(&k.as_str())),
        "{keys:?}"
    );
    let mut format = file["logFormat"]["text"].as_str().unwrap().to_string();
    if !format.ends_with('\n') {
        format.push('\n');
    }
    let mut log = json!({
        "name": "envoy.access_loggers.file",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
            "path": path.to_str().unwrap(),
            "log_format": {"text_format_source": {"inline_string": format}}
        }
    });
    if let Some(expression) = logging["filter"]["expression"].as_str() {
        log["filter"] = json!({"extension_filter": {
            "name": "envoy.access_loggers.extension_filters.cel",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter",
                "expression": expression
            }
        }});
    }
    log
}

#[test]
fn the_events_access_log_built_from_the_telemetry_resource_writes_only_event_lines() {
    let telemetry = one("telemetry-events.yaml");
    let mesh = one("meshconfig-events.yaml");
    assert_eq!(
        telemetry["spec"]["accessLogging"][0]["match"]["mode"],
        "SERVER"
    );
    assert_eq!(
        mesh["meshConfig"]["extensionProviders"][0]["envoyFileAccessLog"]["logFormat"]["text"],
        "%FILTER_STATE(wasm.iatp_events:PLAIN)%\n"
    );
    let stack = Stack::builder()
        .envoy(|c| {
            // Istio's access log in place of the shipped one (the harness points its path at the
            // stack's events file, as it does for the shipped one).
            let log = access_log_as_istio_builds_it(&telemetry, &mesh, Path::new("/dev/null"));
            let hcm = &mut c.doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"]
                [0]["typed_config"];
            hcm["access_log"] = json!([log]);
        })
        .start();
    let r = stack
        .send(Request::post("/book", r#"{"note": "hello"}"#).header("x-agent-trace-id", "t-ok"));
    assert_eq!(r.status, 200);
    let r = stack.send(
        Request::post("/book", format!(r#"{{"ssn": "{SSN}"}}"#))
            .header("x-agent-trace-id", "t-ssn"),
    );
    assert_eq!(r.status, 403);
    // A request Envoy refuses before any HTTP filter runs (a header name with a space): an
    // access log entry with no event lines, which the filter must keep out of the file.
    let refused = raw_exchange(
        &stack,
        b"GET /x HTTP/1.1\r\nhost: a\r\nbad header: 1\r\n\r\n",
    );
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
    let ok = stack.events_for("t-ok", 1);
    let blocked = stack.events_for("t-ssn", 2);
    assert_eq!(ok[0]["type"], "request");
    assert!(
        blocked.iter().any(|e| e["type"] == "blocked"),
        "{blocked:?}"
    );
    // Envoy logged the refused request too (its downstream_rq_4xx): wait until it has, then the
    // file must hold event lines only.
    wait_for_stat(&stack, "http.iatp_inbound.downstream_rq_4xx", 2);
    std::thread::sleep(Duration::from_millis(300));
    let text = read_text(&stack.events_path());
    for line in text.split_inclusive('\n') {
        let line = line
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("unterminated line in:\n{text}"));
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?} in:\n{text}"));
        assert!(v["type"].is_string() && v["hash"].is_string(), "{line}");
    }
    assert_eq!(text.lines().count(), stack.events().len());
}

/// Sends raw bytes on a new connection and returns what comes back until Envoy closes it.
fn raw_exchange(stack: &Stack, bytes: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(stack.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).to_string()
}

fn wait_for_stat(stack: &Stack, name: &str, at_least: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = Request::get(&format!("/stats?filter=^{name}$")).send(stack.envoy.admin);
        let value = r
            .text()
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!("{name}: "))
                    .map(|v| v.trim().parse::<u64>().unwrap())
            })
            .unwrap_or(0);
        if value >= at_least {
            return;
        }
        assert!(Instant::now() < deadline, "{name} stayed at {value}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
