"""Reads of cohorts."""

from __future__ import annotations

from typing import Any

from cohorts.models import Cohort


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
