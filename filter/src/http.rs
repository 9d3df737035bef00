//! The HTTP context: one per stream. Each callback hands what Envoy has to the core's
//! `Exchange` and carries out what comes back: header edits, then the step (go on, wait,
//! rewrite the body, answer). It keeps no state but the exchange.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use crate::host;
use crate::metrics::Metrics;
use crate::targets::{self, Targets};
use iatp_core::chain::Chain;
use iatp_core::header_map::HeaderMap;
use iatp_core::held::HeldRequests;
use iatp_core::metrics::FetchKind;
use iatp_core::phases::{Exchange, Headers, RequestHead, Step};
use iatp_core::policy::Policy;

/// Filter state key of the event lines: Envoy exposes it as `wasm.iatp_events`, which access
/// logs print with `%FILTER_STATE(wasm.iatp_events:PLAIN)%`. A public contract.
const EVENTS_PROPERTY: &str = "iatp_events";

/// The HTTP context Envoy calls: its state lives in a [`Stream`] that the VM's waiting list
/// (`targets`) can reach too, so that a request waiting for another request's fetch of its
/// target's manifest can be asked again from another context.
pub struct IatpHttp {
    stream: Rc<RefCell<Stream>>,
}

pub struct Stream {
    context_id: u32,
    metrics: Rc<Metrics>,
    chain: Rc<RefCell<Chain>>,
    held: Rc<RefCell<HeldRequests>>,
    targets: Rc<RefCell<Targets>>,
    /// This stream, for the waiting list.
    me: Weak<RefCell<Stream>>,
    exchange: Exchange,
}

impl IatpHttp {
    pub fn new(
        context_id: u32,
        policy: Option<Rc<Policy>>,
        metrics: Rc<Metrics>,
        chain: Rc<RefCell<Chain>>,
        held: Rc<RefCell<HeldRequests>>,
        targets: Rc<RefCell<Targets>>,
    ) -> IatpHttp {
        let stream = Rc::new_cyclic(|me| {
            RefCell::new(Stream {
                context_id,
                metrics,
                chain,
                held,
                targets,
                me: me.clone(),
                exchange: Exchange::new(policy),
            })
        });
        IatpHttp { stream }
    }

    /// The stream's state (never borrowed across callbacks; a waiting-list poll runs from
    /// other contexts' callbacks, never inside this one's).
    fn with<R>(&self, default: R, f: impl FnOnce(&mut Stream) -> R) -> R {
        match self.stream.try_borrow_mut() {
            Ok(mut s) => f(&mut s),
            Err(_) => default,
        }
    }
}

impl Stream {
    /// Asked again while it waits for another request's fetch of its target's manifest (the
    /// host points at this stream): true while it still waits.
    pub fn poll_target(&mut self) -> bool {
        let step = self.exchange.poll_target(&host::Envoy);
        if let Some(fetch) = self.exchange.take_refresh() {
            // The fetch it waited for was abandoned: the root fetches on its next tick.
            if let Ok(mut t) = self.targets.try_borrow_mut() {
                t.want_refresh(fetch);
            }
        }
        if step == Step::Wait {
            return true;
        }
        if self.carry_out(step) == Action::Continue {
            host::resume_request();
        }
        false
    }

    /// The body arrived, or the stream ended: no longer held waiting for it. Since when it was
    /// held, if it still was.
    fn release(&self) -> Option<u64> {
        self.held.try_borrow_mut().ok()?.release(self.context_id)
    }

    /// Records the decision's metrics, carries out the step, and applies the exchange's header
    /// edits (after a rewritten body is in place: a body Envoy refused leaves the headers as
    /// they came).
    fn carry_out(&mut self, step: Step) -> Action {
        self.carry_out_sized(step, 0)
    }

    /// [`IatpHttp::carry_out`] in a response body callback: `body_size` is what a
    /// `Step::Rewrite` replaces.
    fn carry_out_sized(&mut self, step: Step, body_size: usize) -> Action {
        if let Some(tally) = self.exchange.take_tally() {
            self.metrics.evaluated(&tally);
        }
        let (cache, fetched) = self.exchange.take_target_tally();
        if let Some(c) = cache {
            self.metrics.cache(c);
        }
        if let Some(f) = fetched {
            self.metrics.fetched(FetchKind::Manifest, f);
        }
        if let Some(fetch) = self.exchange.take_refresh() {
            if let Ok(mut t) = self.targets.try_borrow_mut() {
                t.want_refresh(fetch);
            }
        }
        if let Some(tally) = self.exchange.take_response_tally() {
            self.metrics.response_evaluated(&tally);
        }
        if let Step::Rewrite(body) = &step {
            host::replace_response_body(body_size, body);
        }
        if let Step::Redact(body) = &step {
            // The core redacts only while the headers are held (configuration makes sure),
            // so content-length can still follow the new body.
            if !host::replace_request_body(self.exchange.body_size(), body) {
                let step = self.exchange.redaction_failed(&host::Envoy);
                return self.carry_out(step);
            }
        }
        self.exchange.apply_edits(|headers, name, value| {
            match headers {
                Headers::Request => host::set_request_header(name, value),
                Headers::RequestTrailers => host::set_request_trailer(name, value),
                Headers::Response => host::set_response_header(name, value),
            };
        });
        match step {
            Step::Continue | Step::Redact(_) | Step::Rewrite(_) => Action::Continue,
            Step::Pause => Action::Pause,
            Step::Wait => {
                // The root's timer asks waiters again at a short period while there are any.
                if let Ok(mut t) = self.targets.try_borrow_mut() {
                    t.start_waiting(self.context_id, self.me.clone());
                }
                Action::Pause
            }
            Step::Reset => {
                host::reset_stream();
                Action::Pause
            }
            Step::Call(call) => {
                if host::dispatch(&call).is_some() {
                    return Action::Pause;
                }
                // Envoy refused the call: answered as a failed one (the fail mode decides).
                let step = self.exchange.callout_answer(None, &[], &host::Envoy);
                self.carry_out_sized(step, body_size)
            }
            Step::Reply(reply) => {
                let headers = self.exchange.reply_headers();
                host::send_reply(
                    u32::from(reply.status),
                    reply.kind.details(),
                    &headers,
                    &reply.body,
                );
                self.metrics.replied(reply.kind);
                Action::Pause
            }
        }
    }
}

/// The most of a callout's answer read (a moderation answer is a few hundred bytes; the
/// core refuses one over 256 KiB as too large).
const MAX_CALL_ANSWER_BYTES: usize = 256 * 1024 + 1;

impl Stream {
    /// The moderation service answered, or the target's manifest came (or Envoy ended the
    /// call): the response or request waiting for it is judged, then goes on (or is
    /// replaced). A manifest stored wakes this VM's other waiters.
    fn on_call_answer(&mut self, body_size: usize) {
        let for_request = self.exchange.awaits_target();
        let max = if for_request {
            iatp_core::manifest_fetch::MAX_ANSWER_BYTES
        } else {
            MAX_CALL_ANSWER_BYTES
        };
        let (status, body) = host::call_answer(body_size, max);
        let step = self.exchange.callout_answer(status, &body, &host::Envoy);
        if for_request {
            let next_call = matches!(step, Step::Call(_));
            if self.carry_out(step) == Action::Continue {
                host::resume_request();
            }
            if !next_call {
                targets::poll_waiters(&self.targets, self.context_id);
            }
            return;
        }
        let buffered = self.exchange.response_bytes_buffered();
        if self.carry_out_sized(step, buffered) == Action::Continue {
            host::resume_response();
        }
    }
}

impl Context for IatpHttp {
    fn on_http_call_response(
        &mut self,
        _token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        self.with((), |s| s.on_call_answer(body_size));
    }
}

impl HttpContext for IatpHttp {
    fn on_http_request_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        self.with(Action::Continue, |s| {
            s.on_request_headers(num_headers, end_of_stream)
        })
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        self.with(Action::Continue, |s| {
            s.on_request_body(body_size, end_of_stream)
        })
    }

    fn on_http_request_trailers(&mut self, num_trailers: usize) -> Action {
        self.with(Action::Continue, |s| s.on_request_trailers(num_trailers))
    }

    fn on_http_response_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        self.with(Action::Continue, |s| {
            s.on_response_headers(num_headers, end_of_stream)
        })
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        self.with(Action::Continue, |s| {
            s.on_response_body(body_size, end_of_stream)
        })
    }

    fn on_http_response_trailers(&mut self, num_trailers: usize) -> Action {
        self.with(Action::Continue, |s| s.on_response_trailers(num_trailers))
    }

    fn on_log(&mut self) {
        self.with((), Stream::on_log);
    }
}

impl Stream {
    fn on_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        // All request headers in one host call.
        let raw = host::request_headers();
        let headers = HeaderMap::parse(&raw);
        let step = self.exchange.request_headers(
            &RequestHead::read(&headers),
            end_of_stream,
            &host::Envoy,
        );
        if step == Step::Pause {
            // Headers held until the body is decided: watched until a body callback comes.
            if let Ok(mut held) = self.held.try_borrow_mut() {
                held.hold(self.context_id, self.exchange.started_nanos());
            }
        }
        self.carry_out(step)
    }

    fn on_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        self.release();
        // Envoy reports the size of everything buffered so far.
        let step = self
            .exchange
            .request_body(body_size, end_of_stream, &host::Envoy);
        self.carry_out(step)
    }

    fn on_request_trailers(&mut self, _num_trailers: usize) -> Action {
        self.release();
        let step = self.exchange.request_trailers(&host::Envoy);
        self.carry_out(step)
    }

    fn on_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let step = self.exchange.response_headers(end_of_stream, &host::Envoy);
        self.carry_out(step)
    }

    fn on_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let step = self
            .exchange
            .response_body(body_size, end_of_stream, &host::Envoy);
        self.carry_out_sized(step, body_size)
    }

    fn on_response_trailers(&mut self, _num_trailers: usize) -> Action {
        let step = self.exchange.response_trailers(&host::Envoy);
        self.carry_out(step)
    }

    /// The stream is over and its access log is next: Envoy runs this just before its access
    /// loggers, on the same worker, so lines are sealed into the VM's chain in the order the
    /// events file receives them.
    fn on_log(&mut self) {
        crate::calls::stream();
        if self.exchange.waits_for_target() {
            // Ended while waiting: off the waiting list (its poll finds it gone anyway).
            if let Ok(mut t) = self.targets.try_borrow_mut() {
                t.forget(self.context_id);
            }
        }
        if let Some(since) = self.release() {
            // Ended while still held: too soon for the timer to have asked about it.
            if HeldRequests::is_overdue(since, host::now_nanos())
                && matches!(host::body_bytes_received(self.context_id), Some(Some(n)) if n > 0)
            {
                if let Some(line) = self.held.try_borrow_mut().ok().and_then(|mut h| h.report()) {
                    log::error!("{line}");
                }
            }
        }
        self.exchange.log(&host::Envoy);
        let lines = self.exchange.events();
        if lines.is_empty() {
            return;
        }
        let types = self.exchange.event_types();
        let mut sealed = Vec::with_capacity(lines.len() + 128 * types.len());
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
            self.metrics.events(types);
        }
    }
}
