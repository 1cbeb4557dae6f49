"""Our AutoSchema: PostHog-style operationIds and tags, and per-operation key scopes as security."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from posthog_clone.api.permissions import required_scopes

_PREFIXES = (("/api/projects/{project_id}/", ""), ("/api/environments/{project_id}/", "environments_"))


class AutoSchema(SpectacularAutoSchema):
    def get_operation_id(self) -> str:
        """`event_definitions_list`, `exports_content_retrieve`, `environments_exports_list`, …"""
        path, prefix = self.path, ""
        for head, marker in _PREFIXES:
            if path.startswith(head):
                path, prefix = "/" + path[len(head) :], marker
                break
        else:
            path = re.sub(r"^/api/", "/", path)
        tokens = [t for t in re.split(r"[/\-]+", path) if t and not t.startswith(("{", "@"))]
        action = getattr(self.view, "action", None)
        if action in {"list", "create", "retrieve", "update", "partial_update", "destroy"}:
            return prefix + "_".join([*tokens[:1], action])
        method = {"GET": "retrieve", "POST": "create", "PUT": "update", "PATCH": "partial_update", "DELETE": "destroy"}
        return prefix + "_".join([*tokens, method[self.method]])

    def get_tags(self) -> list[str]:
        tag = getattr(self.view, "openapi_tag", None)
        if tag:
            return [tag]
        return super().get_tags()

    def get_auth(self) -> list[dict[str, Any]]:
        auth = super().get_auth()
        if not auth:
            return auth
        request = getattr(self.view, "request", None)
        scopes: list[str] = []
        if request is not None:
            try:
                scopes = required_scopes(self.view, request)
            except Exception:  # noqa: BLE001 - schema generation must not fail on odd views
                scopes = []
        return [{"PersonalAPIKeyAuth": scopes}, *[a for a in auth if "PersonalAPIKeyAuth" not in a]]
