"""The SQL page through the real path: the page lists HogQL's tables and columns; a query posted (htmx or a
plain form) runs through query's runner over events captured over HTTP and flushed into ClickHouse, and comes
back as a table and chart data with hand-worked numbers, the project's own rows only; bad queries come back as
their message with the failing text marked (never a 500); CSV and XLSX exports are made by the exports app
and downloaded through the console, by their creator only; CSRF and sessions guard every request."""

from __future__ import annotations

import html as html_lib
import io
import json
import re

import orjson
import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from console.security import CONTENT_SECURITY_POLICY
from console.sql_selectors import DEFAULT_QUERY
from ingestion.worker import flush

HX = {"HTTP_HX_REQUEST": "true"}
PURCHASES_BY_DAY = (
    "SELECT toDate(timestamp) AS day, count() AS purchases, sum(toFloat(properties.amount)) AS revenue\n"
    "FROM events WHERE event = 'purchase' GROUP BY day ORDER BY day"
)


def capture(project, events: list[tuple[str, str, str, dict]]) -> None:
    batch = [{"event": name, "timestamp": at, "properties": {"distinct_id": who, **props}}
             for name, who, at, props in events]  # fmt: skip
    body = orjson.dumps({"api_key": project.team.api_token, "batch": batch})
    assert Client().post("/batch/", body, content_type="application/json").status_code == 200
    flush()


def shop(project, other_project) -> None:
    """Jan 1: u1 signs up, u1 buys for 10, u2 for 5; Jan 2: u2 buys for 20, u3 views a page. Per day the
    purchases are 2 (15.0) and 1 (20.0); another project's purchase of 1000 on Jan 1 must never show."""
    capture(project, [("signed up", "u1", "2026-01-01T09:00:00Z", {}),
                      ("purchase", "u1", "2026-01-01T10:00:00Z", {"amount": 10}),
                      ("purchase", "u2", "2026-01-01T11:00:00Z", {"amount": 5}),
                      ("purchase", "u2", "2026-01-02T10:00:00Z", {"amount": 20}),
                      ("$pageview", "u3", "2026-01-02T12:00:00Z", {"$current_url": "https://shop/"})])  # fmt: skip
    capture(other_project, [("purchase", "x", "2026-01-01T10:00:00Z", {"amount": 1000})])


def cells(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[html_lib.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]  # fmt: skip


def chart_data(html: str) -> dict:
    return json.loads(html_lib.unescape(re.search(r'data-chart="([^"]*)"', html).group(1)))


def run(client: Client, project, query: str, **headers: str):
    return client.post(reverse("console:sql-run", args=[project.team.pk]), {"query": query}, **headers)


@pytest.mark.django_db
def test_the_page_has_the_editor_and_lists_tables_with_columns_and_types(project, signed_in) -> None:
    page = signed_in.get(reverse("console:sql", args=[project.team.pk]))
    assert page.status_code == 200 and page["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = page.content.decode()
    assert '<label for="sql-query">HogQL query' in html and '<textarea id="sql-query" name="query"' in html
    assert '<button type="submit" id="sql-run">Run</button>' in html
    assert 'aria-current="page">SQL</a>' in html  # the nav link
    assert "console/vendor/chart.umd.min.js" in html and "console/sql.js" in html
    schema = html.split('class="sql-schema"', 1)[1]
    for table in ("events", "persons", "sessions", "groups", "person_distinct_ids"):
        assert f"<summary><code>{table}</code></summary>" in schema, table
    events = schema.split("<summary><code>events</code></summary>", 1)[1].split("</details>", 1)[0]
    assert "<tr><td><code>timestamp</code></td><td>datetime</td></tr>" in events
    assert "<tr><td><code>properties</code></td><td>json</td></tr>" in events
    assert "<tr><td><code>person</code></td><td>table</td></tr>" in events  # a lazy join to follow
    assert "team_id" not in events  # hidden fields stay hidden
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [] and not re.findall(r"\son[a-z]+\s*=", html)


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_a_query_runs_into_a_table_and_chart_data_of_the_projects_rows(project, other_project, signed_in) -> None:
    shop(project, other_project)
    fragment = run(signed_in, project, PURCHASES_BY_DAY, **HX)
    assert fragment.status_code == 200 and fragment["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = fragment.content.decode()
    assert "<html" not in html and "2 rows" in html
    assert re.findall(r'<th scope="col">(\w+)', html) == ["day", "purchases", "revenue"]
    assert cells(html) == [["2026-01-01", "2", "15.0"], ["2026-01-02", "1", "20.0"]]
    assert chart_data(html) == {"labels": ["2026-01-01", "2026-01-02"],
                                "series": {"purchases": [2.0, 1.0], "revenue": [15.0, 20.0]}}  # fmt: skip
    assert 'value="purchases" checked' in html and 'value="revenue" checked' in html
    assert "1000" not in html

    page = run(signed_in, project, "SELECT event, count() FROM events GROUP BY event ORDER BY event")
    assert page.status_code == 200 and "<html" in page.content.decode()  # no JS: the whole page
    text = page.content.decode()
    assert cells(text.split('id="sql-result"', 1)[1]) == [["$pageview", "1"], ["purchase", "3"], ["signed up", "1"]]
    assert "SELECT event, count() FROM events GROUP BY event ORDER BY event</textarea>" in text  # kept in the editor

    text_only = run(signed_in, project, "SELECT distinct_id FROM events ORDER BY distinct_id", **HX).content.decode()
    assert cells(text_only) == [["u1"], ["u1"], ["u2"], ["u2"], ["u3"]]
    assert "No numeric column after the first to chart." in text_only and "data-chart" not in text_only


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message", "marked", "line", "column"),
    [
        ("SELECT event,\nFROM events WHERE", "Syntax error at line 2, column 17", "WHERE", 2, 13),
        ("SELECT event, nope FROM events", "Unable to resolve field: nope", "nope", 1, 15),
        ("SELECT event\nFROM evnts", "Unknown table `evnts`.", "evnts", 2, 6),
        ("SELECT person.nah FROM events", "Field not found: nah", "person.nah", 1, 8),
    ],
)
def test_a_bad_query_shows_its_message_and_marks_where_it_failed(
    project, signed_in, query: str, message: str, marked: str, line: int, column: int
) -> None:
    fragment = run(signed_in, project, query, **HX)
    assert fragment.status_code == 200  # htmx swaps 200s: the error replaces the result
    html = fragment.content.decode()
    assert 'role="alert"' in html and html_lib.escape(message) in html
    assert (f"Line {line}, column {column}: " in html) is (" at line " not in message)  # said once
    assert f"<mark>{html_lib.escape(marked)}</mark>" in html
    start = query.index(marked)
    assert f'data-error-start="{start}" data-error-end="{start + len(marked)}"' in html
    page = run(signed_in, project, query)
    assert page.status_code == 400 and 'aria-invalid="true"' in page.content.decode()


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_errors_without_a_position_and_refused_statements_are_messages_not_500s(project, signed_in) -> None:
    for query, message in [("", "Empty query"), ("DROP TABLE events", "Only SELECT queries are supported"),
                           ("SELECT 1; SELECT 2", "only one SELECT statement is allowed"),
                           ("SELECT toInt64('abc')", "Cannot parse string &#x27;abc&#x27; as Int64")]:  # fmt: skip
        response = run(signed_in, project, query, **HX)
        assert response.status_code == 200, query
        html = response.content.decode()
        assert 'class="sql-error"' in html and message in html, (query, html)
        assert "<mark>" not in html


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_csv_and_xlsx_exports_are_made_by_the_exports_app_and_downloaded_by_their_creator(
    project, other_project, signed_in, other_signed_in
) -> None:
    shop(project, other_project)
    url = reverse("console:sql-export", args=[project.team.pk])
    made = signed_in.post(url, {"query": PURCHASES_BY_DAY, "format": "csv"}, **HX)
    assert made.status_code == 200
    html = made.content.decode()
    link = re.search(r'href="(/console/project/\d+/sql/export/(\d+)/file/)"', html)
    assert link and "Download sql-query.csv" in html, html
    download = signed_in.get(link.group(1))
    assert download.status_code == 200 and download["Content-Type"] == "text/csv"
    assert download["Content-Disposition"] == 'attachment; filename="sql-query.csv"'
    assert download["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert download.content.decode("utf-8-sig").splitlines() == [
        "day,purchases,revenue", "2026-01-01,2,15.0", "2026-01-02,1,20.0"
    ]  # fmt: skip
    api = Client()
    api.force_login(project.user)  # the same asset through the API's content endpoint, for comparison
    same = api.get(f"/api/projects/{project.team.pk}/exports/{link.group(2)}/content/")
    assert same.status_code == 200 and same.content == download.content

    status = reverse("console:sql-export-status", args=[project.team.pk, link.group(2)])
    assert "Download sql-query.csv" in signed_in.get(status).content.decode()
    assert other_signed_in.get(link.group(1)).status_code == 404
    assert other_signed_in.get(status).status_code == 404
    assert Client().get(link.group(1)).status_code == 302 and Client().get(status).status_code == 401

    xlsx = signed_in.post(url, {"query": PURCHASES_BY_DAY, "format": "xlsx"}, **HX).content.decode()
    href = re.search(r'href="([^"]+/file/)"', xlsx).group(1)
    sheet = load_workbook(io.BytesIO(signed_in.get(href).content)).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["day", "purchases", "revenue"], ["2026-01-01", 2, 15], ["2026-01-02", 1, 20]
    ]  # fmt: skip

    failed = signed_in.post(url, {"query": "SELECT nope FROM events", "format": "csv"}, **HX).content.decode()
    assert "Export failed: " in failed and "nope" in failed
    refused = signed_in.post(url, {"query": PURCHASES_BY_DAY, "format": "pdf"}, **HX)
    assert refused.status_code == 200 and "Choose CSV or XLSX." in refused.content.decode()
    assert signed_in.post(url, {"query": PURCHASES_BY_DAY, "format": "pdf"}).status_code == 400


@pytest.mark.django_db
def test_sessions_projects_and_csrf_guard_the_sql_urls(project, other_project, signed_in, other_signed_in) -> None:
    page, run_url = reverse("console:sql", args=[project.team.pk]), reverse("console:sql-run", args=[project.team.pk])
    export_url = reverse("console:sql-export", args=[project.team.pk])
    anonymous = Client()
    assert anonymous.get(page)["Location"].startswith(reverse("console:login"))
    assert anonymous.post(run_url, {"query": "SELECT 1"}).status_code == 401
    assert anonymous.post(export_url, {"query": "SELECT 1", "format": "csv"}).status_code == 401
    for url in (page, run_url, export_url):
        assert other_signed_in.get(url).status_code in {404}
        assert other_signed_in.post(url, {"query": "SELECT 1", "format": "csv"}).status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(project.user)
    assert strict.post(run_url, {"query": "SELECT 1"}).status_code == 403
    assert strict.post(export_url, {"query": "SELECT 1", "format": "csv"}).status_code == 403
    token = strict.get(page).cookies["csrftoken"].value
    answer = strict.post(run_url, {"query": "SELECT 1 +", "csrfmiddlewaretoken": token}, **HX)
    assert answer.status_code == 200 and "Syntax error" in answer.content.decode()


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_the_default_view_runs_no_query(project, other_project, signed_in, monkeypatch) -> None:
    """The page lists the schema and pre-fills the editor; it reads no events, so its server time does not grow
    with the events table (bench.console times it over 10M events)."""
    from posthog_clone.clickhouse.client import ClickHouseClient

    shop(project, other_project)
    url = reverse("console:sql", args=[project.team.pk])
    with monkeypatch.context() as blocked:

        def unreachable(self: ClickHouseClient) -> None:
            raise AssertionError("the SQL page's default view queried ClickHouse")

        blocked.setattr(ClickHouseClient, "_client", property(unreachable))
        assert signed_in.get(url).status_code == 200
    ran = run(signed_in, project, DEFAULT_QUERY, **HX)
    assert ran.status_code == 200 and "0 rows" in ran.content.decode()  # the Jan 2026 events are older
