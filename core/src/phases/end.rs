//! The log phase: the stream is over (Envoy runs the filter's `on_log` just before its access
//! loggers). Records what went wrong that no earlier phase saw.

use crate::replies::ReplyKind;
use crate::time::rfc3339_millis;

use super::{Exchange, Host, Phase};

/// Envoy's `%RESPONSE_CODE_DETAILS%` for the agent's own answer.
const VIA_UPSTREAM: &str = "via_upstream";
/// ... and for a route's configured direct response.
const DIRECT_RESPONSE: &str = "direct_response";

impl Exchange {
    /// Phase 5: the stream is over. Asks Envoy how it ended (a host call) only when that can
    /// matter: not for the usual request that was decided and answered in full by the agent.
    pub fn log(&mut self, host: &impl Host) {
        if self.resp.as_ref().is_some_and(|r| !r.recorded) {
            // An inspected response whose end never came: its line says what went through.
            if let Some(policy) = self.policy.clone() {
                self.record_response(&policy, host.now_nanos());
            }
        }
        if self.phase == Phase::RequestHeaders || self.policy.is_none() || !self.ending_matters() {
            return;
        }
        let details = host.response_code_details();
        self.finish(&String::from_utf8_lossy(&details), host.now_nanos());
    }

    /// Whether the end of the stream can still have something to record.
    pub fn ending_matters(&self) -> bool {
        !self.decided()
            || self.grpc
            || !self.response_complete
            || self.response_status.is_none_or(|s| s >= 400)
    }

    /// Records how the stream ended, given Envoy's `%RESPONSE_CODE_DETAILS%` (`via_upstream`
    /// for the agent's own answer, else why Envoy answered or ended the stream:
    /// `upstream_reset_before_response_started{…}`, `upstream_response_timeout`,
    /// `downstream_remote_disconnect`…; empty if unknown):
    /// - the request never completed (the client went away mid-body, or Envoy ended the stream):
    ///   a request line with what is known, and an error;
    /// - the request was forwarded but no response started (the client went away, or the
    ///   stream was reset): an error;
    /// - Envoy answered itself (upstream reset, connection failure, timeout) or cut the
    ///   response short: an error naming Envoy's reason.
    pub fn finish(&mut self, details: &str, now_nanos: u64) {
        let Some(policy) = self.policy.clone() else {
            return;
        };
        let ts = rfc3339_millis(now_nanos / 1_000_000);
        let why = |what: &str| match details {
            "" | VIA_UPSTREAM => what.to_string(),
            d => format!("{what} ({d})"),
        };
        if !self.decided() {
            if self.response_status.is_some() || self.phase == Phase::Ended {
                return; // response_headers recorded it, or this ran already
            }
            let body_bytes = u64::try_from(self.body_size).unwrap_or(u64::MAX);
            self.record_request(&policy, &[], &[], None, body_bytes, &ts);
            let error = why("the stream ended before the request was complete");
            self.push_error(&policy, &error, None, &ts);
            self.phase = Phase::Ended;
            return;
        }
        if self.resp.as_ref().is_some_and(|r| r.ended) {
            // The filter ended the response itself (a refused stream): its lines say why.
            return;
        }
        let Some(status) = self.response_status else {
            if self.phase != Phase::Replied {
                let error = why("the stream ended before the response started");
                self.push_error(&policy, &error, None, &ts);
            }
            return;
        };
        // Anything but the agent's own complete answer (or a configured direct response, or
        // the filter's own reply) is an error: Envoy answered instead of the agent, or cut the
        // response short.
        let failed =
            !matches!(details, VIA_UPSTREAM | "" | DIRECT_RESPONSE) && !ReplyKind::is_ours(details);
        if failed {
            let error = if details.contains("after_response_started") {
                format!("the response was cut short: {details}")
            } else {
                format!("Envoy answered {status}: {details}")
            };
            self.push_error(&policy, &error, Some(status), &ts);
        } else if !self.response_complete {
            // The agent's answer started but its end never went through: the client went away
            // while it was being sent.
            let error = why("the stream ended before the response was complete");
            self.push_error(&policy, &error, Some(status), &ts);
        }
    }
}
