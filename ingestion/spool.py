"""The embedded queue: a durable local spool (SQLite, WAL) drained in batches by the in-process worker.

``append`` commits (and, with SPOOL_FSYNC, fsyncs) before returning, so an event acknowledged with a
200 survives ``kill -9``. One row holds one request's envelopes. Appends are group-committed: requests
arriving while a commit is under way are written together by the next one (one fsync for all of them),
each caller still returning only after its own row is committed. A batch being written to ClickHouse is
recorded first (``inflight_batches``; the worker has up to two in flight: one inserting, the next being
processed) so that after a crash exactly the same batches are replayed, each with its own deduplication
token. The single-row ``inflight`` table of earlier versions is carried over when a spool is opened.

A row's payload is its envelopes (``envelope.dumps``) as an LZ4 frame with a content checksum: a quarter
of the bytes to write, checkpoint and free, which costs less CPU than the compression (measured on 100-event
requests: append 2.6 → 2.1 µs an event, completing a batch 0.96 → 0.26 µs, reading it back unchanged).
Rows written uncompressed by an earlier version (plain JSON, no frame magic) still replay.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import lz4.frame

from ingestion.envelope import CapturedEvent, dumps, loads

_LZ4_MAGIC = b"\x04\x22\x4d\x18"


def encode(events: list[CapturedEvent]) -> bytes:
    """One request's envelopes as a spool payload."""
    return lz4.frame.compress(dumps(events), content_checksum=True)


def decode(payload: bytes) -> list[CapturedEvent]:
    """``encode``'s envelopes; also reads the uncompressed payloads spools written before held."""
    return loads(lz4.frame.decompress(payload) if payload[:4] == _LZ4_MAGIC else payload)


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
CREATE TABLE IF NOT EXISTS inflight_batches (first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


# an earlier version's one in-flight batch becomes a row of inflight_batches (idempotent, one transaction)
_CARRY_OVER_INFLIGHT = """
BEGIN IMMEDIATE;
INSERT OR IGNORE INTO inflight_batches (first_id, last_id)
    SELECT first_id, last_id FROM inflight WHERE first_id IS NOT NULL AND last_id IS NOT NULL;
DELETE FROM inflight;
COMMIT;
"""


class _Pending:
    __slots__ = ("n", "payload", "done", "error")

    def __init__(self, n: int, payload: bytes):
        self.n, self.payload, self.done, self.error = n, payload, False, ""


class Spool:
    def __init__(self, path: Path, *, fsync: bool = True):
        self.path = Path(path)
        self.fsync = fsync
        self._local = threading.local()
        self._pending: list[_Pending] = []
        self._pending_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn().executescript(_SCHEMA)
        self._conn().executescript(_CARRY_OVER_INFLIGHT)
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
        mine = _Pending(len(events), encode(events))
        with self._pending_lock:
            self._pending.append(mine)
        with self._commit_lock:  # the holder commits every row queued so far, ours included or not
            if not mine.done:
                with self._pending_lock:
                    group, self._pending = self._pending, []
                self._commit(group)
        if mine.error:
            raise SpoolUnavailable(mine.error)

    def _commit(self, group: list[_Pending]) -> None:
        conn, error = self._conn(), "spool commit interrupted"
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT INTO spool (n, payload) VALUES (?, ?)", [(p.n, p.payload) for p in group])
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            error = ""
        except sqlite3.Error as exc:
            error = str(exc) or type(exc).__name__
        finally:
            for pending in group:
                pending.error, pending.done = error, True

    def depth(self, *, after_id: int = 0) -> int:
        """Events queued (past row ``after_id``)."""
        row = self._conn().execute("SELECT COALESCE(SUM(n), 0) FROM spool WHERE id > ?", (after_id,)).fetchone()
        return int(row[0])

    def next_batch(self, max_events: int, *, after_id: int = 0) -> Batch | None:
        """The next batch past row ``after_id`` (0: from the start): a recorded in-flight batch if a crash
        left one there (replayed exactly), else the oldest rows up to ``max_events`` events, recorded as in
        flight until ``complete``."""
        conn = self._conn()
        recorded = conn.execute(
            "SELECT first_id, last_id FROM inflight_batches WHERE first_id > ? ORDER BY first_id", (after_id,)
        ).fetchall()
        for first_id, last_id in recorded:
            rows = conn.execute("SELECT payload FROM spool WHERE id BETWEEN ? AND ? ORDER BY id", (first_id, last_id))
            events = [e for (p,) in rows for e in decode(p)]
            if events:
                return Batch(first_id, last_id, events, self.spool_id)
            conn.execute("DELETE FROM inflight_batches WHERE first_id = ?", (first_id,))
        start = max([after_id, *(last_id for _, last_id in recorded)])
        rows, total = [], 0
        for row_id, n, payload in conn.execute("SELECT id, n, payload FROM spool WHERE id > ? ORDER BY id", (start,)):
            if rows and total + n > max_events:
                break
            rows.append((row_id, payload))
            total += n
        if not rows:
            return None
        batch = Batch(rows[0][0], rows[-1][0], [e for _, p in rows for e in decode(p)], self.spool_id)
        conn.execute("INSERT INTO inflight_batches (first_id, last_id) VALUES (?, ?)", (batch.first_id, batch.last_id))
        return batch

    def complete(self, batch: Batch) -> None:
        """Forget a batch once ClickHouse holds it."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM spool WHERE id BETWEEN ? AND ?", (batch.first_id, batch.last_id))
            conn.execute("DELETE FROM inflight_batches WHERE first_id = ?", (batch.first_id,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def all_events(self) -> list[CapturedEvent]:
        """Everything queued now, oldest first (for tests and operators; not for request code)."""
        return [e for (p,) in self._conn().execute("SELECT payload FROM spool ORDER BY id") for e in decode(p)]
