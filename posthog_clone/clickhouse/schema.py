"""ClickHouse DDL for our tables, as functions of the database and an optional cluster.

Without a cluster each table is a local ``ReplacingMergeTree``. With ``CLICKHOUSE_CLUSTER`` set, each
table becomes ``sharded_<name>`` (``ReplicatedReplacingMergeTree``) plus a ``Distributed`` table under
the plain name, so readers and writers use the same names in both layouts.
"""

from __future__ import annotations

from dataclasses import dataclass

_JSON_STR = "replaceRegexpAll(JSONExtractRaw(properties, '{key}'), '^\"|\"$', '')"

EVENTS_COLUMNS = f"""
    uuid UUID,
    event String,
    properties String CODEC(ZSTD(3)),
    timestamp DateTime64(6, 'UTC'),
    team_id Int64,
    distinct_id String,
    elements_chain String,
    created_at DateTime64(6, 'UTC'),
    person_id UUID,
    person_created_at DateTime64(3, 'UTC'),
    person_properties String CODEC(ZSTD(3)),
    person_mode Enum8('full' = 0, 'propertyless' = 1, 'force_upgrade' = 2),
    `$session_id` String MATERIALIZED {_JSON_STR.format(key="$session_id")},
    `$window_id` String MATERIALIZED {_JSON_STR.format(key="$window_id")},
    `$group_0` String MATERIALIZED {_JSON_STR.format(key="$group_0")},
    `$group_1` String MATERIALIZED {_JSON_STR.format(key="$group_1")},
    `$group_2` String MATERIALIZED {_JSON_STR.format(key="$group_2")},
    `$group_3` String MATERIALIZED {_JSON_STR.format(key="$group_3")},
    `$group_4` String MATERIALIZED {_JSON_STR.format(key="$group_4")},
    _timestamp DateTime,
    inserted_at Nullable(DateTime64(6, 'UTC')) DEFAULT now64(),
    INDEX idx_session_id `$session_id` TYPE minmax GRANULARITY 1
"""

PERSON_COLUMNS = """
    id UUID,
    created_at DateTime64(3, 'UTC'),
    team_id Int64,
    properties String CODEC(ZSTD(3)),
    is_identified Int8,
    is_deleted Int8 DEFAULT 0,
    version UInt64
"""

PDI_COLUMNS = """
    team_id Int64,
    distinct_id String,
    person_id UUID,
    is_deleted Int8 DEFAULT 0,
    version Int64
"""

GROUPS_COLUMNS = """
    group_type_index UInt8,
    group_key String,
    created_at DateTime64(6, 'UTC'),
    team_id Int64,
    group_properties String CODEC(ZSTD(3)),
    _timestamp DateTime64(6, 'UTC')
"""

# Members of dynamic cohorts, one row per (cohort, person) and calculation `version`. A recalculation inserts
# its members at a new version; readers take `version = cohort.version`, so people who left (rows of older
# versions only) drop out without a delete, and merges keep one row per key.
COHORTPEOPLE_COLUMNS = """
    team_id Int64,
    cohort_id Int64,
    person_id UUID,
    version UInt64
"""

# Members of static cohorts (CSV uploads, added persons, copies): the newest row of a key says whether the
# person is in (`is_deleted = 0`) or was removed.
PERSON_STATIC_COHORT_COLUMNS = """
    team_id Int64,
    cohort_id Int64,
    person_id UUID,
    is_deleted Int8 DEFAULT 0,
    _timestamp DateTime64(6, 'UTC')
"""

# Session replay (replay reference §1.5): one row per stored block (the snapshot items of one session window
# from one queued message), keyed by `block_id` (the message's uuid), so a replayed batch replaces its rows
# instead of adding to them; readers take `FINAL` and aggregate per session (`replay.selectors`). PostHog's
# table is an AggregatingMergeTree of per-block states; per-block rows give the same sums and let a block
# say where its lines are stored (`blob_key`, byte range `blob_start`..`blob_end`, exclusive end).
SESSION_REPLAY_EVENTS_COLUMNS = """
    session_id String,
    team_id Int64,
    distinct_id String,
    block_id String,
    window_id String,
    min_first_timestamp DateTime64(6, 'UTC'),
    max_last_timestamp DateTime64(6, 'UTC'),
    first_url Nullable(String),
    all_urls Array(String),
    click_count Int64,
    keypress_count Int64,
    mouse_activity_count Int64,
    active_milliseconds Int64,
    console_log_count Int64,
    console_warn_count Int64,
    console_error_count Int64,
    size Int64,
    message_count Int64,
    event_count Int64,
    snapshot_source LowCardinality(String),
    snapshot_library String,
    retention_period_days Nullable(Int64),
    blob_key String,
    blob_start UInt64,
    blob_end UInt64,
    _timestamp DateTime
"""


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: str
    version_column: str
    order_by: str
    partition_by: str = ""
    sample_by: str = ""
    sharding_key: str = "rand()"
    extra_settings: str = ""


TABLES = {
    "events": TableSpec(
        name="events",
        columns=EVENTS_COLUMNS,
        version_column="_timestamp",
        order_by="(team_id, toDate(timestamp), event, cityHash64(distinct_id), cityHash64(uuid))",
        partition_by="toYYYYMM(timestamp)",
        sample_by="cityHash64(distinct_id)",
        sharding_key="sipHash64(distinct_id)",
        # Replays of a spool batch carry the same insert_deduplication_token and are dropped.
        extra_settings="non_replicated_deduplication_window = 10000",
    ),
    "person": TableSpec(
        name="person",
        columns=PERSON_COLUMNS,
        version_column="version",
        order_by="(team_id, id)",
        sharding_key="cityHash64(id)",
    ),
    "person_distinct_id2": TableSpec(
        name="person_distinct_id2",
        columns=PDI_COLUMNS,
        version_column="version",
        order_by="(team_id, distinct_id)",
        sharding_key="cityHash64(distinct_id)",
        extra_settings="index_granularity = 512",
    ),
    "groups": TableSpec(
        name="groups",
        columns=GROUPS_COLUMNS,
        version_column="_timestamp",
        order_by="(team_id, group_type_index, group_key)",
        sharding_key="cityHash64(group_key)",
    ),
    "cohortpeople": TableSpec(
        name="cohortpeople",
        columns=COHORTPEOPLE_COLUMNS,
        version_column="version",
        order_by="(team_id, cohort_id, person_id)",
        sharding_key="cityHash64(person_id)",
    ),
    "person_static_cohort": TableSpec(
        name="person_static_cohort",
        columns=PERSON_STATIC_COHORT_COLUMNS,
        version_column="_timestamp",
        order_by="(team_id, cohort_id, person_id)",
        sharding_key="cityHash64(person_id)",
    ),
    "session_replay_events": TableSpec(
        name="session_replay_events",
        columns=SESSION_REPLAY_EVENTS_COLUMNS,
        version_column="_timestamp",
        order_by="(team_id, toDate(min_first_timestamp), session_id, block_id)",
        partition_by="toYYYYMM(min_first_timestamp)",
        sharding_key="sipHash64(session_id)",
        extra_settings="non_replicated_deduplication_window = 10000",
    ),
}


def create_table_sql(spec: TableSpec, *, database: str, cluster: str = "") -> list[str]:
    """The statements creating one table (two when clustered: the replicated shard and the Distributed)."""
    on_cluster = f" ON CLUSTER '{cluster}'" if cluster else ""
    clauses = [f"ORDER BY {spec.order_by}"]
    if spec.partition_by:
        clauses.insert(0, f"PARTITION BY {spec.partition_by}")
    if spec.sample_by:
        clauses.append(f"SAMPLE BY {spec.sample_by}")
    settings = spec.extra_settings
    if cluster:
        # Replicated tables deduplicate inserts by default; the non-replicated window does not apply.
        settings = ", ".join(s for s in settings.split(", ") if s and "non_replicated" not in s)
    if settings:
        clauses.append(f"SETTINGS {settings}")
    tail = "\n".join(clauses)
    if not cluster:
        return [
            f"CREATE TABLE IF NOT EXISTS `{database}`.`{spec.name}` ({spec.columns})\n"
            f"ENGINE = ReplacingMergeTree({spec.version_column})\n{tail}"
        ]
    shard = f"sharded_{spec.name}"
    zk_path = f"/clickhouse/tables/{{shard}}/{database}.{shard}"
    return [
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{shard}`{on_cluster} ({spec.columns})\n"
        f"ENGINE = ReplicatedReplacingMergeTree('{zk_path}', '{{replica}}', {spec.version_column})\n{tail}",
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{spec.name}`{on_cluster} AS `{database}`.`{shard}`\n"
        f"ENGINE = Distributed('{cluster}', '{database}', '{shard}', {spec.sharding_key})",
    ]
