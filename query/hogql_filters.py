"""`HogQLQuery.filters` (`HogQLFilters`) → the expression `{filters}` stands for, with the same property-filter
translation (`query.properties`) and date grammar (`query.dates`) as the insight kinds, in the team's timezone.

- `dateRange`: `timestamp >= date_from AND timestamp < date_to` (sessions: `$start_timestamp`, groups:
  `created_at`); `"all"` or no `date_from` adds no lower bound. Dates are used as parsed — relative ones
  (`-7d`, `-1mStart`) resolved against now — and are not rounded to the end of the day, as PostHog's.
- `properties`: event-scope property filters (lists, groups, every operator and type).
- `filterTestAccounts: true`: the team's `test_account_filters`.
- No filters: `true`.

The HogQL compiler calls `filters_expression` through `HogQLContext.filters_builder` (the runner passes it), so
the compiler does not depend on this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlglot import exp

from query import clock
from query.dates import DateRangeError, moment_expr, parse_date, zone
from query.hogql.ast import HogQLContext
from query.hogql.errors import HogQLQueryError
from query.properties import PropertyFilterError, property_filters_to_expr

TIMESTAMP_COLUMNS = {"events": "timestamp", "sessions": "$start_timestamp", "groups": "created_at"}
"""The tables `{filters}` may filter, and the column their dateRange bounds."""


def _bound(value: Any, ctx: HogQLContext, now: dt.datetime) -> exp.Expression:
    try:
        parsed = parse_date(value, ctx.timezone, now)
    except DateRangeError as error:
        raise HogQLQueryError(f"Invalid date in filters: {error.message}") from None
    return moment_expr(parsed.moment.replace(tzinfo=zone(ctx.timezone)))  # team-local wall time → UTC


def filters_expression(filters: Any, ctx: HogQLContext, table: str = "events") -> exp.Expression:
    if filters is None:
        filters = {}
    if not isinstance(filters, dict):
        raise HogQLQueryError("filters must be an object")
    now = clock.now()
    timestamp = exp.column(TIMESTAMP_COLUMNS.get(table, "timestamp"))
    conditions: list[exp.Expression] = []
    date_range = filters.get("dateRange") or {}
    if not isinstance(date_range, dict):
        raise HogQLQueryError("filters.dateRange must be an object")
    date_from, date_to = date_range.get("date_from"), date_range.get("date_to")
    if date_from and date_from != "all":
        conditions.append(exp.GTE(this=timestamp, expression=_bound(date_from, ctx, now)))
    if date_to:
        conditions.append(exp.LT(this=timestamp.copy(), expression=_bound(date_to, ctx, now)))
    properties = filters.get("properties")
    if properties is not None and not isinstance(properties, (list, dict)):
        raise HogQLQueryError("filters.properties must be a list")
    test_accounts = ctx.test_account_filters if filters.get("filterTestAccounts") else None
    for item in (properties, test_accounts):
        if not item:
            continue
        try:
            conditions.append(
                property_filters_to_expr(
                    item, scope="event", property_types=ctx.property_types, timezone=ctx.timezone, now=now
                )
            )
        except PropertyFilterError as error:
            raise HogQLQueryError(f"Invalid property filter in filters: {error.message}") from None
    if not conditions:
        return exp.true()
    return conditions[0] if len(conditions) == 1 else exp.and_(*conditions)
