import pytest
from django.conf import settings

from posthog_clone.clickhouse import get_client
from posthog_clone.clickhouse.migrations import MIGRATIONS, migrate, pending_migrations
from posthog_clone.clickhouse.schema import TABLES, create_table_sql


@pytest.mark.clickhouse
def test_migrations_are_recorded_and_idempotent():
    assert migrate() == []  # the session fixture already applied everything
    assert pending_migrations() == []
    versions = get_client().query(
        f"SELECT version FROM `{settings.CLICKHOUSE_DATABASE}`.clickhouse_migrations ORDER BY version"
    )
    assert [r[0] for r in versions.rows] == [m.version for m in MIGRATIONS]


@pytest.mark.clickhouse
def test_events_table_has_reference_shape():
    rows = (
        get_client()
        .query(
            "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = 'events'",
            {"db": settings.CLICKHOUSE_DATABASE},
        )
        .rows
    )
    columns = dict(rows)
    assert columns["timestamp"] == "DateTime64(6, 'UTC')"
    assert columns["uuid"] == "UUID"
    assert columns["team_id"] == "Int64"
    assert columns["$session_id"] == "String"
    engine = (
        get_client()
        .query(
            "SELECT engine, sorting_key, partition_key FROM system.tables "
            "WHERE database = {db:String} AND name = 'events'",
            {"db": settings.CLICKHOUSE_DATABASE},
        )
        .rows[0]
    )
    assert engine[0] == "ReplacingMergeTree"
    assert engine[1] == "team_id, toDate(timestamp), event, cityHash64(distinct_id), cityHash64(uuid)"
    assert engine[2] == "toYYYYMM(timestamp)"


def test_cluster_ddl_is_replicated_plus_distributed():
    shard, distributed = create_table_sql(TABLES["events"], database="posthog", cluster="main")
    assert "CREATE TABLE IF NOT EXISTS `posthog`.`sharded_events` ON CLUSTER 'main'" in shard
    assert (
        "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/posthog.sharded_events', '{replica}', _timestamp)"
        in shard
    )
    assert "non_replicated_deduplication_window" not in shard
    assert distributed == (
        "CREATE TABLE IF NOT EXISTS `posthog`.`events` ON CLUSTER 'main' AS `posthog`.`sharded_events`\n"
        "ENGINE = Distributed('main', 'posthog', 'sharded_events', sipHash64(distinct_id))"
    )


def test_local_ddl_is_single_replacing_merge_tree():
    (sql,) = create_table_sql(TABLES["person"], database="posthog")
    assert "ENGINE = ReplacingMergeTree(version)" in sql and "ON CLUSTER" not in sql
