"""A recording made by posthog-js itself, end to end (issue 27, acceptance 1): Debian's headless Chromium opens a
page on another origin that loads posthog-js only through the HTML snippet from this server's /static/array.js;
recording is switched on in the project through the API; the page is clicked and typed in and changes its text.
The session then appears in `session_recordings` with its duration and click/keypress counts, its snapshots hold
a full snapshot and incremental events, and rrweb's own player (npm `rrweb`), replaying them in the same
browser, ends on the page's final text."""

from __future__ import annotations

import gzip
import json
import subprocess
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from ingestion.worker import flush
from sdk_assets.fetch import Release
from tests.browser import SNIPPET_LOADER, needs_browser, node_env
from tests.sdk_assets.conftest import real_release  # noqa: F401  (the pinned posthog-js, installed)

SCRIPT = Path(__file__).parent / "js" / "browser_recording.mjs"

pytestmark = [
    pytest.mark.node,
    pytest.mark.clickhouse,
    pytest.mark.django_db(transaction=True),
    needs_browser("playwright-core", "rrweb"),
]

# PostHog's snippet (tests/browser.SNIPPET_LOADER): the only script the page has from anywhere is
# api_host + /static/array.js. Clicking "Buy" thanks the name typed so far.
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
</script></head>
<body>
<h1>Shop</h1>
<p id="status">Nothing bought yet.</p>
<input id="name" type="text" placeholder="Your name">
<button id="buy">Buy</button>
<script>
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


def _decompressed(event: dict[str, Any]) -> dict[str, Any]:
    """What PostHog's player does with posthog-js's per-event compression (reference §1.3, `cv` 2024-10):
    each compressed field is gzip output as a one-char-per-byte string."""
    if event.get("cv") != "2024-10":
        return event

    def unpack(value: Any) -> Any:
        return orjson.loads(gzip.decompress(value.encode("latin-1"))) if isinstance(value, str) else value

    event = {key: value for key, value in event.items() if key != "cv"}
    if event["type"] == 2:
        event["data"] = unpack(event["data"])
    elif event["type"] == 3:
        fields = {0: ("texts", "attributes", "removes", "adds"), 8: ("adds", "removes")}.get(event["data"]["source"])
        event["data"] = {k: unpack(v) if k in (fields or ()) else v for k, v in event["data"].items()}
    return event


def _read_json_line(process: subprocess.Popen[str]) -> dict[str, Any]:
    line = process.stdout.readline() if process.stdout else ""
    if not line:
        process.wait(timeout=30)
        stderr = process.stderr.read() if process.stderr else ""
        raise AssertionError(f"the browser script ended early ({process.returncode}): {stderr[-3000:]}")
    return json.loads(line)


@pytest.mark.usefixtures("real_release", "through_the_app")
def test_posthog_js_recording_is_listed_and_replays_to_the_final_page(
    live_server: Any, project: Any, page_server: tuple[str, Path]
) -> None:
    api, team = project.client(), project.team
    enable = {"session_recording_opt_in": True, "session_recording_masking_config": {"maskAllInputs": False}}
    response = api.patch(f"/api/projects/{team.pk}/", enable, format="json")
    assert response.status_code == 200, response.content

    base_url, directory = page_server
    (directory / "index.html").write_text(
        PAGE % {"token": json.dumps(team.api_token), "api_host": json.dumps(live_server.url), "snippet": SNIPPET_LOADER}
    )
    arguments = {"pageUrl": f"{base_url}/index.html", "apiHost": live_server.url, "timeoutMs": 15000}
    process = subprocess.Popen(
        ["node", str(SCRIPT), json.dumps(arguments)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=node_env(directory),
    )
    watchdog = threading.Timer(120, process.kill)  # a hung browser fails the test instead of blocking the run
    watchdog.start()
    try:
        recorded = _read_json_line(process)
        assert recorded["phase"] == "recorded" and recorded["flushed"], recorded["state"]
        state, final = recorded["state"], recorded["final"]
        assert state["version"] == Release().version and state["recording"] is True
        assert final["heading"] == "Thanks, Ada Lovelace!" and final["value"] == "Ada Lovelace"
        page_origin, api_origin = urlsplit(base_url).netloc, urlsplit(live_server.url).netloc
        scripts = {urlsplit(r["url"]).path for r in recorded["requests"] if urlsplit(r["url"]).netloc == api_origin}
        assert "/static/array.js" in scripts and any("recorder" in path for path in scripts), scripts
        elsewhere = [
            r["url"] for r in recorded["requests"] if urlsplit(r["url"]).netloc not in (page_origin, api_origin)
        ]
        assert elsewhere == [], "the page loaded something from another host (the SDK must come from this server)"

        flush()
        base = f"/api/environments/{team.pk}/session_recordings"
        [recording] = api.get(f"{base}/").json()["results"]
        assert recording["id"] == state["sessionId"]
        assert recording["start_url"] == f"{base_url}/index.html"
        assert 0 < recording["recording_duration"] < 120
        assert recording["click_count"] >= 2 and recording["keypress_count"] >= len("Ada Lovelace") // 2

        sources = api.get(f"{base}/{state['sessionId']}/snapshots/").json()["sources"]
        assert sources and [s["blob_key"] for s in sources] == [str(i) for i in range(len(sources))]
        blocks = api.get(
            f"{base}/{state['sessionId']}/snapshots/",
            {"source": "blob_v2", "start_blob_key": 0, "end_blob_key": len(sources) - 1},
        )
        assert blocks.status_code == 200 and blocks["Content-Type"] == "application/jsonl"
        lines = [orjson.loads(line) for line in blocks.content.split(b"\n") if line]
        [window] = {window_id for window_id, _ in lines}
        events = sorted((_decompressed(event) for _, event in lines), key=lambda event: event["timestamp"])
        types = [event["type"] for event in events]
        assert 2 in types and 4 in types and types.count(3) >= 3
        sources_seen = {event["data"]["source"] for event in events if event["type"] == 3}
        assert {0, 2, 5} <= sources_seen, sources_seen  # mutation, mouse interaction, input

        events_file = directory / "events.json"
        events_file.write_bytes(orjson.dumps(events))
        assert process.stdin is not None
        process.stdin.write(f"{events_file}\n")
        process.stdin.flush()
        replayed = _read_json_line(process)["replayed"]
        assert process.wait(timeout=30) == 0, process.stderr.read() if process.stderr else ""
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()

    assert window
    assert replayed["totalTime"] > 0
    assert replayed["heading"] == final["heading"] == "Thanks, Ada Lovelace!"
    assert replayed["value"] == final["value"]
    assert replayed["text"] == final["text"]
