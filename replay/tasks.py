"""Celery entry point (scale mode, queue `replay`): beat's hourly retention run (``replay.services``)."""

from __future__ import annotations

from django.db import close_old_connections

from posthog_clone.celery import app
from replay import services


@app.task(name="replay.tasks.delete_expired_recordings")
def delete_expired_recordings() -> dict[str, int]:
    try:
        return services.expired_recordings_delete()
    finally:
        close_old_connections()
