"""The project tree: one row per folder, item or shortcut; the hierarchy lives only in the escaped `path`."""

from __future__ import annotations

import os
import time
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

FOLDER = "folder"


def uuid7() -> uuid.UUID:
    """Time-ordered UUID (RFC 9562 version 7); Python 3.11 has no `uuid.uuid7`."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC variant
    return uuid.UUID(int=value)


class FileSystem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    path = models.TextField()
    depth = models.IntegerField(null=True, blank=True)  # number of segments, always set by the services
    type = models.CharField(max_length=100, blank=True, default="")
    ref = models.CharField(max_length=100, null=True, blank=True)
    href = models.TextField(null=True, blank=True)
    shortcut = models.BooleanField(null=True, blank=True, default=False)
    meta = models.JSONField(default=dict, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        # No uniqueness on path: duplicates are tolerated, as in PostHog.
        indexes = [
            models.Index(fields=["team"], name="fs_team"),
            models.Index(fields=["team", "path"], name="fs_team_path"),
            models.Index(fields=["team", "depth"], name="fs_team_depth"),
            models.Index(fields=["team", "type", "ref"], name="fs_team_type_ref"),
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def is_folder(self) -> bool:
        return self.type == FOLDER


class FileSystemViewLog(models.Model):
    """When a user last opened an object (type, ref) in a project: feeds `order_by=last_viewed_at`."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=100)
    ref = models.CharField(max_length=100)
    viewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user", "type", "ref"], name="unique_fs_view_log"),
        ]
        indexes = [models.Index(fields=["team", "user", "-viewed_at"], name="fs_view_log_recent")]
