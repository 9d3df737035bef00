//! `detectors`: the catalogue (built-ins, the operator's own detectors with their patterns
//! compiled here, once) and which of them run.

use crate::detect::{self, Checksum, CustomDetector, Kind, KindSet, Scanner};

use super::raw::{RawChecksum, RawCustomDetector, RawDetectors};
use super::ConfigError;

/// Longest custom detector name and cue word.
const MAX_NAME: usize = 32;

/// The request headers not scanned unless the operator says otherwise: the credentials a
/// request to an agent is expected to carry (HTTP authentication, RFC 9110 §11; the API-key
/// headers of OpenAI-compatible and Anthropic clients). Cookies are scanned.
pub const DEFAULT_SKIP_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
];

/// Most names in `detectors.skip_headers`.
const MAX_SKIP_HEADERS: usize = 64;

/// `detectors.skip_headers`: header names (RFC 9110 tokens, compared lower-case as Envoy keeps
/// them), or the default list.
pub(super) fn skip_headers(raw: Option<Vec<String>>) -> Result<Vec<String>, ConfigError> {
    let Some(names) = raw else {
        return Ok(DEFAULT_SKIP_HEADERS.iter().map(|s| s.to_string()).collect());
    };
    if names.len() > MAX_SKIP_HEADERS {
        return Err(ConfigError::OutOfRange {
            path: "detectors.skip_headers".into(),
            bound: format!("at most {MAX_SKIP_HEADERS} header names"),
        });
    }
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let path = format!("detectors.skip_headers[{i}]");
        let pseudo = name.strip_prefix(':').unwrap_or(name);
        if pseudo.is_empty() || name.len() > 256 || !pseudo.bytes().all(token) {
            return Err(ConfigError::InvalidName {
                path,
                rule: "a header name: 1 to 256 token characters (RFC 9110 §5.1), or a \
                       pseudo-header such as :authority"
                    .into(),
            });
        }
        let lower = name.to_ascii_lowercase();
        if out.contains(&lower) {
            return Err(ConfigError::Duplicate {
                path,
                message: format!("header '{lower}' is listed twice"),
            });
        }
        out.push(lower);
    }
    Ok(out)
}

pub(super) fn compile(raw: RawDetectors) -> Result<Scanner, ConfigError> {
    let customs = custom(raw.custom.unwrap_or_default())?;
    let all_custom = (0..customs.len()).fold(KindSet::default(), |s, k| s.with(Kind::custom(k)));
    let catalogue = Scanner::with_custom(KindSet::default(), customs);
    let enabled = match raw.enabled {
        None => KindSet::all_built_ins().union(all_custom),
        Some(names) => enabled(&catalogue, &names)?,
    };
    Ok(catalogue.enable(enabled))
}

/// `detectors.custom`: names checked, patterns compiled.
fn custom(raw: Vec<RawCustomDetector>) -> Result<Vec<(String, CustomDetector)>, ConfigError> {
    let room = detect::MAX_KINDS - detect::BUILT_INS.len();
    if raw.len() > room {
        return Err(ConfigError::OutOfRange {
            path: "detectors.custom".into(),
            bound: format!("at most {room} custom detectors"),
        });
    }
    let mut compiled: Vec<(String, CustomDetector)> = Vec::with_capacity(raw.len());
    for (i, c) in raw.into_iter().enumerate() {
        let path = format!("detectors.custom[{i}]");
        let name_ok = c.name.len() <= MAX_NAME
            && c.name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase())
            && c.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(ConfigError::InvalidName {
                path: format!("{path}.name"),
                rule: "detector names are 1 to 32 characters of [a-z0-9_], starting with a letter"
                    .into(),
            });
        }
        if detect::BUILT_INS.iter().any(|d| d.name == c.name)
            || compiled.iter().any(|(n, _)| *n == c.name)
        {
            return Err(ConfigError::Duplicate {
                path: format!("{path}.name"),
                message: format!("detector name '{}' is already taken", c.name),
            });
        }
        let cues = c.cues.unwrap_or_default();
        if let Some(bad) = cues
            .iter()
            .position(|w| w.trim().is_empty() || w.len() > MAX_NAME || !w.is_ascii())
        {
            return Err(ConfigError::InvalidCue {
                path: format!("{path}.cues[{bad}]"),
            });
        }
        let checksum = c.checksum.map(|k| match k {
            RawChecksum::Luhn => Checksum::Luhn,
            RawChecksum::Mod97 => Checksum::Mod97,
        });
        let detector = CustomDetector::compile(&c.pattern, checksum, &cues).map_err(|e| {
            ConfigError::InvalidPattern {
                path: format!("{path}.pattern"),
                detector: c.name.clone(),
                error: e.replace('\n', " "),
            }
        })?;
        compiled.push((c.name, detector));
    }
    Ok(compiled)
}

/// `detectors.enabled`: each name known, and listed once.
fn enabled(catalogue: &Scanner, names: &[String]) -> Result<KindSet, ConfigError> {
    let mut set = KindSet::default();
    for (i, n) in names.iter().enumerate() {
        let path = format!("detectors.enabled[{i}]");
        let kind = catalogue
            .kind_by_name(n)
            .ok_or_else(|| ConfigError::UnknownDetector {
                path: path.clone(),
                name: n.clone(),
                known: catalogue.all_names().to_vec(),
            })?;
        if set.contains(kind) {
            return Err(ConfigError::Duplicate {
                path,
                message: format!("`{n}` is listed twice"),
            });
        }
        set = set.with(kind);
    }
    Ok(set)
}
