//! What the stream's route says to the filter: the profile its metadata names.
//!
//! Envoy hands the Wasm VM a route's metadata (`get_property(["xds", "route_metadata"])`) as
//! protobuf wire bytes of `envoy.config.core.v3.Metadata`; the profile is the string at
//! `filter_metadata["iatp"]["profile"]` (a `google.protobuf.Struct` field). A path into the
//! Struct (`[..., "iatp", "profile"]`) would not do: Envoy answers "not found" for an empty
//! string or a `null` there, as for no key at all, and a route whose profile is left empty must
//! be refused, not judged by the base configuration.

use serde_json::Value;

use crate::caller::claims::{decode_value, map_entry, map_entry_at};

/// The `filter_metadata` namespace the filter reads.
pub const METADATA_NAMESPACE: &str = "iatp";
/// The key of the profile's name in that namespace.
pub const PROFILE_KEY: &str = "profile";

/// What a route's metadata says about the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteProfile {
    /// No `iatp.profile` (no metadata, another namespace, the namespace without the key): the
    /// base configuration judges.
    Base,
    /// A string: the profile's name, as written (not yet checked against the configuration).
    Named(String),
    /// Something that names no profile, described for the `error` line without its value: an
    /// empty string, `null`, a number, a list, an object, bytes Envoy did not encode as a
    /// Struct.
    NotAName(&'static str),
}

/// The profile a route's `metadata` (protobuf `envoy.config.core.v3.Metadata`; empty when the
/// route has none) names.
pub fn profile(metadata: &[u8]) -> RouteProfile {
    // `typed_filter_metadata` (field 2): Envoy's filters that read typed metadata prefer it
    // under the same key; this one reads a Struct only. An `iatp` entry there is the route
    // author's intent the filter cannot read: refused rather than judged by the base.
    match map_entry_at(metadata, 2, METADATA_NAMESPACE.as_bytes()) {
        Ok(None) => {}
        Ok(Some(_)) => {
            return RouteProfile::NotAName(
                "typed metadata (typed_filter_metadata), which the filter does not read: use filter_metadata",
            )
        }
        Err(_) => return RouteProfile::NotAName("route metadata that does not decode"),
    }
    let namespace = match map_entry(metadata, METADATA_NAMESPACE.as_bytes()) {
        Ok(Some(n)) => n,
        Ok(None) => return RouteProfile::Base,
        Err(_) => return RouteProfile::NotAName("route metadata that does not decode"),
    };
    let value = match map_entry(namespace, PROFILE_KEY.as_bytes()) {
        Ok(Some(v)) => v,
        Ok(None) => return RouteProfile::Base,
        Err(_) => return RouteProfile::NotAName("route metadata that does not decode"),
    };
    match decode_value(value) {
        Ok(Value::String(s)) if s.is_empty() => RouteProfile::NotAName("an empty string"),
        Ok(Value::String(s)) => RouteProfile::Named(s),
        Ok(Value::Null) => RouteProfile::NotAName("null"),
        Ok(Value::Number(_)) => RouteProfile::NotAName("a number"),
        Ok(Value::Bool(_)) => RouteProfile::NotAName("a boolean"),
        Ok(Value::Array(_)) => RouteProfile::NotAName("a list"),
        Ok(Value::Object(_)) => RouteProfile::NotAName("an object"),
        Err(_) => RouteProfile::NotAName("a value that does not decode"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map};

    use super::*;
    use crate::caller::claims::encode;

    /// `Metadata` with these `filter_metadata` namespaces, as Envoy serializes it.
    fn metadata(namespaces: &[(&str, Value)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, fields) in namespaces {
            let fields: Map<String, Value> = fields.as_object().unwrap().clone();
            let mut entry = Vec::new();
            encode::len_field(1, name.as_bytes(), &mut entry);
            encode::len_field(2, &encode::structure(&fields), &mut entry);
            encode::len_field(1, &entry, &mut out);
        }
        out
    }

    #[test]
    fn the_profile_is_the_string_at_iatp_profile() {
        let m = metadata(&[
            ("istio", json!({"config": "x"})),
            ("iatp", json!({"profile": "strict"})),
        ]);
        assert_eq!(profile(&m), RouteProfile::Named("strict".into()));
        // Not this filter's: the base judges.
        assert_eq!(profile(&[]), RouteProfile::Base);
        let m = metadata(&[("other", json!({"profile": "strict"}))]);
        assert_eq!(profile(&m), RouteProfile::Base);
        let m = metadata(&[("iatp", json!({"profiles": "strict"}))]);
        assert_eq!(profile(&m), RouteProfile::Base);
    }

    #[test]
    fn a_value_that_is_not_a_name_names_no_profile_and_says_what_it_is() {
        for (v, says) in [
            (json!(""), "an empty string"),
            (json!(null), "null"),
            (json!(7), "a number"),
            (json!(true), "a boolean"),
            (json!(["a"]), "a list"),
            (json!({"a": "b"}), "an object"),
        ] {
            let m = metadata(&[("iatp", json!({"profile": v}))]);
            assert_eq!(profile(&m), RouteProfile::NotAName(says), "{v}");
        }
        assert_eq!(
            profile(&[0x0a, 0x05, 0x01]),
            RouteProfile::NotAName("route metadata that does not decode")
        );
    }
}
