"""Project-scoped routes: (prefix, viewset, basename), under /api/projects/:id/ and /api/environments/:id/."""

from replay.playlist_views import SessionRecordingPlaylistViewSet
from replay.views import SessionRecordingViewSet

PROJECT_ROUTES: list = [
    ("session_recordings", SessionRecordingViewSet, "session_recordings"),
    ("session_recording_playlists", SessionRecordingPlaylistViewSet, "session_recording_playlists"),
]
