"""Celery entry points for cohorts (scale mode, queue `cohorts`), thin wrappers around `cohorts.calculation`
and `cohorts.scheduler`; the embedded worker (`cohorts.worker`) runs the same functions in-process.

- `calculate_cohort(cohort_id, trigger)`: one calculation (late acknowledgement: a worker killed mid-run
  leaves the message to be redelivered, and the rerun claims a new version);
- `schedule_calculations()`: Celery beat's every-minute tick: flag the due cohorts and queue one calculation
  each."""

from __future__ import annotations

import logging

from django.db import close_old_connections

from cohorts import calculation, scheduler
from posthog_clone.celery import app

logger = logging.getLogger(__name__)

COHORTS_QUEUE = "cohorts"  # producers name it explicitly (task-level queues are deprecated in Celery 5)
HARD_TIME_LIMIT = 600 + 120  # the export context's ClickHouse limit (600 s) plus room to record the outcome


@app.task(
    name="cohorts.tasks.calculate_cohort",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=HARD_TIME_LIMIT - 60,
    time_limit=HARD_TIME_LIMIT,
)
def calculate_cohort(cohort_id: int, trigger: str = "edit") -> int | None:
    try:
        run = calculation.calculate(cohort_id, trigger=trigger)
        return None if run is None else run.pk
    finally:
        close_old_connections()


@app.task(name="cohorts.tasks.schedule_calculations")
def schedule_calculations() -> list[int]:
    try:
        flagged = scheduler.mark_calculating(scheduler.due_cohorts())
        for cohort_id in flagged:
            calculate_cohort.apply_async(args=[cohort_id, "schedule"], queue=COHORTS_QUEUE)
        if flagged:
            logger.info("cohort calculations scheduled", extra={"cohorts": flagged})
        return flagged
    finally:
        close_old_connections()
