"""Where apps plug into the plumbing. The plumbing never names an app; an app registers here from its
``AppConfig.ready()``:

- ``readiness_check(name, check)``: a dependency reported by ``/_readyz`` (``check()`` returns a dict with
  ``ok``; an exception means not ready);
- ``scrape_hook(name, hook)``: run before ``/_metrics`` renders (sets gauges read at scrape time, e.g. a queue
  depth);
- ``background_worker(name, start, stop, enabled)``: a long-running job started by the process that owns
  ClickHouse writes (the engine of the embedded default, a web process with a ClickHouse server) when
  ``enabled()`` says so, and stopped before that process exits;
- ``fast_path(paths, view, **kwargs)``: WSGI paths answered by ``view(request, **kwargs)`` without Django's
  URL resolving and middleware (capture).

Each function is given as a dotted path (``"ingestion.worker.start_background_worker"``), imported when it is
first used, not in ``ready()``: start-up stays light, and nothing imports prometheus_client before ``serve``
has chosen its multiprocess directory. URL routes need no registration: ``posthog_clone/urls.py`` mounts
the ``PROJECT_ROUTES`` of every app's ``routes.py`` and the ``urlpatterns`` of its ``urls.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hook:
    """A function named by its dotted path, imported at the first call."""

    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __call__(self, *args: Any) -> Any:
        return import_string(self.path)(*args, **self.kwargs)

    def resolve(self) -> Callable[..., Any]:
        function = import_string(self.path)
        return (lambda *args: function(*args, **self.kwargs)) if self.kwargs else function


@dataclass(frozen=True)
class BackgroundWorker:
    name: str
    start: Hook
    stop: Hook  # called with a timeout in seconds: finish what was started, start nothing new
    enabled: Callable[[], bool]


READINESS_CHECKS: dict[str, Hook] = {}
SCRAPE_HOOKS: dict[str, Hook] = {}
BACKGROUND_WORKERS: dict[str, BackgroundWorker] = {}
FAST_PATHS: dict[str, Hook] = {}


def readiness_check(name: str, check: str) -> None:
    READINESS_CHECKS[name] = Hook(check)


def scrape_hook(name: str, hook: str) -> None:
    SCRAPE_HOOKS[name] = Hook(hook)


def background_worker(name: str, *, start: str, stop: str, enabled: Callable[[], bool]) -> None:
    BACKGROUND_WORKERS[name] = BackgroundWorker(name, Hook(start), Hook(stop), enabled)


def fast_path(paths: Iterable[str], view: str, **kwargs: Any) -> None:
    for path in paths:
        FAST_PATHS[path] = Hook(view, kwargs)


def start_background_workers() -> list[str]:
    started = []
    for worker in BACKGROUND_WORKERS.values():
        if worker.enabled():
            worker.start()
            logger.info("background worker started", extra={"worker": worker.name})
            started.append(worker.name)
    return started


def stop_background_workers(timeout: float) -> None:
    """Each enabled worker, in reverse order of registration, given up to ``timeout`` seconds."""
    for worker in reversed(list(BACKGROUND_WORKERS.values())):
        if worker.enabled():
            worker.stop(timeout)
