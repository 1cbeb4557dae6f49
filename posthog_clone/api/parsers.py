"""Request parsers: DRF's JSON parser, with bodies answered as a 400 parse error instead of a 500: one nested
too deeply for Python's JSON decoder (RecursionError), and one holding, in any string or key, a NUL character
(`\\u0000`) or an unpaired surrogate escape (`\\ud800` alone), which PostgreSQL cannot store in text or jsonb
(refused in both modes, so a request means the same on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import exceptions
from rest_framework.parsers import JSONParser

NUL_REFUSED = "JSON parse error - null characters (\\u0000) are not allowed in strings."
SURROGATE_REFUSED = "JSON parse error - unpaired surrogate escapes (\\ud800-\\udfff) are not allowed in strings."
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(data: Any) -> str | None:
    """The character class of the first string PostgreSQL could not store, if any."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if (found := _UNSTORABLE.search(value)) is not None:
                return NUL_REFUSED if found.group() == "\x00" else SURROGATE_REFUSED
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return None


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None
        if (refused := _unstorable(data)) is not None:
            raise exceptions.ParseError(refused)
        return data
