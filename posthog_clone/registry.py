"""Where apps plug into the plumbing. The plumbing never names an app; an app registers here from its
``AppConfig.ready()``:

- ``readiness_check(name, check)``: a dependency reported by ``/_readyz`` (``check()`` returns a dict with
  ``ok``; an exception means not ready);
- ``scrape_hook(name, hook)``: run before ``/_metrics`` renders (sets gauges read at scrape time, e.g. a queue
  depth);
- ``background_worker(name, start, stop, enabled)``: a long-running job started by the process that owns
  ClickHouse writes (the engine of the embedded default, a web process with a ClickHouse server) when
  ``enabled()`` says so; the engine stops it before it exits (a web process's daemon threads end with it,
  and what they had taken from the queue is replayed);
- ``fast_path(paths, handler, **kwargs)``: WSGI paths answered in front of Django by
  ``handler(request, **kwargs)``, a ``posthog_clone.sdk.native`` handler (a ``PublicRequest`` in, a
  ``PublicResponse`` out; capture);
- ``query_reference(kind, lookup)``: a named definition queries may reference (``action``, ``cohort``):
  ``lookup(team_id, ref)`` returns what the query app needs to inline it (see ``reference_lookup``);
- ``reference_users(kind, lookup)``: who uses a definition of ``kind`` (``cohort``) and would break if it went
  away: ``lookup(team_id, ref)`` returns a list of ``(type, name)`` pairs, e.g. ``("feature_flag", "beta")``
  for each active flag targeting cohort ``ref``. Several apps may answer for one kind; the owner of the
  definition asks them all (``reference_users_of``) before a soft delete. No app registered: nothing blocks.
- ``export_target(kind, exists, panels)``: something an export may name instead of a query (``insight``,
  ``dashboard``): ``exists(team_id, pk)`` says whether the project has it, ``panels(team_id, pk)`` returns what
  to draw or tabulate, a list of ``{"title", "columns", "rows"}`` (and ``"text"`` for a text card) computed
  now. No app registered: every id of that kind is unknown.
- ``remote_config_part(name, value)``: a key of posthog-js's remote config (/flags, /decide,
  /array/<token>/config) that an app owns (``surveys``): ``value(team_id)`` returns its JSON value, which
  replaces the flags app's default for that key. No app registered: the default stays.

- ``event_handler(event, handler)``: queued envelopes named ``event`` (capture's ``event`` field) are not
  events rows: the ingestion pipeline hands each batch's envelopes of that name to ``handler(envelopes)``
  before it writes the batch's events, and the batch is acknowledged only after the handler returned (it
  must be idempotent: a crash replays the batch). Session replay's ``$snapshot_items`` are one.

Each function is given as a dotted path (``"ingestion.worker.start_background_worker"``), imported when it is
first used, not in ``ready()``: start-up stays light, and nothing imports prometheus_client before ``serve``
has chosen its multiprocess directory. URL routes need no registration: ``posthog_clone/urls.py`` mounts
the ``PROJECT_ROUTES`` of every app's ``routes.py`` and the ``urlpatterns`` of its ``urls.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hook:
    """A function named by its dotted path, imported at the first call."""

    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __call__(self, *args: Any) -> Any:
        return import_string(self.path)(*args, **self.kwargs)


@dataclass(frozen=True)
class BackgroundWorker:
    name: str
    start: Hook
    stop: Hook  # called with a timeout in seconds: finish what was started, start nothing new
    enabled: Callable[[], bool] = field(compare=False)


@dataclass(frozen=True)
class ExportTarget:
    kind: str
    exists: Hook  # (team_id, pk) -> bool
    panels: Hook  # (team_id, pk) -> {"title": str, "panels": [{"title", "columns", "rows", "text"?}, ...]}


RESERVED_CHECKS = frozenset({"database", "clickhouse"})  # posthog_clone/health.py
READINESS_CHECKS: dict[str, Hook] = {}
SCRAPE_HOOKS: dict[str, Hook] = {}
BACKGROUND_WORKERS: dict[str, BackgroundWorker] = {}
FAST_PATHS: dict[str, Hook] = {}
QUERY_REFERENCES: dict[str, Hook] = {}
REFERENCE_USERS: dict[str, dict[str, Hook]] = {}  # kind → lookup path → hook
EXPORT_TARGETS: dict[str, ExportTarget] = {}
REMOTE_CONFIG_PARTS: dict[str, Hook] = {}
EVENT_HANDLERS: dict[str, Hook] = {}


def _add(table: dict[str, Any], name: str, entry: Any) -> None:
    if table.get(name, entry) != entry:  # the same ready() run twice is fine; two apps claiming one name is not
        raise ImproperlyConfigured(f"{name!r} is registered twice: {table[name]} and {entry}")
    table[name] = entry


def readiness_check(name: str, check: str) -> None:
    if name in RESERVED_CHECKS:
        raise ImproperlyConfigured(f"readiness check {name!r} is the plumbing's own")
    _add(READINESS_CHECKS, name, Hook(check))


def scrape_hook(name: str, hook: str) -> None:
    _add(SCRAPE_HOOKS, name, Hook(hook))


def background_worker(name: str, *, start: str, stop: str, enabled: Callable[[], bool]) -> None:
    _add(BACKGROUND_WORKERS, name, BackgroundWorker(name, Hook(start), Hook(stop), enabled))


def fast_path(paths: Iterable[str], handler: str, **kwargs: Any) -> None:
    for path in paths:
        _add(FAST_PATHS, path, Hook(handler, kwargs))


def query_reference(kind: str, lookup: str) -> None:
    _add(QUERY_REFERENCES, kind, Hook(lookup))


def reference_lookup(kind: str) -> Hook | None:
    """The app's lookup for ``kind``; None when no installed app provides that kind."""
    return QUERY_REFERENCES.get(kind)


def reference_users(kind: str, lookup: str) -> None:
    REFERENCE_USERS.setdefault(kind, {})[lookup] = Hook(lookup)


def reference_users_of(kind: str) -> list[Hook]:
    """The lookups of every app that uses definitions of ``kind``, each called ``(team_id, ref)`` and returning
    ``[(type, name), ...]``; empty when no installed app uses that kind."""
    return list(REFERENCE_USERS.get(kind, {}).values())


def export_target(kind: str, *, exists: str, panels: str) -> None:
    _add(EXPORT_TARGETS, kind, ExportTarget(kind, Hook(exists), Hook(panels)))


def export_target_for(kind: str) -> ExportTarget | None:
    return EXPORT_TARGETS.get(kind)


def remote_config_part(name: str, value: str) -> None:
    _add(REMOTE_CONFIG_PARTS, name, Hook(value))


def remote_config_parts(team_id: int) -> dict[str, Any]:
    """The remote-config keys apps own, computed for ``team_id``."""
    return {name: value(team_id) for name, value in REMOTE_CONFIG_PARTS.items()}


def event_handler(event: str, handler: str) -> None:
    _add(EVENT_HANDLERS, event, Hook(handler))


def event_handlers() -> dict[str, Hook]:
    """Event name → the handler of the envelopes of that name (see ``event_handler``)."""
    return EVENT_HANDLERS


def start_background_workers() -> list[str]:
    started = []
    for worker in BACKGROUND_WORKERS.values():
        if worker.enabled():
            worker.start()
            logger.info("background worker started", extra={"worker": worker.name})
            started.append(worker.name)
    return started


def stop_background_workers(timeout: float) -> None:
    """Each enabled worker, in reverse order of registration, within ``timeout`` seconds for them all."""
    deadline = time.monotonic() + timeout
    for worker in reversed(list(BACKGROUND_WORKERS.values())):
        if worker.enabled():
            worker.stop(max(0.0, deadline - time.monotonic()))
