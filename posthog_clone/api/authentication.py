"""Personal API key authentication: Authorization Bearer, then body `personal_api_key`, then query string."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from posthog_clone.accounts.keys import hash_key_value
from posthog_clone.accounts.models import PersonalAPIKey, User
from posthog_clone.accounts.selectors import active_key_by_secure_value


class PersonalAPIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    @classmethod
    def find_key(cls, request: Request) -> tuple[str, str] | None:
        """Return (key, where it was found) or None."""
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header.startswith(cls.keyword + " ") or header.startswith(cls.keyword + "\t"):
            token = header[len(cls.keyword) :].strip()
            if token and not token.startswith("pha_"):
                return token, "Authorization header"
        if request.method in {"POST", "PUT", "PATCH"} and "json" in (request.content_type or ""):
            try:
                data = request.data
            except exceptions.ParseError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("personal_api_key"), str):
                return data["personal_api_key"], "body"
        value = request.query_params.get("personal_api_key") if hasattr(request, "query_params") else None
        if value:
            return value, "query string"
        return None

    def authenticate(self, request: Request) -> tuple[User, PersonalAPIKey] | None:
        found = self.find_key(request)
        if found is None:
            return None
        value, source = found
        key = active_key_by_secure_value(hash_key_value(value))
        if key is None:
            raise exceptions.AuthenticationFailed(f"Personal API key found in request {source} is invalid.")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > timedelta(hours=1):
            PersonalAPIKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
