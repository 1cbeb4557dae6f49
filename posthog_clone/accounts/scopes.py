"""The scope strings a personal API key may carry (PostHog's object list, `<object>:read|write`, `*`)."""

from __future__ import annotations

SCOPE_OBJECTS = frozenset(
    [
        "action",
        "access_control",
        "activity_log",
        "alert",
        "annotation",
        "batch_export",
        "cohort",
        "dashboard",
        "dashboard_template",
        "early_access_feature",
        "element",
        "event_definition",
        "experiment",
        "export",
        "feature_flag",
        "file_system",
        "group",
        "heatmap",
        "hog_function",
        "insight",
        "integration",
        "notebook",
        "organization",
        "organization_member",
        "person",
        "plugin",
        "project",
        "property_definition",
        "query",
        "session_recording",
        "session_recording_playlist",
        "sharing_configuration",
        "subscription",
        "survey",
        "uploaded_media",
        "user",
        "webhook",
        "warehouse_table",
        "warehouse_view",
    ]
)


def is_valid_scope(scope: str) -> bool:
    if scope == "*":
        return True
    obj, _, action = scope.partition(":")
    return obj in SCOPE_OBJECTS and action in {"read", "write"}


def scope_satisfied(required: str, granted: list[str]) -> bool:
    """A required `x:read` is satisfied by `x:write`; `*` grants everything."""
    if "*" in granted or required in granted:
        return True
    obj, _, action = required.partition(":")
    return action == "read" and f"{obj}:write" in granted
