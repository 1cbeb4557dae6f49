"""The console in Debian's headless Chromium (playwright-core, as tests/sdk_assets does): sign in with the
keyboard, see an event captured through /e/ appear on Activity within 2 s of the ingestion flush (the page
polls its fragment), toggle a flag and see /flags change, create a key on Settings. Screenshots of each page go
to CONSOLE_SCREENSHOTS_DIR (default: the test's tmp dir); their paths are printed."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from console.services import user_set_password
from flags.models import FeatureFlag
from ingestion.worker import flush
from tests.browser import NodeDialogue, needs_browser
from tests.console.conftest import PASSWORD

SCRIPT = Path(__file__).parent / "js" / "console_walk.mjs"

pytestmark = [
    pytest.mark.node,
    pytest.mark.clickhouse,
    pytest.mark.django_db(transaction=True),
    needs_browser("playwright-core"),
]
EVENT = "console browser event"


@pytest.mark.usefixtures("console_libraries")
def test_sign_in_activity_flags_settings_in_chromium(live_server: Any, project: Any, tmp_path: Path) -> None:
    user_set_password(user=project.user, password=PASSWORD)
    FeatureFlag.objects.create(team=project.team, key="new-checkout", filters={"groups": [{"rollout_percentage": 100}]})
    screenshots = Path(os.environ.get("CONSOLE_SCREENSHOTS_DIR") or tmp_path / "screenshots")
    screenshots.mkdir(parents=True, exist_ok=True)
    arguments = {"baseUrl": live_server.url, "email": project.user.email, "password": PASSWORD,
                 "projectId": project.team.pk, "flagKey": "new-checkout", "token": project.team.api_token,
                 "eventName": EVENT, "screenshots": str(screenshots)}  # fmt: skip
    browser = NodeDialogue(SCRIPT, arguments, tmp_path)
    try:
        assert browser.next_message() == {"step": "ready"}
        body = json.dumps({"api_key": project.team.api_token, "event": EVENT,
                           "properties": {"distinct_id": "browser-user", "plan": "pro"}}).encode()  # fmt: skip
        request = urllib.request.Request(f"{live_server.url}/e/", body, {"Content-Type": "application/json"})
        assert urllib.request.urlopen(request, timeout=10).status == 200
        assert flush() >= 1
        browser.say("flushed")
        done = browser.next_message()
    finally:
        if browser.finish() != 0:
            pytest.fail(browser.stderr())
    report = done["report"]
    for name, path in report["screenshots"].items():
        print(f"console screenshot {name}: {path}")
    assert report["loginUrl"].startswith(f"{live_server.url}/console/login/")
    assert report["eventSeenAfterMs"] <= 2000, report["eventSeenAfterMs"]
    assert "plan" in report["propertyShown"] and "pro" in report["propertyShown"]
    assert (report["valueBefore"], report["statusAfter"], report["valueAfter"]) == ("true", "Disabled", "false")
    assert report["flagsEndpointAfter"] is False
    assert report["newKeyShown"] is True
    assert [e for e in report["consoleErrors"] if "Content Security Policy" in e] == []
    assert all(Path(p).stat().st_size > 1000 for p in report["screenshots"].values())
    print(f"event appeared {report['eventSeenAfterMs']} ms after the flush")
