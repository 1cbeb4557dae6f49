"""Reads on surveys: the project's list, and what posthog-js is served (§2.4): the surveys that run now
(started, not ended, not archived, under their `responses_limit`), for `/api/surveys/?token=` and the `surveys`
value of remote config. Served lists are cached in-process for SERVED_TTL seconds and dropped on every survey
write in this process (other processes catch up within the TTL)."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from actions.models import Action
from posthog_clone.accounts.models import Team
from surveys.models import Survey
from surveys.stats import survey_responses_count

SERVED_TTL = 5.0
SHOWN_TYPES = (Survey.Type.POPOVER, Survey.Type.WIDGET, Survey.Type.API, Survey.Type.WEB)
_served: dict[int, tuple[list[dict[str, Any]], float]] = {}
_lock = threading.Lock()


def survey_list(*, team: Team, search: str | None = None, archived: bool | None = None) -> QuerySet[Survey]:
    rows = Survey.objects.filter(team=team).select_related(
        "created_by", "linked_flag", "targeting_flag", "internal_targeting_flag", "internal_response_sampling_flag"
    )
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if archived is not None:
        rows = rows.filter(archived=archived)
    return rows.order_by("-created_at")


def with_current_actions(surveys: list[Survey]) -> list[Survey]:
    """The actions of `conditions.actions` as they are now (name, steps), read in one query; in memory only."""
    ids = {
        value.get("id")
        for survey in surveys
        for value in (((survey.conditions or {}).get("actions") or {}).get("values") or [])
        if isinstance(value, dict)
    }
    if not ids:
        return surveys
    actions = {a.pk: a for a in Action.objects.filter(pk__in=ids, deleted=False)}
    for survey in surveys:
        part = (survey.conditions or {}).get("actions")
        if not part or not part.get("values"):
            continue
        values = [
            {"id": a.pk, "name": a.name, "steps": a.steps_json or []}
            for a in (actions.get(v.get("id")) for v in part["values"] if isinstance(v, dict))
            if a is not None and a.team_id == survey.team_id
        ]
        survey.conditions = {**survey.conditions, "actions": {**part, "values": values}}
    return surveys


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def public_survey(survey: Survey) -> dict[str, Any]:
    def key(flag: Any) -> str | None:
        return flag.key if flag is not None and not flag.deleted else None

    return {
        "id": str(survey.pk),
        "name": survey.name,
        "type": survey.type,
        "linked_flag_key": key(survey.linked_flag),
        "targeting_flag_key": key(survey.targeting_flag),
        "internal_targeting_flag_key": key(survey.internal_targeting_flag),
        "questions": survey.questions or [],
        "conditions": survey.conditions,
        "appearance": survey.appearance,
        "start_date": _iso(survey.start_date),
        "end_date": _iso(survey.end_date),
        "current_iteration": survey.current_iteration,
        "current_iteration_start_date": _iso(survey.current_iteration_start_date),
        "schedule": survey.schedule,
        "enable_partial_responses": survey.enable_partial_responses,
    }


def _load_served(team_id: int) -> list[dict[str, Any]]:
    now = timezone.now()
    running = list(
        Survey.objects.filter(team_id=team_id, archived=False, start_date__lte=now)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=now))
        .select_related("team", "linked_flag", "targeting_flag", "internal_targeting_flag")
        .order_by("created_at")
    )
    limited = [s for s in running if s.responses_limit]
    if limited:
        counts = survey_responses_count(team=limited[0].team, survey_ids=[str(s.pk) for s in limited])
        running = [s for s in running if not s.responses_limit or counts.get(str(s.pk), 0) < s.responses_limit]
    return [public_survey(survey) for survey in with_current_actions(running)]


def served_surveys(*, team_id: int) -> list[dict[str, Any]]:
    """The surveys posthog-js may show now, as it reads them."""
    now = time.monotonic()
    hit = _served.get(team_id)
    if hit is not None and hit[1] > now:
        return hit[0]
    surveys = _load_served(team_id)
    with _lock:
        _served[team_id] = (surveys, now + SERVED_TTL)
    return surveys


def served_surveys_clear(**_kwargs: Any) -> None:
    with _lock:
        _served.clear()


def surveys_remote_config(team_id: int) -> list[dict[str, Any]] | bool:
    """Remote config's `surveys`: the served list, or `false` when there is none (posthog-js then skips them)."""
    return served_surveys(team_id=team_id) or False
