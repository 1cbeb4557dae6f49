"""The virtual schema HogQL resolves against: tables, their fields, lazy joins and traversers.

Real tables (`events`, `raw_*`, `cohort_people`) print as the qualified ClickHouse table and get a team guard
where they appear. Lazy tables (`persons`, `person_distinct_ids`, `groups`, `sessions`, `static_cohort_people`)
print as a dedup subquery over a real table; the guard pass then guards the real table inside that subquery
like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STRING, INTEGER, FLOAT, BOOLEAN, DATETIME, DATE, UUID, JSON, ARRAY = (
    "string",
    "integer",
    "float",
    "boolean",
    "datetime",
    "date",
    "uuid",
    "json",
    "array",
)


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    column: str = ""  # ClickHouse column (or subquery alias); defaults to the name
    hidden: bool = False  # not part of `SELECT *`

    @property
    def ch(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class LazyJoin:
    """`from_field` on this table equals `to_field` on `table`; joined only when referenced."""

    table: str
    from_field: str
    to_field: str
    side: str = "INNER"  # or LEFT
    extra: str = ""  # extra ON condition in HogQL-free ClickHouse terms, `{alias}` is the joined alias


@dataclass(frozen=True)
class Table:
    name: str
    fields: dict[str, Field]
    ch_table: str = ""  # real ClickHouse table this reads
    lazy_sql: str = ""  # dedup subquery (ClickHouse SQL, `{table}` = qualified real table)
    joins: dict[str, LazyJoin] = field(default_factory=dict)
    traversers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    property_type: int | None = None  # PropertyDefinition.type for `properties.*`

    @property
    def is_real(self) -> bool:
        return not self.lazy_sql


def _fields(*items: Field) -> dict[str, Field]:
    return {f.name: f for f in items}


_RAW = "nullIf(nullIf(JSONExtractRaw(events.properties, '{key}'), ''), 'null')"
_QUOTED = f"startsWith({_RAW}, '\"')"
_EVENT_JSON_STR = f"substring({_RAW}, 1 + {_QUOTED}, length({_RAW}) - 2 * {_QUOTED})"
"""`ast.unquote` of a property, for lazy tables written as HogQL."""

EVENTS = Table(
    name="events",
    ch_table="events",
    property_type=1,
    fields=_fields(
        Field("uuid", UUID),
        Field("event", STRING),
        Field("properties", JSON),
        Field("timestamp", DATETIME),
        Field("distinct_id", STRING),
        Field("elements_chain", STRING),
        Field("created_at", DATETIME),
        Field("$session_id", STRING),
        Field("$window_id", STRING),
        Field("person_mode", STRING),
        *(Field(f"$group_{i}", STRING) for i in range(5)),
        Field("team_id", INTEGER, hidden=True),
    ),
    joins={
        "pdi": LazyJoin("person_distinct_ids", "distinct_id", "distinct_id"),
        "session": LazyJoin("sessions", "$session_id", "session_id", side="LEFT"),
        **{f"group_{i}": LazyJoin(f"groups_{i}", f"$group_{i}", "key", side="LEFT") for i in range(5)},
    },
    traversers={"person": ("pdi", "person"), "person_id": ("pdi", "person_id")},
)

_PERSON_FIELDS = (
    Field("id", UUID),
    Field("created_at", DATETIME),
    Field("properties", JSON),
    Field("is_identified", BOOLEAN),
    Field("team_id", INTEGER, hidden=True),
)

PERSONS = Table(
    name="persons",
    ch_table="person",
    property_type=2,
    fields=_fields(*_PERSON_FIELDS),
    lazy_sql=(
        "SELECT person.id AS id, argMax(person.created_at, person.version) AS created_at,"
        " argMax(person.properties, person.version) AS properties,"
        " argMax(person.is_identified, person.version) AS is_identified, any(person.team_id) AS team_id"
        " FROM {table} AS person GROUP BY person.id"
        " HAVING equals(argMax(person.is_deleted, person.version), 0)"
    ),
)

RAW_PERSONS = Table(
    name="raw_persons",
    ch_table="person",
    property_type=2,
    fields=_fields(*_PERSON_FIELDS, Field("is_deleted", BOOLEAN), Field("version", INTEGER)),
)

PERSON_DISTINCT_IDS = Table(
    name="person_distinct_ids",
    ch_table="person_distinct_id2",
    fields=_fields(Field("distinct_id", STRING), Field("person_id", UUID), Field("team_id", INTEGER, hidden=True)),
    lazy_sql=(
        "SELECT pdi.distinct_id AS distinct_id, argMax(pdi.person_id, pdi.version) AS person_id,"
        " any(pdi.team_id) AS team_id"
        " FROM {table} AS pdi GROUP BY pdi.distinct_id HAVING equals(argMax(pdi.is_deleted, pdi.version), 0)"
    ),
    joins={"person": LazyJoin("persons", "person_id", "id")},
)

RAW_PERSON_DISTINCT_IDS = Table(
    name="raw_person_distinct_ids",
    ch_table="person_distinct_id2",
    fields=_fields(
        Field("distinct_id", STRING),
        Field("person_id", UUID),
        Field("is_deleted", BOOLEAN),
        Field("version", INTEGER),
        Field("team_id", INTEGER, hidden=True),
    ),
)

# Cohort members (`IN COHORT` reads these). `cohort_people`: every calculation's rows of dynamic cohorts (the
# current members are the rows at the cohort's `version`); `static_cohort_people`: static cohorts' current members
# (the newest row per person says in or removed).
COHORT_PEOPLE = Table(
    name="cohort_people",
    ch_table="cohortpeople",
    fields=_fields(
        Field("person_id", UUID),
        Field("cohort_id", INTEGER),
        Field("version", INTEGER),
        Field("team_id", INTEGER, hidden=True),
    ),
    joins={"person": LazyJoin("persons", "person_id", "id")},
)

STATIC_COHORT_PEOPLE = Table(
    name="static_cohort_people",
    ch_table="person_static_cohort",
    fields=_fields(Field("person_id", UUID), Field("cohort_id", INTEGER), Field("team_id", INTEGER, hidden=True)),
    lazy_sql=(
        "SELECT sc.person_id AS person_id, sc.cohort_id AS cohort_id, any(sc.team_id) AS team_id"
        " FROM {table} AS sc GROUP BY sc.cohort_id, sc.person_id"
        " HAVING equals(argMax(sc.is_deleted, sc._timestamp), 0)"
    ),
    joins={"person": LazyJoin("persons", "person_id", "id")},
)

_GROUP_FIELDS = (
    Field("index", INTEGER),
    Field("key", STRING),
    Field("created_at", DATETIME),
    Field("updated_at", DATETIME),
    Field("properties", JSON),
    Field("team_id", INTEGER, hidden=True),
)
_GROUPS_SQL = (
    "SELECT groups.group_type_index AS index, groups.group_key AS key,"
    " argMax(groups.created_at, groups._timestamp) AS created_at, max(groups._timestamp) AS updated_at,"
    " argMax(groups.group_properties, groups._timestamp) AS properties, any(groups.team_id) AS team_id"
    " FROM {table} AS groups {where} GROUP BY groups.group_type_index, groups.group_key"
)

GROUPS = Table(
    name="groups",
    ch_table="groups",
    property_type=3,
    fields=_fields(*_GROUP_FIELDS),
    lazy_sql=_GROUPS_SQL.replace("{where}", ""),
)

RAW_GROUPS = Table(
    name="raw_groups",
    ch_table="groups",
    property_type=3,
    fields=_fields(
        Field("index", INTEGER, column="group_type_index"),
        Field("key", STRING, column="group_key"),
        Field("created_at", DATETIME),
        Field("updated_at", DATETIME, column="_timestamp"),
        Field("properties", JSON, column="group_properties"),
        Field("team_id", INTEGER, hidden=True),
    ),
)

# Per-index group tables, only reachable through events.group_N lazy joins.
GROUPS_N = {
    f"groups_{i}": Table(
        name=f"groups_{i}",
        ch_table="groups",
        property_type=3,
        fields=_fields(*_GROUP_FIELDS),
        lazy_sql=_GROUPS_SQL.replace("{where}", f"WHERE equals(groups.group_type_index, {i})"),
    )
    for i in range(5)
}


def _prop(key: str) -> str:
    return _EVENT_JSON_STR.format(key=key)


def _first(key: str, alias: str, fn: str = "argMinIf") -> str:
    return f" {fn}({_prop(key)}, events.timestamp, isNotNull({_prop(key)})) AS `{alias}`,"


# Sessions are computed from events at query time (see docs/query.md for why).
SESSIONS = Table(
    name="sessions",
    ch_table="events",
    fields=_fields(
        Field("session_id", STRING),
        Field("id", STRING, column="session_id", hidden=True),
        Field("distinct_id", STRING),
        Field("$start_timestamp", DATETIME),
        Field("$end_timestamp", DATETIME),
        Field("$session_duration", INTEGER),
        Field("duration", INTEGER, column="$session_duration", hidden=True),
        Field("$urls", ARRAY),
        Field("$num_uniq_urls", INTEGER),
        Field("$entry_current_url", STRING),
        Field("$entry_pathname", STRING),
        Field("$end_current_url", STRING),
        Field("$end_pathname", STRING),
        Field("$exit_current_url", STRING, column="$end_current_url", hidden=True),
        Field("$exit_pathname", STRING, column="$end_pathname", hidden=True),
        Field("$entry_referring_domain", STRING),
        Field("$entry_utm_source", STRING),
        Field("$entry_utm_campaign", STRING),
        Field("$entry_utm_medium", STRING),
        Field("$pageview_count", INTEGER),
        Field("$autocapture_count", INTEGER),
        Field("$screen_count", INTEGER),
        Field("$is_bounce", BOOLEAN),
        Field("team_id", INTEGER, hidden=True),
    ),
    lazy_sql=(
        "SELECT events.`$session_id` AS session_id, any(events.distinct_id) AS distinct_id,"
        " min(events.timestamp) AS `$start_timestamp`, max(events.timestamp) AS `$end_timestamp`,"
        " dateDiff('second', min(events.timestamp), max(events.timestamp)) AS `$session_duration`,"
        f" groupUniqArrayIf({_prop('$current_url')}, isNotNull({_prop('$current_url')})) AS `$urls`,"
        " length(`$urls`) AS `$num_uniq_urls`,"
        + _first("$current_url", "$entry_current_url")
        + _first("$pathname", "$entry_pathname")
        + _first("$current_url", "$end_current_url", "argMaxIf")
        + _first("$pathname", "$end_pathname", "argMaxIf")
        + f" argMin({_prop('$referring_domain')}, events.timestamp) AS `$entry_referring_domain`,"
        f" argMin({_prop('utm_source')}, events.timestamp) AS `$entry_utm_source`,"
        f" argMin({_prop('utm_campaign')}, events.timestamp) AS `$entry_utm_campaign`,"
        f" argMin({_prop('utm_medium')}, events.timestamp) AS `$entry_utm_medium`,"
        " countIf(equals(events.event, '$pageview')) AS `$pageview_count`,"
        " countIf(equals(events.event, '$autocapture')) AS `$autocapture_count`,"
        " countIf(equals(events.event, '$screen')) AS `$screen_count`,"
        " if(equals(`$pageview_count`, 0), NULL, not(or(greater(`$pageview_count`, 1),"
        " greater(`$autocapture_count`, 0), greaterOrEquals(`$session_duration`, 10)))) AS `$is_bounce`,"
        " any(events.team_id) AS team_id"
        " FROM {table} AS events WHERE notEquals(events.`$session_id`, '') GROUP BY events.`$session_id`"
    ),
)

NUMBERS_FIELDS = _fields(Field("number", INTEGER))

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        EVENTS,
        PERSONS,
        RAW_PERSONS,
        PERSON_DISTINCT_IDS,
        RAW_PERSON_DISTINCT_IDS,
        GROUPS,
        RAW_GROUPS,
        SESSIONS,
        COHORT_PEOPLE,
        STATIC_COHORT_PEOPLE,
    )
}
INTERNAL_TABLES: dict[str, Table] = {**TABLES, **GROUPS_N}
FUNCTION_TABLES = {"numbers"}  # table functions the virtual database defines (no team data)
