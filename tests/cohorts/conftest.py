"""Helpers for cohort tests: persons written to Postgres and mirrored to ClickHouse (as ingestion leaves
them), cohort URLs, creating cohorts through the API, and running the calculations that are waiting."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from cohorts import worker
from cohorts.models import Cohort
from cohorts.tasks import COHORTS_QUEUE
from persons.models import Person, PersonDistinctId
from posthog_clone import registry
from posthog_clone.clickhouse import get_client, table
from tests.queues import broker_purge, celery_worker


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()  # definitions versions and query results are cached per project id, which tests reuse
    yield
    cache.clear()


def make_person(team: Any, distinct_ids: list[str], properties: dict[str, Any], *, mirror: bool = True) -> Person:
    """A person in Postgres and (``mirror``) in ClickHouse's person tables."""
    created = timezone.now() - dt.timedelta(days=1)
    person = Person.objects.create(team=team, properties=properties, created_at=created, is_identified=True)
    for distinct_id in distinct_ids:
        PersonDistinctId.objects.create(team=team, person=person, distinct_id=distinct_id)
    if mirror:
        row = {
            "id": str(person.uuid),
            "created_at": created.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            "team_id": team.pk,
            "properties": json.dumps(properties),
            "is_identified": 1,
            "is_deleted": 0,
            "version": 0,
        }
        get_client().insert_json_rows(table("person"), json.dumps(row).encode())
        pdis = [
            {"team_id": team.pk, "distinct_id": d, "person_id": str(person.uuid), "is_deleted": 0, "version": 0}
            for d in distinct_ids
        ]
        body = "\n".join(json.dumps(p) for p in pdis).encode()
        if body:
            get_client().insert_json_rows(table("person_distinct_id2"), body)
    return person


def set_properties(person: Person, properties: dict[str, Any]) -> None:
    """Change a person's properties in both stores (a newer ClickHouse version, as ingestion writes)."""
    person.properties, person.version = properties, person.version + 1
    person.save()
    row = {
        "id": str(person.uuid),
        "created_at": person.created_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        "team_id": person.team_id,
        "properties": json.dumps(properties),
        "is_identified": 1,
        "is_deleted": 0,
        "version": person.version,
    }
    get_client().insert_json_rows(table("person"), json.dumps(row).encode())


def url(project: Any, suffix: str = "", *, base: str = "projects") -> str:
    return f"/api/{base}/{project.team.pk}/cohorts/{suffix}"


def create(project: Any, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = project.client().post(url(project), body, format=kwargs.pop("format", "json"), **kwargs)
    assert response.status_code == 201, response.content
    return response.json()


def prop(key: str, value: Any, operator: str = "exact", **extra: Any) -> dict[str, Any]:
    return {"type": "person", "key": key, "value": value, "operator": operator, **extra}


def filters(*props: dict[str, Any]) -> dict[str, Any]:
    """`filters` of an OR of one AND group holding ``props``."""
    return {"properties": {"type": "OR", "values": [{"type": "AND", "values": list(props)}]}}


def calculate_waiting(timeout: float = 30) -> int:
    """Run every calculation waiting now, in this thread (the embedded worker's job); how many this thread ran.

    Returns only when no run is in flight anywhere. In scale mode a create or an edit also queues the Celery
    task once its transaction commits (tests with a live server or `transaction=True`), and the session's
    Celery worker, once an earlier test started it, may claim that run first; this thread then skips the
    cohort (its run is in flight) and waits here for the worker's run to end."""
    ran = worker.run_pending()
    deadline = time.monotonic() + timeout
    while worker.runs_in_flight().exists():
        assert time.monotonic() < deadline, "a calculation in flight did not end"
        time.sleep(0.05)
        ran += worker.run_pending()  # an edit during that run left its cohort waiting
    return ran


def run_in_background(runs: int = 1, timeout: float = 30) -> None:
    """Let the runner of the settings' mode calculate what is waiting, in the background, and wait for it.

    Embedded default: the cohort worker as the server runs it (registered by the app, started through the
    registry) until its pool has finished ``runs`` calculations; the test thread stays off the database
    meanwhile (the SQLite test database is in memory, where two connections writing at once fail). Scale
    mode: a real Celery worker (the process's Celery test worker, `tests.queues.celery_worker`) consuming the
    `cohorts` queue until no cohort is calculating."""
    if settings.CELERY_BROKER_URL:
        _run_on_celery(timeout)
        return
    background = registry.BACKGROUND_WORKERS["cohorts"]
    assert background.enabled()
    target = worker.finished() + runs
    background.start()
    try:
        deadline = time.monotonic() + timeout
        while worker.finished() < target:
            assert time.monotonic() < deadline, "the background worker did not calculate"
            time.sleep(0.05)
    finally:
        background.stop(10)


def _run_on_celery(timeout: float) -> None:
    assert not registry.BACKGROUND_WORKERS["cohorts"].enabled()  # scale mode runs no embedded worker
    # the Celery worker runs already: `_cohorts_worker` started it with the session's first cohort test
    deadline = time.monotonic() + timeout
    while Cohort.objects.filter(is_calculating=True).exists():
        assert time.monotonic() < deadline, "the Celery worker did not calculate"
        time.sleep(0.05)


@pytest.fixture(scope="session", autouse=True)
def _cohorts_worker(django_db_setup: None) -> None:
    """Scale mode: the process's Celery test worker consumes the `cohorts` queue from the first cohort test on.
    Started later, by the first `run_in_background`, its start-up purge would drop the task that test's create
    had just queued, and the run would never come."""
    if settings.CELERY_BROKER_URL:
        celery_worker()


@pytest.fixture(autouse=True)
def _empty_cohorts_queue() -> None:
    """Scale mode: no test's queued calculations reach another's worker."""
    if settings.CELERY_BROKER_URL:
        broker_purge(COHORTS_QUEUE)


def member_ids(project: Any, cohort_id: int) -> set[str]:
    response = project.client().get(url(project, f"{cohort_id}/persons/"), {"limit": 1000})
    assert response.status_code == 200, response.content
    return {p["id"] for p in response.json()["results"]}
