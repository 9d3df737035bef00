//! The HTTP context: one per request. Reads headers and the body, runs the pipeline, carries
//! out its steps (forward or reply), and publishes the event lines to filter state.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use crate::host;
use crate::metrics::Metrics;
use iatp_core::agent_card;
use iatp_core::chain::Chain;
use iatp_core::header_map::HeaderMap;
use iatp_core::pipeline::{is_tunnel, Ending, Exchange, RequestHead, Step};
use iatp_core::policy::{is_override, Policy};
use iatp_core::trace;

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
    metrics: Rc<Metrics>,
    chain: Rc<RefCell<Chain>>,
    exchange: Option<Exchange>,
    state: State,
    /// The request headers are held back (not yet sent upstream), so they can still change.
    headers_held: bool,
    /// Bytes of request body Envoy has buffered so far.
    body_size: usize,
}

impl IatpHttp {
    pub fn new(
        policy: Option<Rc<Policy>>,
        metrics: Rc<Metrics>,
        chain: Rc<RefCell<Chain>>,
    ) -> IatpHttp {
        IatpHttp {
            policy,
            metrics,
            chain,
            exchange: None,
            state: State::Start,
            headers_held: false,
            body_size: 0,
        }
    }

    /// No valid configuration (cannot happen with `failure_policy: FAIL_CLOSED`, which makes
    /// Envoy refuse the filter): answer 503 rather than let the request through unchecked.
    fn unconfigured(&mut self, trace_id: &str) -> Action {
        self.state = State::Replied;
        host::send_reply(
            503,
            "iatp_unconfigured",
            &[
                ("content-type", "application/json"),
                (TRACE_HEADER, trace_id),
            ],
            br#"{"error":"the IATP filter has no valid configuration"}"#,
        );
        Action::Pause
    }

    /// Carries out a pipeline step.
    fn carry_out(&mut self, step: Step) -> Action {
        match step {
            Step::Forward => self.forward(),
            Step::ForwardRedacted(body) => {
                // Configuration makes sure redaction only happens while the headers are held,
                // so content-length can still follow the new body.
                if !host::replace_request_body(self.body_size, &body) {
                    if let (Some(p), Some(ex)) = (&self.policy, self.exchange.as_mut()) {
                        let error = "the request body could not be redacted";
                        ex.record_error(p, error, 500, host::now_nanos());
                    }
                    return self.carry_out(Step::Reply {
                        status: 500,
                        body: br#"{"error":"the request body could not be redacted"}"#.to_vec(),
                        details: "iatp_redaction_failed",
                    });
                }
                if host::request_header("content-length").is_some() {
                    host::set_request_header("content-length", Some(&body.len().to_string()));
                }
                self.forward()
            }
            Step::Reply {
                status,
                body,
                details,
            } => {
                self.state = State::Replied;
                let trace_id = self.exchange.as_ref().map_or("", |e| e.trace_id.as_str());
                let mut headers = vec![
                    ("content-type", "application/json"),
                    ("cache-control", "no-store"),
                    (TRACE_HEADER, trace_id),
                ];
                if let Some(p) = &self.policy {
                    headers.push((SCORE_HEADER, p.trust_score_text.as_str()));
                }
                host::send_reply(u32::from(status), details, &headers, &body);
                self.metrics.replied(status);
                Action::Pause
            }
        }
    }

    fn forward(&mut self) -> Action {
        self.state = State::Forwarded;
        let quarantined = self.exchange.as_ref().is_some_and(|e| e.quarantined);
        if quarantined && self.headers_held {
            host::set_request_header(QUARANTINE_HEADER, Some("true"));
        }
        Action::Continue
    }

    /// Decides on the body Envoy has buffered (`size` bytes).
    fn decide_with_body(&mut self, size: usize) -> Action {
        let (Some(policy), Some(ex)) = (self.policy.clone(), self.exchange.as_mut()) else {
            return Action::Continue;
        };
        let now = host::now_nanos();
        let size64 = u64::try_from(size).unwrap_or(u64::MAX);
        let step = if size64 > policy.max_body_bytes {
            // No need to copy a body that is too large just to measure it.
            ex.too_large(&policy, size64, now)
        } else if size == 0 {
            ex.decide(&policy, &[], now)
        } else {
            ex.decide(&policy, &host::request_body(size), now)
        };
        if let Some(tally) = &ex.tally {
            let micros = host::now_nanos().saturating_sub(now) / 1_000;
            self.metrics.evaluated(tally, micros);
        }
        self.carry_out(step)
    }
}

impl Context for IatpHttp {}

impl HttpContext for IatpHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let now = host::now_nanos();
        // All request headers in one host call.
        let raw = host::request_headers();
        let headers = HeaderMap::parse(&raw);
        let header = |name: &str| headers.get(name);
        let trace_id = trace::resolve(
            header(TRACE_HEADER),
            header("traceparent"),
            |id| {
                self.policy
                    .as_ref()
                    .is_some_and(|p| !p.findings_in(id).is_empty())
            },
            || trace::random_bytes(now),
        );
        let Some(policy) = self.policy.clone() else {
            return self.unconfigured(&trace_id);
        };
        let method = header(":method").unwrap_or_default();
        let mut ex = Exchange::new(
            RequestHead {
                method,
                path: header(":path").unwrap_or_default(),
                content_type: header("content-type"),
                trace_id,
                override_requested: is_override(header("x-user-override")),
            },
            now,
        );

        if let Some(which) = ex.well_known() {
            let base = agent_card::base_url(header(":scheme"), header(":authority"));
            let step = ex.serve_well_known(&policy, which, &base, now);
            self.exchange = Some(ex);
            return self.carry_out(step);
        }

        // The agent can trust these headers: the filter sets them, whatever the caller sent.
        host::set_request_header(TRACE_HEADER, Some(&ex.trace_id));
        host::set_request_header(SCORE_HEADER, Some(&policy.trust_score_text));
        if headers.contains(QUARANTINE_HEADER) {
            host::set_request_header(QUARANTINE_HEADER, None);
        }

        let content_length = header("content-length");
        let declared = content_length.and_then(|v| {
            std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
        });
        let early = ex.check_declared_length(&policy, declared, now);
        let declares_body = content_length.is_some() || header("transfer-encoding").is_some();
        let tunnel = is_tunnel(method, header("upgrade").is_some(), declares_body);
        self.exchange = Some(ex);
        if let Some(step) = early {
            return self.carry_out(step);
        }
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
        // Envoy reports the size of everything buffered so far.
        self.body_size = body_size;
        let over = self
            .policy
            .as_ref()
            .is_some_and(|p| u64::try_from(body_size).unwrap_or(u64::MAX) > p.max_body_bytes);
        if over || end_of_stream {
            return self.decide_with_body(body_size);
        }
        Action::Pause
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        // Trailers end the request stream: the body is complete.
        if self.state != State::Buffering {
            return Action::Continue;
        }
        self.decide_with_body(self.body_size)
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
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
        host::set_response_header(SCORE_HEADER, Some(&policy.trust_score_text));
        if ex.quarantined {
            host::set_response_header(QUARANTINE_HEADER, Some("true"));
        }
        if let Some(decision) = ex.policy_header {
            host::set_response_header(POLICY_HEADER, Some(decision));
        }
        if end_of_stream {
            ex.response_completed();
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, _body_size: usize, end_of_stream: bool) -> Action {
        if end_of_stream {
            if let Some(ex) = self.exchange.as_mut() {
                ex.response_completed();
            }
        }
        Action::Continue
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        if let Some(ex) = self.exchange.as_mut() {
            ex.response_completed();
        }
        Action::Continue
    }

    /// The stream is over and its access log is next: Envoy runs this just before its access
    /// loggers, on the same worker, so lines are sealed into the VM's chain in the order the
    /// events file receives them.
    fn on_log(&mut self) {
        let (Some(policy), Some(ex)) = (self.policy.clone(), self.exchange.as_mut()) else {
            return;
        };
        if ex.ending_matters() {
            let details = host::property(&["response", "code_details"]).unwrap_or_default();
            ex.finish(
                &policy,
                Ending {
                    details: &String::from_utf8_lossy(&details),
                    body_bytes: u64::try_from(self.body_size).unwrap_or(u64::MAX),
                    replied_locally: self.state == State::Replied,
                },
                host::now_nanos(),
            );
        }
        let lines = ex.events();
        if lines.is_empty() {
            return;
        }
        let mut sealed = Vec::with_capacity(lines.len() + 128 * ex.event_types().len());
        let Ok(mut chain) = self.chain.try_borrow_mut() else {
            // Cannot happen (one thread, no borrow held across calls); never lose the lines.
            host::set_property(EVENTS_PROPERTY, lines);
            return;
        };
        // The chain moves on only if Envoy took the lines: a line that was never written must
        // not leave a gap in the chain.
        let end = chain.seal_pending(lines, &mut sealed);
        if host::set_property(EVENTS_PROPERTY, &sealed) {
            if chain.is_empty() {
                // Envoy's own log names every chain that writes: a chain in an events file
                // that is not in Envoy's log did not come from this filter.
                log::info!(
                    "events chain {} started ({})",
                    chain.id(),
                    if chain.keyed() {
                        "HMAC-SHA256"
                    } else {
                        "SHA-256"
                    }
                );
            }
            chain.advance(end);
            self.metrics.events(ex.event_types());
        }
    }
}
