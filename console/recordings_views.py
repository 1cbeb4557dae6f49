"""The console's Recordings pages: the project's recordings, newest first, and an rrweb player for one of them
(its snapshots come from a session-guarded JSON endpoint of the console, not from the API)."""

from __future__ import annotations

import orjson
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import recordings_selectors as selectors
from console.security import CONTENT_SECURITY_POLICY, console_page
from posthog_clone.accounts.models import Team

# rrweb's replayer rebuilds the recorded page in an about:blank iframe that inherits this page's policy, and
# writes the recorded CSS into it as <style> elements and style="" attributes (rrweb-player's controls set
# style="" too): the player page alone lets inline *styles* through. Scripts stay 'self' only (no inline, no
# eval), so nothing recorded can run; the iframe is also sandboxed without allow-scripts.
PLAYER_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
MAX_OFFSET = 10_000


def _offset(raw: str) -> int:
    try:
        return min(max(int(raw), 0), MAX_OFFSET)
    except ValueError:
        return 0


@console_page()
@require_GET
def recordings(request: HttpRequest, team: Team) -> HttpResponse:
    since = request.GET.get("since", selectors.DEFAULT_RANGE)
    since = since if since in selectors.RANGES else selectors.DEFAULT_RANGE
    offset = _offset(request.GET.get("offset", "0"))
    rows, has_next = selectors.recordings_page(team=team, user=request.user, since=since, offset=offset)
    context = {
        "team": team, "section": "recordings", "recordings": rows, "since": since, "ranges": selectors.RANGES,
        "offset": offset, "page_size": selectors.PAGE_SIZE, "has_next": has_next,
        "older": offset + selectors.PAGE_SIZE, "newer": max(offset - selectors.PAGE_SIZE, 0),
    }  # fmt: skip
    return render(request, "console/recordings/list.html", context)


@console_page()
@require_GET
def recording_player(request: HttpRequest, team: Team, session_id: str) -> HttpResponse:
    row = selectors.recording(team=team, user=request.user, session_id=session_id)
    if row is None:
        raise Http404("Recording not found.")
    context = {"team": team, "section": "recordings", "recording": row}
    response = render(request, "console/recordings/player.html", context)
    response["Content-Security-Policy"] = PLAYER_CONTENT_SECURITY_POLICY
    return response


@console_page(fragment=True)
@require_GET
def recording_snapshots(request: HttpRequest, team: Team, session_id: str) -> HttpResponse:
    try:
        lines = selectors.recording_snapshots(team=team, session_id=session_id)
    except selectors.BlocksUnreadable:
        body = {"error": "The recording's snapshot blocks could not be read."}
        return HttpResponse(orjson.dumps(body), status=502, content_type="application/json")
    if lines is None:
        raise Http404("Recording not found.")
    body = {"session_id": session_id, "snapshots": [[window_id, event] for window_id, event in lines]}
    return HttpResponse(orjson.dumps(body), content_type="application/json")
