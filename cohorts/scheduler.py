"""The periodic re-calculation's choice (PostHog's every-minute scheduler): live dynamic cohorts whose last
calculation is missing or older than 15 minutes, not calculating now (or "calculating" for more than 24 h: a
lost run), with at most 20 errors in a row and past their back-off (30 min × 2^errors after the last error),
oldest calculation first, a few at a time."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Max, Q
from django.utils import timezone

from cohorts.models import Cohort

STALE_AFTER = dt.timedelta(minutes=15)
STUCK_AFTER = dt.timedelta(hours=24)
MAX_ERRORS = 20
BACKOFF = dt.timedelta(minutes=30)
PARALLEL = 5  # cohorts chosen per tick (PostHog's CALCULATE_X_COHORTS_PARALLEL is unverified; 5 is ours)


def backed_off(cohort: Cohort, now: dt.datetime) -> bool:
    """Still inside the back-off after its last error."""
    if not cohort.errors_calculating or cohort.last_error_at is None:
        return False
    return now < cohort.last_error_at + BACKOFF * (2**cohort.errors_calculating)


def due_cohorts(now: dt.datetime | None = None, limit: int = PARALLEL) -> list[Cohort]:
    """The cohorts to recalculate now, oldest calculation first."""
    now = now or timezone.now()
    candidates = (
        Cohort.objects.filter(deleted=False, is_static=False, errors_calculating__lte=MAX_ERRORS)
        .filter(Q(last_calculation__isnull=True) | Q(last_calculation__lt=now - STALE_AFTER))
        .annotate(last_started=Max("calculations__started_at"))
        .filter(
            Q(is_calculating=False)
            | Q(last_started__lt=now - STUCK_AFTER)
            | Q(last_started__isnull=True, updated_at__lt=now - STUCK_AFTER)  # queued long ago, never run
        )
        .order_by(F("last_calculation").asc(nulls_first=True), "id")
    )
    chosen: list[Cohort] = []
    for cohort in candidates.iterator(chunk_size=200):
        if not backed_off(cohort, now):
            chosen.append(cohort)
            if len(chosen) >= limit:
                break
    return chosen


def mark_calculating(cohorts: list[Cohort]) -> list[int]:
    """Flag the chosen cohorts as calculating (without touching `updated_at`, which tells edits apart); the
    ids this call flagged (a cohort an edit flagged meanwhile is left to the edit's run)."""
    flagged = []
    for cohort in cohorts:
        if Cohort.objects.filter(pk=cohort.pk, is_calculating=cohort.is_calculating).update(is_calculating=True):
            flagged.append(cohort.pk)
    return flagged
