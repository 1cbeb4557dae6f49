"""A static cohort's CSV upload: which column holds whom (person ids, distinct ids or emails), PostHog's
rules and error messages (all with `attr: "csv"`).

- One column: a `person_id` / `person-id` / `Person .id` header → person UUIDs; `email` / `e-mail` →
  emails; any other first row is data, so every row (the first included) is a distinct id.
- Several columns: the first person-id header wins, else `distinct_id` / `distinct-id`, else an email
  header; rows too short for that column are skipped.
Headers compare case-insensitively and trimmed; values are trimmed; empty rows and cells are skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from rest_framework import serializers

from cohorts import static
from posthog_clone.accounts.models import Team

PERSON_ID_HEADERS = ("person_id", "person-id", "person .id")
DISTINCT_ID_HEADERS = ("distinct_id", "distinct-id")
EMAIL_HEADERS = ("email", "e-mail")

EMPTY_FILE = "CSV file is empty. Please upload a CSV file with at least one row of data."
MISSING_ID_COLUMN = (
    "Multi-column CSV must contain at least one column with a supported ID header: 'person_id', 'Person .id' "
    "(PostHog export format), 'distinct_id', 'distinct-id', or 'email'. Found columns: {columns}"
)
NO_VALID_IDS = (
    "CSV file contains no valid person IDs, distinct IDs, or email addresses. Please ensure your file has data "
    "rows with person IDs, distinct IDs, or email addresses."
)
ENCODING_ERROR = "CSV file encoding is not supported. Please save your file as UTF-8 and try again."
FORMAT_ERROR = "CSV file format is invalid. Please check your file format and try again."


def _invalid(message: str) -> serializers.ValidationError:
    return serializers.ValidationError({"csv": [message]})


def _rows(upload: IO[bytes]) -> Iterator[list[str]]:
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid(ENCODING_ERROR) from None
    try:
        yield from csv.reader(text.splitlines(), strict=True)
    except csv.Error:
        raise _invalid(FORMAT_ERROR) from None


def _header_kind(header: str) -> str | None:
    name = header.strip().lower()
    if name in PERSON_ID_HEADERS:
        return "person_id"
    if name in DISTINCT_ID_HEADERS:
        return "distinct_id"
    return "email" if name in EMAIL_HEADERS else None


def _id_column(headers: list[str]) -> tuple[int, str] | None:
    kinds = [_header_kind(h) for h in headers]
    for wanted in ("person_id", "distinct_id", "email"):
        if wanted in kinds:
            return kinds.index(wanted), wanted
    return None


def read_ids(upload: IO[bytes]) -> tuple[str, list[str]]:
    """(`person_id` | `distinct_id` | `email`, the ids in file order); raises the 400s PostHog does."""
    rows = _rows(upload)
    first = next((row for row in rows if row), None)
    if first is None:
        raise _invalid(EMPTY_FILE)
    if len([cell for cell in first if cell.strip()]) <= 1:
        kind = _header_kind(first[0]) if first else None
        if kind == "distinct_id" or kind is None:
            kind, data = "distinct_id", [first]  # the first row is an id too, even a `distinct_id` header
        else:
            data = []
        column = 0
    else:
        found = _id_column(first)
        if found is None:
            names = [h for h in first if h.strip()]
            raise _invalid(MISSING_ID_COLUMN.format(columns=", ".join(names) if names else "none"))
        (column, kind), data = found, []
    ids = [row[column].strip() for row in [*data, *rows] if len(row) > column and row[column].strip()]
    if not ids:
        raise _invalid(NO_VALID_IDS)
    return kind, ids


def resolve(team: Team, kind: str, ids: list[str]) -> list[tuple[int, str]]:
    """The project's persons the ids name (unresolvable ids are ignored)."""
    if kind == "person_id":
        return static.persons_by_uuid(team, ids)
    if kind == "email":
        return static.persons_by_email(team, ids)
    return static.persons_by_distinct_id(team, ids)
