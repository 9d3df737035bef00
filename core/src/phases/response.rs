//! The response phases: its headers (from the agent, or from Envoy itself), then its body or
//! stream, whose end says whether the response went through whole.

use crate::events;
use crate::time::rfc3339_millis;

use super::request::stamp;
use super::{header, Exchange, HeaderValue, Headers, Host, Phase, Step};

impl Exchange {
    /// Phase 3: the response headers. Every response carries the trace id and the trust score
    /// (and `X-Agent-Quarantined`, `X-Agent-Policy` when they apply).
    pub fn response_headers(&mut self, end_of_stream: bool, host: &impl Host) -> Step {
        if matches!(self.phase, Phase::Replied | Phase::RequestHeaders) {
            // Our own local reply passing through the encoder chain (already complete), or a
            // stream whose request this filter never saw.
            return Step::Continue;
        }
        let Some(policy) = self.policy.clone() else {
            return Step::Continue;
        };
        let status = host.response_status().unwrap_or(0);
        let now = host.now_nanos();
        let ts = rfc3339_millis(now / 1_000_000);
        self.response_status = Some(status);
        // A switched protocol (WebSocket) or an established CONNECT tunnel carries no HTTP
        // response body whose end the filter would see: its response is complete here.
        if status == 101 || (self.method == "CONNECT" && (200..300).contains(&status)) {
            self.response_complete = true;
        }
        if self.decided() {
            let micros = now.saturating_sub(self.started_nanos) / 1_000;
            // Microsecond precision, printed as milliseconds.
            let latency_ms = (micros as f64) / 1000.0;
            self.events.push(
                &stamp(&self.trace_id, &policy, &ts),
                &events::Response { status, latency_ms },
            );
        } else {
            // A response started before the filter had the whole request: Envoy's own answer
            // (a timeout, its buffer limit), or, without hold_headers, an agent answering early.
            self.push_error(
                &policy,
                "the response started before the request was evaluated",
                Some(status),
                &ts,
            );
        }
        self.edit_identity(Headers::Response);
        self.edit_rate_headers();
        if self.quarantined {
            self.edit(
                Headers::Response,
                header::QUARANTINED,
                Some(HeaderValue::True),
            );
        }
        if let Some(result) = self.policy_header {
            self.edit(
                Headers::Response,
                header::POLICY,
                Some(HeaderValue::Policy(result)),
            );
        }
        if end_of_stream {
            self.response_complete = true;
        }
        Step::Continue
    }

    /// Phase 4: response body. Its end of stream means the whole response went through.
    pub fn response_body(&mut self, end_of_stream: bool) -> Step {
        if end_of_stream {
            self.response_complete = true;
        }
        Step::Continue
    }

    /// Trailers end the response stream.
    pub fn response_trailers(&mut self) -> Step {
        self.response_complete = true;
        Step::Continue
    }
}
