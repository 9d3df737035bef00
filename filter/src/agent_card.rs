//! The A2A agent card served at `/.well-known/agent-card.json`: the configured card with the
//! fields A2A requires filled in from the manifest where missing.
//!
//! A2A cards are an open, evolving schema, so unknown keys pass through; the keys A2A requires
//! are type-checked at configure time.

use serde_json::{json, Map, Value};

use crate::manifest::Manifest;

#[derive(Debug, Clone)]
pub struct AgentCard {
    card: Map<String, Value>,
    /// The rendered card when its `url` is known at configure time.
    fixed: Option<Vec<u8>>,
}

/// A configured card that is not a valid A2A card: `path` names the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardError {
    pub path: String,
    pub message: String,
}

fn err(path: impl Into<String>, message: &str) -> CardError {
    CardError {
        path: format!("agent_card.{}", path.into()),
        message: message.to_string(),
    }
}

impl AgentCard {
    pub fn new(
        configured: Option<Map<String, Value>>,
        m: &Manifest,
    ) -> Result<AgentCard, CardError> {
        let mut card = configured.unwrap_or_default();
        check(&card)?;
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
        let fixed = card
            .contains_key("url")
            .then(|| serde_json::to_vec(&card).unwrap_or_default());
        Ok(AgentCard { card, fixed })
    }

    /// The card as JSON. `base_url` (from the request's scheme and authority) fills `url` when
    /// the configuration did not set it.
    pub fn render(&self, base_url: &str) -> Vec<u8> {
        if let Some(fixed) = &self.fixed {
            return fixed.clone();
        }
        let mut card = self.card.clone();
        card.insert("url".into(), json!(base_url));
        serde_json::to_vec(&card).unwrap_or_default()
    }
}

fn check(card: &Map<String, Value>) -> Result<(), CardError> {
    for key in ["name", "description", "url", "version", "protocolVersion"] {
        if card.get(key).is_some_and(|v| !v.is_string()) {
            return Err(err(key, "must be a string"));
        }
    }
    if card.get("capabilities").is_some_and(|v| !v.is_object()) {
        return Err(err("capabilities", "must be an object"));
    }
    for key in ["defaultInputModes", "defaultOutputModes"] {
        if let Some(v) = card.get(key) {
            if !v.as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
                return Err(err(key, "must be an array of strings (media types)"));
            }
        }
    }
    if let Some(skills) = card.get("skills") {
        let skills = skills
            .as_array()
            .ok_or_else(|| err("skills", "must be an array of skills"))?;
        for (i, skill) in skills.iter().enumerate() {
            let skill = skill
                .as_object()
                .ok_or_else(|| err(format!("skills[{i}]"), "must be an object"))?;
            for key in ["id", "name", "description"] {
                if !skill.get(key).is_some_and(Value::is_string) {
                    return Err(err(
                        format!("skills[{i}].{key}"),
                        "is required and must be a string",
                    ));
                }
            }
            if !skill
                .get("tags")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().all(Value::is_string))
            {
                return Err(err(
                    format!("skills[{i}].tags"),
                    "is required and must be an array of strings",
                ));
            }
        }
    }
    Ok(())
}

/// `scheme://authority` of a request, when the authority looks like a host (and port); the
/// value is reflected into the card, so anything else is not used.
pub fn base_url(scheme: Option<&[u8]>, authority: Option<&[u8]>) -> String {
    let scheme = match scheme {
        Some(b"https") => "https",
        _ => "http",
    };
    let host = authority
        .filter(|a| {
            !a.is_empty()
                && a.len() <= 255
                && a.iter().all(|&b| {
                    b.is_ascii_alphanumeric()
                        || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
                })
        })
        .and_then(|a| std::str::from_utf8(a).ok())
        .unwrap_or("localhost");
    format!("{scheme}://{host}/")
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

    fn render(card: &AgentCard, url: &str) -> Value {
        serde_json::from_slice(&card.render(url)).unwrap()
    }

    #[test]
    fn derived_card_has_every_required_field() {
        let card = AgentCard::new(None, &manifest()).unwrap();
        let v = render(&card, "http://agent.local:10000/");
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
        assert_eq!(v["url"], "http://agent.local:10000/");
    }

    #[test]
    fn configured_card_wins_and_is_checked() {
        let cfg = json!({"name": "B", "description": "d", "url": "https://b.example/", "version": "2",
                         "skills": [{"id": "s", "name": "S", "description": "x", "tags": ["t"]}], "x-extra": 1});
        let card = AgentCard::new(cfg.as_object().cloned(), &manifest()).unwrap();
        let v = render(&card, "http://ignored/");
        assert_eq!(v["url"], "https://b.example/");
        assert_eq!(v["x-extra"], 1);
        assert_eq!(v["skills"][0]["id"], "s");
        let bad = json!({"skills": [{"id": "s", "name": "S", "description": "x"}]});
        assert_eq!(
            AgentCard::new(bad.as_object().cloned(), &manifest())
                .unwrap_err()
                .path,
            "agent_card.skills[0].tags"
        );
        let bad = json!({"name": 3});
        assert_eq!(
            AgentCard::new(bad.as_object().cloned(), &manifest())
                .unwrap_err()
                .path,
            "agent_card.name"
        );
    }

    #[test]
    fn base_url_only_reflects_host_like_authorities() {
        assert_eq!(
            base_url(Some(b"https"), Some(b"a.example:8443")),
            "https://a.example:8443/"
        );
        assert_eq!(base_url(None, Some(b"evil\"/><x")), "http://localhost/");
        assert_eq!(base_url(Some(b"http"), None), "http://localhost/");
    }
}
