//! The A2A agent card served at `/.well-known/agent-card.json`: the configured card with the
//! fields A2A requires filled in from the manifest where missing. Its `url` comes from the
//! configuration only: a URL built from a request's `Host` would let any caller put its own
//! address into the card that other agents fetch.
//!
//! A2A cards are an open, evolving schema, so unknown keys pass through; the keys A2A requires
//! are type-checked at configure time.

use serde_json::{json, Map, Value};

use crate::manifest::Manifest;

/// The card, rendered once at configure time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCard(pub Vec<u8>);

/// A configured card that is not a valid A2A card. `key` is the path inside `agent_card`
/// (`skills[0].tags`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardError {
    /// A key that A2A types has another type.
    WrongType { key: String, expected: &'static str },
    /// A skill lacks a key A2A requires (or has it with another type).
    Required { key: String, expected: &'static str },
}

impl CardError {
    /// The configuration key: `agent_card.skills[0].tags`.
    pub fn path(&self) -> String {
        let (CardError::WrongType { key, .. } | CardError::Required { key, .. }) = self;
        format!("agent_card.{key}")
    }

    /// What is wrong with it.
    pub fn message(&self) -> String {
        match self {
            CardError::WrongType { expected, .. } => format!("must be {expected}"),
            CardError::Required { expected, .. } => format!("is required and must be {expected}"),
        }
    }
}

impl std::fmt::Display for CardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path(), self.message())
    }
}

impl std::error::Error for CardError {}

fn wrong(key: impl Into<String>, expected: &'static str) -> CardError {
    CardError::WrongType {
        key: key.into(),
        expected,
    }
}

/// What `url` must be: where other agents reach this one (A2A `AgentCard.url`).
const URL_EXPECTED: &str = "an absolute http:// or https:// URL";

impl AgentCard {
    /// The card to serve, or `None` when it is not served. `serve` is
    /// `well_known.agent_card`: `Some(true)` requires a configured `url`; unset serves the card
    /// when a `url` is configured.
    pub fn new(
        configured: Option<Map<String, Value>>,
        m: &Manifest,
        serve: Option<bool>,
    ) -> Result<Option<AgentCard>, CardError> {
        let mut card = configured.unwrap_or_default();
        check(&card)?;
        let has_url = card.contains_key("url");
        match serve {
            Some(false) => return Ok(None),
            None if !has_url => return Ok(None),
            Some(true) if !has_url => {
                return Err(CardError::Required {
                    key: "url".into(),
                    expected: URL_EXPECTED,
                })
            }
            _ => {}
        }
        let defaults = [
            (
                "name",
                json!(m.name.clone().unwrap_or_else(|| m.agent_id.clone())),
            ),
            (
                "description",
                json!(format!(
                    "Agent {} behind an IATP filter (trust level {}, data retention {})",
                    m.agent_id,
                    m.trust_level.as_str(),
                    m.retention.as_str()
                )),
            ),
            (
                "version",
                json!(m.version.clone().unwrap_or_else(|| "unversioned".into())),
            ),
            ("protocolVersion", json!("0.3.0")),
            (
                "capabilities",
                json!({"streaming": false, "pushNotifications": false}),
            ),
            (
                "defaultInputModes",
                json!(["application/json", "text/plain"]),
            ),
            (
                "defaultOutputModes",
                json!(["application/json", "text/plain"]),
            ),
            ("skills", json!([])),
        ];
        for (k, v) in defaults {
            card.entry(k).or_insert(v);
        }
        Ok(Some(AgentCard(
            serde_json::to_vec(&card).unwrap_or_default(),
        )))
    }

    /// Its size as served.
    pub fn size(&self) -> usize {
        self.0.len()
    }
}

fn check(card: &Map<String, Value>) -> Result<(), CardError> {
    for key in ["name", "description", "url", "version", "protocolVersion"] {
        if card.get(key).is_some_and(|v| !v.is_string()) {
            return Err(wrong(key, "a string"));
        }
    }
    if let Some(url) = card.get("url").and_then(Value::as_str) {
        if !is_absolute_http_url(url) {
            return Err(wrong("url", URL_EXPECTED));
        }
    }
    if card.get("capabilities").is_some_and(|v| !v.is_object()) {
        return Err(wrong("capabilities", "an object"));
    }
    for key in ["defaultInputModes", "defaultOutputModes"] {
        if let Some(v) = card.get(key) {
            if !v.as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
                return Err(wrong(key, "an array of strings (media types)"));
            }
        }
    }
    if let Some(skills) = card.get("skills") {
        let skills = skills
            .as_array()
            .ok_or_else(|| wrong("skills", "an array of skills"))?;
        for (i, skill) in skills.iter().enumerate() {
            let skill = skill
                .as_object()
                .ok_or_else(|| wrong(format!("skills[{i}]"), "an object"))?;
            for key in ["id", "name", "description"] {
                if !skill.get(key).is_some_and(Value::is_string) {
                    return Err(CardError::Required {
                        key: format!("skills[{i}].{key}"),
                        expected: "a string",
                    });
                }
            }
            if !skill
                .get("tags")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().all(Value::is_string))
            {
                return Err(CardError::Required {
                    key: format!("skills[{i}].tags"),
                    expected: "an array of strings",
                });
            }
        }
    }
    Ok(())
}

/// `http://host...` or `https://host...` with a non-empty host and no whitespace or control
/// characters (RFC 3986's absolute URI, of the two schemes A2A uses).
fn is_absolute_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && !r.starts_with(['/', '?', '#'])
            && !url.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::RawManifest;

    fn manifest() -> Manifest {
        serde_json::from_value::<RawManifest>(json!({
            "identity": {"agent_id": "booking-agent", "name": "Booking Agent", "version": "1.2.0"},
            "trust_level": "trusted",
            "privacy": {"retention": "ephemeral"}
        }))
        .unwrap()
        .normalize()
        .unwrap()
    }

    const URL: &str = "https://booking.example/a2a";

    fn served(configured: Value, serve: Option<bool>) -> Value {
        let card = AgentCard::new(configured.as_object().cloned(), &manifest(), serve)
            .unwrap()
            .expect("served");
        serde_json::from_slice(&card.0).unwrap()
    }

    #[test]
    fn derived_card_has_every_required_field() {
        let v = served(json!({"url": URL}), None);
        for key in [
            "name",
            "description",
            "version",
            "url",
            "capabilities",
            "defaultInputModes",
            "defaultOutputModes",
            "skills",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["name"], "Booking Agent");
        assert_eq!(v["version"], "1.2.0");
        assert_eq!(v["url"], URL);
    }

    #[test]
    fn the_url_comes_from_configuration_or_the_card_is_not_served() {
        let m = manifest();
        // Unset: served only with a configured url.
        assert_eq!(AgentCard::new(None, &m, None).unwrap(), None);
        // Switched off: not served, url or not.
        let cfg = json!({"url": URL}).as_object().cloned();
        assert_eq!(AgentCard::new(cfg, &m, Some(false)).unwrap(), None);
        // Switched on without a url: refused, naming the key.
        let e = AgentCard::new(None, &m, Some(true)).unwrap_err();
        assert_eq!(e.path(), "agent_card.url");
        assert_eq!(
            e.to_string(),
            "agent_card.url: is required and must be an absolute http:// or https:// URL"
        );
        for bad in [
            "/relative",
            "ftp://x/",
            "http://",
            "https:///x",
            "http://a b/",
            "x",
        ] {
            let cfg = json!({"url": bad}).as_object().cloned();
            let e = AgentCard::new(cfg, &m, Some(true)).unwrap_err();
            assert_eq!(e.path(), "agent_card.url", "{bad}");
        }
    }

    #[test]
    fn configured_card_wins_and_is_checked() {
        let cfg = json!({"name": "B", "description": "d", "url": "https://b.example/", "version": "2",
                         "skills": [{"id": "s", "name": "S", "description": "x", "tags": ["t"]}], "x-extra": 1});
        let v = served(cfg, Some(true));
        assert_eq!(v["url"], "https://b.example/");
        assert_eq!(v["x-extra"], 1);
        assert_eq!(v["skills"][0]["id"], "s");
        let bad = json!({"skills": [{"id": "s", "name": "S", "description": "x"}]});
        let e = AgentCard::new(bad.as_object().cloned(), &manifest(), None).unwrap_err();
        assert_eq!(e.path(), "agent_card.skills[0].tags");
        assert!(matches!(e, CardError::Required { .. }));
        assert_eq!(
            e.to_string(),
            "agent_card.skills[0].tags: is required and must be an array of strings"
        );
        let bad = json!({"name": 3});
        let e = AgentCard::new(bad.as_object().cloned(), &manifest(), None).unwrap_err();
        assert_eq!(e.path(), "agent_card.name");
        assert!(matches!(
            e,
            CardError::WrongType {
                expected: "a string",
                ..
            }
        ));
    }
}
