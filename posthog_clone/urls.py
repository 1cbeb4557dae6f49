"""URL configuration. Project resources are mounted twice: /api/projects/:id/ and /api/environments/:id/.

Every installed app may have a ``routes.py`` with ``PROJECT_ROUTES`` (prefix, viewset, basename), mounted
under both project prefixes, and a ``urls.py`` with ``urlpatterns`` of plain paths; they are found by
looking (the apps of ``settings.PROJECT_APPS``, in that order), so this module names no app. Any other
``/api/`` path, whatever the method, is PostHog's JSON 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from types import ModuleType

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.utils.module_loading import module_has_submodule
from django.views.decorators.csrf import csrf_exempt

from posthog_clone.api.exceptions import bad_request_body, error_body
from posthog_clone.api.root_views import OrganizationViewSet, ProjectViewSet, UserViewSet
from posthog_clone.api.routers import OptionalSlashRouter
from posthog_clone.health import health, readyz
from posthog_clone.metrics import metrics_view
from posthog_clone.transport import BodyUnreadable


def app_modules(name: str) -> Iterator[ModuleType]:
    """``<app>.<name>`` of each of this project's apps (``settings.PROJECT_APPS``, not Django's or a library's)."""
    for app in settings.PROJECT_APPS:
        if module_has_submodule(apps.get_app_config(app.rsplit(".", 1)[-1]).module, name):
            yield import_module(f"{app}.{name}")


def project_router() -> OptionalSlashRouter:
    router = OptionalSlashRouter()
    for routes in app_modules("routes"):
        for prefix, viewset, basename in routes.PROJECT_ROUTES:
            router.register(prefix, viewset, basename=basename)
    return router


root_router = OptionalSlashRouter()
root_router.register("users", UserViewSet, basename="users")
root_router.register("projects", ProjectViewSet, basename="projects")
root_router.register("organizations", OrganizationViewSet, basename="organizations")


@csrf_exempt  # no session-authenticated form posts here: an unknown path is a 404 for every method
def endpoint_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    return JsonResponse(error_body("invalid_request", "not_found", "Endpoint not found."), status=404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's 400 (a body the server could not deliver, a disallowed Host…) as PostHog's error body."""
    if isinstance(exception, BodyUnreadable):
        return JsonResponse(error_body("invalid_request", "parse_error", str(exception)), status=400)
    return JsonResponse(bad_request_body(), status=400)


handler400 = bad_request
_project_urls = project_router().urls
urlpatterns = [
    re_path(r"^api/projects/(?P<project_id>[^/]+)/", include((_project_urls, "project"), namespace="project")),
    re_path(
        r"^api/environments/(?P<project_id>[^/]+)/", include((_project_urls, "environment"), namespace="environment")
    ),
    path("api/", include(root_router.urls)),
    *[pattern for urls in app_modules("urls") for pattern in urls.urlpatterns],
    path("_health", health),
    path("_readyz", readyz),
    path("_metrics", metrics_view),
    path("admin/", admin.site.urls),
    re_path(r"^api/", endpoint_not_found),  # any other /api/ path, newlines included
]
