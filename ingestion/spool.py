"""The embedded queue: a durable local spool (SQLite, WAL) drained in batches by the in-process worker.

``append`` commits (and, with SPOOL_FSYNC, fsyncs) before returning, so an event acknowledged with a
200 survives ``kill -9``. One row holds one request's envelopes. A batch being written to ClickHouse is
recorded first (``inflight``) so that after a crash exactly the same rows are replayed with the same
deduplication token.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from ingestion.envelope import CapturedEvent, dumps, loads


class SpoolUnavailable(Exception):
    """The spool could not take the events (disk full, locked too long, …): capture answers 503."""


@dataclass(frozen=True)
class Batch:
    first_id: int
    last_id: int
    events: list[CapturedEvent]
    spool_id: str = ""

    @property
    def token(self) -> str:
        # the spool's own id keeps tokens unique when a spool file is recreated against the same ClickHouse
        return f"spool-{self.spool_id}-{self.first_id}-{self.last_id}"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS inflight (only INTEGER PRIMARY KEY CHECK (only = 1), first_id INTEGER, last_id INTEGER);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Spool:
    def __init__(self, path: Path, *, fsync: bool = True):
        self.path = Path(path)
        self.fsync = fsync
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn().executescript(_SCHEMA)
        self._conn().execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('spool_id', ?)", (uuid.uuid4().hex,))
        self.spool_id = self._conn().execute("SELECT value FROM meta WHERE key = 'spool_id'").fetchone()[0]

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={'FULL' if self.fsync else 'NORMAL'}")
            self._local.conn = conn
        return conn

    def append(self, events: list[CapturedEvent]) -> None:
        """Durably store one request's events; raises SpoolUnavailable if they could not be stored."""
        try:
            self._conn().execute("INSERT INTO spool (n, payload) VALUES (?, ?)", (len(events), dumps(events)))
        except sqlite3.Error as exc:
            raise SpoolUnavailable(str(exc)) from exc

    def depth(self) -> int:
        row = self._conn().execute("SELECT COALESCE(SUM(n), 0) FROM spool").fetchone()
        return int(row[0])

    def next_batch(self, max_events: int) -> Batch | None:
        """The in-flight batch if a crash left one, else the oldest rows up to ``max_events`` events."""
        conn = self._conn()
        inflight = conn.execute("SELECT first_id, last_id FROM inflight").fetchone()
        if inflight:
            rows = conn.execute(
                "SELECT id, payload FROM spool WHERE id BETWEEN ? AND ? ORDER BY id", inflight
            ).fetchall()
            if rows:
                return Batch(inflight[0], inflight[1], [e for _, p in rows for e in loads(p)], self.spool_id)
            conn.execute("DELETE FROM inflight")
        rows, total = [], 0
        for row_id, n, payload in conn.execute("SELECT id, n, payload FROM spool ORDER BY id"):
            if rows and total + n > max_events:
                break
            rows.append((row_id, payload))
            total += n
        if not rows:
            return None
        batch = Batch(rows[0][0], rows[-1][0], [e for _, p in rows for e in loads(p)], self.spool_id)
        conn.execute(
            "INSERT OR REPLACE INTO inflight (only, first_id, last_id) VALUES (1, ?, ?)",
            (batch.first_id, batch.last_id),
        )
        return batch

    def complete(self, batch: Batch) -> None:
        """Forget a batch once ClickHouse holds it."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM spool WHERE id BETWEEN ? AND ?", (batch.first_id, batch.last_id))
            conn.execute("DELETE FROM inflight")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def all_events(self) -> list[CapturedEvent]:
        """Everything queued now, oldest first (for tests and operators; not for request code)."""
        return [e for (p,) in self._conn().execute("SELECT payload FROM spool ORDER BY id") for e in loads(p)]
