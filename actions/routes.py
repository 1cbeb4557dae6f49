"""Project-scoped routes: (prefix, viewset, basename), under /api/projects/:id/ and /api/environments/:id/."""

from actions.views import ActionViewSet

PROJECT_ROUTES: list = [("actions", ActionViewSet, "actions")]
