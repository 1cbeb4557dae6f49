"""Reads for exported assets: the per-user list with its filters, and an asset's bytes."""

from __future__ import annotations

from django.db.models import QuerySet

from exports import storage
from exports.models import ExportedAsset, ExportFormat
from posthog_clone.accounts.models import User


def exported_asset_list(
    *, assets: QuerySet[ExportedAsset], user: User, export_format: str | None = None, context_path: str | None = None
) -> QuerySet[ExportedAsset]:
    """`assets` is already team-scoped and TTL-filtered; the list shows only the caller's own exports."""
    assets = assets.filter(created_by=user)
    if export_format and export_format in ExportFormat.values:
        assets = assets.filter(export_format=export_format)
    if context_path:
        assets = assets.filter(export_context__path__icontains=context_path)
    return assets.order_by("-created_at", "-id")


def exported_asset_content(*, asset: ExportedAsset) -> bytes | None:
    return storage.read_content(asset)


def exported_asset_for(*, team_id: int, user: User, asset_id: int) -> ExportedAsset | None:
    """One of `user`'s live exports in the project, or None (another user's or project's, or expired)."""
    return ExportedAsset.objects.filter(team_id=team_id, created_by=user, pk=asset_id).first()
