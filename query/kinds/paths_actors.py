"""The actors of a PathsQuery edge or drop-off (reference §9.2): `InsightActorsQuery` whose `source` is a
PathsQuery carrying, in its `pathsFilter`, the data point to open:

- `pathStartKey` and/or `pathEndKey` (`"1_/home"`, `"2_/pricing"`): the actors with a path through the edge
  from the start key to the end key (either alone: any edge leaving the start key / entering the end key);
- `pathDropoffKey`: the actors with a path ending at that node (it wins over the other two);
- none of them: every actor with a path.

The rows are `actor_id`, `event_count` (the actor's paths through the edge, or ending at the drop-off node) and
`matching_events` (up to 100 `[timestamp, uuid, session_id, window_id]`, sorted: the event at the edge's target,
or at the path's last node), as the Trends actors give them. The paths are the insight's own (`query.kinds.
paths_sql`), so the counts add up to the edge's `value`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlglot import exp

from posthog_clone.accounts.models import Team
from query.hogql.parser import parse_select
from query.kinds.paths import PATHS_WITHOUT_ACTORS
from query.kinds.paths_sql import PathsSql


def paths_actors(team: Team, query: dict[str, Any], params: dict[str, Any], limit_context: str) -> exp.Select:
    """SELECT actor_id, event_count, matching_events: the actors of the edge or drop-off the source names."""
    keys = query.get("pathsFilter") or {}
    sql = PathsSql(team, query, limit_context)
    text = sql.actors(
        start_key=keys.get("pathStartKey"), end_key=keys.get("pathEndKey"), dropoff_key=keys.get("pathDropoffKey")
    )
    select = parse_select(text)
    assert isinstance(select, exp.Select)
    return select


PATHS_QUERY = dataclasses.replace(PATHS_WITHOUT_ACTORS, actors=paths_actors)
