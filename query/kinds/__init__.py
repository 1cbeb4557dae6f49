"""The query kinds `POST /query/` accepts, by `kind`. Adding one: a module here with its request serializer
(a `StrictSerializer`, so unknown keys are 400s), its response serializer, a runner that builds HogQL and
calls `query.runner.hogql_execute`, and an overrides hook; then one line in `KINDS`."""

from __future__ import annotations

from query.kinds.actors import ACTORS_QUERY, PERSONS_QUERY
from query.kinds.base import EXTRA_INPUTS, KINDS, QueryKind
from query.kinds.events import EVENTS_QUERY
from query.kinds.funnels_actors import FUNNELS_QUERY
from query.kinds.hogql import HOGQL_QUERY
from query.kinds.insight_actors import INSIGHT_ACTORS_QUERY_OPTIONS
from query.kinds.lifecycle import LIFECYCLE_QUERY
from query.kinds.paths_actors import PATHS_QUERY
from query.kinds.retention_actors import RETENTION_QUERY
from query.kinds.stickiness import STICKINESS_QUERY
from query.kinds.trends_actors import TRENDS_QUERY  # TrendsQuery with its actors hooks

__all__ = ["EXTRA_INPUTS", "KINDS", "QueryKind", "unknown_kind_message"]

KINDS.update(
    {
        kind.name: kind
        for kind in (
            HOGQL_QUERY, EVENTS_QUERY, TRENDS_QUERY, STICKINESS_QUERY, FUNNELS_QUERY, RETENTION_QUERY, LIFECYCLE_QUERY,
            PATHS_QUERY, ACTORS_QUERY, PERSONS_QUERY, INSIGHT_ACTORS_QUERY_OPTIONS,
        )
    }
)  # fmt: skip


def unknown_kind_message(kind: object) -> str:
    """pydantic's wording for a discriminated union, which PostHog's QueryRequest answers with."""
    expected = ", ".join(f"'{name}'" for name in KINDS)
    return f"Input tag '{kind}' found using 'kind' does not match any of the expected tags: {expected}"
