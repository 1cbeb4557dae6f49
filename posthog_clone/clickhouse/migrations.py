"""Versioned, idempotent ClickHouse migrations, run by `manage.py migrate_clickhouse` and at start-up.

Applied versions are recorded in ``clickhouse_migrations``; every statement is also written to be
safe to run twice (IF NOT EXISTS), so a crash between a statement and its record is harmless.
Add a migration by appending to ``MIGRATIONS``; never edit one that has shipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from posthog_clone.clickhouse import get_client
from posthog_clone.clickhouse.schema import TABLES, create_table_sql

logger = logging.getLogger(__name__)
_lock = threading.Lock()


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Callable[[str, str], list[str]]  # (database, cluster) -> SQL statements


def _tables(*names: str) -> Callable[[str, str], list[str]]:
    def build(database: str, cluster: str) -> list[str]:
        return [sql for name in names for sql in create_table_sql(TABLES[name], database=database, cluster=cluster)]

    return build


MIGRATIONS: list[Migration] = [
    Migration(1, "events", _tables("events")),
    Migration(2, "persons", _tables("person", "person_distinct_id2")),
    Migration(3, "groups", _tables("groups")),
    Migration(4, "cohort members", _tables("cohortpeople", "person_static_cohort")),
    Migration(5, "session replay", _tables("session_replay_events")),
]


def bootstrap_sql(database: str, cluster: str) -> list[str]:
    on_cluster = f" ON CLUSTER '{cluster}'" if cluster else ""
    return [
        f"CREATE DATABASE IF NOT EXISTS `{database}`{on_cluster}",
        f"CREATE TABLE IF NOT EXISTS `{database}`.`clickhouse_migrations`{on_cluster} "
        "(version UInt32, name String, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version",
    ]


def pending_migrations() -> list[Migration]:
    database = settings.CLICKHOUSE_DATABASE
    client = get_client()
    for sql in bootstrap_sql(database, settings.CLICKHOUSE_CLUSTER):
        client.command(sql)
    applied = {row[0] for row in client.query(f"SELECT version FROM `{database}`.`clickhouse_migrations`").rows}
    return [m for m in MIGRATIONS if m.version not in applied]


def migrate() -> list[Migration]:
    """Apply what is missing; returns the migrations applied now."""
    database, cluster = settings.CLICKHOUSE_DATABASE, settings.CLICKHOUSE_CLUSTER
    client = get_client()
    with _lock:
        todo = pending_migrations()
        for migration in todo:
            for sql in migration.statements(database, cluster):
                client.command(sql)
            client.command(
                f"INSERT INTO `{database}`.`clickhouse_migrations` (version, name) VALUES ({{v:UInt32}}, {{n:String}})",
                params={"v": migration.version, "n": migration.name},
            )
            logger.info(
                "clickhouse migration applied", extra={"version": migration.version, "migration": migration.name}
            )
    return todo
