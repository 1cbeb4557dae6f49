"""Persons made the real way: posthog-python sends `$identify`/`$set` through capture, the ingestion worker
writes them (Postgres and ClickHouse), and a dynamic cohort over their properties, a static CSV cohort of
their distinct ids and the persons endpoint all see them; another project's same-named persons never do."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from posthog import Posthog

from ingestion.worker import flush
from tests.cohorts.conftest import calculate_waiting, create, filters, member_ids, prop, url

pytestmark = pytest.mark.clickhouse


def test_cohorts_of_captured_persons(live_server: Any, project: Any, other_project: Any) -> None:
    sdk = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    sdk.capture("$pageview", distinct_id="anon-1")
    sdk.alias(previous_id="anon-1", distinct_id="ann")
    sdk.set(distinct_id="ann", properties={"email": "ann@acme.com", "plan": "pro"})
    sdk.set(distinct_id="bob", properties={"email": "bob@acme.com", "plan": "free"})
    sdk.set(distinct_id="cat", properties={"plan": "pro"})
    sdk.set(distinct_id="cat", properties={"plan": "enterprise"})  # the newest value wins
    sdk.shutdown()
    theirs = Posthog(other_project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    theirs.set(distinct_id="ann", properties={"email": "ann@acme.com", "plan": "pro"})
    theirs.shutdown()
    flush()

    everyone = project.client().get(f"/api/projects/{project.team.pk}/persons/").json()["results"]
    by_id = {d: p["uuid"] for p in everyone for d in p["distinct_ids"]}
    assert set(by_id) == {"anon-1", "ann", "bob", "cat"} and by_id["anon-1"] == by_id["ann"]

    pro = create(project, {"name": "Pro", "filters": filters(prop("plan", "pro"))})
    acme = create(project, {"name": "Acme", "filters": filters(prop("email", "acme.com", "icontains"))})
    calculate_waiting()
    assert member_ids(project, pro["id"]) == {by_id["ann"]}
    assert member_ids(project, acme["id"]) == {by_id["ann"], by_id["bob"]}
    persons = project.client().get(url(project, f"{acme['id']}/persons/")).json()["results"]
    ann = next(p for p in persons if p["id"] == by_id["ann"])
    assert sorted(ann["distinct_ids"]) == ["ann", "anon-1"] and ann["name"] == "ann@acme.com"

    upload = SimpleUploadedFile("people.csv", b"distinct_id,note\nanon-1,x\ncat,y\nnobody,z\n")
    static = (
        project.client()
        .post(url(project), {"name": "Imported", "is_static": "true", "csv": upload}, format="multipart")
        .json()
    )
    assert static["count"] == 2
    assert member_ids(project, static["id"]) == {by_id["ann"], by_id["cat"]}
