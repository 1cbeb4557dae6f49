"""Plain URLs of this app (outside /api/projects/:id/): the survey list posthog-js fetches."""

from django.urls import re_path

from surveys.public_views import PublicSurveysView

urlpatterns: list = [re_path(r"^api/surveys/?$", PublicSurveysView.as_view(), name="public-surveys")]
