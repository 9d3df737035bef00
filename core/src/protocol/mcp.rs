//! MCP (Model Context Protocol), revision 2025-06-18: its methods and the `params` members
//! the rules see.
//!
//! Source: `schema/2025-06-18/schema.ts` in
//! <https://github.com/modelcontextprotocol/modelcontextprotocol> (`CallToolRequest`:
//! `params.name`, `params.arguments?: { [key: string]: unknown }`; `ReadResourceRequest`,
//! `SubscribeRequest`, `UnsubscribeRequest`: `params.uri`; `GetPromptRequest`:
//! `params.name`, `params.arguments?: { [key: string]: string }`).

use super::params::Member;

/// Every request method of the 2025-06-18 schema, both directions (a server's requests to
/// the client, such as `sampling/createMessage`, travel back as responses in POSTs).
pub const METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "roots/list",
    "sampling/createMessage",
    "elicitation/create",
    // Revision 2026-07-28: the discovery request that replaces the `initialize` handshake
    // (what the `mcp` 2.x client sends first).
    "server/discover",
];

/// Notifications all start so (`notifications/initialized`, `notifications/cancelled`,
/// `notifications/progress`, `notifications/roots/list_changed`, ...).
pub const NOTIFICATION_PREFIX: &str = "notifications/";

/// Whether `method` is MCP's.
pub fn is_method(method: &str) -> bool {
    METHODS.contains(&method) || method.starts_with(NOTIFICATION_PREFIX)
}

/// The members of `params` read for `method`.
pub(super) fn reads(method: &str) -> &'static [Member] {
    match method {
        "tools/call" | "prompts/get" => &[Member::Name, Member::Arguments],
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => &[Member::Uri],
        _ => &[],
    }
}
