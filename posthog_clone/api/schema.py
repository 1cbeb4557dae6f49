"""Our AutoSchema: PostHog-style operationIds and tags, per-operation key scopes as security, and the error
responses every operation can return, each with PostHog's `{type, code, detail, attr}` body (one shared
`Error` component).

Which errors an operation documents is read from its view, the way DRF will answer it:

- 400 when it takes a body, a query serializer, or a query parameter the paginator does not clamp;
- 401 when it has authenticators (no credentials, or a key that is not valid);
- 403 when it checks key scopes (a view with `scope_object` runs APIScopePermission), project membership,
  or takes session cookies on an unsafe method (CSRF);
- 404 when its path has a parameter (a project id, a lookup id, a token): an unknown one is not found;
- 415 when it parses a body with DRF's content negotiation (an unlisted content type);
- 429 when the view has throttle classes.

Responses a view declares itself keep their description; an error response without a body gets the shared
schema. `document_errors` (a postprocessing hook, last in SPECTACULAR_SETTINGS) does the same for the
operations apps add by hand (capture) and checks that no success response is left without a description.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, is_list_serializer, is_serializer
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.viewsets import ViewSetMixin

from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.permissions import required_scopes

_PREFIXES = (("/api/projects/{project_id}/", ""), ("/api/environments/{project_id}/", "environments_"))
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_NO_BODY = "No response body"  # drf-spectacular's description for a response declared without a body
_ACTIONS = {"list", "create", "retrieve", "update", "partial_update", "destroy"}

ERROR_COMPONENT = "Error"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "PostHog's error body: every error of the API answers this shape.",
    "properties": {
        "type": {
            "type": "string",
            "description": "validation_error, authentication_error, invalid_request, throttled_error, client_error "
            "or server_error.",
        },
        "code": {
            "type": "string",
            "description": "Machine-readable reason, e.g. required, invalid_input, not_authenticated, "
            "permission_denied, not_found, throttled.",
        },
        "detail": {"type": "string", "description": "Human-readable message."},
        "attr": {
            "type": "string",
            "nullable": True,
            "description": "The field a validation error is about (nested fields joined by `__`), else null.",
        },
    },
    "required": ["type", "code", "detail", "attr"],
}
RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before the next request."}
}


def error_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A documented error response with the shared error body (for operations written by hand)."""
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}
    if headers:
        response["headers"] = headers
    return response


def _is_error(code: str) -> bool:
    return code[:1] in {"4", "5"}


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
        if action in _ACTIONS:
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
        return [{"PersonalAPIKeyAuth": self._scopes()}, *[a for a in auth if "PersonalAPIKeyAuth" not in a]]

    def _scopes(self) -> list[str]:
        request = getattr(self.view, "request", None)
        if request is None:
            return []
        try:
            return required_scopes(self.view, request)
        except Exception:  # noqa: BLE001 - schema generation must not fail on odd views
            return []

    def _is_list_view(self, serializer: Any = None) -> bool:
        """Outside viewsets `action` is no router's word (LocalEvaluationView sets it for its key scope), and an
        unpaginated viewset's `list` may answer an object (actions' `{"results": [...]}`): the declared
        response alone says whether the answer is a list."""
        if isinstance(self.view, ViewSetMixin) and getattr(self.view, "pagination_class", None) is not None:
            return super()._is_list_view(serializer)
        if serializer is None:
            serializer = self.get_response_serializers()
        if isinstance(serializer, dict) and serializer:
            serializer = serializer[min(serializer, key=str)]
        return is_list_serializer(serializer)

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        self.registry.register_on_missing(
            ResolvedComponent(
                name=ERROR_COMPONENT, type=ResolvedComponent.SCHEMA, object=ERROR_COMPONENT, schema=ERROR_SCHEMA
            )
        )
        responses = operation["responses"]
        for code, description in self._errors(operation).items():
            declared = responses.get(code)
            if declared is None:
                responses[code] = error_response(description, RETRY_AFTER if code == "429" else None)
                continue
            # The view documents this code itself (e.g. a body of its own): say both.
            own = declared.get("description", "")
            declared["description"] = description if own in {"", _NO_BODY} else f"{own} {description}"
            schema = declared.get("content", {}).get("application/json", {}).get("schema")
            if schema is not None and schema != ERROR_REF:
                declared["content"]["application/json"]["schema"] = {"anyOf": [ERROR_REF, schema]}
        for code, response in responses.items():
            if _is_error(code):
                response.setdefault("content", {"application/json": {"schema": ERROR_REF}})
                if response.get("description", "") in {"", _NO_BODY}:
                    response["description"] = "Error."
            elif not response.get("description"):
                response["description"] = self._success_description(code, response)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    # What the view can answer ------------------------------------------------------------------

    def _validated_query(self, operation: dict[str, Any]) -> bool:
        """A query serializer (validated_request's `query`) refuses bad values, limit/offset included; the
        paginator alone clamps them; any other query parameter (a filter) is validated."""
        if any(is_serializer(p) for p in self.get_override_parameters()):
            return True
        paginator = self._get_paginator() if self._is_list_view() else None
        clamped = set()
        if paginator is not None:
            clamped = {p["name"] for p in paginator.get_schema_operation_parameters(self.view)}
        clamped.add("format")  # DRF's format override: an unknown format is a 404, never a 400
        return any(p["in"] == "query" and p["name"] not in clamped for p in operation.get("parameters", []))

    def _project_scoped(self) -> bool:
        view = self.view
        return isinstance(view, TeamScopedViewSet) and view.action not in view.team_optional_actions

    def _errors(self, operation: dict[str, Any]) -> dict[str, str]:
        view, errors = self.view, {}
        has_body = "requestBody" in operation
        drf_body = has_body and isinstance(view.get_content_negotiator(), DefaultContentNegotiation)
        query = self._validated_query(operation)
        if has_body or query:
            parts = [part for part, on in (("a body field", drf_body), ("a query parameter", query)) if on]
            parse = " or the body is not valid JSON (`parse_error`)" if drf_body else ""
            errors["400"] = (
                f"Invalid request: {' or '.join(parts)} failed validation (`attr` names it){parse}."
                if parts
                else "Invalid request body."
            )
        authenticators = view.get_authenticators()
        if authenticators:
            errors["401"] = (
                "Not authenticated: no credentials (`not_authenticated`) or credentials that are not valid "
                "(`authentication_failed`)."
            )
        reasons = []
        if getattr(view, "scope_object", None) is not None:
            scopes = self._scopes()
            needs = f"lacks {', '.join(f'`{s}`' for s in scopes)}" if scopes else "cannot be used for this action"
            reasons.append(f"the personal API key {needs} or is limited to other projects or organizations")
        if self._project_scoped():
            reasons.append("the project belongs to an organization the caller is not a member of")
        if self.method in _UNSAFE and any(isinstance(a, SessionAuthentication) for a in authenticators):
            reasons.append("a session request has no valid CSRF token")
        if reasons:
            errors["403"] = f"Permission denied (`permission_denied`): {'; '.join(reasons)}."
        if re.search(r"\{[^}]+\}", self.path):
            errors["404"] = (
                "Not found (`not_found`): no project with this id (a project of another organization is a 403), "
                "or no such object in it."
                if self._project_scoped()
                else "Not found (`not_found`): nothing has this id."
            )
        if drf_body:
            media = ", ".join(f"`{m}`" for m in operation["requestBody"].get("content", {}))
            errors["415"] = f"Unsupported media type (`unsupported_media_type`): the body must be one of {media}."
        key_refused = getattr(view, "scope_object", None) is not None and not self._scopes()
        if view.get_throttles() and not key_refused:  # only API keys are counted; a refused key never is
            errors["429"] = "Rate limited (`throttled`), counted per API key; `Retry-After` says when to retry."
        return errors

    def _success_description(self, code: str, response: dict[str, Any]) -> str:
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        name = schema.get("$ref", "").rsplit("/", 1)[-1]
        items = schema.get("items", {}).get("$ref", "").rsplit("/", 1)[-1] if schema.get("type") == "array" else ""
        action = getattr(self.view, "action", None)
        if code == "204":
            return "Deleted; no response body." if self.method == "DELETE" else "Done; no response body."
        paginated = re.fullmatch(r"Paginated(\w+)List", name)
        if paginated:
            return f"A page of `{paginated.group(1)}` objects with `count`, `next` and `previous`."
        if items:
            return f"A list of `{items}` objects."
        if name:
            if code == "201":
                return f"Created: the new `{name}`."
            if code == "202":
                return f"Accepted, still running: `{name}`."
            if action in {"update", "partial_update"}:
                return f"The updated `{name}`."
            return f"The `{name}`."
        return f"{self.get_summary() or 'Success'}: done."


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook (run last): error responses of operations other hooks add by hand get the shared
    error body when they declare none, and the component exists even if no view registered it."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, response in operation["responses"].items():
                if _is_error(str(code)) and "content" not in response:
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    return result
