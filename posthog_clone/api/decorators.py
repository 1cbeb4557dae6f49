"""Small decorators for view actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def required_scopes(*scopes: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the personal-API-key scopes a custom action needs."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        func.required_scopes = list(scopes)  # type: ignore[attr-defined]
        return func

    return decorator
