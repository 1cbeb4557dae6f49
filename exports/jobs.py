"""The work behind exports, run by the Celery tasks (`exports.tasks`) and, in the embedded default, by the
same task functions on the in-process pool (`exports.worker`): build an asset's file and store it, record a
failure on the asset, delete the expired assets. Nothing here dispatches work (`exports.services` does)."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from django.utils import timezone

from exports import storage
from exports.models import TABULAR_FORMATS, ExportedAsset, ExportFormat
from exports.sources import ExportError, path_row_pages, query_pages, query_row_pages, rows_from_table
from exports.tabular import write_export
from posthog_clone import registry
from posthog_clone.clickhouse import ClickHouseError
from query.exceptions import ExposedHogQLError, QueryTimeoutError

logger = logging.getLogger(__name__)

RETRY_ATTEMPTS = 4
GENERATED_FORMATS = frozenset({*TABULAR_FORMATS, ExportFormat.JSON, ExportFormat.PNG})


def failure_type(error: BaseException) -> str:
    if isinstance(error, (QueryTimeoutError, TimeoutError)) or type(error).__name__ == "SoftTimeLimitExceeded":
        return "timeout_generation"
    if isinstance(error, (ExportError, ExposedHogQLError)):
        return "user"
    if isinstance(error, ClickHouseError):
        return "system" if error.retryable else "user"
    return "unknown"


def _target_panels(asset: ExportedAsset) -> dict[str, Any]:
    """The panels of the insight or dashboard the export names (computed now, by the app that owns it)."""
    kind, pk = ("insight", asset.insight_id) if asset.insight_id else ("dashboard", asset.dashboard_id)
    target = registry.export_target_for(kind)
    if target is None or pk is None or not target.exists(asset.team_id, pk):
        raise ExportError(f"The {kind} of this export no longer exists.")
    return target.panels(asset.team_id, pk)


def _build_from_target(asset: ExportedAsset, out: Path) -> None:
    target = _target_panels(asset)
    if asset.export_format == ExportFormat.PNG:
        from exports.image import render_panels_png  # matplotlib only in a process that draws

        render_panels_png(target["panels"], out, title=target["title"])
        return
    if asset.export_format == ExportFormat.JSON or not asset.insight_id:
        raise ExportError("Insights export as CSV, XLSX or PNG; dashboards as PNG.")
    [panel] = target["panels"]
    pages = [rows_from_table(panel["columns"], panel["rows"])]
    write_export(pages, export_format=asset.export_format, out=out, columns=panel["columns"] or None)


def _build(asset: ExportedAsset, out: Path) -> None:
    context = asset.export_context if isinstance(asset.export_context, dict) else {}
    fmt = asset.export_format
    if fmt not in GENERATED_FORMATS:
        raise ExportError(f"Export to format {fmt} is not supported.")
    if "source" not in context and "path" not in context:
        if asset.insight_id or asset.dashboard_id:
            _build_from_target(asset, out)
            return
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


def record_failure(
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
            record_failure(asset, error)
        except Exception as error:
            if failure_type(error) == "unknown":
                logger.exception("export generation failed", extra={"asset": asset_id})
            record_failure(asset, error)
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
