"""flags.evaluation: hashing, rollout, variants, property operators, conditions, reasons, payloads (pure)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from posthog import feature_flags as sdk_flags

from flags.evaluation import (
    CONDITION_MATCH,
    FLAG_DISABLED,
    NO_CONDITION_MATCH,
    NO_GROUP_TYPE,
    OUT_OF_ROLLOUT_BOUND,
    EvaluationContext,
    FlagDefinition,
    evaluate_flag,
    evaluate_flags,
    flag_hash,
    in_rollout,
    match_property,
    matching_variant,
)

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)

# (flag key, identifier, salt) → first 15 hex digits of sha1("<key>.<id><salt>") / 0xFFFFFFFFFFFFFFF,
# computed with the reference formula (capture.md §14); the first three are §17 vector 27.
HASHES = [
    ("simple-flag", "distinct_id_0", "", 0xC8A05362B9F414F, 0.7836963764220432),
    ("simple-flag", "distinct_id_1", "", 0x56F70997DDF6067, 0.3397069926995401),
    ("simple-flag", "distinct_id_2", "", 0x5F3E3D121E822DF, 0.3720434350239052),
    ("new-dashboard", "user-1", "", 0xAB62309F096F8B7, 0.6694670093797283),
    ("new-dashboard", "user-2", "", 0x3CC86F6975031E3, 0.2374333984817096),
    ("new-dashboard", "user-3", "", 0x15612CD910D965E, 0.08351402568300656),
    ("checkout", "alice@example.com", "", 0x648EC48756933A2, 0.3928034620681275),
    ("multivariate-flag", "distinct_id_0", "variant", 0x9E5F8C67DC34910, 0.6186454537930379),
    ("multivariate-flag", "distinct_id_2", "variant", 0x105BD1EEF75FF45, 0.06390106281412483),
    ("multivariate-flag", "distinct_id_3", "variant", 0x653AEF0DD918F09, 0.39543050849997363),
]


@pytest.mark.parametrize(("key", "identifier", "salt", "prefix", "expected"), HASHES)
def test_hash_matches_reference_formula(key: str, identifier: str, salt: str, prefix: int, expected: float) -> None:
    assert prefix / 0xFFFFFFFFFFFFFFF == pytest.approx(expected, abs=1e-15)
    assert flag_hash(key, identifier, salt) == pytest.approx(expected, abs=1e-15)


def test_empty_identifier_hashes_to_zero() -> None:
    assert flag_hash("any", "") == 0.0


def test_hash_agrees_with_posthog_python_for_many_ids() -> None:
    for i in range(2000):
        assert flag_hash("agreement", f"user-{i}") == sdk_flags._hash("agreement", f"user-{i}")
        assert flag_hash("agreement", f"user-{i}", "variant") == sdk_flags._hash("agreement", f"user-{i}", "variant")


@pytest.mark.parametrize(
    ("key", "identifier", "rollout", "included"),
    [
        ("simple-flag", "distinct_id_0", 45, False),  # 0.7837 > 0.45 (vector 27)
        ("simple-flag", "distinct_id_1", 45, True),  # 0.3397
        ("simple-flag", "distinct_id_2", 45, True),  # 0.3720
        ("simple-flag", "distinct_id_2", 37, False),  # 0.3720 > 0.37
        ("simple-flag", "distinct_id_2", 38, True),
        ("simple-flag", "distinct_id_0", 78, False),  # 0.78369...
        ("simple-flag", "distinct_id_0", 79, True),
        ("new-dashboard", "user-1", 50, False),  # 0.6695
        ("new-dashboard", "user-2", 50, True),  # 0.2374
        ("new-dashboard", "user-3", 50, True),  # 0.0835
        ("new-dashboard", "user-3", 8, False),
        ("new-dashboard", "user-1", 0, False),
        ("new-dashboard", "user-1", 100, True),
        ("new-dashboard", "user-1", None, True),  # null rollout = everyone
    ],
)
def test_rollout_in_or_out(key: str, identifier: str, rollout: int | None, included: bool) -> None:
    assert in_rollout(key, identifier, rollout) is included


VARIANTS_50_25_25 = [
    {"key": "control", "rollout_percentage": 50},
    {"key": "test", "rollout_percentage": 25},
    {"key": "other", "rollout_percentage": 25},
]


def multivariate(variants: list[dict[str, Any]], key: str = "multivariate-flag") -> FlagDefinition:
    filters = {"groups": [{"properties": [], "rollout_percentage": 100}], "multivariate": {"variants": variants}}
    return FlagDefinition(id=1, key=key, active=True, filters=filters)


@pytest.mark.parametrize(
    ("identifier", "variant"),
    [
        ("distinct_id_0", "test"),  # 0.6186 in [0.5, 0.75)
        ("distinct_id_2", "control"),  # 0.0639 in [0, 0.5)
        ("distinct_id_3", "control"),  # 0.3954
    ],
)
def test_variant_walks_cumulative_shares(identifier: str, variant: str) -> None:
    assert matching_variant(multivariate(VARIANTS_50_25_25), identifier) == variant


def test_variant_gap_when_weights_below_100() -> None:
    flag = multivariate([{"key": "only", "rollout_percentage": 10}])
    assert matching_variant(flag, "distinct_id_0") is None  # 0.6186 ≥ 0.10
    assert matching_variant(flag, "distinct_id_2") == "only"  # 0.0639 < 0.10


@pytest.mark.parametrize("rollout", [10, 25, 50, 75, 90])
def test_ten_thousand_ids_land_within_two_percent_of_rollout(rollout: int) -> None:
    hits = sum(in_rollout("sample-flag", f"id-{i}", rollout) for i in range(10_000))
    assert abs(hits / 100 - rollout) <= 2


def test_ten_thousand_ids_split_across_variants_within_two_percent() -> None:
    flag = multivariate(VARIANTS_50_25_25, key="sample-mv")
    counts: dict[str | None, int] = {}
    for i in range(10_000):
        variant = matching_variant(flag, f"id-{i}")
        counts[variant] = counts.get(variant, 0) + 1
    assert set(counts) == {"control", "test", "other"}
    for variant in VARIANTS_50_25_25:
        assert abs(counts[variant["key"]] / 100 - variant["rollout_percentage"]) <= 2


PROPS = {
    "email": "Alice@Example.com",
    "plan": "pro",
    "age": 31,
    "score": "7.5",
    "signup": "2026-01-15T10:00:00Z",
    "beta": True,
    "empty": None,
}


@pytest.mark.parametrize(
    ("operator", "key", "value", "expected"),
    [
        ("exact", "plan", "pro", True),
        ("exact", "plan", "PRO", True),
        ("exact", "plan", ["free", "pro"], True),
        ("exact", "plan", "free", False),
        ("exact", "age", "31", True),
        ("exact", "beta", "true", True),
        ("exact", "missing", "x", False),
        ("is_not", "plan", "free", True),
        ("is_not", "plan", ["pro"], False),
        ("icontains", "email", "example.COM", True),
        ("icontains", "email", "posthog", False),
        ("not_icontains", "email", "posthog", True),
        ("not_icontains", "email", "alice", False),
        ("regex", "email", r"^alice@", False),  # case-sensitive
        ("regex", "email", r"@Example\.com$", True),
        ("regex", "email", "([", False),  # invalid pattern never matches
        ("not_regex", "email", r"^bob", True),
        ("not_regex", "email", r"^Alice", False),
        ("gt", "age", "30", True),
        ("gt", "age", "31", False),
        ("gte", "age", "31", True),
        ("lt", "score", "10", True),
        ("lt", "score", "7.5", False),
        ("lte", "score", "7.5", True),
        ("gt", "empty", "1", False),
        ("is_set", "plan", "is_set", True),
        ("is_set", "missing", "is_set", False),
        ("is_set", "empty", "is_set", True),
        ("is_not_set", "missing", "is_not_set", True),
        ("is_not_set", "plan", "is_not_set", False),
        ("is_date_before", "signup", "2026-02-01", True),
        ("is_date_before", "signup", "2026-01-01", False),
        ("is_date_after", "signup", "2026-01-01", True),
        ("is_date_after", "signup", "-30d", False),  # 30 days before NOW is 2026-10-25
        ("is_date_before", "signup", "-30d", True),
        ("is_date_after", "plan", "2026-01-01", False),  # not a date
        ("unknown_op", "plan", "pro", False),
    ],
)
def test_property_operators(operator: str, key: str, value: Any, expected: bool) -> None:
    prop = {"key": key, "operator": operator, "value": value, "type": "person"}
    assert match_property(prop, PROPS, now=NOW) is expected


def test_operator_defaults_to_exact() -> None:
    assert match_property({"key": "plan", "value": "pro"}, PROPS, now=NOW) is True


def flag(filters: dict[str, Any], *, key: str = "f", active: bool = True) -> FlagDefinition:
    return FlagDefinition(id=7, key=key, active=active, filters=filters, version=3)


def ctx(distinct_id: str = "distinct_id_1", **kwargs: Any) -> EvaluationContext:
    return EvaluationContext(distinct_id=distinct_id, now=NOW, **kwargs)


PRO = {"key": "plan", "value": "pro", "operator": "exact", "type": "person"}
FREE = {"key": "plan", "value": "free", "operator": "exact", "type": "person"}


@pytest.mark.parametrize(
    ("groups", "properties", "enabled", "reason", "index"),
    [
        ([{"properties": [PRO]}], {"plan": "pro"}, True, CONDITION_MATCH, 0),
        ([{"properties": [FREE]}, {"properties": [PRO]}], {"plan": "pro"}, True, CONDITION_MATCH, 1),
        ([{"properties": [FREE]}], {"plan": "pro"}, False, NO_CONDITION_MATCH, None),
        ([{"properties": [PRO], "rollout_percentage": 0}], {"plan": "pro"}, False, OUT_OF_ROLLOUT_BOUND, 0),
        (
            [{"properties": [PRO], "rollout_percentage": 0}, {"properties": [], "rollout_percentage": 100}],
            {"plan": "pro"},
            True,
            CONDITION_MATCH,
            1,
        ),
        ([{"properties": [PRO, FREE]}], {"plan": "pro"}, False, NO_CONDITION_MATCH, None),  # AND inside
        ([], {}, False, NO_CONDITION_MATCH, None),
        ([{"properties": [{"key": 3, "type": "cohort", "value": 3}]}], {}, False, NO_CONDITION_MATCH, None),
    ],
)
def test_conditions_are_ored_in_order(
    groups: list[dict[str, Any]], properties: dict[str, Any], enabled: bool, reason: str, index: int | None
) -> None:
    result = evaluate_flag(flag({"groups": groups}), ctx(person_properties=properties))
    assert (result.enabled, result.reason, result.condition_index) == (enabled, reason, index)


def test_disabled_flag_is_false_with_reason() -> None:
    result = evaluate_flag(flag({"groups": [{"rollout_percentage": 100}]}, active=False), ctx())
    assert (result.enabled, result.reason, result.value) == (False, FLAG_DISABLED, False)


def test_description_and_metadata() -> None:
    result = evaluate_flag(flag({"groups": [{"properties": [FREE]}, {"rollout_percentage": 100}]}), ctx())
    assert result.description == "Matched condition set 2"
    assert (result.flag_id, result.version) == (7, 3)


def test_condition_variant_override_wins() -> None:
    filters = {
        "groups": [{"properties": [PRO], "variant": "other"}, {"rollout_percentage": 100}],
        "multivariate": {"variants": VARIANTS_50_25_25},
    }
    pro_user = ctx(person_properties={"plan": "pro"})
    assert evaluate_flag(flag(filters, key="multivariate-flag"), pro_user).variant == "other"
    # Falls through to the hashed variant for everyone else (distinct_id_2 → control).
    fallthrough = evaluate_flag(flag(filters, key="multivariate-flag"), ctx("distinct_id_2"))
    assert (fallthrough.variant, fallthrough.condition_index, fallthrough.value) == ("control", 1, "control")


@pytest.mark.parametrize(
    ("filters", "variant", "payload"),
    [
        ({"groups": [{"rollout_percentage": 100}], "payloads": {"true": '{"a": 1}'}}, None, '{"a": 1}'),
        (
            {
                "groups": [{"rollout_percentage": 100}],
                "multivariate": {"variants": VARIANTS_50_25_25},
                "payloads": {"test": "[1, 2]", "control": '"c"'},
            },
            "test",
            "[1, 2]",
        ),
        ({"groups": [{"rollout_percentage": 0}], "payloads": {"true": "1"}}, None, None),  # disabled: no payload
    ],
)
def test_payload_follows_the_value(filters: dict[str, Any], variant: str | None, payload: Any) -> None:
    result = evaluate_flag(flag(filters, key="multivariate-flag"), ctx("distinct_id_0"))
    assert (result.variant, result.payload) == (variant, payload)


GROUP_FLAG = {
    "aggregation_group_type_index": 0,
    "groups": [
        {
            "properties": [{"key": "tier", "value": "enterprise", "type": "group", "group_type_index": 0}],
            "rollout_percentage": 100,
        }
    ],
}


@pytest.mark.parametrize(
    ("groups", "group_properties", "enabled", "reason"),
    [
        ({"company": "acme"}, {"company": {"tier": "enterprise"}}, True, CONDITION_MATCH),
        ({"company": "acme"}, {"company": {"tier": "startup"}}, False, NO_CONDITION_MATCH),
        ({}, {}, False, NO_GROUP_TYPE),
        ({"project": "p1"}, {"project": {"tier": "enterprise"}}, False, NO_GROUP_TYPE),
    ],
)
def test_group_flags_use_group_key_and_properties(
    groups: dict[str, str], group_properties: dict[str, Any], enabled: bool, reason: str
) -> None:
    context = ctx(groups=groups, group_properties=group_properties, group_type_mapping={0: "company"})
    result = evaluate_flag(flag(GROUP_FLAG), context)
    assert (result.enabled, result.reason) == (enabled, reason)


def test_group_flag_rollout_buckets_on_group_key() -> None:
    filters = {"aggregation_group_type_index": 0, "groups": [{"rollout_percentage": 50}]}
    mapping = {0: "company"}
    for key in ("user-1", "user-2", "user-3"):
        expected = in_rollout("new-dashboard", key, 50)
        context = ctx("someone-else", groups={"company": key}, group_type_mapping=mapping)
        assert evaluate_flag(flag(filters, key="new-dashboard"), context).enabled is expected


def test_device_id_bucketing() -> None:
    filters = {"groups": [{"rollout_percentage": 50}], "bucketing_identifier": "device_id"}
    assert evaluate_flag(flag(filters, key="new-dashboard"), ctx("user-1", device_id="user-2")).enabled is True
    assert evaluate_flag(flag(filters, key="new-dashboard"), ctx("user-2", device_id="user-1")).enabled is False


def depends_on(flag_id: int, value: Any) -> dict[str, Any]:
    return {"groups": [{"properties": [{"key": str(flag_id), "type": "flag", "value": value}]}]}


ON = FlagDefinition(id=1, key="on", active=True, filters={"groups": [{"rollout_percentage": 100}]})
OFF = FlagDefinition(id=2, key="off", active=True, filters={"groups": [{"rollout_percentage": 0}]})
BLUE = FlagDefinition(
    id=3,
    key="blue",
    active=True,
    filters={"groups": [{}], "multivariate": {"variants": [{"key": "blue", "rollout_percentage": 100}]}},
)


@pytest.mark.parametrize(
    ("filters", "enabled"),
    [
        (depends_on(1, True), True),
        (depends_on(1, False), False),
        (depends_on(2, True), False),
        (depends_on(2, False), True),
        (depends_on(3, "blue"), True),
        (depends_on(3, "red"), False),
        (depends_on(1, "blue"), False),  # boolean flag has no variant
        (depends_on(99, True), False),  # unknown flag
    ],
)
def test_flag_dependencies(filters: dict[str, Any], enabled: bool) -> None:
    dependent = FlagDefinition(id=10, key="dependent", active=True, filters=filters)
    results = evaluate_flags([ON, OFF, BLUE, dependent], ctx())
    assert results["dependent"].enabled is enabled


def test_circular_dependencies_never_match() -> None:
    first = FlagDefinition(id=20, key="first", active=True, filters=depends_on(21, True))
    second = FlagDefinition(id=21, key="second", active=True, filters=depends_on(20, True))
    results = evaluate_flags([first, second], ctx())
    assert (results["first"].enabled, results["second"].enabled) == (False, False)


def test_only_keys_still_resolves_dependencies() -> None:
    dependent = FlagDefinition(id=10, key="dependent", active=True, filters=depends_on(1, True))
    assert list(evaluate_flags([ON, dependent], ctx(), only_keys=["dependent"])) == ["dependent"]
    assert evaluate_flags([ON, dependent], ctx(), only_keys=["dependent"])["dependent"].enabled is True
