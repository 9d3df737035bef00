//! A structural OpenAPI v3 checker for Kubernetes CRD schemas, enough to tell whether a
//! resource would be admitted: types, unknown fields, required fields, enums, lengths, ranges,
//! patterns, `anyOf`/`oneOf`/`not`, and the CEL rules (`x-kubernetes-validations`) of Istio's
//! CRDs. A CEL rule this checker does not know is an error, never a silent pass.

use regex_lite::Regex;
use serde_json::Value;

/// The `spec` schema of one of the CRDs vendored in `istio/crds/`.
pub fn spec_schema(file: &str) -> Value {
    let path = crate::harness::paths::repo().join("istio/crds").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let crd: Value = serde_yaml::from_str(&text).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"].clone()
}

/// The `spec` schema of the given API version (e.g. `v1`) of a CRD vendored in `istio/crds/`,
/// or None when the CRD does not serve that version.
pub fn spec_schema_of_version(file: &str, version: &str) -> Option<Value> {
    let path = crate::harness::paths::repo().join("istio/crds").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let crd: Value = serde_yaml::from_str(&text).unwrap();
    crd["spec"]["versions"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == version && v["served"] == true)
        .map(|v| v["schema"]["openAPIV3Schema"]["properties"]["spec"].clone())
}

/// The group (`extensions.istio.io`) and kind of a CRD vendored in `istio/crds/`.
pub fn group_and_kind(file: &str) -> (String, String) {
    let path = crate::harness::paths::repo().join("istio/crds").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let crd: Value = serde_yaml::from_str(&text).unwrap();
    (
        crd["spec"]["group"].as_str().unwrap().to_string(),
        crd["spec"]["names"]["kind"].as_str().unwrap().to_string(),
    )
}

pub fn validate(schema: &Value, doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, doc, "spec", &mut errors);
    errors
}

fn check(schema: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    let mut err = |m: String| errs.push(format!("{path}: {m}"));
    if v.is_null() && schema["nullable"] == true {
        return;
    }
    let int_or_string = schema["x-kubernetes-int-or-string"] == true;
    if let Some(ty) = schema["type"].as_str() {
        let ok = match ty {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string() || (int_or_string && v.is_i64()),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            other => {
                err(format!(
                    "schema type {other} is not supported by this checker"
                ));
                return;
            }
        };
        if !ok {
            err(format!("expected {ty}, got {v}"));
            return;
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        if !values.contains(v) {
            err(format!("{v} is not one of {values:?}"));
        }
    }
    if let Some(s) = v.as_str() {
        let n = s.chars().count() as u64;
        if schema["minLength"].as_u64().is_some_and(|m| n < m) {
            err(format!("shorter than minLength {}", schema["minLength"]));
        }
        if schema["maxLength"].as_u64().is_some_and(|m| n > m) {
            err(format!("longer than maxLength {}", schema["maxLength"]));
        }
        if let Some(p) = schema["pattern"].as_str() {
            let re = Regex::new(p).unwrap_or_else(|e| panic!("pattern {p}: {e}"));
            if !re.is_match(s) {
                err(format!("{s:?} does not match {p}"));
            }
        }
    }
    if let Some(n) = v.as_f64() {
        if schema["minimum"].as_f64().is_some_and(|m| n < m) {
            err(format!("below minimum {}", schema["minimum"]));
        }
        if schema["maximum"].as_f64().is_some_and(|m| n > m) {
            err(format!("above maximum {}", schema["maximum"]));
        }
        if schema["format"] == "int32" && (n < i32::MIN as f64 || n > i32::MAX as f64) {
            err("out of int32 range".into());
        }
    }
    if let Some(items) = v.as_array() {
        if schema["maxItems"]
            .as_u64()
            .is_some_and(|m| items.len() as u64 > m)
        {
            err(format!("more than maxItems {}", schema["maxItems"]));
        }
        if schema["minItems"]
            .as_u64()
            .is_some_and(|m| (items.len() as u64) < m)
        {
            err(format!("fewer than minItems {}", schema["minItems"]));
        }
        for (i, item) in items.iter().enumerate() {
            check(&schema["items"], item, &format!("{path}[{i}]"), errs);
        }
    }
    if let Some(obj) = v.as_object() {
        for key in schema["required"].as_array().into_iter().flatten() {
            if !obj.contains_key(key.as_str().unwrap_or_default()) {
                errs.push(format!("{path}: missing required field {key}"));
            }
        }
        if schema["maxProperties"]
            .as_u64()
            .is_some_and(|m| obj.len() as u64 > m)
        {
            errs.push(format!("{path}: more than maxProperties"));
        }
        let preserve = schema["x-kubernetes-preserve-unknown-fields"] == true;
        // Only a schema of type object decides which fields exist (Kubernetes prunes by the
        // structural schema); a branch of `oneOf`/`anyOf`/`not`, such as EnvoyFilter's
        // `{required: [listener]}`, has no type and only checks what it names.
        let declares_fields = schema["type"] == "object";
        for (k, item) in obj {
            let child = format!("{path}.{k}");
            if let Some(s) = schema["properties"].get(k) {
                check(s, item, &child, errs);
            } else if schema["additionalProperties"].is_object() {
                check(&schema["additionalProperties"], item, &child, errs);
            } else if declares_fields && !preserve {
                errs.push(format!("{child}: unknown field"));
            }
        }
    }
    for (kw, need) in [("anyOf", 1..=usize::MAX), ("oneOf", 1..=1)] {
        if let Some(branches) = schema[kw].as_array() {
            let passing = branches
                .iter()
                .filter(|b| {
                    let mut e = Vec::new();
                    check(b, v, path, &mut e);
                    e.is_empty()
                })
                .count();
            if !need.contains(&passing) {
                errs.push(format!("{path}: {passing} branch(es) of {kw} match"));
            }
        }
    }
    if schema["not"].is_object() {
        let mut e = Vec::new();
        check(&schema["not"], v, path, &mut e);
        if e.is_empty() {
            errs.push(format!("{path}: matches a `not` schema"));
        }
    }
    for rule in schema["x-kubernetes-validations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let text = rule["rule"].as_str().unwrap_or_default();
        match cel(text, v) {
            Some(true) => {}
            Some(false) => errs.push(format!("{path}: {}", rule["message"])),
            None => errs.push(format!(
                "{path}: CEL rule not supported by this checker: {text}"
            )),
        }
    }
}

/// The CEL rules of Istio's WasmPlugin, TrafficExtension, EnvoyFilter and Telemetry CRDs that the
/// resources in `istio/` reach, by their exact text.
fn cel(rule: &str, v: &Value) -> Option<bool> {
    let has = |k: &str| v.get(k).is_some();
    let norm: String = rule.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(match norm.as_str() {
        "(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1" => {
            usize::from(has("selector")) + usize::from(has("targetRef")) + usize::from(has("targetRefs")) <= 1
        }
        "(has(self.selector) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1" => {
            usize::from(has("selector")) + usize::from(has("targetRefs")) <= 1
        }
        "(has(self.workloadSelector) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1" => {
            usize::from(has("workloadSelector")) + usize::from(has("targetRefs")) <= 1
        }
        "has(self.wasm) != has(self.lua)" => has("wasm") != has("lua"),
        // EnvoyFilter's EnvoyConfigObjectMatch: `waypoint` only with the WAYPOINT context.
        r#"has(self.context) ? ((self.context == "WAYPOINT") ? has(self.waypoint) : !has(self.waypoint)) : !has(self.waypoint)"# => {
            if v.get("context").and_then(Value::as_str) == Some("WAYPOINT") {
                has("waypoint")
            } else {
                !has("waypoint")
            }
        }
        "0 < self && self <= 65535" => v.as_i64().is_some_and(|n| 0 < n && n <= 65535),
        "!self.contains(\"*\")" => !v.as_str()?.contains('*'),
        "self.all(key, !key.contains(\"*\"))" => v.as_object()?.keys().all(|k| !k.contains('*')),
        "self.all(key, key.size() != 0)" => v.as_object()?.keys().all(|k| !k.is_empty()),
        "self.size() == 0" => v.as_str()?.is_empty(),
        "(has(self.valueFrom) ? self.valueFrom : \"\") != \"HOST\" || !has(self.value)" => {
            v.get("valueFrom").and_then(Value::as_str) != Some("HOST") || !has("value")
        }
        // WasmPlugin's and TrafficExtension's rules (the same schemes, in another order).
        r#"isURL(self) ? (url(self).getScheme() in ["", "http", "https", "oci", "file"]) : (isURL("http://" + self) && url("http://" + self).getScheme() in ["", "http", "https", "oci", "file"])"#
        | r#"isURL(self) ? (url(self).getScheme() in ["", "http", "https", "file", "oci"]) : (isURL("http://" + self) && url("http://" + self).getScheme() in ["", "http", "https", "file", "oci"])"# => {
            let s = v.as_str()?;
            match s.split_once("://") {
                Some((scheme, rest)) => {
                    ["http", "https", "oci", "file"].contains(&scheme) && !rest.is_empty()
                }
                None => !s.is_empty() && !s.contains(' '),
            }
        }
        _ => return None,
    })
}

#[test]
fn the_checker_rejects_what_the_crd_rejects() {
    let crd = spec_schema("wasmplugin-crd.yaml");
    let schema = &crd;
    let ok: Value = serde_json::json!({"url": "oci://r/x:1", "phase": "AUTHZ"});
    assert_eq!(validate(schema, &ok), Vec::<String>::new());
    for bad in [
        serde_json::json!({"phase": "AUTHZ"}),
        serde_json::json!({"url": "oci://r/x:1", "phase": "LATE"}),
        serde_json::json!({"url": "oci://r/x:1", "colour": "blue"}),
        serde_json::json!({"url": "ftp://r/x"}),
        serde_json::json!({"url": "oci://r/x", "sha256": "abc"}),
        serde_json::json!({"url": "oci://r/x", "selector": {"matchLabels": {"a": "b"}}, "targetRef": {"kind": "Gateway", "name": "g"}}),
        serde_json::json!({"url": "oci://r/x", "match": [{"ports": [{"number": 70000}]}]}),
        serde_json::json!({"url": "oci://r/x", "selector": {"matchLabels": {"a": "b*"}}}),
    ] {
        assert!(!validate(schema, &bad).is_empty(), "accepted {bad}");
    }
}
