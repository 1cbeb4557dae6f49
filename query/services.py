"""The /query/ endpoint: `run_query_request` answers POST /query/ (the response cache, refresh modes and
async runs on a thread pool), `query_status_get`/`query_status_cancel` poll and cancel the async runs.
The node's kind (query.kinds.KINDS) builds and runs it, always through `query.runner.hogql_execute`; the
cache, refresh modes, async runs and the envelope here are the same for every kind."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections

from posthog_clone import definitions_version
from posthog_clone.accounts.models import Team
from query.exceptions import ExposedHogQLError
from query.kinds import KINDS
from query.references import resolve_actions
from query.selectors import property_types_for_team

logger = logging.getLogger(__name__)

ASYNC_STATUS_TTL = 600
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

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
    return KINDS[query["kind"]].apply_overrides(query, body)


def _cache_key(team: Team, query: dict[str, Any]) -> str:
    """What a result depends on beyond the query: the project's timezone, week start and test-account filters
    (also reached through HogQL `{filters}`), and the version of its actions and cohorts."""
    team_settings = {
        "tz": team.timezone,
        "week": team.week_start_day,
        "test_accounts": team.test_account_filters,
        "definitions": definitions_version.current(team.pk),  # edited actions/cohorts change the answer
    }
    payload = json.dumps({"team": team.pk, **team_settings, "query": query}, sort_keys=True, default=str)
    return "cache_" + hashlib.sha256(payload.encode()).hexdigest()[:32]


def _compute(team: Team, query: dict[str, Any], cache_key: str, *, limit_context: str = "query") -> dict[str, Any]:
    result = KINDS[query["kind"]].run(team, resolve_actions(team.pk, query), limit_context)
    now = _now()
    envelope = {
        **result,
        "modifiers": query.get("modifiers") or {},
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
