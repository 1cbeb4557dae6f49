"""CSV and XLSX exports of HogQL queries over events (§A13): the rows equal the query's, nested JSON is
flattened, `columns` is honoured, formula-looking text is neutralised, zero rows follow PostHog's rule."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import openpyxl
import orjson
import pytest

from exports.models import ExportedAsset
from exports.sources import query_pages
from exports.tabular import NO_DATA, header_for, neutralise
from query.runner import hogql_execute
from tests.exports.conftest import CSV, XLSX, create, exports_url, hogql, insert_events

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _export(project: Any, fmt: str, context: dict[str, Any]) -> bytes:
    response = create(project, {"export_format": fmt, "export_context": context})
    assert response.status_code == 201, response.content
    assert response.json()["has_content"] is True, response.json()
    download = project.client().get(exports_url(project, f"{response.json()['id']}/content/"), {"download": "true"})
    assert download.status_code == 200
    return download.content


def _csv(data: bytes) -> list[list[str]]:
    assert b"\r\n" in data and b"\n\n" not in data.replace(b"\r\n", b"")
    return list(csv.reader(io.StringIO(data.decode())))


def _xlsx(data: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _seed(project: Any) -> None:
    insert_events(
        project.team.pk,
        [
            {"event": "signup", "distinct_id": f"user-{i}", "timestamp": NOW - dt.timedelta(minutes=i),
             "properties": {"$browser": "Chrome" if i % 2 else "Safari", "plan": {"tier": "pro", "seats": i}}}
            for i in range(5)
        ]
        + [{"event": "=HYPERLINK(\"http://evil\")", "distinct_id": "+cmd", "properties": {"note": "@SUM(A1)"}}],
    )  # fmt: skip


SIMPLE = "SELECT event, distinct_id, count() AS n FROM events GROUP BY event, distinct_id ORDER BY distinct_id"


def test_csv_header_and_rows_equal_the_query_results(project: Any) -> None:
    _seed(project)
    result = hogql_execute(team=project.team, query=SIMPLE, limit_context="export")

    rows = _csv(_export(project, CSV, hogql(SIMPLE)))

    assert rows[0] == result.columns == ["event", "distinct_id", "n"]
    expected = [[neutralise(str(cell)) for cell in row] for row in result.results]
    assert rows[1:] == expected
    assert len(rows) == 7


def test_xlsx_opens_with_openpyxl_and_holds_the_same_data(project: Any) -> None:
    _seed(project)
    result = hogql_execute(team=project.team, query=SIMPLE, limit_context="export")

    sheet = _xlsx(_export(project, XLSX, hogql(SIMPLE)))

    assert sheet[0] == ["event", "distinct_id", "n"]
    assert sheet[1:] == [[neutralise(row[0]), neutralise(row[1]), row[2]] for row in result.results]
    assert isinstance(sheet[1][2], int)


def test_formula_looking_cells_are_neutralised_in_both_formats(project: Any) -> None:
    _seed(project)
    query = "SELECT event, distinct_id, properties.note AS note, -5 AS minus FROM events WHERE distinct_id = '+cmd'"

    csv_rows = _csv(_export(project, CSV, hogql(query)))
    xlsx_rows = _xlsx(_export(project, XLSX, hogql(query)))

    assert csv_rows[1] == ['\'=HYPERLINK("http://evil")', "'+cmd", "'@SUM(A1)", "-5"]
    assert xlsx_rows[1] == ['\'=HYPERLINK("http://evil")', "'+cmd", "'@SUM(A1)", -5]


def test_nested_json_is_flattened_and_grouped_by_prefix(project: Any) -> None:
    _seed(project)
    query = "SELECT distinct_id, properties, event FROM events WHERE event = 'signup' ORDER BY distinct_id LIMIT 2"

    rows = _csv(_export(project, CSV, hogql(query)))

    assert rows[0] == ["distinct_id", "properties.$browser", "properties.plan.tier", "properties.plan.seats", "event"]
    assert rows[1] == ["user-0", "Safari", "pro", "0", "signup"]
    assert rows[2] == ["user-1", "Chrome", "pro", "1", "signup"]


def test_maps_and_arrays_flatten_with_dots_and_indexes(project: Any) -> None:
    query = "SELECT map('a', 1, 'b', 2) AS m, [10, 20] AS arr, tuple('x', 'y') AS t"
    assert _csv(_export(project, CSV, hogql(query))) == [
        ["m.a", "m.b", "arr.0", "arr.1", "t.0", "t.1"],
        ["1", "2", "10", "20", "x", "y"],
    ]


def test_columns_keep_the_users_order_expand_nested_and_keep_unknown(project: Any) -> None:
    _seed(project)
    query = "SELECT distinct_id, event, properties FROM events WHERE event = 'signup' ORDER BY distinct_id LIMIT 1"
    context = hogql(query, columns=["event", "tomato", "properties", "distinct_id"])

    rows = _csv(_export(project, CSV, context))
    sheet = _xlsx(_export(project, XLSX, context))

    header = ["event", "tomato", "properties.$browser", "properties.plan.tier", "properties.plan.seats", "distinct_id"]
    assert rows == [header, ["signup", "", "Safari", "pro", "0", "user-0"]]
    assert sheet == [header, ["signup", None, "Safari", "pro", 0, "user-0"]]


def test_zero_rows_give_the_error_column_or_the_requested_header(project: Any) -> None:
    empty = "SELECT event FROM events WHERE event = 'never'"
    assert _export(project, CSV, hogql(empty)) == f"error\r\n{NO_DATA}\r\n".encode()
    assert _export(project, CSV, hogql(empty, columns=["event", "x"])) == b"event,x\r\n,\r\n"
    assert _xlsx(_export(project, XLSX, hogql(empty))) == [["error"], [NO_DATA]]


def test_json_export_is_the_rows_as_objects(project: Any) -> None:
    _seed(project)
    data = _export(project, "application/json", hogql(SIMPLE + " LIMIT 2"))
    assert orjson.loads(data) == [
        {"event": '=HYPERLINK("http://evil")', "distinct_id": "+cmd", "n": 1},
        {"event": "signup", "distinct_id": "user-0", "n": 1},
    ]


def test_pages_through_the_runner_ten_thousand_rows_at_a_time(project: Any) -> None:
    query = "SELECT number FROM numbers(25001)"
    response = create(project, {"export_format": CSV, "export_context": hogql(query)})
    rows = bytes(ExportedAsset.objects.get(pk=response.json()["id"]).content).split(b"\r\n")
    assert rows[0] == b"number" and rows[1:-1] == [str(n).encode() for n in range(25001)]


def test_header_rules_without_and_with_columns() -> None:
    keys = ["id", "properties.a", "event", "properties.b", "person.name"]
    assert header_for(keys, None) == ["id", "properties.a", "properties.b", "event", "person.name"]
    assert header_for(keys, ["person", "event", "properties.b", "x"]) == ["person.name", "event", "properties.b", "x"]
    assert header_for(["a", "a.b"], ["a"]) == ["a", "a.b"]


def test_the_runner_is_read_in_pages_of_ten_thousand(project: Any) -> None:
    pages = query_pages(team=project.team, source=hogql("SELECT number FROM numbers(25001)")["source"])
    assert [len(rows) for _columns, _types, rows in pages] == [10_000, 10_000, 5_001]


def test_an_unordered_query_over_several_pages_exports_each_row_once(project: Any) -> None:
    insert_events(project.team.pk, [{"event": "e", "properties": {"n": i}} for i in range(25_001)])
    response = create(project, {"export_format": CSV, "export_context": hogql("SELECT properties.n FROM events")})
    lines = bytes(ExportedAsset.objects.get(pk=response.json()["id"]).content).split(b"\r\n")[1:-1]
    assert sorted(int(n) for n in lines) == list(range(25_001))


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_every_risky_leading_character_is_neutralised_in_csv_and_xlsx(project: Any, prefix: str) -> None:
    text = f"{prefix}HYPERLINK(1)"
    query = f"SELECT '{text.replace(chr(9), chr(92) + 't').replace(chr(13), chr(92) + 'r')}' AS v"

    assert _csv(_export(project, CSV, hogql(query)))[1] == [f"'{text}"]
    data = _export(project, XLSX, hogql(query))
    cell = next(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2))[0]
    assert cell.data_type == "s" and cell.value[0] == "'"  # text, not a formula (XML reads "\r" back as "\n")
    assert cell.value[1:] == text.replace("\r", "\n")


def test_xlsx_control_characters_cannot_hide_a_formula(project: Any) -> None:
    # The control character Excel cannot hold is stripped: "\x01=1+1" used to become a live "=1+1" formula.
    data = _export(project, XLSX, hogql("SELECT '\\x01=1+1' AS a, '\\x02@SUM(A1)' AS b"))
    cells = next(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2))
    assert [(c.data_type, c.value) for c in cells] == [("s", "'=1+1"), ("s", "'@SUM(A1)")]
