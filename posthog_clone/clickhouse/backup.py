"""The ClickHouse half of `manage.py backup` / `manage.py restore` (embedded chDB only).

A backup writes each of our tables, one partition at a time, as a zstd-compressed Native file
(``<table>.<partition>.native.zst``) with chDB's own ``file()`` table function: the rows stream from the
parts to the file inside chDB, never through Python. A restore creates the tables (the migrations) and
inserts each file back, naming the file's columns, so a table that gained a column since takes its default.

While `serve` runs, chDB belongs to its engine process: ``owner_client`` reaches it there (the same calls
over the engine's socket), and opens the directory itself only when no engine serves it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from posthog_clone.clickhouse import get_client, table
from posthog_clone.clickhouse.client import ClickHouseClient
from posthog_clone.clickhouse.engine import EngineClient, engine_address, engine_authkey
from posthog_clone.clickhouse.errors import ClickHouseError
from posthog_clone.clickhouse.schema import TABLES
from posthog_clone.env import ClickHouseBackend

SUFFIX = ".native.zst"
Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass(frozen=True)
class TableFile:
    table: str
    partition: str
    rows: int
    path: Path


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def require_embedded() -> None:
    if settings.CLICKHOUSE.backend is not ClickHouseBackend.EMBEDDED:
        raise ClickHouseError(
            "backup and restore cover the embedded chDB store; back up a ClickHouse server with its own BACKUP"
        )


def engine_client() -> EngineClient | None:
    """A client of the engine of a `serve` running on this chDB directory, or None when none answers."""
    client = EngineClient(engine_address(settings.CLICKHOUSE.path), engine_authkey(settings.SECRET_KEY), connect_wait=0)
    try:
        client.query("SELECT 1")
    except ClickHouseError as exc:
        client.close()
        if not exc.retryable:  # an engine is there but refuses us (another SECRET_KEY): not ours to open
            raise
        return None
    return client


def owner_client() -> ClickHouseClient | EngineClient:
    """The engine's client while `serve` runs on this directory, else this process's own chDB."""
    require_embedded()
    return engine_client() or get_client()


def _our_tables(client: ClickHouseClient | EngineClient) -> list[str]:
    present = {
        row[0]
        for row in client.query(
            "SELECT name FROM system.tables WHERE database = {db:String}", {"db": settings.CLICKHOUSE_DATABASE}
        ).rows
    }
    return [name for name in TABLES if name in present]


def export_tables(client: ClickHouseClient | EngineClient, dest: Path, progress: Progress) -> list[TableFile]:
    """Write every table of ours under ``dest``, a file per partition; the files written."""
    dest.mkdir(parents=True, exist_ok=True)
    todo = [
        (name, str(partition), int(rows))
        for name in _our_tables(client)
        for partition, rows in client.query(
            f"SELECT _partition_id, count() FROM {table(name)} GROUP BY _partition_id ORDER BY _partition_id"
        ).rows
    ]
    total, done, files = sum(rows for *_, rows in todo), 0, []
    progress("clickhouse", 0, total)
    for name, partition, rows in todo:
        path = (dest / f"{name}.{partition}{SUFFIX}").resolve()
        client.command(
            f"INSERT INTO FUNCTION file({_literal(str(path))}, 'Native') "
            f"SELECT * FROM {table(name)} WHERE _partition_id = {{p:String}}",
            params={"p": partition},
        )
        files.append(TableFile(name, partition, rows, path))
        done += rows
        progress("clickhouse", done, total)
    return files


def table_files(src: Path) -> list[TableFile]:
    """The files of a backup directory, by table then partition (rows unknown: -1)."""
    found = []
    for path in sorted(src.glob(f"*{SUFFIX}")):
        name, _, partition = path.name[: -len(SUFFIX)].partition(".")
        if name not in TABLES:
            raise ClickHouseError(f"{path.name}: not a table of ours")
        found.append(TableFile(name, partition, -1, path.resolve()))
    return found


def tables_empty(client: ClickHouseClient | EngineClient) -> bool:
    return all(client.query(f"SELECT count() FROM {table(name)}").rows[0][0] == 0 for name in _our_tables(client))


def import_tables(
    client: ClickHouseClient | EngineClient, files: list[TableFile], expected: dict[str, int], progress: Progress
) -> dict[str, int]:
    """Insert the files into the (migrated, empty) tables; rows inserted per table."""
    total, done, rows_by_table = sum(expected.values()), 0, dict.fromkeys(TABLES, 0)
    progress("clickhouse", 0, total)
    for file in files:
        source = f"file({_literal(str(file.path))}, 'Native')"
        columns = ", ".join(f"`{row[0]}`" for row in client.query(f"DESCRIBE TABLE {source}").rows)
        rows = client.query(f"SELECT count() FROM {source}").rows[0][0]
        # no block-hash deduplication: two partitions may hold the same rows, and both are kept
        client.command(
            f"INSERT INTO {table(file.table)} ({columns}) SELECT {columns} FROM {source}",
            settings={"insert_deduplicate": 0},
        )
        rows_by_table[file.table] += rows
        done += rows
        progress("clickhouse", done, total)
    return {name: rows for name, rows in rows_by_table.items() if rows}
