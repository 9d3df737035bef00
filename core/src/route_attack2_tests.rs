//! Issue 16, second attack round: route metadata as Envoy could hand it over (`Metadata`:
//! `filter_metadata = 1`, `map<string, Struct>`; `typed_filter_metadata = 2`, `map<string,
//! Any>`), read by [`crate::route::profile`].

use serde_json::{json, Map, Value};

use crate::caller::claims::{encode, MAX_STRUCT_BYTES, MAX_STRUCT_DEPTH};
use crate::route::{profile, RouteProfile};

/// One `filter_metadata` entry: `name` -> the Struct of `fields`.
fn namespace(name: &str, fields: &Value) -> Vec<u8> {
    let fields: Map<String, Value> = fields.as_object().unwrap().clone();
    let mut entry = Vec::new();
    encode::len_field(1, name.as_bytes(), &mut entry);
    encode::len_field(2, &encode::structure(&fields), &mut entry);
    let mut out = Vec::new();
    encode::len_field(1, &entry, &mut out);
    out
}

/// `{"a": {"a": ... {"a": "x"}}}`, `depth` objects deep.
fn nested(depth: usize) -> Value {
    let mut v = json!("x");
    for _ in 0..depth {
        v = json!({ "a": v });
    }
    v
}

/// Istio's own metadata on a route can be large (its `istio` namespace); the 64 KiB bound of
/// the Struct decoder applies to the profile's value only, never to the whole metadata, so a
/// route with more than 64 KiB of other metadata still gets its profile.
#[test]
fn metadata_larger_than_the_struct_bound_still_names_its_profile() {
    let mut m = namespace(
        "istio",
        &json!({"config": "x".repeat(2 * MAX_STRUCT_BYTES), "deep": nested(4 * MAX_STRUCT_DEPTH)}),
    );
    m.extend(namespace("iatp", &json!({"profile": "strict"})));
    assert!(m.len() > 2 * MAX_STRUCT_BYTES);
    assert_eq!(profile(&m), RouteProfile::Named("strict".into()));
    // The iatp namespace itself large, beside the key: the key is still found.
    let m = namespace(
        "iatp",
        &json!({"note": "y".repeat(2 * MAX_STRUCT_BYTES), "profile": "strict"}),
    );
    assert_eq!(profile(&m), RouteProfile::Named("strict".into()));
}

/// A profile value nested past the decoder's depth bound, or over its size bound, is refused
/// (never the base), and says what it is without its text.
#[test]
fn a_profile_value_past_the_decoders_bounds_is_not_a_name() {
    for v in [
        nested(MAX_STRUCT_DEPTH + 5),
        json!("z".repeat(MAX_STRUCT_BYTES + 1)),
    ] {
        let m = namespace("iatp", &json!({ "profile": v }));
        assert!(
            matches!(profile(&m), RouteProfile::NotAName(_)),
            "{:?}",
            profile(&m)
        );
    }
}

/// Two `iatp` entries, or `profile` twice in the Struct: protobuf map semantics, the last wins
/// (Envoy serializes a map with unique keys, so it never sends this; a pin of the decoder).
#[test]
fn a_namespace_or_key_given_twice_keeps_the_last() {
    let mut m = namespace("iatp", &json!({"profile": "first"}));
    m.extend(namespace("iatp", &json!({"profile": "second"})));
    assert_eq!(profile(&m), RouteProfile::Named("second".into()));
    let mut fields = encode::structure(json!({"profile": "first"}).as_object().unwrap());
    fields.extend(encode::structure(
        json!({"profile": "second"}).as_object().unwrap(),
    ));
    let mut entry = Vec::new();
    encode::len_field(1, b"iatp", &mut entry);
    encode::len_field(2, &fields, &mut entry);
    let mut m = Vec::new();
    encode::len_field(1, &entry, &mut m);
    assert_eq!(profile(&m), RouteProfile::Named("second".into()));
}

/// `typed_filter_metadata` (field 2 of `envoy.config.core.v3.Metadata`): Envoy's docs say a
/// filter that reads typed metadata prefers it over `filter_metadata` under the same key. A
/// route whose `iatp` entry is typed (a `google.protobuf.Struct` in an `Any`, `{profile:
/// strict}`) is read as a route without a profile: judged by the base configuration, while
/// the route's author asked for `strict` - the fail-open case the 500 exists for.
#[test]
fn a_typed_iatp_entry_is_not_read_as_no_profile() {
    let mut any = Vec::new();
    encode::len_field(1, b"type.googleapis.com/google.protobuf.Struct", &mut any);
    encode::len_field(
        2,
        &encode::structure(json!({"profile": "strict"}).as_object().unwrap()),
        &mut any,
    );
    let mut entry = Vec::new();
    encode::len_field(1, b"iatp", &mut entry);
    encode::len_field(2, &any, &mut entry);
    let mut m = Vec::new();
    encode::len_field(2, &entry, &mut m);
    assert_ne!(profile(&m), RouteProfile::Base);
}
