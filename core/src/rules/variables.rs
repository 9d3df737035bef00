//! The rule variables: one row each. The compiler reads its names, types and values here, its
//! error text lists them, the docs' table is checked against them, and [`Facts`] holds the
//! per-request ones by row.
//!
//! Adding a variable: one row below, and where its value is known. A value the configuration
//! fixes is a `Source::Config` function of the [`Env`]; a per-request value is
//! `Source::Request` (known with the request headers) or `Source::Body` (known once the body
//! is read), put into the request's [`Facts`] by the phase that knows it (`Facts::with`); a
//! value known only once the response comes back is `Source::Response`: a rule that reads one
//! is a response rule, decided on the response.

use crate::manifest::{Retention, Reversibility, TrustLevel};
use crate::registry::registry;

use super::{Env, Facts};

/// A variable's type, as rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Bool,
    /// An integer that is always within `min..=max`: a comparison that no value of the range
    /// can change (`trust_score > 10`) draws a warning when the configuration loads.
    Int {
        min: i64,
        max: i64,
    },
    /// A string of the given shape: comparing it with a literal of another shape
    /// (`path == 'book'`) draws a warning when the configuration loads.
    Str(Shape),
    /// A string from a closed set: comparing it with any other literal is an error.
    /// `aliases` are other names of a value (`forever` is `permanent`).
    Enum {
        values: &'static [&'static str],
        aliases: &'static [(&'static str, &'static str)],
    },
}

impl Type {
    /// As the docs' table writes it.
    pub fn docs(self) -> String {
        match self {
            Type::Bool => "bool".into(),
            Type::Int { .. } => "integer".into(),
            Type::Str(_) => "string".into(),
            Type::Enum { values, .. } => {
                let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                format!("string: {}", quoted.join(", "))
            }
        }
    }
}

/// What every value of a per-request string looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Any string: no literal is out of shape.
    Any,
    /// An HTTP method: case-sensitive, and every standard one is an upper-case token.
    Method,
    /// A request path without query string or fragment: `/…`, `*` (`OPTIONS *`), or empty
    /// (`CONNECT`).
    Path,
    /// A SPIFFE ID, `spiffe://<trust domain>/<path>` (SPIFFE ID standard §2), or empty when
    /// the caller has none.
    SpiffeId,
    /// A SPIFFE trust domain name: lower-case letters, digits, `.`, `-`, `_` (SPIFFE ID
    /// standard §2.1), without the scheme; or empty.
    TrustDomain,
    /// An A2A message's role: `user` or `agent` (A2A specification, `Message.role`); or empty.
    A2aRole,
}

impl Shape {
    /// Why `literal` is never a value of this shape, if it is not.
    pub fn never(self, literal: &str) -> Option<&'static str> {
        match self {
            Shape::Any => None,
            Shape::Method => {
                let token = !literal.is_empty()
                    && literal.bytes().all(|b| {
                        b.is_ascii_uppercase()
                            || b.is_ascii_digit()
                            || b"!#$%&'*+-.^_`|~".contains(&b)
                    });
                (!token).then_some("methods are case-sensitive upper-case tokens (`POST`)")
            }
            Shape::Path => {
                if literal.contains(['?', '#']) {
                    Some("`path` is the path without its query string or fragment")
                } else if literal.is_empty() || literal.starts_with('/') || literal == "*" {
                    None
                } else {
                    Some("paths start with `/`")
                }
            }
            Shape::SpiffeId => (!literal.is_empty() && !literal.starts_with("spiffe://"))
                .then_some(
                    "SPIFFE IDs start with `spiffe://` (the name of a directory entry is `caller`)",
                ),
            Shape::TrustDomain => {
                if literal.starts_with("spiffe://") {
                    Some("a trust domain is written without `spiffe://` (`example.org`)")
                } else if literal
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                {
                    None
                } else {
                    Some("trust domains are lower-case letters, digits, `.`, `-` and `_`")
                }
            }
            Shape::A2aRole => (!["", "user", "agent", "unspecified"].contains(&literal)).then_some(
                "A2A roles are `user`, `agent` and `unspecified` ('' when there is no message)",
            ),
        }
    }
}

/// A value the configuration fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixed {
    Bool(bool),
    Int(i64),
    Str(&'static str),
}

/// Where a variable's value comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// Fixed by the configuration (the manifest, the trust score): folded into the rule when it
    /// compiles, so a rule about the manifest costs nothing per request.
    Config(fn(&Env) -> Fixed),
    /// Known per request with its headers: the phase that knows it puts it in the [`Facts`].
    Request,
    /// Known per request once its body is read (the protocol fields of a JSON-RPC, MCP, A2A or
    /// OpenAI body): unknown to [`Cond::decided`](super::Cond::decided) while the body is
    /// pending. A request without a body has the values of "no such field": `protocol` is
    /// `http`, strings are `''`, `openai_stream` is false.
    Body,
    /// `has_<type>`: one per enabled detector, true when it found something.
    Detector,
    /// Known once the response is read (its status, what the detectors found in it): a rule
    /// that reads one is decided on the response, never on the request.
    Response,
    /// `response_has_<type>`: one per enabled detector, true when it found something in the
    /// response.
    ResponseDetector,
}

/// A rule variable.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    /// As rules write it (`has_<type>` stands for one per detector).
    pub name: &'static str,
    pub ty: Type,
    /// What it is (the docs' table).
    pub doc: &'static str,
    pub source: Source,
}

const RETENTION_ALIASES: &[(&str, &str)] = &[("forever", "permanent")];

/// The values of `target_retention`: the manifest's, or `unknown` without one.
pub const TARGET_RETENTIONS: &[&str] =
    &["ephemeral", "temporary", "permanent", "forever", "unknown"];

/// The values of `target_reversibility`: the manifest's, or `unknown` without one.
pub const TARGET_REVERSIBILITIES: &[&str] = &["full", "partial", "none", "unknown"];

/// The values of `protocol`: what the body was read as.
pub const PROTOCOLS: &[&str] = &["http", "jsonrpc", "a2a", "mcp", "openai"];

/// The values of `caller_source`: where the caller's identity came from, strongest first.
pub const CALLER_SOURCES: &[&str] = &["spiffe", "jwt", "header", "anonymous"];

registry! {
    /// Every variable a rule condition can use.
    pub enum Var: Variable {
        Has => Variable { name: "has_<type>", ty: Type::Bool, source: Source::Detector,
            doc: "the detector `<type>` (built-in or custom) found something in any field of the request: method, path and query, headers, body, trailers (`has_credit_card`, `has_ssn`, `has_email`, `has_jwt`, ...)" },
        DetectedCount => Variable { name: "detected_count", ty: Type::Int { min: 0, max: i64::MAX },
            source: Source::Request,
            doc: "how many values the detectors found, all types together" },
        ResponseHas => Variable { name: "response_has_<type>", ty: Type::Bool,
            source: Source::ResponseDetector,
            doc: "the detector `<type>` found something in the response body or stream, so far (`response_has_credit_card`, `response_has_ssn`, ...); a rule that reads it is a response rule" },
        ResponseDetectedCount => Variable { name: "response_detected_count",
            ty: Type::Int { min: 0, max: i64::MAX }, source: Source::Response,
            doc: "how many values the detectors found in the response so far, all types together" },
        ResponseStatus => Variable { name: "response_status", ty: Type::Int { min: 0, max: 999 },
            source: Source::Response,
            doc: "the response's HTTP status (`:status`), 0 if it is not a number" },
        TrustScore => Variable { name: "trust_score",
            ty: Type::Int { min: 0, max: crate::trust::MAX_SCORE as i64 },
            source: Source::Config(|e| Fixed::Int(i64::from(e.trust_score))),
            doc: "the manifest's trust score (0..10)" },
        TrustLevel => Variable { name: "trust_level",
            ty: Type::Enum { values: &TrustLevel::NAMES, aliases: &[] },
            source: Source::Config(|e| Fixed::Str(e.manifest.trust_level.as_str())),
            doc: "the manifest's trust level" },
        Retention => Variable { name: "retention",
            ty: Type::Enum { values: &Retention::NAMES, aliases: RETENTION_ALIASES },
            source: Source::Config(|e| Fixed::Str(e.manifest.retention.canonical().as_str())),
            doc: "the manifest's data retention (`forever` and `permanent` are the same)" },
        Reversibility => Variable { name: "reversibility",
            ty: Type::Enum { values: &Reversibility::NAMES, aliases: &[] },
            source: Source::Config(|e| Fixed::Str(e.manifest.reversibility.as_str())),
            doc: "the manifest's reversibility level" },
        HumanInLoop => Variable { name: "human_in_loop", ty: Type::Bool,
            source: Source::Config(|e| Fixed::Bool(e.manifest.human_in_loop)),
            doc: "the manifest says a human is in the loop" },
        TrainingConsent => Variable { name: "training_consent", ty: Type::Bool,
            source: Source::Config(|e| Fixed::Bool(e.manifest.training_consent)),
            doc: "the manifest says data may be used for training" },
        Method => Variable { name: "method", ty: Type::Str(Shape::Method), source: Source::Request,
            doc: "the request method, as sent (`POST`)" },
        Path => Variable { name: "path", ty: Type::Str(Shape::Path), source: Source::Request,
            doc: "the request path without query string" },
        Caller => Variable { name: "caller", ty: Type::Str(Shape::Any), source: Source::Request,
            doc: "the caller's name: its `callers.directory` entry's `name`, or the default's (`anonymous`)" },
        CallerId => Variable { name: "caller_id", ty: Type::Str(Shape::Any), source: Source::Request,
            doc: "the caller's identity as its source gives it: the SPIFFE ID, the JWT `sub`, the header's value; `''` for an anonymous caller" },
        CallerSource => Variable { name: "caller_source",
            ty: Type::Enum { values: CALLER_SOURCES, aliases: &[] }, source: Source::Request,
            doc: "where the caller's identity came from: the TLS peer's SPIFFE ID, a JWT verified by Envoy's `jwt_authn`, the declared header, or none" },
        CallerSpiffeId => Variable { name: "caller_spiffe_id", ty: Type::Str(Shape::SpiffeId),
            source: Source::Request,
            doc: "the SPIFFE ID of the downstream TLS peer (`spiffe://example.org/ns/billing/sa/agent`), `''` without one" },
        CallerTrustDomain => Variable { name: "caller_trust_domain", ty: Type::Str(Shape::TrustDomain),
            source: Source::Request,
            doc: "the trust domain of `caller_spiffe_id` (`example.org`), `''` without one" },
        CallerTrustLevel => Variable { name: "caller_trust_level",
            ty: Type::Enum { values: &TrustLevel::NAMES, aliases: &[] }, source: Source::Request,
            doc: "the caller's trust level, from its directory entry or the default" },
        CallerTier => Variable { name: "caller_tier", ty: Type::Int { min: 0, max: 9 },
            source: Source::Request,
            doc: "the caller's tier (0..9): its directory entry's, a verified tier claim, or the default's" },
        CallerTrustScore => Variable { name: "caller_trust_score",
            ty: Type::Int { min: 0, max: crate::trust::MAX_SCORE as i64 }, source: Source::Request,
            doc: "the trust score of the caller's trust level (0..10)" },
        Protocol => Variable { name: "protocol",
            ty: Type::Enum { values: PROTOCOLS, aliases: &[] }, source: Source::Body,
            doc: "what the body is: a JSON-RPC 2.0 request (`jsonrpc`), one of A2A (`a2a`) or MCP (`mcp`), an OpenAI-style chat completion (`openai`), or none of these (`http`)" },
        RpcMethod => Variable { name: "rpc_method", ty: Type::Str(Shape::Any), source: Source::Body,
            doc: "the JSON-RPC `method` (`tools/call`, `message/send`), `''` if the body is not JSON-RPC" },
        McpTool => Variable { name: "mcp_tool", ty: Type::Str(Shape::Any), source: Source::Body,
            doc: "the tool an MCP `tools/call` calls (`params.name`), else `''`" },
        McpResource => Variable { name: "mcp_resource", ty: Type::Str(Shape::Any), source: Source::Body,
            doc: "the URI an MCP `resources/read` reads (`params.uri`), else `''`" },
        McpPrompt => Variable { name: "mcp_prompt", ty: Type::Str(Shape::Any), source: Source::Body,
            doc: "the prompt an MCP `prompts/get` gets (`params.name`), else `''`" },
        A2aTaskId => Variable { name: "a2a_task_id", ty: Type::Str(Shape::Any), source: Source::Body,
            doc: "the A2A task id of the request (`params.id` of `tasks/*`, `params.message.taskId`), else `''`" },
        A2aContextId => Variable { name: "a2a_context_id", ty: Type::Str(Shape::Any), source: Source::Body,
            doc: "the A2A context id of the message (`params.message.contextId`), else `''`" },
        A2aRole => Variable { name: "a2a_role", ty: Type::Str(Shape::A2aRole), source: Source::Body,
            doc: "the role of the A2A message (`user` or `agent`; v1.0's `ROLE_USER`, `ROLE_AGENT` and their enum numbers read the same), else `''`" },
        OpenaiModel => Variable { name: "openai_model", ty: Type::Str(Shape::Any), source: Source::Body,
            doc: "the `model` of an OpenAI-style chat completion request, else `''`" },
        OpenaiStream => Variable { name: "openai_stream", ty: Type::Bool, source: Source::Body,
            doc: "an OpenAI-style request asks for a streamed answer (`\"stream\": true`)" },
        ContractId => Variable { name: "contract_id", ty: Type::Str(Shape::Any),
            source: Source::Request,
            doc: "the ACVPS contract the exchange is held to: its gateway request's (`X-Contract-ID` or `gateway.contract`), else `contract`; `''` if none" },
        TargetHost => Variable { name: "target_host", ty: Type::Str(Shape::Any),
            source: Source::Request,
            doc: "gateway mode: the target's host as the URL standard reads it (a lower-case name without trailing dot, a dotted IPv4 address, an IPv6 address in brackets); `''` otherwise" },
        TargetScheme => Variable { name: "target_scheme", ty: Type::Str(Shape::Any),
            source: Source::Request,
            doc: "gateway mode: `http` or `https`; `''` otherwise" },
        TargetPort => Variable { name: "target_port", ty: Type::Int { min: 0, max: 65535 },
            source: Source::Request,
            doc: "gateway mode: the target's port (the scheme's default when none is written); 0 otherwise" },
        TargetManifest => Variable { name: "target_manifest", ty: Type::Bool,
            source: Source::Request,
            doc: "gateway mode with `gateway.manifests`: the target publishes a valid manifest at `/.well-known/agent-manifest`" },
        TargetAgentId => Variable { name: "target_agent_id", ty: Type::Str(Shape::Any),
            source: Source::Request,
            doc: "the target manifest's agent id, `''` without a manifest" },
        TargetTrustLevel => Variable { name: "target_trust_level",
            ty: Type::Enum { values: &TrustLevel::NAMES, aliases: &[] }, source: Source::Request,
            doc: "the target's trust level as it counts: what its manifest declares, at most `gateway.trust.ceiling` unless the target is in `gateway.trust.directory` or presents a valid attestation; `unknown` without a manifest" },
        TargetTrustScore => Variable { name: "target_trust_score",
            ty: Type::Int { min: 0, max: crate::trust::MAX_SCORE as i64 }, source: Source::Request,
            doc: "the target's trust score (0..10), from its manifest with its counted trust level; that of `unknown` (2) without a manifest" },
        TargetRetention => Variable { name: "target_retention",
            ty: Type::Enum { values: TARGET_RETENTIONS, aliases: RETENTION_ALIASES },
            source: Source::Request,
            doc: "the target manifest's data retention (`forever` and `permanent` are the same), `unknown` without a manifest" },
        TargetReversibility => Variable { name: "target_reversibility",
            ty: Type::Enum { values: TARGET_REVERSIBILITIES, aliases: &[] }, source: Source::Request,
            doc: "the target manifest's reversibility level, `unknown` without a manifest" },
        TargetHumanInLoop => Variable { name: "target_human_in_loop", ty: Type::Bool,
            source: Source::Request,
            doc: "the target's manifest says a human is in the loop" },
        TargetTrainingConsent => Variable { name: "target_training_consent", ty: Type::Bool,
            source: Source::Request,
            doc: "the target's manifest says data may be used for training" },
        TargetAttested => Variable { name: "target_attested", ty: Type::Bool,
            source: Source::Request,
            doc: "the target presented an attestation signed by a key of `gateway.trust.keys`, valid now" },
        Action => Variable { name: "action", ty: Type::Str(Shape::Any), source: Source::Body,
            doc: "the first action of `policy.actions` whose `when` matches the request, `''` if none" },
    }
}

/// The prefix of the detector variables.
pub const HAS_PREFIX: &str = "has_";

/// The prefix of the response's detector variables.
pub const RESPONSE_HAS_PREFIX: &str = "response_has_";

impl Var {
    /// The variable a rule names: `has_…` is [`Var::Has`] (the detector is checked by the
    /// compiler); `None` for an unknown name.
    pub fn by_name(name: &str) -> Option<Var> {
        if name.starts_with(HAS_PREFIX) {
            return Some(Var::Has);
        }
        if name.starts_with(RESPONSE_HAS_PREFIX) {
            return Some(Var::ResponseHas);
        }
        Var::ALL.iter().copied().find(|v| {
            !matches!(v.spec().source, Source::Detector | Source::ResponseDetector)
                && v.spec().name == name
        })
    }

    /// Every name, for error messages: `has_<type>, detected_count, …`.
    pub fn names() -> String {
        let names: Vec<&str> = Var::ALL.iter().map(|v| v.spec().name).collect();
        names.join(", ")
    }

    /// The variables a request's [`Facts`] must carry (known with the headers or the body).
    pub fn per_request() -> impl Iterator<Item = Var> {
        Var::ALL
            .iter()
            .copied()
            .filter(|v| matches!(v.spec().source, Source::Request | Source::Body))
    }

    /// Whether the variable is known only once the body is read ([`Source::Body`]).
    pub fn needs_body(self) -> bool {
        matches!(self.spec().source, Source::Body)
    }

    /// The variables a response's [`Facts`] adds to its request's.
    pub fn per_response() -> impl Iterator<Item = Var> {
        Var::ALL
            .iter()
            .copied()
            .filter(|v| matches!(v.spec().source, Source::Response))
    }

    /// Whether the variable is known only once the response is read ([`Source::Response`],
    /// [`Source::ResponseDetector`]).
    pub fn needs_response(self) -> bool {
        matches!(
            self.spec().source,
            Source::Response | Source::ResponseDetector
        )
    }
}

/// A per-request value, as [`Facts`] holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Value<'a> {
    /// Not known for this request (a phase that never set it): false, 0 and `""` to rules.
    #[default]
    Unset,
    Bool(bool),
    Int(i64),
    Str(&'a str),
}

impl Facts<'_> {
    /// The variables of [`Var::per_request`] this request left unset, or set to a value of
    /// another type than their row's (for tests: a variable with no phase that computes it,
    /// or one that computes it wrong).
    pub fn missing(&self) -> Vec<Var> {
        Var::per_request()
            .filter(|v| !fits(v.spec().ty, self.get(*v)))
            .collect()
    }

    /// The variables of [`Var::per_response`] a response's facts left unset or mistyped.
    pub fn missing_on_response(&self) -> Vec<Var> {
        Var::per_response()
            .filter(|v| !fits(v.spec().ty, self.get(*v)))
            .collect()
    }
}

/// Whether a per-request value is of the variable's type.
fn fits(ty: Type, value: Value) -> bool {
    match (ty, value) {
        (Type::Bool, Value::Bool(_)) | (Type::Str(_), Value::Str(_)) => true,
        (Type::Int { min, max }, Value::Int(i)) => (min..=max).contains(&i),
        (Type::Enum { values, .. }, Value::Str(s)) => values.contains(&s),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{KindSet, Scanner};
    use crate::manifest::RawManifest;

    #[test]
    fn config_values_have_their_declared_type() {
        let m = serde_json::from_value::<RawManifest>(serde_json::json!({
            "identity": {"agent_id": "a"}, "privacy": {"retention": "forever"}
        }))
        .unwrap()
        .normalize()
        .unwrap();
        let scanner = Scanner::new(KindSet::all_built_ins());
        let env = Env {
            manifest: &m,
            trust_score: 3,
            scanner: &scanner,
        };
        for v in Var::ALL {
            let spec = v.spec();
            if let Source::Config(f) = spec.source {
                match (spec.ty, f(&env)) {
                    (Type::Bool, Fixed::Bool(_)) => {}
                    (Type::Int { min, max }, Fixed::Int(i)) => {
                        assert!((min..=max).contains(&i), "{}: {i}", spec.name)
                    }
                    (Type::Enum { values, aliases }, Fixed::Str(s)) => assert!(
                        values.contains(&s) && !aliases.iter().any(|(a, _)| *a == s),
                        "{}: {s} is not a canonical value",
                        spec.name
                    ),
                    (ty, value) => panic!("{}: {ty:?} but {value:?}", spec.name),
                }
            }
        }
        assert_eq!(Var::by_name("has_anything"), Some(Var::Has));
        assert_eq!(Var::by_name("retention"), Some(Var::Retention));
        assert_eq!(Var::by_name("has_<type>"), Some(Var::Has));
        assert_eq!(Var::by_name("nope"), None);
    }

    #[test]
    fn a_value_of_another_type_counts_as_missing() {
        // Every per-request variable set to a value of its type...
        let full = Var::per_request().fold(Facts::new("POST", "/x"), |f, v| {
            let value = match v.spec().ty {
                Type::Bool => Value::Bool(false),
                Type::Int { min, .. } => Value::Int(min),
                Type::Str(_) => Value::Str(""),
                Type::Enum { values, .. } => Value::Str(values.first().copied().unwrap_or("")),
            };
            f.with(v, value)
        });
        assert!(full.missing().is_empty());
        // ...but one of another type.
        let f = full.with(Var::DetectedCount, Value::Str("3"));
        assert_eq!(f.missing(), vec![Var::DetectedCount]);
        // `Facts::new` sets the method, the path and `detected_count`; nothing else.
        let unset: Vec<Var> = Var::per_request()
            .filter(|v| ![Var::Method, Var::Path, Var::DetectedCount].contains(v))
            .collect();
        assert_eq!(Facts::new("POST", "/x").missing(), unset);
        assert!(fits(Var::CallerTier.spec().ty, Value::Int(9)));
        assert!(!fits(Var::CallerTier.spec().ty, Value::Int(10)));
        assert!(!fits(Var::Protocol.spec().ty, Value::Str("grpc")));
        assert!(fits(Var::TrustLevel.spec().ty, Value::Str("trusted")));
        assert!(!fits(Var::TrustLevel.spec().ty, Value::Str("trusty")));
    }

    /// docs/configuration.md's table of variables is the registry's.
    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn docs_list_every_variable() {
        use crate::registry::docs::{assert_table, doc, markdown_table};
        let rows = markdown_table(&doc("docs/configuration.md"), "**Language.**");
        let want: Vec<Vec<String>> = Var::ALL
            .iter()
            .map(|v| {
                let s = v.spec();
                vec![format!("`{}`", s.name), s.ty.docs(), s.doc.to_string()]
            })
            .collect();
        assert_table("docs/configuration.md", "the variables table", &rows, &want);
    }
}
