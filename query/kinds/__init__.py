"""The query kinds `POST /query/` accepts, by `kind`. Adding one: a module here with its request serializer
(a `StrictSerializer`, so unknown keys are 400s), its response serializer, a runner that builds HogQL and
calls `query.runner.hogql_execute`, and an overrides hook; then one line in `KINDS`."""

from __future__ import annotations

from query.kinds.actors import ACTORS_QUERY, PERSONS_QUERY
from query.kinds.base import EXTRA_INPUTS, QueryKind
from query.kinds.events import EVENTS_QUERY
from query.kinds.hogql import HOGQL_QUERY
from query.kinds.lifecycle import LIFECYCLE_QUERY
from query.kinds.stickiness import STICKINESS_QUERY
from query.kinds.trends import TRENDS_QUERY

__all__ = ["EXTRA_INPUTS", "KINDS", "QueryKind", "unknown_kind_message"]

KINDS: dict[str, QueryKind] = {
    kind.name: kind
    for kind in (
        HOGQL_QUERY, EVENTS_QUERY, TRENDS_QUERY, STICKINESS_QUERY, LIFECYCLE_QUERY, ACTORS_QUERY, PERSONS_QUERY,
    )  # fmt: skip
}


def unknown_kind_message(kind: object) -> str:
    """pydantic's wording for a discriminated union, which PostHog's QueryRequest answers with."""
    expected = ", ".join(f"'{name}'" for name in KINDS)
    return f"Input tag '{kind}' found using 'kind' does not match any of the expected tags: {expected}"
