"""The runner's offers to other apps that need no ClickHouse: the stable paging order and HogQL variables."""

from __future__ import annotations

import pytest

from query.runner import stable_order, variable_values


@pytest.mark.parametrize(
    ("query", "ordered"),
    [
        ("SELECT event, count() FROM events GROUP BY event",
         "SELECT event, count() FROM events GROUP BY event ORDER BY 1, 2"),
        ("SELECT * FROM events", "SELECT * FROM events ORDER BY 1"),
        ("SELECT a FROM (SELECT 1 AS a)", "SELECT a FROM (SELECT 1 AS a) ORDER BY 1"),
    ],
)  # fmt: skip
def test_an_unordered_select_is_ordered_by_every_column(query: str, ordered: str) -> None:
    assert stable_order(query) == ordered


@pytest.mark.parametrize(
    "query", ["SELECT 1 ORDER BY 1", "SELECT 1 UNION ALL SELECT 2", "SELEC nonsense", "SELECT 1 FROM events WHERE"]
)
def test_a_query_that_cannot_be_reordered_gives_none(query: str) -> None:
    assert stable_order(query) is None


def test_variables_are_keyed_by_code_name_and_null_when_marked() -> None:
    variables = {
        "v1": {"variableId": "v1", "code_name": "plan", "value": "pro"},
        "v2": {"variableId": "v2", "code_name": "n", "value": 3, "isNull": True},
        "v3": {"variableId": "v3", "value": "no code name"},
        "v4": "not an object",
    }
    assert variable_values(variables) == {"plan": "pro", "n": None}
    assert variable_values(None) == {} and variable_values(["x"]) == {}
