"""Helpers shared by the definitions viewsets."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Model
from rest_framework import exceptions


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
