"""Writes for exported assets: create (insert, hand to the runner, wait a short budget for the file). The
runner is Celery (`exports.tasks`, scale mode) or the in-process pool (`exports.worker`, the embedded default);
both run `exports.jobs`, which imports neither of them nor this module."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from exports import worker
from exports.jobs import record_failure
from exports.models import ExportedAsset
from exports.tasks import EXPORTS_QUEUE, export_asset
from posthog_clone.accounts.models import Team, User

logger = logging.getLogger(__name__)

SYNC_BUDGET_SECONDS = 10.0  # how long create waits for the file before answering has_content=false


def _sync_budget() -> float:
    return float(getattr(settings, "EXPORTS_SYNC_BUDGET_SECONDS", SYNC_BUDGET_SECONDS))


def exported_asset_create(*, team: Team, user: User, data: dict[str, Any]) -> ExportedAsset:
    """Insert the row, start generating once it is committed, and wait up to the budget for the file."""
    asset = ExportedAsset.objects.create(
        team=team,
        created_by=user,
        export_format=data["export_format"],
        export_context=data.get("export_context"),
        dashboard_id=data.get("dashboard"),
        insight_id=data.get("insight"),
        expires_after=data.get("expires_after"),
    )
    jobs: list[Any] = []
    transaction.on_commit(lambda: jobs.append(_dispatch_or_record(asset)))  # a worker must see the row
    if jobs and jobs[0] is not None:
        jobs[0].wait(_sync_budget())
    asset.refresh_from_db()
    return asset


def _dispatch_or_record(asset: ExportedAsset) -> Any:
    """Dispatch; if the queue cannot take the job (broker down, worker pool gone), say so on the asset
    instead of answering 500 and leaving a row that would only ever look stuck."""
    try:
        return dispatch(asset.pk)
    except Exception as error:
        logger.exception("export could not be queued", extra={"asset": asset.pk})
        record_failure(asset, error, kind="system", message=f"Export could not be queued: {error}")
        return None


def dispatch(asset_id: int) -> Any:
    """Hand the asset to Celery (scale mode) or to the in-process worker (embedded default)."""
    if settings.CELERY_BROKER_URL:
        export_asset.apply_async(args=[asset_id], queue=EXPORTS_QUEUE)
        return _RowWatcher(asset_id)
    return worker.submit(asset_id)


class _RowWatcher:
    """Waits for a Celery-built asset by watching its row (no result backend needed)."""

    def __init__(self, asset_id: int) -> None:
        self.asset_id = asset_id

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        rows = ExportedAsset.objects_unfiltered.filter(pk=self.asset_id)
        settled = Q(content__isnull=False) | Q(content_location__isnull=False) | Q(exception__isnull=False)
        while time.monotonic() < deadline:
            if not rows.exists() or rows.filter(settled).exists():
                return True
            time.sleep(0.1)
        return False
