//! Attacks on gateway mode (issue 14) in a real Envoy: what Envoy's dynamic forward proxy and
//! its c-ares DNS cache do with the `:authority` the filter writes for a client-chosen target.
//! A failing test is a finding of `/work/notes/i14-attack.md`; passing ones pin a property.

use serde_json::{json, Value};

use crate::harness::{Gateway, Request};

/// A gateway whose only contract allows any public host over http (no address class): what a
/// contract without `allowed_targets.hosts` lets a client do.
fn plugin() -> Value {
    json!({
        "mode": "enforce",
        "manifest": {"identity": {"agent_id": "gw"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "gateway": {},
        "contracts": [{"id": "c1", "tenant_id": "t1",
                       "allowed_targets": {"schemes": ["http", "https"]}}],
    })
}

/// A name other than `localhost` that this machine's /etc/hosts maps to a loopback address
/// (containers and VMs map their own hostname so): c-ares reads /etc/hosts.
fn hosts_file_loopback_name() -> Option<String> {
    let text = std::fs::read_to_string("/etc/hosts").ok()?;
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").split_whitespace())
        .filter_map(|mut f| {
            let addr = f.next()?;
            addr.starts_with("127.").then(|| f.collect::<Vec<_>>())
        })
        .flatten()
        .find(|n| !n.contains("localhost") && !n.contains('.'))
        .map(str::to_string)
}

fn to(gw: &Gateway, url: &str) -> crate::harness::Response {
    gw.send(
        Request::post("/v1/chat", br#"{"q": 1}"#)
            .header("x-target-endpoint", url)
            .header("x-contract-id", "c1"),
    )
}

/// Finding 1 in Envoy: a single-label name is resolved by c-ares (/etc/hosts here; the search
/// domains of resolv.conf in a cluster) to an inside address; the filter reads it as a public
/// name, so a contract without `hosts` routes it. The harness removes the shipped DNS address
/// filter, exactly what a private (RFC 1918, ULA) address gets in the shipped yaml, which
/// filters loopback and link-local only.
#[test]
fn a_single_label_name_is_not_routed_to_an_inside_address() {
    let Some(name) = hosts_file_loopback_name() else {
        eprintln!("no single-label loopback name in /etc/hosts: nothing to try");
        return;
    };
    let gw = Gateway::builder().plugin(&plugin()).http_targets(1).start();
    let t = gw.target(0);
    let port = t.addr.port();
    let r = to(&gw, &format!("http://{name}:{port}/"));
    assert_eq!(
        (r.status, t.count("/v1/chat")),
        (403, 0),
        "http://{name}:{port}/ reached the loopback target: {}",
        r.text()
    );
}

/// Pinned: with the shipped DNS address filter too, a hosts-file name never reaches the
/// loopback target: a single label is private to the filter (403), and Envoy's address filter
/// would drop its loopback address after it.
#[test]
fn the_shipped_address_filter_stops_a_loopback_name_after_the_filter() {
    let Some(name) = hosts_file_loopback_name() else {
        return;
    };
    let gw = Gateway::builder()
        .plugin(&plugin())
        .http_targets(1)
        .keep_address_filter()
        .start();
    let t = gw.target(0);
    let r = to(&gw, &format!("http://{name}:{}/", t.addr.port()));
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("TARGET_FORBIDDEN"), "{}", r.text());
    assert_eq!(t.count("/v1/chat"), 0);
}

/// Pinned (finding 5): `127.0.0.1..` has an empty label: the filter refuses it (400
/// `TARGET_INVALID`) before Envoy's resolver is asked to make sense of it.
#[test]
fn a_host_with_two_trailing_dots_never_reaches_the_address_it_spells() {
    let gw = Gateway::builder().plugin(&plugin()).http_targets(1).start();
    let t = gw.target(0);
    let port = t.addr.port();
    let mut seen = Vec::new();
    for host in ["127.0.0.1..", "localhost..", "127.1..", "2130706433.."] {
        let r = to(&gw, &format!("http://{host}:{port}/"));
        seen.push(format!("{host}: {} {}", r.status, r.text().trim()));
    }
    assert_eq!(
        t.count("/v1/chat"),
        0,
        "the loopback target was reached: {seen:#?}"
    );
    assert!(
        seen.iter()
            .all(|s| s.contains(": 400 ") && s.contains("TARGET_INVALID")),
        "{seen:#?}"
    );
}
