"""Writes for exported assets: create (insert, hand to the worker, wait a short budget), generate (the task
body, shared by the embedded worker and Celery), and delete the expired ones."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from exports import storage
from exports.models import TABULAR_FORMATS, ExportedAsset, ExportFormat
from exports.sources import ExportError, path_row_pages, query_pages, query_row_pages
from exports.tabular import write_export
from posthog_clone.accounts.models import Team, User
from posthog_clone.clickhouse import ClickHouseError
from query.exceptions import ExposedHogQLError, QueryTimeoutError

logger = logging.getLogger(__name__)

SYNC_BUDGET_SECONDS = 10.0  # how long create waits for the file before answering has_content=false
RETRY_ATTEMPTS = 4
GENERATED_FORMATS = frozenset({*TABULAR_FORMATS, ExportFormat.JSON, ExportFormat.PNG})


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
        _record_failure(asset, error, kind="system", message=f"Export could not be queued: {error}")
        return None


def dispatch(asset_id: int) -> Any:
    """Hand the asset to Celery (scale mode) or to the in-process worker (embedded default)."""
    if settings.CELERY_BROKER_URL:
        from exports.tasks import EXPORTS_QUEUE, export_asset

        export_asset.apply_async(args=[asset_id], queue=EXPORTS_QUEUE)
        return _RowWatcher(asset_id)
    from exports import worker

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


def failure_type(error: BaseException) -> str:
    if isinstance(error, (QueryTimeoutError, TimeoutError)) or type(error).__name__ == "SoftTimeLimitExceeded":
        return "timeout_generation"
    if isinstance(error, (ExportError, ExposedHogQLError)):
        return "user"
    if isinstance(error, ClickHouseError):
        return "system" if error.retryable else "user"
    return "unknown"


def _build(asset: ExportedAsset, out: Path) -> None:
    context = asset.export_context if isinstance(asset.export_context, dict) else {}
    fmt = asset.export_format
    if fmt not in GENERATED_FORMATS:
        raise ExportError(f"Export to format {fmt} is not supported.")
    if "source" not in context and "path" not in context:
        raise ExportError("This export needs export_context.source (a query) or export_context.path.")
    if fmt == ExportFormat.PNG:
        if "source" not in context:
            raise ExportError("PNG exports are drawn from a query: set export_context.source.")
        from exports.image import render_png  # matplotlib (a third of a second) only in a process that draws

        columns, _types, rows = next(query_pages(team=asset.team, source=context["source"]))
        render_png(columns, rows, out, title=str(context.get("filename") or ""))
        return
    if "source" in context:
        pages = query_row_pages(team=asset.team, source=context["source"])
    else:
        pages = path_row_pages(team=asset.team, user=asset.created_by, path=context["path"])
    columns = context.get("columns")
    write_export(pages, export_format=fmt, out=out, columns=columns if isinstance(columns, list) else None)


def _record_failure(
    asset: ExportedAsset, error: BaseException, *, kind: str | None = None, message: str | None = None
) -> None:
    text = message or str(error) or type(error).__name__
    asset.exception = text.replace("\x00", "\\x00")  # PostgreSQL text cannot hold NUL
    asset.exception_type = type(error).__name__
    asset.failure_type = kind or failure_type(error)
    # An update, not a save: a row deleted meanwhile (expired, its team gone) is simply not there to mark.
    ExportedAsset.objects_unfiltered.filter(pk=asset.pk).update(
        exception=asset.exception, exception_type=asset.exception_type, failure_type=asset.failure_type
    )


def exported_asset_generate(asset_id: int) -> bool:
    """Build the asset's file and store it; a failure lands in `exception`. True when content was stored."""
    asset = ExportedAsset.objects_unfiltered.select_related("team", "created_by").filter(pk=asset_id).first()
    if asset is None:
        logger.warning("export asset vanished before generation", extra={"asset": asset_id})
        return False
    for attempt in range(1, RETRY_ATTEMPTS + 1):
        try:
            with tempfile.TemporaryDirectory(prefix="export-") as directory:
                out = Path(directory) / f"export.{asset.extension}"
                _build(asset, out)
                storage.save_content_from_file(asset, out)
            return True
        except ClickHouseError as error:
            if error.retryable and attempt < RETRY_ATTEMPTS:
                time.sleep(min(2**attempt, 10))
                continue
            _record_failure(asset, error)
        except Exception as error:
            if failure_type(error) == "unknown":
                logger.exception("export generation failed", extra={"asset": asset_id})
            _record_failure(asset, error)
        return False
    return False


def exported_assets_delete_expired() -> int:
    """Delete assets whose `expires_after` has passed, with their stored objects (the periodic job)."""
    expired = ExportedAsset.objects_unfiltered.filter(expires_after__lte=timezone.now())
    deleted = 0
    for asset in expired.only("id", "team_id", "content_location").iterator():
        storage.delete_content(asset)
        deleted += ExportedAsset.objects_unfiltered.filter(pk=asset.pk).delete()[0]
    return deleted
