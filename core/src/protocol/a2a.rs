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
pub(super) fn role(sent: String) -> String {
    match sent.as_str() {
        "ROLE_USER" | "1" => "user".into(),
        "ROLE_AGENT" | "2" => "agent".into(),
        "ROLE_UNSPECIFIED" | "0" => "unspecified".into(),
        _ => sent,
    }
}
