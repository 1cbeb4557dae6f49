"""posthog-js in Debian's headless Chromium, loaded only through the HTML snippet from this server's
/static/array.js (README "Sending events"): it initialises, captures a pageview into /e/, and with session
replay on in the project it lazy-loads its recorder from /static/ and posts snapshots to /s/, which queues them
(what the recording then holds: tests/replay)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from sdk_assets.fetch import Release
from tests.browser import SNIPPET_LOADER, needs_browser, run_node

SCRIPT = Path(__file__).parent / "js" / "browser_snippet.mjs"

pytestmark = [pytest.mark.node, pytest.mark.django_db(transaction=True), needs_browser("playwright-core")]

# The page: PostHog's snippet (tests/browser.SNIPPET_LOADER), then calls queued before array.js has loaded.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>shop</title>
<script>
%(snippet)s
posthog.init(%(token)s, {
  api_host: %(api_host)s,
  opt_out_useragent_filter: true,
  persistence: "memory",
  request_queue_config: { flush_interval_ms: 250 },
  loaded: function () { window.__loaded = true; },
});
posthog.capture("queued before load", { from: "snippet" });
</script></head>
<body><h1>Shop</h1><button id="buy">Buy</button><input id="name" type="text"></body></html>
"""


def _run(page_server: tuple[str, Path], live_server: Any, team: Any, wait_for: str) -> dict[str, Any]:
    base_url, directory = page_server
    token, api_host = json.dumps(team.api_token), json.dumps(live_server.url)
    page = PAGE % {"token": token, "api_host": api_host, "snippet": SNIPPET_LOADER}
    (directory / "index.html").write_text(page)
    arguments = {"pageUrl": f"{base_url}/index.html", "apiHost": live_server.url, "waitForPath": wait_for,
                 "timeoutMs": 12000}  # fmt: skip
    report = run_node(SCRIPT, arguments, directory)
    page_origin, api = urlsplit(base_url).netloc, urlsplit(live_server.url).netloc
    elsewhere = [r["url"] for r in report["requests"] if urlsplit(r["url"]).netloc not in (page_origin, api)]
    assert elsewhere == [], "the page loaded something from another host (the SDK must come from this server)"
    return report


def _responses(report: dict[str, Any], live_server: Any, prefix: str) -> list[dict[str, Any]]:
    return [r for r in report["responses"] if urlsplit(r["url"]).path.startswith(prefix)
            and r["url"].startswith(live_server.url)]  # fmt: skip


def test_snippet_loads_posthog_js_from_this_server(
    live_server: Any, queue: Any, team: Any, page_server: Any, real_release: Path, through_the_app: None
) -> None:
    report = _run(page_server, live_server, team, wait_for="/e/")
    assert report["state"]["version"] == Release().version
    [array] = _responses(report, live_server, "/static/array.js")
    assert (array["status"], array["contentType"], array["cors"]) == (200, "text/javascript; charset=utf-8", "*")
    assert report["state"]["recording"] is False  # the project does not record
    assert not _responses(report, live_server, "/s/")
    assert not [r for r in _responses(report, live_server, "/static/") if "recorder" in r["url"]]

    events = {(e.event, e.team_id) for e in queue.all_events()}
    assert ("$pageview", team.pk) in events
    queued = [e for e in queue.all_events() if e.event == "queued before load"]
    assert queued and orjson.loads(queued[0].data)["properties"]["from"] == "snippet"


def test_with_replay_on_it_loads_the_recorder_and_posts_to_s(
    live_server: Any, queue: Any, team: Any, page_server: Any, real_release: Path, through_the_app: None
) -> None:
    team.session_recording_opt_in = True
    team.save()
    report = _run(page_server, live_server, team, wait_for="/s/")

    recorders = [r for r in _responses(report, live_server, "/static/") if "recorder" in urlsplit(r["url"]).path]
    assert recorders, [r["url"] for r in report["responses"]]
    for recorder in recorders:  # /static/<version>/lazy-recorder.js first (strict_script_versioning "fallback")
        assert recorder["status"] == 200, recorder
        assert recorder["contentType"] == "text/javascript; charset=utf-8" and recorder["cors"] == "*"
        url = urlsplit(recorder["url"])
        assert url.path == f"/static/{Release().version}/lazy-recorder.js" or f"v={Release().version}" in url.query
    assert report["state"]["recording"] is True
    snapshots = [r for r in report["requests"] if r["url"].startswith(f"{live_server.url}/s/")]
    assert snapshots and all(r["method"] == "POST" for r in snapshots)
    assert {r["status"] for r in _responses(report, live_server, "/s/")} == {200}  # queued by the replay app
    assert ("$pageview", team.pk) in {(e.event, e.team_id) for e in queue.all_events()}
