"""Tree → ClickHouse SQL text. Only syntax: string constants become `{hogql_val_N:String}` parameters,
then the global SETTINGS are appended. No decisions are made here."""

from __future__ import annotations

import re
from typing import Any

from sqlglot import exp

from query.hogql.parser import HogQLDialect

_SETTING_NAME = re.compile(r"^[a-zA-Z0-9_]+$")
_SETTING_WORDS = re.compile(r"^[a-zA-Z0-9_]+(,[a-zA-Z0-9_]+)*$")  # a string setting: names, quoted as they are


def _bind_strings(root: exp.Expression) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for node in [n for n in root.walk(bfs=False) if isinstance(n, exp.Literal)]:
        if not node.is_string or node.find_ancestor(exp.Interval, exp.DataType) is not None:
            continue
        name = f"hogql_val_{len(params)}"
        params[name] = node.this
        node.replace(exp.Placeholder(this=name))
    return params


def settings_clause(settings: dict[str, Any]) -> str:
    parts = []
    for key, value in settings.items():
        if not _SETTING_NAME.match(key):
            raise ValueError(f"bad setting name {key!r}")
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, str) and _SETTING_WORDS.match(value):  # e.g. join_algorithm='prefer_partial_merge'
            value = f"'{value}'"
        elif not isinstance(value, int):
            raise ValueError(f"setting {key} must be an integer or comma-separated names")
        parts.append(f"{key}={value}")
    return f" SETTINGS {', '.join(parts)}" if parts else ""


def print_clickhouse(root: exp.Expression, settings: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    params = _bind_strings(root)
    sql = root.sql(dialect=HogQLDialect, comments=False)
    return sql + settings_clause(settings), params
