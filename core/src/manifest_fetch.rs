//! One fetch of a target's manifest (gateway mode), as a stream waiting for it or a root
//! context refreshing it makes it: `GET /.well-known/agent-manifest` through
//! `gateway.manifests.cluster`, then, when trusted keys are configured and the manifest
//! embeds no attestation, `GET /.well-known/agent-attestation`. What it gives is a
//! [`Fetched`] for the cache (`manifest_cache::Cache::store`) and a [`FetchResult`] for the
//! metrics; the attestation is verified here, once per fetch, never per request.

use crate::attestation;
use crate::gateway::{Gateway, ManifestFetch, TARGET_SCHEME};
use crate::manifest_cache::Fetched;
use crate::metrics::FetchResult;
use crate::phases::Callout;
use crate::remote_manifest::{self, Attestation, Summary};
use crate::target::Target;

/// Where a target publishes its manifest (IATP; the reference SDK's sidecar).
pub const MANIFEST_PATH: &str = "/.well-known/agent-manifest";
/// Where it publishes its attestation record (the reference SDK's sidecar; 404 when none).
pub const ATTESTATION_PATH: &str = "/.well-known/agent-attestation";
/// The most of an answer read: a manifest is refused over `remote_manifest::MAX_BODY_BYTES`.
pub const MAX_ANSWER_BYTES: usize = remote_manifest::MAX_BODY_BYTES + 1;

/// A fetch under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// `scheme://host:port`: the cache's key.
    pub origin: String,
    authority: String,
    scheme: &'static str,
    /// The manifest read, waiting for its attestation.
    manifest: Option<Summary>,
}

/// What to do with an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Make this call too (the attestation), and hand its answer to [`Fetch::answer`].
    Call(Callout),
    /// Done: store this; count this.
    Done(Fetched, FetchResult),
}

impl Fetch {
    pub fn new(target: &Target) -> Fetch {
        Fetch {
            origin: target.origin(),
            authority: target.authority(),
            scheme: target.scheme.as_str(),
            manifest: None,
        }
    }

    /// The call for the manifest (or, once it is read, for the attestation).
    pub fn callout(&self, m: &ManifestFetch) -> Callout {
        let path = if self.manifest.is_some() {
            ATTESTATION_PATH
        } else {
            MANIFEST_PATH
        };
        Callout {
            cluster: m.cluster.clone(),
            headers: vec![
                (":method".into(), "GET".into()),
                (":path".into(), path.into()),
                (":authority".into(), self.authority.clone()),
                (":scheme".into(), self.scheme.into()),
                (TARGET_SCHEME.into(), self.scheme.into()),
                ("accept".into(), "application/json".into()),
            ],
            body: Vec::new(),
            timeout_ms: m.timeout_ms,
        }
    }

    /// An answer (`status` `None`: Envoy ended the call, a timeout or a connection failure).
    pub fn answer(
        &mut self,
        gateway: &Gateway,
        status: Option<u16>,
        body: &[u8],
        now_ms: u64,
    ) -> Next {
        let Some(m) = &gateway.manifests else {
            return Next::Done(Fetched::Failed, FetchResult::Failed);
        };
        match self.manifest.take() {
            None => self.manifest_answer(gateway, m, status, body, now_ms),
            Some(summary) => {
                // The attestation is optional: anything but a valid record leaves the target
                // unattested, its manifest as read.
                let summary = match status {
                    Some(200) => attest(gateway, summary, body, now_ms),
                    _ => summary,
                };
                Next::Done(Fetched::Found(summary), FetchResult::Ok)
            }
        }
    }

    fn manifest_answer(
        &mut self,
        gateway: &Gateway,
        m: &ManifestFetch,
        status: Option<u16>,
        body: &[u8],
        now_ms: u64,
    ) -> Next {
        match status {
            Some(200) => {}
            // The target answered: it publishes no manifest.
            Some(404) | Some(410) => return Next::Done(Fetched::NotFound, FetchResult::NotFound),
            _ => return Next::Done(Fetched::Failed, FetchResult::Failed),
        }
        let read = match remote_manifest::read(body) {
            Ok(r) => r,
            Err(_) => return Next::Done(Fetched::Invalid, FetchResult::Invalid),
        };
        let summary = read.summary;
        match (summary.attestation, read.attestation) {
            (Attestation::Embedded, Some(record)) => {
                let summary = attest(gateway, summary, record.as_bytes(), now_ms);
                Next::Done(Fetched::Found(summary), FetchResult::Ok)
            }
            (Attestation::Absent, _) if !gateway.trust.keys.is_empty() => {
                self.manifest = Some(summary);
                Next::Call(self.callout(m))
            }
            _ => Next::Done(Fetched::Found(summary), FetchResult::Ok),
        }
    }
}

/// The summary, attested until the record's expiry when `record` is a valid attestation of
/// this agent by a trusted key. A record for another agent id attests nothing: an attestation
/// is about an agent, and anyone can copy one.
fn attest(gateway: &Gateway, mut summary: Summary, record: &[u8], now_ms: u64) -> Summary {
    let keys = &gateway.trust.keys;
    if keys.is_empty() {
        return summary;
    }
    let verified = attestation::AttestationRecord::parse(record)
        .ok()
        .and_then(|r| attestation::verify(&r, keys, now_ms, gateway.trust.max_age_ms).ok());
    if let Some(v) = verified.filter(|v| v.agent_id == summary.agent_id) {
        summary.attested_until_ms = u64::try_from(v.expires_unix_ms).ok();
    }
    summary
}
