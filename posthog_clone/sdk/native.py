"""Public SDK endpoints as WSGI callables, without Django's request and response objects: the entry of the
paths apps register with ``posthog_clone.registry.fast_path`` (capture's /e, /batch, /i/v0/e, …), where a
request costs what the endpoint's own work costs and little more.

``public_wsgi_app(handler, **kwargs)`` turns ``handler(request: PublicRequest, **kwargs) -> PublicResponse`` into
a WSGI application that keeps what Django gave these paths before:
- ``request_finished`` after each request (the database connections a request opened are closed or kept by
  ``CONN_MAX_AGE`` as on every other path; the caches closed) and ``got_request_exception``. Not
  ``request_started``: its receivers check connections that the previous request's ``request_finished`` left
  checked already, and reset DEBUG's query log; sending it cost 10 µs of a ~100 µs request;
- ``ALLOWED_HOSTS`` (a disallowed Host is the project's 400 body, logged on ``django.security.DisallowedHost``);
- the security headers of Django's ``SecurityMiddleware`` for the same settings;
- the request metrics (``posthog_clone.metrics``) and the 4xx/5xx log lines of ``django.request``;
- CORS on every answer (``posthog_clone.sdk.cors``), an ``SDKError`` as PostHog's error body, anything else
  as a logged 500 with the error body.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import orjson
from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.dispatch import receiver
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware

from posthog_clone.api.exceptions import bad_request_body, server_error_body
from posthog_clone.metrics import REQUEST_LATENCY, REQUESTS
from posthog_clone.sdk.cors import cors_headers
from posthog_clone.sdk.errors import SDKError, malformed, too_large, unreadable_body
from posthog_clone.transport import BodyUnreadable

request_logger = logging.getLogger("django.request")
host_logger = logging.getLogger("django.security.DisallowedHost")

Headers = list[tuple[str, str]]
StartResponse = Callable[..., Any]
JSON = "application/json"
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


class PublicRequest:
    """What a public endpoint reads of a request: its method, its query (one value per name, the last, as
    Django's ``QueryDict.dict()``), its CGI variables (``meta``) and its body (``read_body``)."""

    __slots__ = ("_query", "environ", "method")

    def __init__(self, environ: dict[str, Any]):
        self.environ = environ
        self.method: str = environ.get("REQUEST_METHOD", "GET").upper()
        self._query: dict[str, str] | None = None

    @property
    def query(self) -> dict[str, str]:
        """Parsed as Django parses ``request.GET``: UTF-8 (else Latin-1), at most DATA_UPLOAD_MAX_NUMBER_FIELDS."""
        if self._query is None:
            self._query = _parse_query(self.environ.get("QUERY_STRING", ""))
        return self._query

    def meta(self, name: str, default: str = "") -> str:
        return self.environ.get(name) or default

    def read_body(self, limit: int) -> bytes:
        """The body of a POST (b"" otherwise), refused with 413 past ``limit`` without reading it all. A
        chunked body (no Content-Length) is read from the server's terminated input stream, also capped. A
        body the server cannot deliver (bad chunking, cut short) is a 400."""
        if self.method != "POST":
            return b""
        try:
            declared = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise too_large()
        if not declared and not self.environ.get("wsgi.input_terminated"):
            return b""  # no length and a stream that may not end: nothing to read (as Django's LimitedStream)
        stream = self.environ["wsgi.input"]
        try:
            body = stream.read(declared or limit + 1)  # declared is within the limit here
        except BodyUnreadable:
            raise unreadable_body() from None
        if len(body) > limit:
            raise too_large()
        return body


def _parse_query(query: str) -> dict[str, str]:
    if not query:
        return {}
    if not query.isascii():  # WSGI hands the raw bytes over as Latin-1
        raw = query.encode("iso-8859-1")
        try:
            query = raw.decode()
        except UnicodeDecodeError:
            query = raw.decode("iso-8859-1")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)
    except ValueError:
        raise malformed("the query string has too many fields") from None
    return dict(pairs)


class PublicResponse:
    __slots__ = ("body", "headers", "status")

    def __init__(self, body: bytes, status: int = 200, headers: Headers | None = None):
        self.body, self.status, self.headers = body, status, headers or []


def json_answer(data: Any, status: int = 200) -> PublicResponse:
    return PublicResponse(orjson.dumps(data), status)


def error_answer(error: SDKError) -> PublicResponse:
    """PostHog's `{type, code, detail, attr}` body with the error's status (and `Retry-After` when it has one)."""
    headers = [("Retry-After", str(error.retry_after))] if error.retry_after is not None else None
    return PublicResponse(orjson.dumps(error.body()), error.status, headers)


def public_wsgi_app(handler: Callable[..., PublicResponse], **kwargs: Any) -> Callable[..., Iterable[bytes]]:
    """``handler(request, **kwargs)`` as a WSGI application (see the module's docstring)."""

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            request = PublicRequest(environ)
            response = _answer(handler, request, kwargs)
            cors = cors_headers(
                environ.get("HTTP_ORIGIN"), environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"), request.method
            )
            headers = [
                ("Content-Type", JSON),
                ("Content-Length", str(len(response.body))),
                *response.headers,
                *cors,
                *_security_headers(environ),
            ]
            start_response(_STATUS_LINES.get(response.status) or str(response.status), headers)
            REQUEST_LATENCY.observe(time.perf_counter() - started)
            REQUESTS.labels(request.method, str(response.status)).inc()
            return [response.body]
        finally:
            signals.request_finished.send(sender=PublicRequest)

    return application


def _answer(handler: Callable[..., PublicResponse], request: PublicRequest, kwargs: dict[str, Any]) -> PublicResponse:
    environ = request.environ
    path = environ.get("PATH_INFO", "")
    if not _host_allowed(environ):
        host_logger.error("Invalid HTTP_HOST header: %r.", environ.get("HTTP_HOST"), extra={"status_code": 400})
        return json_answer(bad_request_body(), 400)
    try:
        response = handler(request, **kwargs)
    except SDKError as error:
        response = error_answer(error)
    except Exception:
        signals.got_request_exception.send(sender=PublicRequest, request=None)
        request_logger.exception("Internal Server Error: %s", path, extra={"status_code": 500})
        return json_answer(server_error_body(), 500)
    if response.status >= 400:
        phrase = HTTPStatus(response.status).phrase if response.status in _STATUS_LINES else "Error"
        request_logger.warning("%s: %s", phrase, path, extra={"status_code": response.status})
    return response


_VALID_HOSTS: dict[str, bool] = {}


def _host_allowed(environ: dict[str, Any]) -> bool:
    """Django's own check (``HttpRequest.get_host`` against ``ALLOWED_HOSTS``), its answer remembered per Host
    header; asked every time where the host does not come from that header alone (no Host header, or
    ``USE_X_FORWARDED_HOST``)."""
    host = environ.get("HTTP_HOST")
    if host is None or settings.USE_X_FORWARDED_HOST:
        return _django_allows_host(environ)
    allowed = _VALID_HOSTS.get(host)
    if allowed is None:
        allowed = _django_allows_host(environ)
        if len(_VALID_HOSTS) < 1024:  # a client sending a new Host each time must not grow this
            _VALID_HOSTS[host] = allowed
    return allowed


def _django_allows_host(environ: dict[str, Any]) -> bool:
    try:
        WSGIRequest(dict(environ)).get_host()  # a copy: the request writes PATH_INFO and SCRIPT_NAME back
    except DisallowedHost:
        return False
    return True


@receiver(signals.setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("ALLOWED_HOSTS", "DEBUG", "USE_X_FORWARDED_HOST"):
        _VALID_HOSTS.clear()
    if setting.startswith("SECURE_"):
        _SECURITY_HEADERS.clear()


_SECURITY_HEADERS: dict[bool, Headers] = {}


def _security_headers(environ: dict[str, Any]) -> Headers:
    """The headers Django's ``SecurityMiddleware`` adds for the same settings (worked out once for plain and
    once for secure requests)."""
    secure = _is_secure(environ)
    headers = _SECURITY_HEADERS.get(secure)
    if headers is None:
        headers = _SECURITY_HEADERS[secure] = _security_headers_for(secure)
    return headers


def _security_headers_for(secure: bool) -> Headers:
    """What Django's ``SecurityMiddleware``, made now (it reads the settings when made), adds to an answer."""
    environ = {"REQUEST_METHOD": "GET", "SERVER_NAME": "localhost", "SERVER_PORT": "443" if secure else "80",
               "wsgi.url_scheme": "https" if secure else "http", "wsgi.input": io.BytesIO()}  # fmt: skip
    plain = HttpResponse()
    middleware = SecurityMiddleware(lambda request: plain)
    answer = middleware.process_response(WSGIRequest(environ), HttpResponse())
    return [(name, value) for name, value in answer.items() if name not in plain.headers]


def _is_secure(environ: dict[str, Any]) -> bool:
    """``HttpRequest.is_secure``'s rule, on the environ (read for every answer: HSTS only on a secure one)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        if header in environ:
            return environ[header].split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"
