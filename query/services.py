"""The query service: `run_query` runs a validated query node for a project in one of PostHog's execution
modes, through the one result cache (`query.cache`); `/query/` (`run_query_request`) and saved insights and
dashboards (the insights app) both call it, so identical effective queries share one cache entry.

Modes (`refresh`): `force_cache` serves the cache, fresh or stale, or nothing, never computing; `blocking`
serves a fresh cache or computes; `force_blocking` always computes; `async` serves a fresh cache, else
enqueues a run and serves the stale result (if any) beside its `query_status`; `lazy_async` is `async` with
the longer lazy thresholds; `force_async` always enqueues. Async runs go to an in-process thread pool; their
status lives in the shared Django cache for 600 s under `query_async:<id>:<team>`, so every web process
answers a poll alike. A run writes its status only while it owns its id (a token under
`query_async_run:<id>:<team>`): cancelling (DELETE, in any process) removes the token, and the run, in
whichever process it runs, never writes the status back. /query/'s own ids are the client's
(`client_query_id`) or random; other callers' runs are keyed by the cache key, so concurrent refreshes of
one query coalesce into one run.

The node's kind (query.kinds.KINDS) builds and runs it, always through `query.runner.hogql_execute`."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections

from posthog_clone.accounts.models import Team
from query import cache as results
from query import clock
from query.exceptions import ExposedHogQLError
from query.kinds import KINDS
from query.references import resolve_actions
from query.selectors import property_types_for_team
from query.serializers import QueryNodeField

logger = logging.getLogger(__name__)

ASYNC_STATUS_TTL = 600
MODES = ("blocking", "force_blocking", "async", "lazy_async", "force_async", "force_cache")
FORCED_MODES = frozenset({"force_blocking", "force_async"})
ASYNC_MODES = frozenset({"async", "lazy_async", "force_async"})
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


@dataclass(frozen=True)
class QueryOutcome:
    """What `run_query` gives: the response envelope (computed or cached; None on a miss) and, when a
    background run was enqueued or is still running, its status."""

    cache_key: str
    response: dict[str, Any] | None
    query_status: dict[str, Any] | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            workers = getattr(settings, "QUERY_ASYNC_WORKERS", 4)
            _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="query-async")
        return _executor


def _status_key(query_id: str, team_id: int) -> str:
    if not _SAFE_ID.match(query_id):  # ids come from clients: keep cache keys printable
        query_id = hashlib.sha256(query_id.encode("utf-8", "replace")).hexdigest()
    return f"query_async:{query_id}:{team_id}"


def _owner_key(status_key: str) -> str:
    return status_key.replace("query_async:", "query_async_run:", 1)


def _publish(key: str, run: str, status: dict[str, Any]) -> bool:
    """Store a run's status, unless the run no longer owns its id (cancelled, or superseded by a new run)."""
    owner = _owner_key(key)
    if cache.get(owner) != run:
        return False
    cache.set(key, status, ASYNC_STATUS_TTL)
    if cache.get(owner) is None:  # cancelled while storing: the status must stay gone
        cache.delete(key)
        return False
    return True


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
    return KINDS[query["kind"]].apply_overrides(query, body)


def validate_query_node(data: Any) -> dict[str, Any]:
    """A query node checked against its kind's schema (what /query/ accepts); raises a DRF ValidationError
    with the same details /query/ gives. The node returned is the validated one `run_query` expects."""
    return QueryNodeField().to_internal_value(data)


def query_kinds() -> list[str]:
    return list(KINDS)


def apply_dashboard_filters(query: dict[str, Any], filters: dict[str, Any] | None) -> dict[str, Any]:
    """The node with a dashboard's (or a tile's) filters applied, as its kind applies `filters_override`
    (reference §2.5): dates replace the range, properties are ANDed, for HogQL they fill `{filters}`."""
    if not filters:
        return query
    return KINDS[query["kind"]].apply_overrides(dict(query), {"filters_override": filters})


def apply_variables(query: dict[str, Any], variables: dict[str, Any] | None) -> dict[str, Any]:
    if not variables:
        return query
    return KINDS[query["kind"]].apply_overrides(dict(query), {"variables_override": variables})


def _compute(team: Team, query: dict[str, Any], cache_key: str, *, limit_context: str = "query") -> dict[str, Any]:
    result = KINDS[query["kind"]].run(team, resolve_actions(team.pk, query), limit_context)
    envelope = {
        **result,
        "modifiers": query.get("modifiers") or {},
        "cache_key": cache_key,
        "is_cached": False,
        "timezone": team.timezone or "UTC",
        "query_status": None,
    }
    envelope = results.stamp(query, envelope, clock.now())
    results.store(cache_key, envelope)
    return envelope


def _new_status(query_id: str, team: Team, *, insight_id: int | None, dashboard_id: int | None) -> dict[str, Any]:
    now = clock.now()
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
        "dashboard_id": dashboard_id,
        "insight_id": insight_id,
        "labels": None,
    }


def _run_async(team: Team, query: dict[str, Any], cache_key: str, status: dict[str, Any], run: str) -> None:
    key = _status_key(status["id"], team.pk)
    try:
        status = {**status, "pickup_time": clock.now().isoformat()}
        if not _publish(key, run, status):
            return
        try:
            envelope = _compute(team, query, cache_key, limit_context="query_async")
            status.update(complete=True, results=envelope)
        except ExposedHogQLError as error:
            status.update(complete=True, error=True, error_message=str(error))
        except Exception:
            logger.exception("async query failed")
            status.update(complete=True, error=True, error_message=None)
        status["end_time"] = clock.now().isoformat()
        _publish(key, run, status)
    finally:
        close_old_connections()


def _enqueue(
    team: Team,
    query: dict[str, Any],
    cache_key: str,
    query_id: str,
    *,
    insight_id: int | None,
    dashboard_id: int | None,
) -> dict[str, Any]:
    key = _status_key(query_id, team.pk)
    running = cache.get(key)
    if running is not None and not running.get("complete"):
        return running  # the same query is already being computed: coalesce
    property_types_for_team(team=team)  # warm the cache so the worker thread needs no ORM
    status = _new_status(query_id, team, insight_id=insight_id, dashboard_id=dashboard_id)
    run = uuid.uuid4().hex
    cache.set(_owner_key(key), run, ASYNC_STATUS_TTL)
    cache.set(key, status, ASYNC_STATUS_TTL)
    _pool().submit(_run_async, team, query, cache_key, status, run)
    return status


def run_query(
    team: Team,
    query: dict[str, Any],
    mode: str,
    *,
    client_query_id: str | None = None,
    insight_id: int | None = None,
    dashboard_id: int | None = None,
) -> QueryOutcome:
    """Run the validated, override-applied node `query` in `mode` (one of MODES). User errors of blocking
    runs raise ExposedHogQLError subclasses; async runs report them in their status."""
    if mode not in MODES:
        raise ValueError(f"unknown execution mode {mode!r}")
    cache_key = results.cache_key(team, query)
    cached = None if mode in FORCED_MODES else results.load(cache_key)  # a forced run never serves the cache
    if cached is not None:
        cached = {**cached, "is_cached": True}
        if mode == "force_cache":
            return QueryOutcome(cache_key, cached)
        if mode in {"blocking", "async", "lazy_async"} and not results.is_stale(
            query, cached, lazy=mode == "lazy_async"
        ):
            return QueryOutcome(cache_key, cached)
    elif mode == "force_cache":
        return QueryOutcome(cache_key, None)
    if mode in ASYNC_MODES:
        query_id = client_query_id or (cache_key if insight_id or dashboard_id else uuid.uuid4().hex)
        status = _enqueue(team, query, cache_key, query_id, insight_id=insight_id, dashboard_id=dashboard_id)
        return QueryOutcome(cache_key, cached, status)
    return QueryOutcome(cache_key, _compute(team, query, cache_key))


def run_query_request(*, team: Team, user: Any, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Answer POST /query/: (HTTP status, body). User errors raise ExposedHogQLError subclasses. An async
    mode that enqueued a run answers 202 with its status (a stale result is not served here)."""
    outcome = run_query(team, _effective_query(body), _refresh_mode(body), client_query_id=body.get("client_query_id"))
    if outcome.query_status is None and outcome.response is not None:
        return 200, outcome.response
    return 202, {"cache_key": outcome.cache_key, "query_status": outcome.query_status}


def query_status_get(*, team: Team, query_id: str) -> dict[str, Any] | None:
    return cache.get(_status_key(query_id, team.pk))


def query_status_cancel(*, team: Team, query_id: str) -> bool:
    key = _status_key(query_id, team.pk)
    if cache.get(key) is None:
        return False
    cache.delete(_owner_key(key))  # first: a run storing its status meanwhile sees it gone (_publish)
    cache.delete(key)
    return True
