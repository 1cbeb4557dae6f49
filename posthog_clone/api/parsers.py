"""Request parsers: DRF's JSON parser, with bodies answered as a 400 instead of a 500: one nested too deeply
for Python's JSON decoder (RecursionError, a parse error), and one holding, in any string or key, a NUL
character (`\\u0000`) or an unpaired surrogate escape (`\\ud800` alone), which PostgreSQL cannot store in text
or jsonb. Those are refused in both modes (a request means the same on SQLite and PostgreSQL) as the field's
validation error, DRF's wording for NUL in a CharField: `attr` is the top-level key that holds the value."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail
from rest_framework.parsers import JSONParser

NUL_REFUSED = ("Null characters are not allowed.", "null_characters_not_allowed")
SURROGATE_REFUSED = ("Unpaired surrogate characters are not allowed.", "surrogate_characters_not_allowed")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(data: Any) -> tuple[str | None, tuple[str, str]] | None:
    """(the top-level key holding it, (message, code)) of the first string PostgreSQL could not store."""
    pending: list[tuple[str | None, Any]] = [(None, data)]
    while pending:
        top, value = pending.pop()
        if isinstance(value, str):
            if (found := _UNSTORABLE.search(value)) is not None:
                return top, NUL_REFUSED if found.group() == "\x00" else SURROGATE_REFUSED
        elif isinstance(value, dict):
            for key, item in value.items():
                here = top if top is not None or not isinstance(key, str) else key
                pending.extend(((here, key), (here, item)))
        elif isinstance(value, list):
            pending.extend((top, item) for item in value)
    return None


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None
        if (found := _unstorable(data)) is not None:
            top, (message, code) = found
            error = [ErrorDetail(message, code=code)]
            raise exceptions.ValidationError({top: error} if top is not None else error)
        return data
