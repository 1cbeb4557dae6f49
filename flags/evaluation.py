"""Feature flag evaluation: pure functions from (flag definitions, request context) to results.

No database, no settings, no clock except `now` passed in (cohort definitions and the person's static
cohorts come in the context). The rules follow PostHog's flags service
(capture.md §14): conditions are OR-ed in order, the first match wins and gives `condition_index`;
rollout and variant buckets come from a sha1 of "<flag key>.<identifier><salt>".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dateutil import parser as date_parser

from flags.cohort_tree import CohortDefinition, cohort_id_of, flag_cohort_ids, is_group
from posthog_clone.properties import PROPERTY_OPERATORS

LONG_SCALE = float(0xFFFFFFFFFFFFFFF)

CONDITION_MATCH = "condition_match"
NO_CONDITION_MATCH = "no_condition_match"
OUT_OF_ROLLOUT_BOUND = "out_of_rollout_bound"
NO_GROUP_TYPE = "no_group_type"
FLAG_DISABLED = "flag_disabled"
HOLDOUT_CONDITION = "holdout_condition_value"

OPERATORS = frozenset(PROPERTY_OPERATORS)


@dataclass(frozen=True)
class FlagDefinition:
    """What evaluation needs of a stored flag (built once per cache fill, shared between requests)."""

    id: int
    key: str
    active: bool
    filters: Mapping[str, Any]
    version: int = 1
    ensure_experience_continuity: bool = False

    @property
    def groups(self) -> list[Mapping[str, Any]]:
        return list(self.filters.get("groups") or [])

    @property
    def variants(self) -> list[Mapping[str, Any]]:
        return list((self.filters.get("multivariate") or {}).get("variants") or [])

    @property
    def aggregation_group_type_index(self) -> int | None:
        return self.filters.get("aggregation_group_type_index")

    @property
    def cohort_ids(self) -> list[int | None]:
        """Cohorts the conditions name directly (person flags only: group flags cannot name cohorts)."""
        return flag_cohort_ids(self.filters) if self.aggregation_group_type_index is None else []

    @property
    def uses_person_properties(self) -> bool:
        if self.aggregation_group_type_index is not None:
            return False
        return any(
            prop.get("type", "person") == "person"
            for condition in self.groups
            for prop in condition.get("properties") or []
        )


@dataclass(frozen=True)
class EvaluationContext:
    distinct_id: str
    person_properties: Mapping[str, Any] = field(default_factory=dict)
    groups: Mapping[str, str] = field(default_factory=dict)
    group_properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    group_type_mapping: Mapping[int, str] = field(default_factory=dict)  # index → group type name
    device_id: str | None = None
    now: dt.datetime | None = None
    # The cohorts the flags reference (nested ones included) and the static ones the person belongs to.
    cohorts: Mapping[int, CohortDefinition] = field(default_factory=dict)
    static_cohort_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class FlagResult:
    key: str
    enabled: bool
    variant: str | None
    reason: str
    condition_index: int | None
    flag_id: int
    version: int
    payload: Any = None

    @property
    def value(self) -> bool | str:
        """The legacy `featureFlags` value: the variant when there is one, else the boolean."""
        return self.variant if self.variant is not None else self.enabled

    @property
    def description(self) -> str:
        if self.reason == CONDITION_MATCH and self.condition_index is not None:
            return f"Matched condition set {self.condition_index + 1}"
        return REASON_DESCRIPTIONS.get(self.reason, self.reason)


REASON_DESCRIPTIONS = {
    NO_CONDITION_MATCH: "No matching condition set",
    OUT_OF_ROLLOUT_BOUND: "Out of rollout bound",
    NO_GROUP_TYPE: "No group type",
    FLAG_DISABLED: "Flag is disabled",
    HOLDOUT_CONDITION: "Holdout condition value",
}


def flag_hash(key: str, identifier: str, salt: str = "") -> float:
    """A number in [0, 1] from the first 15 hex digits of sha1("<key>.<identifier><salt>")."""
    if identifier == "":
        return 0.0
    digest = hashlib.sha1(f"{key}.{identifier}{salt}".encode()).hexdigest()
    return int(digest[:15], 16) / LONG_SCALE


def in_holdout(identifier: str, rollout_percentage: float | None) -> bool:
    """Experiment holdouts hash sha1("holdout-<identifier>"), independent of the flag key, so the same users
    are held out of every experiment using the holdout."""
    if rollout_percentage is None or identifier == "":
        return False
    digest = hashlib.sha1(f"holdout-{identifier}".encode()).hexdigest()
    return int(digest[:15], 16) / LONG_SCALE <= float(rollout_percentage) / 100


def in_rollout(key: str, identifier: str, rollout_percentage: float | None) -> bool:
    if rollout_percentage is None or rollout_percentage >= 100:
        return True
    return flag_hash(key, identifier) <= rollout_percentage / 100


def matching_variant(flag: FlagDefinition, identifier: str) -> str | None:
    """Walk the variants accumulating their share; the first whose upper bound exceeds the hash wins."""
    variants = flag.variants
    if not variants:
        return None
    value = flag_hash(flag.key, identifier, salt="variant")
    upper = 0.0
    for variant in variants:
        upper += float(variant.get("rollout_percentage") or 0) / 100
        if value < upper:
            return str(variant["key"])
    return None


# ---------------------------------------------------------------------------------------------------
# Property matching


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse_date(value: Any, now: dt.datetime) -> dt.datetime | None:
    """ISO dates/datetimes, or relative `-7d` / `-2h` / `-1w` / `-3m` / `-1y` (before now)."""
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = _as_text(value).strip()
        relative = re.fullmatch(r"-?(\d+)([hdwmy])", text)
        if relative:
            amount, unit = int(relative.group(1)), relative.group(2)
            days = {"h": amount / 24, "d": amount, "w": amount * 7, "m": amount * 30, "y": amount * 365}[unit]
            return now - dt.timedelta(days=days)
        try:
            parsed = date_parser.isoparse(text)
        except (ValueError, OverflowError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _compare(operator: str, actual: Any, expected: Any) -> bool:
    left, right = _as_number(actual), _as_number(expected)
    if left is None or right is None:
        if actual is None:
            return False
        left_text, right_text = _as_text(actual), _as_text(expected)
        return {
            "gt": left_text > right_text,
            "gte": left_text >= right_text,
            "lt": left_text < right_text,
            "lte": left_text <= right_text,
        }[operator]
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[operator]


def _regex_search(pattern: Any, actual: Any) -> bool | None:
    try:
        return re.search(_as_text(pattern), _as_text(actual)) is not None
    except re.error:
        return None


def match_property(prop: Mapping[str, Any], properties: Mapping[str, Any], *, now: dt.datetime) -> bool:
    """One property filter against a property dict. A missing property only matches `is_not_set`."""
    key = prop.get("key")
    operator = prop.get("operator") or "exact"
    expected = prop.get("value")
    if operator not in OPERATORS:
        return False
    if key not in properties:
        return operator == "is_not_set"
    actual = properties[key]
    if operator in ("is_set", "is_not_set"):
        return operator == "is_set"
    if operator in ("exact", "is_not"):
        candidates = expected if isinstance(expected, list) else [expected]
        matched = _as_text(actual).lower() in {_as_text(c).lower() for c in candidates}
        return matched if operator == "exact" else not matched
    if operator in ("icontains", "not_icontains"):
        matched = _as_text(expected).lower() in _as_text(actual).lower()
        return matched if operator == "icontains" else not matched
    if operator in ("regex", "not_regex"):
        found = _regex_search(expected, actual)
        if found is None:
            return False
        return found if operator == "regex" else not found
    if operator in ("gt", "gte", "lt", "lte"):
        return _compare(operator, actual, expected)
    limit, value = _parse_date(expected, now), _parse_date(actual, now)
    if limit is None or value is None:
        return False
    return value < limit if operator == "is_date_before" else value > limit


# ---------------------------------------------------------------------------------------------------
# Cohorts


COHORT_OPERATORS = frozenset({"exact", "in", "not_in"})


class _Unmatchable(Exception):
    """A behavioural or unknown filter, a missing cohort or a loop: the cohort condition cannot match."""


class CohortMatcher:
    """Cohort membership of the request's person: static cohorts from `ctx.static_cohort_ids`, dynamic ones by
    evaluating their property tree against the person's properties (nested cohorts recursively). A cohort
    that cannot be decided here (filters on events, a missing or looping reference) never matches."""

    def __init__(self, ctx: EvaluationContext, now: dt.datetime) -> None:
        self._ctx = ctx
        self._now = now
        self._memo: dict[int, bool | None] = {}  # None: unmatchable

    def condition_matches(self, prop: Mapping[str, Any]) -> bool:
        """A flag condition's `{"type": "cohort", "value": id, "operator": in | not_in}`."""
        cohort_id = cohort_id_of(prop)
        operator = prop.get("operator") or "in"
        if cohort_id is None or operator not in COHORT_OPERATORS:
            return False
        try:
            member = self._member(cohort_id, ())
        except _Unmatchable:
            return False
        return not member if operator == "not_in" else member

    def _member(self, cohort_id: int, path: tuple[int, ...]) -> bool:
        if cohort_id in self._memo:
            known = self._memo[cohort_id]
            if known is None:
                raise _Unmatchable
            return known
        cohort = self._ctx.cohorts.get(cohort_id)
        if cohort is None or cohort_id in path:
            raise _Unmatchable
        try:
            if cohort.is_static:
                member = cohort_id in self._ctx.static_cohort_ids
            else:
                member = self._node(cohort.properties, (*path, cohort_id))
        except _Unmatchable:
            self._memo[cohort_id] = None
            raise
        self._memo[cohort_id] = member
        return member

    def _node(self, node: Mapping[str, Any], path: tuple[int, ...]) -> bool:
        if not is_group(node):
            return self._leaf(node, path)
        # Every entry is decided (no short cut), so an undecidable filter anywhere makes the cohort unmatchable.
        results = [self._node(value, path) for value in node.get("values") or []]
        return all(results) if node["type"] == "AND" else (any(results) or not results)

    def _leaf(self, leaf: Mapping[str, Any], path: tuple[int, ...]) -> bool:
        kind = leaf.get("type")
        if kind == "cohort":
            nested = cohort_id_of(leaf)
            if nested is None:
                raise _Unmatchable
            matched = self._member(nested, path)
        elif kind == "person":
            if (leaf.get("operator") or "exact") not in OPERATORS:
                raise _Unmatchable  # `in`, `is_date_exact`, …: not part of flag matching
            matched = match_property(leaf, self._ctx.person_properties, now=self._now)
        else:
            raise _Unmatchable  # behavioural (needs events) or a filter type flags do not know
        return matched != bool(leaf.get("negation"))


# ---------------------------------------------------------------------------------------------------
# Flags


DependencyLookup = Callable[[str], "FlagResult | None"]


def _dependency_matches(prop: Mapping[str, Any], lookup: DependencyLookup | None) -> bool:
    """`{"type": "flag", "key": "<flag id>", "value": true | false | "<variant>"}` against that flag's result."""
    result = lookup(str(prop.get("key"))) if lookup is not None else None
    if result is None:
        return False  # unknown, deleted or circular dependency
    expected = prop.get("value")
    if isinstance(expected, bool):
        return result.enabled is expected
    return result.enabled and result.variant is not None and result.variant == str(expected)


def _condition_properties_match(
    condition: Mapping[str, Any],
    properties: Mapping[str, Any],
    now: dt.datetime,
    lookup: DependencyLookup | None,
    cohorts: CohortMatcher,
) -> bool:
    for prop in condition.get("properties") or []:
        if prop.get("type") == "cohort":
            if not cohorts.condition_matches(prop):
                return False
        elif prop.get("type") == "flag":
            if not _dependency_matches(prop, lookup):
                return False
        elif not match_property(prop, properties, now=now):
            return False
    return True


def _subject(flag: FlagDefinition, ctx: EvaluationContext) -> tuple[str, Mapping[str, Any]] | None:
    """The bucketing identifier and the properties conditions see; None when the group type is absent."""
    index = flag.aggregation_group_type_index
    if index is None:
        identifier = ctx.distinct_id
        if flag.filters.get("bucketing_identifier") == "device_id" and ctx.device_id:
            identifier = ctx.device_id
        return identifier, ctx.person_properties
    group_type = ctx.group_type_mapping.get(int(index))
    if group_type is None or group_type not in ctx.groups:
        return None
    return str(ctx.groups[group_type]), ctx.group_properties.get(group_type) or {}


def _payload(flag: FlagDefinition, enabled: bool, variant: str | None) -> Any:
    if not enabled:
        return None
    payloads = flag.filters.get("payloads") or {}
    return payloads.get(variant if variant is not None else "true")


def _holdout_variant(
    flag: FlagDefinition,
    identifier: str,
    properties: Mapping[str, Any],
    now: dt.datetime,
    dependencies: DependencyLookup | None,
    cohorts: CohortMatcher,
) -> tuple[int, str] | None:
    """(index, `holdout-<id>`) when the identifier is held out: the newer `holdout: {id, exclusion_percentage}`
    (what the SDKs evaluate locally; the percentage clamped to [0, 100]), else the `holdout_groups`."""
    newer = flag.filters.get("holdout")
    if isinstance(newer, Mapping) and newer.get("id") is not None and newer.get("exclusion_percentage") is not None:
        percentage = min(max(float(newer["exclusion_percentage"]), 0.0), 100.0)
        if percentage == 100.0 or in_holdout(identifier, percentage):
            return 0, f"holdout-{newer['id']}"
        return None
    for index, holdout in enumerate(flag.filters.get("holdout_groups") or []):
        if (
            holdout.get("variant")
            and in_holdout(identifier, holdout.get("rollout_percentage"))
            and _condition_properties_match(holdout, properties, now, dependencies, cohorts)
        ):
            return index, str(holdout["variant"])
    return None


def evaluate_flag(
    flag: FlagDefinition,
    ctx: EvaluationContext,
    *,
    dependencies: DependencyLookup | None = None,
    cohorts: CohortMatcher | None = None,
) -> FlagResult:
    """`dependencies` resolves a flag id to its result, for `type: "flag"` conditions; `cohorts` answers
    cohort conditions (shared between the flags of one request so each cohort is decided once)."""
    now = ctx.now or dt.datetime.now(dt.UTC)
    cohorts = cohorts or CohortMatcher(ctx, now)

    def result(enabled: bool, reason: str, index: int | None, variant: str | None = None) -> FlagResult:
        return FlagResult(
            key=flag.key,
            enabled=enabled,
            variant=variant,
            reason=reason,
            condition_index=index,
            flag_id=flag.id,
            version=flag.version,
            payload=_payload(flag, enabled, variant),
        )

    if not flag.active:
        return result(False, FLAG_DISABLED, None)
    subject = _subject(flag, ctx)
    if subject is None:
        return result(False, NO_GROUP_TYPE, None)
    identifier, properties = subject
    held = _holdout_variant(flag, identifier, properties, now, dependencies, cohorts)
    if held is not None:
        return result(True, HOLDOUT_CONDITION, held[0], held[1])
    variant_keys = {str(v.get("key")) for v in flag.variants}
    reason, reason_index = NO_CONDITION_MATCH, None
    for index, condition in enumerate(flag.groups):
        if not _condition_properties_match(condition, properties, now, dependencies, cohorts):
            continue
        if not in_rollout(flag.key, identifier, condition.get("rollout_percentage")):
            if reason == NO_CONDITION_MATCH:
                reason, reason_index = OUT_OF_ROLLOUT_BOUND, index
            continue
        override = condition.get("variant")
        variant = str(override) if override and str(override) in variant_keys else matching_variant(flag, identifier)
        return result(True, CONDITION_MATCH, index, variant)
    return result(False, reason, reason_index)


def evaluate_flags(
    flags: Iterable[FlagDefinition], ctx: EvaluationContext, *, only_keys: Iterable[str] | None = None
) -> dict[str, FlagResult]:
    """Every flag (or only `only_keys`), each evaluated once; flag dependencies resolve by id, cycles to None."""
    all_flags = list(flags)
    by_id = {str(flag.id): flag for flag in all_flags}
    done: dict[str, FlagResult | None] = {}
    cohorts = CohortMatcher(ctx, ctx.now or dt.datetime.now(dt.UTC))

    def lookup(flag_id: str) -> FlagResult | None:
        if flag_id not in done:
            flag = by_id.get(flag_id)
            if flag is None:
                return None
            done[flag_id] = None  # in progress: a cycle back here resolves to None
            done[flag_id] = evaluate_flag(flag, ctx, dependencies=lookup, cohorts=cohorts)
        return done[flag_id]

    wanted = set(only_keys) if only_keys is not None else None
    results = {}
    for flag in all_flags:
        if wanted is None or flag.key in wanted:
            result = lookup(str(flag.id))
            assert result is not None
            results[flag.key] = result
    return results
