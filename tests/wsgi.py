"""Call the production WSGI application (posthog_clone.wsgi.application: fast paths and the full Django
stack) in process, as a server would, and read its status, headers and body; and route Django's test client
and the live server through it for the fast paths (``fast_path_client_handler``, ``FastPathsFirstServer``,
installed for every test by tests/conftest.py)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.core.handlers.wsgi import WSGIRequest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponse
from django.test.client import ClientHandler

from posthog_clone.wsgi import FAST_APPS, application


def wsgi_call(
    method: str,
    path: str,
    body: bytes = b"",
    *,
    query: str = "",
    content_type: str = "application/json",
    **headers: str,
) -> tuple[int, dict[str, str], bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "10.1.2.3",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        **headers,
    }
    status, response_headers, content = run(environ)
    return status, dict(response_headers), content


def run(environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """The production application's status, headers and body for ``environ``, read as a WSGI server reads them."""
    answer: dict = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = int(status.split()[0]), response_headers

    response = application(environ, start_response)
    try:
        content = b"".join(response)
    finally:
        if hasattr(response, "close"):
            response.close()
    return answer["status"], answer["headers"], content


def fast_path_client_handler(original: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Django's test ``ClientHandler.__call__``, but a path the production entry answers in front of Django
    (``posthog_clone.wsgi.FAST_APPS``: capture) goes to ``posthog_clone.wsgi.application``, as it does under a
    server; the answer comes back as the HttpResponse the test client expects. ``request_finished`` does not
    close the database connection during the call, as in Django's handler, so the test's transaction survives."""

    def __call__(self: ClientHandler, environ: dict[str, Any]) -> HttpResponse:
        if environ.get("PATH_INFO") not in FAST_APPS:
            return original(self, environ)
        held = request_finished.disconnect(close_old_connections)
        try:
            status, headers, content = run(environ)
        finally:
            if held:
                request_finished.connect(close_old_connections)
        response = HttpResponse(content, status=status)
        for name, value in headers:
            response[name] = value
        response.wsgi_request = WSGIRequest(environ)
        return response

    return __call__


class FastPathsFirstServer(ThreadedWSGIServer):
    """The live server (``live_server``) with the production entry in front of Django's test handler for the
    fast paths, as under ``manage.py serve``."""

    def set_app(self, app: Callable[..., Any]) -> None:
        def routed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("PATH_INFO") in FAST_APPS:
                return application(environ, start_response)
            return app(environ, start_response)

        super().set_app(routed)
