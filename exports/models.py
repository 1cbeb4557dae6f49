"""`ExportedAsset`: a file made from a query or an API path, built in the background, expiring on schedule."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

TABULAR_TTL = dt.timedelta(days=7)
VIDEO_TTL = dt.timedelta(days=365)
DEFAULT_TTL = dt.timedelta(days=180)


class ExportFormat(models.TextChoices):
    """Value = MIME type (the API's `export_format`), label = file extension."""

    PNG = "image/png", "png"
    PDF = "application/pdf", "pdf"
    CSV = "text/csv", "csv"
    XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
    WEBM = "video/webm", "webm"
    MP4 = "video/mp4", "mp4"
    GIF = "image/gif", "gif"
    JSON = "application/json", "json"


TABULAR_FORMATS = frozenset({ExportFormat.CSV, ExportFormat.XLSX})
VIDEO_FORMATS = frozenset({ExportFormat.WEBM, ExportFormat.MP4, ExportFormat.GIF})


def midnight(value: dt.datetime) -> dt.datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def default_expiry(export_format: str, now: dt.datetime | None = None) -> dt.datetime:
    now = now or timezone.now()
    if export_format in TABULAR_FORMATS:
        return midnight(now + TABULAR_TTL)
    if export_format in VIDEO_FORMATS:
        return midnight(now + VIDEO_TTL)
    return midnight(now + DEFAULT_TTL)


def live_filter() -> Q:
    """Not expired at this moment (evaluate per query: a queryset built at import time would freeze `now`)."""
    return Q(expires_after__isnull=True) | Q(expires_after__gte=timezone.now())


class LiveAssetManager(models.Manager["ExportedAsset"]):
    """Hides assets past their `expires_after` (PostHog's default manager)."""

    def get_queryset(self) -> models.QuerySet[ExportedAsset]:
        return super().get_queryset().filter(live_filter())


class ExportedAsset(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="exported_assets")
    # PostHog links dashboards and insights; this backend has neither yet, so the ids are kept as plain integers.
    dashboard_id = models.IntegerField(null=True, blank=True)
    insight_id = models.IntegerField(null=True, blank=True)
    export_format = models.CharField(max_length=100, choices=ExportFormat.choices)
    content = models.BinaryField(null=True, blank=True)
    content_location = models.TextField(null=True, blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_after = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    export_context = models.JSONField(null=True, blank=True)
    exception = models.TextField(null=True, blank=True)
    exception_type = models.CharField(max_length=255, null=True, blank=True)
    failure_type = models.CharField(max_length=255, null=True, blank=True)
    is_system = models.BooleanField(null=True, blank=True, default=False)

    objects = LiveAssetManager()
    objects_unfiltered = models.Manager()

    class Meta:
        indexes = [models.Index(fields=["team", "created_by", "-created_at"]), models.Index(fields=["expires_after"])]

    def __str__(self) -> str:
        return f"{self.export_format} #{self.pk}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.expires_after is None:
            self.expires_after = default_expiry(self.export_format)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def has_content(self) -> bool:
        return self.content is not None or bool(self.content_location)

    @property
    def extension(self) -> str:
        try:
            return ExportFormat(self.export_format).label
        except ValueError:
            return "bin"

    @property
    def filename(self) -> str:
        context = self.export_context if isinstance(self.export_context, dict) else {}
        requested = context.get("filename")
        base = slugify(str(requested)) if requested else ""
        return f"{base or 'export'}.{self.extension}"
