"""The one exception handler: every API error is PostHog's flat `{type, code, detail, attr}` body."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, UnreadablePostError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from posthog_clone.api.validation import ResponseSchemaError
from posthog_clone.transport import BODY_UNREADABLE_DETAIL

logger = logging.getLogger(__name__)

_TYPES: dict[type, str] = {
    exceptions.AuthenticationFailed: "authentication_error",
    exceptions.NotAuthenticated: "authentication_error",
    exceptions.PermissionDenied: "authentication_error",
    exceptions.NotFound: "invalid_request",
    exceptions.MethodNotAllowed: "invalid_request",
    exceptions.NotAcceptable: "invalid_request",
    exceptions.ParseError: "invalid_request",
    exceptions.UnsupportedMediaType: "invalid_request",
    exceptions.Throttled: "throttled_error",
    exceptions.ValidationError: "validation_error",
}


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request too large."
    default_code = "request_too_large"
    error_type = "client_error"


def error_body(type_: str, code: str, detail: str, attr: str | None = None) -> dict[str, Any]:
    return {"type": type_, "code": code, "detail": detail, "attr": attr}


def bad_request_body() -> dict[str, Any]:
    """Django's plain 400 (a disallowed Host, …): the full application's and the fast paths' (sdk.native)."""
    return error_body("invalid_request", "bad_request", "Bad request.")


def server_error_body() -> dict[str, Any]:
    """An unhandled error's 500: the API's and the fast paths' (sdk.native)."""
    return error_body("server_error", "error", "A server error occurred.")


def _first_error(detail: Any, path: list[str]) -> tuple[Any, list[str]]:
    """Walk nested validation errors to the first leaf, tracking the attribute path."""
    if isinstance(detail, dict):
        if not detail:
            return "Invalid input.", path
        key, value = next(iter(detail.items()))
        if key in {"non_field_errors", "__all__"}:
            return _first_error(value, path)
        return _first_error(value, [*path, str(key)])
    if isinstance(detail, list):
        if not detail:
            return "Invalid input.", path
        first = detail[0]
        if isinstance(first, (dict, list)):
            # Errors inside a list of nested objects: report the list field with the stringified error.
            leaf, _ = _first_error(first, [])
            return leaf, path
        return first, path
    return detail, path


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, UnreadablePostError):  # the server could not deliver the body (posthog_clone.transport)
        exc = exceptions.ParseError(str(exc) or BODY_UNREADABLE_DETAIL)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages[0] if exc.messages else "Invalid input.")

    if isinstance(exc, ResponseSchemaError):
        raise exc  # a contract bug: fail loudly (tests run with STRICT_RESPONSE_VALIDATION)
    if not isinstance(exc, exceptions.APIException):
        logger.exception("unhandled error in API view", exc_info=exc)
        set_rollback()
        return Response(
            server_error_body(),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    headers: dict[str, str] = {}
    if isinstance(exc, exceptions.Throttled):
        wait = math.ceil(exc.wait or 1)
        headers["Retry-After"] = str(wait)
        detail = f"Request was throttled. Expected available in {wait} second{'s' if wait != 1 else ''}."
        body = error_body("throttled_error", "throttled", detail)
        set_rollback()
        return Response(body, status=exc.status_code, headers=headers)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        headers["WWW-Authenticate"] = "Bearer"

    leaf, path = _first_error(exc.detail, [])
    code = getattr(leaf, "code", None) or exc.default_code
    if code == "invalid":
        code = "invalid_input"
    type_ = getattr(exc, "error_type", None) or next(
        (t for cls, t in _TYPES.items() if isinstance(exc, cls)), "server_error"
    )
    set_rollback()
    return Response(
        error_body(type_, str(code), str(leaf), "__".join(path) or None), status=exc.status_code, headers=headers
    )
