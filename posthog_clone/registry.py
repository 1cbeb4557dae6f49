"""Where apps plug into the plumbing. The plumbing never names an app; an app registers here from its
``AppConfig.ready()``:

- ``readiness_check(name, check)``: a dependency reported by ``/_readyz`` (``check()`` returns a dict with
  ``ok``; an exception means not ready);
- ``scrape_hook(hook)``: run before ``/_metrics`` renders (sets gauges read at scrape time, e.g. a queue depth);
- ``background_worker(name, start, stop, enabled)``: a long-running job started by the process that owns
  ClickHouse writes (the engine of the embedded default, a web process with a ClickHouse server) when
  ``enabled()`` says so, and stopped before that process exits;
- ``fast_path(paths, view)``: WSGI paths answered by ``view`` without Django's URL resolving and middleware
  (capture).

URL routes need no registration: ``posthog_clone/urls.py`` mounts the ``PROJECT_ROUTES`` of every installed
app's ``routes.py`` and the ``urlpatterns`` of its ``urls.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

Check = Callable[[], dict]
View = Callable[[HttpRequest], HttpResponse]


@dataclass(frozen=True)
class BackgroundWorker:
    name: str
    start: Callable[[], object]
    stop: Callable[[float], object]  # timeout in seconds: finish what was started, start nothing new
    enabled: Callable[[], bool]


READINESS_CHECKS: dict[str, Check] = {}
SCRAPE_HOOKS: dict[str, Callable[[], None]] = {}
BACKGROUND_WORKERS: dict[str, BackgroundWorker] = {}
FAST_PATHS: dict[str, View] = {}


def readiness_check(name: str, check: Check) -> None:
    READINESS_CHECKS[name] = check


def scrape_hook(name: str, hook: Callable[[], None]) -> None:
    SCRAPE_HOOKS[name] = hook


def background_worker(
    name: str, start: Callable[[], object], stop: Callable[[float], object], enabled: Callable[[], bool]
) -> None:
    BACKGROUND_WORKERS[name] = BackgroundWorker(name, start, stop, enabled)


def fast_path(paths: Iterable[str], view: View) -> None:
    for path in paths:
        FAST_PATHS[path] = view


def start_background_workers() -> list[BackgroundWorker]:
    started = []
    for worker in BACKGROUND_WORKERS.values():
        if worker.enabled():
            worker.start()
            logger.info("background worker started", extra={"worker": worker.name})
            started.append(worker)
    return started


def stop_background_workers(timeout: float) -> None:
    """Each enabled worker, in reverse order of registration, given up to ``timeout`` seconds."""
    for worker in reversed(list(BACKGROUND_WORKERS.values())):
        if worker.enabled():
            worker.stop(timeout)
