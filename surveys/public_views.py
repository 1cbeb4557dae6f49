"""`GET /api/surveys/?token=<project API key>`: the surveys posthog-js may show (§2.4). No credentials but the
project token; CORS on every answer (the shared public SDK base)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from posthog_clone.api.validation import validated_request
from posthog_clone.sdk.errors import SDKError, invalid_token
from posthog_clone.sdk.http import json_response
from posthog_clone.sdk.tokens import team_id_for_token
from posthog_clone.sdk.views import PublicSDKView
from surveys.selectors import served_surveys
from surveys.serializers import PublicSurveysQuerySerializer, PublicSurveysSerializer

MISSING_TOKEN = SDKError(
    401,
    "authentication_error",
    "missing_api_key",
    "API key not provided. You can find your project API key in your PostHog project settings.",
)


class PublicSurveysView(PublicSDKView):
    openapi_tag = "Surveys"
    options_status = 200

    @validated_request(
        query=PublicSurveysQuerySerializer,
        responses={200: PublicSurveysSerializer},
        summary="Surveys for posthog-js",
        description="The project's running surveys (started, not ended, not archived, under their responses "
        "limit), as posthog-js reads them. Authenticated by the project API key only.",
    )
    @extend_schema(extensions={"x-public": True}, auth=[], operation_id="surveys_public_retrieve")
    def get(self, request: Request) -> HttpResponse:
        token = request.GET.get("token") or request.GET.get("api_key")
        if not token:
            raise MISSING_TOKEN
        team_id = team_id_for_token(token)
        if team_id is None:
            raise invalid_token(code="invalid_api_key")
        return json_response({"surveys": served_surveys(team_id=team_id), "survey_config": None})
