//! A2A (Agent2Agent) over JSON-RPC: its methods and the `params` members the rules see.
//!
//! Sources, in <https://github.com/a2aproject/A2A>: v0.3.0 `docs/specification.md` §7 and
//! `types/src/types.ts` (`MessageSendParams.message`, `Message` {`role`, `parts`,
//! `messageId`, `taskId?`, `contextId?`}, `TaskIdParams.id`, `TaskQueryParams`,
//! `TaskPushNotificationConfig.taskId`); v1.0 `docs/specification.md` §5.3 (the method
//! mapping: PascalCase names) and `specification/a2a.proto` (`SendMessageRequest.message`,
//! `GetTaskRequest.id`, `TaskPushNotificationConfig.task_id`, `ListTasksRequest.context_id`,
//! in their JSON names; `Role` `ROLE_USER`/`ROLE_AGENT`). Both versions are recognised: the
//! `a2a-sdk` Python package 1.x speaks v1.0 and keeps v0.3 as a compatibility layer.

use super::params::Member;

/// A2A v0.3 methods (`docs/specification.md` §7).
pub const METHODS_V0_3: &[&str] = &[
    "message/send",
    "message/stream",
    "tasks/get",
    "tasks/cancel",
    "tasks/resubscribe",
    "tasks/pushNotificationConfig/set",
    "tasks/pushNotificationConfig/get",
    "tasks/pushNotificationConfig/list",
    "tasks/pushNotificationConfig/delete",
    "agent/getAuthenticatedExtendedCard",
];

/// A2A v1.0 methods (`docs/specification.md` §5.3).
pub const METHODS_V1: &[&str] = &[
    "SendMessage",
    "SendStreamingMessage",
    "GetTask",
    "ListTasks",
    "CancelTask",
    "SubscribeToTask",
    "CreateTaskPushNotificationConfig",
    "GetTaskPushNotificationConfig",
    "ListTaskPushNotificationConfigs",
    "DeleteTaskPushNotificationConfig",
    "GetExtendedAgentCard",
];

/// Whether `method` is A2A's (either version).
pub fn is_method(method: &str) -> bool {
    METHODS_V0_3.contains(&method) || METHODS_V1.contains(&method)
}

/// The members of `params` read for `method`.
pub(super) fn reads(method: &str) -> &'static [Member] {
    match method {
        "message/send" | "message/stream" | "SendMessage" | "SendStreamingMessage" => {
            &[Member::Message]
        }
        "tasks/get"
        | "tasks/cancel"
        | "tasks/resubscribe"
        | "tasks/pushNotificationConfig/get"
        | "tasks/pushNotificationConfig/list"
        | "tasks/pushNotificationConfig/delete"
        | "GetTask"
        | "CancelTask"
        | "SubscribeToTask" => &[Member::Id],
        "tasks/pushNotificationConfig/set"
        | "CreateTaskPushNotificationConfig"
        | "GetTaskPushNotificationConfig"
        | "ListTaskPushNotificationConfigs"
        | "DeleteTaskPushNotificationConfig" => &[Member::TaskId],
        "ListTasks" => &[Member::ContextId],
        _ => &[],
    }
}

/// A message's role as the rules see it: v1.0's `ROLE_USER` and `ROLE_AGENT` read as v0.3's
/// `user` and `agent`, so that one rule covers both versions, and so do their enum numbers
/// (`1`, `2`, or `"1"`, `"2"`: the protobuf JSON mapping takes an enum's number for its name,
/// and a2a-sdk 1.x parses messages with it); `0` (`ROLE_UNSPECIFIED`) reads as `unspecified`;
/// anything else as sent.
///
/// A string that is not one of the enum's names is read as a2a-sdk's protobuf parser reads it:
/// with Python's `int()` (surrounding white space, a sign, `_` between digits, any Unicode
/// decimal digit: `" 2"`, `"02"`, `"+2"`, `"２"` are all `ROLE_AGENT`).
pub(super) fn role(sent: String) -> String {
    match sent.as_str() {
        "user" | "ROLE_USER" => "user".into(),
        "agent" | "ROLE_AGENT" => "agent".into(),
        "ROLE_UNSPECIFIED" => "unspecified".into(),
        other => match python_int(other) {
            Some(0) => "unspecified".into(),
            Some(1) => "user".into(),
            Some(2) => "agent".into(),
            Some(n) => n.to_string(),
            None => sent,
        },
    }
}

/// What Python's `int()` makes of a string (the Python reference, "int"; PEP 515 for
/// underscores), if it takes it.
fn python_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut value: i128 = 0;
    for c in digits.chars().filter(|c| *c != '_') {
        let d = c
            .to_digit(10)
            .or_else(|| crate::detect::decode::decimal_digit(u32::from(c)).map(u32::from))?;
        value = value.checked_mul(10)?.checked_add(i128::from(d))?;
    }
    Some(if negative { -value } else { value })
}
