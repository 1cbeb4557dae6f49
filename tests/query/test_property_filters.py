"""Property filters → HogQL (query/properties.py): the HogQL text per filter, the validation errors, and an
end-to-end table over a fixed dataset whose matching events were worked out by hand (TV-11 and more)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jsonschema
import pytest
from rest_framework import serializers

from definitions.models import PropertyDefinition
from posthog_clone.clickhouse import get_client, table
from query.dates import parse_date
from query.hogql.parser import parse_select, to_hogql
from query.properties import PropertyFilterError, property_filters_to_expr
from query.property_serializers import PROPERTIES_SCHEMA, PropertyFiltersField
from query.runner import hogql_execute
from tests.query.conftest import insert_events, insert_person

NOW = dt.datetime(2024, 5, 15, 14, 30, tzinfo=dt.UTC)  # Wednesday, as in TV-12
TYPES = {(1, "amount"): "Numeric", (1, "flag"): "Boolean", (1, "when"): "DateTime"}


def ev(key: str, operator: str | None = None, value: Any = None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"type": extra.pop("type", "event"), "key": key, **extra}
    if operator is not None:
        item["operator"] = operator
    if value is not None:
        item["value"] = value
    return item


def person(key: str, operator: str | None = None, value: Any = None) -> dict[str, Any]:
    return ev(key, operator, value, type="person")


def element(key: str, operator: str | None = None, value: Any = None) -> dict[str, Any]:
    return ev(key, operator, value, type="element")


def hogql(filters: Any, **kwargs: Any) -> str:
    kwargs.setdefault("property_types", TYPES)
    kwargs.setdefault("now", NOW)
    return to_hogql(property_filters_to_expr(filters, **kwargs))


TEXT_CASES: list[tuple[Any, str]] = [
    (None, "TRUE"),
    ([], "TRUE"),
    ({}, "TRUE"),
    ({"type": "AND", "values": []}, "TRUE"),
    ({"type": "OR", "values": []}, "TRUE"),
    (ev("$browser", value="Chrome"), "properties.`$browser` = 'Chrome'"),
    (ev("$browser", "exact", ["Chrome"]), "properties.`$browser` = 'Chrome'"),
    (ev("$browser", "exact", ["Chrome", "Firefox"]), "properties.`$browser` IN ('Chrome', 'Firefox')"),
    (ev("$browser", "exact", []), "TRUE"),
    (ev("$browser", "is_not", "Chrome"), "properties.`$browser` <> 'Chrome'"),
    (ev("$browser", "is_not", ["Chrome", "Firefox"]),
     "ifNull(NOT (properties.`$browser` IN ('Chrome', 'Firefox')), 1)"),
    (ev("$browser", "icontains", "chr"), "properties.`$browser` ILIKE '%chr%'"),
    (ev("$browser", "icontains", "50%_a\\b"), "properties.`$browser` ILIKE '%50\\\\%\\\\_a\\\\\\\\b%'"),
    (ev("$browser", "icontains", ["chr", "fox"]),
     "properties.`$browser` ILIKE '%chr%' OR properties.`$browser` ILIKE '%fox%'"),
    (ev("$browser", "not_icontains", ["chr", "fox"]),
     "ifNull(NOT properties.`$browser` ILIKE '%chr%', 1) AND ifNull(NOT properties.`$browser` ILIKE '%fox%', 1)"),
    (ev("$browser", "regex", "^Fire"), "match(properties.`$browser`, '^Fire')"),
    (ev("$browser", "not_regex", "^Fire"), "ifNull(NOT match(properties.`$browser`, '^Fire'), 1)"),
    (ev("$browser", "is_set"), "isNotNull(properties.`$browser`)"),
    (ev("$browser", "is_not_set", "ignored"), "isNull(properties.`$browser`)"),
    (ev("amount", "gt", 6), "properties.amount > 6"),
    (ev("amount", "gte", "5.5"), "properties.amount >= 5.5"),
    (ev("amount", "lt", "10"), "properties.amount < 10"),
    (ev("amount", "lte", -1), "properties.amount <= -1"),
    (ev("amount", "min", 5), "properties.amount >= 5"),
    (ev("amount", "max", 5), "properties.amount <= 5"),
    (ev("amount", "gt", [1, 2]), "properties.amount > 1 OR properties.amount > 2"),
    (ev("n", "gt", 6), "properties.n > '6'"),  # untyped: a string comparison, as PostHog
    (ev("amount", "between", [5, 10]), "properties.amount >= 5 AND properties.amount <= 10"),
    (ev("n", "between", ["5", 10.5]), "toFloat(properties.n) >= 5 AND toFloat(properties.n) <= 10.5"),
    (ev("amount", "not_between", [6, 10]), "properties.amount < 6 OR properties.amount > 10"),
    (ev("flag", "exact", True), "properties.flag = TRUE"),
    (ev("flag", "exact", "false"), "properties.flag = FALSE"),
    (ev("vip", "exact", True), "properties.vip = 'true'"),
    (ev("n", "exact", 10), "properties.n = '10'"),
    (ev("amount", "exact", "10"), "properties.amount = 10"),
    (ev("when", "exact", "2024-05-14T10:00:00"), "properties.when = toDateTime('2024-05-14 10:00:00.000000')"),
    (ev("when", "gt", "-1dStart"), "properties.when > toDateTime('2024-05-14 00:00:00.000000')"),
    (ev("when", "is_date_after", "-3d"), "toDateTime(properties.when) > toDateTime('2024-05-12 00:00:00.000000')"),
    (ev("when", "is_date_before", "-10M"),
     "toDateTime(properties.when) < toDateTime('2024-05-15 14:20:00.000000')"),
    (ev("when", "is_date_before", "-1mStart"),
     "toDateTime(properties.when) < toDateTime('2024-04-01 00:00:00.000000')"),
    (ev("when", "is_date_exact", "2024-05-14"), "toDate(toDateTime(properties.when)) = '2024-05-14'"),
    (ev("when", "is_date_exact", "2024-05-14T10:00:00Z"),
     "toDateTime(properties.when) = toDateTime('2024-05-14 10:00:00.000000')"),
    (ev("$browser", "in", ["Chrome", "Safari"]), "properties.`$browser` IN ('Chrome', 'Safari')"),
    (ev("$browser", "not_in", ["Chrome"]), "properties.`$browser` <> 'Chrome'"),
    (ev("$browser", "in", []), "FALSE"),
    (ev("$pathname", "is_cleaned_path_exact", "/items/<id>/"), "properties.`$pathname` = '/items/<id>/'"),
    (ev("$elements_chain", "icontains", "nav"), "elements_chain ILIKE '%nav%'"),
    (ev("a b`c'd", value="x"), "properties.`a b``c'd` = 'x'"),
    (person("email", "icontains", "@x.com"), "person.properties.email ILIKE '%@x.com%'"),
    (person("distinct_id", "exact", "u1"),
     "person_id IN (SELECT person_id FROM person_distinct_ids WHERE distinct_id = 'u1')"),
    (person("distinct_id", "is_not", ["u1", "u2"]),
     "NOT (person_id IN (SELECT person_id FROM person_distinct_ids WHERE distinct_id IN ('u1', 'u2')))"),
    (ev("$session_duration", "gt", 60, type="session"), "session.`$session_duration` > 60"),
    (ev("$entry_pathname", "exact", "/", type="session"), "session.`$entry_pathname` = '/'"),
    (ev("name", "exact", "acme", type="group", group_type_index=2), "group_2.properties.name = 'acme'"),
    (ev("event = 'a' OR properties.x > '1'", type="hogql", value=None), "event = 'a' OR properties.x > '1'"),
    ({"type": "flag", "key": "my-flag", "value": True}, "TRUE"),
    (element("tag_name", "exact", "button"), "match(elements_chain, '(^|;)button([.:;]|$)')"),
    (element("tag_name", "is_not", ["a", "button"]),
     "NOT match(elements_chain, '(^|;)a([.:;]|$)') AND NOT match(elements_chain, '(^|;)button([.:;]|$)')"),
    (element("selector", "exact", ".primary"),
     "match(elements_chain, '(^|;)[^.:;]*(\\\\.[^.:;]*)*?\\\\.primary(\\\\.[^.:;]*)*(:[^;]*)?(;|$)')"),
    (element("text", "exact", "Sign up"),
     "arrayExists(x -> x = 'Sign up', extractAll(elements_chain, '[:\"]text=\"((?:[^\"\\\\\\\\]|\\\\\\\\.)*)\"'))"),
    (element("href", "is_not_set"),
     "NOT length(extractAll(elements_chain, '[:\"]href=\"((?:[^\"\\\\\\\\]|\\\\\\\\.)*)\"')) > 0"),
    ([ev("a", value="1"), person("b", value="2")], "properties.a = '1' AND person.properties.b = '2'"),
    ({"type": "OR", "values": [ev("$browser", value="Chrome"), ev("$browser", "is_not_set")]},
     "properties.`$browser` = 'Chrome' OR isNull(properties.`$browser`)"),
    ({"type": "AND", "values": [{"type": "OR", "values": [ev("a", value="1"), ev("b", "is_set")]},
                                {"type": "AND", "values": [ev("c", value="3")]}]},
     "(properties.a = '1' OR isNotNull(properties.b)) AND properties.c = '3'"),
    ({"type": "OR", "values": [ev("a", value="1"), {"type": "AND", "values": []}]}, "TRUE"),
]  # fmt: skip


@pytest.mark.parametrize(("filters", "expected"), TEXT_CASES)
def test_filter_to_hogql_text(filters: Any, expected: str) -> None:
    text = hogql(filters)
    assert text == expected
    assert to_hogql(parse_select(f"SELECT {text}").expressions[0]) == text  # the text parses back as is


def test_person_scope_reads_the_persons_table() -> None:
    assert hogql(person("email", "exact", "a@x.com"), scope="person") == "properties.email = 'a@x.com'"
    assert hogql(person("distinct_id", "exact", "u1"), scope="person") == (
        "id IN (SELECT person_id FROM person_distinct_ids WHERE distinct_id = 'u1')"
    )


def test_path_cleaning_rules_apply_before_the_comparison() -> None:
    rules = [{"regex": "/\\d+/", "alias": "/<id>/"}]
    text = hogql(ev("$pathname", "is_cleaned_path_exact", "/items/<id>/"), path_cleaning_filters=rules)
    assert text == "replaceRegexpAll(properties.`$pathname`, '/\\\\d+/', '/<id>/') = '/items/<id>/'"


def resolve_date(value: Any, timezone: str, now: dt.datetime | None = None) -> tuple[dt.datetime, bool]:
    parsed = parse_date(value, timezone, now)
    return parsed.moment, parsed.date_only


def test_relative_dates_resolve_in_the_team_timezone() -> None:
    assert resolve_date("-7d", "UTC", NOW) == (dt.datetime(2024, 5, 8), False)
    assert resolve_date("-24h", "UTC", NOW) == (dt.datetime(2024, 5, 14, 14), False)
    assert resolve_date("-30M", "UTC", NOW) == (dt.datetime(2024, 5, 15, 14, 0), False)
    assert resolve_date("-3m", "UTC", NOW) == (dt.datetime(2024, 2, 15), False)
    assert resolve_date("-1q", "UTC", NOW) == (dt.datetime(2024, 2, 14), False)
    assert resolve_date("mStart", "UTC", NOW) == (dt.datetime(2024, 5, 1), False)
    assert resolve_date("-1mEnd", "UTC", NOW) == (dt.datetime(2024, 4, 30, 23, 59, 59, 999999), False)
    assert resolve_date("yStart", "UTC", NOW) == (dt.datetime(2024, 1, 1), False)
    assert resolve_date("-1dEnd", "UTC", NOW) == (dt.datetime(2024, 5, 14, 23, 59, 59, 999999), False)
    # 02:00 UTC on the 15th is still the 14th in New York
    early = dt.datetime(2024, 5, 15, 2, 0, tzinfo=dt.UTC)
    assert resolve_date("-0d", "America/New_York", early) == (dt.datetime(2024, 5, 14), False)
    assert resolve_date("2024-05-01T12:00:00+00:00", "America/New_York") == (dt.datetime(2024, 5, 1, 8), False)
    assert resolve_date("2024-05-01", "America/New_York") == (dt.datetime(2024, 5, 1), True)
    assert resolve_date("-0d", "America/New_York", early.replace(tzinfo=None)) == (dt.datetime(2024, 5, 14), False)


ERROR_CASES: list[tuple[Any, str, str]] = [
    (ev("a", value="1", type="nonsense"), "Unknown property filter type 'nonsense'", "type"),
    ({"type": "cohort", "key": "id", "value": "x"}, "Cohort property value must be a cohort ID", "value"),
    ({"type": "action", "key": "id", "value": 3}, "type 'action' are not supported yet", "type"),
    ({"type": "recording", "key": "duration", "value": 3}, "type 'recording' are not supported", "type"),
    ([ev("a", "contains", "x")], "Unknown property operator 'contains'", "0__operator"),
    (ev("a", "semver_gt", "1.0.0"), "PropertyOperator semver_gt not implemented", "operator"),
    (ev("a", "exact", {"x": 1}), "must be a string, number, boolean or a list of them", "value"),
    (ev("a", "exact", [["x"]]), "must be a string, number, boolean or a list of them", "value"),
    (ev("a", "exact"), "The exact operator needs a value", "value"),
    (ev("a", "icontains"), "The icontains operator needs a value", "value"),
    (ev("", "exact", "x"), "needs a non-empty string key", "key"),
    ({"type": "event", "value": "x"}, "needs a non-empty string key", "key"),
    (ev("a", "exact", "x", extra=1), "Unknown field 'extra' in a event property filter", "extra"),
    ("$browser", "must be an object, got str", ""),
    ({"type": "XOR", "values": []}, 'PropertyGroupFilter of unknown type "XOR"', "type"),
    ({"type": "AND", "values": {}}, "values must be a list", "values"),
    ({"type": "AND", "values": [ev("a", "nope", "x")]}, "Unknown property operator 'nope'", "values__0__operator"),
    ({"type": "AND", "values": [], "x": 1}, 'Unknown field "x" in a property group', "x"),
    (ev("amount", "between", [5]), "between operator requires a two-element array [min, max]", "value"),
    (ev("amount", "between", "5"), "between operator requires a two-element array [min, max]", "value"),
    (ev("amount", "not_between", ["a", 5]), "not_between operator requires numeric values", "value"),
    (ev("amount", "between", [10, 5]), "requires min value to be less than or equal to max value", "value"),
    (ev("amount", "between"), "between operator requires a two-element array [min, max]", "value"),
    (ev("amount", "gt", "lots"), "Value 'lots' is not a number", "value"),
    (ev("amount", "exact", ["1", "x"]), "Value 'x' is not a number", "value__1"),
    (ev("flag", "exact", "yes"), "Value 'yes' is not a boolean", "value"),
    (ev("when", "is_date_after", "last tuesday"), "Invalid date 'last tuesday'", "value"),
    (ev("when", "is_date_after", True), "Invalid date 'True'", "value"),
    (ev("when", "lt", "soon"), "Invalid date 'soon'", "value"),
    (ev("$browser", "regex", "(unclosed"), "Invalid regex '(unclosed'", "value"),
    (ev("$nope", "exact", "x", type="session"), "Unknown session property '$nope'", "key"),
    (ev("$urls", "exact", "x", type="session"), "is a list and cannot be filtered on", "key"),
    (ev("name", "exact", "x", type="group"), "group_type_index 0 to 4", "group_type_index"),
    (ev("name", "exact", "x", type="group", group_type_index=5), "group_type_index 0 to 4", "group_type_index"),
    (element("color", "exact", "red"), "Unknown element property 'color'", "key"),
    (element("selector", "icontains", "a"),
     "property_to_expr for element selector only supports exact and is_not operators, not icontains", "operator"),
    (element("selector", "exact", "a:hover"), "Unsupported element selector 'a:hover'", "value"),
    (element("selector", "exact", "a + b"), "Unsupported element selector 'a + b'", "value"),
    (element("tag_name", "exact", "a;b"), "Invalid tag name 'a;b'", "value"),
    (ev("1 FROM events", type="hogql"), "must be exactly one expression", "key"),
    (ev("1, 2", type="hogql"), "must be exactly one expression", "key"),
    (ev("1 AS x", type="hogql"), "must be exactly one expression", "key"),
    (ev("{x} = 1", type="hogql"), "Placeholders are not allowed", "key"),
    (ev("event = ", type="hogql"), "Invalid HogQL in property filter: Syntax error", "key"),
]  # fmt: skip


@pytest.mark.parametrize(("filters", "message", "attr"), ERROR_CASES)
def test_bad_filters_raise_a_validation_error_naming_the_problem(filters: Any, message: str, attr: str) -> None:
    with pytest.raises(PropertyFilterError) as caught:
        hogql(filters)
    assert message in caught.value.message
    assert caught.value.attr == attr


def test_scope_errors_name_the_type_and_scope() -> None:
    for item in (
        ev("$browser", value="x"),
        ev("$session_duration", "gt", 1, type="session"),
        element("text", "exact", "x"),
    ):
        with pytest.raises(
            PropertyFilterError, match=f"The '{item['type']}' property filter does not work in 'person'"
        ):
            hogql(item, scope="person")  # fmt: skip


def test_the_serializer_field_reports_the_path_of_the_problem() -> None:
    class Query(serializers.Serializer):
        properties = PropertyFiltersField(required=False)

    good = Query(data={"properties": {"type": "AND", "values": [ev("a", "is_set")]}})
    assert good.is_valid(), good.errors
    assert good.validated_data["properties"] == {"type": "AND", "values": [ev("a", "is_set")]}
    bad = Query(data={"properties": [ev("a", value="1"), ev("b", "bogus", "1")]})
    assert not bad.is_valid()
    assert bad.errors == {"properties": {"1__operator": ["Unknown property operator 'bogus'"]}}


# ---------------------------------------------------------------------------------------------------
# end to end over chDB: events E1..E4 (TV-11 plus persons, sessions, groups, elements)

T = dt.datetime(2024, 5, 14, 10, 0, tzinfo=dt.UTC)
CHAIN_E1 = (
    'a.btn.primary:attr__href="/go"attr_class="btn primary"attr_id="go"href="/go"nth-child="1"text="Sign up";'
    'div.nav:attr_class="nav"nth-child="2";body'
)
CHAIN_E2 = 'button:nth-child="1"text="Buy \\"now\\"";div.nav.shop:attr_class="nav shop"'
EVENTS = [
    {"event": "E1", "distinct_id": "u1", "timestamp": T, "elements_chain": CHAIN_E1,
     "properties": {"$browser": "Chrome", "amount": 10, "flag": True, "vip": True, "when": "2024-05-14T10:00:00Z",
                    "$pathname": "/items/123/", "$session_id": "s1", "$group_0": "acme"}},
    {"event": "E2", "distinct_id": "u2", "timestamp": T, "elements_chain": CHAIN_E2,
     "properties": {"$browser": "Firefox", "amount": 5, "flag": False, "when": "2024-05-01",
                    "$pathname": "/items/", "$session_id": "s2", "$group_0": "globex"}},
    {"event": "E3", "distinct_id": "u3", "timestamp": T, "properties": {}},
    {"event": "E4", "distinct_id": "u1-alias", "timestamp": T + dt.timedelta(minutes=5),
     "properties": {"$browser": "", "$session_id": "s1"}},
]  # fmt: skip
ALL = ["E1", "E2", "E3", "E4"]

E2E_CASES: list[tuple[Any, list[str]]] = [
    # TV-11
    (ev("$browser", "exact", "Chrome"), ["E1"]),
    (ev("$browser", "exact", ["Chrome", "Firefox"]), ["E1", "E2"]),
    (ev("$browser", "is_not", "Chrome"), ["E2", "E3", "E4"]),
    (ev("$browser", "icontains", "chr"), ["E1"]),
    (ev("$browser", "not_icontains", "chr"), ["E2", "E3", "E4"]),
    (ev("$browser", "regex", "^Fire"), ["E2"]),
    (ev("$browser", "not_regex", "^Fire"), ["E1", "E3", "E4"]),
    (ev("$browser", "is_set"), ["E1", "E2", "E4"]),
    (ev("$browser", "is_not_set"), ["E3"]),
    (ev("amount", "gt", 6), ["E1"]),
    (ev("amount", "between", [5, 10]), ["E1", "E2"]),
    (ev("amount", "not_between", [6, 10]), ["E2"]),
    ({"type": "OR", "values": [ev("$browser", "exact", "Chrome"), ev("$browser", "is_not_set")]}, ["E1", "E3"]),
    # lists: OR for exact/icontains, AND for the negative operators
    (ev("$browser", "exact", []), ALL),
    (ev("$browser", "is_not", ["Chrome", "Firefox"]), ["E3", "E4"]),
    (ev("$browser", "icontains", ["chr", "FOX"]), ["E1", "E2"]),
    (ev("$browser", "not_icontains", ["chr", "fox"]), ["E3", "E4"]),
    (ev("$browser", "regex", ["^C", "^F"]), ["E1", "E2"]),
    (ev("$browser", "not_regex", ["^C", "^F"]), ["E3", "E4"]),
    (ev("$browser", "in", ["Chrome", "Safari"]), ["E1"]),
    (ev("$browser", "not_in", ["Chrome", "Firefox"]), ["E3", "E4"]),
    # numbers (amount is Numeric-typed), strings compared as strings
    (ev("amount", "gte", 5), ["E1", "E2"]),
    (ev("amount", "lt", "10"), ["E2"]),
    (ev("amount", "lte", 5), ["E2"]),
    (ev("amount", "min", 10), ["E1"]),
    (ev("amount", "max", 9.5), ["E2"]),
    (ev("amount", "exact", "10"), ["E1"]),
    (ev("amount", "is_not", 10), ["E2", "E3", "E4"]),
    (ev("$browser", "gt", "D"), ["E2"]),
    (ev("$pathname", "between", [0, 1000]), []),  # not numbers at all
    # booleans: typed (flag) and untyped (vip, stored as "true")
    (ev("flag", "exact", True), ["E1"]),
    (ev("flag", "exact", "false"), ["E2"]),
    (ev("flag", "is_not", True), ["E2", "E3", "E4"]),
    (ev("vip", "exact", True), ["E1"]),
    # dates: `when` is DateTime-typed; person `signup` is not (parsed best effort)
    (ev("when", "is_date_after", "-3d"), ["E1"]),
    (ev("when", "is_date_before", "2024-05-10"), ["E2"]),
    (ev("when", "is_date_exact", "2024-05-14"), ["E1"]),
    (ev("when", "is_date_exact", "2024-05-14T10:00:00Z"), ["E1"]),
    (ev("when", "exact", "2024-05-14T10:00:00"), ["E1"]),
    (ev("when", "lt", "-7d"), ["E2"]),
    (ev("when", "is_date_after", "-1mStart"), ["E1", "E2"]),
    (person("signup", "is_date_before", "-30d"), ["E2"]),
    (person("signup", "is_date_exact", "2024-01-07"), ["E2"]),
    (person("signup", "is_date_after", "-7d"), ["E1", "E4"]),
    # path cleaning (rules passed in below)
    (ev("$pathname", "is_cleaned_path_exact", "/items/<id>/"), ["E1"]),
    # person properties and the person's distinct ids
    (person("email", "icontains", "@x.com"), ["E1", "E4"]),
    (person("plan", "exact", "free"), ["E2"]),
    (person("email", "is_not_set"), ["E3"]),
    (person("email", "is_not", "a@x.com"), ["E2", "E3"]),
    (person("distinct_id", "exact", "u1-alias"), ["E1", "E4"]),
    (person("distinct_id", "is_not", "u1"), ["E2", "E3"]),
    (person("distinct_id", "regex", "^u[23]$"), ["E2", "E3"]),
    # sessions: s1 = E1 + E4, five minutes
    (ev("$session_duration", "gt", 60, type="session"), ["E1", "E4"]),
    (ev("$session_duration", "lte", 60, type="session"), ["E2", "E3"]),
    (ev("$entry_pathname", "exact", "/items/", type="session"), ["E2"]),
    # groups
    (ev("industry", "exact", "retail", type="group", group_type_index=0), ["E1"]),
    (ev("industry", "is_not", "retail", type="group", group_type_index=0), ["E2", "E3", "E4"]),
    # HogQL
    (ev("event = 'E2' OR toFloat(properties.amount) = 10", type="hogql"), ["E1", "E2"]),
    # elements
    (ev("$elements_chain", "icontains", "sign up"), ["E1"]),
    (element("tag_name", "exact", "button"), ["E2"]),
    (element("tag_name", "exact", "bod"), []),
    (element("tag_name", "exact", ["a", "button"]), ["E1", "E2"]),
    (element("tag_name", "is_not", "button"), ["E1", "E3", "E4"]),
    (element("selector", "exact", "div > a.btn"), ["E1"]),
    (element("selector", "exact", "body a#go"), ["E1"]),
    (element("selector", "exact", "body > a"), []),
    (element("selector", "exact", ".primary.btn"), ["E1"]),
    (element("selector", "exact", "div.shop"), ["E2"]),
    (element("selector", "exact", "div.sho"), []),
    (element("selector", "exact", "a.nav"), []),
    (element("selector", "exact", '[href="/go"]'), ["E1"]),
    (element("selector", "is_not", "div.nav"), ["E3", "E4"]),
    (element("text", "exact", "Sign up"), ["E1"]),
    (element("text", "exact", 'Buy "now"'), ["E2"]),
    (element("text", "icontains", 'buy "NOW'), ["E2"]),
    (element("text", "is_not", "Sign up"), ["E2", "E3", "E4"]),
    (element("text", "regex", "^Sign"), ["E1"]),
    (element("text", "not_regex", "^Sign"), ["E2", "E3", "E4"]),
    (element("href", "exact", "/go"), ["E1"]),
    (element("href", "is_set"), ["E1"]),
    (element("href", "is_not_set"), ["E2", "E3", "E4"]),
    # groups of filters, as the UI sends them
    ({"type": "AND", "values": [{"type": "AND", "values": [ev("amount", "gte", 5), person("plan", "exact", "pro")]}]},
     ["E1"]),
    ([{"type": "OR", "values": [ev("$browser", "exact", "Chrome"), ev("$browser", "is_not_set")]},
      person("plan", "is_set")], ["E1"]),
    ({"type": "OR", "values": [{"type": "AND", "values": [ev("amount", "lt", 6), ev("flag", "exact", False)]},
                               element("text", "exact", "Sign up")]}, ["E1", "E2"]),
    (ev("flag", "exact", True, type="flag"), ALL),
]  # fmt: skip


def _seed(project: Any, other_project: Any) -> None:
    team = project.team
    for name, kind in (("amount", "Numeric"), ("flag", "Boolean"), ("when", "DateTime")):
        PropertyDefinition.objects.create(team=team, name=name, property_type=kind, type=1)
    insert_events(team.pk, EVENTS)
    insert_events(other_project.team.pk, EVENTS)  # the same events in another project never show up
    insert_person(team.pk, ["u1", "u1-alias"], {"email": "a@x.com", "plan": "pro", "signup": "2024-05-10 09:00:00"})
    insert_person(team.pk, ["u2"], {"email": "b@y.org", "plan": "free", "signup": "2024-01-07"})
    insert_person(team.pk, ["u3"], {})
    insert_person(other_project.team.pk, ["u3"], {"email": "c@x.com", "plan": "pro"})
    groups = [
        {"group_type_index": 0, "group_key": key, "created_at": "2024-05-01 00:00:00", "team_id": team_id,
         "group_properties": json.dumps(props), "_timestamp": "2024-05-01 00:00:00"}
        for key, props, team_id in (("acme", {"industry": "retail"}, team.pk),
                                    ("globex", {"industry": "tech"}, team.pk),
                                    ("globex", {"industry": "retail"}, other_project.team.pk))
    ]  # fmt: skip
    get_client().insert_json_rows(table("groups"), "\n".join(json.dumps(g) for g in groups).encode())


def _mismatches(team: Any, cases: list[tuple[Any, list[Any]]], select: str, **kwargs: Any) -> list[Any]:
    failures = []
    for filters, expected in cases:
        expr = property_filters_to_expr(filters, property_types=TYPES, now=NOW, timezone=team.timezone, **kwargs)
        query = select.format(where=to_hogql(expr))
        try:
            got = [row[0] for row in hogql_execute(team=team, query=query).results]
        except Exception as error:  # collect every failing case, not only the first
            got = [f"{type(error).__name__}: {error}"]
        if got != expected:
            failures.append((filters, query, expected, got))
    return failures


@pytest.mark.clickhouse
def test_filters_select_the_hand_worked_events(project: Any, other_project: Any) -> None:
    _seed(project, other_project)
    rules = [{"regex": "/\\d+/", "alias": "/<id>/"}]
    select = "SELECT event FROM events WHERE {where} ORDER BY event"
    failures = _mismatches(project.team, E2E_CASES, select, path_cleaning_filters=rules)
    assert not failures, "\n".join(map(repr, failures))


PERSON_CASES: list[tuple[Any, list[Any]]] = [
    (person("plan", "exact", "pro"), ["a@x.com"]),
    (person("email", "is_not", "a@x.com"), ["b@y.org", None]),
    (person("distinct_id", "exact", "u1-alias"), ["a@x.com"]),
    (person("distinct_id", "is_not", ["u1", "u3"]), ["b@y.org"]),
    (person("signup", "is_date_before", "2024-02-01"), ["b@y.org"]),
    ({"type": "OR", "values": [person("plan", "exact", "free"), person("email", "is_not_set")]}, ["b@y.org", None]),
]


@pytest.mark.clickhouse
def test_person_scope_filters_the_persons_table(project: Any, other_project: Any) -> None:
    _seed(project, other_project)
    select = "SELECT properties.email FROM persons WHERE {where} ORDER BY properties.email NULLS LAST"
    failures = _mismatches(project.team, PERSON_CASES, select, scope="person")
    assert not failures, "\n".join(map(repr, failures))


@pytest.mark.clickhouse
def test_dates_are_read_in_the_team_timezone(project: Any, other_project: Any) -> None:
    project.team.timezone = "Asia/Tokyo"  # UTC+9
    project.team.save()
    _seed(project, other_project)
    cases: list[tuple[Any, list[Any]]] = [
        # E1's `when` is 10:00Z = 19:00 in Tokyo: after Tokyo noon, though before UTC noon
        (ev("when", "is_date_before", "2024-05-14T12:00:00"), ["E2"]),
        (ev("when", "is_date_before", "2024-05-14T12:00:00Z"), ["E1", "E2"]),
        (ev("when", "is_date_exact", "2024-05-14"), ["E1"]),
        # `-0dStart` is the start of *Tokyo's* 15 May (NOW is 23:30 there): 14 May 15:00Z
        (ev("when", "is_date_after", "-0dStart"), []),
        (ev("when", "is_date_after", "-1dStart"), ["E1"]),
    ]
    failures = _mismatches(project.team, cases, "SELECT event FROM events WHERE {where} ORDER BY event")
    assert not failures, "\n".join(map(repr, failures))


def test_the_openapi_schema_accepts_every_filter_of_the_tables() -> None:
    valid = [f for f, _ in TEXT_CASES + E2E_CASES if f not in (None, {}, [])]
    for filters in valid:
        jsonschema.validate([filters] if "key" in filters else filters, PROPERTIES_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([ev("a", "contains", "x")], PROPERTIES_SCHEMA)
