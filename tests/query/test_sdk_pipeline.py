"""Acceptance 2 end to end: events sent by posthog-python (unmodified) through capture and the ingestion
worker are counted by the seed query, and `person.properties.email` / `persons` work after identify.
Skips until capture (/batch/) and `ingestion.worker.flush` exist (other issues)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import Resolver404, resolve
from posthog import Posthog
from posthog import request as posthog_request

from tests.query.conftest import run

SEED = (
    "SELECT event, count() FROM events WHERE timestamp >= now() - INTERVAL 7 DAY "
    "GROUP BY event ORDER BY count() DESC LIMIT 20"
)


def _pipeline_ready() -> bool:
    try:
        resolve("/batch/")
        from ingestion.worker import flush  # noqa: F401
    except (Resolver404, ImportError):
        return False
    return True


@pytest.fixture(autouse=True)
def _close_sdk_connections() -> Iterator[None]:
    yield
    posthog_request._get_session().close()


@pytest.mark.clickhouse
def test_events_captured_by_the_python_sdk_are_queryable(live_server: Any, project: Any, other_project: Any) -> None:
    if not _pipeline_ready():
        pytest.skip("capture (/batch/) or ingestion.worker.flush is not there yet")
    from ingestion.worker import flush

    sdk = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    for _ in range(3):
        sdk.capture("$pageview", distinct_id="anon-7", properties={"$browser": "Firefox"})
    sdk.capture("signed up", distinct_id="anon-7")
    sdk.alias(previous_id="anon-7", distinct_id="user-7")
    sdk.set(distinct_id="user-7", properties={"email": "seven@example.com"})
    sdk.flush()
    sdk.shutdown()
    theirs = Posthog(other_project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    theirs.capture("$pageview", distinct_id="anon-7")
    theirs.shutdown()
    flush()

    counts = {row[0]: row[1] for row in run(project, SEED).json()["results"]}
    assert counts["$pageview"] == 3 and counts["signed up"] == 1
    emails = run(project, "SELECT DISTINCT person.properties.email FROM events WHERE event = 'signed up'").json()
    assert emails["results"] == [["seven@example.com"]]
    persons = run(project, "SELECT properties.email FROM persons").json()
    assert persons["results"] == [["seven@example.com"]]
