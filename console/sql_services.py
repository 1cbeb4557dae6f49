"""Writes of the SQL page: a CSV or XLSX export of a HogQL query through the exports app, validated by the
same serializer as POST /api/projects/:id/exports/ with a HogQLQuery source (so the same expiry, the same
checks, the same background job and 300,000-row limit)."""

from __future__ import annotations

from typing import Any

from exports.models import ExportedAsset, ExportFormat
from exports.serializers import ExportedAssetCreateSerializer
from exports.services import exported_asset_create
from posthog_clone.accounts.models import Team, User

EXPORT_FORMATS = {"csv": ExportFormat.CSV, "xlsx": ExportFormat.XLSX}


def _first_message(detail: Any) -> str:
    while isinstance(detail, (dict, list)) and detail:
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return str(detail) or "The export could not be created."


def sql_export_create(*, team: Team, user: User, query: str, file_format: str) -> ExportedAsset:
    """Create the export (waiting the exports app's short budget for its file). Raises ValueError with a
    message for the page when the request is not one the exports API would accept."""
    if file_format not in EXPORT_FORMATS:
        raise ValueError("Choose CSV or XLSX.")
    if not query.strip():
        raise ValueError("Write a query to export.")
    data = {
        "export_format": EXPORT_FORMATS[file_format],
        "export_context": {"source": {"kind": "HogQLQuery", "query": query}, "filename": "sql-query"},
    }
    serializer = ExportedAssetCreateSerializer(data=data, context={"team": team})
    if not serializer.is_valid():
        raise ValueError(_first_message(serializer.errors))
    return exported_asset_create(team=team, user=user, data=serializer.validated_data)
