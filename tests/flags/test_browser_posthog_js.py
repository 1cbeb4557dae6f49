"""posthog-js (the npm bundle, unmodified) in Debian's headless Chromium: it loads its remote config,
evaluates flags to the server's values, its events reach the queue, and it never sees a 4xx/5xx from us."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flags.evaluation import in_rollout
from flags.models import FeatureFlag
from tests.browser import run_node, website
from tests.queues import QueueProbe

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_DIR = ROOT / "tests" / "js" / "node_modules" / "posthog-js" / "dist"
SCRIPT = Path(__file__).parent / "js" / "browser_flags.mjs"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not Path("/usr/bin/chromium").exists() or not BUNDLE_DIR.exists(),
    reason="node, /usr/bin/chromium or posthog-js is missing",
)

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script src="/array.full.js"></script></head>
<body><p>posthog-js test page</p>
<script>
window.__flagsLoaded = false;
posthog.init(%(token)s, {
  api_host: %(api_host)s,
  opt_out_useragent_filter: true,
  request_batching: false,
  autocapture: false,
  persistence: "memory",
  disable_session_recording: true,
  loaded: function (ph) { ph.onFeatureFlags(function () { window.__flagsLoaded = true; }); },
});
</script></body></html>
"""


@pytest.fixture
def page_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The website on another origin (tests/browser), with posthog-js's bundle from node_modules beside the page."""
    shutil.copy(BUNDLE_DIR / "array.full.js", tmp_path / "array.full.js")
    with website(tmp_path) as url:
        yield url, tmp_path


def test_posthog_js_in_chromium(live_server: Any, project: Any, page_server: tuple[str, Path]) -> None:
    base_url, directory = page_server
    token = project.team.api_token
    FeatureFlag.objects.create(team=project.team, key="js-on", filters={"groups": [{"rollout_percentage": 100}]})
    FeatureFlag.objects.create(team=project.team, key="js-off", filters={"groups": [{"rollout_percentage": 0}]})
    FeatureFlag.objects.create(team=project.team, key="js-half", filters={"groups": [{"rollout_percentage": 50}]})
    FeatureFlag.objects.create(
        team=project.team,
        key="js-mv",
        filters={"groups": [{}], "multivariate": {"variants": [{"key": "blue", "rollout_percentage": 100}]}},
    )
    (directory / "index.html").write_text(PAGE % {"token": json.dumps(token), "api_host": json.dumps(live_server.url)})
    config = {"pageUrl": f"{base_url}/index.html", "apiHost": live_server.url, "token": token}
    config["flags"] = ["js-on", "js-off", "js-half", "js-mv"]
    report = run_node(SCRIPT, config, directory, timeout=90)

    assert report["failures"] == [], report
    paths = [r.split(" ")[1].split("?")[0] for r in report["requests"]]
    assert f"/array/{token}/config.js" in paths, report["requests"]
    assert any(p.startswith("/flags") for p in paths), report["requests"]
    assert report["remoteConfig"]["config"]["supportedCompression"] == ["gzip", "gzip-js"]
    assert report["remoteConfig"]["config"]["hasFeatureFlags"] is True

    distinct_id = report["distinctId"]
    answers = report["answers"]
    assert answers["js-on"] == {"enabled": True, "value": True}
    assert answers["js-off"] == {"enabled": False, "value": False}
    half = in_rollout("js-half", distinct_id, 50)
    assert answers["js-half"] == {"enabled": half, "value": half}
    assert answers["js-mv"] == {"enabled": True, "value": "blue"}

    events = [e for e in QueueProbe().all_events() if e.token == token]
    names = {e.event for e in events}
    assert "browser test event" in names, names
    assert "$pageview" in names, names
    custom = next(e for e in events if e.event == "browser test event")
    assert custom.distinct_id == distinct_id
    assert custom.team_id == project.team.pk
    assert json.loads(custom.data)["properties"]["source"] == "chromium"
