"""The console's guard: every console view is wrapped here, so none can forget the session check, the
project scoping or the Content-Security-Policy header."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from posthog_clone.accounts.models import Team

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
View = Callable[..., HttpResponse]


def with_headers(view: View) -> View:
    """CSP and friends on every response of `view` (pages, fragments, redirects, errors). A view may set its own
    CSP on its response (the recording player's: recordings_views.PLAYER_CONTENT_SECURITY_POLICY)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            response = HttpResponse("Not found.", status=404, content_type="text/plain; charset=utf-8")
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)  # a view may set a narrower one
        response["X-Content-Type-Options"] = "nosniff"
        response["Referrer-Policy"] = "same-origin"
        response.setdefault("Cache-Control", "no-store")
        return response

    return wrapped


def project_for(request: HttpRequest, project_id: int) -> Team:
    """The project, if the signed-in user belongs to its organization; else 404 (never 403: another
    organization's project ids are not revealed)."""
    team = (
        Team.objects.select_related("organization")
        .filter(pk=project_id, organization__memberships__user_id=request.user.pk)
        .first()
    )
    if team is None:
        raise Http404("Project not found.")
    return team


def console_page(*, fragment: bool = False, project: bool = True) -> Callable[[View], View]:
    """A signed-in console view. Pages redirect to the sign-in page without a session; fragments (polled by
    the script) answer 401. With `project`, the view gets the `team` resolved from `project_id`."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                if fragment or request.method != "GET":
                    return HttpResponse("Sign in first.", status=401, content_type="text/plain; charset=utf-8")
                return redirect_to_login(request.get_full_path(), login_url="console:login")
            if project:
                kwargs["team"] = project_for(request, kwargs.pop("project_id"))
            return view(request, *args, **kwargs)

        return with_headers(guarded)

    return decorate
