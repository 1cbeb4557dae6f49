"""posthog-js (the npm bundle, unmodified) in Debian's headless Chromium, request batching on: its batched,
gzip-compressed posts to /e/ are answered 200 and every event is queued with its uuid and properties."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.browser import run_node, website

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_DIR = ROOT / "tests" / "js" / "node_modules" / "posthog-js" / "dist"
SCRIPT = Path(__file__).parent / "js" / "browser_capture.mjs"

pytestmark = [
    pytest.mark.node,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        shutil.which("node") is None or not Path("/usr/bin/chromium").exists() or not BUNDLE_DIR.exists(),
        reason="node, /usr/bin/chromium or posthog-js is missing",
    ),
]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script src="/array.full.js"></script></head>
<body><script>
posthog.init(%(token)s, {
  api_host: %(api_host)s,
  opt_out_useragent_filter: true,
  autocapture: false,
  capture_pageview: false,
  persistence: "memory",
  disable_session_recording: true,
  request_queue_config: { flush_interval_ms: 250 },
  loaded: function () { window.__loaded = true; },
});
</script></body></html>
"""


@pytest.fixture
def page_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The website on another origin (tests/browser), with posthog-js's bundle from node_modules beside the page."""
    shutil.copy(BUNDLE_DIR / "array.full.js", tmp_path / "array.full.js")
    with website(tmp_path) as url:
        yield url, tmp_path


def test_posthog_js_batched_events_are_queued(live_server: Any, queue, team, page_server) -> None:
    base_url, directory = page_server
    page = PAGE % {"token": json.dumps(team.api_token), "api_host": json.dumps(live_server.url)}
    (directory / "index.html").write_text(page)
    report = run_node(SCRIPT, {"pageUrl": f"{base_url}/index.html", "apiHost": live_server.url}, directory, timeout=90)
    assert report["failures"] == [], report

    capture_posts = [r for r in report["requests"] if r["method"] == "POST" and r["path"].startswith("/e/")]
    assert capture_posts, report["requests"]
    queued = {e.uuid: e for e in queue.all_events()}
    for i, sent in enumerate(report["sent"]):
        envelope = queued[sent["uuid"]]
        data = orjson.loads(envelope.data)
        assert (envelope.event, envelope.team_id) == ("js event", team.pk)
        assert data["properties"]["i"] == i
        assert data["properties"]["nested"] == {"list": [1, "two"]}
        assert data["properties"]["$lib"] == "web"
        # the browser's clock is this machine's: the resolved time is the capture time (offset-based)
        delta = datetime.fromisoformat(envelope.timestamp) - datetime.fromisoformat(sent["timestamp"])
        assert abs(delta.total_seconds()) < 2
    identify = [e for e in queued.values() if e.event == "$identify"]
    assert [e.distinct_id for e in identify] == ["js-user"]
    assert orjson.loads(identify[0].data)["$set"] == {"email": "js@example.com"}
