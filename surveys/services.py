"""Writes on surveys: create, update, hard delete, and the feature flags a survey owns (§2.3): the targeting
flag (from `targeting_flag_filters`), the internal "already answered or dismissed" flag (`-custom`) and the
response-sampling flag (`-sampling`). Each owned flag is active exactly while the survey runs."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from rest_framework import serializers

from actions.models import Action
from flags.models import FeatureFlag
from flags.services import feature_flag_create, feature_flag_delete, feature_flag_update
from posthog_clone.accounts.models import Team, User
from surveys.models import Survey
from surveys.stats import survey_responses_count

logger = logging.getLogger(__name__)

DUPLICATE_NAME = "There is already a survey with this name."
NO_SUCH_FLAG = "Feature Flag with this ID does not exist"
ACTION_WITH_PROPERTIES = "Survey cannot be activated by an Action with property filters defined on it."
VARIANT_WITHOUT_FLAG = "linkedFlagVariant can only be used when a linked_flag_id is specified"
_FIELDS = (
    "name", "description", "type", "schedule", "questions", "conditions", "appearance", "start_date", "end_date",
    "archived", "responses_limit", "iteration_count", "iteration_frequency_days", "response_sampling_start_date",
    "response_sampling_interval_type", "response_sampling_interval", "response_sampling_limit",
    "response_sampling_daily_limits", "enable_partial_responses",
)  # fmt: skip


def _flag(team: Team, flag_id: int | None, attr: str) -> FeatureFlag | None:
    if flag_id is None:
        return None
    flag = FeatureFlag.objects.filter(team=team, pk=flag_id, deleted=False).first()
    if flag is None:
        raise serializers.ValidationError({attr: [serializers.ErrorDetail(NO_SUCH_FLAG, code="invalid")]})
    return flag


def _new_flag(survey: Survey, user: User | None, filters: dict[str, Any], suffix: str = "") -> FeatureFlag:
    key = slugify(f"survey-targeting-{secrets.token_hex(5)}{suffix}")
    data = {"key": key, "name": f"Targeting flag for survey {survey.name}", "filters": filters}
    return feature_flag_create(team=survey.team, user=user, data={**data, "active": survey.running})


def interaction_key(survey: Survey) -> str:
    """`<id>`, or `<id>/<iteration>` for a survey that repeats in iterations (the person-property suffix)."""
    if survey.iteration_count:
        return f"{survey.pk}/{survey.current_iteration or 1}"
    return str(survey.pk)


def internal_flag_filters(survey: Survey) -> dict[str, Any]:
    """Hides the survey from whoever answered or dismissed it (posthog-js `$set`s these person properties)."""
    key = interaction_key(survey)
    unset = {"value": "is_not_set", "operator": "is_not_set", "type": "person"}
    properties = [{"key": f"$survey_dismissed/{key}", **unset}, {"key": f"$survey_responded/{key}", **unset}]
    return {"groups": [{"variant": "", "rollout_percentage": 100, "properties": properties}]}


def _sync_flags(survey: Survey, user: User | None, data: dict[str, Any]) -> None:
    """Create, merge, remove and (de)activate the flags the survey owns."""
    filters = data.get("targeting_flag_filters")
    if data.get("remove_targeting_flag") and survey.targeting_flag is not None:
        feature_flag_delete(flag=survey.targeting_flag)
        survey.targeting_flag = None
    elif filters:
        if survey.targeting_flag is None:
            survey.targeting_flag = _new_flag(survey, user, filters)
        else:
            merged = {**(survey.targeting_flag.filters or {}), **filters}
            feature_flag_update(flag=survey.targeting_flag, data={"filters": merged})
    if survey.internal_targeting_flag is None:
        survey.internal_targeting_flag = _new_flag(survey, user, internal_flag_filters(survey), "-custom")
    else:
        feature_flag_update(flag=survey.internal_targeting_flag, data={"filters": internal_flag_filters(survey)})
    if survey.response_sampling_daily_limits and survey.internal_response_sampling_flag is None:
        everyone = {"groups": [{"variant": "", "rollout_percentage": 100, "properties": []}]}
        survey.internal_response_sampling_flag = _new_flag(survey, user, everyone, "-sampling")
    for flag in (survey.targeting_flag, survey.internal_targeting_flag, survey.internal_response_sampling_flag):
        if flag is not None and flag.active != survey.running:
            feature_flag_update(flag=flag, data={"active": survey.running})


def _apply(survey: Survey, data: dict[str, Any]) -> None:
    team = survey.team
    for field in _FIELDS:
        if field in data:
            setattr(survey, field, data[field])
    if "linked_flag_id" in data:
        survey.linked_flag = _flag(team, data["linked_flag_id"], "linked_flag_id")
    if data.get("targeting_flag_id") is not None:
        survey.targeting_flag = _flag(team, data["targeting_flag_id"], "targeting_flag_id")
    if "conditions" in data:
        _check_actions(team, survey.conditions)
    variant = (survey.conditions or {}).get("linkedFlagVariant")
    if variant and survey.linked_flag is None:
        raise serializers.ValidationError(VARIANT_WITHOUT_FLAG)


def _check_actions(team: Team, conditions: dict[str, Any] | None) -> None:
    """Actions that activate a survey are named by id: each must be a live action of the project, and one whose
    steps filter on properties cannot be used (posthog-js matches action steps without their properties)."""
    values = ((conditions or {}).get("actions") or {}).get("values") or []
    ids = [value.get("id") for value in values if isinstance(value, dict)]
    if len(ids) != len(values) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise serializers.ValidationError("Conditions actions values must each have an integer id")
    actions = {a.pk: a for a in Action.objects.filter(team=team, pk__in=ids, deleted=False)}
    for action_id in ids:
        action = actions.get(action_id)
        if action is None:
            raise serializers.ValidationError(f"Action with id {action_id} does not exist")
        if any(isinstance(step, dict) and step.get("properties") for step in action.steps_json or []):
            raise serializers.ValidationError(ACTION_WITH_PROPERTIES)


def _save(survey: Survey, user: User | None, data: dict[str, Any]) -> Survey:
    if Survey.objects.filter(team=survey.team, name=survey.name).exclude(pk=survey.pk).exists():
        raise serializers.ValidationError({"name": [serializers.ErrorDetail(DUPLICATE_NAME, code="unique")]})
    try:
        with transaction.atomic():
            survey.save()
            _sync_flags(survey, user, data)
            survey.save()
    except IntegrityError:  # a concurrent write took the name
        raise serializers.ValidationError({"name": [serializers.ErrorDetail(DUPLICATE_NAME, code="unique")]}) from None
    return survey


def survey_create(*, team: Team, user: User | None, data: dict[str, Any]) -> Survey:
    survey = Survey(team=team, created_by=user)
    _apply(survey, data)
    return _save(survey, user, data)


def survey_update(*, survey: Survey, user: User | None, data: dict[str, Any]) -> Survey:
    _apply(survey, data)
    return _save(survey, user, data)


def survey_delete(*, survey: Survey) -> None:
    """Hard delete; the targeting and internal flags go with it (soft-deleted, as flags are)."""
    with transaction.atomic():
        for flag in (survey.targeting_flag, survey.internal_targeting_flag, survey.internal_response_sampling_flag):
            if flag is not None and not flag.deleted:
                feature_flag_delete(flag=flag)
        survey.delete()


def surveys_stop_reached_target(*, now: dt.datetime | None = None) -> list[str]:
    """PostHog's periodic `stop_surveys_reached_target`: a running survey whose deduplicated `survey sent`
    count reached its `responses_limit` stops (`end_date` = now, the limit cleared, its flags deactivated).
    The ids of the surveys stopped."""
    now = now or timezone.now()
    candidates = Survey.objects.filter(
        archived=False, start_date__isnull=False, end_date__isnull=True, responses_limit__isnull=False
    ).select_related("team", "targeting_flag", "internal_targeting_flag", "internal_response_sampling_flag")
    by_team: dict[int, list[Survey]] = {}
    for survey in candidates:
        by_team.setdefault(survey.team_id, []).append(survey)
    stopped = []
    for surveys in by_team.values():
        counts = survey_responses_count(team=surveys[0].team, survey_ids=[str(s.pk) for s in surveys])
        for survey in surveys:
            if counts.get(str(survey.pk), 0) >= (survey.responses_limit or 0):
                survey_update(survey=survey, user=None, data={"end_date": now, "responses_limit": None})
                stopped.append(str(survey.pk))
    if stopped:
        logger.info("surveys reached their responses limit", extra={"surveys": stopped})
    return stopped
