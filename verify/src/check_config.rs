//! `iatp-check-config ENVOY_CONFIG`: the IATP filter's own checks on an Envoy configuration
//! (YAML or JSON), before it is deployed. `scripts/check-config.sh` runs Envoy's own
//! validation (`envoy --mode validate`) and then this.
//!
//! For every Wasm HTTP filter config (`envoy.extensions.filters.http.wasm.v3.Wasm`) that loads
//! this filter (a module file named `iatp_filter.wasm`, or `root_id: iatp`):
//!
//! * its `configuration` is parsed with the filter's own parser: an error names the key (or
//!   rule) and the position, as the filter's log would; the load-time warnings (rules that can
//!   never match, comparisons no request can change) are printed too;
//! * with `hold_headers` on (the default), `allow_on_headers_stop_iteration: true` must be set:
//!   without it Envoy never hands a request body to the filter and every request with a body
//!   hangs (an error);
//! * `failure_policy: FAIL_OPEN` (or `fail_open: true`) lets requests through unchecked when the
//!   filter cannot run (a warning);
//! * the listener's `per_connection_buffer_limit_bytes` (1 MiB when unset) below
//!   `limits.max_body_bytes`: Envoy answers a bare 413 before the filter can answer its own
//!   (a warning).
//!
//! A filter whose configuration is discovered from a file (extension config discovery, ECDS:
//! `config_discovery` with `config_source.path_config_source`, as envoy/envoy-ecds.yaml) is
//! checked with the resource in that file (the `TypedExtensionConfig` named like the filter),
//! read from a path relative to the current directory as Envoy reads it. A discovery response
//! file can also be checked on its own (`iatp-check-config envoy/ecds/iatp.yaml`: its Wasm
//! configuration, without a listener around it), e.g. before it is renamed into place.
//!
//! Output: one line per finding, `error: ...` or `warning: ...`, then a summary. Exit status: 0
//! without errors, 1 with errors (or no IATP filter at all), 2 on a usage error or a file that
//! cannot be read.

use std::process::ExitCode;

use iatp_core::config;
use iatp_core::held;
use serde_json::Value;

const WASM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const STRING_VALUE: &str = "type.googleapis.com/google.protobuf.StringValue";
/// Envoy's listener buffer limit when `per_connection_buffer_limit_bytes` is not set.
const DEFAULT_BUFFER_LIMIT: u64 = 1024 * 1024;

#[derive(Debug, PartialEq, Eq)]
enum Level {
    Error,
    Warning,
}

#[derive(Debug)]
struct Finding {
    level: Level,
    text: String,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file] = args.as_slice() else {
        eprintln!("usage: iatp-check-config ENVOY_CONFIG  (YAML or JSON)");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("iatp-check-config: {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut doc: Value = match serde_yaml_ng::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("iatp-check-config: {file}: not YAML or JSON: {e}");
            return ExitCode::from(2);
        }
    };
    let mut findings = discovery_response(&doc);
    findings.extend(inline_discovered(&mut doc, &|path| {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }));
    let (filters, more) = check(&doc);
    findings.extend(more);
    for f in &findings {
        let level = match f.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        println!("{level}: {file}: {}", f.text);
    }
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    println!(
        "{file}: {filters} IATP filter(s), {errors} error(s), {} warning(s)",
        findings.len() - errors
    );
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The type of an extension config discovery resource.
const TYPED_EXTENSION_CONFIG: &str =
    "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig";

/// A discovery response checked on its own (a file such as `envoy/ecds/iatp.yaml`, before it
/// is renamed into the watched directory): Envoy takes exactly one resource from it, a
/// `TypedExtensionConfig` named like the filter that discovers it (`config_discovery_impl.cc`,
/// `onConfigUpdate`), and refuses the update otherwise. The name is the Envoy configuration's:
/// one other than the shipped `iatp` is a warning.
fn discovery_response(doc: &Value) -> Vec<Finding> {
    let Some(resources) = doc.get("resources").and_then(Value::as_array) else {
        return Vec::new();
    };
    let error = |text: String| Finding {
        level: Level::Error,
        text,
    };
    if resources.len() != 1 {
        return vec![error(format!(
            "a discovery response with {} resources: Envoy takes exactly one and refuses the update otherwise (\"Unexpected number of resources\"), so the last good configuration would keep serving",
            resources.len()
        ))];
    }
    let mut out = Vec::new();
    for r in resources {
        if r["@type"] != TYPED_EXTENSION_CONFIG {
            out.push(error(format!(
                "the resource is of type {}, not {TYPED_EXTENSION_CONFIG}: Envoy refuses it",
                r["@type"]
            )));
        } else if r["name"] != "iatp" {
            out.push(Finding {
                level: Level::Warning,
                text: format!(
                    "the resource is named {}: Envoy applies it only to a filter discovering that name (`config_discovery` of the HTTP filter; `iatp` in envoy/envoy-ecds.yaml), and refuses it otherwise",
                    r["name"]
                ),
            });
        }
    }
    out
}

/// Writes the resource of every HTTP filter whose configuration is discovered from a file
/// (`config_discovery.config_source.path_config_source.path`, or the older
/// `config_source.path`) in place of its `config_discovery`, as Envoy does once it has read
/// the file: the discovery response's resource (a `TypedExtensionConfig`) named like the
/// filter. `read` reads a file. A file that cannot be read, or holds no such resource, is an
/// error; a filter discovered from a control plane is left as it is, with a warning.
fn inline_discovered(
    doc: &mut Value,
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    inline_in(doc, read, &mut out);
    out
}

fn inline_in(v: &mut Value, read: &dyn Fn(&str) -> Result<String, String>, out: &mut Vec<Finding>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(chain)) = m.get_mut("http_filters") {
                for filter in chain.iter_mut() {
                    if filter.get("config_discovery").is_some() {
                        inline_filter(filter, read, out);
                    }
                }
            }
            m.values_mut().for_each(|x| inline_in(x, read, out));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| inline_in(x, read, out)),
        _ => {}
    }
}

fn inline_filter(
    filter: &mut Value,
    read: &dyn Fn(&str) -> Result<String, String>,
    out: &mut Vec<Finding>,
) {
    let name = filter["name"].as_str().unwrap_or_default().to_string();
    let source = &filter["config_discovery"]["config_source"];
    let Some(path) = source["path_config_source"]["path"]
        .as_str()
        .or_else(|| source["path"].as_str())
        .map(str::to_string)
    else {
        out.push(Finding {
            level: Level::Warning,
            text: format!("HTTP filter '{name}': its configuration is discovered from a control plane (`config_discovery`) and is not checked here; check the resource itself (a file holding it: iatp-check-config FILE)"),
        });
        return;
    };
    let mut error = |text: String| {
        out.push(Finding {
            level: Level::Error,
            text: format!(
                "HTTP filter '{name}': its configuration is discovered from {path}: {text}"
            ),
        });
    };
    let response: Value = match read(&path)
        .and_then(|t| serde_yaml_ng::from_str(&t).map_err(|e| format!("not YAML or JSON: {e}")))
    {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let resources = response["resources"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if resources.len() > 1 {
        return error(format!(
            "it holds {} resources; Envoy takes exactly one from a discovery file and refuses the update otherwise (\"Unexpected number of resources\"), so the last good configuration would keep serving",
            resources.len()
        ));
    }
    let Some(resource) = resources.iter().find(|r| r["name"] == name.as_str()) else {
        return error(format!(
            "it holds no resource named '{name}' (a TypedExtensionConfig under `resources`, named like the filter)"
        ));
    };
    *filter = serde_json::json!({"name": name, "typed_config": resource["typed_config"]});
}

/// How many IATP filters the document has, and what is wrong with them.
fn check(doc: &Value) -> (usize, Vec<Finding>) {
    let mut found = Vec::new();
    wasm_configs(doc, String::new(), None, &mut found);
    let mut findings = Vec::new();
    let mut filters = 0;
    for (path, wasm, listener) in found {
        if !is_iatp(wasm) {
            continue;
        }
        filters += 1;
        check_filter(&path, wasm, listener, &mut findings);
    }
    decompressors(doc, &mut findings);
    if filters == 0 {
        findings.push(Finding {
            level: Level::Error,
            text: "no Wasm filter that loads iatp_filter.wasm (or has root_id `iatp`)".into(),
        });
    }
    (filters, findings)
}

/// The decompressor filter's typed config.
const DECOMPRESSOR_TYPE: &str =
    "type.googleapis.com/envoy.extensions.filters.http.decompressor.v3.Decompressor";

/// In every HTTP filter chain that runs this filter: which content codings Envoy's
/// decompressors undo ahead of it. A compressed request body the filter still sees is answered
/// 415 (never forwarded unscanned), so a missing decompressor is a warning, not an error.
fn decompressors(v: &Value, out: &mut Vec<Finding>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(chain)) = m.get("http_filters") {
                check_chain(chain, out);
            }
            m.values().for_each(|x| decompressors(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| decompressors(x, out)),
        _ => {}
    }
}

fn check_chain(chain: &[Value], out: &mut Vec<Finding>) {
    let typed = |f: &Value| f["typed_config"]["@type"].as_str().map(str::to_string);
    let Some(at) = chain.iter().position(|f| {
        typed(f).as_deref() == Some(WASM_TYPE) && is_iatp(&f["typed_config"]["config"])
    }) else {
        return;
    };
    let coding = |f: &Value| {
        let library = f["typed_config"]["decompressor_library"]["typed_config"]["@type"]
            .as_str()
            .unwrap_or_default();
        ["gzip", "brotli", "zstd"]
            .into_iter()
            .find(|c| library.contains(&format!(".compression.{c}.")))
    };
    // Whether the filter reads responses: then they must be decompressed on their way to it.
    let wasm = &chain
        .get(at)
        .map_or(&Value::Null, |f| &f["typed_config"]["config"]);
    let reads_responses = wasm["configuration"]["value"]
        .as_str()
        .and_then(|t| config::parse(t.as_bytes()).ok())
        .is_some_and(|p| p.responses.inspect);
    let enabled = |f: &Value, direction: &str| {
        f["typed_config"][direction]["common_config"]["enabled"]["default_value"] != false
    };
    let mut ahead = Vec::new();
    let mut behind = Vec::new();
    for (i, f) in chain.iter().enumerate() {
        if typed(f).as_deref() != Some(DECOMPRESSOR_TYPE) {
            continue;
        }
        let name = f["name"].as_str().unwrap_or("(unnamed)");
        let request = &f["typed_config"]["request_direction_config"]["common_config"];
        if i > at {
            // Encoder filters run in reverse: one after the filter decompresses responses
            // before the filter reads them, and requests only after the filter has seen them.
            if enabled(f, "request_direction_config") {
                out.push(Finding {
                    level: Level::Warning,
                    text: format!("decompressor '{name}' decompresses requests after the IATP filter: it must come before it (or have its request direction off), or the filter sees (and answers 415 to) the compressed body"),
                });
            }
            if enabled(f, "response_direction_config") {
                behind.extend(coding(f));
            }
            continue;
        }
        if reads_responses && enabled(f, "response_direction_config") {
            out.push(Finding {
                level: Level::Warning,
                text: format!("decompressor '{name}' decompresses responses before the IATP filter in the list, which is after it on the way back: the filter sees compressed responses (and answers 502); turn its response direction off and decompress responses after the filter (see envoy/envoy.yaml)"),
            });
        }
        if request["enabled"]["default_value"] == false {
            continue;
        }
        if request["ignore_no_transform_header"] != true {
            out.push(Finding {
                level: Level::Warning,
                text: format!("decompressor '{name}': without `ignore_no_transform_header: true` a caller's `Cache-Control: no-transform` turns it off (the filter then answers 415)"),
            });
        }
        ahead.extend(coding(f));
    }
    let missing: Vec<&str> = ["gzip", "brotli", "zstd"]
        .into_iter()
        .filter(|c| !ahead.contains(c))
        .collect();
    if !missing.is_empty() {
        out.push(Finding {
            level: Level::Warning,
            text: format!("no request decompressor for {} ahead of the IATP filter: request bodies in those codings are answered 415 (see envoy/envoy.yaml)", missing.join(", ")),
        });
    }
    let missing: Vec<&str> = ["gzip", "brotli", "zstd"]
        .into_iter()
        .filter(|c| !behind.contains(c))
        .collect();
    if reads_responses && !missing.is_empty() {
        out.push(Finding {
            level: Level::Warning,
            text: format!("no response decompressor for {} after the IATP filter, which reads responses: responses in those codings are replaced by a 502 (see envoy/envoy.yaml)", missing.join(", ")),
        });
    }
}

/// The listener a filter is in: its name and buffer limit.
#[derive(Debug, Clone, Copy)]
struct Listener<'a> {
    name: &'a str,
    buffer_limit: u64,
}

/// Every Wasm HTTP filter config (the `config` inside a typed config of the Wasm type), with
/// its key path in the document and its listener, if any.
fn wasm_configs<'a>(
    v: &'a Value,
    path: String,
    listener: Option<Listener<'a>>,
    out: &mut Vec<(String, &'a Value, Option<Listener<'a>>)>,
) {
    match v {
        Value::Object(m) => {
            let listener = if m.contains_key("filter_chains") {
                Some(Listener {
                    name: m.get("name").and_then(Value::as_str).unwrap_or("(unnamed)"),
                    buffer_limit: m
                        .get("per_connection_buffer_limit_bytes")
                        .and_then(integer)
                        .unwrap_or(DEFAULT_BUFFER_LIMIT),
                })
            } else {
                listener
            };
            if m.get("@type").and_then(Value::as_str) == Some(WASM_TYPE) {
                if let Some(config) = m.get("config") {
                    out.push((format!("{path}.config"), config, listener));
                }
            }
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                wasm_configs(x, p, listener, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                wasm_configs(x, format!("{path}[{i}]"), listener, out);
            }
        }
        _ => {}
    }
}

/// A number, or a number in a string (protobuf's JSON mapping writes 64-bit integers so).
fn integer(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Whether a Wasm filter config loads this filter.
fn is_iatp(wasm: &Value) -> bool {
    let code = &wasm["vm_config"]["code"];
    let module = code["local"]["filename"]
        .as_str()
        .or_else(|| code["remote"]["http_uri"]["uri"].as_str())
        .unwrap_or_default();
    module.rsplit('/').next() == Some("iatp_filter.wasm") || wasm["root_id"] == "iatp"
}

fn check_filter(path: &str, wasm: &Value, listener: Option<Listener>, out: &mut Vec<Finding>) {
    let name = wasm["name"].as_str().unwrap_or("(unnamed)");
    let at = format!("Wasm filter '{name}' ({path})");
    let mut finding = |level, text: String| out.push(Finding { level, text });
    let configuration = &wasm["configuration"];
    let text = match (configuration["@type"].as_str(), &configuration["value"]) {
        (None, Value::Null) => "",
        (Some(STRING_VALUE), Value::String(s)) => s.as_str(),
        _ => {
            finding(
                Level::Error,
                format!("{at}: `configuration` must be a {STRING_VALUE} holding the filter's JSON configuration"),
            );
            return;
        }
    };
    let policy = match config::parse(text.as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            finding(Level::Error, format!("{at}: configuration rejected: {e}"));
            return;
        }
    };
    for note in &policy.notes {
        finding(Level::Warning, format!("{at}: {note}"));
    }
    if policy.hold_headers && wasm["allow_on_headers_stop_iteration"] != true {
        finding(
            Level::Error,
            format!(
                "{at}: `allow_on_headers_stop_iteration` is not true while the configuration holds request headers (`hold_headers`, on by default): Envoy would never hand a request body to the filter, and every request with a body would hang. To fix: {}",
                held::FIX
            ),
        );
    }
    if wasm["failure_policy"] == "FAIL_OPEN" || wasm["fail_open"] == true {
        finding(
            Level::Warning,
            format!("{at}: the failure policy is fail-open: when the filter cannot run, requests go through unchecked; use `failure_policy: FAIL_CLOSED`"),
        );
    }
    // The base's limit, then each profile's: a route's profile may take larger bodies.
    let limits = std::iter::once(("`limits.max_body_bytes`".to_string(), policy.max_body_bytes))
        .chain(policy.profiles.iter().map(|(name, p)| {
            (
                format!("`profiles.{name}.limits.max_body_bytes`"),
                p.max_body_bytes,
            )
        }));
    for (key, limit) in limits {
        if let Some(l) = listener.filter(|l| l.buffer_limit < limit) {
            finding(
                Level::Warning,
                format!(
                    "{at}: listener '{}' buffers at most {} bytes per connection (`per_connection_buffer_limit_bytes`; 1048576 when unset), less than {key} {limit}: Envoy answers a bare 413 to larger bodies before the filter can answer its own; set the listener's limit above it",
                    l.name, l.buffer_limit
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PLUGIN: &str = r#"{"manifest": {"identity": {"agent_id": "a"}, "privacy": {"retention": "ephemeral"}}, "agent_card": {"url": "https://a.example/"}, "policy": {"allow_override": false, "block_rules": []}}"#;

    fn envoy(wasm: Value) -> Value {
        json!({"static_resources": {"listeners": [{
            "name": "in",
            "per_connection_buffer_limit_bytes": 16777216,
            "filter_chains": [{"filters": [{"typed_config": {"http_filters": [
                decompressor("gzip"), decompressor("brotli"), decompressor("zstd"),
                {"name": "envoy.filters.http.wasm", "typed_config": {"@type": WASM_TYPE, "config": wasm}}
            ]}}]}]
        }]}})
    }

    fn decompressor(coding: &str) -> Value {
        json!({"name": format!("d.{coding}"), "typed_config": {
            "@type": DECOMPRESSOR_TYPE,
            "decompressor_library": {"name": coding, "typed_config": {
                "@type": format!("type.googleapis.com/envoy.extensions.compression.{coding}.decompressor.v3.X")}},
            "request_direction_config": {"common_config": {"ignore_no_transform_header": true}}
        }})
    }

    fn chain(doc: &mut Value) -> &mut Vec<Value> {
        doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
            ["http_filters"]
            .as_array_mut()
            .unwrap()
    }

    /// A filter that reads responses needs them decompressed on their way to it: response
    /// decompressors after it in the list (encoder filters run in reverse).
    #[test]
    fn a_filter_that_reads_responses_needs_response_decompressors_after_it() {
        let reads = r#"{"manifest": {"identity": {"agent_id": "a"}, "privacy": {"retention": "ephemeral"}}, "agent_card": {"url": "https://a.example/"}, "policy": {"allow_override": false, "block_rules": [{"name": "r", "condition": "response_has_email", "action": "redact"}]}}"#;
        let mut doc = envoy(wasm(reads));
        let t = texts(&doc);
        assert!(
            t.iter()
                .any(|l| l.contains("'d.gzip' decompresses responses before")),
            "{t:?}"
        );
        assert!(
            t.iter()
                .any(|l| l.contains("no response decompressor for gzip, brotli, zstd after")),
            "{t:?}"
        );
        // Request-only decompressors first, response-only ones after: nothing to say.
        for f in chain(&mut doc).iter_mut() {
            f["typed_config"]["response_direction_config"] =
                json!({"common_config": {"enabled": {"default_value": false, "runtime_key": "k"}}});
        }
        for coding in ["gzip", "brotli", "zstd"] {
            let mut d = decompressor(coding);
            d["typed_config"]["request_direction_config"] =
                json!({"common_config": {"enabled": {"default_value": false, "runtime_key": "k"}}});
            chain(&mut doc).push(d);
        }
        assert_eq!(texts(&doc), Vec::<String>::new());
    }

    #[test]
    fn decompressors_must_come_first_for_every_coding() {
        let mut doc = envoy(wasm(PLUGIN));
        chain(&mut doc).remove(1);
        assert_eq!(
            texts(&doc),
            vec!["Warning: no request decompressor for brotli ahead of the IATP filter: request bodies in those codings are answered 415 (see envoy/envoy.yaml)"]
        );
        let mut doc = envoy(wasm(PLUGIN));
        let gzip = chain(&mut doc).remove(0);
        chain(&mut doc).push(gzip);
        let t = texts(&doc);
        assert!(
            t.iter()
                .any(|l| l.contains("'d.gzip' decompresses requests after the IATP filter")),
            "{t:?}"
        );
        assert!(
            t.iter()
                .any(|l| l.contains("no request decompressor for gzip")),
            "{t:?}"
        );
        let mut doc = envoy(wasm(PLUGIN));
        chain(&mut doc)[2]["typed_config"]["request_direction_config"] = json!({});
        let t = texts(&doc);
        assert!(
            t.iter()
                .any(|l| l.contains("'d.zstd': without `ignore_no_transform_header")),
            "{t:?}"
        );
    }

    fn wasm(plugin: &str) -> Value {
        json!({
            "name": "iatp", "root_id": "iatp", "allow_on_headers_stop_iteration": true,
            "failure_policy": "FAIL_CLOSED",
            "vm_config": {"code": {"local": {"filename": "target/iatp_filter.wasm"}}},
            "configuration": {"@type": STRING_VALUE, "value": plugin}
        })
    }

    fn texts(doc: &Value) -> Vec<String> {
        check(doc)
            .1
            .into_iter()
            .map(|f| format!("{:?}: {}", f.level, f.text))
            .collect()
    }

    #[test]
    fn a_good_config_has_no_findings() {
        assert_eq!(check(&envoy(wasm(PLUGIN))).0, 1);
        assert_eq!(texts(&envoy(wasm(PLUGIN))), Vec::<String>::new());
    }

    #[test]
    fn holding_headers_needs_the_flag() {
        let mut w = wasm(PLUGIN);
        w.as_object_mut()
            .unwrap()
            .remove("allow_on_headers_stop_iteration");
        let t = texts(&envoy(w.clone()));
        assert_eq!(t.len(), 1, "{t:?}");
        assert!(t[0].starts_with("Error: Wasm filter 'iatp' (static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[3].typed_config.config): `allow_on_headers_stop_iteration` is not true"), "{t:?}");
        assert!(t[0].contains("\"hold_headers\": false"), "{t:?}");
        // Not needed when the filter does not hold headers.
        w["configuration"]["value"] = json!(PLUGIN.replacen('{', "{\"hold_headers\": false, ", 1));
        assert_eq!(texts(&envoy(w)), Vec::<String>::new());
    }

    #[test]
    fn the_plugin_configuration_is_the_filters() {
        let t = texts(&envoy(wasm(r#"{"mode": null}"#)));
        assert_eq!(t.len(), 1);
        assert!(t[0].ends_with("configuration rejected: mode (line 1, column 13): null is not a value here: leave the key out for its default, or give a value of its type"), "{t:?}");
        let plugin = PLUGIN.replace(
            "[]",
            r#"[{"name": "b", "condition": "path == 'book'", "action": "block"}]"#,
        );
        let t = texts(&envoy(wasm(&plugin)));
        assert_eq!(t.len(), 1);
        assert!(t[0].starts_with("Warning: "), "{t:?}");
        assert!(t[0].ends_with("policy.block_rules[0].condition of rule 'b', column 1: `path == 'book'` is false for every request: paths start with `/`"), "{t:?}");
        let mut w = wasm(PLUGIN);
        w.as_object_mut().unwrap().remove("configuration");
        assert!(texts(&envoy(w))[0]
            .contains("configuration rejected: (top level): the configuration is empty"));
        let mut w = wasm(PLUGIN);
        w["configuration"]["@type"] = json!("type.googleapis.com/google.protobuf.BytesValue");
        assert!(texts(&envoy(w))[0]
            .contains("must be a type.googleapis.com/google.protobuf.StringValue"));
    }

    #[test]
    fn a_discovery_file_holds_one_resource_of_its_type() {
        let one = json!({"@type": TYPED_EXTENSION_CONFIG, "name": "iatp",
                         "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                                          "config": wasm(PLUGIN)}});
        let texts = |doc: Value| -> Vec<String> {
            discovery_response(&doc)
                .into_iter()
                .map(|f| format!("{:?}: {}", f.level, f.text))
                .collect()
        };
        assert!(texts(json!({"resources": [one.clone()]})).is_empty());
        let t = texts(json!({"resources": [one.clone(), one.clone()]}));
        assert!(
            t[0].starts_with("Error: a discovery response with 2 resources"),
            "{t:?}"
        );
        let t = texts(json!({"resources": []}));
        assert!(
            t[0].starts_with("Error: a discovery response with 0 resources"),
            "{t:?}"
        );
        let mut other = one.clone();
        other["name"] = json!("iatpx");
        let t = texts(json!({"resources": [other]}));
        assert!(
            t[0].starts_with("Warning: the resource is named \"iatpx\""),
            "{t:?}"
        );
        let mut typed = one;
        typed["@type"] = json!("type.googleapis.com/google.protobuf.Struct");
        let t = texts(json!({"resources": [typed]}));
        assert!(t[0].starts_with("Error: the resource is of type"), "{t:?}");
        // An Envoy configuration is not a discovery response.
        assert!(texts(json!({"static_resources": {}})).is_empty());
    }

    #[test]
    fn a_profiles_body_limit_above_the_listeners_buffer_is_warned_about() {
        let mut plugin: serde_json::Value = serde_json::from_str(PLUGIN).unwrap();
        plugin["profiles"] = json!({"uploads": {"limits": {"max_body_bytes": 104857600}},
                                    "small": {"limits": {"max_body_bytes": 1000}}});
        let t = texts(&envoy(wasm(&plugin.to_string())));
        assert_eq!(t.len(), 1, "{t:?}");
        assert!(
            t[0].contains("less than `profiles.uploads.limits.max_body_bytes` 104857600"),
            "{t:?}"
        );
    }

    #[test]
    fn fail_open_and_a_small_buffer_are_warned_about() {
        let mut w = wasm(PLUGIN);
        w["failure_policy"] = json!("FAIL_OPEN");
        let mut doc = envoy(w);
        doc["static_resources"]["listeners"][0]
            .as_object_mut()
            .unwrap()
            .remove("per_connection_buffer_limit_bytes");
        let t = texts(&doc);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].contains("fail-open"), "{t:?}");
        assert!(
            t[1].contains("listener 'in' buffers at most 1048576 bytes"),
            "{t:?}"
        );
        assert!(t[1].contains("`limits.max_body_bytes` 10485760"), "{t:?}");
    }

    /// A filter discovered from a file (ECDS) is checked with the resource in that file, in
    /// its listener and chain; a file that is missing or lacks the resource is an error.
    #[test]
    fn a_filter_discovered_from_a_file_is_checked_with_the_files_resource() {
        let mut doc = envoy(wasm(PLUGIN));
        chain(&mut doc)[3] = json!({"name": "iatp", "config_discovery": {
            "config_source": {"path_config_source": {"path": "ecds/iatp.yaml",
                                                     "watched_directory": {"path": "ecds"}}},
            "type_urls": [WASM_TYPE]}});
        let response = |plugin: &str, name: &str| {
            json!({"resources": [{"@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
                "name": name, "typed_config": {"@type": WASM_TYPE, "config": wasm(plugin)}}]})
            .to_string()
        };
        let run = |doc: &Value, file: Result<String, String>| {
            let mut doc = doc.clone();
            let read = |path: &str| {
                assert_eq!(path, "ecds/iatp.yaml");
                file.clone()
            };
            let mut findings = inline_discovered(&mut doc, &read);
            let (n, more) = check(&doc);
            findings.extend(more);
            let texts: Vec<String> = findings
                .into_iter()
                .map(|f| format!("{:?}: {}", f.level, f.text))
                .collect();
            (n, texts)
        };
        assert_eq!(run(&doc, Ok(response(PLUGIN, "iatp"))), (1, vec![]));
        // The resource's configuration is the filter's: its errors are found...
        let (n, t) = run(&doc, Ok(response(r#"{"mode": null}"#, "iatp")));
        assert_eq!(n, 1);
        assert!(
            t.len() == 1 && t[0].contains("configuration rejected: mode (line 1, column 13)"),
            "{t:?}"
        );
        // ... and the listener around it is the Envoy configuration's.
        doc["static_resources"]["listeners"][0]
            .as_object_mut()
            .unwrap()
            .remove("per_connection_buffer_limit_bytes");
        let (_, t) = run(&doc, Ok(response(PLUGIN, "iatp")));
        assert!(
            t.len() == 1 && t[0].contains("listener 'in' buffers at most 1048576 bytes"),
            "{t:?}"
        );
        let (n, t) = run(&doc, Ok(response(PLUGIN, "other")));
        assert_eq!(n, 0);
        assert!(t[0].starts_with("Error: HTTP filter 'iatp': its configuration is discovered from ecds/iatp.yaml: it holds no resource named 'iatp'"), "{t:?}");
        let (_, t) = run(&doc, Err("No such file or directory (os error 2)".into()));
        assert!(
            t[0].ends_with("ecds/iatp.yaml: No such file or directory (os error 2)"),
            "{t:?}"
        );
        // From a control plane: not checked here, said so.
        chain(&mut doc)[3]["config_discovery"]["config_source"] = json!({"ads": {}});
        let (n, t) = run(&doc, Err("not read".into()));
        assert_eq!(n, 0);
        assert!(
            t[0].starts_with(
                "Warning: HTTP filter 'iatp': its configuration is discovered from a control plane"
            ),
            "{t:?}"
        );
    }

    #[test]
    fn other_wasm_filters_are_left_alone_and_none_is_an_error() {
        let mut w = wasm(PLUGIN);
        w["root_id"] = json!("other");
        w["vm_config"]["code"]["local"]["filename"] = json!("other.wasm");
        w["configuration"]["value"] = json!("not ours");
        let (n, f) = check(&envoy(w));
        assert_eq!(n, 0);
        assert_eq!(f.len(), 1);
        assert!(f[0]
            .text
            .starts_with("no Wasm filter that loads iatp_filter.wasm"));
    }
}
