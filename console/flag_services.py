"""The flag edit form: the flag's release conditions' rollouts and its variants as form rows, and the form
turned back into `filters`, checked by the flags API's own serializer and saved by its service."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from rest_framework import serializers

from flags.models import FeatureFlag
from flags.serializers import FeatureFlagPatchSerializer
from flags.services import feature_flag_update

BLANK_VARIANT_ROWS = 2  # room to add variants without script
MAX_VARIANT_ROWS = 100


@dataclass
class ConditionRow:
    index: int
    summary: str
    rollout: str
    variant: str = ""


@dataclass
class VariantRow:
    index: int
    key: str
    rollout: str
    name: str = ""


@dataclass
class FlagForm:
    conditions: list[ConditionRow]
    variants: list[VariantRow]
    errors: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _summary(condition: dict[str, Any]) -> str:
    props = condition.get("properties") or []
    if not props:
        return "Everyone"
    parts = []
    for prop in props:
        if not isinstance(prop, dict):
            continue
        if prop.get("type") == "cohort":
            parts.append(f"in cohort {prop.get('value')}")
        else:
            parts.append(f"{prop.get('key')} {prop.get('operator') or 'exact'} {prop.get('value', '')}".strip())
    return " and ".join(parts)


def flag_form(flag: FeatureFlag) -> FlagForm:
    """The form as the flag is now (a flag without conditions gets one empty 'everyone' row to fill)."""
    filters = flag.filters if isinstance(flag.filters, dict) else {}
    groups = [g for g in filters.get("groups") or [] if isinstance(g, dict)]
    conditions = [
        ConditionRow(
            index=i, summary=_summary(g), rollout=_text(g.get("rollout_percentage")), variant=g.get("variant") or ""
        )
        for i, g in enumerate(groups)
    ] or [ConditionRow(index=0, summary="Everyone (new condition)", rollout="")]
    variants = [
        VariantRow(
            index=i, key=str(v.get("key", "")), rollout=_text(v.get("rollout_percentage")), name=v.get("name") or ""
        )
        for i, v in enumerate((filters.get("multivariate") or {}).get("variants") or [])
        if isinstance(v, dict)
    ]
    variants += [VariantRow(index=len(variants) + i, key="", rollout="") for i in range(BLANK_VARIANT_ROWS)]
    return FlagForm(conditions=conditions, variants=variants)


def _number(raw: str) -> Any:
    """The typed text as a number when it is one; else as typed, for the serializer to refuse."""
    raw = raw.strip()
    if raw == "":
        return None
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            continue
    return raw


def _filters_from_form(flag: FeatureFlag, data: QueryDict) -> dict[str, Any]:
    filters = copy.deepcopy(flag.filters) if isinstance(flag.filters, dict) else {}
    groups = [g for g in filters.get("groups") or [] if isinstance(g, dict)]
    if not groups and data.get("rollout-0", "").strip():
        groups = [{"properties": []}]  # the empty 'everyone' row was filled
    for i, group in enumerate(groups):
        group["rollout_percentage"] = _number(data.get(f"rollout-{i}", ""))
    filters["groups"] = groups
    old_names = {v.get("key"): v.get("name") for v in (filters.get("multivariate") or {}).get("variants") or []
                 if isinstance(v, dict)}  # fmt: skip
    variants = []
    for i in range(_variant_rows(data)):
        key, rollout = data.get(f"variant-key-{i}", "").strip(), data.get(f"variant-rollout-{i}", "")
        if not key and not rollout.strip():
            continue  # an empty row, or a variant removed by clearing it
        variant = {"key": key, "rollout_percentage": _number(rollout)}
        if old_names.get(key):
            variant["name"] = old_names[key]
        variants.append(variant)
    keys = {v["key"] for v in variants}
    payloads = filters.get("payloads") if isinstance(filters.get("payloads"), dict) else {}
    if variants:
        filters["multivariate"] = {"variants": variants}
        filters["payloads"] = {k: v for k, v in payloads.items() if k in keys}
    else:
        filters["multivariate"] = None
        filters["payloads"] = {k: v for k, v in payloads.items() if k == "true"}
    return filters


def _variant_rows(data: QueryDict) -> int:
    raw = data.get("variant-rows", "")
    return min(int(raw), MAX_VARIANT_ROWS) if raw.isdigit() else 0


def _messages(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _messages(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _messages(value)]
    return [str(detail)]


def flag_form_save(*, flag: FeatureFlag, data: QueryDict) -> FlagForm | None:
    """Save the form's rollouts and variants; None when saved, else the form as typed with its errors (the
    API's messages: the same serializer and service as PATCH /feature_flags/:id/)."""
    filters = _filters_from_form(flag, data)
    checked = FeatureFlagPatchSerializer(data={"filters": filters})
    errors: list[str] = []
    if checked.is_valid():
        try:
            feature_flag_update(flag=flag, data=checked.validated_data)
            return None
        except serializers.ValidationError as failure:
            errors = _messages(failure.detail)
    else:
        errors = _messages(checked.errors)
    form = flag_form(flag)
    for row in form.conditions:
        row.rollout = data.get(f"rollout-{row.index}", row.rollout)
    typed_rows = [(data.get(f"variant-key-{i}", ""), data.get(f"variant-rollout-{i}", ""))
                  for i in range(_variant_rows(data))]  # fmt: skip
    kept = [(key, rollout) for key, rollout in typed_rows if key.strip() or rollout.strip()]
    typed = [VariantRow(index=i, key=key, rollout=rollout) for i, (key, rollout) in enumerate(kept)]
    form.variants = typed + [VariantRow(index=len(typed) + i, key="", rollout="") for i in range(BLANK_VARIANT_ROWS)]
    form.errors = errors
    return form
