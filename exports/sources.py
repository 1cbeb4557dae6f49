"""Where an export's rows come from, one page at a time: a HogQL query run through the query runner
(`export_context.source`, 10,000 rows a page) or one of our own GET list endpoints called in-process as the
export's creator (`export_context.path`, following `next`). Both stop at 300,000 rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson
from django.conf import settings
from django.test import RequestFactory
from django.urls import Resolver404, resolve

from posthog_clone.accounts.models import Team, User
from posthog_clone.clickhouse import ClickHouseError
from query.exceptions import ExposedHogQLError
from query.runner import EXPORT_ROW_LIMIT, hogql_execute, stable_order, variable_values

QUERY_PAGE_SIZE = 10_000
DISTINCT_IDS_SHOWN = 10


class ExportError(Exception):
    """A failure caused by what the export asked for (recorded with failure_type `user`)."""


Row = dict[str, Any]


def _trim_distinct_ids(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("distinct_ids"), list) and len(value["distinct_ids"]) > 10:
        total = len(value["distinct_ids"])
        value = {**value, "distinct_ids": value["distinct_ids"][:DISTINCT_IDS_SHOWN]}
        value["distinct_ids.total"] = f"Note: {total} distinct_ids in total"
    return value


def rows_from_table(columns: list[str] | None, results: list[list[Any]]) -> list[Row]:
    names = columns or []
    return [
        {(names[i] if i < len(names) else f"column_{i}"): _trim_distinct_ids(cell) for i, cell in enumerate(row)}
        for row in results
    ]


WRAPPER_KINDS = frozenset({"DataTableNode", "DataVisualizationNode", "InsightVizNode"})


def hogql_source(source: Any) -> dict[str, Any]:
    if not isinstance(source, dict):
        raise ExportError("export_context.source must be a query object.")
    for _ in range(3):  # the frontend unwraps display nodes to their `.source`; accept them wrapped too
        if source.get("kind") in WRAPPER_KINDS and isinstance(source.get("source"), dict):
            source = source["source"]
    kind = source.get("kind")
    if kind != "HogQLQuery":
        raise ExportError(f"Exports support HogQLQuery sources only, not {kind!r}.")
    if not isinstance(source.get("query"), str) or not source["query"].strip():
        raise ExportError("The HogQLQuery source needs a `query` string.")
    return source


def query_pages(
    *, team: Team, source: Any, max_rows: int = EXPORT_ROW_LIMIT, page_size: int = QUERY_PAGE_SIZE
) -> Iterator[tuple[list[str], list[list[str]], list[list[Any]]]]:
    """(columns, types, rows) per page. A plain SELECT pages with LIMIT/OFFSET (given a stable order first
    when it spans several pages); a query with its own LIMIT (or a UNION) is not pageable by the runner and
    comes back in one call, capped at 300,000 rows."""
    source = hogql_source(source)

    def run(query: str, offset: int, limit: int) -> Any:
        return hogql_execute(
            team=team,
            query=query,
            values=source.get("values"),
            filters=source.get("filters"),
            variables=variable_values(source.get("variables")),
            limit_context="export",
            limit=min(limit, max_rows - offset),
            offset=offset,
        )

    query = source["query"]
    result = run(query, 0, page_size)
    ordered = stable_order(query) if result.hasMore else None
    if ordered is not None:
        try:
            result, query = run(ordered, 0, page_size), ordered
        except (ExposedHogQLError, ClickHouseError):  # e.g. a column type ClickHouse cannot sort
            result = run(query, 0, max_rows)  # one call: complete and exact, though not constant memory
    offset = 0
    while True:
        rows = result.results[: max_rows - offset]
        yield result.columns, result.types, rows
        offset += len(rows)
        if not result.hasMore or not rows or offset >= max_rows:
            return
        result = run(query, offset, page_size)


def query_row_pages(*, team: Team, source: Any, max_rows: int = EXPORT_ROW_LIMIT) -> Iterator[list[Row]]:
    for columns, _types, rows in query_pages(team=team, source=source, max_rows=max_rows):
        yield rows_from_table(columns, rows)


# --- export_context.path: our own list endpoints, in-process ---------------------------------------------

_PROJECT_PATH = re.compile(r"^/api/(projects|environments)/(?P<id>[^/]+)/")


def check_path(path: Any, team: Team) -> str:
    if not isinstance(path, str) or not path.startswith("/api/"):
        raise ExportError("export_context.path must be an /api/ path of this project.")
    match = _PROJECT_PATH.match(path)
    if match is None or match["id"] not in {str(team.pk), "@current"}:
        raise ExportError(f"export_context.path must be under /api/projects/{team.pk}/.")
    return path.replace("/@current/", f"/{team.pk}/", 1)


def _with_limit(path: str, limit: int) -> str:
    split = urlsplit(path)
    params = [(k, v) for k, v in parse_qsl(split.query, keep_blank_values=True) if k != "limit"]
    params.append(("limit", str(limit)))
    return f"{split.path}?{urlencode(params)}"


def api_get(*, user: User, path: str) -> tuple[int, Any]:
    """GET one of our endpoints in this process as `user` (session-style auth: the user's own rights)."""
    split = urlsplit(path)
    try:
        match = resolve(split.path)
    except Resolver404:
        return 404, None
    host = urlsplit(settings.SITE_URL).netloc or "127.0.0.1"
    request = RequestFactory(HTTP_HOST=host).get(f"{split.path}?{split.query}" if split.query else split.path)
    request.user = user
    request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
    response = match.func(request, *match.args, **match.kwargs)
    if hasattr(response, "render"):
        response.render()
    if response.status_code != 200:
        return response.status_code, None
    try:
        return 200, orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise ExportError(f"{split.path} did not answer JSON.") from None


def rows_from_response(body: Any) -> list[Row]:
    if isinstance(body, list):
        items = body
    elif isinstance(body, dict) and isinstance(body.get("results", body.get("result")), list):
        items = body.get("results", body.get("result"))
        if items and all(isinstance(i, (list, tuple)) for i in items) and "types" in body:
            return rows_from_table(body.get("columns"), items)
    elif isinstance(body, dict):
        items = [body]
    else:
        items = []
    return [item if isinstance(item, dict) else {"value": item} for item in items]


def path_row_pages(
    *, team: Team, user: User | None, path: Any, max_rows: int = EXPORT_ROW_LIMIT
) -> Iterator[list[Row]]:
    if user is None:
        raise ExportError("This export has no creator to call its API path as.")
    next_path: str | None = _with_limit(check_path(path, team), min(QUERY_PAGE_SIZE, max_rows))
    total, first = 0, True
    while next_path and total < max_rows:
        status, body = api_get(user=user, path=next_path)
        if status != 200:
            if first:
                raise ExportError(f"Calling {urlsplit(next_path).path} answered HTTP {status}.")
            return  # a page vanishing mid-way ends the data (PostHog treats a late 404 the same)
        if body is None:
            raise ExportError("JSON is None when calling API for data")
        rows = rows_from_response(body)[: max_rows - total]
        if not rows:
            return
        yield rows
        total += len(rows)
        first = False
        link = body.get("next") if isinstance(body, dict) else None
        next_path = None
        if isinstance(link, str) and link:
            split = urlsplit(link)
            next_path = check_path(f"{split.path}?{split.query}" if split.query else split.path, team)
