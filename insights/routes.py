"""Project-scoped routes: (prefix, viewset, basename), under /api/projects/:id/ and /api/environments/:id/."""

from insights.views import InsightViewSet

PROJECT_ROUTES: list = [("insights", InsightViewSet, "insights")]
