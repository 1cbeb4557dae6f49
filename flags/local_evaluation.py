"""Flag definitions for server SDKs' local evaluation, outside the project routes.

`GET /flags/definitions?token=<phc_>` (what posthog-python and posthog-node poll) and
`GET /api/feature_flag/local_evaluation/?token=<phc_>`. The caller is either a personal API key
(`feature_flag:read`, member of the project) or the project's secret key (phs_) as a Bearer token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flags.selectors import local_evaluation_payload
from flags.serializers import LocalEvaluationQuerySerializer, LocalEvaluationSerializer
from posthog_clone.accounts.models import Team
from posthog_clone.api.authentication import PersonalAPIKeyAuthentication
from posthog_clone.api.base import check_membership
from posthog_clone.api.permissions import APIScopePermission
from posthog_clone.api.throttling import LocalEvaluationThrottle
from posthog_clone.api.validation import validated_request


@dataclass(frozen=True)
class ProjectSecretCaller:
    """The request user when a project secret key (phs_) authenticated it."""

    team: Team
    is_authenticated: bool = True
    pk: None = None


class ProjectSecretKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ProjectSecretCaller, Team] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _, value = header.partition(" ")
        value = value.strip()
        if keyword != "Bearer" or not value.startswith("phs_"):
            return None
        team = Team.objects.select_related("organization").filter(secret_api_token=value).first()
        if team is None:
            raise exceptions.AuthenticationFailed("Project secret API key is invalid.")
        return ProjectSecretCaller(team=team), team

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class LocalEvaluationRateThrottle(LocalEvaluationThrottle):
    """The seed's 600/minute, counted per personal API key, or per project for its secret key."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, Team):
            return self.cache_format % {"scope": self.scope, "ident": f"secret-{request.auth.pk}"}
        return super().get_cache_key(request, view)


class LocalEvaluationView(APIView):
    """Not a TeamScopedViewSet: the project comes from `token` (or the secret key), not from the URL."""

    authentication_classes = [ProjectSecretKeyAuthentication, PersonalAPIKeyAuthentication]
    throttle_classes = [LocalEvaluationRateThrottle]
    openapi_tag = "Feature flags"
    scope_object = "feature_flag"
    action = "list"  # read scope (`feature_flag:read`) for personal API keys

    def check_permissions(self, request: Request) -> None:
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated()
        token = request.query_params.get("token")
        if isinstance(request.auth, Team):
            if token and token != request.auth.api_token:
                raise exceptions.PermissionDenied("The secret key does not belong to the project of this token.")
            self.team = request.auth
            return
        if not token:
            raise exceptions.ValidationError({"token": ["The project API key (token) is required."]})
        team = Team.objects.select_related("organization").filter(api_token=token).first()
        if team is None:
            raise exceptions.AuthenticationFailed("Project API key invalid.")
        self.team = team
        APIScopePermission().has_permission(request, self)
        check_membership(request, team)

    @validated_request(
        query=LocalEvaluationQuerySerializer,
        responses={200: LocalEvaluationSerializer},
        summary="Flag definitions for local evaluation",
        description="Every non-deleted flag of the project with the group type mapping and cohorts. "
        "Answers 304 when If-None-Match carries the current ETag.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = local_evaluation_payload(team_id=self.team.pk, send_cohorts="send_cohorts" in request.query_params)
        etag = '"' + hashlib.sha1(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest() + '"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(payload, headers={"ETag": etag})
