"""Backup and restore of the embedded default (`manage.py backup` / `manage.py restore`): the Django
database (SQLite), the spool, and the events and persons in chDB, taken while `serve` runs.

Consistency without stopping capture: the backup pauses the spool's worker (a lease, renewed while the
backup runs and lapsing by itself if the backup dies), waits until no batch is in flight, then copies
the Django database and the spool with SQLite's online backup API and exports ClickHouse through the
engine (``posthog_clone.clickhouse.backup``). While it lasts nothing moves from the spool to ClickHouse,
so every acknowledged event is in exactly one of the two copies, and the persons and definitions in the
Django copy are those of the events in ClickHouse; capture goes on appending to the spool, and queries go
on answering. The manifest is written last: a directory without one is not a backup.

A restore goes into a fresh VAR_DIR (nothing there yet, no server running on it): the two SQLite files
are copied back, ClickHouse's tables are created and filled, and Django's migrations bring an older
backup up to date. The restored spool still holds the events captured before the backup and not yet
written; the first `serve` writes them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command

from ingestion.spool import Spool
from posthog_clone.clickhouse import backup as clickhouse_backup
from posthog_clone.clickhouse.errors import ClickHouseError

Progress = Callable[[str, int, int], None]  # (what, done, total)
MANIFEST = "manifest.json"
DJANGO_FILE = "django.sqlite3"
SPOOL_FILE = "spool.sqlite3"
CLICKHOUSE_DIR = "clickhouse"
FORMAT_VERSION = 1
PAUSE_LEASE_SECONDS = 60.0
IDLE_WAIT_SECONDS = 120.0
PAGES_PER_STEP = 4096  # SQLite pages copied between two progress reports (and two chances for writers)


class BackupError(Exception):
    """The backup or the restore cannot be done as asked; nothing was left half-done in the source."""


def sqlite_path() -> Path:
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        raise BackupError(
            "backup and restore cover the embedded default (SQLite); back up PostgreSQL with pg_dump, "
            "ClickHouse with its BACKUP and Redis with its append-only file"
        )
    return Path(database["NAME"])


def sqlite_copy(source: Path, target: Path, what: str, progress: Progress) -> None:
    """A consistent copy of a live SQLite database (the online backup API: writers are not blocked
    for longer than a step)."""
    with sqlite3.connect(source, timeout=30) as src, sqlite3.connect(target) as dst:
        src.backup(dst, pages=PAGES_PER_STEP, progress=lambda _s, left, total: progress(what, total - left, total))
    src.close()
    dst.close()


@contextmanager
def ingestion_paused(spool: Spool, progress: Progress) -> Iterator[None]:
    """Pause the spool's worker and wait until it has no batch in flight; resume on the way out."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(PAUSE_LEASE_SECONDS / 3):
            Spool(spool.path).pause(PAUSE_LEASE_SECONDS)  # its own connection: this is another thread

    spool.pause(PAUSE_LEASE_SECONDS)
    renewer = threading.Thread(target=renew, name="backup-pause", daemon=True)
    renewer.start()
    try:
        deadline = time.monotonic() + IDLE_WAIT_SECONDS
        while (in_flight := spool.in_flight()) > 0:
            progress("in-flight", in_flight, in_flight)  # batches being written: waited for
            if time.monotonic() > deadline:
                raise BackupError(
                    f"ingestion kept {in_flight} batch(es) in flight for {IDLE_WAIT_SECONDS:.0f} s: "
                    "is ClickHouse failing? (see the server log)"
                )
            time.sleep(0.1)
        yield
    finally:
        stop.set()
        renewer.join()
        spool.resume()


def backup(dest: Path, progress: Progress) -> dict[str, Any]:
    """Write a backup of this VAR_DIR's data into ``dest`` (new or empty); its manifest."""
    django_db = sqlite_path()
    clickhouse_backup.require_embedded()
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    client = clickhouse_backup.owner_client()
    spool = Spool(settings.SPOOL_PATH)
    started = time.monotonic()
    with ingestion_paused(spool, progress):
        sqlite_copy(django_db, dest / DJANGO_FILE, "database", progress)
        sqlite_copy(spool.path, dest / SPOOL_FILE, "spool", progress)
        files = clickhouse_backup.export_tables(client, dest / CLICKHOUSE_DIR, progress)
    copy = Spool(dest / SPOOL_FILE)
    copy.resume()  # the copy was taken paused: a restored server must ingest
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "seconds": round(time.monotonic() - started, 3),
        "clickhouse_database": settings.CLICKHOUSE_DATABASE,
        "spool_events": copy.depth(),
        "clickhouse_rows": _rows_by_table(files),
        "clickhouse_files": {f.path.name: f.rows for f in files},
    }
    partial = dest / f"{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=2))
    partial.rename(dest / MANIFEST)
    return manifest


def _rows_by_table(files: list[clickhouse_backup.TableFile]) -> dict[str, int]:
    rows: dict[str, int] = {}
    for file in files:
        rows[file.table] = rows.get(file.table, 0) + file.rows
    return rows


def restore(src: Path, progress: Progress) -> dict[str, Any]:
    """Restore the backup in ``src`` into this (fresh) VAR_DIR; the rows restored per ClickHouse table."""
    manifest_path = src / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{src} holds no {MANIFEST}: not a backup, or one that did not finish")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"backup format {manifest.get('format')!r}; this version reads {FORMAT_VERSION}")
    django_db, spool_path = sqlite_path(), Path(settings.SPOOL_PATH)
    clickhouse_backup.require_embedded()
    if clickhouse_backup.engine_client() is not None:
        raise BackupError("a server is running on this VAR_DIR: stop it and restore into a fresh VAR_DIR")
    for path in (django_db, spool_path):
        if path.exists() and path.stat().st_size:
            raise BackupError(f"{path} already exists: restore into a fresh VAR_DIR")
    client = clickhouse_backup.owner_client()
    from posthog_clone.clickhouse.migrations import migrate

    migrate()
    if not clickhouse_backup.tables_empty(client):
        raise BackupError(f"ClickHouse under {settings.CLICKHOUSE.path} already holds data: use a fresh VAR_DIR")
    django_db.parent.mkdir(parents=True, exist_ok=True)
    spool_path.parent.mkdir(parents=True, exist_ok=True)
    sqlite_copy(src / DJANGO_FILE, django_db, "database", progress)
    sqlite_copy(src / SPOOL_FILE, spool_path, "spool", progress)
    call_command("migrate", interactive=False, verbosity=0)  # a backup of an older version comes up to date
    files = clickhouse_backup.table_files(src / CLICKHOUSE_DIR)
    restored = clickhouse_backup.import_tables(client, files, manifest["clickhouse_rows"], progress)
    for name, rows in manifest["clickhouse_rows"].items():
        if restored.get(name, 0) != rows:
            raise ClickHouseError(f"{name}: {restored.get(name, 0)} rows restored, the backup holds {rows}")
    return {"clickhouse_rows": restored, "spool_events": Spool(spool_path).depth()}
