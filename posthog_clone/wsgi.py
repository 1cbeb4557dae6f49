"""WSGI entry point (`manage.py serve` runs it under granian or gunicorn: posthog_clone/server/http.py).

Paths that apps register as fast paths (``posthog_clone.registry.fast_path``: capture's /e, /batch,
/i/v0/e, …) are answered in front of Django by WSGI-native handlers (``posthog_clone.sdk.native``: the
request signals, ALLOWED_HOSTS, CORS, the security headers, the request metrics and PostHog's error body,
without Django's request, response, URL resolving or middleware objects). Every other path goes through the
full Django application. Both read the body through ``posthog_clone.transport.guard_input``: a malformed or
cut-short body is a 400, never a 500.
"""

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posthog_clone.settings")
django_application = get_wsgi_application()

from posthog_clone.registry import FAST_PATHS  # noqa: E402  (filled by the apps' ready(), after setup)
from posthog_clone.sdk.native import public_wsgi_app  # noqa: E402
from posthog_clone.transport import guard_input  # noqa: E402

FAST_APPS = {path: public_wsgi_app(import_string(hook.path), **hook.kwargs) for path, hook in FAST_PATHS.items()}


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    guard_input(environ)
    fast = FAST_APPS.get(environ.get("PATH_INFO"))
    if fast is not None:
        return fast(environ, start_response)
    return django_application(environ, start_response)
