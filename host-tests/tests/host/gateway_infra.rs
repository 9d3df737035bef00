//! The Envoy side of the gateway mode (issue 14), without the IATP filter's decisions: the
//! shipped envoy/envoy-gateway.yaml with the no-op proxy-wasm module in the Wasm filter's place,
//! and a client setting what the filter will set (`Host`, `x-iatp-target-scheme`). Proves the
//! routes, the dynamic forward proxy (IP literals and `localhost`), the HTTPS cluster's server
//! name and certificate checks, the internal listener behind `iatp_manifests`, and the mocks
//! the gateway tests use (target agents, control plane, attestation signing).

use serde_json::{json, Value};

use crate::harness::gateway::SCHEME_HEADER;
use crate::harness::{paths, AttestationKeys, Gateway, GatewayFilter, Request, TargetSpec};

fn noop() -> GatewayFilter {
    GatewayFilter::Module(paths::noop_wasm())
}

/// The echo of the request a target received (its answer through Envoy).
fn echo(r: &crate::harness::Response) -> Value {
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[test]
fn client_set_host_and_scheme_route_each_request_to_its_target_and_the_scheme_header_stays_in_envoy(
) {
    let gw = Gateway::builder()
        .filter(noop())
        .http_targets(2)
        .https_target()
        .start();
    assert_eq!(gw.targets.len(), 3);
    for t in &gw.targets {
        let e = echo(&gw.direct(t, Request::get("/v1/chat?x=1").header("x-probe", &t.name)));
        assert_eq!(e["agent"], t.name.as_str(), "{e}");
        assert_eq!(e["path"], "/v1/chat?x=1");
        assert_eq!(e["headers"]["host"], t.authority().as_str());
        assert_eq!(e["headers"]["x-probe"], t.name.as_str());
        assert!(
            e["headers"].get(SCHEME_HEADER).is_none(),
            "{SCHEME_HEADER} reached the target: {e}"
        );
        // The router adds no x-envoy-* header on its way out (suppress_envoy_headers).
        let names: Vec<&String> = e["headers"].as_object().unwrap().keys().collect();
        assert!(
            names.iter().all(|n| !n.starts_with("x-envoy-")),
            "{names:?}"
        );
        assert_eq!(e["tls"], t.tls, "{e}");
        if t.tls {
            // auto_sni: the name the client asked for is the TLS server name.
            assert_eq!(e["sni"], "localhost", "{e}");
        }
        assert_eq!(t.count("/v1/chat"), 1, "{}", t.name);
    }
    // An IP literal and a name both went through the DNS cache.
    assert_eq!(gw.stat("dns_cache.iatp_dfp.host_added"), 3);
    assert_eq!(gw.stat("dns_cache.iatp_dfp.dns_query_failure"), 0);
    // Without x-iatp-target-scheme: plain HTTP (dfp_http), whatever the port.
    let plain = gw.target(0);
    let e = echo(&gw.send(Request::get("/no-scheme").header("host", plain.authority())));
    assert_eq!(e["agent"], plain.name.as_str());
    // The header's value is matched exactly: `HTTPS` is not `https` (the filter writes lower
    // case), so that request goes out as plain HTTP and the TLS target drops it.
    let tls = gw.https_target();
    let r = gw.send(
        Request::get("/upper")
            .header("host", tls.authority())
            .header(SCHEME_HEADER, "HTTPS"),
    );
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(tls.count("/upper"), 0);
}

#[test]
fn https_checks_the_targets_certificate_against_the_name_the_request_names() {
    let gw = Gateway::builder()
        .filter(noop())
        .http_targets(1)
        .https_target()
        .start();
    let tls = gw.https_target();
    // Its certificate names DNS `localhost` only: asked for as 127.0.0.1, auto_san_validation
    // expects the IP address among the SANs and refuses it.
    let r = gw.send(
        Request::get("/by-ip")
            .header("host", tls.addr.to_string())
            .header(SCHEME_HEADER, "https"),
    );
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(gw.stat("cluster.dfp_https.ssl.fail_verify_san"), 1);
    assert_eq!(tls.count("/by-ip"), 0);
    // HTTPS to a plain-HTTP target: no TLS handshake, 503.
    let plain = gw.target(0);
    let r = gw.send(
        Request::get("/tls-to-plain")
            .header("host", plain.authority())
            .header(SCHEME_HEADER, "https"),
    );
    assert_eq!(r.status, 503, "{}", r.text());
    // Plain HTTP to the TLS target: 503, and nothing served.
    let r = gw.send(Request::get("/plain-to-tls").header("host", tls.authority()));
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(tls.count("/plain-to-tls"), 0);
    // The same target by its certificate's name works.
    let e = echo(&gw.direct(tls, Request::get("/by-name")));
    assert_eq!(e["sni"], "localhost");
    assert_eq!(gw.stat("cluster.dfp_https.ssl.handshake"), 1);
}

#[test]
fn the_manifests_cluster_reaches_any_target_through_the_internal_listener() {
    let manifest = json!({"identity": {"agent_id": "remote-a"}, "trust_level": "trusted"});
    let gw = Gateway::builder()
        .filter(noop())
        .manifests_route()
        .http_target_with(TargetSpec {
            name: "plain".into(),
            manifest: Some(manifest.clone()),
            ..TargetSpec::default()
        })
        .https_target_with(TargetSpec {
            name: "secure".into(),
            manifest: Some(manifest.clone()),
            ..TargetSpec::default()
        })
        .start();
    for t in &gw.targets {
        let via = |path: &str| gw.direct(t, Request::get(path).header("x-test-via-manifests", "1"));
        let r = via("/.well-known/agent-manifest");
        assert_eq!(r.status, 200, "{}: {}", t.name, r.text());
        assert_eq!(r.json(), manifest);
        let r = via("/.well-known/agent-attestation");
        assert_eq!(r.status, 404, "{}: {}", t.name, r.text());
        assert_eq!(t.count("/.well-known/agent-manifest"), 1);
        assert_eq!(t.count("/.well-known/agent-attestation"), 1);
        let seen = t.requests();
        let last = seen.last().unwrap();
        assert!(last["headers"].get(SCHEME_HEADER).is_none(), "{last}");
        assert!(
            last["headers"].get("x-test-via-manifests").is_none(),
            "{last}"
        );
        assert_eq!(last["tls"], t.tls);
    }
    // Four requests went through the internal listener's connection manager; the DNS cache is
    // the listener's (two hosts, each resolved once).
    assert_eq!(gw.stat("http.iatp_manifests.downstream_rq_completed"), 4);
    assert_eq!(gw.stat("dns_cache.iatp_dfp.host_added"), 2);
}

#[test]
fn the_mocks_do_what_the_gateway_tests_need() {
    let keys = AttestationKeys::generate();
    let record = keys.sign("remote-a", "cp-1", &[]);
    // The SDK's AttestationRecord members (serde_json lists them sorted).
    let mut members: Vec<&String> = record.as_object().unwrap().keys().collect();
    members.sort();
    assert_eq!(
        members,
        [
            "agent_id",
            "codebase_hash",
            "config_hash",
            "expires_at",
            "signature",
            "signing_key_id",
            "timestamp"
        ]
    );
    assert_eq!(record["signing_key_id"], "cp-1");
    assert!(keys.verify(&record));
    let mut tampered = record.clone();
    tampered["config_hash"] = json!("0".repeat(64));
    assert!(!keys.verify(&tampered));
    let no_expiry = keys.sign("remote-a", "cp-1", &["--no-expiry"]);
    assert_eq!(no_expiry["expires_at"], Value::Null);
    assert!(keys.verify(&no_expiry));
    let manifest = json!({"identity": {"agent_id": "remote-a"}, "trust_level": "verified_partner"});
    let gw = Gateway::builder()
        .filter(noop())
        .http_target_with(TargetSpec {
            name: "attested".into(),
            manifest: Some(manifest.clone()),
            attestation: Some(record.clone()),
            embed_attestation: true,
            ..TargetSpec::default()
        })
        .control_plane(json!([{"id": "c-1", "tenant_id": "t-1"}]))
        .start();
    let t = gw.target(0);
    let get = |path: &str| gw.direct(t, Request::get(path));
    let m = get("/.well-known/agent-manifest").json();
    assert_eq!(m["attestation"], record);
    assert_eq!(m["trust_level"], "verified_partner");
    assert_eq!(get("/.well-known/agent-attestation").json(), record);
    // Settings change the answers.
    t.set(&json!({"manifest_status": 503, "embed_attestation": false, "attestation": null}));
    assert_eq!(get("/.well-known/agent-manifest").status, 503);
    assert_eq!(get("/.well-known/agent-attestation").status, 404);
    t.set(&json!({"manifest_status": 200, "manifest_delay_ms": 300}));
    let start = std::time::Instant::now();
    let r = get("/.well-known/agent-manifest");
    assert!(start.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(r.json(), manifest);
    assert_eq!(t.count("/.well-known/agent-manifest"), 3);
    t.set(&json!({"reset_counts": true}));
    assert_eq!(t.counts(), json!({}));
    let bad = Request::post("/__set", r#"{"manifest_status": true}"#).send(t.control);
    assert_eq!(bad.status, 400, "{}", bad.text());

    // The control plane, straight (the filter fetches through the control_plane cluster).
    let cp = gw.control_plane();
    assert_eq!(cp.fetches(), 0);
    assert_eq!(cp.last_fetch(), Value::Null);
    let r = Request::get("/v1/contracts?tenant_id=t-1")
        .header("x-probe", "1")
        .send(cp.addr);
    assert_eq!(
        r.json(),
        json!({"contracts": [{"id": "c-1", "tenant_id": "t-1"}]})
    );
    let last = cp.last_fetch();
    assert_eq!(last["params"]["tenant_id"], json!(["t-1"]));
    assert_eq!(last["headers"]["x-probe"], "1");
    cp.set(&json!({"status": 500, "contracts": []}));
    assert_eq!(
        Request::get("/v1/contracts?tenant_id=t-1")
            .send(cp.addr)
            .status,
        500
    );
    cp.set(&json!({"status": 200, "body": "not json"}));
    assert_eq!(
        Request::get("/v1/contracts").send(cp.addr).text(),
        "not json"
    );
    assert_eq!(cp.fetches(), 3);
    // Envoy's control_plane cluster points at it.
    let clusters = crate::harness::http::get(gw.envoy.admin, "/clusters").text();
    assert!(
        clusters.contains(&format!("control_plane::{}", cp.addr)),
        "{clusters}"
    );
}

#[test]
fn the_shipped_dns_cache_refuses_loopback_addresses_by_name_and_by_literal() {
    let gw = Gateway::builder()
        .filter(noop())
        .keep_address_filter()
        .manifests_route()
        .http_targets(1)
        .start();
    let t = gw.target(0);
    let port = t.addr.port();
    for (i, host) in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::ffff:127.0.0.1]:{port}"),
    ]
    .iter()
    .enumerate()
    {
        let r = gw.send(Request::get("/refused").header("host", host));
        assert_eq!(r.status, 503, "{host}: {}", r.text());
        assert_eq!(r.text(), "DNS resolution failure", "{host}");
        assert_eq!(
            gw.stat("dns_cache.iatp_dfp.dns_address_filter_out"),
            i as u64 + 1,
            "{host}"
        );
    }
    // The manifests' internal listener shares the cache, and its refusal.
    let r = gw.send(
        Request::get("/.well-known/agent-manifest")
            .header("host", t.authority())
            .header("x-test-via-manifests", "1"),
    );
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(t.counts(), json!({}));
}
