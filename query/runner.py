"""Running HogQL for a project: the query app's interface for the other apps (exports, the /query/
endpoint in `query.services`, the coming insights). Other apps use this module and `query.exceptions` only,
never `query.hogql.*`:

- `hogql_execute`: compile HogQL for a team and run it, one page at a time (`limit`/`offset`), under a
  limit context (`query`, `query_async`, `export`);
- `variable_values`: a query's HogQLVariable objects as the `variables` `hogql_execute` takes;
- `stable_order`: the query rewritten so LIMIT/OFFSET pages of it neither overlap nor miss rows;
- `hogql_compile_select`: a SELECT compiled for a team but not run, for `INSERT … SELECT` into an app's table;
- `EXPORT_ROW_LIMIT`: the most rows the `export` context returns.

User errors raise `query.exceptions.ExposedHogQLError` subclasses; a ClickHouse failure that is not the
user's raises `posthog_clone.clickhouse.ClickHouseError`."""

from __future__ import annotations

import datetime as dt
import decimal
import ipaddress
import json
import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from posthog_clone.accounts.models import Team
from posthog_clone.clickhouse import ClickHouseError, get_client, query_bounds
from query.exceptions import ClickHouseUserError, QueryTimeoutError
from query.hogql.ast import HogQLContext
from query.hogql.compiler import CompiledQuery, compile_hogql
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import parse_select, to_hogql
from query.hogql.passes.limits import LIMIT_CONTEXTS, LimitContext, order_by_every_column
from query.hogql_filters import filters_expression
from query.references import expand_reference
from query.selectors import property_types_for_team

EXPORT_ROW_LIMIT = LIMIT_CONTEXTS["export"].maximum
_TIMEOUT_MESSAGE = (
    "Query has hit the max execution time before completing. Narrow the date range or simplify the query."
)
_SERVER_SIDE_CODES = {"TOO_MANY_SIMULTANEOUS_QUERIES", "NETWORK_ERROR", "SOCKET_TIMEOUT", "ALL_CONNECTION_TRIES_FAILED"}


@dataclass(frozen=True)
class HogQLResult:
    columns: list[str]
    types: list[list[str]]
    results: list[list[Any]]
    hasMore: bool | None  # noqa: N815 (PostHog's JSON name)
    limit: int | None
    offset: int | None
    hogql: str
    clickhouse: str
    timings: list[dict[str, Any]]


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime):
        # As DRF (and so PostHog) renders datetimes: milliseconds, UTC as "Z"; naive values are UTC.
        text = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
        if value.microsecond:
            text = text[:23] + text[26:]
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple, set)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value)


def query_settings(limit_context: str) -> dict[str, Any]:
    """The ClickHouse settings a query runs with in `limit_context`."""
    long_running = limit_context in {"export", "query_async"}
    max_time = getattr(settings, "HOGQL_MAX_EXECUTION_TIME", 60)
    if long_running:
        max_time = max(max_time, getattr(settings, "HOGQL_INCREASED_MAX_EXECUTION_TIME", 600))
    memory = int(getattr(settings, "HOGQL_MAX_MEMORY_USAGE", 4 * 1024**3))
    return {
        "max_execution_time": int(max_time),
        **({"max_memory_usage": memory} if memory > 0 else {}),
        "max_ast_elements": 4_000_000,
        "max_expanded_ast_elements": 4_000_000,
        "max_bytes_before_external_group_by": 0,
        "transform_null_in": 1,
        "optimize_min_equality_disjunction_chain_length": 4294967295,
        "format_csv_allow_double_quotes": 0,
        # chDB honours readonly=1 (blocks file()/url()); the schema allowlist is the real boundary.
        "readonly": 1,
        # the embedded engine's per-query memory bounds (docs/operations.md "Memory"); none on a server
        **query_bounds(),
    }


def _raise_clickhouse_error(error: ClickHouseError) -> None:
    if error.name == "TIMEOUT_EXCEEDED" or error.code == 159:
        raise QueryTimeoutError(_TIMEOUT_MESSAGE) from error
    if error.name == "MEMORY_LIMIT_EXCEEDED":
        message = "Query exceeded the memory limit. Narrow the date range or simplify the query."
        raise ClickHouseUserError(message, code_name="memory_limit_exceeded") from error
    if error.retryable or error.name in _SERVER_SIDE_CODES or not error.name:
        raise error
    raise ClickHouseUserError(error.message, code_name=error.name.lower()) from error


_COMPILED: OrderedDict[str, tuple[float, CompiledQuery]] = OrderedDict()
_COMPILED_LOCK = threading.Lock()
_COMPILED_TTL = 60.0
_COMPILED_MAX = 512
# matchesAction(…), IN COHORT / cohort tables, cohort property filters (in the query, filters or test filters)
_STORED_DEFINITIONS = re.compile(r"matchesAction|cohort", re.IGNORECASE)


def _inlines_definitions(ctx: HogQLContext, query: str) -> bool:
    """The compiled SQL would inline stored actions or cohorts, which may change at any time: not cached."""
    texts = [query, json.dumps([ctx.filters, ctx.test_account_filters], default=str)]
    return any(_STORED_DEFINITIONS.search(text) for text in texts)


def _compile_cached(ctx: HogQLContext, query: str, limit_context: str, paginate: tuple[int, int]) -> CompiledQuery:
    """Compiling is pure, so identical requests (dashboards, polling scripts) reuse the SQL for a minute.
    The key holds everything the output depends on, the project first; `{filters}` with relative dates are
    evaluated at compile time, hence the short lifetime."""
    key = json.dumps(
        [ctx.team_id, ctx.timezone, ctx.database, query, ctx.values, ctx.filters, ctx.variables,
         sorted(ctx.property_types.items()), ctx.test_account_filters,
         limit_context, paginate, query_settings(limit_context)],
        sort_keys=True,
        default=str,
    )  # fmt: skip
    now = time.monotonic()
    if _inlines_definitions(ctx, query):
        return compile_hogql(
            query,
            ctx,
            limit_context=LIMIT_CONTEXTS[limit_context],
            paginate=paginate,
            settings=query_settings(limit_context),
        )
    with _COMPILED_LOCK:
        hit = _COMPILED.get(key)
        if hit is not None and now - hit[0] < _COMPILED_TTL:
            _COMPILED.move_to_end(key)
            return hit[1]
    compiled = compile_hogql(
        query,
        ctx,
        limit_context=LIMIT_CONTEXTS[limit_context],
        paginate=paginate,
        settings=query_settings(limit_context),
    )
    with _COMPILED_LOCK:
        _COMPILED[key] = (now, compiled)
        while len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    return compiled


def _describe_types(compiled: CompiledQuery) -> list[str]:
    """An empty result carries no column types; ClickHouse can still tell them without running the query."""
    try:
        described = get_client().query(f"DESCRIBE ({compiled.clickhouse})", compiled.params)
    except ClickHouseError:
        return []
    return [str(row[1]) for row in described.rows]


def variable_values(variables: Any) -> dict[str, Any]:
    """HogQLVariable objects ({variableId, code_name, value, isNull}) → code_name → value."""
    values: dict[str, Any] = {}
    for item in (variables or {}).values() if isinstance(variables, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("code_name"), str):
            values[item["code_name"]] = None if item.get("isNull") else item.get("value")
    return values


def _context(team: Team, *, values: dict | None, filters: dict | None, variables: dict | None) -> HogQLContext:
    return HogQLContext(
        team_id=team.pk,
        timezone=team.timezone or "UTC",
        database=settings.CLICKHOUSE_DATABASE,
        values=values or {},
        filters=filters,
        variables=variables or {},
        property_types=property_types_for_team(team=team),
        test_account_filters=list(team.test_account_filters or []) if filters else [],
        filters_builder=filters_expression,
        expand_reference=expand_reference,
    )


def hogql_execute(
    *,
    team: Team,
    query: str,
    values: dict | None = None,
    filters: dict | None = None,
    limit_context: str = "query",
    limit: int | None = None,
    offset: int | None = None,
    variables: dict | None = None,
) -> HogQLResult:
    """Compile `query` for `team` and run it. Raises ExposedHogQLError subclasses for user errors."""
    started = time.perf_counter()
    context = LIMIT_CONTEXTS.get(limit_context)
    if context is None:
        raise HogQLQueryError(f"Unknown limit context: {limit_context}")
    page_limit = min(max(int(limit), 0) if limit is not None else context.default, context.maximum)
    page_offset = max(int(offset or 0), 0)
    ctx = _context(team, values=values, filters=filters, variables=variables)
    compiled = _compile_cached(ctx, query, limit_context, (page_limit, page_offset))
    executed = time.perf_counter()
    try:
        result = get_client().query(compiled.clickhouse, compiled.params)
    except ClickHouseError as error:
        _raise_clickhouse_error(error)
        raise
    rows = [[_json_value(v) for v in row] for row in result.rows]
    types = list(result.types) or _describe_types(compiled)
    has_more = None
    if compiled.paginated:
        has_more = len(rows) > page_limit
        rows = rows[:page_limit]
    same_shape = len(compiled.columns) == len(result.columns) or not result.columns
    columns = compiled.columns if same_shape else list(result.columns)
    done = time.perf_counter()
    timings = [
        *compiled.timings,
        {"k": "./clickhouse_execute", "t": round(done - executed, 6)},
        {"k": ".", "t": round(done - started, 6)},
    ]
    return HogQLResult(
        columns=columns,
        types=[[name, type_] for name, type_ in zip(columns, types, strict=False)],
        results=rows,
        hasMore=has_more,
        limit=page_limit if compiled.paginated else None,
        offset=page_offset if compiled.paginated else None,
        hogql=compiled.hogql,
        clickhouse=compiled.clickhouse,
        timings=timings,
    )


@dataclass(frozen=True)
class CompiledSelect:
    """A HogQL SELECT compiled for one team, not run: ClickHouse SQL with `{name:Type}` parameters, the
    HogQL-side column names, and the ClickHouse settings to run it with."""

    sql: str
    params: dict[str, Any]
    columns: list[str]
    settings: dict[str, Any]


# No LIMIT of ours: the caller wants every row (the compiler still writes this one, which no data set reaches).
_WHOLE_RESULT = LimitContext(default=2**62, maximum=2**62)


def hogql_compile_select(*, team: Team, query: str, values: dict | None = None) -> CompiledSelect:
    """Compile `query` for `team` without running it, for an app that writes the rows into a ClickHouse table
    it owns (`INSERT INTO cohortpeople (…) SELECT … FROM (<sql>)`, through `posthog_clone.clickhouse`). The
    SQL is the one `hogql_execute` would run (team guards on every table, the same functions), without a LIMIT
    and without the SETTINGS clause: `settings` are the `export` context's minus `readonly` (an INSERT writes).
    Never cached: it may inline stored definitions. Raises ExposedHogQLError subclasses for bad HogQL."""
    settings_ = {k: v for k, v in query_settings("export").items() if k != "readonly"}
    ctx = _context(team, values=values, filters=None, variables=None)
    compiled = compile_hogql(query, ctx, limit_context=_WHOLE_RESULT, paginate=None, settings={})
    return CompiledSelect(sql=compiled.clickhouse, params=compiled.params, columns=compiled.columns, settings=settings_)


def stable_order(query: str) -> str | None:
    """`query` with `ORDER BY 1, 2, …` when its top-level SELECT has none: LIMIT/OFFSET pages of an
    unordered ClickHouse read overlap and miss rows. None when the query cannot be rewritten (a UNION,
    an ORDER BY of its own, HogQL that does not parse)."""
    try:
        root = parse_select(query)
        return to_hogql(root) if order_by_every_column(root) else None
    except Exception:
        return None
