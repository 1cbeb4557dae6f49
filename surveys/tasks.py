"""Celery entry points for surveys (scale mode, queue `surveys`); the embedded worker (`surveys.worker`) runs the
same function in-process.

- `stop_surveys_reached_target()`: Celery beat's tick: stop the running surveys that reached their
  `responses_limit` (`surveys.services.surveys_stop_reached_target`)."""

from __future__ import annotations

from django.db import close_old_connections

from posthog_clone.celery import app
from surveys.services import surveys_stop_reached_target

SURVEYS_QUEUE = "surveys"


@app.task(name="surveys.tasks.stop_surveys_reached_target")
def stop_surveys_reached_target() -> list[str]:
    try:
        return surveys_stop_reached_target()
    finally:
        close_old_connections()
