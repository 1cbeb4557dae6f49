"""Members of static cohorts, written twice: Postgres `CohortPeople` (flags read it; `count` is its rows) and
ClickHouse `person_static_cohort` (queries read it; the newest row of a person says in or out). Both writes
happen in one database transaction, ClickHouse first: if ClickHouse refuses, nothing is kept."""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from collections.abc import Iterable, Iterator

import orjson
from django.db import transaction

from cohorts.models import Cohort, CohortPeople
from persons.models import Person, PersonDistinctId
from posthog_clone.accounts.models import Team
from posthog_clone.clickhouse import get_client, table

BATCH = 1000  # persons per read and per write (PostHog's batch size)


def valid_uuids(values: Iterable[object]) -> list[str]:
    """The values that are UUIDs, canonical, in order, without repeats (anything else is ignored)."""
    seen: dict[str, None] = {}
    for value in values:
        try:
            seen.setdefault(str(uuidlib.UUID(str(value).strip())), None)
        except ValueError:
            continue
    return list(seen)


def _chunks(items: list, size: int = BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def persons_by_uuid(team: Team, uuids: Iterable[object]) -> list[tuple[int, str]]:
    """(pk, uuid) of this project's persons among `uuids`; other projects' and unknown ones drop out."""
    found: list[tuple[int, str]] = []
    for chunk in _chunks(valid_uuids(uuids)):
        found += [(pk, str(u)) for pk, u in Person.objects.filter(team=team, uuid__in=chunk).values_list("pk", "uuid")]
    return found


def persons_by_distinct_id(team: Team, distinct_ids: Iterable[str]) -> list[tuple[int, str]]:
    found: dict[int, str] = {}
    for chunk in _chunks(list(dict.fromkeys(distinct_ids))):
        rows = PersonDistinctId.objects.filter(team=team, distinct_id__in=chunk).values_list(
            "person_id", "person__uuid"
        )
        found.update((pk, str(u)) for pk, u in rows)
    return list(found.items())


def persons_by_email(team: Team, emails: Iterable[str]) -> list[tuple[int, str]]:
    """Persons whose `email` property equals one of `emails` exactly (as PostHog's lookup)."""
    found: dict[int, str] = {}
    for chunk in _chunks(list(dict.fromkeys(emails))):
        rows = Person.objects.filter(team=team, properties__email__in=chunk).values_list("pk", "uuid")
        found.update((pk, str(u)) for pk, u in rows)
    return list(found.items())


def _clickhouse_rows(cohort: Cohort, person_uuids: list[str], *, deleted: bool) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    body = b"\n".join(
        orjson.dumps(
            {
                "team_id": cohort.team_id,
                "cohort_id": cohort.pk,
                "person_id": person_uuid,
                "is_deleted": int(deleted),
                "_timestamp": stamp,
            }
        )
        for person_uuid in person_uuids
    )
    if body:
        get_client().insert_json_rows(table("person_static_cohort"), body)


def add_members(cohort: Cohort, persons: Iterable[tuple[int, str]]) -> int:
    """Add persons (pk, uuid) not yet members; the number added."""
    added = 0
    for chunk in _chunks(list(dict(persons).items())):
        existing = set(
            CohortPeople.objects.filter(cohort=cohort, person_id__in=[pk for pk, _ in chunk]).values_list(
                "person_id", flat=True
            )
        )
        new = [(pk, u) for pk, u in chunk if pk not in existing]
        if not new:
            continue
        with transaction.atomic():
            _clickhouse_rows(cohort, [u for _, u in new], deleted=False)
            CohortPeople.objects.bulk_create(
                [CohortPeople(cohort=cohort, person_id=pk, version=cohort.version) for pk, _ in new],
                ignore_conflicts=True,
            )
        added += len(new)
    return added


def is_member(cohort: Cohort, person: Person) -> bool:
    return CohortPeople.objects.filter(cohort=cohort, person=person).exists()


def remove_member(cohort: Cohort, person: Person) -> None:
    with transaction.atomic():
        _clickhouse_rows(cohort, [str(person.uuid)], deleted=True)
        CohortPeople.objects.filter(cohort=cohort, person=person).delete()


def member_count(cohort: Cohort) -> int:
    return CohortPeople.objects.filter(cohort=cohort).count()
