"""The small client every other package uses: query with bound parameters, insert, command.

Both backends (embedded chDB and a ClickHouse server) are reached through clickhouse_connect, so
results are normalised the same way. Nothing outside this package imports chdb or clickhouse_connect.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.exceptions import Error as DriverError

from posthog_clone.clickhouse import timing
from posthog_clone.clickhouse.chdb_config import ChdbServerConfig
from posthog_clone.clickhouse.errors import ClickHouseError
from posthog_clone.env import ClickHouseBackend, ClickHouseConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]
    elapsed: float = field(default=0.0, compare=False)  # seconds: the call and the rows' conversion


class ClickHouseClient:
    def __init__(
        self,
        config: ClickHouseConfig,
        database: str,
        *,
        server_config: ChdbServerConfig | None = None,
        server_config_path: Path | None = None,
    ):
        """``server_config`` (chDB only) is written to ``server_config_path`` and chDB started with it."""
        self.config = config
        self.database = database
        self.server_config = server_config
        self.server_config_path = server_config_path
        self.embedded = config.backend is ClickHouseBackend.EMBEDDED
        self._local = threading.local()
        self._lock = threading.Lock()
        self._shared = self._connect() if self.embedded else None

    def _connect(self) -> Any:
        try:
            if self.embedded:
                options = self._chdb_options()
                return clickhouse_connect.get_client(dsn=f"chdb://{self.config.path}", chdb_options=options)
            return clickhouse_connect.get_client(
                host=self.config.host,
                port=self.config.port,
                username=self.config.username,
                password=self.config.password,
                secure=self.config.secure,
                database=self.database,
                autogenerate_session_id=False,
            )
        except Exception as exc:
            raise ClickHouseError.from_exception(exc) from exc

    def _chdb_options(self) -> dict[str, str] | None:
        if self.server_config is None or self.server_config_path is None:
            return None
        if not self.server_config.apply_jemalloc() and self.server_config.jemalloc_conf:
            logger.warning("chDB was loaded before its jemalloc options were set; they do not apply")
        path = self.server_config.write(self.server_config_path)
        logger.info("chDB server config", extra={"path": str(path), **self.server_config.settings()})
        return {"config-file": str(path)}

    @property
    def _client(self) -> Any:
        # chDB is one engine per process and safe to share across threads; HTTP clients are per thread.
        if self._shared is not None:
            return self._shared
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._connect()
        return client

    def query(self, sql: str, params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None) -> Result:
        started = time.perf_counter()
        try:
            res = self._client.query(sql, parameters=params or {}, settings=settings or {})
        except DriverError as exc:
            raise ClickHouseError.from_exception(exc) from exc
        rows = [tuple(row) for row in res.result_rows]
        elapsed = time.perf_counter() - started
        timing.record(elapsed)
        return Result(
            columns=list(res.column_names), types=[t.name for t in res.column_types], rows=rows, elapsed=elapsed
        )

    def command(self, sql: str, params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None) -> Any:
        try:
            return self._client.command(sql, parameters=params or None, settings=settings or {})
        except DriverError as exc:
            raise ClickHouseError.from_exception(exc) from exc

    def insert_json_rows(
        self, table: str, body: bytes, *, dedup_token: str | None = None, columns: Sequence[str] | None = None
    ) -> float:
        """Insert newline-separated JSON rows: objects (JSONEachRow), or with ``columns`` arrays of those
        columns' values (JSONCompactEachRow, no keys to parse: the fastest path). Returns seconds taken."""
        settings: dict[str, Any] = {"input_format_skip_unknown_fields": 1}
        if dedup_token:
            settings["insert_deduplication_token"] = dedup_token
        fmt = "JSONCompactEachRow" if columns else "JSONEachRow"
        started = time.perf_counter()
        try:
            self._client.raw_insert(
                table, column_names=list(columns) if columns else None, insert_block=body, fmt=fmt, settings=settings
            )
        except DriverError as exc:
            raise ClickHouseError.from_exception(exc) from exc
        return time.perf_counter() - started

    def insert(self, table: str, rows: Sequence[Sequence[Any]], column_names: Sequence[str]) -> None:
        try:
            self._client.insert(table, list(rows), column_names=list(column_names))
        except DriverError as exc:
            raise ClickHouseError.from_exception(exc) from exc

    def ping(self) -> bool:
        try:
            self.query("SELECT 1")
        except ClickHouseError:
            return False
        return True

    def close(self) -> None:
        client = self._shared or getattr(self._local, "client", None)
        if client is not None and not self.embedded:
            client.close()
