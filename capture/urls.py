"""Plain URLs of this app (outside /api/projects/:id/): the capture endpoints, trailing slash optional."""

from django.urls import re_path

from capture.views import capture_view

urlpatterns = [
    re_path(r"^(?P<kind>e|i/v0/e|capture|track|engage|batch)/?$", capture_view, name="capture"),
]
