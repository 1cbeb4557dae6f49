"""The periodic re-calculation: which cohorts the every-minute tick picks (PostHog's rules, worked out by
hand for a fixed `now`), and that both runners act on it — the embedded worker's tick and Celery's tasks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cohorts import scheduler, tasks
from cohorts.models import Cohort, CohortCalculation
from posthog_clone.celery import app
from tests.cohorts.conftest import filters, make_person, prop, run_in_background

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
PRO = filters(prop("plan", "pro"))


def ago(**delta: float) -> dt.datetime:
    return NOW - dt.timedelta(**delta)


def cohort(project: Any, name: str, **fields: Any) -> Cohort:
    updated_at = fields.pop("updated_at", ago(hours=1))
    started = fields.pop("last_run_started", None)
    made = Cohort.objects.create(team=project.team, name=name, filters=PRO, **fields)
    Cohort.objects.filter(pk=made.pk).update(updated_at=updated_at)  # auto_now on save
    if started is not None:
        CohortCalculation.objects.create(cohort=made, version=1, started_at=started)
    return made


def test_due_cohorts(project: Any, other_project: Any) -> None:
    never = cohort(project, "never calculated")
    stale = cohort(project, "16 min old", last_calculation=ago(minutes=16))
    older = cohort(other_project, "2 h old, other project", last_calculation=ago(hours=2))
    backoff_over = cohort(
        project,
        "1 error 61 min ago",
        last_calculation=ago(hours=3),
        errors_calculating=1,
        last_error_at=ago(minutes=61),
    )  # back-off 30 min × 2¹ = 60 min: over
    stuck = cohort(
        project,
        "calculating for 25 h",
        last_calculation=ago(days=2),
        is_calculating=True,
        last_run_started=ago(hours=25),
    )
    queued_long_ago = cohort(project, "queued 25 h ago, never run", is_calculating=True, updated_at=ago(hours=25))
    cohort(project, "fresh", last_calculation=ago(minutes=14))
    cohort(project, "calculating", is_calculating=True, last_run_started=ago(minutes=5))
    cohort(project, "queued just now", is_calculating=True, updated_at=ago(minutes=1))
    cohort(project, "deleted", deleted=True)
    cohort(project, "static", is_static=True)
    cohort(project, "21 errors", errors_calculating=21, last_error_at=ago(days=400))
    cohort(project, "2 errors 119 min ago", errors_calculating=2, last_error_at=ago(minutes=119))  # back-off 120 min
    cohort(project, "20 errors", errors_calculating=20, last_error_at=ago(days=365 * 50))  # 30 min × 2²⁰ ≈ 59.8 years

    due = scheduler.due_cohorts(NOW, limit=100)
    expected = [never, queued_long_ago, stuck, backoff_over, older, stale]  # never first, then oldest calculation
    assert [c.name for c in due] == [c.name for c in expected]
    assert [c.name for c in scheduler.due_cohorts(NOW, limit=2)] == [c.name for c in expected[:2]]


def test_mark_calculating_flags_without_touching_updated_at(project: Any) -> None:
    chosen = cohort(project, "never calculated")
    before = Cohort.objects.get(pk=chosen.pk).updated_at
    assert scheduler.mark_calculating([chosen]) == [chosen.pk]
    after = Cohort.objects.get(pk=chosen.pk)
    assert after.is_calculating and after.updated_at == before  # an edit is told apart by updated_at
    assert scheduler.mark_calculating([chosen]) == []  # flagged since it was chosen: left alone


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_the_background_runner_recalculates_stale_cohorts(project: Any, settings: Any) -> None:
    """Embedded: the worker loop's first tick; scale mode: the beat task's tick, then the Celery worker."""
    make_person(project.team, ["ann"], {"plan": "pro"})
    now = dt.datetime.now(dt.UTC)
    stale = Cohort.objects.create(
        team=project.team, name="stale", filters=PRO, last_calculation=now - dt.timedelta(hours=1)
    )
    fresh = Cohort.objects.create(team=project.team, name="fresh", filters=PRO, last_calculation=now)
    if settings.CELERY_BROKER_URL:
        assert tasks.schedule_calculations() == [stale.pk]  # what beat runs every minute: queues the run
    run_in_background()  # embedded: the loop's first tick runs the scheduler's choice
    stale.refresh_from_db()
    assert (stale.is_calculating, stale.count, stale.version) == (False, 1, 1)
    assert stale.last_calculation > now
    assert CohortCalculation.objects.get(cohort=stale).trigger == "schedule"
    assert not CohortCalculation.objects.filter(cohort=fresh).exists()


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)  # the tasks close their connection as a Celery worker's would
def test_the_celery_tasks(project: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scale mode's entry points, run as a worker would (eagerly: no broker in this test)."""
    make_person(project.team, ["ann"], {"plan": "pro"})
    due = cohort(project, "never calculated")
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    assert tasks.schedule_calculations() == [due.pk]
    due.refresh_from_db()
    assert (due.is_calculating, due.count, due.version) == (False, 1, 1)
    assert CohortCalculation.objects.get(cohort=due).trigger == "schedule"
    edited = Cohort.objects.get(pk=due.pk)
    edited.is_calculating = True
    edited.save()
    run_id = tasks.calculate_cohort(due.pk)
    assert CohortCalculation.objects.get(pk=run_id).version == 2
    assert Cohort.objects.get(pk=due.pk).is_calculating is False


def test_celery_beat_runs_the_scheduler_every_minute(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["cohorts-schedule-calculations"]
    assert entry == {
        "task": tasks.schedule_calculations.name,
        "schedule": 60.0,
        "options": {"queue": tasks.COHORTS_QUEUE},
    }
    assert tasks.calculate_cohort.name in app.tasks
