"""Plain URLs of this app (outside /api/projects/:id/): the capture endpoints, trailing slash optional."""

from django.urls import re_path

from capture.views import capture_view

CAPTURE_PATHS = ("e", "i/v0/e", "capture", "track", "engage", "batch")

urlpatterns = [re_path(rf"^{path}/?$", capture_view, {"kind": path}) for path in CAPTURE_PATHS]
