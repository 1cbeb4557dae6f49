"""The periodic stop (replay_surveys_experiments.md §2.5, PostHog's `stop_surveys_reached_target`): a running
survey whose deduplicated `survey sent` count reached its `responses_limit` stops and its flags go inactive."""

from __future__ import annotations

from typing import Any

import pytest

from flags.models import FeatureFlag
from surveys.models import Survey
from surveys.services import surveys_stop_reached_target
from surveys.tasks import stop_surveys_reached_target
from tests.query.conftest import insert_events
from tests.surveys.conftest import create_survey

pytestmark = [pytest.mark.clickhouse, pytest.mark.usefixtures("clickhouse_tables")]
STARTED = "2024-01-01T00:00:00Z"


def _sent(survey_id: str, submission: str) -> dict[str, Any]:
    properties = {"$survey_id": survey_id, "$survey_submission_id": submission}
    return {"event": "survey sent", "distinct_id": f"u-{submission}", "properties": properties}


def test_surveys_at_their_limit_stop(project: Any, other_project: Any) -> None:
    full = create_survey(project, name="Full", start_date=STARTED, responses_limit=2)
    partial = create_survey(project, name="Partial", start_date=STARTED, responses_limit=3)
    theirs = create_survey(other_project, name="Theirs", start_date=STARTED, responses_limit=1)
    insert_events(project.team.pk, [_sent(full["id"], "a"), _sent(full["id"], "a"), _sent(full["id"], "b")])
    insert_events(project.team.pk, [_sent(partial["id"], "c"), _sent(theirs["id"], "d")])  # not their project

    assert surveys_stop_reached_target() == [full["id"]]  # the body of the Celery task and the embedded loop

    stopped = Survey.objects.get(pk=full["id"])
    assert stopped.end_date is not None and stopped.responses_limit is None
    assert FeatureFlag.objects.get(pk=full["internal_targeting_flag"]["id"]).active is False
    still = Survey.objects.get(pk=partial["id"])
    assert still.end_date is None and still.responses_limit == 3
    assert FeatureFlag.objects.get(pk=partial["internal_targeting_flag"]["id"]).active is True
    assert Survey.objects.get(pk=theirs["id"]).end_date is None
    assert surveys_stop_reached_target() == []  # stopped surveys are not looked at again


def test_the_stop_runs_every_minute_in_both_modes(settings: Any) -> None:
    from posthog_clone import registry

    entry = settings.CELERY_BEAT_SCHEDULE["surveys-stop-reached-target"]
    assert entry["task"] == stop_surveys_reached_target.name and entry["schedule"] == 60.0
    assert entry["options"]["queue"] == "surveys"
    settings.CELERY_BROKER_URL = ""
    assert registry.BACKGROUND_WORKERS["surveys"].enabled()  # the embedded default runs it in-process
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert not registry.BACKGROUND_WORKERS["surveys"].enabled()
