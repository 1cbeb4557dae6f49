"""The `time_to_convert` and `trends` funnel vizzes (reference §3.5)."""

from __future__ import annotations

from typing import Any

from query.hogql.errors import HogQLQueryError


def run_time_to_convert(context: Any) -> Any:
    raise HogQLQueryError("funnelVizType time_to_convert is not supported yet")


def run_trends(context: Any) -> Any:
    raise HogQLQueryError("funnelVizType trends is not supported yet")
