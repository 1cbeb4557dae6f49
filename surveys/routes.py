"""Project-scoped routes: (prefix, viewset, basename), under /api/projects/:id/ and /api/environments/:id/."""

from surveys.views import SurveyViewSet

PROJECT_ROUTES: list = [("surveys", SurveyViewSet, "surveys")]
