//! The exchange's side of overrides ([`crate::overrides`] has the token): what the caller
//! presented in `X-User-Override`, whether it overrides the warnings, and what a 449 offers.
//!
//! - A token issued on the headers (scope `h`) is checked on the retry's headers, against the
//!   warnings the headers make certain; granted, the body still decides (block rules apply,
//!   and warnings the token did not cover ask again).
//! - A token issued on the whole request (scope `b`) is checked on the retry's headers for its
//!   head MAC (a forged token never makes the filter wait for a body it would forward), then
//!   on the whole request.
//! - A granted token's id is claimed once per Envoy (proxy-wasm shared data, [`Host::claim_once`]).
//! - `true` overrides only with `policy.legacy_override`. A header sent twice never overrides.

use crate::overrides::{self, Issue, Request, Scope, Token};
use crate::policy::Policy;
use crate::replies::Confirm;
use crate::trace;

use super::{Exchange, Host};

/// What `X-User-Override` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum Presented {
    #[default]
    Nothing,
    /// Sent more than once: never an override, whatever the values.
    Duplicate,
    /// `true`, any case: the legacy form.
    Legacy,
    Token(Token),
    /// Anything else.
    Unreadable,
}

impl Presented {
    /// From the header's first value and how many times it was sent.
    pub fn read(value: Option<&[u8]>, count: usize) -> Presented {
        match value {
            None => Presented::Nothing,
            Some(_) if count > 1 => Presented::Duplicate,
            Some(v) if v.trim_ascii().eq_ignore_ascii_case(b"true") => Presented::Legacy,
            Some(v) => overrides::parse(v).map_or(Presented::Unreadable, Presented::Token),
        }
    }

    pub fn is_something(&self) -> bool {
        *self != Presented::Nothing
    }
}

/// An override granted on the headers: the warnings its token covered, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Granted {
    pub warnings: Vec<String>,
    pub token_id: String,
}

const NANOS: u64 = 1_000_000_000;

impl Exchange {
    fn override_request(&self) -> Request<'_> {
        let headers = self.fields.headers.iter().chain(&self.fields.trailers);
        Request {
            trace_id: &self.trace_id,
            method: &self.method,
            path: &self.path,
            fields: overrides::fields_digest(
                headers.map(|h| (h.raw_name.as_slice(), h.value.as_slice())),
            ),
        }
    }

    /// The headers make `warnings` certain: true when the request goes on to its body (an
    /// override granted here, or one that only the body can check), false to answer 449 now.
    pub(super) fn override_on_headers(
        &mut self,
        policy: &Policy,
        warnings: &[&str],
        host: &impl Host,
    ) -> bool {
        if !policy.overrides_possible() {
            return false;
        }
        let now_secs = host.now_nanos() / NANOS;
        match &self.presented {
            Presented::Legacy => policy.legacy_override,
            Presented::Token(t) => {
                let Some(key) = policy.override_key.as_ref() else {
                    return false;
                };
                // One digest of the request for both MACs.
                let req = self.override_request();
                if !t.head_holds(key, now_secs, &req) {
                    return false;
                }
                match t.scope {
                    Scope::Body => true,
                    Scope::Headers => {
                        let granted =
                            t.full_holds(key, &req, warnings, &[]) && claim(host, t, now_secs);
                        if granted {
                            self.granted = Some(Granted {
                                warnings: warnings.iter().map(|w| w.to_string()).collect(),
                                token_id: t.id.clone(),
                            });
                        }
                        granted
                    }
                }
            }
            Presented::Nothing | Presented::Duplicate | Presented::Unreadable => false,
        }
    }

    /// The whole request warns `warnings`: whether the caller's confirmation overrides them.
    /// Sets the id the `override` event names.
    pub(super) fn override_on_body(
        &mut self,
        policy: &Policy,
        warnings: &[&str],
        body: &[u8],
        host: &impl Host,
    ) -> bool {
        if !policy.overrides_possible() {
            return false;
        }
        if let Some(g) = &self.granted {
            // Granted on the headers: it covers these warnings only if the body added none.
            if g.warnings
                .iter()
                .map(String::as_str)
                .eq(warnings.iter().copied())
            {
                self.override_id = Some(g.token_id.clone());
                return true;
            }
            return false;
        }
        let now_secs = host.now_nanos() / NANOS;
        match &self.presented {
            Presented::Legacy => policy.legacy_override,
            Presented::Token(t) if t.scope == Scope::Body => {
                let Some(key) = policy.override_key.as_ref() else {
                    return false;
                };
                let req = self.override_request();
                let granted = t.head_holds(key, now_secs, &req)
                    && t.full_holds(key, &req, warnings, body)
                    && claim(host, t, now_secs);
                if granted {
                    self.override_id = Some(t.id.clone());
                }
                granted
            }
            Presented::Token(_)
            | Presented::Nothing
            | Presented::Duplicate
            | Presented::Unreadable => false,
        }
    }

    /// What a 449 offers: a new token bound to this request (`body`: `None` when decided on
    /// its headers), the legacy form, or nothing.
    pub(super) fn confirmation(
        &self,
        policy: &Policy,
        warnings: &[&str],
        body: Option<&[u8]>,
        now_nanos: u64,
    ) -> Offer {
        if !policy.allow_override {
            return Offer::Off;
        }
        match &policy.override_key {
            Some(key) => {
                let random = trace::random_bytes(now_nanos);
                let mut id = [0u8; 8];
                id.iter_mut().zip(random.iter()).for_each(|(d, s)| *d = *s);
                let scope = if body.is_some() {
                    Scope::Body
                } else {
                    Scope::Headers
                };
                let issue = Issue {
                    id,
                    now_secs: now_nanos / NANOS,
                    ttl_secs: policy.override_ttl_secs,
                    scope,
                };
                Offer::Token(overrides::mint(
                    key,
                    issue,
                    &self.override_request(),
                    warnings,
                    body,
                ))
            }
            None if policy.legacy_override => Offer::Legacy,
            None => Offer::Off,
        }
    }
}

/// What a 449 offers, owned (see [`Confirm`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Offer {
    Token(String),
    Legacy,
    Off,
}

impl Offer {
    pub fn confirm(&self, ttl_secs: u64) -> Confirm<'_> {
        match self {
            Offer::Token(token) => Confirm::Token { token, ttl_secs },
            Offer::Legacy => Confirm::Legacy,
            Offer::Off => Confirm::Off,
        }
    }
}

/// Claims the token's id once per Envoy.
fn claim(host: &impl Host, t: &Token, now_secs: u64) -> bool {
    host.claim_once(&overrides::slot_key(&t.id), &|slot| {
        overrides::claim_in_slot(slot, &t.id, t.expiry, now_secs)
    })
}
