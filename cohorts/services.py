"""Writes on cohorts: create, update (soft delete and restore included), static members (CSV, person ids,
add, remove, duplicate), and queueing calculations. Every change bumps the project's definitions version, so
cached query results naming a cohort are not served stale."""

from __future__ import annotations

import logging
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from rest_framework import exceptions, serializers

from cohorts import csv_import, members, static, tasks, worker
from cohorts.models import Cohort
from cohorts.properties import (
    UnknownCohortType,
    cohort_type_of,
    has_behavioral,
    properties_of,
    referenced_cohort_ids,
)
from cohorts.serializers import has_values
from persons.models import Person
from posthog_clone import definitions_version, registry
from posthog_clone.accounts.models import Team, User

logger = logging.getLogger(__name__)

ADD_LIMIT = 1000
_FIELDS = ("name", "description", "groups", "filters", "query", "is_static")
IN_USE = (
    "This cohort is used in {n} active feature flag(s): {names}. "
    "Please remove the cohort from these feature flags before deleting it."
)


def _invalid(message: str, *, code: str = "invalid") -> serializers.ValidationError:
    return serializers.ValidationError(serializers.ErrorDetail(message, code=code))


# ---------------------------------------------------------------------------------------------------
# checks


def _check_source(cohort: Cohort) -> None:
    if cohort.query and has_values(cohort.filters):
        raise _invalid("Cannot set both query and filters at the same time.")
    if cohort.query and not cohort.is_static:
        raise _invalid("Cannot create a dynamic cohort with a query. Set is_static to true.")


def _check_references(cohort: Cohort) -> None:
    """Every cohort the definition names exists in the project, and none leads back to this one."""
    team_cohorts = {c.pk: c for c in Cohort.objects.filter(team_id=cohort.team_id)}

    def walk(properties: Any, path: frozenset[int]) -> None:
        for ref in referenced_cohort_ids(properties):
            if ref in path:
                raise _invalid("Cohorts cannot reference other cohorts in a loop.")
            other = team_cohorts.get(ref)
            if other is None:
                raise _invalid("Invalid Cohort ID in filter")
            walk(properties_of(other), path | {ref})

    walk(properties_of(cohort), frozenset({cohort.pk}) if cohort.pk else frozenset())


def _users(cohort: Cohort, kind: str) -> list[str]:
    """Names of what uses this cohort (registry hooks of other apps, e.g. flags) of one user `kind`."""
    names: list[str] = []
    for lookup in registry.reference_users_of("cohort"):
        names += [name for user_kind, name in lookup(cohort.team_id, cohort.pk) if user_kind == kind]
    return names


def _check_deletable(cohort: Cohort) -> None:
    flags = _users(cohort, "feature_flag")
    if flags:
        raise _invalid(IN_USE.format(n=len(flags), names=", ".join(flags)))


def _check_flag_targets(cohort: Cohort) -> None:
    """Flags can only evaluate person properties: a cohort they target takes no event filters."""
    if cohort.is_static or not cohort.pk or not _users(cohort, "feature_flag"):
        return
    properties = properties_of(cohort)
    if has_behavioral(properties):
        raise _invalid(
            "Behavioral filters cannot be added to cohorts used in feature flags.", code="behavioral_cohort_found"
        )
    for ref in referenced_cohort_ids(properties):
        other = Cohort.objects.filter(pk=ref, team_id=cohort.team_id).first()
        if other is not None and not other.is_static and has_behavioral(properties_of(other)):
            raise _invalid(
                f"A cohort dependency ({other.name}) has filters based on events. "
                "These cohorts can't be used in feature flags.",
                code="behavioral_cohort_found",
            )


def _resolve_type(cohort: Cohort, requested: str | None) -> None:
    """`cohort_type` from the definition; a requested type must be that one."""
    try:
        actual: str | None = cohort_type_of(
            is_static=cohort.is_static, query=cohort.query, properties=properties_of(cohort), team_id=cohort.team_id
        )
    except UnknownCohortType as error:
        if requested:
            raise serializers.ValidationError({"cohort_type": [str(error)]}) from None
        actual = None
    if requested and requested != actual:
        message = f"Cohort type '{requested}' does not match the filters. Expected type: '{actual}'"
        raise serializers.ValidationError({"cohort_type": [message]})
    cohort.cohort_type = actual


# ---------------------------------------------------------------------------------------------------
# calculation queue


def _queue_calculation(cohort: Cohort) -> None:
    """After commit (a runner must see the row): Celery in scale mode, else the embedded worker's next poll."""

    def dispatch() -> None:
        if settings.CELERY_BROKER_URL:
            try:
                tasks.calculate_cohort.apply_async(args=[cohort.pk], queue=tasks.COHORTS_QUEUE)
            except Exception:  # the scheduler retries it later (a stuck flag is picked after 24 h)
                logger.exception("cohort calculation could not be queued", extra={"cohort": cohort.pk})
        else:
            worker.wake()

    transaction.on_commit(dispatch)


def _add_static(cohort: Cohort, *, person_ids: list[str] | None, csv_file: IO[bytes] | None) -> None:
    if person_ids:
        static.add_members(cohort, static.persons_by_uuid(cohort.team, person_ids))
    if csv_file is not None:
        kind, ids = csv_import.read_ids(csv_file)
        static.add_members(cohort, csv_import.resolve(cohort.team, kind, ids))
    _recount(cohort)


def _recount(cohort: Cohort) -> None:
    """A static cohort's `count`: its Postgres rows."""
    cohort.count = static.member_count(cohort)
    Cohort.objects.filter(pk=cohort.pk).update(count=cohort.count)


def _changed(team_id: int) -> None:
    """Once committed, cached query results naming this project's cohorts are stale."""
    transaction.on_commit(lambda: definitions_version.bump(team_id))


# ---------------------------------------------------------------------------------------------------
# create / update


def _apply(cohort: Cohort, data: dict[str, Any]) -> None:
    for field in _FIELDS:
        if field in data:
            setattr(cohort, field, data[field] if field != "groups" else list(data[field] or []))


@transaction.atomic
def cohort_create(*, team: Team, user: User | None, data: dict[str, Any], csv_file: IO[bytes] | None = None) -> Cohort:
    cohort = Cohort(team=team, created_by=user if user and user.is_authenticated else None)
    _apply(cohort, data)
    _check_source(cohort)
    _check_references(cohort)
    _resolve_type(cohort, data.get("cohort_type"))
    cohort.is_calculating = not cohort.is_static or bool(cohort.query)
    cohort.save()
    if cohort.is_static:
        _add_static(cohort, person_ids=data.get("_create_static_person_ids"), csv_file=csv_file)
    if cohort.is_calculating:
        _queue_calculation(cohort)
    _changed(team.pk)
    return cohort


@transaction.atomic
def cohort_update(*, cohort: Cohort, data: dict[str, Any], csv_file: IO[bytes] | None = None) -> Cohort:
    deleting = data.get("deleted") is True and not cohort.deleted
    if deleting:
        _check_deletable(cohort)
    _apply(cohort, data)
    cohort.deleted = data.get("deleted", cohort.deleted)
    if deleting:
        cohort.is_calculating = False  # a run in flight finds it deleted; nothing is queued for it
    _check_source(cohort)
    _check_references(cohort)
    _check_flag_targets(cohort)
    if any(field in data for field in ("filters", "groups", "query", "is_static", "cohort_type")):
        _resolve_type(cohort, data.get("cohort_type"))
    if not cohort.deleted:  # any edit recalculates a dynamic cohort; a static one only for a new query
        cohort.is_calculating = cohort.is_calculating or (
            not cohort.is_static or ("query" in data and bool(cohort.query))
        )
    cohort.save()
    if cohort.is_static and not cohort.deleted and csv_file is not None:
        _add_static(cohort, person_ids=None, csv_file=csv_file)
    if cohort.is_calculating and not cohort.deleted:
        _queue_calculation(cohort)
    _changed(cohort.team_id)
    return cohort


# ---------------------------------------------------------------------------------------------------
# static members


def add_persons(*, cohort: Cohort, person_ids: Any) -> None:
    if not cohort.is_static:
        raise _invalid("Can only add users to static cohorts")
    if not isinstance(person_ids, list):
        raise _invalid("person_ids must be a list")
    if not person_ids:
        raise _invalid("person_ids cannot be empty")
    if len(person_ids) > ADD_LIMIT:
        raise _invalid("List size exceeds limit")
    persons = static.persons_by_uuid(cohort.team, person_ids)
    if not persons:
        raise _invalid("No valid users to add to cohort")
    with transaction.atomic():
        static.add_members(cohort, persons)
        _recount(cohort)
    _changed(cohort.team_id)


def remove_person(*, cohort: Cohort, person_id: Any) -> None:
    if not cohort.is_static:
        raise _invalid("Can only remove users from static cohorts")
    if not person_id:
        raise _invalid("person_id is required")
    if not isinstance(person_id, str):
        raise _invalid("person_id must be a string")
    if not static.valid_uuids([person_id]):
        raise _invalid("person_id must be a valid UUID")
    person = Person.objects.filter(team_id=cohort.team_id, uuid=static.valid_uuids([person_id])[0]).first()
    if person is None:
        raise exceptions.NotFound("Person with this UUID does not exist in the cohort's team")
    if not static.is_member(cohort, person):
        raise exceptions.NotFound("Person is not part of the cohort")
    with transaction.atomic():
        static.remove_member(cohort, person)
        _recount(cohort)
    _changed(cohort.team_id)


@transaction.atomic
def duplicate_as_static(*, cohort: Cohort, user: User | None) -> Cohort:
    """A static copy holding the dynamic cohort's members of its current calculation."""
    if cohort.is_static:
        raise _invalid("Cannot duplicate a static cohort as a static cohort.")
    copy = Cohort.objects.create(
        team_id=cohort.team_id,
        name=f"{cohort.name} (static copy)",
        description=cohort.description,
        is_static=True,
        cohort_type="static",
        created_by=user if user and user.is_authenticated else None,
    )
    if cohort.version is not None:
        for ids in members.every(team_id=cohort.team_id, cohort_id=cohort.pk, version=cohort.version):
            static.add_members(copy, static.persons_by_uuid(cohort.team, ids))
    _recount(copy)
    _changed(cohort.team_id)
    return copy
