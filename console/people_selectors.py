"""Reads of the People and Cohorts pages: persons and cohorts through their apps' selectors, a person's recent
events through the query layer's HogQL runner (bounded: a time window and a LIMIT)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cohorts.models import Cohort
from cohorts.selectors import live_cohorts, member_persons, person_cohorts
from console.selectors import EventRow, property_rows
from persons.models import Person
from persons.selectors import person_get, person_list
from posthog_clone.accounts.models import Team
from query.runner import hogql_execute

PEOPLE_PAGE = 50
COHORTS_PAGE = 100
MEMBERS_PAGE = 50
PERSON_EVENTS_LIMIT = 50
PERSON_EVENTS_DAYS = (1, 7, 30, 90, 365)
PERSON_EVENTS_DEFAULT_DAYS = 7  # the default view scans a week of the project's events (≤ 200 ms over 10M)
PERSON_EVENTS_DISTINCT_IDS = 100  # the events of a person's first 100 distinct ids


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    offset: int
    size: int
    has_next: bool

    @property
    def previous_offset(self) -> int | None:
        return max(self.offset - self.size, 0) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.size if self.has_next else None

    @property
    def first_number(self) -> int:
        return self.offset + 1

    @property
    def last_number(self) -> int:
        return self.offset + len(self.rows)


def _page(rows: list[Any], *, offset: int, size: int) -> Page:
    """`rows` is one more than a page when there is a next one (no COUNT over the whole table)."""
    return Page(rows=rows[:size], offset=offset, size=size, has_next=len(rows) > size)


def people_page(*, team: Team, search: str, offset: int) -> Page:
    """Newest persons first; `search` matches email, name or a distinct id (the persons list's `search`)."""
    persons = person_list(team=team, search=search or None)
    return _page(list(persons[offset : offset + PEOPLE_PAGE + 1]), offset=offset, size=PEOPLE_PAGE)


def person_find(*, team: Team, ident: str) -> Person | None:
    return person_get(team=team, ident=ident)


def person_properties(person: Person) -> list[tuple[str, str]]:
    return property_rows(person.properties)


def person_events(*, team: Team, person: Person, days: int) -> list[EventRow]:
    """The person's latest events (any of their distinct ids) of the last `days` days, newest first; without
    their properties, which open from the event's own page (as on Activity: see console.selectors)."""
    ids = sorted(d.distinct_id for d in person.distinct_ids.all())[:PERSON_EVENTS_DISTINCT_IDS]
    if not ids:
        return []
    query = (
        "SELECT toString(uuid), event, distinct_id, toString(timestamp) FROM events "
        "WHERE distinct_id IN {ids} AND timestamp >= now() - toIntervalDay({days}) "
        "AND timestamp <= now() + toIntervalSecond(5) "
        f"ORDER BY timestamp DESC LIMIT {PERSON_EVENTS_LIMIT}"
    )
    result = hogql_execute(team=team, query=query, values={"ids": ids, "days": days}, limit=PERSON_EVENTS_LIMIT)
    return [EventRow(uuid=row[0], event=row[1], distinct_id=row[2], timestamp=row[3]) for row in result.results]


def cohorts_of_person(*, team: Team, person: Person) -> list[Cohort]:
    return person_cohorts(team_id=team.pk, person=person)


def cohorts_page(*, team: Team, offset: int) -> Page:
    cohorts = live_cohorts(team_id=team.pk)
    return _page(list(cohorts[offset : offset + COHORTS_PAGE + 1]), offset=offset, size=COHORTS_PAGE)


def cohort_find(*, team: Team, cohort_id: int) -> Cohort | None:
    return live_cohorts(team_id=team.pk).filter(pk=cohort_id).first()


def cohort_members(*, cohort: Cohort, offset: int) -> Page:
    """A page of members as the cohort's persons endpoint lists them (in person id order)."""
    rows = member_persons(cohort, limit=MEMBERS_PAGE + 1, offset=offset)
    return _page(rows, offset=offset, size=MEMBERS_PAGE)
