"""posthog-js (the npm bundle, unmodified) in Debian's headless Chromium, request batching on: its batched,
gzip-compressed posts to /e/ are answered 200 and every event is queued with its uuid and properties."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_DIR = ROOT / "tests" / "js" / "node_modules" / "posthog-js" / "dist"
SCRIPT = Path(__file__).parent / "js" / "browser_capture.mjs"
JS_PACKAGE_JSON = ROOT / "tests" / "js" / "package.json"

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
    """A static server on another origin (so CORS is exercised): the page and posthog-js's bundle."""
    shutil.copy(BUNDLE_DIR / "array.full.js", tmp_path / "array.full.js")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


def test_posthog_js_batched_events_are_queued(live_server: Any, queue, team, page_server) -> None:
    base_url, directory = page_server
    page = PAGE % {"token": json.dumps(team.api_token), "api_host": json.dumps(live_server.url)}
    (directory / "index.html").write_text(page)
    run = subprocess.run(
        ["node", str(SCRIPT), json.dumps({"pageUrl": f"{base_url}/index.html", "apiHost": live_server.url})],
        capture_output=True,
        text=True,
        timeout=90,
        env={"SDK_PACKAGE_JSON": str(JS_PACKAGE_JSON), "PATH": "/usr/bin:/bin", "HOME": str(directory)},
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
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
