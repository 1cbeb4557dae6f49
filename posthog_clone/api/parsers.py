"""Request parsers: DRF's JSON parser, with two bodies answered as a 400 parse error instead of a 500: one
nested too deeply for Python's JSON decoder (RecursionError), and one holding a NUL character (`\\u0000`) in
any string or key, which PostgreSQL cannot store in text or jsonb (refused in both modes, so a request means
the same on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.parsers import JSONParser

NUL_REFUSED = "JSON parse error - null characters (\\u0000) are not allowed in strings."


def _has_nul(data: Any) -> bool:
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None
        if _has_nul(data):
            raise exceptions.ParseError(NUL_REFUSED)
        return data
