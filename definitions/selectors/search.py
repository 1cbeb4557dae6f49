"""PostHog's definition search: every space-separated term must occur in the name, case-insensitively, as
`name ILIKE '%term%'` with the term *not* escaped (`_` matches any one character, `%` any run, a backslash
quotes the next character). Expressed as a case-insensitive regex so it means the same on SQLite and
PostgreSQL and a term is always data, never SQL."""

from __future__ import annotations

import re

from django.db.models import Q


def like_term_regex(term: str) -> str:
    """The regex equivalent of ILIKE's `%term%` (unanchored; `(?s)`: a wildcard also matches a newline, as in
    LIKE, on both Python's `re` and PostgreSQL's regex engine)."""
    out, chars = ["(?s)"], iter(term)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return "".join(out)


def name_search(search: str | None, *, field: str = "name") -> Q | None:
    """All terms of `search` in `field`; None when there are no terms."""
    terms = (search or "").split()
    if not terms:
        return None
    query = Q()
    for term in terms:
        query &= Q(**{f"{field}__iregex": like_term_regex(term)})
    return query
