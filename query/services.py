"""Running HogQL: `hogql_execute` (compile + run, used by the API and by exports) and
`run_query_request` (the /query/ endpoint: cache, refresh modes and async status)."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import ipaddress
import json
import logging
import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections

from posthog_clone.accounts.models import Team
from posthog_clone.clickhouse import ClickHouseError, get_client
from query.exceptions import ClickHouseUserError, QueryTimeoutError
from query.hogql.ast import HogQLContext
from query.hogql.compiler import CompiledQuery, compile_hogql
from query.hogql.errors import ExposedHogQLError, HogQLQueryError
from query.hogql.passes.limits import LIMIT_CONTEXTS
from query.selectors import property_types_for_team

logger = logging.getLogger(__name__)

ASYNC_STATUS_TTL = 600
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
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


def _query_settings(limit_context: str) -> dict[str, Any]:
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


def _compile_cached(ctx: HogQLContext, query: str, limit_context: str, paginate: tuple[int, int]) -> CompiledQuery:
    """Compiling is pure, so identical requests (dashboards, polling scripts) reuse the SQL for a minute.
    The key holds everything the output depends on, the project first; `{filters}` with relative dates are
    evaluated at compile time, hence the short lifetime."""
    key = json.dumps(
        [ctx.team_id, ctx.timezone, ctx.database, query, ctx.values, ctx.filters, ctx.variables,
         sorted(ctx.property_types.items()),
         limit_context, paginate, _query_settings(limit_context)],
        sort_keys=True,
        default=str,
    )  # fmt: skip
    now = time.monotonic()
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
        settings=_query_settings(limit_context),
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
    ctx = HogQLContext(
        team_id=team.pk,
        timezone=team.timezone or "UTC",
        database=settings.CLICKHOUSE_DATABASE,
        values=values or {},
        filters=filters,
        variables=variables or {},
        property_types=property_types_for_team(team=team),
    )
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


# --- the /query/ endpoint -------------------------------------------------------------------------

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_cancelled: set[str] = set()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            workers = getattr(settings, "QUERY_ASYNC_WORKERS", 4)
            _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="query-async")
        return _executor


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _cache_target_age() -> int:
    return int(getattr(settings, "QUERY_CACHE_TARGET_AGE_SECONDS", 60))


def _status_key(query_id: str, team_id: int) -> str:
    if not _SAFE_ID.match(query_id):  # ids come from clients: keep cache keys printable
        query_id = hashlib.sha256(query_id.encode("utf-8", "replace")).hexdigest()
    return f"query_async:{query_id}:{team_id}"


def _refresh_mode(body: dict[str, Any]) -> str:
    refresh = body.get("refresh")
    if body.get("async") and refresh in (None, False, "blocking"):
        return "async"
    if refresh is True:
        return "force_blocking"
    if refresh in {"async", "lazy_async", "force_async", "force_blocking"}:
        return str(refresh)
    return "blocking"  # default, False, force_cache (remapped on /query/) and anything unknown


def _effective_query(body: dict[str, Any]) -> dict[str, Any]:
    query = dict(body["query"])
    override = body.get("filters_override") or {}
    if override:
        filters = dict(query.get("filters") or {})
        current = filters.get("dateRange")
        date_range = dict(current) if isinstance(current, dict) else {}
        for key in ("date_from", "date_to"):
            if override.get(key):
                date_range[key] = override[key]
        if date_range:
            filters["dateRange"] = date_range
        if override.get("properties"):
            filters["properties"] = [*(filters.get("properties") or []), *override["properties"]]
        query["filters"] = filters
    overrides = body.get("variables_override") or {}
    if overrides and isinstance(query.get("variables"), dict):
        merged = {key: dict(value) for key, value in query["variables"].items() if isinstance(value, dict)}
        for key, value in overrides.items():
            if key in merged and isinstance(value, dict) and "value" in value:
                merged[key]["value"] = value["value"]
        query["variables"] = merged
    return query


def _variable_values(variables: Any) -> dict[str, Any]:
    """HogQLVariable objects ({variableId, code_name, value, isNull}) → code_name → value."""
    values: dict[str, Any] = {}
    for item in (variables or {}).values() if isinstance(variables, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("code_name"), str):
            values[item["code_name"]] = None if item.get("isNull") else item.get("value")
    return values


def _cache_key(team: Team, query: dict[str, Any]) -> str:
    payload = json.dumps({"team": team.pk, "tz": team.timezone, "query": query}, sort_keys=True, default=str)
    return "cache_" + hashlib.sha256(payload.encode()).hexdigest()[:32]


def _compute(team: Team, query: dict[str, Any], cache_key: str, *, limit_context: str = "query") -> dict[str, Any]:
    result = hogql_execute(
        team=team,
        query=query.get("query", ""),
        values=query.get("values"),
        filters=query.get("filters"),
        limit_context=limit_context,
        variables=_variable_values(query.get("variables")),
    )
    now = _now()
    envelope = {
        **asdict(result),
        "modifiers": query.get("modifiers") or {},
        "query": query.get("query", ""),
        "cache_key": cache_key,
        "is_cached": False,
        "last_refresh": now.isoformat(),
        "next_allowed_client_refresh": (now + dt.timedelta(seconds=_cache_target_age())).isoformat(),
        "timezone": team.timezone or "UTC",
        "query_status": None,
    }
    cache.set(cache_key, envelope, max(_cache_target_age(), 1))
    return envelope


def _new_status(query_id: str, team: Team) -> dict[str, Any]:
    now = _now()
    return {
        "id": query_id,
        "team_id": team.pk,
        "complete": False,
        "error": False,
        "error_message": None,
        "results": None,
        "start_time": now.isoformat(),
        "pickup_time": None,
        "end_time": None,
        "expiration_time": (now + dt.timedelta(seconds=ASYNC_STATUS_TTL)).isoformat(),
        "task_id": query_id,
        "query_async": True,
        "query_progress": None,
        "dashboard_id": None,
        "insight_id": None,
        "labels": None,
    }


def _run_async(team: Team, query: dict[str, Any], cache_key: str, status: dict[str, Any]) -> None:
    key = _status_key(status["id"], team.pk)
    try:
        if status["id"] in _cancelled:
            return
        status = {**status, "pickup_time": _now().isoformat()}
        cache.set(key, status, ASYNC_STATUS_TTL)
        try:
            envelope = _compute(team, query, cache_key, limit_context="query_async")
            status.update(complete=True, results=envelope)
        except ExposedHogQLError as error:
            status.update(complete=True, error=True, error_message=str(error))
        except Exception:
            logger.exception("async query failed")
            status.update(complete=True, error=True, error_message=None)
        status["end_time"] = _now().isoformat()
        if status["id"] not in _cancelled:
            cache.set(key, status, ASYNC_STATUS_TTL)
    finally:
        _cancelled.discard(status["id"])
        close_old_connections()


def run_query_request(*, team: Team, user: Any, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Answer POST /query/: (HTTP status, body). User errors raise ExposedHogQLError subclasses."""
    query = _effective_query(body)
    mode = _refresh_mode(body)
    cache_key = _cache_key(team, query)
    if mode in {"blocking", "async", "lazy_async"}:
        cached = cache.get(cache_key)
        if cached is not None:
            return 200, {**cached, "is_cached": True}
    if mode in {"async", "lazy_async", "force_async"}:
        property_types_for_team(team=team)  # warm the cache so the worker thread needs no ORM
        query_id = body.get("client_query_id") or uuid.uuid4().hex
        status = _new_status(query_id, team)
        cache.set(_status_key(query_id, team.pk), status, ASYNC_STATUS_TTL)
        _pool().submit(_run_async, team, query, cache_key, status)
        return 202, {"cache_key": cache_key, "query_status": status}
    return 200, _compute(team, query, cache_key)


def query_status_get(*, team: Team, query_id: str) -> dict[str, Any] | None:
    return cache.get(_status_key(query_id, team.pk))


def query_status_cancel(*, team: Team, query_id: str) -> bool:
    key = _status_key(query_id, team.pk)
    status = cache.get(key)
    if status is None:
        return False
    if not status.get("complete"):
        _cancelled.add(query_id)
    cache.delete(key)
    return True
