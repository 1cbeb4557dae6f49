"""Reads of the SQL page: the HogQL schema (from the query app) and a query run through query's runner,
the same compile-and-run path as POST /query/ with a HogQLQuery (team guards, the `query` limit context: 100
rows by default, 50,000 at most, the HogQL execution time limit). Its result is shaped for the page: a table
of display strings and a chart of the numeric columns; a user error keeps its position in the query text."""

from __future__ import annotations

import functools
import json
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

from posthog_clone.accounts.models import Team
from query.exceptions import ExposedHogQLError, QueryTimeoutError
from query.runner import hogql_execute
from query.selectors import HogQLTable, hogql_tables

logger = logging.getLogger(__name__)

DEFAULT_QUERY = (
    "SELECT toDate(timestamp) AS day, count() AS events, count(DISTINCT distinct_id) AS users\n"
    "FROM events\n"
    "WHERE timestamp > now() - INTERVAL 7 DAY\n"
    "GROUP BY day\n"
    "ORDER BY day"
)
SHOWN_ROWS = 500  # the table and the chart show at most these rows of a result
CELL_CHARACTERS = 500
_NUMERIC_TYPES = ("Int", "UInt", "Float", "Decimal")


@dataclass(frozen=True)
class SqlError:
    """A query the user can fix: the message, and where it failed when the error says so (`marked` is the
    offending text, between `before` and `after`; line and column count from 1)."""

    message: str
    query: str
    line: int | None = None
    column: int | None = None
    start: int | None = None
    end: int | None = None
    before: str = ""
    marked: str = ""
    after: str = ""
    timeout: bool = False


@dataclass(frozen=True)
class SqlResult:
    columns: list[str]
    types: list[str]
    rows: list[list[str]]  # display text, at most SHOWN_ROWS
    row_count: int
    has_more: bool
    numeric: list[str]  # columns (after the first) a chart can plot
    chart: dict[str, Any] = field(default_factory=dict)  # {"labels": [...], "series": {column: [numbers]}}
    milliseconds: float = 0.0

    @property
    def headers(self) -> list[tuple[str, str]]:
        return list(zip(self.columns, self.types, strict=False))

    @property
    def chart_json(self) -> str:
        return json.dumps(self.chart, ensure_ascii=False)


@functools.cache
def sql_tables() -> tuple[HogQLTable, ...]:
    return tuple(hogql_tables())


def _cell(value: Any) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= CELL_CHARACTERS else text[:CELL_CHARACTERS] + "…"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    return None


def _is_numeric(index: int, type_: str, rows: list[list[Any]]) -> bool:
    values = [row[index] for row in rows if row[index] is not None]
    if any(part in type_ for part in _NUMERIC_TYPES) and "Array" not in type_ and "Map" not in type_:
        return all(_number(v) is not None or isinstance(v, str) for v in values)  # (U)Int64 may come as text
    return bool(values) and all(_number(v) is not None for v in values)


def _as_float(value: Any) -> float | None:
    number = _number(value)
    if number is None and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    return number if number is None or math.isfinite(number) else None


def _chart(columns: list[str], numeric: list[int], rows: list[list[Any]]) -> dict[str, Any]:
    """x = the first column, y = the numeric columns after it; a lone numeric column is plotted by row number."""
    if not numeric:
        return {}
    labels = [str(n + 1) for n in range(len(rows))] if numeric == [0] else [_cell(row[0]) for row in rows]
    return {"labels": labels, "series": {columns[i]: [_as_float(row[i]) for row in rows] for i in numeric}}


def _error(error: ExposedHogQLError, query: str) -> SqlError:
    start, end = getattr(error, "start", None), getattr(error, "end", None)
    if start is None or not 0 <= start <= len(query):
        return SqlError(message=str(error), query=query, timeout=isinstance(error, QueryTimeoutError))
    end = min(max(end if end is not None else start + 1, start + 1), len(query))
    line = query.count("\n", 0, start) + 1
    column = start - (query.rfind("\n", 0, start) + 1) + 1
    return SqlError(message=str(error), query=query, line=line, column=column, start=start, end=end,
                    before=query[:start], marked=query[start:end], after=query[end:])  # fmt: skip


def sql_run(*, team: Team, query: str) -> SqlResult | SqlError:
    """Run `query` for `team` through the query runner. User errors (HogQL syntax or names, ClickHouse
    refusing the query, timeouts) come back as SqlError; so does a server failure, logged, never a 500."""
    started = time.perf_counter()
    try:
        result = hogql_execute(team=team, query=query, limit_context="query")
    except ExposedHogQLError as error:
        return _error(error, query)
    except Exception:
        logger.exception("console SQL query failed", extra={"team": team.pk})
        return SqlError(message="The query could not be run: the database failed. Try again.", query=query)
    rows = result.results[:SHOWN_ROWS]
    types = [type_ for _, type_ in result.types] or [""] * len(result.columns)
    types += [""] * (len(result.columns) - len(types))
    numeric = [i for i in range(1, len(result.columns)) if _is_numeric(i, types[i], rows)]
    if not numeric and len(result.columns) == 1 and _is_numeric(0, types[0], rows):
        numeric = [0]
    chart = _chart(result.columns, numeric, rows)
    return SqlResult(
        columns=result.columns,
        types=types,
        rows=[[_cell(v) for v in row] for row in rows],
        row_count=len(result.results),
        has_more=bool(result.hasMore) or len(result.results) > SHOWN_ROWS,
        numeric=[result.columns[i] for i in numeric],
        chart=chart,
        milliseconds=round((time.perf_counter() - started) * 1000, 1),
    )
