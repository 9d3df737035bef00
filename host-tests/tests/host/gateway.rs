//! Gateway mode (issue 14) in a real Envoy: the shipped envoy/envoy-gateway.yaml with the IATP
//! filter, target agents on loopback (`host-tests/py/target_agent.py`) and a control plane
//! (`host-tests/py/control_plane.py`). Clients name the target (`X-Target-Endpoint`) and the
//! contract (`X-Contract-ID`); the filter checks both, the certificate, the target's manifest,
//! and tells Envoy's dynamic forward proxy where to go.
//!
//! Statuses come from the filter's reply kinds (`ReplyKind`), counts from the mocks' own
//! counters, facts from parsed event lines and Prometheus series. One stack serves several
//! assertions where they do not disturb each other: the file must stay well under a minute and
//! a half on two cores.

use std::time::{Duration, Instant};

use iatp_core::replies::ReplyKind;
use serde_json::{json, Value};

use crate::harness::gateway::{TargetAgent, SCHEME_HEADER};
use crate::harness::{paths, AttestationKeys, Gateway, Request, Response, TargetSpec};

/// The tenant of the contracts these tests configure (and of the control plane's).
const TENANT: &str = "tenant-a";
const MANIFEST: &str = "/.well-known/agent-manifest";
const ATTESTATION: &str = "/.well-known/agent-attestation";
const SSN: &str = "123-45-6789";
/// The ACVPS headers and the filter's scheme header: none of them may reach a target.
const NEVER_FORWARDED: [&str; 5] = [
    "x-target-endpoint",
    "x-contract-id",
    "x-dc-id",
    "x-dc-digest",
    SCHEME_HEADER,
];

/// A gateway plugin configuration: the protected agents' own manifest (ephemeral, so no
/// default rule fires), `rules` as `policy.block_rules`, `gateway` and `contracts` as given.
fn config(gateway: Value, contracts: Value, rules: Value) -> Value {
    json!({
        "mode": "enforce",
        "manifest": {
            "identity": {"agent_id": "gateway-tests", "name": "Gateway tests"},
            "trust_level": "standard",
            "reversibility": {"level": "none"},
            "privacy": {"retention": "ephemeral"}
        },
        "well_known": {"agent_card": false},
        "policy": {"block_rules": rules},
        "gateway": gateway,
        "contracts": contracts
    })
}

/// A contract of [`TENANT`] with these `allowed_targets`.
fn contract(id: &str, allowed: Value) -> Value {
    json!({"id": id, "tenant_id": TENANT, "allowed_targets": allowed})
}

/// A contract that lets its clients reach loopback targets (the mocks listen there).
fn loopback(id: &str) -> Value {
    contract(id, json!({"address_classes": ["loopback"]}))
}

/// `req` sent through the gateway to `url` under `contract`.
fn via(req: Request, url: &str, contract: &str) -> Request {
    req.header("x-target-endpoint", url)
        .header("x-contract-id", contract)
}

/// A manifest in the IATP shape.
fn manifest(agent_id: &str, trust_level: &str, retention: &str) -> Value {
    json!({
        "identity": {"agent_id": agent_id},
        "trust_level": trust_level,
        "privacy": {"retention": retention}
    })
}

fn target(name: &str, manifest: Value) -> TargetSpec {
    TargetSpec {
        name: name.into(),
        manifest: Some(manifest),
        ..TargetSpec::default()
    }
}

/// The echo of what the target received (the request went through), checked to be the
/// target's own and free of the gateway's headers.
fn echo(r: &Response, t: &TargetAgent) -> Value {
    assert_eq!(r.status, 200, "to {}: {}", t.name, r.text());
    let e = r.json();
    assert_eq!(e["agent"], t.name.as_str(), "{e}");
    for h in NEVER_FORWARDED {
        assert!(e["headers"].get(h).is_none(), "{h} reached {}: {e}", t.name);
    }
    e
}

/// A gateway refusal: `kind`'s status, the body `{"error", "code", "blocked": true,
/// "contract"?, "trace_id"}` with the trace id of the header. The body, for more checks.
fn refused(r: &Response, kind: ReplyKind, code: &str, what: &str) -> Value {
    assert_eq!(r.status, kind.status(), "{what}: {}", r.text());
    let body = r.json();
    assert_eq!(body["code"], code, "{what}: {body}");
    assert_eq!(body["blocked"], true, "{what}: {body}");
    assert_eq!(
        body["trace_id"].as_str(),
        r.header("x-agent-trace-id"),
        "{what}: {body}"
    );
    body
}

fn trace(r: &Response) -> String {
    r.header("x-agent-trace-id")
        .unwrap_or_else(|| panic!("no trace id: {:?}", r.headers))
        .to_string()
}

/// The event line of type `kind` for `trace_id`, once Envoy has written it (access logs are
/// written when the stream ends, flushed every 20 ms here).
fn event(gw: &Gateway, trace_id: &str, kind: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(e) = gw
            .events()
            .into_iter()
            .find(|e| e["trace_id"] == trace_id && e["type"] == kind)
        {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "no {kind} line for {trace_id}: {:#?}",
            gw.events()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `f` every 50 ms until it holds; panics with `what` after `limit`.
fn wait_until(limit: Duration, what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if f() {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SHA-256 of `bytes` as lower-case hex, and `value` as RFC 8785 reads it for the plain
/// contracts of these tests (ASCII strings, small integers: sorted keys, no spaces), both
/// computed by Python's standard library, not by the filter's code.
fn python_digest_and_jcs(bytes: &[u8], value: &Value) -> (String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let script = "import hashlib, json, sys\n\
                  raw, doc = sys.stdin.buffer.read().split(b'\\n', 1)\n\
                  print(hashlib.sha256(bytes.fromhex(raw.decode())).hexdigest())\n\
                  print(json.dumps(json.loads(doc), sort_keys=True, separators=(',', ':')))";
    let mut child = Command::new(paths::python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{hex}\n{value}").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    (
        lines.next().unwrap().to_string(),
        lines.next().unwrap().to_string(),
    )
}

/// Replaces the DNS cache's `resolved_address_filter` (every copy) with ranges that are not
/// loopback: a filter that wrongly forwarded an SSRF spelling must not make Envoy connect
/// anywhere but this machine's loopback (the mocks stay reachable).
fn only_loopback_reachable(doc: &mut Value) {
    let ranges = json!({"ranges": [
        {"address_prefix": "0.0.0.0", "prefix_len": 8},
        {"address_prefix": "10.0.0.0", "prefix_len": 8},
        {"address_prefix": "169.254.0.0", "prefix_len": 16},
        {"address_prefix": "100.64.0.0", "prefix_len": 10},
        {"address_prefix": "172.16.0.0", "prefix_len": 12},
        {"address_prefix": "192.168.0.0", "prefix_len": 16},
        {"address_prefix": "::", "prefix_len": 128},
        {"address_prefix": "fc00::", "prefix_len": 7},
        {"address_prefix": "fe80::", "prefix_len": 10}
    ]});
    fn walk(v: &mut Value, ranges: &Value) {
        match v {
            Value::Object(o) => {
                if let Some(Value::Object(cache)) = o.get_mut("dns_cache_config") {
                    cache.insert("resolved_address_filter".into(), ranges.clone());
                }
                o.values_mut().for_each(|v| walk(v, ranges));
            }
            Value::Array(a) => a.iter_mut().for_each(|v| walk(v, ranges)),
            _ => {}
        }
    }
    walk(doc, &ranges);
}

/// `n` requests made by `threads` threads at once; every answer's status.
fn concurrently(n: usize, threads: usize, send: impl Fn(usize) -> u16 + Sync) -> Vec<u16> {
    let send = &send;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| s.spawn(move || (t..n).step_by(threads).map(send).collect::<Vec<u16>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

// ---- 1. Routing ---------------------------------------------------------------------------

#[test]
fn each_request_goes_to_the_target_it_names_at_its_base_path_without_the_gateway_headers() {
    let gw = Gateway::builder()
        .plugin(&config(json!({}), json!([loopback("c-open")]), json!([])))
        .http_targets(2)
        .https_target()
        .start();
    assert_eq!(gw.targets.len(), 3);
    let body = r#"{"task":"book","to":"Zürich","n":[1,2.5,null],"nested":{"a":"b"}}"#;
    for t in &gw.targets {
        // The client also sends a DC pair the contract does not ask for, and a scheme header of
        // its own (the opposite of the target's): all of it stays in the gateway.
        let spoofed = if t.tls { "http" } else { "https" };
        let r = gw.send(
            via(
                Request::post("/v1/chat?x=1", body),
                &t.url("/api"),
                "c-open",
            )
            .header("x-dc-id", "dc-anything")
            .header("x-dc-digest", format!("sha256:{}", "0".repeat(64)))
            .header(SCHEME_HEADER, spoofed),
        );
        let e = echo(&r, t);
        assert_eq!(e["path"], "/api/v1/chat?x=1", "{e}");
        assert_eq!(e["method"], "POST");
        assert_eq!(e["headers"]["host"], t.authority().as_str(), "{e}");
        assert_eq!(e["body"], body, "the JSON body must arrive intact");
        assert_eq!(e["tls"], t.tls, "{e}");
        if t.tls {
            assert_eq!(e["sni"], "localhost", "{e}");
        }
        // Exactly this one request reached this target, and nothing else reached it.
        assert_eq!(t.counts(), json!({"/api/v1/chat": 1}), "{}", t.name);
        let line = event(&gw, &trace(&r), "request");
        assert_eq!(
            line["target"]["origin"],
            format!("{}://{}", t.scheme(), t.authority()),
            "{line}"
        );
        assert_eq!(line["target"]["contract"], "c-open", "{line}");
        // No gateway.manifests: the target's manifest is not looked at.
        assert_eq!(line["target"]["manifest"], "not_fetched", "{line}");
        assert_eq!(t.count(MANIFEST), 0);
    }
    // A base path with a trailing slash, and none: the request's path is appended once.
    let t = gw.target(1);
    let e = echo(
        &gw.send(via(Request::get("/a/b"), &t.url("/base/"), "c-open")),
        t,
    );
    assert_eq!(e["path"], "/base/a/b");
    let e = echo(&gw.send(via(Request::get("/c"), &t.url(""), "c-open")), t);
    assert_eq!(e["path"], "/c");
    // A loopback-allowing contract reaches the target in the decimal spelling: Envoy is given
    // the serialized address, which its resolver accepts.
    let t = gw.target(0);
    let port = t.addr.port();
    let e = echo(
        &gw.send(via(
            Request::get("/decimal"),
            &format!("http://2130706433:{port}/"),
            "c-open",
        )),
        t,
    );
    assert_eq!(e["headers"]["host"], format!("127.0.0.1:{port}"));
    assert_eq!(e["path"], "/decimal");
    let e = echo(
        &gw.send(via(
            Request::get("/short"),
            &format!("http://0x7f.1:{port}"),
            "c-open",
        )),
        t,
    );
    assert_eq!(e["headers"]["host"], format!("127.0.0.1:{port}"));
    // The HTTPS target's port is not https's default, so it stays in :authority; the scheme
    // header the filter set chose the TLS cluster (the handshake carried SNI localhost).
    assert_eq!(gw.stat("cluster.dfp_https.ssl.handshake"), 1);
}

// ---- 2. SSRF ------------------------------------------------------------------------------

#[test]
fn ssrf_spellings_and_malformed_targets_are_refused_before_anything_is_sent() {
    let gw = Gateway::builder()
        .plugin(&config(
            json!({}),
            // `c-strict` says nothing of address classes: public addresses only.
            json!([contract("c-strict", json!({})), loopback("c-open")]),
            json!([]),
        ))
        .keep_address_filter()
        .envoy(|c| only_loopback_reachable(&mut c.doc))
        .http_targets(1)
        .start();
    let t = gw.target(0);
    let p = t.addr.port();
    // Each spelling with the class the URL standard's reading of its host has.
    let forbidden = [
        (format!("http://2130706433:{p}/"), "loopback"),
        (format!("http://0177.0.0.1:{p}/"), "loopback"),
        (format!("http://0x7f.1:{p}/"), "loopback"),
        (format!("http://127.1:{p}/"), "loopback"),
        (format!("http://127.0.0.1:{p}/"), "loopback"),
        (format!("http://[::ffff:127.0.0.1]:{p}/"), "loopback"),
        (format!("http://[::ffff:7f00:1]:{p}/"), "loopback"),
        (format!("http://localhost.:{p}/"), "loopback"),
        (format!("http://%31%32%37.0.0.1:{p}/"), "loopback"),
        (format!("http://LOCALHOST:{p}/"), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data/".into(),
            "metadata",
        ),
        ("http://[fd00:ec2::254]/".into(), "metadata"),
        (format!("http://10.0.0.1:{p}/"), "private"),
        (format!("http://0.0.0.0:{p}/"), "unspecified"),
    ];
    let mut blocked_traces = Vec::new();
    for (url, class) in &forbidden {
        let r = gw.send(via(Request::get("/ssrf"), url, "c-strict"));
        let body = refused(&r, ReplyKind::TargetForbidden, "TARGET_FORBIDDEN", url);
        assert_eq!(body["contract"], "c-strict", "{url}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(
            error.contains(&format!(" {class} ")),
            "{url}: {class} expected in {error:?}"
        );
        assert!(!error.contains(url.as_str()), "the URL is echoed: {error}");
        blocked_traces.push((trace(&r), "target_forbidden", ReplyKind::TargetForbidden));
    }
    // Targets that do not parse, or that are ambiguous: 400.
    let invalid = [
        (format!("http://user@127.0.0.1:{p}/"), "TARGET_INVALID"),
        (
            format!("http://user:pw@example.com@127.0.0.1:{p}/"),
            "TARGET_INVALID",
        ),
        (format!("ftp://127.0.0.1:{p}/"), "TARGET_INVALID"),
        ("/relative/path".into(), "TARGET_INVALID"),
        ("127.0.0.1/no-scheme".into(), "TARGET_INVALID"),
        (
            format!("http://127.0.0.1:{p}\\@example.com/"),
            "TARGET_INVALID",
        ),
        (format!("http:\\\\127.0.0.1:{p}/"), "TARGET_INVALID"),
        (format!("http://127.0.0.1:{p}/?q=1"), "TARGET_INVALID"),
        ("http://127.0.0.1:99999/".into(), "TARGET_INVALID"),
    ];
    for (url, code) in &invalid {
        // Under the permissive contract: what refuses is the parse, not the class.
        let r = gw.send(via(Request::get("/bad"), url, "c-open"));
        refused(&r, ReplyKind::TargetInvalid, code, url);
        blocked_traces.push((trace(&r), "target_invalid", ReplyKind::TargetInvalid));
    }
    // Two X-Target-Endpoint fields: which one counts would be a guess.
    let r = gw.send(via(
        Request::get("/twice").header("x-target-endpoint", t.url("")),
        &t.url(""),
        "c-open",
    ));
    refused(
        &r,
        ReplyKind::TargetInvalid,
        "AMBIGUOUS_HEADER",
        "two targets",
    );
    blocked_traces.push((trace(&r), "ambiguous_header", ReplyKind::TargetInvalid));
    // Two X-Contract-ID fields too.
    let r = gw.send(via(
        Request::get("/twice").header("x-contract-id", "c-open"),
        &t.url(""),
        "c-open",
    ));
    refused(
        &r,
        ReplyKind::TargetInvalid,
        "AMBIGUOUS_HEADER",
        "two contracts",
    );
    // No X-Target-Endpoint, and the contract has no target_endpoint.
    let r = gw.send(Request::get("/none").header("x-contract-id", "c-open"));
    refused(&r, ReplyKind::TargetInvalid, "TARGET_REQUIRED", "no target");
    // Nothing reached the target (nor, through the address filter, anywhere else): the one
    // request allowed afterwards is all it ever received.
    echo(
        &gw.send(via(Request::get("/probe"), &t.url(""), "c-open")),
        t,
    );
    assert_eq!(t.counts(), json!({"/probe": 1}));
    assert_eq!(gw.stat("dns_cache.iatp_dfp.dns_address_filter_out"), 0);
    for (trace_id, reason, kind) in blocked_traces {
        let b = event(&gw, &trace_id, "blocked");
        assert_eq!(b["reason"], reason, "{b}");
        assert_eq!(b["status"], kind.status(), "{b}");
        assert_eq!(b["phase"], "request", "{b}");
        // A refused request has no route: no target on its request line.
        let line = event(&gw, &trace_id, "request");
        assert!(line.get("target").is_none(), "{line}");
    }
}

// ---- 3. Certificates ----------------------------------------------------------------------

#[test]
fn certificates_are_checked_against_the_digest_the_gateway_serves() {
    let dc_contract = json!({
        "id": "c-dc",
        "tenant_id": TENANT,
        "service_name": "chat",
        "allowed_targets": {"schemes": ["http"], "address_classes": ["loopback"]},
        "certificates": [{"id": "dc-1"}, {"id": "dc-2"}]
    });
    let gw = Gateway::builder()
        .plugin(&config(
            json!({}),
            json!([dc_contract.clone(), loopback("c-open")]),
            json!([]),
        ))
        .http_targets(1)
        .start();
    let t = gw.target(0);
    // The contract's canonical JSON and its digest.
    let r = gw.send(Request::get("/.well-known/acvps/contracts/c-dc"));
    assert_eq!(r.status, ReplyKind::WellKnown.status(), "{}", r.text());
    // The served contract and its digest leave the certificates out: reading it gives no
    // certificate to present.
    let mut served = dc_contract.clone();
    served.as_object_mut().unwrap().remove("certificates");
    assert!(!r.text().contains("dc-1"), "{}", r.text());
    let (sha, jcs) = python_digest_and_jcs(&r.body, &served);
    let digest = format!("sha256:{sha}");
    assert_eq!(r.header("x-dc-digest"), Some(digest.as_str()));
    assert_eq!(r.text(), jcs, "the body is the contract's RFC 8785 form");
    let r = gw.send(Request::get("/.well-known/acvps/contracts/c-none"));
    assert_eq!(r.status, ReplyKind::NotFound.status(), "{}", r.text());
    assert!(r.header("x-dc-digest").is_none());
    let r = gw.send(Request::post("/.well-known/acvps/contracts/c-dc", "{}"));
    assert_eq!(
        r.status,
        ReplyKind::MethodNotAllowed.status(),
        "{}",
        r.text()
    );

    let url = t.url("");
    let dc = |id: &str, d: &str| {
        via(Request::get("/dc"), &url, "c-dc")
            .header("x-dc-id", id)
            .header("x-dc-digest", d)
    };
    let wrong = format!("sha256:{}", "0".repeat(64));
    let upper = format!("sha256:{}", sha.to_uppercase());
    let cases = [
        (
            via(Request::get("/dc"), &url, "c-dc"),
            ReplyKind::DcRequired,
            "DC_REQUIRED",
            "dc_required",
        ),
        (
            via(Request::get("/dc"), &url, "c-dc").header("x-dc-id", "dc-1"),
            ReplyKind::DcRequired,
            "DC_REQUIRED",
            "dc_required",
        ),
        (
            via(Request::get("/dc"), &url, "c-dc").header("x-dc-digest", &digest),
            ReplyKind::DcRequired,
            "DC_REQUIRED",
            "dc_required",
        ),
        (
            dc("dc-unknown", &digest),
            ReplyKind::DcInvalid,
            "DC_INVALID",
            "dc_invalid",
        ),
        (
            dc("dc-1", &wrong),
            ReplyKind::DcInvalid,
            "DC_INVALID",
            "dc_invalid",
        ),
        (
            dc("dc-1", &sha),
            ReplyKind::DcInvalid,
            "DC_INVALID",
            "dc_invalid",
        ),
        (
            dc("dc-1", &format!("SHA256:{sha}")),
            ReplyKind::DcInvalid,
            "DC_INVALID",
            "dc_invalid",
        ),
        (
            dc("dc-1", &format!("sha256:{}", &sha[..63])),
            ReplyKind::DcInvalid,
            "DC_INVALID",
            "dc_invalid",
        ),
    ];
    for (i, (req, kind, code, reason)) in cases.into_iter().enumerate() {
        let r = gw.send(req);
        let body = refused(&r, kind, code, &format!("case {i}"));
        assert_eq!(body["contract"], "c-dc", "{body}");
        let b = event(&gw, &trace(&r), "blocked");
        assert_eq!(b["reason"], reason, "{b}");
        assert_eq!(b["contract"], "c-dc", "{b}");
        assert_eq!(b["status"], kind.status(), "{b}");
    }
    // Either registered certificate, with the right digest: forwarded. The hex digits name
    // bytes: upper case names the same digest (canonical::parse_digest).
    for (id, d) in [("dc-1", &digest), ("dc-2", &upper)] {
        let r = gw.send(dc(id, d));
        let e = echo(&r, t);
        assert_eq!(e["path"], "/dc");
        let line = event(&gw, &trace(&r), "request");
        assert_eq!(line["target"]["contract"], "c-dc", "{line}");
    }
    // An unknown contract, and none at all (no gateway.contract): no contract in the answer.
    let r = gw.send(via(Request::get("/dc"), &url, "c-unknown"));
    let body = refused(
        &r,
        ReplyKind::TargetForbidden,
        "CONTRACT_UNKNOWN",
        "unknown",
    );
    assert!(body.get("contract").is_none(), "{body}");
    assert_eq!(
        event(&gw, &trace(&r), "blocked")["reason"],
        "contract_unknown"
    );
    let r = gw.send(Request::get("/dc").header("x-target-endpoint", &url));
    let body = refused(&r, ReplyKind::TargetInvalid, "CONTRACT_REQUIRED", "none");
    assert!(body.get("contract").is_none(), "{body}");
    assert_eq!(
        event(&gw, &trace(&r), "blocked")["reason"],
        "contract_required"
    );
    // A valid certificate does not widen the contract: https is not among its schemes.
    let https = format!("https://localhost:{}/", t.addr.port());
    let r = gw.send(
        via(Request::get("/dc"), &https, "c-dc")
            .header("x-dc-id", "dc-1")
            .header("x-dc-digest", &digest),
    );
    let body = refused(&r, ReplyKind::TargetForbidden, "TARGET_FORBIDDEN", "https");
    assert!(body["error"].as_str().unwrap().contains("scheme"), "{body}");
    // A contract without certificates ignores DC headers altogether.
    echo(
        &gw.send(via(Request::get("/open"), &url, "c-open").header("x-dc-id", "dc-1")),
        t,
    );
    assert_eq!(t.counts(), json!({"/dc": 2, "/open": 1}));
}

// ---- 4. Control plane ---------------------------------------------------------------------

/// `config` with a control plane polled every `interval_s` seconds for [`TENANT`].
fn with_control_plane(mut config: Value, interval_s: u64) -> Value {
    config["control_plane"] = json!({
        "cluster": "control_plane",
        "tenant_id": TENANT,
        "interval_s": interval_s,
        "timeout_ms": 1000,
        // The control plane's contracts may allow loopback targets (the test's).
        "address_classes": ["loopback"]
    });
    config
}

/// The value of a Prometheus series, polled until `ok` holds (metrics reach Envoy on the
/// root's tick, every second).
fn wait_prometheus(gw: &Gateway, series: &str, ok: impl Fn(f64) -> bool) -> f64 {
    let mut got = 0.0;
    wait_until(Duration::from_secs(5), series, || {
        got = gw.envoy.prometheus(series);
        ok(got)
    });
    got
}

#[test]
fn contracts_follow_the_control_plane_and_a_bad_answer_keeps_the_last_good_set() {
    const INTERVAL_S: u64 = 1;
    // Both targets listen on 127.0.0.1; B is named `localhost`, which only the control
    // plane's set allows.
    let a_only = contract(
        "c-1",
        json!({"address_classes": ["loopback"], "hosts": ["127.0.0.1"]}),
    );
    let a_and_b = contract(
        "c-1",
        json!({"address_classes": ["loopback"], "hosts": ["127.0.0.1", "localhost"]}),
    );
    let other_tenant = json!({"id": "c-other", "tenant_id": "tenant-b",
                              "allowed_targets": {"address_classes": ["loopback"]}});
    // The control plane first serves the inline set itself: which set holds at first does not
    // depend on when the first fetch happens.
    let gw = Gateway::builder()
        .plugin(&with_control_plane(
            config(json!({}), json!([a_only.clone()]), json!([])),
            INTERVAL_S,
        ))
        .control_plane(json!([a_only]))
        .http_targets(2)
        .workers(2)
        .start();
    let cp = gw.control_plane();
    // The window in which fetches are counted: from the start (three VMs: the main thread's
    // and two workers', each with a timer every second).
    let (started, fetched_before) = (Instant::now(), cp.fetches());
    let (a, b) = (gw.target(0), gw.target(1));
    let b_url = format!("http://localhost:{}/", b.addr.port());
    let to_a = || gw.send(via(Request::get("/a"), &a.url(""), "c-1"));
    let to_b = || gw.send(via(Request::get("/b"), &b_url, "c-1"));
    // Several requests in a row: each of the two workers applies a new set on its own tick.
    let b_passes = || (0..4).all(|_| to_b().status == 200);
    echo(&to_a(), a);
    let body = refused(&to_b(), ReplyKind::TargetForbidden, "TARGET_FORBIDDEN", "B");
    assert!(body["error"].as_str().unwrap().contains("host"), "{body}");
    assert_eq!(b.counts(), json!({}));

    cp.set(&json!({"contracts": [a_and_b.clone(), other_tenant]}));
    let took = wait_until(
        Duration::from_secs(4),
        "B allowed by the control plane's set",
        b_passes,
    );
    eprintln!("control plane: the new set held in both workers after {took:?}");
    echo(&to_b(), b);
    echo(&to_a(), a);
    // The other tenant's contract was dropped.
    let r = gw.send(via(Request::get("/o"), &a.url(""), "c-other"));
    refused(
        &r,
        ReplyKind::TargetForbidden,
        "CONTRACT_UNKNOWN",
        "c-other",
    );
    let last = cp.last_fetch();
    assert_eq!(last["method"], "GET", "{last}");
    assert_eq!(last["path"], "/v1/contracts", "{last}");
    assert_eq!(last["params"]["tenant_id"], json!([TENANT]), "{last}");
    assert_eq!(last["headers"]["x-tenant-id"], TENANT, "{last}");
    // Waits for the log line saying a fetch's answer was refused (`why` in it).
    let refused_line = |why: &str| {
        wait_until(Duration::from_secs(5), why, || {
            gw.envoy.log_text().lines().any(|l| {
                l.contains("contracts from the control plane refused, the last good set stays")
                    && l.contains(why)
            })
        })
    };

    // The control plane fails: the last good set stays.
    cp.set(&json!({"status": 500}));
    refused_line("status 500");
    assert!(b_passes(), "B refused after a failed fetch");

    // An invalid set (a contract with a key no contract has), even with a valid contract in
    // it: refused whole (the log line names the key), the last good set stays.
    let mut bad = loopback("c-bad");
    bad["retention_days"] = json!(30);
    cp.set(&json!({"status": 200, "contracts": [a_and_b, loopback("c-new"), bad]}));
    refused_line("retention_days");
    assert!(b_passes(), "B refused after an invalid set");
    let r = gw.send(via(Request::get("/n"), &a.url(""), "c-new"));
    refused(&r, ReplyKind::TargetForbidden, "CONTRACT_UNKNOWN", "c-new");

    let ok = r#"iatp_control_plane_fetches_total{fetch="ok"}"#;
    let failed = r#"iatp_control_plane_fetches_total{fetch="failed"}"#;
    let invalid = r#"iatp_control_plane_fetches_total{fetch="invalid"}"#;
    // Every fetch the control plane saw is counted once, by its result. Fetches go on every
    // second and a worker's counts reach Envoy on its next tick: at any moment one fetch may
    // be under way and one counted but not yet flushed.
    let sum = || {
        [ok, failed, invalid]
            .iter()
            .map(|s| gw.envoy.prometheus(s))
            .sum::<f64>()
    };
    wait_until(Duration::from_secs(4), "metrics by result", || {
        gw.envoy.prometheus(ok) >= 1.0
            && gw.envoy.prometheus(failed) >= 1.0
            && gw.envoy.prometheus(invalid) >= 1.0
    });
    let counted = sum();
    let fetches = cp.fetches() as f64;
    assert!(
        counted <= fetches && counted + 2.0 >= fetches,
        "{counted} fetches counted, {fetches} seen"
    );
    // Two workers, one fetch per interval between them (not one each).
    let fetches = cp.fetches() - fetched_before;
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "control plane: {fetches} fetches in {elapsed:.1} s with 2 workers, interval {INTERVAL_S} s"
    );
    assert!(
        fetches as f64 <= elapsed / INTERVAL_S as f64 + 2.0,
        "{fetches} fetches in {elapsed:.1} s"
    );
}

// ---- 5, 6, 8. Remote manifests, rules about the target, metrics --------------------------

/// The rule of issue 14: an SSN may not go to an agent that keeps data permanently.
fn ssn_rule() -> Value {
    json!({"name": "ssn_to_a_target_that_keeps_it",
           "condition": "has_ssn && target_retention == 'permanent'", "action": "block"})
}

/// A rule that makes `target_manifest == false` visible: it blocks requests that ask for it
/// (`x-probe: manifest`) to a target without a manifest.
fn probe_rule() -> Value {
    json!({"name": "probe_no_manifest",
           "condition": "!target_manifest && header('x-probe') == 'manifest'", "action": "block"})
}

/// A rule block: 403 and the rule's name.
fn blocked_by(r: &Response, rule: &str) {
    assert_eq!(r.status, ReplyKind::Blocked.status(), "{}", r.text());
    assert_eq!(r.json()["rule"], rule, "{}", r.text());
}

#[test]
fn remote_manifests_are_fetched_once_per_target_cached_and_read_by_rules() {
    let gw = Gateway::builder()
        .plugin(&config(
            json!({"manifests": {"ttl_s": 3600, "negative_ttl_s": 60, "fail": "closed"}}),
            json!([loopback("c-open")]),
            json!([ssn_rule(), probe_rule()]),
        ))
        .http_target_with(target(
            "hits",
            manifest("agent-hits", "standard", "ephemeral"),
        ))
        .http_target_with(target(
            "slow",
            manifest("agent-slow", "standard", "ephemeral"),
        ))
        .http_target_with(target("absent", json!({})))
        .http_target_with(target("down", json!({})))
        .http_target_with(target(
            "keeps",
            manifest("agent-keeps", "standard", "permanent"),
        ))
        .workers(2)
        .start();
    let (hits, slow, absent, down, keeps) = (
        gw.target(0),
        gw.target(1),
        gw.target(2),
        gw.target(3),
        gw.target(4),
    );
    slow.set(&json!({"manifest_delay_ms": 300}));
    absent.set(&json!({"manifest_status": 404}));
    down.set(&json!({"manifest_status": 503}));
    let get = |t: &TargetAgent, path: &str| gw.send(via(Request::get(path), &t.url(""), "c-open"));

    // Single flight: 20 first requests at once, across two workers; one fetch, all answered.
    let statuses = concurrently(20, 20, |_| get(slow, "/s").status);
    assert_eq!(statuses, vec![200; 20]);
    assert_eq!(slow.count(MANIFEST), 1, "{}", slow.counts());
    assert_eq!(slow.count("/s"), 20);

    // 1,000 requests to one target: one fetch.
    let r = get(hits, "/h");
    echo(&r, hits);
    let line = event(&gw, &trace(&r), "request");
    assert_eq!(line["target"]["manifest"], "miss", "{line}");
    assert_eq!(line["target"]["agent_id"], "agent-hits", "{line}");
    assert_eq!(line["target"]["declared_trust_level"], "standard", "{line}");
    // Self-declared trust counts at most as gateway.trust.ceiling, `unknown` by default.
    assert_eq!(line["target"]["trust_level"], "unknown", "{line}");
    assert!(line["target"].get("attested").is_none(), "{line}");
    let start = Instant::now();
    let statuses = concurrently(999, 4, |_| get(hits, "/h").status);
    let took = start.elapsed();
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    assert_eq!(hits.count("/h"), 1000);
    let fetches = hits.count(MANIFEST);
    eprintln!(
        "remote manifests: {fetches} fetch(es) per 1,000 requests to one target \
         (2 workers, 4 clients; 999 requests in {took:?})"
    );
    assert_eq!(fetches, 1);
    let r = get(hits, "/h");
    let line = event(&gw, &trace(&r), "request");
    assert_eq!(line["target"]["manifest"], "hit", "{line}");

    // No manifest (404): forwarded, `target_manifest` false, remembered (no refetch).
    blocked_by(
        &gw.send(via(Request::get("/n"), &absent.url(""), "c-open").header("x-probe", "manifest")),
        "probe_no_manifest",
    );
    for _ in 0..2 {
        let r = get(absent, "/n");
        echo(&r, absent);
        let line = event(&gw, &trace(&r), "request");
        assert_eq!(line["target"]["manifest"], "negative", "{line}");
        assert!(line["target"].get("agent_id").is_none(), "{line}");
    }
    assert_eq!(absent.count(MANIFEST), 1);
    assert_eq!(absent.count("/n"), 2);
    // The same probe to a target with a manifest passes.
    echo(
        &gw.send(via(Request::get("/h"), &hits.url(""), "c-open").header("x-probe", "manifest")),
        hits,
    );

    // A manifest that cannot be had (503), fail: closed: 502, nothing forwarded, and the
    // failure is remembered too.
    for _ in 0..2 {
        let r = get(down, "/d");
        let body = refused(
            &r,
            ReplyKind::TargetUnavailable,
            "TARGET_UNAVAILABLE",
            "down",
        );
        assert_eq!(body["contract"], "c-open", "{body}");
        let b = event(&gw, &trace(&r), "blocked");
        assert_eq!(b["reason"], "target_unavailable", "{b}");
        assert_eq!(b["status"], ReplyKind::TargetUnavailable.status(), "{b}");
    }
    assert_eq!(down.counts(), json!({MANIFEST: 1}));

    // 6. An SSN may not go to an agent that keeps data permanently; an ephemeral one is fine.
    let ssn = format!(r#"{{"name":"Jane","ssn":"{SSN}"}}"#);
    let send_ssn = |t: &TargetAgent| gw.send(via(Request::post("/k", &ssn), &t.url(""), "c-open"));
    let r = send_ssn(keeps);
    blocked_by(&r, "ssn_to_a_target_that_keeps_it");
    assert!(!r.text().contains(SSN));
    assert_eq!(keeps.counts(), json!({MANIFEST: 1}));
    let e = echo(&send_ssn(hits), hits);
    assert_eq!(e["body"], ssn);

    // 8. Metrics: fetches by result as the targets counted them; lookups by how they went.
    let fetched_ok = hits.count(MANIFEST) + slow.count(MANIFEST) + keeps.count(MANIFEST);
    for (result, want) in [
        ("ok", fetched_ok),
        ("not_found", absent.count(MANIFEST)),
        ("failed", down.count(MANIFEST)),
        ("invalid", 0),
    ] {
        gw.envoy.wait_for_prometheus(
            &format!(r#"iatp_manifest_fetches_total{{fetch="{result}"}}"#),
            want as f64,
        );
    }
    let cache = |c: &str| {
        gw.envoy
            .prometheus(&format!(r#"iatp_manifest_cache_total{{cache="{c}"}}"#))
    };
    // Requests whose target has a manifest: slow 20, hits 1 + 999 + 1 + 1 (probe) + 1 (SSN),
    // keeps 1; each a miss (fetched or waited for) or a hit. absent: 1 miss, 2 negative.
    // down: 2 failed_closed.
    let with_manifest = 20.0 + 1003.0 + 1.0 + 1.0;
    wait_until(Duration::from_secs(5), "cache metrics", || {
        cache("hit") + cache("miss") == with_manifest && cache("failed_closed") == 2.0
    });
    assert_eq!(cache("negative"), 2.0);
    assert_eq!(cache("stale"), 0.0);
    assert_eq!(cache("failed_open"), 0.0);
    // Misses: the first of hits, keeps and absent, and at least the fetcher of slow.
    assert!((4.0..=23.0).contains(&cache("miss")), "{}", cache("miss"));
    assert!(cache("hit") >= 1002.0, "{}", cache("hit"));
}

#[test]
fn an_expired_manifest_is_fetched_again_and_fail_open_forwards_without_one() {
    let gw = Gateway::builder()
        .plugin(&config(
            json!({"manifests": {"ttl_s": 1, "stale_s": 0, "negative_ttl_s": 60, "fail": "open"}}),
            json!([loopback("c-open")]),
            json!([probe_rule()]),
        ))
        .http_target_with(target(
            "fresh",
            manifest("agent-fresh", "standard", "ephemeral"),
        ))
        .http_target_with(target("down", json!({})))
        .start();
    let (fresh, down) = (gw.target(0), gw.target(1));
    down.set(&json!({"manifest_status": 503}));
    let get = |t: &TargetAgent| gw.send(via(Request::get("/p"), &t.url(""), "c-open"));
    let first = Instant::now();
    echo(&get(fresh), fresh);
    let r = get(fresh);
    if first.elapsed() < Duration::from_millis(800) {
        assert_eq!(fresh.count(MANIFEST), 1, "fetched again within its TTL");
        assert_eq!(
            event(&gw, &trace(&r), "request")["target"]["manifest"],
            "hit"
        );
    }
    // ttl_s 1, stale_s 0: once expired, the next request fetches again (and waits for it).
    let mut last = None;
    wait_until(Duration::from_secs(4), "a second fetch", || {
        let r = get(fresh);
        assert_eq!(r.status, 200, "{}", r.text());
        last = Some(r);
        fresh.count(MANIFEST) == 2
    });
    let since = first.elapsed();
    assert!(
        since >= Duration::from_millis(950),
        "refetched after {since:?}"
    );
    let line = event(&gw, &trace(last.as_ref().unwrap()), "request");
    assert_eq!(line["target"]["manifest"], "miss", "{line}");

    // fail: open: a target whose manifest cannot be had is reached, as one without manifest.
    for _ in 0..2 {
        let r = get(down);
        echo(&r, down);
        let line = event(&gw, &trace(&r), "request");
        assert_eq!(line["target"]["manifest"], "failed_open", "{line}");
    }
    blocked_by(
        &gw.send(via(Request::get("/p"), &down.url(""), "c-open").header("x-probe", "manifest")),
        "probe_no_manifest",
    );
    assert_eq!(down.counts(), json!({MANIFEST: 1, "/p": 2}));
    gw.envoy
        .wait_for_prometheus(r#"iatp_manifest_cache_total{cache="failed_open"}"#, 3.0);
}

#[test]
fn a_stale_manifest_is_served_at_once_while_the_root_refreshes_it() {
    let gw = Gateway::builder()
        .plugin(&config(
            json!({"manifests": {"ttl_s": 1, "stale_s": 60, "fail": "closed"}}),
            json!([loopback("c-open")]),
            json!([ssn_rule()]),
        ))
        .http_target_with(target("t", manifest("agent-t", "standard", "ephemeral")))
        .start();
    let t = gw.target(0);
    let ssn = format!(r#"{{"ssn":"{SSN}"}}"#);
    let send = || gw.send(via(Request::post("/p", &ssn), &t.url(""), "c-open"));
    echo(&send(), t);
    // The entry was stored before the answer: it expires within ttl_s of now.
    let first = Instant::now();
    assert_eq!(t.count(MANIFEST), 1);
    // The target now keeps data, and answers its manifest slowly.
    const DELAY_MS: u64 = 800;
    t.set(
        &json!({"manifest": manifest("agent-t", "standard", "permanent"),
                  "manifest_delay_ms": DELAY_MS}),
    );
    std::thread::sleep(Duration::from_millis(1100).saturating_sub(first.elapsed()));
    // Expired, within stale_s: served as it was, at once (not after the slow fetch).
    let start = Instant::now();
    let r = send();
    let took = start.elapsed();
    echo(&r, t);
    assert!(
        took < Duration::from_millis(DELAY_MS / 2),
        "the stale entry's request waited {took:?}"
    );
    let line = event(&gw, &trace(&r), "request");
    assert_eq!(line["target"]["manifest"], "stale", "{line}");
    // The root refreshes it (its next tick, at most a second), once.
    let refreshed = wait_until(Duration::from_secs(3), "the refresh", || {
        t.count(MANIFEST) == 2
    });
    eprintln!("stale manifest: refresh fetched {refreshed:?} after the stale request");
    // Once stored, the refreshed manifest counts.
    wait_until(
        Duration::from_secs(3),
        "the refreshed manifest applies",
        || send().status == ReplyKind::Blocked.status(),
    );
    blocked_by(&send(), "ssn_to_a_target_that_keeps_it");
    assert_eq!(t.count(MANIFEST), 2, "one refresh");
    wait_prometheus(&gw, r#"iatp_manifest_cache_total{cache="stale"}"#, |v| {
        v >= 1.0
    });
}

// ---- 7. Attestation -----------------------------------------------------------------------

/// A rule that lets only targets counted as `trusted` through.
fn trusted_only() -> Value {
    json!([{"name": "untrusted_target", "condition": "target_trust_level != 'trusted'",
            "action": "block"}])
}

/// A gateway trusting `keys` under `cp-1`, `directory` as listed hosts.
fn trust_config(keys: &AttestationKeys, directory: Value) -> Value {
    config(
        json!({"manifests": {"ttl_s": 3600},
               "trust": {"ceiling": "unknown", "directory": directory,
                         "keys": {"cp-1": keys.public_key}}}),
        json!([loopback("c-open")]),
        trusted_only(),
    )
}

/// A target declaring `trusted`, with `record` embedded in its manifest or served at
/// `/.well-known/agent-attestation` only.
fn trusted_target(name: &str, agent_id: &str, record: Option<Value>, embed: bool) -> TargetSpec {
    TargetSpec {
        name: name.into(),
        manifest: Some(manifest(agent_id, "trusted", "ephemeral")),
        attestation: record,
        embed_attestation: embed,
        tls: None,
    }
}

#[test]
fn a_valid_attestation_lets_a_target_count_as_the_trust_level_it_declares() {
    let keys = AttestationKeys::generate();
    let gw = Gateway::builder()
        .plugin(&trust_config(&keys, json!([])))
        .http_target_with(trusted_target("embedded", "placeholder", None, true))
        .http_target_with(trusted_target("endpoint", "placeholder", None, false))
        .start();
    // An attestation counts for the agent its host is bound to: without a
    // `gateway.trust.agents` entry, the agent id names the target itself (here its
    // `127.0.0.1:<port>`, known once the target listens).
    let embedded = keys.sign(&gw.target(0).authority(), "cp-1", &[]);
    let served = keys.sign(&gw.target(1).authority(), "cp-1", &["--no-expiry"]);
    assert!(keys.verify(&embedded) && keys.verify(&served));
    for (t, record) in gw.targets.iter().zip([embedded, served]) {
        t.set(
            &json!({"manifest": manifest(&t.authority(), "trusted", "ephemeral"),
                      "attestation": record}),
        );
    }
    for t in &gw.targets {
        let r = gw.send(via(Request::get("/x"), &t.url(""), "c-open"));
        let line = event(&gw, &trace(&r), "request");
        assert_eq!(r.status, 200, "{}: {} {line}", t.name, r.text());
        echo(&r, t);
        assert_eq!(line["target"]["declared_trust_level"], "trusted", "{line}");
        assert_eq!(line["target"]["trust_level"], "trusted", "{line}");
        assert_eq!(line["target"]["attested"], true, "{line}");
    }
    // The embedded record needs no second fetch; the other was asked for.
    assert_eq!(gw.target(0).count(ATTESTATION), 0);
    assert_eq!(gw.target(1).count(ATTESTATION), 1);
    assert_eq!(gw.target(1).count(MANIFEST), 1);
}

#[test]
fn forged_copied_or_missing_attestations_leave_a_target_capped() {
    let keys = AttestationKeys::generate();
    let other = AttestationKeys::generate();
    // Signed by a key that is not the trusted one, under the trusted key's id.
    let forged = other.sign("agent-fk", "cp-1", &[]);
    // A valid record whose agent id was changed to the target's.
    let mut altered = keys.sign("agent-orig", "cp-1", &[]);
    altered["agent_id"] = json!("agent-alt");
    // A valid record of another agent, copied.
    let copied = keys.sign("agent-someone", "cp-1", &[]);
    assert!(!keys.verify(&forged) && !keys.verify(&altered) && keys.verify(&copied));
    let gw = Gateway::builder()
        // The directory lists `localhost`: a target named so counts as it declares.
        .plugin(&trust_config(&keys, json!(["localhost"])))
        .http_target_with(trusted_target("forged", "agent-fk", Some(forged), true))
        .http_target_with(trusted_target("altered", "agent-alt", Some(altered), true))
        .http_target_with(trusted_target("copied", "agent-copy", Some(copied), false))
        .http_target_with(trusted_target("none", "agent-none", None, false))
        .start();
    for t in &gw.targets {
        let r = gw.send(via(Request::get("/x"), &t.url(""), "c-open"));
        blocked_by(&r, "untrusted_target");
        let line = event(&gw, &trace(&r), "request");
        assert_eq!(line["target"]["declared_trust_level"], "trusted", "{line}");
        assert_eq!(line["target"]["trust_level"], "unknown", "{line}");
        assert!(line["target"].get("attested").is_none(), "{line}");
        assert_eq!(t.count("/x"), 0, "{}", t.name);
    }
    // Records served apart are asked for; a target without one answers 404.
    assert_eq!(gw.target(2).count(ATTESTATION), 1);
    assert_eq!(gw.target(3).count(ATTESTATION), 1);
    assert_eq!(gw.target(0).count(ATTESTATION), 0);
    // Listed by the operator: what it declares counts, without attestation.
    let t = gw.target(3);
    let r = gw.send(via(
        Request::get("/listed"),
        &format!("http://localhost:{}", t.addr.port()),
        "c-open",
    ));
    echo(&r, t);
    let line = event(&gw, &trace(&r), "request");
    assert_eq!(line["target"]["trust_level"], "trusted", "{line}");
    assert_eq!(line["target"]["listed"], true, "{line}");
    assert!(line["target"].get("attested").is_none(), "{line}");
}
