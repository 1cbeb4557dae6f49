"""A person identified through posthog-python (unmodified) is found by email through the persons API."""

from __future__ import annotations

from typing import Any

import pytest
from posthog import Posthog

from ingestion.worker import flush


@pytest.mark.clickhouse
def test_person_identified_by_python_sdk_is_found_by_email(live_server: Any, project: Any) -> None:

    client = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    client.capture("signed up", distinct_id="anon-42")
    client.alias(previous_id="anon-42", distinct_id="sdk-user-42")
    client.set(distinct_id="sdk-user-42", properties={"email": "sdk.user@example.com", "name": "SDK User"})
    client.flush()
    client.shutdown()
    flush()

    url = f"/api/projects/{project.team.pk}/persons/"
    found = project.client().get(url, {"search": "sdk.user@example.com"})
    assert found.status_code == 200
    results = found.json()["results"]
    assert len(results) == 1, results
    person = results[0]
    assert "sdk-user-42" in person["distinct_ids"]
    assert person["properties"]["email"] == "sdk.user@example.com"
    assert person["name"] == "sdk.user@example.com"
    by_name = project.client().get(url, {"search": "sdk user"}).json()["results"]
    assert [p["uuid"] for p in by_name] == [person["uuid"]]
    one = project.client().get(f"{url}{person['uuid']}/")
    assert one.status_code == 200
    assert one.json()["id"] == person["id"]
