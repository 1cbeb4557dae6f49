"""The HogQL of `PathsQuery` (reference §7): every actor's paths, built in ClickHouse with arrays, then their
edges (the runner, `query.kinds.paths`) or the actors behind one edge or drop-off (`query.kinds.paths_actors`).

Layers, innermost first (each a SELECT over the one before):
1. `path_events`: the events in `[date_from's day start, date_to]` (team timezone) of the included types, with
   the query's properties and test-account filters, each named (`path_item`): `$pageview` → `$current_url`
   minus one trailing `/` (a bare `/` stays), `$screen` → `$screen_name`, others → the event name or the
   `pathsHogQLExpression`; then the cleaning rules (`replaceRegexpAll`, in order) and the groupings (the first
   `*` pattern matching — unanchored, as `$current_url` holds whole URLs — renames the node to the pattern);
   excluded names dropped.
2. `per_session`: per actor, `(timestamp, name, …)` tuples sorted by time (then name), split into sessions at
   gaps of 30 minutes or more (`arraySplit` over `arrayDifference` of the milliseconds), one row per session.
3. `per_path`: consecutive duplicates collapsed keeping the last of each run; the start/end points cut (start:
   from the first occurrence, first `stepLimit` nodes; end: up to the first occurrence, last `stepLimit`
   nodes; both: start..end, its middle replaced by one `...` node — timed as the event it replaces — when
   longer than `stepLimit`; neither: first `stepLimit` nodes). Sessions without an anchor are dropped. One row
   per session path: `actor_id`, `path` (the nodes' tuples).

The edges: each path's adjacent pairs (`arrayMap` over the positions, then one ARRAY JOIN of the small edge
tuples — joining nodes instead copies every path once per node, +60 % measured), `"<position>_<name>"` keys,
grouped by (source, target) into the paths through the edge and their mean milliseconds, `minEdgeWeight`/
`maxEdgeWeight` as HAVING, ordered by paths desc, source, target, cut to `edgeLimit`. The actors: each path's
positions matching the asked keys (`arrayFilter`), ARRAY JOINed, counted and their events collected per actor.
Everything is HogQL text; every value from the request reaches it through the HogQL printer
(`to_hogql` of a literal or of a parsed tree), never by pasting.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlglot import exp

from posthog_clone.accounts.models import Team
from query import clock
from query.dates import QueryDateRange
from query.hogql.parser import to_hogql
from query.kinds.hogql_expr import parse_expression
from query.kinds.paths_schema import (
    CUSTOM_EVENT,
    DEFAULT_EDGE_LIMIT,
    DEFAULT_STEP_LIMIT,
    HOGQL,
    PAGEVIEW,
    SCREEN,
)
from query.kinds.series import earliest_event, series_filters
from query.selectors import property_types_for_team

SESSION_GAP_MS = 30 * 60 * 1000  # a gap this long (or longer) starts a new session
DOTS = "..."
MATCHING_EVENTS_LIMIT = 100
# the node tuple: (timestamp, name) for edges; the actors hook adds what matching_events needs
EDGE_FIELDS = ("timestamp", "path_item")
ACTOR_FIELDS = (*EDGE_FIELDS, "event_uuid", "session_id", "window_id")
_ACTOR_COLUMNS = "toString(uuid) AS event_uuid, $session_id AS session_id, $window_id AS window_id"

_PER_SESSION = """
SELECT actor_id, session
FROM (
    SELECT actor_id,
        arraySort(e -> tuple(tupleElement(e, 1), tupleElement(e, 2)), groupArray(tuple({fields}))) AS ordered,
        arraySplit((e, gap) -> gap >= {gap}, ordered,
            arrayDifference(arrayMap(e -> toUnixTimestamp64Milli(tupleElement(e, 1)), ordered))) AS sessions
    FROM ({events}) AS path_events
    GROUP BY actor_id
)
ARRAY JOIN sessions AS session
"""
_PER_PATH = """
SELECT actor_id, {cut}
FROM (
    SELECT actor_id,
        arrayFilter((e, i) -> i = length(session) OR tupleElement(e, 2) != tupleElement(session[i + 1], 2),
            session, arrayEnumerate(session)) AS compact
    FROM ({sessions}) AS per_session
)
WHERE {keep}
"""
# the key of node {i} of `path`: "<position>_<name>"
_KEY = "concat(toString({i}), '_', tupleElement(path[{i}], 2))"
_EDGE = (
    f"tuple({_KEY.format(i='i - 1')}, {_KEY.format(i='i')}, "
    "toUnixTimestamp64Milli(tupleElement(path[i], 1)) - toUnixTimestamp64Milli(tupleElement(path[i - 1], 1)))"
)
_EDGES = """
SELECT tupleElement(edge, 1) AS source_key, tupleElement(edge, 2) AS target_key, count() AS paths,
    avg(tupleElement(edge, 3)) AS average_ms
FROM ({paths}) AS per_path
ARRAY JOIN arrayMap(i -> {edge}, range(2, length(path) + 1)) AS edge
GROUP BY source_key, target_key
{having}
ORDER BY paths DESC, source_key ASC, target_key ASC
LIMIT {limit}
"""
_ACTORS = """
SELECT actor_id, count() AS event_count, arraySort(groupUniqArray({matching})(tuple(tupleElement(path[i], 1),
    tupleElement(path[i], 3), tupleElement(path[i], 4), tupleElement(path[i], 5)))) AS matching_events
FROM ({paths}) AS per_path
ARRAY JOIN arrayFilter(i -> {hit}, range(1, length(path) + 1)) AS i
GROUP BY actor_id
"""


def lit(value: Any) -> str:
    """A value from the request as HogQL text, through the printer (strings quoted and escaped)."""
    if isinstance(value, list):
        return "[" + ", ".join(lit(v) for v in value) + "]"
    return to_hogql(exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value))


def anchor(point: str | None) -> str | None:
    """A start/end point as a node name: one trailing `/` dropped, as `$current_url` nodes lose theirs."""
    if point and len(point) > 1 and point.endswith("/"):
        return point[:-1]
    return point or None


def grouping_regex(pattern: str) -> str:
    """A `*` pattern as an (unanchored) RE2 regex: everything literal but `*`, which matches anything."""
    return re.escape(pattern).replace(r"\*", ".*")


class PathsSql:
    """The HogQL of one validated PathsQuery node for one team (see the module docstring)."""

    def __init__(self, team: Team, query: dict[str, Any], limit_context: str, now: dt.datetime | None = None):
        self.team, self.query = team, query
        self.filter: dict[str, Any] = query.get("pathsFilter") or {}
        self.now = now or clock.now()
        self.timezone = team.timezone or "UTC"
        self.date_range = QueryDateRange.for_team(
            team,
            query.get("dateRange"),
            interval="day",
            now=self.now,
            earliest_event=lambda: earliest_event(team, limit_context),
        )
        self.types: list[str] = list(self.filter.get("includeEventTypes") or [])
        self.excluded: list[str] = list(self.filter.get("excludeEvents") or [])
        self.step_limit = int(self.filter.get("stepLimit") or DEFAULT_STEP_LIMIT)
        self.edge_limit = int(self.filter.get("edgeLimit") or DEFAULT_EDGE_LIMIT)
        self.start = anchor(self.filter.get("startPoint"))
        self.end = anchor(self.filter.get("endPoint"))
        group = query.get("aggregation_group_type_index")
        self.actor = f"$group_{int(group)}" if group is not None else "person_id"
        self.grouped = group is not None

    # -- layer 1: the named events

    def _reads(self, path_type: str) -> bool:
        """Whether events of a type get that type's name: listed, or (no list) not excluded by its name."""
        return path_type in self.types if self.types else path_type not in self.excluded

    def _name(self) -> str:
        """The node name of an event. With only $pageviews (or only $screens) read, no `if` on the event: its
        short-circuit copies `properties` for the rows of each branch (measured: +50 % on the whole query)."""
        url = r"replaceRegexpAll(ifNull(properties.$current_url, ''), '(.)/$', '\\1')"
        screen = "properties.$screen_name"
        if self.types == [PAGEVIEW]:
            name = url
        elif self.types == [SCREEN]:
            name = screen
        else:
            name = "event"
            expression = self.filter.get("pathsHogQLExpression")
            if expression and self._reads(HOGQL):
                name = f"toString({to_hogql(parse_expression(expression, aggregate=False))})"
            if self._reads(PAGEVIEW):
                name = f"if(event = '{PAGEVIEW}', {url}, {name})"
            if self._reads(SCREEN):
                name = f"if(event = '{SCREEN}', {screen}, {name})"
        name = f"ifNull({name}, '')"
        for rule in self.filter.get("localPathCleaningFilters") or []:
            name = f"replaceRegexpAll({name}, {lit(rule['regex'])}, {lit(rule['alias'])})"
        return name

    def _grouped(self) -> str:
        patterns = self.filter.get("pathGroupings") or []
        if not patterns:
            return "path_item_cleaned"
        regexes = lit([grouping_regex(p) for p in patterns])
        index = f"arrayFirstIndex(pattern -> match(path_item_cleaned, pattern), {regexes})"
        return f"if({index} > 0, {lit(patterns)}[{index}], path_item_cleaned)"

    def _type_condition(self) -> str | None:
        conditions = []
        if PAGEVIEW in self.types:
            conditions.append(f"event = '{PAGEVIEW}'")
        if SCREEN in self.types:
            conditions.append(f"event = '{SCREEN}'")
        if CUSTOM_EVENT in self.types:
            conditions.append("NOT startsWith(event, '$')")
        return f"({' OR '.join(conditions)})" if conditions else None

    def _where(self) -> str:
        conditions = [to_hogql(self.date_range.range_condition())]
        types = self._type_condition()
        if types:
            conditions.append(types)
        filters = series_filters(
            {},
            self.query,
            property_types=property_types_for_team(team=self.team),
            timezone=self.timezone,
            now=self.now,
            test_account_filters=self.team.test_account_filters,
        )
        conditions += [f"({to_hogql(condition)})" for condition in filters]
        if self.grouped:
            conditions.append(f"{self.actor} != ''")
        if self.excluded:
            conditions.append(f"NOT has({lit(self.excluded)}, path_item)")
        return " AND ".join(conditions)

    def events(self, *, actors: bool = False) -> str:
        extra = f", {_ACTOR_COLUMNS}" if actors else ""
        return (
            f"SELECT {self.actor} AS actor_id, timestamp, {self._name()} AS path_item_cleaned, "
            f"{self._grouped()} AS path_item{extra} FROM events WHERE {self._where()}"
        )

    # -- layers 2 and 3: sessions and their paths

    def _cut(self, fields: tuple[str, ...]) -> tuple[str, str]:
        """The `path` column (and what it needs) and the condition a session must meet to have one."""
        n = self.step_limit
        start, end = self.start, self.end
        names = "arrayMap(e -> tupleElement(e, 2), compact) AS names"
        if start and end:
            half = n // 2
            dots = ", ".join(
                f"'{DOTS}'" if i == 2 else f"tupleElement(segment[{half + 1}], {i})" for i in range(1, len(fields) + 1)
            )
            cut = (
                f"{names}, indexOf(names, {lit(start)}) AS start_index, "
                f"indexOf(arraySlice(names, start_index), {lit(end)}) AS end_index, "
                "arraySlice(compact, start_index, end_index) AS segment, "
                f"if(length(segment) > {n}, arrayConcat(arraySlice(segment, 1, {half}), [tuple({dots})], "
                f"arraySlice(segment, -{half})), segment) AS path"
            )
            return cut, "start_index > 0 AND end_index > 0"
        if start:
            cut = f"{names}, indexOf(names, {lit(start)}) AS start_index, arraySlice(compact, start_index, {n}) AS path"
            return cut, "start_index > 0"
        if end:
            upto = "arraySlice(compact, 1, end_index)"
            cut = f"{names}, indexOf(names, {lit(end)}) AS end_index, arraySlice({upto}, -{n}) AS path"
            return cut, "end_index > 0"
        return f"arraySlice(compact, 1, {n}) AS path", "1"

    def per_path(self, *, actors: bool = False) -> str:
        """One row per session path: `actor_id`, `path` (the nodes' tuples)."""
        fields = ACTOR_FIELDS if actors else EDGE_FIELDS
        sessions = _PER_SESSION.format(fields=", ".join(fields), gap=SESSION_GAP_MS, events=self.events(actors=actors))
        cut, keep = self._cut(fields)
        return _PER_PATH.format(cut=cut, keep=keep, sessions=sessions)

    # -- the edges, and the actors of one

    def edges(self) -> str:
        having = []
        if self.filter.get("minEdgeWeight"):
            having.append(f"paths >= {int(self.filter['minEdgeWeight'])}")
        if self.filter.get("maxEdgeWeight"):
            having.append(f"paths <= {int(self.filter['maxEdgeWeight'])}")
        clause = f"HAVING {' AND '.join(having)}" if having else ""
        return _EDGES.format(paths=self.per_path(), edge=_EDGE, having=clause, limit=self.edge_limit)

    def actors(self, *, start_key: str | None, end_key: str | None, dropoff_key: str | None) -> str:
        """The actors with a node `i` matching: the path's last node is `dropoff_key`; else the node before is
        `start_key` and/or the node is `end_key`; none given: every node."""
        if dropoff_key:
            hits = ["i = length(path)", f"{_KEY.format(i='i')} = {lit(dropoff_key)}"]
        else:
            hits = [] if not start_key else ["i > 1", f"{_KEY.format(i='i - 1')} = {lit(start_key)}"]
            hits += [f"{_KEY.format(i='i')} = {lit(end_key)}"] if end_key else []
        hit = " AND ".join(hits) or "1"
        return _ACTORS.format(matching=MATCHING_EVENTS_LIMIT, paths=self.per_path(actors=True), hit=hit)
