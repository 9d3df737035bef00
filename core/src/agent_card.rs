//! The A2A agent card served at `/.well-known/agent-card.json`: the configured card with the
//! fields A2A requires filled in from the manifest where missing.
//!
//! A2A cards are an open, evolving schema, so unknown keys pass through; the keys A2A requires
//! are type-checked at configure time.

use serde_json::{json, Map, Value};

use crate::manifest::Manifest;

/// The card, rendered once: whole when its `url` is configured, else as the JSON before and
/// after the `url` value, which each request fills in.
#[derive(Debug, Clone)]
pub enum AgentCard {
    Fixed(Vec<u8>),
    Template { before: Vec<u8>, after: Vec<u8> },
}

const URL_SLOT: &str = "\u{1}iatp-url\u{1}";

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
        if card.contains_key("url") {
            return Ok(AgentCard::Fixed(
                serde_json::to_vec(&card).unwrap_or_default(),
            ));
        }
        // The slot is the value of a key only this code sets; as serialized, the pattern
        // `"url":"<slot>"` cannot come from any configured string (its quotes would be escaped).
        card.insert("url".into(), json!(URL_SLOT));
        let text = serde_json::to_vec(&card).unwrap_or_default();
        let slot = serde_json::to_vec(&json!(URL_SLOT)).unwrap_or_default();
        let pattern = [b"\"url\":".as_slice(), &slot].concat();
        let at = text
            .windows(pattern.len())
            .position(|w| w == pattern.as_slice())
            .unwrap_or(text.len());
        let value_start = at + pattern.len() - slot.len();
        Ok(AgentCard::Template {
            before: text.get(..value_start).unwrap_or_default().to_vec(),
            after: text
                .get(value_start + slot.len()..)
                .unwrap_or_default()
                .to_vec(),
        })
    }

    /// Its size as served, without the `url` a request fills in.
    pub fn size(&self) -> usize {
        match self {
            AgentCard::Fixed(bytes) => bytes.len(),
            AgentCard::Template { before, after } => before.len() + after.len(),
        }
    }

    /// The card as JSON. `base_url` (from the request's scheme and authority, see
    /// [`base_url`]) fills `url` when the configuration did not set it.
    pub fn render(&self, base_url: &str) -> Vec<u8> {
        match self {
            AgentCard::Fixed(bytes) => bytes.clone(),
            AgentCard::Template { before, after } => {
                let url = serde_json::to_vec(base_url).unwrap_or_default();
                [before.as_slice(), &url, after].concat()
            }
        }
    }
}

fn check(card: &Map<String, Value>) -> Result<(), CardError> {
    for key in ["name", "description", "url", "version", "protocolVersion"] {
        if card.get(key).is_some_and(|v| !v.is_string()) {
            return Err(wrong(key, "a string"));
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
    fn the_url_slot_cannot_be_forged_by_configured_text() {
        let cfg =
            json!({"description": "\"url\":\"\u{1}iatp-url\u{1}\"", "name": "\u{1}iatp-url\u{1}"});
        let card = AgentCard::new(cfg.as_object().cloned(), &manifest()).unwrap();
        let v = render(&card, "http://h/");
        assert_eq!(v["url"], "http://h/");
        assert_eq!(v["description"], cfg["description"]);
        assert_eq!(v["name"], cfg["name"]);
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
        let e = AgentCard::new(bad.as_object().cloned(), &manifest()).unwrap_err();
        assert_eq!(e.path(), "agent_card.skills[0].tags");
        assert!(matches!(e, CardError::Required { .. }));
        assert_eq!(
            e.to_string(),
            "agent_card.skills[0].tags: is required and must be an array of strings"
        );
        let bad = json!({"name": 3});
        let e = AgentCard::new(bad.as_object().cloned(), &manifest()).unwrap_err();
        assert_eq!(e.path(), "agent_card.name");
        assert!(matches!(
            e,
            CardError::WrongType {
                expected: "a string",
                ..
            }
        ));
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
