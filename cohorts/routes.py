"""Project-scoped routes: (prefix, viewset, basename), under /api/projects/:id/ and /api/environments/:id/."""

from cohorts.views import CohortViewSet

PROJECT_ROUTES: list = [("cohorts", CohortViewSet, "cohorts")]
