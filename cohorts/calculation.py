"""One calculation of a cohort, wherever it runs (the embedded worker thread or a Celery task).

Dynamic cohort: claim the next version (`pending_version + 1`, compare-and-set, so two runners never take the
same one), compile `cohorts.filters.members_select` for the team, `INSERT … SELECT` the members into
ClickHouse `cohortpeople` at that version, count them; then `version`, `count`, `last_calculation`,
`errors_calculating = 0` (the version only if still newer than the one readers use). A failure adds one to
`errors_calculating` and sets `last_error_at`. Static cohort made from a `query`: run the query and add its
persons as members (`cohorts.query_source`). Each run is a `CohortCalculation` row.

`is_calculating` goes back to false only when nothing happened to the cohort since the run read it (no newer
run claimed, no edit saved): an edit during a run leaves it set, so the next run (the worker's next poll,
or the Celery task the edit queued) calculates the new definition.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cohorts import members, query_source
from cohorts.filters import members_select
from cohorts.models import Cohort, CohortCalculation
from cohorts.properties import filters_of
from posthog_clone import definitions_version
from query.exceptions import ExposedHogQLError
from query.runner import hogql_compile_select

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    cohort: Cohort  # as read right after the claim: the definition this run calculates
    run: CohortCalculation


def _claim(cohort_id: int, trigger: str) -> Claim | None:
    """Take the next version of the cohort, or None when there is nothing to do or another runner took it."""
    with transaction.atomic():
        current = Cohort.objects.filter(pk=cohort_id).values("pending_version", "version").first()
        if current is None:
            return None
        seen = current["pending_version"]
        version = max(seen or 0, current["version"] or 0) + 1
        same = Q(pending_version__isnull=True) if seen is None else Q(pending_version=seen)
        if not Cohort.objects.filter(same, pk=cohort_id).update(pending_version=version):
            return None
        cohort = Cohort.objects.select_related("team").get(pk=cohort_id)
        run = CohortCalculation.objects.create(
            cohort=cohort,
            version=version,
            trigger=trigger,
            filters=filters_of(cohort) if not cohort.is_static else None,
        )
    return Claim(cohort, run)


def _settle(claim: Claim, **fields: object) -> None:
    """Write the run's outcome; clear `is_calculating` unless a newer run or an edit came since the claim."""
    cohort, version = claim.cohort, claim.run.version
    with transaction.atomic():
        Cohort.objects.filter(pk=cohort.pk).update(**fields)
        Cohort.objects.filter(pk=cohort.pk, pending_version=version, updated_at=cohort.updated_at).update(
            is_calculating=False
        )
    transaction.on_commit(lambda: definitions_version.bump(cohort.team_id))  # query caches see the new members


def _members(claim: Claim) -> tuple[int, str]:
    """Fill the cohort's members for this run's version; (count, the HogQL that chose them)."""
    cohort, version = claim.cohort, claim.run.version
    if cohort.is_static:
        return query_source.fill_static(cohort), ""
    hogql = members_select(cohort.team, cohort)  # legacy `groups` are converted there
    compiled = hogql_compile_select(team=cohort.team, query=hogql)
    members.insert_members(team_id=cohort.team_id, cohort_id=cohort.pk, version=version, members=compiled)
    return members.count(team_id=cohort.team_id, cohort_id=cohort.pk, version=version), hogql


def _fail(claim: Claim, error: Exception) -> None:
    run = claim.run
    logger.warning(
        "cohort calculation failed",
        extra={"cohort": claim.cohort.pk, "version": run.version, "error": str(error)},
        exc_info=not isinstance(error, ExposedHogQLError),  # a bad definition needs no traceback
    )
    now = timezone.now()
    run.error, run.finished_at = str(error) or type(error).__name__, now
    run.save(update_fields=["error", "finished_at"])
    _settle(claim, errors_calculating=F("errors_calculating") + 1, last_error_at=now, last_error=run.error)


def _succeed(claim: Claim, *, count: int, hogql: str) -> None:
    """Record the run; its version becomes the one readers use unless a newer run got there first."""
    run, now = claim.run, timezone.now()
    run.count, run.finished_at, run.query = count, now, hogql
    run.save(update_fields=["count", "finished_at", "query"])
    newer = Q(version__lt=run.version) | Q(version__isnull=True)
    with transaction.atomic():
        Cohort.objects.filter(newer, pk=claim.cohort.pk).update(version=run.version, count=count)
        _settle(claim, last_calculation=now, errors_calculating=0, last_error_at=None, last_error=None)
    logger.info(
        "cohort calculated",
        extra={"cohort": claim.cohort.pk, "version": run.version, "count": count, "seconds": run.duration_seconds},
    )


def calculate(cohort_id: int, *, trigger: str = "edit") -> CohortCalculation | None:
    """Run one calculation of the cohort now, in this thread; its history row (None: nothing was run)."""
    live = Cohort.objects.filter(pk=cohort_id, deleted=False).filter(Q(is_static=False) | Q(query__isnull=False))
    if not live.exists():
        Cohort.objects.filter(pk=cohort_id).update(is_calculating=False)
        return None
    claim = _claim(cohort_id, trigger)
    if claim is None:
        return None
    try:
        count, hogql = _members(claim)
    except Exception as error:
        _fail(claim, error)
    else:
        _succeed(claim, count=count, hogql=hogql)
    return claim.run
