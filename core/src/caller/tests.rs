use serde_json::{json, Value};

use super::*;
use crate::rules::Cond;

fn limit(rpm: u32) -> Option<Limit> {
    Some(Limit {
        requests_per_minute: rpm,
        burst: rpm,
    })
}

fn entry(name: &str, matcher: Match, profile: Profile) -> Entry {
    Entry {
        name: name.into(),
        matcher,
        profile,
    }
}

fn jwt(issuer: &str, subject: Option<&str>, claims: &[(&str, &str)]) -> Match {
    Match::Jwt {
        issuer: issuer.into(),
        subject: subject.map(Into::into),
        claims: claims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn tier(t: u8) -> Profile {
    Profile {
        tier: Some(t),
        ..Profile::default()
    }
}

fn parts(entries: Vec<Entry>) -> DirectoryParts {
    DirectoryParts {
        sources: Sources {
            spiffe: true,
            jwt: Some(JwtSource {
                metadata_namespace: "envoy.filters.http.jwt_authn".into(),
                payload_key: "jwt_payload".into(),
            }),
            header: Some("x-caller-id".into()),
        },
        entries,
        default: DefaultCaller::anonymous(limit(600)),
        tier_claim: Some("tier".into()),
        permitted_actions_claim: Some("permitted_actions".into()),
        action_names: vec!["read_file".into(), "delete_file".into()],
    }
}

/// The shared design's example directory.
fn example() -> Directory {
    Directory::build(parts(vec![
        entry(
            "billing",
            Match::SpiffeId("spiffe://example.org/ns/billing/sa/agent".into()),
            Profile {
                trust_level: Some(TrustLevel::Trusted),
                tier: Some(3),
                permitted: Some(ActionSet::NONE.with(1).with(0)),
                rate_limit: Some(Limit {
                    requests_per_minute: 60,
                    burst: 10,
                }),
            },
        ),
        entry(
            "partners",
            Match::SpiffeTrustDomain("partner.example".into()),
            Profile {
                trust_level: Some(TrustLevel::Standard),
                tier: Some(1),
                ..Profile::default()
            },
        ),
        entry(
            "ops",
            Match::SpiffeIdPrefix(SpiffePrefix::parse("spiffe://example.org/ns/ops/").unwrap()),
            tier(2),
        ),
        entry(
            "web-user",
            jwt("https://idp.example", Some("user-1"), &[]),
            tier(1),
        ),
        entry(
            "admins",
            jwt("https://idp.example", None, &[("role", "admin")]),
            tier(4),
        ),
        entry(
            "legacy-bot",
            Match::HeaderValue("legacy-bot".into()),
            Profile {
                trust_level: Some(TrustLevel::Unknown),
                ..Profile::default()
            },
        ),
        entry(
            "idp-users",
            jwt("https://idp.example", None, &[]),
            Profile::default(),
        ),
    ]))
    .unwrap()
}

fn claims(v: Value) -> Claims {
    match v {
        Value::Object(m) => Claims::from_json(&m),
        _ => panic!("not an object"),
    }
}

#[test]
fn spiffe_callers() {
    let d = example();
    let c = d.resolve(
        Some(b"spiffe://example.org/ns/billing/sa/agent"),
        None,
        None,
    );
    assert_eq!(&*c.name, "billing");
    assert_eq!(c.entry, Some(0));
    assert_eq!(c.source, Source::Spiffe);
    assert_eq!(c.id, "spiffe://example.org/ns/billing/sa/agent");
    assert_eq!(c.trust_domain(), "example.org");
    assert_eq!(c.spiffe_id_str(), c.id);
    assert_eq!(
        (c.trust_level, c.tier, c.trust_score),
        (TrustLevel::Trusted, 3, 7)
    );
    assert_eq!(c.rate_limit.unwrap().burst, 10);
    let c = d.resolve(Some(b"spiffe://partner.example/any/thing"), None, None);
    assert_eq!((&*c.name, c.tier, c.trust_score), ("partners", 1, 5));
    let c = d.resolve(Some(b"spiffe://example.org/ns/ops/sa/x"), None, None);
    assert_eq!(&*c.name, "ops");
    assert_eq!(
        c.trust_level,
        TrustLevel::Unknown,
        "the default's trust level"
    );
    assert_eq!(c.rate_limit, limit(600), "the default's limit");
    // Not below the prefix at a segment boundary: the default, still a SPIFFE identity.
    let c = d.resolve(Some(b"spiffe://example.org/ns/opsx"), None, None);
    assert_eq!(
        (&*c.name, c.entry, c.source),
        ("anonymous", None, Source::Spiffe)
    );
    assert_eq!(c.permitted, ActionSet::ALL);
}

#[test]
fn the_first_entry_in_order_wins_across_maps_and_scans() {
    let id = "spiffe://example.org/ns/a";
    let d = Directory::build(parts(vec![
        entry(
            "prefix",
            Match::SpiffeIdPrefix(SpiffePrefix::parse("spiffe://example.org/ns").unwrap()),
            tier(1),
        ),
        entry("exact", Match::SpiffeId(id.into()), tier(2)),
    ]))
    .unwrap();
    assert_eq!(&*d.resolve(Some(id.as_bytes()), None, None).name, "prefix");
    let d = Directory::build(parts(vec![
        entry("exact", Match::SpiffeId(id.into()), tier(2)),
        entry(
            "domain",
            Match::SpiffeTrustDomain("example.org".into()),
            tier(1),
        ),
    ]))
    .unwrap();
    assert_eq!(&*d.resolve(Some(id.as_bytes()), None, None).name, "exact");
    assert_eq!(
        &*d.resolve(Some(b"spiffe://example.org/other"), None, None)
            .name,
        "domain"
    );
    // JWT: a claims entry before the exact pair wins; after it, the pair does.
    let c = claims(json!({"iss": "i", "sub": "s", "role": "admin"}));
    let d = Directory::build(parts(vec![
        entry("role", jwt("i", None, &[("role", "admin")]), tier(4)),
        entry("pair", jwt("i", Some("s"), &[]), tier(1)),
    ]))
    .unwrap();
    assert_eq!(&*d.resolve(None, Some(c.clone()), None).name, "role");
    let d = Directory::build(parts(vec![
        entry("pair", jwt("i", Some("s"), &[]), tier(1)),
        entry("role", jwt("i", None, &[("role", "admin")]), tier(4)),
    ]))
    .unwrap();
    assert_eq!(&*d.resolve(None, Some(c), None).name, "pair");
}

#[test]
fn shadowed_exact_entries_are_reported() {
    for m in [
        Match::SpiffeId("spiffe://td/x".into()),
        jwt("i", Some("s"), &[]),
        Match::HeaderValue("h".into()),
    ] {
        let e = Directory::build(parts(vec![
            entry("a", m.clone(), Profile::default()),
            entry("b", Match::HeaderValue("other".into()), Profile::default()),
            entry("c", m, Profile::default()),
        ]))
        .unwrap_err();
        assert_eq!(e, Shadowed { entry: 2, by: 0 });
    }
}

#[test]
fn jwt_callers() {
    let d = example();
    let c = d.resolve(
        None,
        Some(claims(
            json!({"iss": "https://idp.example", "sub": "user-1"}),
        )),
        None,
    );
    assert_eq!(
        (&*c.name, c.source, c.id.as_str(), c.issuer.as_str()),
        ("web-user", Source::Jwt, "user-1", "https://idp.example")
    );
    assert_eq!(c.tier, 1);
    let c = d.resolve(
        None,
        Some(claims(
            json!({"iss": "https://idp.example", "sub": "u2", "role": "admin"}),
        )),
        None,
    );
    assert_eq!((&*c.name, c.tier), ("admins", 4));
    // Roles as a list.
    let c = d.resolve(
        None,
        Some(claims(
            json!({"iss": "https://idp.example", "sub": "u2", "role": ["x", "admin"]}),
        )),
        None,
    );
    assert_eq!(&*c.name, "admins");
    // An entry without a tier: the verified tier claim (number or decimal string), else the
    // default's.
    let c = d.resolve(
        None,
        Some(claims(
            json!({"iss": "https://idp.example", "sub": "u3", "tier": 5}),
        )),
        None,
    );
    assert_eq!((&*c.name, c.tier), ("idp-users", 5));
    let c = d.resolve(
        None,
        Some(claims(
            json!({"iss": "https://idp.example", "sub": "u3", "tier": "6"}),
        )),
        None,
    );
    assert_eq!(c.tier, 6);
    for bad in [json!(10), json!(2.5), json!("x"), json!(-1), json!([1])] {
        let c = d.resolve(
            None,
            Some(claims(
                json!({"iss": "https://idp.example", "sub": "u3", "tier": bad}),
            )),
            None,
        );
        assert_eq!(c.tier, 0, "{c:?}");
    }
    // A tier claim does not override an entry's tier.
    let c = d.resolve(
        None,
        Some(claims(
            json!({"iss": "https://idp.example", "sub": "user-1", "tier": 9}),
        )),
        None,
    );
    assert_eq!(c.tier, 1);
    // Unknown issuer: the default, but a JWT identity whose tier claim counts.
    let c = d.resolve(
        None,
        Some(claims(json!({"iss": "https://other", "tier": 2}))),
        None,
    );
    assert_eq!(
        (&*c.name, c.source, c.id.as_str(), c.tier),
        ("anonymous", Source::Jwt, "", 2)
    );
    // Permitted actions from the claim; unknown names ignored.
    let c = d.resolve(
        None,
        Some(claims(
            json!({"iss": "x", "permitted_actions": ["delete_file", "nope"]}),
        )),
        None,
    );
    assert_eq!(c.permitted, ActionSet::NONE.with(1));
    let c = d.resolve(
        None,
        Some(claims(
            json!({"iss": "x", "permitted_actions": "delete_file"}),
        )),
        None,
    );
    assert_eq!(c.permitted, ActionSet::ALL);
    // The claim is read only for a JWT identity: SPIFFE wins, the claims stay for claim().
    let c = d.resolve(
        Some(b"spiffe://example.org/ns/ops/a"),
        Some(claims(
            json!({"iss": "https://idp.example", "sub": "user-1", "role": "r"}),
        )),
        None,
    );
    assert_eq!((&*c.name, c.source, c.tier), ("ops", Source::Spiffe, 2));
    assert_eq!(c.claim("role"), Some(&ClaimValue::Str("r".into())));
}

#[test]
fn header_and_anonymous_callers() {
    let d = example();
    let c = d.resolve(None, None, Some(b"legacy-bot"));
    assert_eq!(
        (&*c.name, c.source, c.id.as_str()),
        ("legacy-bot", Source::Header, "legacy-bot")
    );
    assert_eq!(c.tier, 0);
    let c = d.resolve(None, None, Some(b"someone"));
    assert_eq!(
        (&*c.name, c.source, c.entry),
        ("anonymous", Source::Header, None)
    );
    let long = vec![b'a'; MAX_HEADER_ID_BYTES + 1];
    for bad in [&b""[..], b"a b", b"caf\xc3\xa9", b"a\tb", b"\x7f", &long] {
        let c = d.resolve(None, None, Some(bad));
        assert_eq!(c.source, Source::Anonymous, "{bad:?}");
    }
    assert_eq!(
        d.resolve(None, None, Some(&long[1..])).source,
        Source::Header
    );
    // Not a SPIFFE ID: the next source.
    let c = d.resolve(Some(b"https://example.org/x"), None, Some(b"legacy-bot"));
    assert_eq!(c.source, Source::Header);
    let c = d.resolve(None, None, None);
    assert_eq!(
        (&*c.name, c.source, c.id.as_str(), c.trust_score),
        ("anonymous", Source::Anonymous, "", 2)
    );
    assert_eq!(c.rate_limit, limit(600));
    // Sources that are off are not read.
    let d = Directory::empty(None);
    let c = d.resolve(None, Some(claims(json!({"iss": "i"}))), Some(b"legacy-bot"));
    assert_eq!(c.source, Source::Anonymous);
    assert!(c.claims.is_none());
    assert_eq!(c.rate_limit, None);
    assert_eq!(
        d.resolve(Some(b"spiffe://td/x"), None, None).source,
        Source::Spiffe
    );
    let mut p = parts(vec![]);
    p.sources.spiffe = false;
    let d = Directory::build(p).unwrap();
    assert_eq!(
        d.resolve(Some(b"spiffe://td/x"), None, None).source,
        Source::Anonymous
    );
}

#[test]
fn buckets_are_per_identity() {
    let d = example();
    let a = d.resolve(Some(b"spiffe://partner.example/a"), None, None);
    let b = d.resolve(Some(b"spiffe://partner.example/b"), None, None);
    assert_eq!(a.name, b.name);
    assert_ne!(a.bucket_key(), b.bucket_key());
    assert_eq!(
        d.resolve(None, None, None).bucket_key(),
        d.resolve(None, None, Some(b"\x01")).bucket_key()
    );
}

fn actions() -> Actions {
    Actions::new(vec![
        Action {
            name: "read_file".into(),
            when: Cond::Const(true),
            required_tier: 0,
        },
        Action {
            name: "delete_file".into(),
            when: Cond::Const(true),
            required_tier: 3,
        },
        Action {
            name: "never".into(),
            when: Cond::Const(false),
            required_tier: 9,
        },
    ])
}

#[test]
fn authorization_in_trust_gateway_terms() {
    let a = actions();
    let facts = crate::rules::Facts::new("POST", "/");
    let matched = a.matched(&facts);
    assert_eq!(matched, ActionSet::NONE.with(0).with(1));
    assert_eq!(a.first_name(matched), "read_file");
    assert_eq!(a.first_name(ActionSet::NONE), "");
    assert_eq!(a.index_of("never"), Some(2));
    let d = example();
    let billing = d.resolve(
        Some(b"spiffe://example.org/ns/billing/sa/agent"),
        None,
        None,
    );
    assert_eq!(a.authorize(&billing, matched), Ok(()));
    let ops = d.resolve(Some(b"spiffe://example.org/ns/ops/x"), None, None);
    assert_eq!(
        a.authorize(&ops, matched),
        Err(Denied {
            action: "delete_file",
            required_tier: 3,
            current_tier: 2,
            reason: DenyReason::InsufficientTier
        })
    );
    assert_eq!(
        DenyReason::InsufficientTier.as_str(),
        "Insufficient trust tier"
    );
    let reader = d.resolve(
        None,
        Some(claims(
            json!({"iss": "x", "tier": 9, "permitted_actions": ["read_file"]}),
        )),
        None,
    );
    let e = a.authorize(&reader, matched).unwrap_err();
    assert_eq!(
        (e.action, e.reason),
        ("delete_file", DenyReason::NotPermitted)
    );
    assert_eq!(e.reason.as_str(), "Action not permitted");
    assert_eq!(a.authorize(&reader, ActionSet::NONE.with(0)), Ok(()));
    assert_eq!(a.authorize(&ops, ActionSet::NONE), Ok(()));
}

#[test]
fn action_sets() {
    let s = ActionSet::NONE.with(0).with(63).with(64);
    assert!(s.contains(0) && s.contains(63) && !s.contains(64) && !s.contains(1));
    assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 63]);
    assert!(ActionSet::ALL.contains(5) && ActionSet::NONE.is_empty());
    assert_eq!(
        Source::NAMES.to_vec(),
        Source::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()
    );
}

/// A caller no entry names counts under the default's slot in `names()`: after the entries,
/// or at the entry whose name the default repeats; an entry's caller under its own.
#[test]
fn name_slots_follow_names_for_entries_and_the_default() {
    let d = example();
    let names = d.names();
    assert_eq!(names.len(), 8);
    let nobody = d.resolve(Some(b"spiffe://elsewhere.example/x"), None, None);
    assert_eq!(nobody.entry, None);
    assert_eq!(names.get(d.name_slot(&nobody)), Some(&"anonymous"));
    let billing = d.resolve(
        Some(b"spiffe://example.org/ns/billing/sa/agent"),
        None,
        None,
    );
    assert_eq!(names.get(d.name_slot(&billing)), Some(&"billing"));

    let mut p = parts(vec![
        entry(
            "a",
            Match::SpiffeId("spiffe://example.org/a".into()),
            tier(1),
        ),
        entry(
            "b",
            Match::SpiffeId("spiffe://example.org/b".into()),
            tier(1),
        ),
    ]);
    p.default.name = "b".into();
    let d = Directory::build(p).unwrap();
    assert_eq!(d.names(), vec!["a", "b"]);
    let nobody = d.resolve(Some(b"spiffe://example.org/c"), None, None);
    assert_eq!(d.name_slot(&nobody), 1);
}

/// Attack on bf3438b (the default's slot found at build, `names()` deduplicated by a set):
/// every caller's slot holds its own name in `names()`, and is the slot the old scan gave,
/// for directories of 0..=5 entries named from a small pool, with the default named after
/// none, the first, the last or a middle entry.
#[test]
fn name_slots_hold_the_callers_names() {
    let pool = ["a", "b", "c", "anonymous", "d"];
    let mut checked = 0;
    for n in 0..=5usize {
        // Distinct names (the configuration's rule): the first n of the pool, in a rotation.
        for rot in 0..pool.len() {
            let names: Vec<&str> = (0..n).map(|i| pool[(i + rot) % pool.len()]).collect();
            let mut defaults: Vec<&str> = vec!["anonymous", "zz", ""];
            defaults.extend(names.iter().copied());
            for default in defaults {
                let mut p = parts(
                    names
                        .iter()
                        .map(|name| entry(name, Match::HeaderValue(format!("h-{name}")), tier(1)))
                        .collect(),
                );
                p.default.name = default.into();
                let d = Directory::build(p).unwrap();
                let listed = d.names();
                // Each name once, entries first in order, then the default unless it repeats one.
                let mut want: Vec<&str> = names.clone();
                if !want.contains(&default) {
                    want.push(default);
                }
                assert_eq!(listed, want, "{names:?} default {default:?}");
                // The old scan: the entry whose name the default repeats, else after the entries.
                let old_default_slot = names.iter().position(|x| *x == default).unwrap_or(n);
                let nobody = d.resolve(None, None, Some(b"nobody"));
                assert_eq!(nobody.entry, None);
                assert_eq!(d.name_slot(&nobody), old_default_slot);
                assert_eq!(listed.get(d.name_slot(&nobody)), Some(&default));
                let anonymous = d.resolve(None, None, None);
                assert_eq!(listed.get(d.name_slot(&anonymous)), Some(&default));
                for name in &names {
                    let c = d.resolve(None, None, Some(format!("h-{name}").as_bytes()));
                    assert_eq!(&*c.name, *name);
                    assert_eq!(listed.get(d.name_slot(&c)), Some(name));
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 100);
    let empty = Directory::empty(None);
    assert_eq!(empty.names(), vec!["anonymous"]);
    assert_eq!(empty.name_slot(&empty.resolve(None, None, None)), 0);
    let default = Directory::default();
    assert_eq!(
        default.name_slot(&default.resolve(Some(b"spiffe://x/y"), None, None)),
        0
    );
}

/// Duplicate entry names (which the configuration refuses: `callers.directory[1].name`, and
/// `callers.default.name` for the default repeating one) built directly: `names()` lists each
/// once, so an entry after a duplicate is counted under another's name. Not from bf3438b: the
/// entry's slot was its index before as well; the default's slot is now right where the old
/// scan gave `entries.len()`, past the end of `names()`.
#[test]
#[ignore = "finding (pre-existing, unreachable through the configuration): with duplicate entry names an entry's slot is its index, not its name's place in names()"]
fn duplicate_entry_names_shift_the_slots() {
    let mut p = parts(vec![
        entry("a", Match::HeaderValue("h1".into()), tier(1)),
        entry("a", Match::HeaderValue("h2".into()), tier(1)),
        entry("b", Match::HeaderValue("h3".into()), tier(1)),
    ]);
    p.default.name = "anonymous".into();
    let d = Directory::build(p).unwrap();
    let names = d.names();
    assert_eq!(names, vec!["a", "b", "anonymous"]);
    // The default: right (the old scan gave 3, no slot at all).
    assert_eq!(
        names.get(d.name_slot(&d.resolve(None, None, None))),
        Some(&"anonymous")
    );
    // The entry named `b`: slot 2, which names the default.
    let b = d.resolve(None, None, Some(b"h3"));
    assert_eq!(&*b.name, "b");
    assert_eq!(names.get(d.name_slot(&b)), Some(&"b"));
}

/// Review round of issue 15 (the default's slot found at build): through the configuration,
/// as an operator writes it, every caller's slot holds its own name in `names()` (the
/// `caller` metric label it is counted under), for each kind of entry and for callers no
/// entry names from each source, with the default named or not; and the unnamed default's
/// slot is the last one.
#[test]
fn review_slots_through_the_configuration() {
    let mut directory = Vec::new();
    for i in 0..40 {
        directory.push(match i % 6 {
            0 => json!({"name": format!("id{i}"), "match": {"spiffe_id": format!("spiffe://example.org/id/{i}")}}),
            1 => json!({"name": format!("pre{i}"), "match": {"spiffe_id_prefix": format!("spiffe://example.org/pre/{i}/")}}),
            2 => json!({"name": format!("td{i}"), "match": {"spiffe_trust_domain": format!("td{i}.example")}}),
            3 => json!({"name": format!("sub{i}"), "match": {"jwt_issuer": "https://idp.example", "jwt_subject": format!("s{i}")}}),
            4 => json!({"name": format!("cl{i}"), "match": {"jwt_issuer": "https://idp.example", "claims": {"team": format!("t{i}")}}}),
            _ => json!({"name": format!("hv{i}"), "match": {"header_value": format!("h{i}")}}),
        });
    }
    for default in [None, Some("guest"), Some("zz-last"), Some("a")] {
        let mut callers = json!({
            "sources": {"spiffe": true,
                        "jwt": {"metadata_namespace": "envoy.filters.http.jwt_authn",
                                "payload_key": "jwt_payload"},
                        "header": "x-caller-id"},
            "directory": directory,
        });
        if let Some(name) = default {
            callers["default"] = json!({"name": name, "tier": 1});
        }
        let cfg = json!({
            "manifest": {"identity": {"agent_id": "files"}, "trust_level": "standard",
                         "privacy": {"retention": "ephemeral"}},
            "callers": callers,
        });
        let policy = crate::config::parse(cfg.to_string().as_bytes()).unwrap();
        let d = &policy.callers;
        let names = d.names();
        assert_eq!(names.len(), 41, "{default:?}");
        let default_name = default.unwrap_or(DEFAULT_CALLER_NAME);
        assert_eq!(names.last(), Some(&default_name));
        let claims = |sub: &str, team: &str| {
            let m = json!({"iss": "https://idp.example", "sub": sub, "team": team});
            match m {
                Value::Object(m) => Some(Claims::from_json(&m)),
                _ => None,
            }
        };
        let mut callers = Vec::new();
        for i in 0..40 {
            callers.push(match i % 6 {
                0 => d.resolve(
                    Some(format!("spiffe://example.org/id/{i}").as_bytes()),
                    None,
                    None,
                ),
                1 => d.resolve(
                    Some(format!("spiffe://example.org/pre/{i}/x").as_bytes()),
                    None,
                    None,
                ),
                2 => d.resolve(
                    Some(format!("spiffe://td{i}.example/w").as_bytes()),
                    None,
                    None,
                ),
                3 => d.resolve(None, claims(&format!("s{i}"), "none"), None),
                4 => d.resolve(None, claims("nobody", &format!("t{i}")), None),
                _ => d.resolve(None, None, Some(format!("h{i}").as_bytes())),
            });
        }
        // No entry: from each source, and with no identity at all.
        callers.push(d.resolve(Some(b"spiffe://elsewhere.example/x"), None, None));
        callers.push(d.resolve(None, claims("nobody", "none"), None));
        callers.push(d.resolve(None, None, Some(b"unknown")));
        callers.push(d.resolve(None, None, None));
        for (i, c) in callers.iter().enumerate() {
            if i < 40 {
                assert!(c.entry.is_some(), "{i} {}", c.name);
            } else {
                assert_eq!(c.entry, None, "{i}");
                assert_eq!(&*c.name, default_name);
                assert_eq!(d.name_slot(c), 40);
            }
            assert_eq!(
                names.get(d.name_slot(c)),
                Some(&&*c.name),
                "{default:?} {i}"
            );
        }
    }
    // A default repeating an entry's name is refused, so the two never share a slot.
    let cfg = json!({
        "manifest": {"identity": {"agent_id": "files"}, "trust_level": "standard",
                     "privacy": {"retention": "ephemeral"}},
        "callers": {"directory": [{"name": "anonymous", "match": {"header_value": "h"}}],
                    "sources": {"header": "x-caller-id"}},
    });
    let err = crate::config::parse(cfg.to_string().as_bytes()).unwrap_err();
    assert!(err.to_string().contains("callers.default.name"), "{err}");
}
