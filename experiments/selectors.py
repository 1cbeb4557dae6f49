"""Reads on experiments, holdouts and saved metrics."""

from __future__ import annotations

from django.db.models import QuerySet

from experiments.models import Experiment
from posthog_clone.accounts.models import Team


def experiment_list(*, team: Team, archived: bool | None = None, search: str | None = None) -> QuerySet[Experiment]:
    rows = Experiment.objects.filter(team=team, deleted=False).select_related("feature_flag", "holdout", "created_by")
    if archived is not None:
        rows = rows.filter(archived=archived)
    if search:
        rows = rows.filter(name__icontains=search)
    return rows.order_by("-created_at", "-id")


def experiment_get(*, team_id: int, experiment_id: int) -> Experiment | None:
    """A live experiment of the project, with its flag and holdout (None for another project's)."""
    return (
        Experiment.objects.filter(team_id=team_id, pk=experiment_id, deleted=False)
        .select_related("feature_flag", "holdout")
        .first()
    )
