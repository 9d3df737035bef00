//! Gateway mode through the exchange: routing, refusals, certificates, the served contracts,
//! the target's manifest from the cache or fetched, waiting for another request's fetch.

use std::rc::Rc;

use serde_json::{json, Value};

use super::*;
use crate::gateway::{Header, CONTRACT_ID, DC_DIGEST, DC_ID, TARGET_ENDPOINT, TARGET_SCHEME};
use crate::metrics::{CacheResult, FetchResult};

use super::gateway_fake::{Fake, NOW};

fn contract(extra: Value) -> Value {
    let mut c = json!({"id": "c1", "tenant_id": "t1",
        "allowed_targets": {"schemes": ["http", "https"], "address_classes": ["loopback"]}});
    if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

fn policy(gateway: Value, contracts: Value, rules: Value) -> Rc<Policy> {
    let cfg = json!({
        "manifest": {"identity": {"agent_id": "a"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"block_rules": rules},
        "gateway": gateway,
        "contracts": contracts,
    });
    Rc::new(crate::config::parse(cfg.to_string().as_bytes()).unwrap())
}

fn plain() -> Rc<Policy> {
    policy(json!({}), json!([contract(json!({}))]), json!([]))
}

struct Req<'a> {
    target: Option<&'a str>,
    contract: Option<&'a str>,
    dc: Option<(&'a str, &'a str)>,
    method: &'a str,
    path: &'a str,
}

impl Default for Req<'_> {
    fn default() -> Self {
        Req {
            target: Some("http://127.0.0.1:8081/base/"),
            contract: Some("c1"),
            dc: None,
            method: "POST",
            path: "/v1/chat?x=1",
        }
    }
}

/// The exchange after its request headers (a body follows), and its step.
fn one(v: Option<&str>) -> Header<'_> {
    v.map_or(Header::Absent, |v| Header::One(v.as_bytes()))
}

fn send(p: &Rc<Policy>, r: &Req, host: &Fake) -> (Exchange, Step) {
    let mut ex = Exchange::new(Some(p.clone()));
    let head = RequestHead {
        method: r.method.as_bytes(),
        path: r.path.as_bytes(),
        trace_id: Some(b"t1"),
        acvps: crate::gateway::AcvpsHeaders {
            target: one(r.target),
            contract: one(r.contract),
            dc_id: one(r.dc.map(|d| d.0)),
            dc_digest: one(r.dc.map(|d| d.1)),
        },
        ..RequestHead::default()
    };
    let step = ex.request_headers(&head, false, host);
    (ex, step)
}

fn edits(ex: &mut Exchange) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    ex.apply_edits(|h, name, value| {
        if h == Headers::Request {
            out.push((name.to_string(), value.map(str::to_string)));
        }
    });
    out
}

fn status(step: &Step) -> Option<u16> {
    match step {
        Step::Reply(r) => Some(r.status),
        _ => None,
    }
}

fn reply_json(step: &Step) -> Value {
    match step {
        Step::Reply(r) => serde_json::from_slice(&r.body).unwrap(),
        other => panic!("not a reply: {other:?}"),
    }
}

fn lines(ex: &Exchange) -> Vec<Value> {
    std::str::from_utf8(ex.events())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_routed_request_tells_the_forward_proxy_where_and_drops_the_acvps_headers() {
    let p = plain();
    let host = Fake::for_policy(&p);
    let (mut ex, step) = send(
        &p,
        &Req {
            dc: Some(("x", "y")),
            ..Req::default()
        },
        &host,
    );
    assert_eq!(
        step,
        Step::Pause,
        "the body is awaited with the headers held"
    );
    let e = edits(&mut ex);
    for h in [TARGET_ENDPOINT, CONTRACT_ID, DC_ID, DC_DIGEST] {
        assert!(e.contains(&(h.to_string(), None)), "{h} removed: {e:?}");
    }
    assert!(e.contains(&(TARGET_SCHEME.to_string(), Some("http".into()))));
    assert!(e.contains(&(":authority".to_string(), Some("127.0.0.1:8081".into()))));
    assert!(e.contains(&(":path".to_string(), Some("/base/v1/chat?x=1".into()))));
    // The default port is not written; a decimal IPv4 is written the way DNS reads it.
    let (mut ex, _) = send(
        &p,
        &Req {
            target: Some("https://2130706433"),
            ..Req::default()
        },
        &host,
    );
    let e = edits(&mut ex);
    assert!(e.contains(&(":authority".to_string(), Some("127.0.0.1".into()))));
    assert!(e.contains(&(TARGET_SCHEME.to_string(), Some("https".into()))));
    assert!(
        !e.iter().any(|(n, _)| n == ":path"),
        "the path unchanged: {e:?}"
    );
    // A header that did not come is not removed (each removal is a host call).
    assert!(
        !e.iter().any(|(n, _)| n == DC_ID || n == DC_DIGEST),
        "{e:?}"
    );
}

#[test]
fn each_refusal_has_its_status_and_code_and_a_blocked_line() {
    let dc = policy(
        json!({}),
        json!([contract(json!({"certificates": [{"id": "cert_1"}]})),
               {"id": "strict", "allowed_targets": {"hosts": ["api.example.com"]}}]),
        json!([]),
    );
    let host = Fake::for_policy(&dc);
    let digest = dc.contracts.get("c1").unwrap().digest.clone();
    let cases: Vec<(Req, u16, &str)> = vec![
        (
            Req {
                contract: None,
                ..Req::default()
            },
            400,
            "CONTRACT_REQUIRED",
        ),
        (
            Req {
                contract: Some("nope"),
                ..Req::default()
            },
            403,
            "CONTRACT_UNKNOWN",
        ),
        (
            Req {
                contract: Some("strict"),
                target: None,
                ..Req::default()
            },
            400,
            "TARGET_REQUIRED",
        ),
        (
            Req {
                contract: Some("strict"),
                target: Some("ftp://x/"),
                ..Req::default()
            },
            400,
            "TARGET_INVALID",
        ),
        (
            Req {
                contract: Some("strict"),
                target: Some("http://u@api.example.com/"),
                ..Req::default()
            },
            400,
            "TARGET_INVALID",
        ),
        (
            Req {
                contract: Some("strict"),
                target: Some("http://api.example.com/?q"),
                ..Req::default()
            },
            400,
            "TARGET_INVALID",
        ),
        (
            Req {
                contract: Some("strict"),
                target: Some("http://0x7f.1/"),
                ..Req::default()
            },
            403,
            "TARGET_FORBIDDEN",
        ),
        (
            Req {
                contract: Some("strict"),
                target: Some("http://[::ffff:a9fe:a9fe]/"),
                ..Req::default()
            },
            403,
            "TARGET_FORBIDDEN",
        ),
        (
            Req {
                contract: Some("strict"),
                target: Some("http://other.example.com/"),
                ..Req::default()
            },
            403,
            "TARGET_FORBIDDEN",
        ),
        (Req::default(), 409, "DC_REQUIRED"),
        (
            Req {
                dc: Some(("cert_1", "sha256:00")),
                ..Req::default()
            },
            403,
            "DC_INVALID",
        ),
        (
            Req {
                dc: Some(("cert_2", &digest)),
                ..Req::default()
            },
            403,
            "DC_INVALID",
        ),
    ];
    for (req, want, code) in cases {
        let (ex, step) = send(&dc, &req, &host);
        assert_eq!(status(&step), Some(want), "{code}: {step:?}");
        let body = reply_json(&step);
        assert_eq!(body["code"], code);
        assert_eq!(body["blocked"], true);
        let l = lines(&ex);
        let blocked = l.iter().find(|l| l["type"] == "blocked").unwrap();
        assert_eq!(blocked["status"], want);
        if code == "TARGET_FORBIDDEN" {
            // What was tried is in the audit line, as read.
            assert!(
                blocked["target"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("http://")),
                "{blocked}"
            );
        }
        // Nothing the client wrote is echoed.
        assert!(!body.to_string().contains("0x7f") && !body.to_string().contains("nope"));
    }
    let (_, step) = send(
        &dc,
        &Req {
            dc: Some(("cert_1", &digest)),
            ..Req::default()
        },
        &host,
    );
    assert_eq!(step, Step::Pause);
    // Upper-case hex is the same digest.
    let upper = format!(
        "sha256:{}",
        digest.trim_start_matches("sha256:").to_uppercase()
    );
    let (_, step) = send(
        &dc,
        &Req {
            dc: Some(("cert_1", &upper)),
            ..Req::default()
        },
        &host,
    );
    assert!(matches!(step, Step::Pause | Step::Reply(_)));
}

#[test]
fn the_gateway_serves_each_contract_canonical_with_its_digest() {
    let p = plain();
    let host = Fake::for_policy(&p);
    let (ex, step) = send(
        &p,
        &Req {
            target: None,
            contract: None,
            method: "GET",
            path: "/.well-known/acvps/contracts/c1",
            ..Req::default()
        },
        &host,
    );
    let Step::Reply(r) = &step else {
        panic!("{step:?}")
    };
    assert_eq!(r.status, 200);
    let c = p.contracts.get("c1").unwrap();
    assert_eq!(r.body, c.canonical);
    assert_eq!(crate::canonical::digest(&r.body), c.digest);
    assert!(ex
        .reply_headers()
        .contains(&("x-dc-digest", c.digest.as_str())));
    let (_, step) = send(
        &p,
        &Req {
            target: None,
            contract: None,
            method: "GET",
            path: "/.well-known/acvps/contracts/none",
            ..Req::default()
        },
        &host,
    );
    assert_eq!(status(&step), Some(404));
    // An id percent-encoded as a path segment is the same contract.
    let (_, step) = send(
        &p,
        &Req {
            target: None,
            contract: None,
            method: "GET",
            path: "/.well-known/acvps/contracts/c%31",
            ..Req::default()
        },
        &host,
    );
    assert_eq!(status(&step), Some(200));
}

fn fetching(gateway_extra: Value, rules: Value) -> Rc<Policy> {
    let mut g = json!({"manifests": {"cluster": "iatp_manifests", "fail": "closed"}});
    if let (Some(o), Some(e)) = (g.as_object_mut(), gateway_extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    policy(g, json!([contract(json!({}))]), rules)
}

const PERMANENT: &[u8] = br#"{"identity": {"agent_id": "far"}, "trust_level": "trusted",
    "privacy": {"retention": "permanent"}}"#;

#[test]
fn a_first_request_fetches_the_manifest_and_later_ones_use_the_cache() {
    let p = fetching(
        json!({}),
        json!([{"name": "ssn_to_permanent",
                "condition": "has_ssn && target_retention == 'permanent'", "action": "block"}]),
    );
    let host = Fake::for_policy(&p);
    let (mut ex, step) = send(&p, &Req::default(), &host);
    let Step::Call(call) = &step else {
        panic!("{step:?}")
    };
    assert_eq!(call.cluster, "iatp_manifests");
    for h in [
        (":path", "/.well-known/agent-manifest"),
        (":authority", "127.0.0.1:8081"),
        (TARGET_SCHEME, "http"),
    ] {
        assert!(call.headers.contains(&(h.0.into(), h.1.into())), "{h:?}");
    }
    assert!(ex.awaits_target());
    let step = ex.callout_answer(Some(200), PERMANENT, &host);
    assert_eq!(step, Step::Pause, "the body is awaited");
    let body = br#"{"ssn": "123-45-6789"}"#;
    let step = ex.request_body(body.len(), true, &host.sharing(body));
    assert_eq!(status(&step), Some(403), "{step:?}");
    let l = lines(&ex);
    let req = l.iter().find(|l| l["type"] == "request").unwrap();
    assert_eq!(req["target"]["origin"], "http://127.0.0.1:8081");
    assert_eq!(req["target"]["manifest"], "miss");
    // Capped: a target's own word counts as `unknown` at most.
    assert_eq!(req["target"]["declared_trust_level"], "trusted");
    assert_eq!(req["target"]["trust_level"], "unknown");
    assert_eq!(
        ex.take_target_tally(),
        (Some(CacheResult::Miss), Some(FetchResult::Ok))
    );

    // The next request to that target: a hit, no call.
    let (mut ex, step) = send(&p, &Req::default(), &host);
    assert_eq!(step, Step::Pause);
    let step = ex.request_body(2, true, &host.sharing(b"{}"));
    assert_eq!(step, Step::Continue);
    let l = lines(&ex);
    assert_eq!(l[0]["target"]["manifest"], "hit");
}

#[test]
fn others_wait_for_the_one_fetch_and_go_on_when_it_is_stored() {
    let p = fetching(json!({}), json!([]));
    let host = Fake::for_policy(&p);
    let (mut first, step) = send(&p, &Req::default(), &host);
    assert!(matches!(step, Step::Call(_)));
    let (mut second, step) = send(&p, &Req::default(), &host);
    assert_eq!(step, Step::Wait);
    assert!(second.waits_for_target());
    // Still fetching: wait on.
    assert_eq!(second.poll_target(&host), Step::Wait);
    // Its body came meanwhile, whole.
    assert_eq!(
        second.request_body(2, true, &host.sharing(b"{}")),
        Step::Pause
    );
    first.callout_answer(Some(200), PERMANENT, &host);
    let step = second.poll_target(&host.sharing(b"{}"));
    assert_eq!(
        step,
        Step::Continue,
        "decided on the body that came while it waited"
    );
    // Past the lease with nothing stored (the fetching request was reset): the root is asked
    // to fetch, once; when that does not store either, the fail mode.
    let p = fetching(json!({}), json!([]));
    let host = Fake::for_policy(&p);
    let (_abandoned, _) = send(&p, &Req::default(), &host);
    let (mut waiting, step) = send(&p, &Req::default(), &host);
    assert_eq!(step, Step::Wait);
    let later = Fake {
        now: NOW + 10_000_000_000,
        ..host.sharing(b"")
    };
    assert_eq!(waiting.poll_target(&later), Step::Wait);
    assert!(waiting.take_refresh().is_some(), "the root fetches instead");
    let much_later = Fake {
        now: NOW + 30_000_000_000,
        ..host.sharing(b"")
    };
    assert_eq!(status(&waiting.poll_target(&much_later)), Some(502));
}

#[test]
fn a_target_without_a_manifest_goes_on_and_a_failed_fetch_follows_the_fail_mode() {
    let rules = json!([{"name": "no_manifest", "condition": "!target_manifest && method == 'DELETE'",
                        "action": "block"}]);
    let p = fetching(json!({}), rules.clone());
    let host = Fake::for_policy(&p);
    let (mut ex, _) = send(&p, &Req::default(), &host);
    assert_eq!(ex.callout_answer(Some(404), b"", &host), Step::Pause);
    // Remembered: no second fetch.
    let (_, step) = send(
        &p,
        &Req {
            method: "DELETE",
            ..Req::default()
        },
        &host,
    );
    assert_eq!(status(&step), Some(403), "{step:?}");

    let (mut ex, _) = send(
        &p,
        &Req {
            target: Some("http://127.0.0.1:9/"),
            ..Req::default()
        },
        &host,
    );
    let step = ex.callout_answer(Some(503), b"upstream connect error", &host);
    assert_eq!(status(&step), Some(502));
    assert_eq!(reply_json(&step)["code"], "TARGET_UNAVAILABLE");
    let open = fetching(json!({"manifests": {"fail": "open"}}), rules);
    let host = Fake::for_policy(&open);
    let (mut ex, _) = send(&open, &Req::default(), &host);
    assert_eq!(ex.callout_answer(None, b"", &host), Step::Pause);
    let step = ex.request_body(2, true, &host.sharing(b"{}"));
    assert_eq!(step, Step::Continue);
    assert_eq!(lines(&ex)[0]["target"]["manifest"], "failed_open");
    // An invalid manifest is a failure too.
    let (mut ex, _) = send(
        &p,
        &Req {
            target: Some("http://127.0.0.1:10/"),
            ..Req::default()
        },
        &Fake::for_policy(&p),
    );
    let host = Fake::for_policy(&p);
    let (mut ex2, _) = send(
        &p,
        &Req {
            target: Some("http://127.0.0.1:10/"),
            ..Req::default()
        },
        &host,
    );
    assert_eq!(
        status(&ex2.callout_answer(Some(200), b"[1]", &host)),
        Some(502)
    );
    let _ = ex.take_target_tally();
}

#[test]
fn the_directory_lets_a_target_s_declared_trust_count() {
    let p = fetching(
        json!({"trust": {"directory": ["127.0.0.1"]}}),
        json!([{"name": "untrusted", "condition": "target_trust_level != 'trusted'", "action": "block"}]),
    );
    let host = Fake::for_policy(&p);
    let (mut ex, _) = send(&p, &Req::default(), &host);
    assert_eq!(ex.callout_answer(Some(200), PERMANENT, &host), Step::Pause);
    let step = ex.request_body(2, true, &host.sharing(b"{}"));
    assert_eq!(step, Step::Continue);
    assert_eq!(lines(&ex)[0]["target"]["listed"], true);
}

#[test]
fn contracts_from_a_control_plane_are_checked_scoped_and_must_keep_the_named_ones() {
    let cfg = |extra: Value| {
        let mut c = json!({
            "manifest": {"identity": {"agent_id": "a"}, "privacy": {"retention": "ephemeral"}},
            "gateway": {"contract": "c1"},
            "control_plane": {"cluster": "cp", "tenant_id": "t1", "address_classes": ["loopback"]},
            "contracts": [contract(json!({}))],
        });
        if let (Some(o), Some(e)) = (c.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                o.insert(k.clone(), v.clone());
            }
        }
        crate::config::parse(c.to_string().as_bytes()).unwrap()
    };
    let p = cfg(json!({}));
    let answer = json!({"contracts": [contract(json!({})),
        {"id": "c2", "tenant_id": "t1"}, {"id": "x", "tenant_id": "t2"}, {"id": "y"}]});
    let (c, dropped) =
        crate::config::contracts_from_control_plane(answer.to_string().as_bytes(), &p).unwrap();
    assert_eq!(dropped, 2);
    assert_eq!(c.len(), 2);
    assert!(c.get("c2").is_some() && c.get("x").is_none());
    let e = crate::config::contracts_from_control_plane(
        json!({"contracts": [contract(json!({"colour": 1}))]})
            .to_string()
            .as_bytes(),
        &p,
    )
    .unwrap_err();
    assert!(e.to_string().contains("control_plane.contracts[0]"), "{e}");
    let e = crate::config::contracts_from_control_plane(
        json!({"contracts": [{"id": "c2", "tenant_id": "t1"}]})
            .to_string()
            .as_bytes(),
        &p,
    )
    .unwrap_err();
    assert!(e.to_string().contains("gateway.contract"), "{e}");
    // A control plane cannot open address classes the operator did not let it.
    let closed = cfg(json!({"control_plane": {"cluster": "cp", "tenant_id": "t1"}}));
    let e = crate::config::contracts_from_control_plane(
        json!({"contracts": [contract(json!({}))]})
            .to_string()
            .as_bytes(),
        &closed,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("control_plane.address_classes"),
        "{e}"
    );
    for bad in [&b"nope"[..], b"{\"contracts\": null}", b"[]"] {
        assert!(crate::config::contracts_from_control_plane(bad, &p).is_err());
    }
    // A swapped policy keeps everything else.
    let swapped = p.with_contracts(c);
    assert_eq!(swapped.contracts.len(), 2);
    assert_eq!(swapped.rules.len(), p.rules.len());
}

#[test]
fn bad_gateway_keys_are_refused_naming_them() {
    let base = |extra: Value| {
        let mut c = json!({"manifest": {"identity": {"agent_id": "a"}, "privacy": {"retention": "ephemeral"}},
                           "contracts": [contract(json!({}))]});
        if let (Some(o), Some(e)) = (c.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                o.insert(k.clone(), v.clone());
            }
        }
        crate::config::parse(c.to_string().as_bytes())
    };
    let cases = [
        (json!({"gateway": {"contract": "nope"}}), "gateway.contract"),
        (
            json!({"gateway": {"manifests": {"ttl_s": 0}}}),
            "gateway.manifests.ttl_s",
        ),
        (
            json!({"gateway": {"manifests": {"max_entries": 70000}}}),
            "gateway.manifests.max_entries",
        ),
        (json!({"gateway": {"manifests": {"fail": "maybe"}}}), "fail"),
        (
            json!({"gateway": {"trust": {"keys": {"k": "not base64"}}}}),
            "gateway.trust.keys.k",
        ),
        (
            json!({"gateway": {"trust": {"directory": ["a b"]}}}),
            "gateway.trust.directory[0]",
        ),
        (
            json!({"gateway": {"trust": {"ceiling": "godlike"}}}),
            "ceiling",
        ),
        (
            json!({"control_plane": {"cluster": "cp", "tenant_id": "a&b=c"}}),
            "control_plane.tenant_id",
        ),
        (json!({"control_plane": {"cluster": "cp"}}), "tenant_id"),
        (
            json!({"contracts": [contract(json!({"allowed_targets": {"address_classes": ["public"]}}))]}),
            "contracts[0].allowed_targets.address_classes[0]",
        ),
        (
            json!({"contracts": [contract(json!({"allowed_targets": {"schemes": ["ftp"]}}))]}),
            "contracts[0].allowed_targets.schemes[0]",
        ),
        (
            json!({"contracts": [contract(json!({"allowed_targets": {"ports": [0]}}))]}),
            "contracts[0].allowed_targets.ports[0]",
        ),
        (
            json!({"contracts": [contract(json!({"target_endpoint": "http://a@b/"}))]}),
            "contracts[0].target_endpoint",
        ),
        (
            json!({"contracts": [contract(json!({"certificates": [{"id": "a"}, {"id": "a"}]}))]}),
            "contracts[0].certificates[1].id",
        ),
        (json!({"attestation": {"agent_id": "a"}}), "attestation"),
    ];
    for (cfg, path) in cases {
        let e = base(cfg.clone()).unwrap_err().to_string();
        assert!(e.contains(path), "{cfg}: {e}");
    }
    // Rules about a target's manifest need manifests fetched.
    let e = base(json!({"gateway": {}, "policy": {"block_rules": [
        {"name": "r", "condition": "target_retention == 'permanent'", "action": "block"}]}}))
    .unwrap_err()
    .to_string();
    assert!(e.contains("gateway.manifests"), "{e}");
}

#[test]
fn an_attestation_counts_only_signed_by_a_trusted_key_and_for_the_agent_its_host_is_bound_to() {
    let fixture: Value = serde_json::from_str(include_str!("../attestation/fixture.json")).unwrap();
    let record = fixture["records"]["sdk"].clone();
    let key = fixture["public_key_b64"].as_str().unwrap();
    // The record's time, so that it is valid now.
    let at = crate::attestation::parse_rfc3339_ms(record["timestamp"].as_str().unwrap()).unwrap();
    let now = u64::try_from(at).unwrap() * 1_000_000 + 60_000_000_000;
    let manifest = |record: &Value| {
        json!({"agent_id": "booking-agent", "trust_level": "trusted",
               "privacy_contract": {"retention": "ephemeral"}, "attestation": record})
        .to_string()
    };
    let rules = json!([{"name": "untrusted", "condition": "target_trust_level != 'trusted'",
                        "action": "block"}]);
    let run = |agents: Value, record: &Value| -> (Step, Value) {
        let p = fetching(
            json!({"trust": {"keys": {"cp-test-1": key}, "agents": agents}}),
            rules.clone(),
        );
        let host = Fake {
            now,
            ..Fake::for_policy(&p)
        };
        let (mut ex, _) = send(&p, &Req::default(), &host);
        let body = manifest(record);
        // A rule the headers decide: the answer decides.
        let step = match ex.callout_answer(Some(200), body.as_bytes(), &host) {
            Step::Pause => ex.request_body(2, true, &host.sharing(b"{}")),
            other => other,
        };
        let line = lines(&ex)[0]["target"].clone();
        (step, line)
    };
    // Bound by the operator: counts.
    let (step, line) = run(json!({"127.0.0.1": "booking-agent"}), &record);
    assert_eq!(step, Step::Continue, "{line}");
    assert_eq!(line["attested"], true);
    assert_eq!(line["trust_level"], "trusted");
    // Not bound (the record names another agent than the host): a copy of someone's record.
    let (step, line) = run(json!({}), &record);
    assert_eq!(status(&step), Some(403), "{line}");
    assert_eq!(line.get("attested"), None);
    // Bound to another agent.
    let (step, _) = run(json!({"127.0.0.1": "other-agent"}), &record);
    assert_eq!(status(&step), Some(403));
    // Forged: a field changed after signing.
    let mut forged = record.clone();
    forged["codebase_hash"] = json!("00");
    let (step, line) = run(json!({"127.0.0.1": "booking-agent"}), &forged);
    assert_eq!(status(&step), Some(403), "{line}");
    // A name binds itself (its did:web DID too).
    let p = fetching(json!({}), json!([]));
    let gw = p.gateway.as_ref().unwrap();
    let t = |u: &str| crate::target::Target::parse(u).unwrap();
    assert!(gw
        .trust
        .bound(&t("https://agent.example.com/"), "agent.example.com"));
    assert!(gw.trust.bound(
        &t("https://agent.example.com/"),
        "did:web:agent.example.com"
    ));
    assert!(gw.trust.bound(
        &t("https://agent.example.com:8443/"),
        "did:web:agent.example.com%3A8443"
    ));
    assert!(!gw
        .trust
        .bound(&t("https://agent.example.com/"), "booking-agent"));
    assert!(!gw
        .trust
        .bound(&t("https://evil.example/"), "agent.example.com"));
}

#[test]
fn a_waiter_whose_clock_runs_behind_the_fetcher_s_waits_for_its_lease() {
    // Envoy caches the time per worker's event loop: the fetching request's worker may read a
    // few milliseconds later than the waiting one's.
    let p = fetching(json!({}), json!([]));
    let lease = p
        .gateway
        .as_ref()
        .unwrap()
        .manifests
        .as_ref()
        .unwrap()
        .cache
        .lease_ms;
    let waiter_clock = Fake::for_policy(&p);
    let fetcher_clock = Fake {
        now: NOW + 5_000_000,
        ..waiter_clock.sharing(b"")
    };
    let (_fetching, step) = send(&p, &Req::default(), &fetcher_clock);
    assert!(matches!(step, Step::Call(_)));
    let (mut waiting, step) = send(&p, &Req::default(), &waiter_clock);
    assert_eq!(step, Step::Wait);
    // Past the waiter's own deadline, the fetcher's lease still live: wait on.
    let at = |ms: u64| Fake {
        now: NOW + ms * 1_000_000,
        ..waiter_clock.sharing(b"{}")
    };
    assert_eq!(waiting.poll_target(&at(lease + 1)), Step::Wait);
    // The lease over and nothing stored: the root is asked, once.
    assert_eq!(waiting.poll_target(&at(lease + 6)), Step::Wait);
    assert!(waiting.take_refresh().is_some());
}
