"""`validated_request`: request, query and response serializers that both validate and document.

    @validated_request(query=ByNameQuery, responses={200: EventDefinitionSerializer}, summary="...")
    def by_name(self, request, **kwargs): ...  # request.validated_query is set

Request bodies and query strings are validated strictly (400 with PostHog's body). Responses are
checked against the declared serializer's shape: a missing or extra key, or a value of the wrong JSON type,
raises ResponseSchemaError when STRICT_RESPONSE_VALIDATION is on (tests), and is logged otherwise. Off
STRICT, each endpoint's first responses in a process are checked and then one in a hundred
(``shape_check_due``): the walk costs ~0.6 ms on a query response, more than the rest of the view's own work.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import fields, serializers
from rest_framework.request import Request
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ResponseSchemaError(AssertionError):
    """A response did not match the serializer its endpoint declares."""


_JSON_TYPES: list[tuple[type, tuple[type, ...]]] = [
    (fields.BooleanField, (bool,)),
    (fields.IntegerField, (int,)),
    (fields.FloatField, (int, float)),
    (fields.DecimalField, (str, int, float)),
    (fields.DateTimeField, (str,)),
    (fields.DateField, (str,)),
    (fields.UUIDField, (str,)),
    (fields.ChoiceField, (str, int)),
    (fields.CharField, (str,)),
    (fields.DictField, (dict,)),
    (fields.ListField, (list,)),
]


def _check(field: Any, value: Any, where: str) -> None:
    if value is None:
        if isinstance(field, serializers.BaseSerializer) or getattr(field, "allow_null", False):
            return
        if isinstance(field, (fields.JSONField, fields.SerializerMethodField, fields.ReadOnlyField)):
            return
        raise ResponseSchemaError(f"{where}: null for a non-nullable field")
    if isinstance(field, serializers.ListSerializer):
        if not isinstance(value, list):
            raise ResponseSchemaError(f"{where}: expected a list, got {type(value).__name__}")
        for i, item in enumerate(value):
            _check(field.child, item, f"{where}[{i}]")
        return
    if isinstance(field, serializers.Serializer):
        if not isinstance(value, dict):
            raise ResponseSchemaError(f"{where}: expected an object, got {type(value).__name__}")
        readable = {name: f for name, f in field.fields.items() if not f.write_only}
        missing = set(readable) - set(value)
        extra = set(value) - set(readable)
        if missing or extra:
            raise ResponseSchemaError(f"{where}: missing keys {sorted(missing)}, undeclared keys {sorted(extra)}")
        for name, sub in readable.items():
            _check(sub, value[name], f"{where}.{name}")
        return
    if isinstance(field, fields.ListField) and isinstance(value, list):
        for i, item in enumerate(value):
            _check(field.child, item, f"{where}[{i}]")
        return
    for kind, allowed in _JSON_TYPES:
        if isinstance(field, kind):
            if isinstance(value, bool) and bool not in allowed:
                raise ResponseSchemaError(f"{where}: boolean where {kind.__name__} expected")
            if not isinstance(value, allowed):
                raise ResponseSchemaError(f"{where}: {type(value).__name__} where {kind.__name__} expected")
            return


@functools.cache
def _declared_instance(declared: type[serializers.BaseSerializer]) -> serializers.BaseSerializer:
    """One instance per declared serializer class, its fields built once: the check only reads them (building a
    serializer's fields for each response was most of the check's cost)."""
    return declared()


def check_response_shape(declared: Any, data: Any, where: str = "response") -> None:
    if declared is None or isinstance(declared, OpenApiResponse) and declared.response is None:
        return
    if isinstance(declared, OpenApiResponse):
        declared = declared.response
    if isinstance(declared, type) and issubclass(declared, serializers.BaseSerializer):
        declared = _declared_instance(declared)
    if not isinstance(declared, serializers.BaseSerializer):
        return  # a raw schema dict or a type: documented, not shape-checked here
    if isinstance(declared, serializers.ListSerializer) and isinstance(data, dict) and "results" in data:
        missing = {"count", "next", "previous", "results"} - set(data)
        if missing:
            raise ResponseSchemaError(f"{where}: paginated envelope lacks {sorted(missing)}")
        data = data["results"]
    _check(declared, data, where)


SHAPE_CHECK_FIRST = 20
SHAPE_CHECK_EVERY = 100
_shape_checks: dict[str, int] = {}  # per process; a lost increment between threads only shifts the sample


def shape_check_due(endpoint: str) -> bool:
    """Whether to check this response of ``endpoint``: always under STRICT_RESPONSE_VALIDATION, else a sample."""
    if settings.STRICT_RESPONSE_VALIDATION:
        return True
    seen = _shape_checks[endpoint] = _shape_checks.get(endpoint, 0) + 1
    return seen <= SHAPE_CHECK_FIRST or seen % SHAPE_CHECK_EVERY == 0


def _declared_for(responses: Any, status_code: int) -> Any:
    if isinstance(responses, dict):
        return responses.get(status_code)
    return responses if 200 <= status_code < 300 else None


def validated_request(
    *,
    request: type[serializers.BaseSerializer] | None = None,
    query: type[serializers.Serializer] | None = None,
    responses: Any = None,
    summary: str,
    description: str = "",
    **schema_kwargs: Any,
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    def decorator(func: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(func)
        def wrapper(view: Any, req: Request, *args: Any, **kwargs: Any) -> Response:
            context = view.get_serializer_context() if hasattr(view, "get_serializer_context") else {"request": req}
            if request is not None:
                body = request(data=req.data, context=context)
                body.is_valid(raise_exception=True)
                req.validated_data = body.validated_data  # type: ignore[attr-defined]
            if query is not None:
                params = query(data=req.query_params, context=context)
                params.is_valid(raise_exception=True)
                req.validated_query = params.validated_data  # type: ignore[attr-defined]
            response = func(view, req, *args, **kwargs)
            declared = _declared_for(responses, response.status_code)
            due = declared is not None and shape_check_due(func.__qualname__)
            if due and getattr(response, "data", None) is not None:
                try:
                    check_response_shape(declared, response.data)
                except ResponseSchemaError:
                    if settings.STRICT_RESPONSE_VALIDATION:
                        raise
                    logger.warning("response does not match its schema", exc_info=True)
            return response

        parameters = [query] if query is not None else None
        return extend_schema(
            request=request,
            parameters=parameters,
            responses=responses,
            summary=summary,
            description=description or summary,
            **schema_kwargs,
        )(wrapper)

    return decorator
