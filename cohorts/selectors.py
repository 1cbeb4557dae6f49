"""Reads of cohorts."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from cohorts import members
from cohorts.models import Cohort, CohortCalculation, CohortPeople
from cohorts.properties import has_behavioral, properties_of, referenced_cohort_ids
from persons.models import Person, PersonDistinctId


def cohort_for_query(team_id: int, ref: int | str) -> dict[str, Any] | list[dict[str, Any]] | None:
    """What a query naming a cohort needs: `{"id", "name", "is_static", "version"}` for an id (a live cohort
    of this project; None if there is none), or the list of live cohorts of that name for a name (the caller
    reports none or several). `version` is the calculation whose members `cohortpeople` readers take (None:
    never calculated, so no members)."""
    live = Cohort.objects.filter(team_id=team_id, deleted=False)
    if isinstance(ref, int):
        cohort = live.filter(pk=ref).first()
        return None if cohort is None else _for_query(cohort)
    return [_for_query(c) for c in live.filter(name=ref).order_by("id")]


def _for_query(cohort: Cohort) -> dict[str, Any]:
    return {"id": cohort.pk, "name": cohort.name, "is_static": cohort.is_static, "version": cohort.version}


def live_cohorts(
    *,
    team_id: int,
    kind: str | None = None,
    created_by_id: int | None = None,
    search: str | None = None,
    hide_behavioral: bool = False,
) -> QuerySet[Cohort]:
    """The list endpoint's cohorts: live ones of the project, newest first, narrowed as asked."""
    cohorts = Cohort.objects.filter(team_id=team_id, deleted=False).select_related("created_by")
    if kind in ("static", "dynamic"):
        cohorts = cohorts.filter(is_static=kind == "static")
    if created_by_id is not None:
        cohorts = cohorts.filter(created_by_id=created_by_id)
    if search:
        cohorts = cohorts.filter(name__icontains=search)
    if hide_behavioral:
        cohorts = cohorts.exclude(pk__in=behavioral_cohort_ids(team_id))
    return cohorts.order_by("-created_at", "-id")


def behavioral_cohort_ids(team_id: int) -> set[int]:
    """Dynamic cohorts with an event (behavioral) filter, themselves or through a dynamic cohort they use:
    the ones feature flags cannot target. A static cohort's own filters never count (its members are listed)."""
    dynamic = {c.pk: c for c in Cohort.objects.filter(team_id=team_id, deleted=False, is_static=False)}
    verdict: dict[int, bool] = {}

    def behavioral(cohort_id: int, path: frozenset[int]) -> bool:
        if cohort_id not in verdict:
            cohort = dynamic.get(cohort_id)
            if cohort is None or cohort_id in path:
                return False
            tree = properties_of(cohort)
            verdict[cohort_id] = has_behavioral(tree) or any(
                behavioral(ref, path | {cohort_id}) for ref in referenced_cohort_ids(tree)
            )
        return verdict[cohort_id]

    return {cohort_id for cohort_id in dynamic if behavioral(cohort_id, frozenset())}


def member_persons(cohort: Cohort, *, limit: int, offset: int) -> list[dict[str, Any]]:
    """A page of the cohort's members as PostHog's person objects: a static cohort's listed persons, a dynamic
    cohort's persons at its current calculation (none before the first), in person id order."""
    if cohort.is_static:
        ids = list(
            CohortPeople.objects.filter(cohort=cohort)
            .order_by("person__uuid")
            .values_list("person__uuid", flat=True)[offset : offset + limit]
        )
        ids = [str(i) for i in ids]
    elif cohort.version is None:
        ids = []
    else:
        ids = members.page(
            team_id=cohort.team_id, cohort_id=cohort.pk, version=cohort.version, limit=limit, offset=offset
        )
    persons = {
        str(p.uuid): p
        for p in Person.objects.filter(team_id=cohort.team_id, uuid__in=ids).prefetch_related(
            Prefetch("distinct_ids", queryset=PersonDistinctId.objects.order_by("id"))
        )
    }
    return [_person_object(persons[i]) for i in ids if i in persons]


def _person_object(person: Person) -> dict[str, Any]:
    distinct_ids = [d.distinct_id for d in person.distinct_ids.all()]  # oldest first
    props = person.properties if isinstance(person.properties, dict) else {}
    name = next((props[k] for k in ("email", "name", "username") if isinstance(props.get(k), str) and props[k]), None)
    return {
        "id": str(person.uuid),
        "uuid": str(person.uuid),
        "type": "person",
        "name": name or (distinct_ids[0] if distinct_ids else str(person.uuid)),
        "distinct_ids": distinct_ids,
        "properties": props,
        "created_at": person.created_at,
        "last_seen_at": None,
        "is_identified": person.is_identified,
        "matched_recordings": [],
        "value_at_data_point": None,
    }


def person_cohorts(*, team_id: int, person: Person) -> list[Cohort]:
    """The live cohorts the person belongs to, by name: static ones listing them, dynamic ones whose current
    calculation holds them."""
    live = Cohort.objects.filter(team_id=team_id, deleted=False)
    ids = set(CohortPeople.objects.filter(person=person, cohort__in=live.filter(is_static=True)).values_list(
        "cohort_id", flat=True))  # fmt: skip
    versions = dict(live.filter(is_static=False, version__isnull=False).values_list("id", "version"))
    ids |= members.cohorts_of(team_id=team_id, person_id=str(person.uuid), versions=versions)
    return list(live.filter(pk__in=ids).order_by("name", "id")) if ids else []


def calculation_history(cohort: Cohort) -> QuerySet[CohortCalculation]:
    return CohortCalculation.objects.filter(cohort=cohort).order_by("-started_at", "-id")
