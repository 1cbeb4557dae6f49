"""The Recordings pages in Debian's headless Chromium (playwright-core): posthog-js, loaded from this server
through the snippet, records a page on another origin whose final text is known (its CSS in a <style> block and
a style="" attribute, an inline script of its own); the console then lists the recording with its counts, opens
it from the keyboard, and the console's rrweb-player plays it to the end: the player's iframe shows the page's
final text with its styles applied, under the player page's CSP, and the recorded page's scripts did not run in
it. Screenshots go to CONSOLE_SCREENSHOTS_DIR (default: the test's tmp dir) and are copied to /tmp/console-shots/."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from console.recordings_views import PLAYER_CONTENT_SECURITY_POLICY
from console.services import user_set_password
from ingestion.worker import flush
from posthog_clone.sdk.tokens import token_cache_clear
from tests.browser import SNIPPET_LOADER, NodeDialogue, needs_browser
from tests.console.conftest import PASSWORD
from tests.sdk_assets.conftest import real_release  # noqa: F401  (the pinned posthog-js, installed)

SCRIPT = Path(__file__).parent / "js" / "recordings_walk.mjs"
SHOTS = Path("/tmp/console-shots")

pytestmark = [
    pytest.mark.node,
    pytest.mark.clickhouse,
    pytest.mark.django_db(transaction=True),
    needs_browser("playwright-core"),
]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>shop</title>
<style>#buy { background-color: rgb(0, 128, 0); color: rgb(255, 255, 255); }</style>
<script>
%(snippet)s
posthog.init(%(token)s, {
  api_host: %(api_host)s,
  opt_out_useragent_filter: true,
  persistence: "memory",
  session_recording: { maskAllInputs: false },
  request_queue_config: { flush_interval_ms: 250 },
  loaded: function () { window.__loaded = true; },
});
</script></head>
<body>
<h1>Shop</h1>
<p id="status" style="color: rgb(200, 0, 0)">Nothing bought yet.</p>
<label for="name">Name</label> <input id="name" type="text">
<button id="buy">Buy</button>
<script>
window.__pageScriptRan = true;
var clicks = 0;
document.getElementById("buy").addEventListener("click", function () {
  clicks += 1;
  var name = document.getElementById("name").value;
  document.querySelector("h1").textContent = name ? "Thanks, " + name + "!" : "Shop";
  document.getElementById("status").textContent = "Bought " + clicks + " time" + (clicks > 1 ? "s" : "") + ".";
});
</script>
</body></html>
"""


@pytest.fixture(autouse=True)
def _replay_storage(settings, tmp_path: Path) -> None:
    settings.REPLAY_STORAGE_URL = f"file://{tmp_path / 'replay'}"
    token_cache_clear()


@pytest.mark.usefixtures("real_release", "console_libraries", "through_the_app")
def test_a_recording_is_listed_and_plays_to_the_pages_final_text(
    live_server: Any, project: Any, page_server: tuple[str, Path], tmp_path: Path
) -> None:
    response = project.client().patch(f"/api/projects/{project.team.pk}/", {"session_recording_opt_in": True},
                                      format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    user_set_password(user=project.user, password=PASSWORD)
    base_url, directory = page_server
    values = {"token": json.dumps(project.team.api_token), "api_host": json.dumps(live_server.url)}
    (directory / "index.html").write_text(PAGE % {**values, "snippet": SNIPPET_LOADER})
    screenshots = Path(os.environ.get("CONSOLE_SCREENSHOTS_DIR") or tmp_path / "screenshots")
    screenshots.mkdir(parents=True, exist_ok=True)
    arguments = {"pageUrl": f"{base_url}/index.html", "apiHost": live_server.url, "baseUrl": live_server.url,
                 "email": project.user.email, "password": PASSWORD, "projectId": project.team.pk,
                 "screenshots": str(screenshots)}  # fmt: skip
    browser = NodeDialogue(SCRIPT, arguments, tmp_path, message_timeout=150)
    watchdog = threading.Timer(240, browser.process.kill)  # a hung browser fails the test instead of blocking the run
    watchdog.start()
    try:
        recorded = browser.next_message()
        assert recorded["step"] == "recorded" and recorded["flushed"], recorded
        assert recorded["final"]["heading"] == "Thanks, Ada Lovelace!" and recorded["final"]["scriptRan"] is True
        assert flush() >= 1
        browser.say("flushed")
        done = browser.next_message()
    finally:
        watchdog.cancel()
        code = browser.finish()
    assert code == 0, browser.stderr()
    report = done["report"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in report["screenshots"].items():
        shutil.copy(path, SHOTS / f"{name}.png")
        print(f"console screenshot {name}: {path} (copied to {SHOTS / f'{name}.png'})")
        assert Path(path).stat().st_size > 1000

    row = report["row"]
    assert int(row["clicks"]) >= 2 and int(row["keys"]) >= len("Ada Lovelace") // 2, row
    assert row["url"] == f"{base_url}/index.html"
    assert report["playerCsp"] == PLAYER_CONTENT_SECURITY_POLICY
    replayed, final = report["replayed"], recorded["final"]
    assert report["status"] == "Played to the end."
    assert replayed["heading"] == final["heading"] == "Thanks, Ada Lovelace!"
    assert replayed["value"] == "Ada Lovelace"
    assert replayed["text"] == final["text"]
    # the recorded CSS applied in the replay (a <style> block and a style="" attribute)
    assert (replayed["buyColor"], replayed["statusColor"]) == ("rgb(0, 128, 0)", "rgb(200, 0, 0)")
    # the recorded page's scripts did not run in the player: a sandbox without allow-scripts (and script-src 'self')
    assert replayed["sandbox"] == "allow-same-origin"
    assert replayed["scriptRan"] is False and replayed["posthogLoaded"] is False
    assert report["cspMessages"] == [], report["cspMessages"]
    print(f"played to the end in {report['playedMs']} ms; console errors: {report['consoleErrors']}")
