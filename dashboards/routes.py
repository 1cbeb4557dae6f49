"""Project-scoped routes: (prefix, viewset, basename), under /api/projects/:id/ and /api/environments/:id/."""

from dashboards.views import DashboardViewSet

PROJECT_ROUTES: list = [("dashboards", DashboardViewSet, "dashboards")]
