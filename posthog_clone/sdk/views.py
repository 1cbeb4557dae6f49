"""The DRF base of the public SDK endpoints that are APIViews (/flags, /decide, remote config, …).

No credentials, no throttling, any Accept, CORS on every answer (``posthog_clone.sdk.cors``), an SDKError
raised by a handler becomes its error answer; OPTIONS → ``options_status`` with no body, HEAD → 200 without a body.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from posthog_clone.sdk.cors import with_cors
from posthog_clone.sdk.errors import SDKError
from posthog_clone.sdk.http import json_response


class AnyAccept(BaseContentNegotiation):
    """Answer whatever the client's Accept says: these endpoints have one representation each."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None) -> tuple:
        return renderers[0], renderers[0].media_type


class PublicSDKView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    content_negotiation_class = AnyAccept
    options_status = 204

    def options(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(status=self.options_status)

    def head(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(status=200)

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, SDKError):
            return json_response(exc.body(), status=exc.status)
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        return with_cors(request, response)
