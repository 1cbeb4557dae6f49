"""Funnel breakdowns (reference §3.6)."""

from __future__ import annotations

from typing import Any

from query.hogql.errors import HogQLQueryError


def run_breakdown_steps(context: Any) -> Any:
    raise HogQLQueryError("Funnel breakdowns are not supported yet")
