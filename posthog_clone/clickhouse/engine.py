"""The embedded engine: one process owns the chDB directory and serves it to the server's other processes.

chDB lets one process open a directory. In the embedded default `manage.py serve` starts that process
(`manage.py clickhouse_engine`: migrations, the ingestion worker draining the spool, the export
scheduler) next to several gunicorn web processes, which reach chDB through ``EngineClient``: the same
calls as ``ClickHouseClient`` (query, command, insert), sent over a local socket.

The channel is ``multiprocessing.connection`` on a Linux abstract Unix socket named after VAR_DIR, with
an HMAC challenge keyed by SECRET_KEY: only a process holding the project's secret can connect, and no
socket file is left behind by a killed server. Messages are pickles, which is why the handshake comes
first. Each client thread keeps its own connection; the engine serves each connection in a thread.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from typing import Any

from posthog_clone.clickhouse import timing
from posthog_clone.clickhouse.client import ClickHouseClient, Result
from posthog_clone.clickhouse.errors import ClickHouseError

logger = logging.getLogger(__name__)

CALLS = frozenset({"query", "command", "insert_json_rows", "insert"})
CONNECT_WAIT_SECONDS = 60.0  # web processes start before the engine has run its migrations


def engine_address(var_dir: str) -> str:
    """The abstract socket name for a VAR_DIR (one engine per chDB directory)."""
    return "\0posthog-clone-engine-" + hashlib.sha256(var_dir.encode()).hexdigest()[:24]


def engine_authkey(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"posthog-clone clickhouse engine", hashlib.sha256).digest()


def _error_tuple(exc: ClickHouseError) -> tuple[str, int | None, str, bool]:
    return (exc.message, exc.code, exc.name, exc.retryable)


class EngineServer:
    """Serve ``client`` (the process's own chDB client) to the other processes of the server."""

    def __init__(self, client: ClickHouseClient, address: str, authkey: bytes):
        self.client = client
        self.address = address
        self.authkey = authkey
        self._listener: Listener | None = None
        self._stopped = threading.Event()

    def bind(self, timeout: float = 30.0) -> None:
        """Take the address; a killed predecessor's name is released by the kernel, so retry briefly."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._listener = Listener(self.address, family="AF_UNIX", authkey=self.authkey)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def serve_forever(self) -> None:
        assert self._listener is not None, "bind() first"
        while not self._stopped.is_set():
            try:
                conn = self._listener.accept()
            except (OSError, EOFError, AuthenticationError) as exc:  # a failed handshake, or closed by stop()
                if self._stopped.is_set():
                    return
                logger.warning("engine connection refused", extra={"error": str(exc) or type(exc).__name__})
                continue
            threading.Thread(target=self._serve, args=(conn,), name="engine-conn", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()
        if self._listener is not None:
            self._listener.close()

    def _serve(self, conn: Connection) -> None:
        with conn:
            while True:
                try:
                    method, args, kwargs = conn.recv()
                except (EOFError, OSError):
                    return
                if method not in CALLS:
                    conn.send(("error", (f"unknown engine call {method!r}", None, "", False)))
                    continue
                try:
                    reply = ("ok", getattr(self.client, method)(*args, **kwargs))
                except ClickHouseError as exc:
                    reply = ("error", _error_tuple(exc))
                except Exception as exc:  # a bug here must reach the caller as an error, not hang it
                    logger.exception("engine call failed", extra={"method": method})
                    reply = ("error", (f"engine: {type(exc).__name__}: {exc}", None, "", False))
                try:
                    conn.send(reply)
                except (OSError, ValueError):
                    return


class EngineClient:
    """``ClickHouseClient``'s calls, answered by the engine process."""

    embedded = True

    def __init__(self, address: str, authkey: bytes, *, connect_wait: float = CONNECT_WAIT_SECONDS):
        self.address = address
        self.authkey = authkey
        self.connect_wait = connect_wait
        self._local = threading.local()

    def _conn(self) -> Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        deadline = time.monotonic() + self.connect_wait
        while True:
            try:
                conn = Client(self.address, family="AF_UNIX", authkey=self.authkey)
                break
            except AuthenticationError as exc:  # another project's engine, or a stale secret: no retry
                raise ClickHouseError(f"the ClickHouse engine refused this process: {exc}") from exc
            except (OSError, EOFError) as exc:
                if time.monotonic() > deadline:
                    raise ClickHouseError(f"the ClickHouse engine is not reachable: {exc}", retryable=True) from exc
                time.sleep(0.1)
        self._local.conn = conn
        return conn

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        conn = self._conn()
        try:
            conn.send((method, args, kwargs))
            status, value = conn.recv()
        except (OSError, EOFError) as exc:  # the engine restarted: the next call connects again
            self._drop()
            raise ClickHouseError(f"the ClickHouse engine went away: {exc}", retryable=True) from exc
        if status == "error":
            message, code, name, retryable = value
            raise ClickHouseError(message, code=code, name=name, retryable=retryable)
        return value

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def query(self, sql: str, params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None) -> Result:
        result = self._call("query", sql, params, settings)
        timing.record(result.elapsed)  # the engine's own time for the call, without the socket
        return result

    def command(self, sql: str, params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None) -> Any:
        return self._call("command", sql, params, settings)

    def insert_json_rows(
        self, table: str, body: bytes, *, dedup_token: str | None = None, columns: Sequence[str] | None = None
    ) -> float:
        return self._call("insert_json_rows", table, body, dedup_token=dedup_token, columns=columns)

    def insert(self, table: str, rows: Sequence[Sequence[Any]], column_names: Sequence[str]) -> None:
        return self._call("insert", table, [tuple(r) for r in rows], list(column_names))

    def ping(self) -> bool:
        try:
            self.query("SELECT 1")
        except ClickHouseError:
            return False
        return True

    def close(self) -> None:
        self._drop()


def run_engine(client: ClickHouseClient, address: str, authkey: bytes, on_bound: Callable[[], None]) -> EngineServer:
    """Bind, run ``on_bound`` (start-up work), then serve in a daemon thread; returns the server."""
    server = EngineServer(client, address, authkey)
    server.bind()
    on_bound()
    threading.Thread(target=server.serve_forever, name="engine-accept", daemon=True).start()
    return server
