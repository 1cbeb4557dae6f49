"""WSGI entry point (gunicorn posthog_clone.wsgi).

Capture paths (/e, /batch, /i/v0/e, /capture, /track, /engage, trailing slash optional) go to a lean
Django handler: the same ``capture_view`` on Django request/response objects, behind only the request
metrics, security headers and Host validation, without URL resolving, sessions, CSRF, auth, messages or
static files (none of which capture uses). Every other path goes through the full Django application.
"""

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posthog_clone.settings")
django_application = get_wsgi_application()

from capture.urls import CAPTURE_PATHS  # noqa: E402  (after Django is set up)
from capture.views import capture_view  # noqa: E402

CAPTURE_KINDS = {f"/{path}{slash}": path for path in CAPTURE_PATHS for slash in ("", "/")}
CAPTURE_MIDDLEWARE = (
    "posthog_clone.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
)


class CaptureHandler(WSGIHandler):
    """Django's WSGI handler (signals, request, response, 4xx logging) with a capture-only chain."""

    def load_middleware(self, is_async: bool = False) -> None:
        handler = convert_exception_to_response(_capture)
        for path in reversed(CAPTURE_MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self._middleware_chain = handler


def _capture(request: HttpRequest) -> HttpResponse:
    request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware does for every other path (DisallowedHost → 400)
    response = capture_view(request, CAPTURE_KINDS[request.path_info])
    response.headers["Content-Length"] = str(len(response.content))
    return response


capture_application = CaptureHandler()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO") in CAPTURE_KINDS:
        return capture_application(environ, start_response)
    return django_application(environ, start_response)
