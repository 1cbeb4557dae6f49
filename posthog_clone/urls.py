"""URL configuration. Project resources are mounted twice: /api/projects/:id/ and /api/environments/:id/.

Each app exposes ``PROJECT_ROUTES`` (prefix, viewset, basename) in its ``routes.py`` and plain Django
views in its ``urls.py``.
"""

from __future__ import annotations

from importlib import import_module

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path

from posthog_clone.accounts.views import OrganizationViewSet, ProjectViewSet, UserViewSet
from posthog_clone.api.exceptions import error_body
from posthog_clone.api.routers import OptionalSlashRouter
from posthog_clone.health import readyz
from posthog_clone.metrics import metrics_view

APPS_WITH_ROUTES = ["definitions", "query", "exports", "file_system", "flags", "persons", "ingestion"]
APPS_WITH_URLS = ["openapi", "capture", "flags", "exports", "ingestion", "persons"]


def project_router() -> OptionalSlashRouter:
    router = OptionalSlashRouter()
    for app in APPS_WITH_ROUTES:
        for prefix, viewset, basename in getattr(import_module(f"{app}.routes"), "PROJECT_ROUTES", []):
            router.register(prefix, viewset, basename=basename)
    return router


root_router = OptionalSlashRouter()
root_router.register("users", UserViewSet, basename="users")
root_router.register("projects", ProjectViewSet, basename="projects")
root_router.register("organizations", OrganizationViewSet, basename="organizations")


def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Readiness (dependencies) is /_readyz."""
    return JsonResponse({"status": "ok"})


def endpoint_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    return JsonResponse(error_body("invalid_request", "not_found", "Endpoint not found."), status=404)


_project_urls = project_router().urls
urlpatterns = [
    re_path(r"^api/projects/(?P<project_id>[^/]+)/", include((_project_urls, "project"), namespace="project")),
    re_path(
        r"^api/environments/(?P<project_id>[^/]+)/", include((_project_urls, "environment"), namespace="environment")
    ),
    path("api/", include(root_router.urls)),
    *[p for app in APPS_WITH_URLS for p in getattr(import_module(f"{app}.urls"), "urlpatterns", [])],
    path("_health", health),
    path("_readyz", readyz),
    path("_metrics", metrics_view),
    path("admin/", admin.site.urls),
    re_path(r"^api/.*$", endpoint_not_found),
]
