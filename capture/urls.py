"""Plain URLs of this app (outside /api/projects/:id/): the capture endpoints, trailing slash optional."""

from django.urls import re_path

from capture.paths import CAPTURE_PATHS
from capture.views import capture_view

urlpatterns = [re_path(rf"^{path}/?$", capture_view, {"kind": path}) for path in CAPTURE_PATHS]
