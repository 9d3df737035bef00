//! Issue 12 in a real Envoy: who is calling (SPIFFE IDs of client certificates made at test
//! time, claims of tokens Envoy's `jwt_authn` verified, a declared header), what they ask for
//! (MCP, A2A, OpenAI bodies through the real client libraries), the example rules and actions,
//! replies in each protocol's shape, and the filter's own per-caller token buckets across two
//! workers. The plugin configuration is envoy/envoy-mtls-jwt.yaml's (the shipped file), or a
//! copy with the changes a test names; expected values are read from it.
//!
//! Envoy refuses expired, wrong-issuer, tampered and other-key tokens with 401 before the
//! filter sees them (no event line, nothing at the agent):
//! `mtls_jwt::jwt_authn_refuses_bad_tokens_before_the_filter_and_passes_a_valid_one_or_none`.

use serde_json::{json, Value};

use crate::harness::pki::{BILLING, ISSUER};
use crate::harness::{ClientCert, EnvoyConfig, Request, Stack, StackBuilder, Token};

/// The plugin configuration of envoy/envoy-mtls-jwt.yaml.
fn shipped() -> Value {
    let text = EnvoyConfig::load(&crate::harness::paths::repo().join("envoy/envoy-mtls-jwt.yaml"))
        .plugin_config();
    serde_json::from_str(&text).expect("the shipped plugin configuration is JSON")
}

fn directory(plugin: &mut Value) -> &mut Vec<Value> {
    plugin["callers"]["directory"]
        .as_array_mut()
        .expect("callers.directory")
}

fn entry<'a>(plugin: &'a Value, name: &str) -> &'a Value {
    plugin["callers"]["directory"]
        .as_array()
        .and_then(|d| d.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("no directory entry {name}"))
}

fn action<'a>(plugin: &'a Value, name: &str) -> &'a Value {
    plugin["policy"]["actions"]
        .as_array()
        .and_then(|d| d.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("no action {name}"))
}

fn rule<'a>(plugin: &'a Value, name: &str) -> &'a Value {
    plugin["policy"]["block_rules"]
        .as_array()
        .and_then(|d| d.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("no rule {name}"))
}

/// The caller object a `request` line should carry for directory entry `name` (the default's
/// when `name` is the default's): tier and trust level from the entry, else the default's.
fn expected_caller(plugin: &Value, name: &str, source: &str, id: Option<&str>) -> Value {
    let default = &plugin["callers"]["default"];
    let e = if default["name"] == name {
        default
    } else {
        entry(plugin, name)
    };
    let mut c = json!({
        "name": name,
        "source": source,
        "tier": e.get("tier").unwrap_or(&default["tier"]),
        "trust_level": e.get("trust_level").unwrap_or(&default["trust_level"]),
    });
    if let Some(id) = id {
        c["id"] = json!(id);
    }
    c
}

/// Every caller gets a generous rate limit, so that the tests of rules and identities are not
/// cut short by the shipped limits (the rate-limit tests set their own).
fn unlimited(plugin: &mut Value) {
    let lots = json!({"requests_per_minute": 100000, "burst": 10000});
    for e in directory(plugin).iter_mut() {
        if e.get("rate_limit").is_some() {
            e["rate_limit"] = lots.clone();
        }
    }
    plugin["callers"]["default"]["rate_limit"] = lots;
}

fn mtls(plugin: &Value) -> StackBuilder {
    Stack::builder().mtls_jwt().plugin(plugin)
}

/// The `request` line of a trace (waits for `n` lines).
fn request_line(stack: &Stack, trace: &str, n: usize) -> Value {
    stack
        .events_for(trace, n)
        .into_iter()
        .find(|e| e["type"] == "request")
        .unwrap_or_else(|| panic!("no request line for {trace}"))
}

fn line_of(stack: &Stack, trace: &str, n: usize, kind: &str) -> Value {
    let lines = stack.events_for(trace, n);
    lines
        .iter()
        .find(|e| e["type"] == kind)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind} line for {trace}: {lines:#?}"))
}

fn json_rpc(path: &str, body: &str, trace: &str) -> Request {
    // `Request::post` says `content-type: application/json`.
    Request::post(path, body)
        .header("accept", "application/json, text/event-stream")
        .header("x-agent-trace-id", trace)
}

fn tools_call(id: &str, tool: &str, arguments: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 0, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments}})
    .to_string()
    .replace(r#""id":0"#, &format!(r#""id":{id}"#))
}

fn upstream_saw(stack: &Stack, trace: &str) -> Vec<Value> {
    stack
        .upstream()
        .requests()
        .into_iter()
        .filter(|r| r["headers"]["x-agent-trace-id"] == trace)
        .collect()
}

/// (a) SPIFFE identities: the first URI SAN of the client certificate, matched exactly, by
/// trust domain, by path prefix; anything else (no entry, not a SPIFFE ID, a first URI SAN
/// that is not one) is the default caller. The `request` line says who; the agent receives
/// `x-iatp-caller` set to the caller's name, once, whatever the caller sent under that name;
/// a declared header is no identity unless configured (the shipped file declares none).
#[test]
fn spiffe_ids_name_the_caller_in_events_and_in_x_iatp_caller() {
    let plugin = shipped();
    let stack = mtls(&plugin).start();
    let creds = stack.creds();
    let default = plugin["callers"]["default"]["name"].as_str().unwrap();
    let partners = entry(&plugin, "partners");
    let ops_prefix = entry(&plugin, "ops")["match"]["spiffe_id_prefix"]
        .as_str()
        .unwrap();
    assert_eq!(entry(&plugin, "billing")["match"]["spiffe_id"], BILLING);
    let partner_id = format!(
        "spiffe://{}/ns/a/sa/b",
        partners["match"]["spiffe_trust_domain"].as_str().unwrap()
    );
    let ops_id = format!("{ops_prefix}sa/deployer");
    let ops_itself = ops_prefix.trim_end_matches('/').to_string();
    let opsx = format!("{}x/sa/a", ops_prefix.trim_end_matches('/'));
    let billing_child = format!("{BILLING}/extra");
    let evil_domain = format!(
        "spiffe://{}.evil/ns/a",
        partners["match"]["spiffe_trust_domain"].as_str().unwrap()
    );
    let upper = BILLING.replace("example.org", "EXAMPLE.org");
    // (SANs of the certificate, or None for the default client certificate; name; source; id)
    let cases: Vec<(Option<String>, &str, &str, Option<&str>)> = vec![
        (None, "billing", "spiffe", Some(BILLING)),
        (
            Some(format!("URI:{partner_id}")),
            "partners",
            "spiffe",
            Some(&partner_id),
        ),
        (
            Some(format!("URI:{ops_id}")),
            "ops",
            "spiffe",
            Some(&ops_id),
        ),
        (
            Some(format!("URI:{ops_itself}")),
            "ops",
            "spiffe",
            Some(&ops_itself),
        ),
        // Below the prefix only at a `/` boundary.
        (Some(format!("URI:{opsx}")), default, "spiffe", Some(&opsx)),
        // An exact entry is exact.
        (
            Some(format!("URI:{billing_child}")),
            default,
            "spiffe",
            Some(&billing_child),
        ),
        // The trust domain is compared whole.
        (
            Some(format!("URI:{evil_domain}")),
            default,
            "spiffe",
            Some(&evil_domain),
        ),
        // Not SPIFFE IDs: no identity at all (no JWT, no header source).
        (
            Some(format!("URI:https://example.com/not-spiffe,URI:{BILLING}")),
            default,
            "anonymous",
            None,
        ),
        (Some(format!("URI:{upper}")), default, "anonymous", None),
        (
            Some("DNS:nobody.example".into()),
            default,
            "anonymous",
            None,
        ),
    ];
    // A caller's own `x-forwarded-client-cert` naming billing: identity comes from the
    // handshake only (and Envoy sanitizes the header).
    let nobody = creds.client_with_sans("DNS:nobody.example");
    let r = stack
        .send_tls_as(
            Some(&nobody),
            Request::get("/who")
                .header("x-agent-trace-id", "spiffe-xfcc")
                .header(
                    "x-forwarded-client-cert",
                    format!("By={BILLING};URI={BILLING}"),
                ),
        )
        .expect("a response");
    assert_eq!(r.status, 200);
    assert_eq!(
        request_line(&stack, "spiffe-xfcc", 2)["caller"],
        expected_caller(&plugin, default, "anonymous", None)
    );
    let seen = stack.agent_requests_for("spiffe-xfcc");
    assert!(
        seen[0]["headers"].get("x-forwarded-client-cert").is_none(),
        "{seen:?}"
    );
    for (i, (sans, name, source, id)) in cases.iter().enumerate() {
        let cert = sans.as_ref().map(|s| creds.client_with_sans(s));
        let trace = format!("spiffe-{i}");
        // Each caller claims to be someone else, by the filter's header and by a header
        // that would name a caller if the configuration declared it.
        let spoof = if *name == "billing" {
            "admins"
        } else {
            "billing"
        };
        let r = stack
            .send_tls_as(
                Some(cert.as_ref().unwrap_or(&creds.client)),
                Request::get("/who")
                    .header("x-agent-trace-id", &trace)
                    .header("x-iatp-caller", spoof)
                    .header("x-caller-id", "billing"),
            )
            .expect("a response");
        assert_eq!(r.status, 200, "{trace} {sans:?}: {}", r.text());
        let line = request_line(&stack, &trace, 2);
        assert_eq!(
            line["caller"],
            expected_caller(&plugin, name, source, *id),
            "{trace} {sans:?}: {line}"
        );
        let seen = stack.agent_requests_for(&trace);
        assert_eq!(seen.len(), 1, "{trace}");
        // The mock agent joins repeated fields with ", ": exactly one value, the filter's.
        assert_eq!(
            seen[0]["headers"]["x-iatp-caller"], *name,
            "{trace} {sans:?}: {seen:?}"
        );
    }
}

/// A SPIFFE ID the shipped directory does not know.
const STRANGER: &str = "spiffe://example.org/ns/elsewhere/sa/x";

/// (trace, certificate, token, extra headers, expected caller object)
type JwtCase<'a> = (
    &'a str,
    &'a ClientCert,
    Option<String>,
    Vec<(&'a str, &'a str)>,
    Value,
);

/// (b) The claims of a token Envoy's `jwt_authn` verified (keys made at test time) identify a
/// caller whose certificate carries no SPIFFE ID: by issuer and subject, by a claim value, by
/// issuer alone with the tier from the verified `tier` claim; `claim('role')` in a rule; a
/// SPIFFE ID still wins over a token, a token over a declared header (configured here), and a
/// declared header given twice, or not a plain token, is no identity. No token, nor its
/// signature, is ever written in an event line; a subject that is an e-mail address is
/// written `[REDACTED]`.
#[test]
fn verified_jwt_claims_name_the_caller_and_no_token_reaches_an_event_line() {
    let mut plugin = shipped();
    unlimited(&mut plugin);
    let web = directory(&mut plugin)
        .iter()
        .position(|e| e["name"] == "web-user")
        .unwrap();
    directory(&mut plugin).splice(
        web..web,
        [
            json!({"name": "alice", "match": {"jwt_issuer": ISSUER, "jwt_subject": "user-1"},
                   "trust_level": "trusted", "tier": 1}),
            json!({"name": "admins", "match": {"jwt_issuer": ISSUER, "claims": {"role": "admin"}},
                   "tier": 4}),
        ],
    );
    directory(&mut plugin).push(json!({"name": "legacy-bot",
        "match": {"header_value": "legacy-bot"}, "trust_level": "untrusted", "tier": 0}));
    plugin["callers"]["sources"]["header"] = json!("x-caller-id");
    plugin["policy"]["block_rules"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "auditors_read_only",
            "condition": "claim('role') == 'auditor' && method != 'GET'",
            "action": "block", "message": "Auditors only read."}));
    let stack = mtls(&plugin).start();
    let creds = stack.creds();
    let gateway = creds.client_with_sans("DNS:gateway.example");
    let stranger = creds.client_with_sans(&format!("URI:{STRANGER}"));
    let tier_claim = plugin["callers"]["tier_claim"]
        .as_str()
        .unwrap()
        .to_string();
    let default = plugin["callers"]["default"]["name"].as_str().unwrap();
    let token = |sub: &str, claims: Value| creds.token(&Token::valid(sub).claims(claims));
    let mut tokens = Vec::new();
    // (trace, certificate, token, extra headers, expected caller object)
    let mut cases: Vec<JwtCase> = vec![];
    let with_issuer = |mut c: Value| {
        c["issuer"] = json!(ISSUER);
        c
    };
    // Issuer and subject; the entry's tier wins over the claim.
    cases.push((
        "jwt-sub",
        &gateway,
        Some(token("user-1", json!({&tier_claim: 5}))),
        vec![],
        with_issuer(expected_caller(&plugin, "alice", "jwt", Some("user-1"))),
    ));
    // A claim value.
    cases.push((
        "jwt-claim",
        &gateway,
        Some(token("user-2", json!({"role": "admin"}))),
        vec![],
        with_issuer(expected_caller(&plugin, "admins", "jwt", Some("user-2"))),
    ));
    // Issuer alone: the tier from the verified claim (a number, or a decimal string).
    for (trace, sub, claim, tier) in [
        ("jwt-tier-2", "user-3", json!(2), 2),
        ("jwt-tier-s7", "user-4", json!("7"), 7),
    ] {
        let mut want = with_issuer(expected_caller(&plugin, "web-user", "jwt", Some(sub)));
        want["tier"] = json!(tier);
        cases.push((
            trace,
            &gateway,
            Some(token(sub, json!({&tier_claim: claim}))),
            vec![],
            want,
        ));
    }
    // No tier claim, or one out of 0..=9: the default's tier.
    for (trace, sub, claims) in [
        ("jwt-no-tier", "user-5", json!({})),
        ("jwt-tier-12", "user-6", json!({&tier_claim: 12})),
    ] {
        cases.push((
            trace,
            &gateway,
            Some(token(sub, claims)),
            vec![],
            with_issuer(expected_caller(&plugin, "web-user", "jwt", Some(sub))),
        ));
    }
    // A subject that is an e-mail address (a detected value) is never written.
    cases.push((
        "jwt-email",
        &gateway,
        Some(token("alice@example.com", json!({}))),
        vec![],
        with_issuer(expected_caller(
            &plugin,
            "web-user",
            "jwt",
            Some("[REDACTED]"),
        )),
    ));
    // SPIFFE first, then the token, then the declared header.
    cases.push((
        "jwt-and-spiffe",
        &creds.client,
        Some(token("user-1", json!({}))),
        vec![("x-caller-id", "legacy-bot")],
        expected_caller(&plugin, "billing", "spiffe", Some(BILLING)),
    ));
    // A token's tier and permitted actions count only for a JWT identity: a SPIFFE peer the
    // directory does not know keeps the default's tier, whatever its token claims.
    cases.push((
        "jwt-tier-on-spiffe",
        &stranger,
        Some(token("user-8", json!({&tier_claim: 9}))),
        vec![],
        expected_caller(&plugin, default, "spiffe", Some(STRANGER)),
    ));
    cases.push((
        "jwt-and-header",
        &gateway,
        Some(token("user-1", json!({}))),
        vec![("x-caller-id", "legacy-bot")],
        with_issuer(expected_caller(&plugin, "alice", "jwt", Some("user-1"))),
    ));
    cases.push((
        "header",
        &gateway,
        None,
        vec![("x-caller-id", "legacy-bot")],
        expected_caller(&plugin, "legacy-bot", "header", Some("legacy-bot")),
    ));
    cases.push((
        "header-unknown",
        &gateway,
        None,
        vec![("x-caller-id", "someone")],
        expected_caller(&plugin, default, "header", Some("someone")),
    ));
    // Two fields: which one would the agent read? No identity.
    cases.push((
        "header-twice",
        &gateway,
        None,
        vec![("x-caller-id", "legacy-bot"), ("x-caller-id", "legacy-bot")],
        expected_caller(&plugin, default, "anonymous", None),
    ));
    // Not a plain visible-ASCII token: no identity.
    cases.push((
        "header-space",
        &gateway,
        None,
        vec![("x-caller-id", "legacy bot")],
        expected_caller(&plugin, default, "anonymous", None),
    ));
    for (trace, cert, tok, headers, want) in &cases {
        let mut req = Request::get("/j").header("x-agent-trace-id", trace);
        if let Some(t) = tok {
            req = req.header("authorization", format!("Bearer {t}"));
            tokens.push(t.clone());
        }
        for (n, v) in headers {
            req = req.header(n, v);
        }
        let r = stack.send_tls_as(Some(cert), req).expect("a response");
        assert_eq!(r.status, 200, "{trace}: {}", r.text());
        let line = request_line(&stack, trace, 2);
        assert_eq!(line["caller"], *want, "{trace}: {line}");
        let seen = stack.agent_requests_for(trace);
        assert_eq!(seen.len(), 1, "{trace}");
        assert_eq!(seen[0]["headers"]["x-iatp-caller"], want["name"], "{trace}");
    }

    // claim('role') in a rule: an auditor may read, not write.
    let auditor = token("user-7", json!({"role": "auditor"}));
    tokens.push(auditor.clone());
    let send = |method: &str, trace: &str| {
        stack
            .send_tls_as(
                Some(&gateway),
                Request::new(method, "/j")
                    .body("note")
                    .header("authorization", format!("Bearer {auditor}"))
                    .header("x-agent-trace-id", trace),
            )
            .expect("a response")
    };
    let no = send("POST", "jwt-auditor-post");
    let rule = rule(&plugin, "auditors_read_only");
    assert_eq!(no.status, 403, "{}", no.text());
    assert_eq!(no.json()["rule"], rule["name"]);
    assert_eq!(no.json()["error"], rule["message"]);
    let blocked = line_of(&stack, "jwt-auditor-post", 2, "blocked");
    assert_eq!(blocked["reason"], rule["name"]);
    assert!(stack.agent_requests_for("jwt-auditor-post").is_empty());
    assert_eq!(send("GET", "jwt-auditor-get").status, 200);

    // No token, nor any token's signature, in any event line.
    stack.events_for("jwt-auditor-get", 2);
    let text = crate::harness::read_text(&stack.events_path());
    assert!(text.contains("user-1"), "the events were read");
    for t in &tokens {
        let signature = t.rsplit('.').next().unwrap();
        let payload = t.split('.').nth(1).unwrap();
        assert!(
            !text.contains(signature),
            "a token's signature is in the events"
        );
        assert!(
            !text.contains(payload),
            "a token's payload is in the events"
        );
    }
    assert!(!text.contains("alice@example.com"));
}

/// What a client library call returned, checked to be a refusal: its `error` object.
fn refused(out: &Value) -> &Value {
    assert_eq!(out["ok"], false, "not refused: {out}");
    &out["error"]
}

/// (c) The shipped example, through the real MCP and A2A clients and the real MCP server: the
/// action `delete_file` (tier 3, permitted actions) refused as JSON-RPC -31004 saying the tier
/// required and the caller's, while billing (tier 3) deletes; the rule on `mcp_arg('path')`
/// refuses `/etc/` with -31001 and lets `/tmp/` through; an SSN from an unknown caller asks for
/// confirmation (-31002, the override token in `data`; the override goes through) and an A2A
/// caller gets its own error type for it, while a known caller passes. Every refusal answers
/// the request's own `id` (the client matched it: it raised rather than hung). A batch with
/// one refused call is refused whole, an error per id; an ambiguous body is -32600.
#[test]
fn the_shipped_actions_and_rules_refuse_mcp_and_a2a_calls_with_json_rpc_errors() {
    let mut plugin = shipped();
    unlimited(&mut plugin);
    let stack = mtls(&plugin).python_upstream().start();
    let creds = stack.creds();
    let partner = creds.client_with_sans("URI:spiffe://partner.example/ns/a/sa/b");
    let gateway = creds.client_with_sans("DNS:gateway.example");
    let delete = action(&plugin, "delete_file");
    let required = delete["required_tier"].as_u64().unwrap();
    let partner_tier = entry(&plugin, "partners")["tier"].as_u64().unwrap();
    assert!(
        partner_tier < required && entry(&plugin, "billing")["tier"].as_u64().unwrap() >= required
    );
    let mcp = |cert: &ClientCert, headers: &[String], tool: &str, args: Value| {
        let mut call = stack.client_call("/mcp");
        call.cert = Some(cert);
        call.headers.extend(headers.iter().cloned());
        call.run(&["mcp-call", tool, &args.to_string()])
    };

    // The action: a partner's tier is too low.
    let out = mcp(&partner, &[], "delete_file", json!({"path": "/srv/x"}));
    let e = refused(&out);
    assert_eq!(e["class"], "MCPError", "{e}");
    assert_eq!(e["code"], -31004, "{e}");
    assert_eq!(
        e["message"],
        format!(
            "Action 'delete_file' is not permitted: it requires tier {required}, the caller has tier {partner_tier}"
        )
    );
    let data = &e["data"];
    assert_eq!(data["action"], delete["name"]);
    assert_eq!(data["required_tier"], required);
    assert_eq!(data["current_tier"], partner_tier);
    assert_eq!(data["caller"], "partners");
    assert_eq!(
        data["status"],
        plugin["replies"]["status"]["forbidden"]
            .as_u64()
            .unwrap_or(403)
    );
    let trace = data["trace_id"].as_str().unwrap();
    let denied = line_of(&stack, trace, 2, "denied");
    assert_eq!(denied["caller"], "partners");
    assert_eq!(denied["action"], "delete_file");
    assert_eq!(denied["reason"], "Insufficient trust tier");
    assert_eq!(denied["required_tier"], required);
    assert_eq!(denied["current_tier"], partner_tier);
    assert!(
        upstream_saw(&stack, trace).is_empty(),
        "the refused call reached the agent"
    );

    // The action: a token's tier is enough, but its permitted actions do not name it.
    let tok = creds.token(&Token::valid("user-9").claims(json!({
        plugin["callers"]["tier_claim"].as_str().unwrap(): required,
        plugin["callers"]["permitted_actions_claim"].as_str().unwrap(): ["read_file"]})));
    let bearer = [format!("authorization: Bearer {tok}")];
    let e = refused(&mcp(
        &gateway,
        &bearer,
        "delete_file",
        json!({"path": "/srv/x"}),
    ))
    .clone();
    assert_eq!(e["code"], -31004, "{e}");
    assert_eq!(e["data"]["caller"], "web-user", "{e}");
    assert_eq!(e["data"]["current_tier"], required, "{e}");
    let denied = line_of(&stack, e["data"]["trace_id"].as_str().unwrap(), 2, "denied");
    assert_eq!(denied["reason"], "Action not permitted", "{denied}");
    // ...and the one it names passes.
    let ok = mcp(&gateway, &bearer, "read_file", json!({"path": "/srv/y"}));
    assert_eq!(
        ok["result"]["content"][0]["text"], "contents of /srv/y",
        "{ok}"
    );

    // Billing, tier 3 and permitted: deletes.
    let ok = mcp(&creds.client, &[], "delete_file", json!({"path": "/srv/x"}));
    assert_eq!(ok["result"]["content"][0]["text"], "deleted /srv/x", "{ok}");

    // The rule on the path argument, whoever calls.
    let no_etc = rule(&plugin, "no_etc");
    let e = refused(&mcp(
        &creds.client,
        &[],
        "read_file",
        json!({"path": "/etc/passwd"}),
    ))
    .clone();
    assert_eq!(e["class"], "MCPError", "{e}");
    assert_eq!(e["code"], -31001, "{e}");
    assert_eq!(e["message"], no_etc["message"]);
    assert_eq!(e["data"]["rule"], no_etc["name"]);
    let blocked = line_of(
        &stack,
        e["data"]["trace_id"].as_str().unwrap(),
        2,
        "blocked",
    );
    assert_eq!(blocked["reason"], no_etc["name"]);
    let ok = mcp(&creds.client, &[], "read_file", json!({"path": "/tmp/x"}));
    assert_eq!(
        ok["result"]["content"][0]["text"], "contents of /tmp/x",
        "{ok}"
    );

    // An SSN from an unknown caller: confirmation required, with the override token.
    let ssn = rule(&plugin, "ssn_from_unknown");
    let e = refused(&mcp(
        &gateway,
        &[],
        "read_file",
        json!({"path": "/tmp/123-45-6789"}),
    ))
    .clone();
    assert_eq!(e["class"], "MCPError", "{e}");
    assert_eq!(e["code"], -31002, "{e}");
    assert_eq!(e["data"]["warnings"], json!([ssn["message"]]), "{e}");
    assert_eq!(e["data"]["detected"], json!(["ssn"]), "{e}");
    assert_eq!(e["data"]["requires_override"], true, "{e}");
    assert!(
        e["data"]["override_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{e}"
    );
    assert_eq!(e["data"]["status"], 449);
    // The same, raw: the reply, then the override with its token and trace id.
    let body = tools_call("41", "read_file", json!({"path": "/tmp/123-45-6789"}));
    let r = stack
        .send_tls_as(Some(&gateway), json_rpc("/mcp", &body, "ssn-raw"))
        .expect("a response");
    assert_eq!(
        r.status,
        200,
        "JSON-RPC refusals go out with 200: {}",
        r.text()
    );
    let v = r.json();
    assert_eq!(v["jsonrpc"], "2.0");
    assert_eq!(v["id"], 41);
    assert_eq!(v["error"]["code"], -31002);
    let token = v["error"]["data"]["override_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(upstream_saw(&stack, "ssn-raw").is_empty());
    let r = stack
        .send_tls_as(
            Some(&gateway),
            json_rpc("/mcp", &body, "ssn-raw")
                .header("mcp-protocol-version", "2025-06-18")
                .header("x-user-override", &token),
        )
        .expect("a response");
    let seen = upstream_saw(&stack, "ssn-raw");
    assert_eq!(seen.len(), 1, "the confirmed call went on: {}", r.text());
    assert_eq!(seen[0]["headers"]["x-agent-quarantined"], "true");
    assert!(seen[0]["headers"].get("x-user-override").is_none());
    // A known caller sends the same: no question asked.
    let ok = mcp(
        &creds.client,
        &[],
        "read_file",
        json!({"path": "/tmp/123-45-6789"}),
    );
    assert_eq!(ok["ok"], true, "{ok}");

    // A2A: the same rule, the A2A client's own error for a JSON-RPC error at HTTP 200.
    let a2a = |cert: &ClientCert| {
        let mut call = stack.client_call("/a2a");
        call.cert = Some(cert);
        call.run(&["a2a-send", "my SSN is 123-45-6789"])
    };
    let out = a2a(&gateway);
    let e = refused(&out);
    assert_eq!(e["class"], "A2AClientError", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("JSON-RPC Error -31002:"),
        "{e}"
    );
    let ok = a2a(&creds.client);
    assert_eq!(
        ok["result"]["events"][0]["message"]["parts"][0]["text"], "echo: my SSN is 123-45-6789",
        "{ok}"
    );

    // A batch with one allowed and one refused call: refused whole, an error per id.
    let batch = format!(
        "[{},{}]",
        tools_call("1", "read_file", json!({"path": "/tmp/a"})),
        tools_call(r#""two""#, "read_file", json!({"path": "/etc/shadow"}))
    );
    let r = stack.send_tls(json_rpc("/mcp", &batch, "batch"));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let errors = v.as_array().unwrap_or_else(|| panic!("not an array: {v}"));
    assert_eq!(errors.len(), 2, "{v}");
    assert_eq!(errors[0]["id"], 1);
    assert_eq!(errors[1]["id"], "two");
    for e in errors {
        assert_eq!(e["jsonrpc"], "2.0");
        assert_eq!(e["error"]["code"], -31001, "{v}");
        assert_eq!(e["error"]["data"]["rule"], no_etc["name"]);
    }
    assert_eq!(
        line_of(&stack, "batch", 2, "blocked")["reason"],
        no_etc["name"]
    );
    assert!(upstream_saw(&stack, "batch").is_empty());

    // Ambiguous JSON-RPC (a Python or Go server would read the last `method`).
    let twice = r#"{"jsonrpc":"2.0","id":7,"method":"tools/list","method":"tools/call","params":{"name":"read_file","arguments":{"path":"/etc/passwd"}}}"#;
    let r = stack.send_tls(json_rpc("/mcp", twice, "ambiguous"));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["id"], 7, "{v}");
    assert_eq!(v["error"]["code"], -32600, "{v}");
    assert_eq!(v["error"]["data"]["reason"], "ambiguous", "{v}");
    assert_eq!(v["error"]["data"]["member"], "method", "{v}");
    assert_eq!(v["error"]["data"]["status"], 400, "{v}");
    assert_eq!(
        line_of(&stack, "ambiguous", 2, "blocked")["reason"],
        "invalid_jsonrpc"
    );
    assert!(upstream_saw(&stack, "ambiguous").is_empty());
}

/// (c), (d) The issue's first example as a rule rather than an action
/// (`mcp_tool == 'delete_file' && caller_tier < 3` → block, -31001), and OpenAI-shaped
/// refusals through the `openai` client: a card number under a block rule is
/// `PermissionDeniedError` (403, code `iatp_blocked`), an empty token bucket `RateLimitError`
/// (429).
#[test]
fn the_tier_rule_refuses_mcp_deletes_and_openai_callers_get_openai_errors() {
    let mut plugin = shipped();
    unlimited(&mut plugin);
    // The rule instead of the action (actions are decided first: both would hide the rule).
    plugin["policy"].as_object_mut().unwrap().remove("actions");
    for e in directory(&mut plugin).iter_mut() {
        e.as_object_mut().unwrap().remove("permitted_actions");
    }
    let rules = plugin["policy"]["block_rules"].as_array_mut().unwrap();
    rules.push(json!({"name": "no_delete_below_tier_3",
        "condition": "mcp_tool == 'delete_file' && caller_tier < 3", "action": "block",
        "message": "Deleting needs tier 3."}));
    rules.push(
        json!({"name": "no_cards", "condition": "has_credit_card", "action": "block",
        "message": "No card numbers."}),
    );
    let chat_id = "spiffe://example.org/ns/chat/sa/bot";
    directory(&mut plugin).push(json!({"name": "chatbot", "match": {"spiffe_id": chat_id},
        "tier": 1, "rate_limit": {"requests_per_minute": 1, "burst": 2}}));
    let stack = mtls(&plugin).python_upstream().start();
    let creds = stack.creds();
    let partner = creds.client_with_sans("URI:spiffe://partner.example/ns/a/sa/b");
    let chatbot = creds.client_with_sans(&format!("URI:{chat_id}"));
    let mcp = |cert: &ClientCert| {
        let mut call = stack.client_call("/mcp");
        call.cert = Some(cert);
        call.run(&["mcp-call", "delete_file", r#"{"path": "/srv/x"}"#])
    };
    let tier_rule = rule(&plugin, "no_delete_below_tier_3");
    let out = mcp(&partner);
    let e = refused(&out);
    assert_eq!(e["class"], "MCPError", "{e}");
    assert_eq!(e["code"], -31001, "{e}");
    assert_eq!(e["message"], tier_rule["message"]);
    assert_eq!(e["data"]["rule"], tier_rule["name"]);
    let ok = mcp(&creds.client);
    assert_eq!(ok["result"]["content"][0]["text"], "deleted /srv/x", "{ok}");

    let chat = |text: &str| {
        let mut call = stack.client_call("/v1");
        call.cert = Some(&chatbot);
        call.run(&["openai-chat", "gpt-test", text])
    };
    let ok = chat("hello");
    assert_eq!(
        ok["result"]["choices"][0]["message"]["content"], "echo: hello",
        "{ok}"
    );
    let cards = rule(&plugin, "no_cards");
    let out = chat("my card is 4111 1111 1111 1111");
    let e = refused(&out);
    assert_eq!(e["class"], "PermissionDeniedError", "{e}");
    assert_eq!(e["status"], 403);
    assert_eq!(e["code"], "iatp_blocked");
    assert_eq!(e["body"]["message"], cards["message"], "{e}");
    assert_eq!(e["body"]["iatp"]["rule"], cards["name"], "{e}");
    assert_eq!(e["body"]["iatp"]["detected"], json!(["credit_card"]), "{e}");
    // The bucket (burst 2) is empty now.
    let out = chat("hello again");
    let e = refused(&out);
    assert_eq!(e["class"], "RateLimitError", "{e}");
    assert_eq!(e["status"], 429);
    assert_eq!(e["code"], "rate_limit_exceeded", "{e}");
    assert!(
        e["body"]["iatp"]["retry_after"]
            .as_u64()
            .is_some_and(|s| s >= 1),
        "{e}"
    );
}

/// The `caller` label as a Prometheus label. The shipped envoy/*.yaml gain this `stats_tags`
/// entry with issue 12 (`metrics::tests::shipped_configs_extract_every_label` checks the files);
/// until the file here has it, the test adds it, so that what it checks is the series
/// operators get.
fn with_caller_tag(c: &mut EnvoyConfig) {
    let tags = c.doc["stats_config"]["stats_tags"]
        .as_array_mut()
        .expect("stats_config.stats_tags");
    if !tags.iter().any(|t| t["tag_name"] == "caller") {
        tags.push(json!({"tag_name": "caller", "regex": r"(caller=\.=(.*?);\.;)"}));
    }
}

/// The parameters of the one item of a structured-field list header
/// (`"default";q=6;w=60`): the item, then `(key, value)` pairs.
fn sf_item(value: &str) -> (String, Vec<(String, String)>) {
    let mut parts = value.split(';').map(str::trim);
    let item = parts.next().unwrap_or_default().to_string();
    let params = parts
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    (item, params)
}

fn param(params: &[(String, String)], key: &str) -> Option<u64> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
}

const METERED: &str = "spiffe://example.org/ns/metered/sa/agent";

/// (e) The filter's own token bucket per caller, in Envoy's shared data, held across two
/// workers (two Wasm VMs): of requests on separate connections that both workers took, exactly
/// `burst` pass; the rest get 429 with `Retry-After`, `RateLimit-Policy` (q = requests per
/// minute, w = 60) and `RateLimit`, a `rate_limited` line, and the per-caller and per-decision
/// series at /stats/prometheus; another caller is not affected; a JSON-RPC request gets
/// JSON-RPC -31003 with its own id, which the MCP client raises as `MCPError`.
#[test]
fn the_filters_token_bucket_is_held_across_two_workers() {
    let mut plugin = shipped();
    directory(&mut plugin).push(json!({"name": "metered", "match": {"spiffe_id": METERED},
        "rate_limit": {"requests_per_minute": 6, "burst": 3}}));
    directory(&mut plugin).push(json!({"name": "pool",
        "match": {"spiffe_trust_domain": "pool.example"},
        "rate_limit": {"requests_per_minute": 1, "burst": 1}}));
    let limit = entry(&plugin, "metered")["rate_limit"].clone();
    let (rpm, burst) = (
        limit["requests_per_minute"].as_u64().unwrap(),
        limit["burst"].as_u64().unwrap(),
    );
    let stack = mtls(&plugin).workers(2).envoy(with_caller_tag).start();
    let metered = stack.creds().client_with_sans(&format!("URI:{METERED}"));
    let worker_cx = |w: u32| {
        stack.envoy.stat(&format!(
            "listener.127.0.0.1_0.worker_{w}.downstream_cx_total"
        ))
    };
    // One connection per request; which worker took it, from the per-worker counters.
    let started = std::time::Instant::now();
    let mut sent: Vec<(u32, crate::harness::Response)> = Vec::new();
    while sent.len() < (burst as usize + 4) || !(0..2).all(|w| sent.iter().any(|(sw, _)| *sw == w))
    {
        assert!(sent.len() < 30, "Envoy gave every connection to one worker");
        let before = [worker_cx(0), worker_cx(1)];
        let r = stack
            .send_tls_as(
                Some(&metered),
                Request::get("/m").header("x-agent-trace-id", format!("rl-{}", sent.len())),
            )
            .expect("a response");
        let w = (0..2u32)
            .find(|w| worker_cx(*w) > before[*w as usize])
            .expect("a worker took the connection");
        sent.push((w, r));
    }
    // A token comes back every 60/rpm seconds: all of these were sent before one did.
    assert!(
        started.elapsed().as_secs() < 60 / rpm,
        "too slow to test the bucket"
    );
    let statuses: Vec<u16> = sent.iter().map(|(_, r)| r.status).collect();
    let passed = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(
        passed as u64,
        burst,
        "{statuses:?} on workers {:?}",
        sent.iter().map(|(w, _)| w).collect::<Vec<_>>()
    );
    assert!(
        statuses[..burst as usize].iter().all(|s| *s == 200),
        "{statuses:?}"
    );
    let over = sent.len() - passed;
    for (i, (_, r)) in sent.iter().enumerate() {
        let trace = format!("rl-{i}");
        let (item, policy) = sf_item(r.header("ratelimit-policy").expect("RateLimit-Policy"));
        assert_eq!(item, r#""default""#);
        assert_eq!(param(&policy, "q"), Some(rpm), "{policy:?}");
        assert_eq!(param(&policy, "w"), Some(60), "{policy:?}");
        let (_, state) = sf_item(r.header("ratelimit").expect("RateLimit"));
        let remaining = param(&state, "r").expect("r");
        if r.status == 200 {
            assert_eq!(remaining, burst - 1 - i as u64, "{state:?}");
            assert_eq!(r.header("retry-after"), None);
            continue;
        }
        assert_eq!(r.status, 429, "{trace}: {}", r.text());
        assert_eq!(remaining, 0);
        let after: u64 = r
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=60 / rpm).contains(&after), "Retry-After {after}");
        assert_eq!(param(&state, "t"), Some(after), "{state:?}");
        let body = r.json();
        assert_eq!(body["rate_limited"], true, "{body}");
        assert_eq!(body["caller"], "metered");
        assert_eq!(body["retry_after"], after);
        let line = line_of(&stack, &trace, 2, "rate_limited");
        assert_eq!(line["caller"], "metered");
        assert_eq!(line["requests_per_minute"], rpm);
        assert_eq!(line["burst"], burst);
        assert_eq!(line["retry_after"], after);
        assert_eq!(line["status"], 429);
        assert!(line.get("mode").is_none());
        assert_eq!(request_line(&stack, &trace, 2)["caller"]["name"], "metered");
        assert!(stack.agent_requests_for(&trace).is_empty());
    }

    // Another caller has a bucket of its own.
    let r = stack.send_tls(Request::get("/m").header("x-agent-trace-id", "rl-billing"));
    assert_eq!(r.status, 200);
    // Buckets are per identity, not per entry: two workloads of one trust-domain entry.
    let pool: Vec<u16> = ["a", "b", "a", "b"]
        .iter()
        .map(|w| {
            let cert = stack
                .creds()
                .client_with_sans(&format!("URI:spiffe://pool.example/{w}"));
            stack
                .send_tls_as(Some(&cert), Request::get("/m"))
                .expect("a response")
                .status
        })
        .collect();
    assert_eq!(pool, [200, 200, 429, 429]);

    // JSON-RPC: the error has the request's own id.
    let body = tools_call(r#""rl-rpc""#, "read_file", json!({"path": "/tmp/x"}));
    let r = stack
        .send_tls_as(Some(&metered), json_rpc("/mcp", &body, "rl-rpc"))
        .expect("a response");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
    let v = r.json();
    assert_eq!(v["id"], "rl-rpc", "{v}");
    assert_eq!(v["error"]["code"], -31003, "{v}");
    assert_eq!(v["error"]["data"]["status"], 429, "{v}");
    let after = v["error"]["data"]["retry_after"].as_u64().unwrap();
    assert_eq!(
        v["error"]["message"],
        format!("Rate limit exceeded: retry after {after} seconds")
    );
    let mut call = stack.client_call("/mcp");
    call.cert = Some(&metered);
    let out = call.run(&["mcp-list-tools"]);
    let e = refused(&out);
    assert_eq!(e["class"], "MCPError", "{e}");
    assert_eq!(e["code"], -31003, "{e}");

    // The MCP client asks twice (`server/discover`, then the older `initialize`), each refused:
    // count the `rate_limited` lines once the client's are written.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let limited = stack
        .events()
        .iter()
        .filter(|e| e["type"] == "rate_limited" && e["caller"] == "metered")
        .count();
    assert!(limited >= over + 2, "{limited} rate_limited lines");
    stack.envoy.wait_for_prometheus(
        r#"iatp_caller_rate_limited_total{caller="metered"}"#,
        limited as f64,
    );
    stack
        .envoy
        .wait_for_prometheus(r#"iatp_caller_rate_limited_total{caller="pool"}"#, 2.0);
    stack.envoy.wait_for_prometheus(
        r#"iatp_requests_total{phase="request",decision="rate_limited"}"#,
        (limited + 2) as f64,
    );
    stack
        .envoy
        .wait_for_prometheus(r#"iatp_caller_rate_limited_total{caller="billing"}"#, 0.0);
    stack
        .envoy
        .wait_for_prometheus(r#"iatp_caller_requests_total{caller="billing"}"#, 1.0);
}

/// (f) Monitor mode, an action the caller may not do: reported, not enforced: the request
/// reaches the agent, the response says `X-Agent-Policy: deny`, and the `denied` line is
/// marked `"mode":"monitor"`.
#[test]
fn monitor_mode_forwards_denied_actions_and_says_so() {
    let mut plugin = shipped();
    plugin["mode"] = json!("monitor");
    let stack = mtls(&plugin).start();
    let partner = stack
        .creds()
        .client_with_sans("URI:spiffe://partner.example/ns/a/sa/b");
    let body = tools_call("3", "delete_file", json!({"path": "/srv/x"}));
    let r = stack
        .send_tls_as(Some(&partner), json_rpc("/mcp", &body, "mon-deny"))
        .expect("a response");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-agent-policy"), Some("deny"), "{:?}", r.headers);
    assert_eq!(stack.agent_requests_for("mon-deny").len(), 1);
    let denied = line_of(&stack, "mon-deny", 3, "denied");
    assert_eq!(denied["mode"], "monitor", "{denied}");
    assert_eq!(denied["caller"], "partners");
    assert_eq!(denied["action"], "delete_file");
}

/// (f) Monitor mode, an empty token bucket: reported, not enforced: the request reaches the
/// agent, the `rate_limited` line is marked `"mode":"monitor"`, and the response says
/// `X-Agent-Policy: rate_limited` (what enforcement would have answered first).
#[test]
fn monitor_mode_forwards_rate_limited_requests_and_says_so() {
    let mut plugin = shipped();
    plugin["mode"] = json!("monitor");
    directory(&mut plugin).push(json!({"name": "metered", "match": {"spiffe_id": METERED},
        "rate_limit": {"requests_per_minute": 6, "burst": 1}}));
    let stack = mtls(&plugin).start();
    let metered = stack.creds().client_with_sans(&format!("URI:{METERED}"));
    let send = |trace: &str| {
        stack
            .send_tls_as(
                Some(&metered),
                Request::get("/m").header("x-agent-trace-id", trace),
            )
            .expect("a response")
    };
    assert_eq!(send("mon-rl-0").header("x-agent-policy"), Some("allow"));
    let r = send("mon-rl-1");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(stack.agent_requests_for("mon-rl-1").len(), 1);
    let line = line_of(&stack, "mon-rl-1", 3, "rate_limited");
    assert_eq!(line["mode"], "monitor", "{line}");
    assert_eq!(line["caller"], "metered");
    assert_eq!(
        r.header("x-agent-policy"),
        Some("rate_limited"),
        "{:?}",
        r.headers
    );
}

/// Without `callers` (and nothing else that reads the caller), the filter sets no
/// `x-iatp-caller`, and removes one a caller sent: the agent and Envoy's rate limits after the
/// filter never see a name the filter did not set.
#[test]
fn without_callers_a_client_sent_x_iatp_caller_is_removed() {
    let stack = Stack::builder()
        .mtls_jwt()
        .plugin(
            &json!({"manifest": {"identity": {"agent_id": "a"}, "trust_level": "standard",
                                     "privacy": {"retention": "ephemeral"}}}),
        )
        .start();
    let r = stack.send_tls(
        Request::get("/r")
            .header("x-agent-trace-id", "no-callers")
            .header("x-iatp-caller", "billing"),
    );
    assert_eq!(r.status, 200);
    let seen = stack.agent_requests_for("no-callers");
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0]["headers"].get("x-iatp-caller").is_none(),
        "{seen:?}"
    );
    // Nor does the `request` line name a caller.
    assert!(request_line(&stack, "no-callers", 2)
        .get("caller")
        .is_none());
}

/// A caller whose tier is enough but whose permitted actions do not name the action: the
/// refusal should say that (Trust Gateway V2's `reason`, as the `denied` line and the IATP
/// body's `error` do), not blame the tier.
#[test]
fn a_refusal_for_an_action_not_permitted_says_so() {
    let plugin = shipped();
    let stack = mtls(&plugin).start();
    let creds = stack.creds();
    let gateway = creds.client_with_sans("DNS:gateway.example");
    let required = action(&plugin, "delete_file")["required_tier"].clone();
    let tok = creds.token(&Token::valid("user-9").claims(json!({
        plugin["callers"]["tier_claim"].as_str().unwrap(): required,
        plugin["callers"]["permitted_actions_claim"].as_str().unwrap(): ["read_file"]})));
    let body = tools_call("5", "delete_file", json!({"path": "/srv/x"}));
    let r = stack
        .send_tls_as(
            Some(&gateway),
            json_rpc("/mcp", &body, "not-permitted")
                .header("authorization", format!("Bearer {tok}")),
        )
        .expect("a response");
    let v = r.json();
    assert_eq!(v["error"]["code"], -31004, "{v}");
    let denied = line_of(&stack, "not-permitted", 2, "denied");
    assert_eq!(denied["reason"], "Action not permitted");
    assert_eq!(v["error"]["data"]["reason"], denied["reason"], "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(!message.contains("requires tier"), "{message}");
}
