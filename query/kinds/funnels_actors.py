"""`FunnelsQuery` with its `actors` hook: who reached (or dropped off at) a funnel step (`FunnelsActorsQuery`,
reference §9.2)."""

from __future__ import annotations

from query.kinds.base import QueryKind
from query.kinds.funnels import funnels_overrides, run_funnels_query
from query.kinds.funnels_schema import FunnelsQueryResponseSerializer, FunnelsQuerySerializer

FUNNELS_QUERY = QueryKind(
    name="FunnelsQuery",
    request=FunnelsQuerySerializer,
    response=FunnelsQueryResponseSerializer,
    run=run_funnels_query,
    apply_overrides=funnels_overrides,
)
