//! The Envoy configuration the tests run: the shipped `envoy/envoy.yaml`, with free ports,
//! the test's own paths and (per test) its own plugin configuration swapped in. What the tests
//! prove is therefore what the repository ships.
//!
//! A configuration whose IATP filter is discovered (ECDS: an HTTP filter with
//! `config_discovery` reading a file, as envoy/envoy-ecds.yaml) carries the discovered
//! resource too (`EnvoyConfig::ecds`): the plugin configuration is read and set there,
//! `localize` points the discovery at the test's directory and `write` writes the resource
//! there.

use std::fs;
use std::path::Path;

use serde_json::{json, Value};

use super::paths;

pub struct EnvoyConfig {
    pub doc: Value,
    /// The discovery response (one `TypedExtensionConfig`) the IATP filter's configuration is
    /// discovered from, when the configuration uses ECDS with a file (`path_config_source`).
    pub ecds: Option<Value>,
}

/// The `typed_config` type of the Wasm HTTP filter.
const WASM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";

impl EnvoyConfig {
    pub fn shipped() -> EnvoyConfig {
        EnvoyConfig::load(&paths::repo().join("envoy/envoy.yaml"))
    }

    /// The shipped envoy/envoy-gateway.yaml (issue 14's gateway mode).
    pub fn gateway() -> EnvoyConfig {
        EnvoyConfig::load(&paths::repo().join("envoy/envoy-gateway.yaml"))
    }

    pub fn load(path: &Path) -> EnvoyConfig {
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut config = EnvoyConfig { doc, ecds: None };
        // A discovered filter's file, relative to the repository root as Envoy reads it there.
        if let Some(source) = config.ecds_source() {
            let file =
                paths::repo().join(source["path"].as_str().expect("path_config_source.path"));
            let text =
                fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            config.ecds = Some(
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
            );
        }
        config
    }

    /// The `path_config_source` of the HTTP filter whose configuration is discovered (ECDS),
    /// if there is one.
    pub fn ecds_source(&mut self) -> Option<&mut Value> {
        let filters = self.http_filters();
        filters
            .iter_mut()
            .find(|f| f.get("config_discovery").is_some())
            .map(|f| &mut f["config_discovery"]["config_source"]["path_config_source"])
            .filter(|s| s.is_object())
    }

    /// The discovered HTTP filter's entry with its resource's configuration written in place of
    /// `config_discovery` (what Envoy runs once it has read the file): the configuration
    /// `envoy --mode validate` can check whole, since validation does not read discovered
    /// resources.
    pub fn with_ecds_inlined(&self) -> EnvoyConfig {
        let mut copy = EnvoyConfig {
            doc: self.doc.clone(),
            ecds: None,
        };
        let resource = &self.ecds.as_ref().expect("an ECDS configuration")["resources"][0];
        let filters = copy.http_filters();
        let filter = filters
            .iter_mut()
            .find(|f| f.get("config_discovery").is_some())
            .expect("a discovered HTTP filter");
        assert_eq!(
            filter["name"], resource["name"],
            "the discovered resource is named after the filter"
        );
        *filter = json!({"name": filter["name"], "typed_config": resource["typed_config"]});
        copy
    }

    fn hcm(&mut self) -> &mut Value {
        let filters = self.doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"]
            .as_array_mut()
            .expect("listener filters");
        &mut filters
            .iter_mut()
            .find(|f| f["name"] == "envoy.filters.network.http_connection_manager")
            .expect("http_connection_manager")["typed_config"]
    }

    /// The HTTP filters of the listener, in order.
    pub fn http_filters(&mut self) -> &mut Vec<Value> {
        self.hcm()["http_filters"]
            .as_array_mut()
            .expect("http_filters")
    }

    /// The `typed_config` of the first HTTP filter with this name (e.g.
    /// `envoy.filters.http.local_ratelimit`, `envoy.filters.http.jwt_authn`).
    pub fn http_filter(&mut self, name: &str) -> &mut Value {
        let filters = self.http_filters();
        &mut filters
            .iter_mut()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no HTTP filter {name}"))["typed_config"]
    }

    /// True when the configuration reads files under `certs/` (TLS certificates, a JWKS):
    /// the stack then makes them (`pki::Credentials`) in its directory.
    pub fn uses_certs(&self) -> bool {
        fn walk(v: &Value) -> bool {
            match v {
                Value::String(s) => s.starts_with("certs/"),
                Value::Array(a) => a.iter().any(walk),
                Value::Object(o) => o.values().any(walk),
                _ => false,
            }
        }
        walk(&self.doc)
    }

    /// The `config` of the Wasm HTTP filter (name, vm_config, configuration, ...): in the
    /// listener's filters, or in the discovered resource (ECDS).
    pub fn wasm(&mut self) -> &mut Value {
        match self.ecds {
            Some(ref mut ecds) => {
                let typed = &mut ecds["resources"][0]["typed_config"];
                assert_eq!(
                    typed["@type"], WASM_TYPE,
                    "the discovered resource is a Wasm filter"
                );
                &mut typed["config"]
            }
            None => {
                let filters = self.hcm()["http_filters"]
                    .as_array_mut()
                    .expect("http_filters");
                &mut filters
                    .iter_mut()
                    .find(|f| f["name"] == "envoy.filters.http.wasm")
                    .expect("the Wasm filter")["typed_config"]["config"]
            }
        }
    }

    /// True when the listener has an inline `envoy.filters.http.wasm` filter.
    pub fn has_inline_wasm(&mut self) -> bool {
        self.http_filters()
            .iter()
            .any(|f| f["name"] == "envoy.filters.http.wasm")
    }

    /// The plugin configuration (the JSON string inside the Wasm filter config).
    pub fn plugin_config(&mut self) -> String {
        self.wasm()["configuration"]["value"]
            .as_str()
            .expect("configuration.value string")
            .to_string()
    }

    pub fn set_plugin_config(&mut self, config: &str) {
        self.wasm()["configuration"]["value"] = json!(config);
    }

    pub fn enable_websocket(&mut self) {
        self.hcm()["upgrade_configs"] = json!([{"upgrade_type": "websocket"}]);
    }

    /// Points a cluster at a loopback port.
    pub fn set_cluster_port(&mut self, cluster: &str, port: u16) {
        let clusters = self.doc["static_resources"]["clusters"]
            .as_array_mut()
            .expect("clusters");
        let c = clusters
            .iter_mut()
            .find(|c| c["name"] == cluster)
            .unwrap_or_else(|| panic!("no cluster {cluster}"));
        c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
            ["socket_address"]["port_value"] = json!(port);
    }

    /// Adds a STATIC cluster `name` with one endpoint, `127.0.0.1:port` (HTTP/1.1, connect
    /// timeout 1 s), e.g. `moderation` for the filter's moderation callout. Panics when a
    /// cluster of that name exists.
    pub fn add_cluster(&mut self, name: &str, port: u16) {
        let clusters = self.doc["static_resources"]["clusters"]
            .as_array_mut()
            .expect("clusters");
        assert!(
            clusters.iter().all(|c| c["name"] != name),
            "a cluster {name} exists already"
        );
        clusters.push(json!({
            "name": name,
            "type": "STATIC",
            "connect_timeout": "1s",
            "load_assignment": {
                "cluster_name": name,
                "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address":
                    {"address": "127.0.0.1", "port_value": port}}}}]}]
            }
        }));
    }

    /// How often Envoy flushes stats (histograms show their values only after a flush).
    pub fn set_stats_flush_interval(&mut self, interval: &str) {
        self.doc["stats_flush_interval"] = json!(interval);
    }

    /// The timeout of the routes to the agent (those that forward: not the ones Envoy
    /// answers itself, such as `/healthz`).
    pub fn set_route_timeout(&mut self, timeout: &str) {
        let mut set = 0;
        for route in self.routes() {
            if route["route"]["cluster"] == "agent" {
                route["route"]["timeout"] = json!(timeout);
                set += 1;
            }
        }
        assert!(set > 0, "no route to the agent");
    }

    pub fn set_allow_headers_stop(&mut self, allow: bool) {
        self.wasm()["allow_on_headers_stop_iteration"] = json!(allow);
    }

    /// Free ports, absolute paths under `dir` (the events file; every `certs/...` file, as
    /// `pki::Credentials::make(dir)` lays them out), the agent's address.
    pub fn localize(&mut self, dir: &Path, agent_port: u16) {
        fn certs(v: &mut Value, dir: &Path) {
            match v {
                Value::String(s) if s.starts_with("certs/") => {
                    *s = dir.join(s.as_str()).to_str().unwrap().to_string();
                }
                Value::Array(a) => a.iter_mut().for_each(|v| certs(v, dir)),
                Value::Object(o) => o.values_mut().for_each(|v| certs(v, dir)),
                _ => {}
            }
        }
        certs(&mut self.doc, dir);
        let wasm = paths::wasm();
        self.doc["admin"]["address"]["socket_address"]["port_value"] = json!(0);
        self.doc["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] =
            json!(0);
        let clusters = self.doc["static_resources"]["clusters"]
            .as_array_mut()
            .expect("clusters");
        let agent = clusters
            .iter_mut()
            .find(|c| c["name"] == "agent")
            .expect("the agent cluster");
        agent["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
            ["socket_address"]["port_value"] = json!(agent_port);
        // The module is set where the Wasm filter is: inline, or in the discovered resource
        // this harness writes (envoy-ecds.yaml). The Istio EnvoyFilter tests' configuration
        // discovers a resource of its own and has neither.
        if self.has_inline_wasm() || self.ecds.is_some() {
            self.wasm()["vm_config"]["code"]["local"]["filename"] = json!(wasm.to_str().unwrap());
        }
        let events = dir.join("events.jsonl");
        let logs = self.hcm()["access_log"].as_array_mut().expect("access_log");
        let events_log = logs
            .iter_mut()
            .find(|l| {
                l["typed_config"]["log_format"]["text_format_source"]["inline_string"]
                    .as_str()
                    .is_some_and(|f| f.contains("wasm.iatp_events"))
            })
            .expect("an access log printing wasm.iatp_events");
        events_log["typed_config"]["path"] = json!(events.to_str().unwrap());
        // The discovered resource's file, when this harness writes it (a configuration that
        // discovers a resource of its own, as the Istio EnvoyFilter tests', keeps its path).
        if let Some(source) = self.ecds.is_some().then(|| self.ecds_source()).flatten() {
            let ecds = dir.join("ecds");
            source["path"] = json!(ecds.join("iatp.yaml").to_str().unwrap());
            source["watched_directory"]["path"] = json!(ecds.to_str().unwrap());
        }
    }

    /// A cluster of `static_resources` by name.
    pub fn cluster(&mut self, name: &str) -> &mut Value {
        self.doc["static_resources"]["clusters"]
            .as_array_mut()
            .expect("clusters")
            .iter_mut()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no cluster {name}"))
    }

    /// The routes of the first listener's first virtual host, in order.
    pub fn routes(&mut self) -> &mut Vec<Value> {
        self.hcm()["route_config"]["virtual_hosts"][0]["routes"]
            .as_array_mut()
            .expect("routes")
    }

    /// Adds a first route to the first listener's first virtual host: requests carrying
    /// `header` (any value) go to `cluster`, the header removed. For tests of the Envoy side
    /// only (e.g. a client doing what the filter's manifest fetch does, through
    /// `iatp_manifests`).
    pub fn add_test_route_to(&mut self, header: &str, cluster: &str) {
        let routes = self.hcm()["route_config"]["virtual_hosts"][0]["routes"]
            .as_array_mut()
            .expect("routes");
        routes.insert(
            0,
            json!({
                "match": {"prefix": "/", "headers": [{"name": header, "present_match": true}]},
                "route": {"cluster": cluster, "timeout": "10s"},
                "request_headers_to_remove": [header]
            }),
        );
    }

    /// envoy-gateway.yaml for a test: free ports (admin, the gateway listener), the events file
    /// under `dir`, the Wasm filter loading `wasm` (when there is a Wasm filter), `ca` as the
    /// trust anchor of `dfp_https` (instead of the system's bundle), and the `control_plane`
    /// cluster on `127.0.0.1:control_plane` when given.
    pub fn localize_gateway(
        &mut self,
        dir: &Path,
        wasm: Option<&Path>,
        ca: &Path,
        control_plane: Option<u16>,
    ) {
        self.doc["admin"]["address"]["socket_address"]["port_value"] = json!(0);
        self.doc["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] =
            json!(0);
        if let Some(wasm) = wasm {
            self.wasm()["vm_config"]["code"]["local"]["filename"] = json!(wasm.to_str().unwrap());
        }
        self.cluster("dfp_https")["transport_socket"]["typed_config"]["common_tls_context"]
            ["validation_context"]["trusted_ca"]["filename"] = json!(ca.to_str().unwrap());
        if let Some(port) = control_plane {
            self.set_cluster_port("control_plane", port);
        }
        let events = dir.join("events.jsonl");
        let logs = self.hcm()["access_log"].as_array_mut().expect("access_log");
        let events_log = logs
            .iter_mut()
            .find(|l| {
                l["typed_config"]["@type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("FileAccessLog"))
            })
            .expect("a file access log");
        events_log["typed_config"]["path"] = json!(events.to_str().unwrap());
    }

    /// Removes `resolved_address_filter` from every `dns_cache_config` (the filter and the
    /// clusters repeat the cache's configuration; all copies must stay equal): the shipped
    /// gateway refuses loopback addresses, where the test's targets listen.
    pub fn allow_loopback_targets(&mut self) {
        fn walk(v: &mut Value) {
            match v {
                Value::Object(o) => {
                    if let Some(Value::Object(cache)) = o.get_mut("dns_cache_config") {
                        cache.remove("resolved_address_filter");
                    }
                    o.values_mut().for_each(walk);
                }
                Value::Array(a) => a.iter_mut().for_each(walk),
                _ => {}
            }
        }
        walk(&mut self.doc);
    }

    /// Writes the configuration to `path`, and the discovered resource (ECDS) where the
    /// configuration reads it once `localize` made that path absolute.
    pub fn write(&self, path: &Path) {
        fs::write(path, serde_json::to_vec_pretty(&self.doc).unwrap()).unwrap();
        let filters = self.doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|f| {
                f["typed_config"]["http_filters"]
                    .as_array()
                    .into_iter()
                    .flatten()
            });
        let ecds_file = filters
            .filter_map(|f| {
                f["config_discovery"]["config_source"]["path_config_source"]["path"].as_str()
            })
            .map(std::path::PathBuf::from)
            .find(|p| p.is_absolute());
        if let (Some(file), Some(ecds)) = (ecds_file, &self.ecds) {
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(&file, serde_json::to_vec_pretty(ecds).unwrap()).unwrap();
        }
    }
}
