"""WSGI entry point (`manage.py serve` runs it under granian or gunicorn: posthog_clone/server/http.py).

Paths that apps register as fast paths (``posthog_clone.registry.fast_path``: capture's /e, /batch,
/i/v0/e, …) go to a lean Django handler: the registered view on Django request/response objects, behind only
the request metrics, security headers and Host validation, without URL resolving, sessions, CSRF, auth,
messages or static files. Every other path goes through the full Django application. Both read the body
through ``posthog_clone.transport.guard_input``: a malformed or cut-short body is a 400, never a 500.
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

from posthog_clone.registry import FAST_PATHS  # noqa: E402  (filled by the apps' ready(), after setup)
from posthog_clone.transport import guard_input  # noqa: E402

FAST_VIEWS = {path: hook.resolve() for path, hook in FAST_PATHS.items()}

FAST_MIDDLEWARE = (
    "posthog_clone.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
)


class FastPathHandler(WSGIHandler):
    """Django's WSGI handler (signals, request, response, 4xx logging) with a short middleware chain."""

    def load_middleware(self, is_async: bool = False) -> None:
        handler = convert_exception_to_response(_fast_path)
        for path in reversed(FAST_MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self._middleware_chain = handler


def _fast_path(request: HttpRequest) -> HttpResponse:
    request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware does for every other path (DisallowedHost → 400)
    response = FAST_VIEWS[request.path_info](request)
    response.headers["Content-Length"] = str(len(response.content))
    return response


fast_path_application = FastPathHandler()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    guard_input(environ)
    if environ.get("PATH_INFO") in FAST_VIEWS:
        return fast_path_application(environ, start_response)
    return django_application(environ, start_response)
