"""Project-scoped routes: (prefix, viewset, basename), under /api/projects/:id/ and /api/environments/:id/."""

from annotations.views import AnnotationViewSet

PROJECT_ROUTES: list = [("annotations", AnnotationViewSet, "annotations")]
