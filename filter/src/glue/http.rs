//! The HTTP context: one per request. Reads headers and the body, runs the pipeline, carries
//! out its steps (forward or reply), and publishes the event lines to filter state.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use super::host;
use crate::agent_card;
use crate::pipeline::{Exchange, Step};
use crate::policy::{is_override, Policy};
use crate::trace;

/// Filter state key of the event lines: Envoy exposes it as `wasm.iatp_events`, which access
/// logs print with `%FILTER_STATE(wasm.iatp_events:PLAIN)%`. A public contract.
const EVENTS_PROPERTY: &str = "iatp_events";

const TRACE_HEADER: &str = "x-agent-trace-id";
const SCORE_HEADER: &str = "x-agent-trust-score";
const QUARANTINE_HEADER: &str = "x-agent-quarantined";
const POLICY_HEADER: &str = "x-agent-policy";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the request headers.
    Start,
    /// Headers held back while the body is buffered.
    Buffering,
    /// Sent on to the agent.
    Forwarded,
    /// Answered locally by this filter.
    Replied,
}

pub struct IatpHttp {
    policy: Option<Rc<Policy>>,
    exchange: Option<Exchange>,
    state: State,
    /// Bytes of events already published to filter state.
    published: usize,
    /// The request headers are held back (not yet sent upstream), so they can still change.
    headers_held: bool,
}

impl IatpHttp {
    pub fn new(policy: Option<Rc<Policy>>) -> IatpHttp {
        IatpHttp {
            policy,
            exchange: None,
            state: State::Start,
            published: 0,
            headers_held: false,
        }
    }

    fn publish_events(&mut self) {
        if let Some(ex) = &self.exchange {
            let lines = ex.events();
            if lines.len() != self.published {
                host::set_property(EVENTS_PROPERTY, lines);
                self.published = lines.len();
            }
        }
    }

    /// Carries out a pipeline step. Events are published first: a local reply can finish the
    /// stream, and the access log, before `send_http_response` returns.
    fn carry_out(&mut self, step: Step) -> Action {
        self.publish_events();
        match step {
            Step::Forward => {
                self.state = State::Forwarded;
                let quarantined = self.exchange.as_ref().is_some_and(|e| e.quarantined);
                if quarantined && self.headers_held {
                    host::set_request_header(QUARANTINE_HEADER, Some("true"));
                }
                Action::Continue
            }
            Step::Reply {
                status,
                body,
                details,
            } => {
                self.state = State::Replied;
                let trace_id = self
                    .exchange
                    .as_ref()
                    .map(|e| e.trace_id.as_str())
                    .unwrap_or("");
                let score = self
                    .policy
                    .as_ref()
                    .map(|p| p.trust_score.to_string())
                    .unwrap_or_default();
                let mut headers = vec![
                    ("content-type", "application/json"),
                    ("cache-control", "no-store"),
                    (TRACE_HEADER, trace_id),
                ];
                if !score.is_empty() {
                    headers.push((SCORE_HEADER, score.as_str()));
                }
                host::send_reply(u32::from(status), details, &headers, &body);
                Action::Pause
            }
        }
    }

    fn unconfigured(&mut self) -> Action {
        self.state = State::Replied;
        host::send_reply(
            503,
            "iatp_unconfigured",
            &[("content-type", "application/json")],
            br#"{"error":"the IATP filter has no valid configuration"}"#,
        );
        Action::Pause
    }

    fn decide_with_body(&mut self, max: usize) -> Action {
        let (Some(policy), Some(ex)) = (self.policy.clone(), self.exchange.as_mut()) else {
            return Action::Continue;
        };
        let body = if max == 0 {
            Vec::new()
        } else {
            host::request_body(max)
        };
        let now = host::now_nanos();
        let step = if u64::try_from(body.len()).unwrap_or(u64::MAX) > policy.max_body_bytes {
            ex.too_large(&policy, u64::try_from(body.len()).unwrap_or(u64::MAX), now)
        } else {
            ex.decide(&policy, &body, now)
        };
        self.carry_out(step)
    }

    fn body_read_limit(&self) -> usize {
        // One byte over the limit is enough to know the body is too large.
        self.policy
            .as_ref()
            .and_then(|p| usize::try_from(p.max_body_bytes.saturating_add(1)).ok())
            .unwrap_or(usize::MAX)
    }
}

impl Context for IatpHttp {}

impl HttpContext for IatpHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(policy) = self.policy.clone() else {
            return self.unconfigured();
        };
        let now = host::now_nanos();
        let header = host::request_header;
        let trace_id = trace::resolve(
            header(TRACE_HEADER).as_deref(),
            header("traceparent").as_deref(),
            || random_bytes(now),
        );
        let mut ex = Exchange::new(
            &header(":method").unwrap_or_default(),
            &header(":path").unwrap_or_default(),
            trace_id,
            is_override(header("x-user-override").as_deref()),
            now,
        );

        if let Some(which) = ex.well_known() {
            let base = agent_card::base_url(
                header(":scheme").as_deref(),
                header(":authority").as_deref(),
            );
            let step = ex.serve_well_known(&policy, which, &base, now);
            self.exchange = Some(ex);
            return self.carry_out(step);
        }

        // The agent can trust these headers: the filter sets them, whatever the caller sent.
        host::set_request_header(TRACE_HEADER, Some(&ex.trace_id));
        host::set_request_header(SCORE_HEADER, Some(&policy.trust_score.to_string()));
        host::set_request_header(QUARANTINE_HEADER, None);

        let declared = header("content-length").and_then(|v| {
            std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
        });
        let early = ex.check_declared_length(&policy, declared, now);
        self.exchange = Some(ex);
        if let Some(step) = early {
            return self.carry_out(step);
        }
        // An upgrade (WebSocket) or CONNECT request never ends its request stream: it is a
        // tunnel, not a body. It is decided on its headers and path alone.
        let tunnel =
            header("upgrade").is_some() || header(":method").as_deref() == Some(b"CONNECT");
        if end_of_stream || tunnel {
            self.headers_held = true;
            return self.decide_with_body(0);
        }
        self.state = State::Buffering;
        self.headers_held = policy.hold_headers;
        if policy.hold_headers {
            // Hold the headers back until the body is decided: a blocked request must never
            // reach the agent, not even its headers. Needs `allow_on_headers_stop_iteration`
            // in the Wasm filter config; without it Envoy stops feeding this filter the body
            // and the request hangs.
            Action::Pause
        } else {
            // Istio's WasmPlugin cannot set that flag: the headers go on now and the body is
            // still held; a blocked request is reset before its body reaches the agent.
            Action::Continue
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.state != State::Buffering {
            return Action::Continue;
        }
        let limit = self.body_read_limit();
        if body_size >= limit || end_of_stream {
            return self.decide_with_body(limit);
        }
        Action::Pause
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        // Trailers end the request stream: the body is complete.
        if self.state != State::Buffering {
            return Action::Continue;
        }
        let limit = self.body_read_limit();
        self.decide_with_body(limit)
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if self.state == State::Replied {
            // Our own local reply passing through the encoder chain: already complete.
            return Action::Continue;
        }
        let (Some(policy), Some(ex)) = (self.policy.clone(), self.exchange.as_mut()) else {
            return Action::Continue;
        };
        let status = host::response_header(":status")
            .and_then(|v| {
                std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| s.parse::<u16>().ok())
            })
            .unwrap_or(0);
        ex.on_response(&policy, status, host::now_nanos());
        host::set_response_header(TRACE_HEADER, Some(&ex.trace_id));
        host::set_response_header(SCORE_HEADER, Some(&policy.trust_score.to_string()));
        if ex.quarantined {
            host::set_response_header(QUARANTINE_HEADER, Some("true"));
        }
        if let Some(decision) = ex.policy_header {
            host::set_response_header(POLICY_HEADER, Some(decision));
        }
        self.publish_events();
        Action::Continue
    }
}

/// 16 random bytes for a UUIDv4 trace id, from WASI's `random_get`. Should the host refuse,
/// the time and a per-VM counter keep ids unique (not unpredictable).
fn random_bytes(now: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_ok() {
        return b;
    }
    use std::cell::Cell;
    thread_local!(static COUNTER: Cell<u64> = const { Cell::new(0) });
    let n = COUNTER.with(|c| {
        c.set(c.get().wrapping_add(1));
        c.get()
    });
    let hi = splitmix64(now ^ 0x9e37_79b9_7f4a_7c15);
    let lo = splitmix64(n.wrapping_add(hi));
    b.iter_mut()
        .zip(hi.to_le_bytes().into_iter().chain(lo.to_le_bytes()))
        .for_each(|(slot, v)| *slot = v);
    b
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
