"""Acceptance: posthog-js (the pinned release, unmodified, loaded from this server's /static/array.js, which
lazy-loads /static/surveys.js from here too) in Debian's headless Chromium shows a popover survey targeted at
the page from what this server serves, a scripted answer is submitted, and the stats endpoint
counts it; once the survey reaches its `responses_limit`, or passes its end date, it is no longer served or
shown."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ingestion.worker import flush
from tests.browser import needs_browser, run_node
from tests.query.conftest import run
from tests.sdk_assets.conftest import real_release  # noqa: F401  (the pinned posthog-js, installed)
from tests.surveys.conftest import create_survey, surveys_url

SCRIPT = Path(__file__).parent / "js" / "browser_survey.mjs"
ANSWER = "Faster dashboards, please"
SDK_URL = "%s/static/array.js"  # the snippet's file: surveys.js is then lazy-loaded from /static/ too

pytestmark = [needs_browser("playwright-core"), pytest.mark.clickhouse, pytest.mark.usefixtures("clickhouse_tables")]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script src="%(sdk_url)s"></script></head>
<body><h1>Pricing</h1>
<script>
posthog.init(%(token)s, {
  api_host: %(api_host)s,
  opt_out_useragent_filter: true,
  request_batching: false,
  autocapture: false,
  persistence: "memory",
  disable_session_recording: true,
});
</script></body></html>
"""


def _browse(live_server: Any, page_url: str, home: Path, survey_id: str, *, expect_survey: bool) -> dict[str, Any]:
    config = {
        "pageUrl": page_url,
        "apiHost": live_server.url,
        "surveyId": survey_id,
        "answer": ANSWER,
        "expectSurvey": expect_survey,
    }
    return run_node(SCRIPT, config, home, timeout=90)


@pytest.mark.usefixtures("real_release", "through_the_app")
def test_posthog_js_shows_the_survey_and_its_answer_is_counted(
    live_server: Any, project: Any, page_server: tuple[str, Path]
) -> None:
    base_url, directory = page_server
    token = project.team.api_token
    page = {"token": json.dumps(token), "api_host": json.dumps(live_server.url), "sdk_url": SDK_URL % live_server.url}
    (directory / "pricing.html").write_text(PAGE % page)
    page_url = f"{base_url}/pricing.html"
    elsewhere = create_survey(
        project,
        name="Elsewhere",
        start_date="2024-01-01T00:00:00Z",
        questions=[{"type": "open", "question": "Not here"}],
        conditions={"url": "/checkout", "urlMatchType": "icontains"},
    )
    create_survey(project, name="Ended", start_date="2024-01-01T00:00:00Z", end_date="2024-02-01T00:00:00Z")
    survey = create_survey(
        project,
        name="Pricing feedback",
        start_date="2024-01-01T00:00:00Z",
        questions=[{"type": "open", "question": "What would make you upgrade?"}],
        conditions={"url": "pricing", "urlMatchType": "icontains"},
        appearance={"position": "right", "displayThankYouMessage": False},
    )

    report = _browse(live_server, page_url, directory, survey["id"], expect_survey=True)
    assert report["failures"] == [], report
    assert report["shown"] and report["submitted"], report
    assert sorted(report["servedSurveys"]) == sorted([survey["id"], elsewhere["id"]])  # not the ended one
    assert any(r.startswith("GET /api/surveys/") for r in report["requests"]), report["requests"]
    for asset in ("array.js", "surveys.js"):  # the SDK and its surveys bundle (by versioned path first): from here
        served = [r for r in report["requests"] if re.match(rf"GET /static/([0-9.]+/)?{asset}\S* 200$", r)]
        assert served, (asset, report["requests"])
    flush()

    stats = project.client().get(f"{surveys_url(project)}{survey['id']}/stats/").json()
    assert stats["stats"]["survey shown"]["total_count"] == 1
    assert stats["stats"]["survey sent"]["total_count"] == 1
    assert stats["stats"]["survey sent"]["unique_persons"] == 1
    assert stats["rates"]["response_rate"] == 100.0
    question_id = survey["questions"][0]["id"]
    sent = run(project, "SELECT distinct_id, properties FROM events WHERE event = 'survey sent'").json()["results"]
    assert len(sent) == 1 and sent[0][0] == report["distinctId"], sent
    properties = json.loads(sent[0][1]) if isinstance(sent[0][1], str) else sent[0][1]
    assert properties[f"$survey_response_{question_id}"] == ANSWER
    assert properties["$survey_id"] == survey["id"]
    assert project.client().get(f"{surveys_url(project)}{elsewhere['id']}/stats/").json()["stats"] == {}

    # One response reaches a limit of 1: no longer served, and a new visitor's page shows nothing.
    patched = project.client().patch(f"{surveys_url(project)}{survey['id']}/", {"responses_limit": 1}, format="json")
    assert patched.status_code == 200
    again = _browse(live_server, page_url, directory, survey["id"], expect_survey=False)
    assert again["failures"] == [], again
    assert again["servedSurveys"] == [elsewhere["id"]]
    assert again["shown"] is False
