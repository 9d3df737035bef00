//! Does nothing, through the same SDK and the same Envoy configuration as the IATP filter:
//! Envoy with this filter minus Envoy without any filter is what any proxy-wasm filter costs
//! before it does any work (VM calls for every callback of every request, and the V8 runtime's
//! memory). scripts/bench.sh measures it beside the IATP filter.
//!
//! With a plugin configuration `floor:` and a list, it makes, per request, the host calls
//! named there and nothing else: the price Envoy asks for the calls a filter like IATP needs,
//! without any of the filter's own work (`scripts/bench.py`'s `floor` variant). Any other
//! configuration (the IATP filter's, in a shipped config it stands in for) is ignored. The
//! list is comma-separated:
//! - `hold`: pause the request on its headers and on each body part until its end (Envoy
//!   buffers it), as IATP's `hold_headers` does;
//! - `headers`: read the request's header map once (one call, all headers);
//! - `body`: read the whole request body once, at its end;
//! - `writes`: set two request headers and two response headers;
//! - `property=N`: set the filter state `wasm.iatp_events` to N bytes, in the log phase (what
//!   the events access log then writes);
//! - `clock=N`: read the clock N times;
//! - `histograms=N`: record N histogram values, in the log phase.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, MetricType};

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| Box::new(Root::default()));
}}

#[derive(Clone, Copy, Default)]
struct Calls {
    hold: bool,
    headers: bool,
    body: bool,
    writes: bool,
    property: usize,
    clock: usize,
    histograms: usize,
}

/// What every request's context shares, made at configure: a request allocates nothing of
/// its own (the floor measures Envoy's side of the calls, not the VM's allocator).
#[derive(Default)]
struct Root {
    calls: Calls,
    histograms: Rc<[u32]>,
    line: Rc<[u8]>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let text = self
            .get_plugin_configuration()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let mut calls = Calls::default();
        let list = text.trim().strip_prefix("floor:").unwrap_or("");
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, n) = match item.split_once('=') {
                Some((name, n)) => match n.parse::<usize>() {
                    Ok(n) => (name, n),
                    Err(_) => return false,
                },
                None => (item, 1),
            };
            match name {
                "hold" => calls.hold = true,
                "headers" => calls.headers = true,
                "body" => calls.body = true,
                "writes" => calls.writes = true,
                "property" => calls.property = n,
                "clock" => calls.clock = n,
                "histograms" => calls.histograms = n,
                _ => return false,
            }
        }
        self.histograms = (0..calls.histograms)
            .filter_map(|i| {
                proxy_wasm::hostcalls::define_metric(
                    MetricType::Histogram,
                    &format!("noop_histogram_{i}"),
                )
                .ok()
            })
            .collect();
        self.line = vec![b'x'; calls.property].into();
        self.calls = calls;
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Nothing {
            calls: self.calls,
            histograms: Rc::clone(&self.histograms),
            line: Rc::clone(&self.line),
            clocks_left: self.calls.clock,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Nothing {
    calls: Calls,
    histograms: Rc<[u32]>,
    line: Rc<[u8]>,
    clocks_left: usize,
}

impl Nothing {
    /// One of the clock reads, spread over the callbacks as a filter's phases would.
    fn clock(&mut self, take: usize) {
        for _ in 0..take.min(self.clocks_left) {
            std::hint::black_box(self.get_current_time());
            self.clocks_left -= 1;
        }
    }
}

impl Context for Nothing {}

impl HttpContext for Nothing {
    fn on_http_request_headers(&mut self, _n: usize, end_of_stream: bool) -> Action {
        self.clock(1);
        if self.calls.headers {
            std::hint::black_box(self.get_http_request_headers());
        }
        if self.calls.writes {
            self.set_http_request_header("x-agent-trace-id", Some("0f3c6a1e-noop"));
            self.set_http_request_header("x-agent-trust-score", Some("8"));
        }
        if self.calls.hold && !end_of_stream {
            Action::Pause
        } else {
            Action::Continue
        }
    }

    fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            return if self.calls.hold {
                Action::Pause
            } else {
                Action::Continue
            };
        }
        self.clock(1);
        if self.calls.body {
            std::hint::black_box(self.get_http_request_body(0, size));
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _n: usize, _end_of_stream: bool) -> Action {
        self.clock(1);
        if self.calls.writes {
            self.set_http_response_header("x-agent-trace-id", Some("0f3c6a1e-noop"));
            self.set_http_response_header("x-agent-trust-score", Some("8"));
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        let left = self.clocks_left;
        self.clock(left);
        if !self.line.is_empty() {
            self.set_property(vec!["iatp_events"], Some(&self.line));
        }
        for (i, h) in self.histograms.iter().enumerate() {
            let _ = proxy_wasm::hostcalls::record_metric(*h, i as u64 + 5);
        }
    }
}
