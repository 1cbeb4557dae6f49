"""Postgres side of session replay: who viewed which recording, and saved playlists (replay reference §1.7).
The recordings themselves are ClickHouse's (`session_replay_events`) and the blob storage's."""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import models
from django.utils import timezone

_ALPHABET = string.ascii_letters + string.digits


def generate_short_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(8))


class SessionRecordingViewed(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_id = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user", "session_id"], name="unique_recording_viewed_per_user")
        ]
        indexes = [models.Index(fields=["team", "session_id"])]


class SessionRecordingPlaylist(models.Model):
    class Type(models.TextChoices):
        COLLECTION = "collection"
        FILTERS = "filters"

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    short_id = models.CharField(max_length=12, default=generate_short_id)
    name = models.CharField(max_length=400, null=True, blank=True)
    derived_name = models.CharField(max_length=400, null=True, blank=True)
    description = models.TextField(blank=True, default="")
    pinned = models.BooleanField(default=False)
    deleted = models.BooleanField(default=False)
    filters = models.JSONField(default=dict, blank=True)
    type = models.CharField(max_length=20, choices=Type.choices, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_modified_at = models.DateTimeField(default=timezone.now)
    last_modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "short_id"], name="unique_playlist_short_id")]


class SessionRecordingPlaylistItem(models.Model):
    playlist = models.ForeignKey(SessionRecordingPlaylist, on_delete=models.CASCADE, related_name="items")
    session_id = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["playlist", "session_id"], name="unique_playlist_recording")]
