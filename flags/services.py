"""Writes on feature flags: create, update (version bump), soft delete."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework import serializers

from flags.cohort_tree import cohort_id_of, condition_cohort_filters
from flags.cohorts import cohort_definitions_get
from flags.models import FeatureFlag
from posthog_clone.accounts.models import Team, User

DUPLICATE_KEY = "There is already a feature flag with this key."


def _filters_from(data: dict[str, Any]) -> dict[str, Any] | None:
    """`filters` as given, else a single condition built from the legacy top-level `rollout_percentage`."""
    if data.get("filters") is not None:
        return data["filters"]
    if "rollout_percentage" in data:
        return {"groups": [{"properties": [], "rollout_percentage": data["rollout_percentage"]}]}
    return None


def _filters_error(detail: str, code: str) -> serializers.ValidationError:
    return serializers.ValidationError({"filters": [serializers.ErrorDetail(detail, code=code)]})


def _check_cohorts(*, team: Team, filters: dict[str, Any]) -> None:
    """Every cohort a condition names, and every cohort those reference, must be a live cohort of the project
    whose filters flags can evaluate (no filters on events). Checked in condition order, each named cohort
    before the ones it references, so the first problem is reported."""
    props = list(condition_cohort_filters(filters))
    cohorts = cohort_definitions_get(team_id=team.pk, ids=[cohort_id_of(p) for p in props])
    for prop in props:
        pending, seen = [cohort_id_of(prop)], set()
        while pending:
            cohort_id = pending.pop(0)
            cohort = cohorts.get(cohort_id) if cohort_id is not None else None
            if cohort is None:
                shown = prop.get("value") if not seen else cohort_id
                raise _filters_error(f"Cohort with id {shown} does not exist", "cohort_does_not_exist")
            seen.add(cohort_id)
            if cohort.has_behavioral:
                raise _filters_error(
                    f"Cohort '{cohort.name}' with filters on events cannot be used in feature flags.",
                    "behavioral_cohort_found",
                )
            pending.extend(i for i in cohort.nested_ids if i not in seen and i not in pending)


def _check_key_free(*, team: Team, key: str, exclude_id: int | None = None) -> None:
    clash = FeatureFlag.objects.filter(team=team, key=key, deleted=False)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise serializers.ValidationError({"key": [serializers.ErrorDetail(DUPLICATE_KEY, code="unique")]})


def feature_flag_create(*, team: Team, user: User | None, data: dict[str, Any]) -> FeatureFlag:
    filters = _filters_from(data) or {"groups": []}
    _check_cohorts(team=team, filters=filters)
    with transaction.atomic():
        _check_key_free(team=team, key=data["key"])
        try:
            flag = FeatureFlag(
                team=team,
                key=data["key"],
                name=data.get("name", ""),
                active=data.get("active", True),
                filters=filters,
                ensure_experience_continuity=data.get("ensure_experience_continuity", False),
                deleted=data.get("deleted", False),
                created_by=user,
                version=1,
            )
            if data.get("_create_in_folder"):
                flag._create_in_folder = data["_create_in_folder"]  # read by the file-system sync on save
            flag.save()
            return flag
        except IntegrityError:  # a concurrent create won the race for the key
            raise serializers.ValidationError(
                {"key": [serializers.ErrorDetail(DUPLICATE_KEY, code="unique")]}
            ) from None


def feature_flag_update(*, flag: FeatureFlag, data: dict[str, Any]) -> FeatureFlag:
    changes: dict[str, Any] = {
        name: data[name]
        for name in ("key", "name", "active", "ensure_experience_continuity", "deleted")
        if name in data
    }
    filters = _filters_from(data)
    if filters is not None:
        _check_cohorts(team=flag.team, filters=filters)
        changes["filters"] = filters
    with transaction.atomic():
        if "key" in changes and not changes.get("deleted", flag.deleted):
            _check_key_free(team=flag.team, key=changes["key"], exclude_id=flag.pk)
        for name, value in changes.items():
            setattr(flag, name, value)
        flag.version = F("version") + 1
        try:
            flag.save()
        except IntegrityError:
            raise serializers.ValidationError(
                {"key": [serializers.ErrorDetail(DUPLICATE_KEY, code="unique")]}
            ) from None
    flag.refresh_from_db()
    return flag


def feature_flag_delete(*, flag: FeatureFlag) -> None:
    """Soft delete: the row stays (deleted=true) and its key becomes free again."""
    feature_flag_update(flag=flag, data={"deleted": True})
