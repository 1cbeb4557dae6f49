"""Celery entry points for exports (queue `exports`), thin wrappers around `exports.jobs`. The embedded worker
calls the same task functions in-process, so both modes build files through one code path."""

from __future__ import annotations

from django.db import close_old_connections

from exports.jobs import exported_asset_generate, exported_assets_delete_expired
from posthog_clone.celery import app

EXPORTS_QUEUE = "exports"  # producers name it explicitly (task-level queues are deprecated in Celery 5)
HARD_TIME_LIMIT = 600 + 120  # HOGQL_INCREASED_MAX_EXECUTION_TIME + 120 s, as PostHog


@app.task(
    name="exports.tasks.export_asset",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=HARD_TIME_LIMIT - 60,
    time_limit=HARD_TIME_LIMIT,
)
def export_asset(asset_id: int) -> bool:
    try:
        return exported_asset_generate(asset_id)
    finally:
        close_old_connections()


@app.task(name="exports.tasks.delete_expired_assets")
def delete_expired_assets() -> int:
    try:
        return exported_assets_delete_expired()
    finally:
        close_old_connections()
