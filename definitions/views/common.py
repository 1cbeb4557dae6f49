"""Helpers shared by the definitions viewsets."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Model
from rest_framework import exceptions
from rest_framework.request import Request

from posthog_clone.api.pagination import DefaultPagination

MAX_PAGE_PARAM = 2**63 - 1  # the largest LIMIT/OFFSET SQLite and PostgreSQL accept


class UUIDLookupMixin:
    """A lookup id that is not a UUID is simply not found (never a 400 or 500)."""

    kwargs: dict[str, Any]
    lookup_field = "pk"

    def get_object(self) -> Model:
        try:
            uuid.UUID(str(self.kwargs.get("pk")))
        except ValueError:
            raise exceptions.NotFound() from None
        return super().get_object()  # type: ignore[misc]


class ClampedPagination(DefaultPagination):
    """PostHog's limit/offset pages (100 by default, no practical cap), with both values clamped to 2^63-1
    like PostHog's newest list endpoints: a huge value is a very large page, never a database overflow (500)."""

    max_limit = MAX_PAGE_PARAM

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), MAX_PAGE_PARAM)
