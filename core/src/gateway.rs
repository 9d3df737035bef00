//! Gateway mode (ACVPS, `gateway` in the configuration): the client names where its request
//! goes (`X-Target-Endpoint`) and the contract it is held to (`X-Contract-ID`), and presents
//! the contract's digital certificate (`X-DC-Id`, `X-DC-Digest`). The filter checks all of it
//! on the request headers and tells Envoy's dynamic forward proxy where to go; Envoy routes,
//! resolves and speaks TLS (`envoy/envoy-gateway.yaml`).
//!
//! [`route`] decides from the four headers alone: a [`Route`] (the contract, the parsed
//! target, the `:authority` and `:path` to set) or a [`Refusal`]. The target's own manifest
//! (`gateway.manifests`) is judged afterwards, by the exchange, from the cache
//! (`crate::manifest_cache`).

use crate::contract::{Contract, Contracts};
use crate::manifest::TrustLevel;
use crate::target::{HostPattern, NotAllowed, Target, TargetError};

/// `X-Target-Endpoint`: an absolute `http(s)://` URL, optionally with a base path.
pub const TARGET_ENDPOINT: &str = "x-target-endpoint";
/// `X-Contract-ID`: the id of a configured contract.
pub const CONTRACT_ID: &str = "x-contract-id";
/// `X-DC-Id`: a certificate id the contract registers.
pub const DC_ID: &str = "x-dc-id";
/// `X-DC-Digest`: `sha256:<hex>` of the contract's canonical JSON.
pub const DC_DIGEST: &str = "x-dc-digest";
/// Set by the filter for the route: `http` or `https` picks the forward proxy's cluster with or
/// without TLS. A client's own value is replaced; the route removes it before the target.
pub const TARGET_SCHEME: &str = "x-iatp-target-scheme";
/// The ACVPS headers: for the gateway, never forwarded to the target.
pub const ACVPS_HEADERS: [&str; 4] = [TARGET_ENDPOINT, CONTRACT_ID, DC_ID, DC_DIGEST];
/// Where the gateway serves a contract's canonical JSON: this prefix and the contract's id.
pub const CONTRACTS_PATH: &str = "/.well-known/acvps/contracts/";

/// The compiled `gateway` key.
#[derive(Debug, Clone)]
pub struct Gateway {
    /// `gateway.contract`: the contract of a request without `X-Contract-ID`.
    pub contract: Option<String>,
    /// `gateway.serve_contracts` (default true): answer `GET /.well-known/acvps/contracts/<id>`
    /// with the contract's canonical JSON, so that clients can compute its digest.
    pub serve_contracts: bool,
    /// `gateway.manifests`: fetch and cache targets' manifests; `None`: targets are not
    /// judged by their manifest.
    pub manifests: Option<ManifestFetch>,
    /// `gateway.trust`: how much of what a target says about itself counts.
    pub trust: TargetTrust,
}

/// `gateway.manifests`.
#[derive(Debug, Clone)]
pub struct ManifestFetch {
    /// The Envoy cluster fetches go through (default `iatp_manifests`).
    pub cluster: String,
    /// A fetch's timeout, milliseconds (default 2,000): also how long a first request waits.
    pub timeout_ms: u32,
    /// How long a fetched manifest is used, milliseconds (default one hour).
    pub ttl_ms: u64,
    /// How long a target without a manifest, or whose fetch failed, is not asked again
    /// (default 60 s).
    pub negative_ttl_ms: u64,
    /// How long after its TTL an entry is still served while one worker refreshes it
    /// (default 300 s).
    pub stale_ms: u64,
    /// Slots of the cache in proxy-wasm shared data (default 1,024).
    pub max_entries: u32,
    /// The cache's table and times (`ttl_ms`, `negative_ttl_ms`, `stale_ms`, and the lease,
    /// `timeout_ms`).
    pub cache: crate::manifest_cache::Cache,
    /// What a request gets when its target's manifest cannot be had (the target is down, it
    /// answers 5xx, its manifest is invalid): `closed` refuses with 502, `open` goes on as if
    /// the target had no manifest (`target_manifest == false`).
    pub fail: crate::contract::moderation::Fail,
}

/// `gateway.trust`.
#[derive(Debug, Clone)]
pub struct TargetTrust {
    /// The most a target's self-declared `trust_level` counts as (default `unknown`), unless
    /// it is listed or attested.
    pub ceiling: TrustLevel,
    /// `directory`: targets whose declared trust counts as declared (host patterns).
    pub directory: Vec<HostPattern>,
    /// `keys`: the control planes' Ed25519 keys whose attestations raise a target's trust.
    pub keys: crate::attestation::TrustedKeys,
    /// `max_age_s`: the longest an attestation holds after its `timestamp`, milliseconds.
    pub max_age_ms: u64,
    /// `agents`: which agent id each host serves (host pattern, agent id), in configuration
    /// order: an attestation counts only for the agent its host is bound to. Without an entry
    /// for the host, the agent id must name the target itself.
    pub agents: Vec<(HostPattern, String)>,
}

impl TargetTrust {
    /// Whether `agent_id` is the agent `target` serves, so that its attestation may count: the
    /// first `agents` pattern matching the host decides; without one, a name binds itself (the
    /// agent id is the host, or the host and port as the `:authority` is written, or the host
    /// name's `did:web` DID, W3C did:web method §3.1, with the port as `%3A<port>` when it is
    /// not the scheme's). An attestation is about an agent id and
    /// anyone can copy one: without the binding, a hostile host could serve another agent's
    /// manifest and record.
    pub fn bound(&self, target: &Target, agent_id: &str) -> bool {
        if let Some((_, id)) = self.agents.iter().find(|(p, _)| p.matches(&target.host)) {
            return id == agent_id;
        }
        let authority = target.authority();
        if agent_id == authority || agent_id == target.host.to_string() {
            return true;
        }
        let crate::target::Host::Name(name) = &target.host else {
            return false;
        };
        let did = if target.port == target.scheme.default_port() {
            format!("did:web:{name}")
        } else {
            format!("did:web:{name}%3A{}", target.port)
        };
        agent_id == did
    }

    /// Whether the operator's directory lists the target's host.
    pub fn listed(&self, target: &Target) -> bool {
        self.directory.iter().any(|p| p.matches(&target.host))
    }
}

/// Where a gateway request goes, and under which contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The contract's index in [`Contracts`].
    pub contract: usize,
    pub target: Target,
    /// `:authority` for the forward proxy.
    pub authority: String,
    /// `:path`: the target's base path and the request's path.
    pub path: String,
}

/// Why a gateway request is refused on its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Neither `X-Contract-ID` nor `gateway.contract`.
    ContractRequired,
    /// `X-Contract-ID` names no configured contract.
    ContractUnknown,
    /// Neither `X-Target-Endpoint` nor the contract's `target_endpoint`.
    TargetRequired,
    /// `X-Target-Endpoint` does not parse as a target.
    TargetInvalid(TargetError),
    /// The target has a query or a fragment: a base URL has neither.
    TargetQuery,
    /// An ACVPS header sent more than once: which one counts would be a guess.
    Ambiguous(&'static str),
    /// The contract's `allowed_targets` do not allow it.
    TargetForbidden(NotAllowed),
    /// The contract registers certificates and the request presents no `X-DC-Id` or no
    /// `X-DC-Digest` (ACVPS: 409 `DC_REQUIRED`).
    DcRequired,
    /// An `X-DC-Id` the contract does not register, or an `X-DC-Digest` that is not the
    /// contract's digest.
    DcInvalid,
    /// The target's manifest could not be had and `gateway.manifests.fail` is `closed` (not
    /// [`route`]'s: the exchange's, once the cache and the fetch have answered).
    TargetUnavailable,
}

impl Refusal {
    /// The reply's `code` (ACVPS names where it has them).
    pub fn code(self) -> &'static str {
        match self {
            Refusal::ContractRequired => "CONTRACT_REQUIRED",
            Refusal::ContractUnknown => "CONTRACT_UNKNOWN",
            Refusal::TargetRequired => "TARGET_REQUIRED",
            Refusal::TargetInvalid(_) | Refusal::TargetQuery => "TARGET_INVALID",
            Refusal::Ambiguous(_) => "AMBIGUOUS_HEADER",
            Refusal::TargetForbidden(_) => "TARGET_FORBIDDEN",
            Refusal::DcRequired => "DC_REQUIRED",
            Refusal::DcInvalid => "DC_INVALID",
            Refusal::TargetUnavailable => "TARGET_UNAVAILABLE",
        }
    }

    /// What is wrong, in words that echo nothing the client sent.
    pub fn message(self) -> String {
        match self {
            Refusal::ContractRequired => "X-Contract-ID is required".into(),
            Refusal::ContractUnknown => "X-Contract-ID names no contract of this gateway".into(),
            Refusal::TargetRequired => {
                "X-Target-Endpoint is required (the contract has no target_endpoint)".into()
            }
            Refusal::TargetInvalid(e) => format!("X-Target-Endpoint is invalid: {}", e.as_str()),
            Refusal::TargetQuery => {
                "X-Target-Endpoint is invalid: a query or fragment in a base URL".into()
            }
            Refusal::Ambiguous(h) => format!("{h} was sent more than once"),
            Refusal::TargetForbidden(n) => match n {
                NotAllowed::Class(c) => format!(
                    "the contract does not allow targets at {} addresses",
                    c.as_str().replace('_', "-")
                ),
                n => format!("the contract does not allow this target's {}", n.as_str()),
            },
            Refusal::DcRequired => {
                "the contract requires a digital certificate: X-DC-Id and X-DC-Digest".into()
            }
            Refusal::DcInvalid => {
                "X-DC-Id is not registered for the contract, or X-DC-Digest is not its digest"
                    .into()
            }
            Refusal::TargetUnavailable => {
                "the target's manifest could not be fetched (gateway.manifests.fail is closed)"
                    .into()
            }
        }
    }

    /// The `reason` of the `blocked` line.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::ContractRequired => "contract_required",
            Refusal::ContractUnknown => "contract_unknown",
            Refusal::TargetRequired => "target_required",
            Refusal::TargetInvalid(_) | Refusal::TargetQuery => "target_invalid",
            Refusal::Ambiguous(_) => "ambiguous_header",
            Refusal::TargetForbidden(_) => "target_forbidden",
            Refusal::DcRequired => "dc_required",
            Refusal::DcInvalid => "dc_invalid",
            Refusal::TargetUnavailable => "target_unavailable",
        }
    }
}

/// The ACVPS headers of a request: each `None` when absent, `Err(())` when sent twice.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcvpsHeaders<'a> {
    pub target: Header<'a>,
    pub contract: Header<'a>,
    pub dc_id: Header<'a>,
    pub dc_digest: Header<'a>,
}

/// One header: its value, absent, or given more than once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Header<'a> {
    #[default]
    Absent,
    One(&'a [u8]),
    Many,
}

impl<'a> Header<'a> {
    /// From every value of the header, in order.
    pub fn of(mut values: impl Iterator<Item = &'a [u8]>) -> Header<'a> {
        match (values.next(), values.next()) {
            (None, _) => Header::Absent,
            (Some(v), None) => Header::One(v),
            (Some(_), Some(_)) => Header::Many,
        }
    }

    fn get(self, name: &'static str) -> Result<Option<&'a [u8]>, Refusal> {
        match self {
            Header::Absent => Ok(None),
            Header::One(v) => Ok(Some(v)),
            Header::Many => Err(Refusal::Ambiguous(name)),
        }
    }
}

/// Decides a gateway request from its ACVPS headers and its `:path`: contract first (it says
/// which targets and certificates are acceptable), then the certificate (ACVPS step 3), then
/// the target. `X-Target-Endpoint` wins over the contract's `target_endpoint` (ACVPS: the
/// contract's is a fallback).
pub fn route(
    gateway: &Gateway,
    contracts: &Contracts,
    h: &AcvpsHeaders,
    request_path: &[u8],
) -> Result<Route, Refusal> {
    let target_header = h.target.get("X-Target-Endpoint")?;
    let contract_header = h.contract.get("X-Contract-ID")?;
    let dc_id = h.dc_id.get("X-DC-Id")?;
    let dc_digest = h.dc_digest.get("X-DC-Digest")?;
    let index = match contract_header {
        Some(id) => std::str::from_utf8(id)
            .ok()
            .and_then(|id| contracts.index_of(id)),
        None => match &gateway.contract {
            Some(id) => contracts.index_of(id),
            None => return Err(Refusal::ContractRequired),
        },
    }
    .ok_or(Refusal::ContractUnknown)?;
    let contract = contracts.at(index).ok_or(Refusal::ContractUnknown)?;
    certificate(contract, dc_id, dc_digest)?;
    let url = match target_header {
        Some(v) => {
            std::str::from_utf8(v).map_err(|_| Refusal::TargetInvalid(TargetError::NonAscii))?
        }
        None => contract
            .target_endpoint
            .as_deref()
            .ok_or(Refusal::TargetRequired)?,
    };
    let target = Target::parse(url).map_err(Refusal::TargetInvalid)?;
    if target.path.contains(['?', '#']) {
        return Err(Refusal::TargetQuery);
    }
    contract
        .allowed_targets
        .check(&target)
        .map_err(Refusal::TargetForbidden)?;
    let base = target.path.trim_end_matches('/');
    let request_path = String::from_utf8_lossy(request_path);
    let path = if request_path.starts_with('/') {
        format!("{base}{request_path}")
    } else {
        // `*` (OPTIONS) or an absolute-form target: the base path alone.
        format!("{base}/")
    };
    Ok(Route {
        contract: index,
        authority: target.authority(),
        path,
        target,
    })
}

/// ACVPS step 3: a contract that registers certificates wants one of them presented, with the
/// contract's digest (so the client proves it holds this version of the contract).
fn certificate(
    contract: &Contract,
    dc_id: Option<&[u8]>,
    dc_digest: Option<&[u8]>,
) -> Result<(), Refusal> {
    if contract.certificates.is_empty() {
        return Ok(());
    }
    let (Some(id), Some(digest)) = (dc_id, dc_digest) else {
        return Err(Refusal::DcRequired);
    };
    let registered = contract.certificates.iter().any(|c| c.as_bytes() == id);
    // Every registered id is compared, and the digest always, so that the time taken says
    // nothing about which part was wrong.
    let digest_ok = std::str::from_utf8(digest)
        .is_ok_and(|d| crate::canonical::digest_matches(d, &contract.sha256));
    if registered && digest_ok {
        Ok(())
    } else {
        Err(Refusal::DcInvalid)
    }
}
