"""The only package that talks to ClickHouse (embedded chDB or a server).

``get_client()`` builds the client lazily, once per process, from ``settings.CLICKHOUSE`` (or, in a web
process of `serve` on chDB, a client of the engine process that owns the chDB directory).
"""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings

from posthog_clone.clickhouse.chdb_config import CONFIG_FILE, ChdbServerConfig
from posthog_clone.clickhouse.client import ClickHouseClient, Result
from posthog_clone.clickhouse.engine import EngineClient, engine_authkey
from posthog_clone.clickhouse.errors import ClickHouseError
from posthog_clone.env import ClickHouseBackend

__all__ = ["ClickHouseClient", "ClickHouseError", "Result", "get_client", "query_bounds", "reset_client", "table"]

_client: ClickHouseClient | EngineClient | None = None
_lock = threading.Lock()


def get_client() -> ClickHouseClient | EngineClient:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                if settings.CLICKHOUSE_ENGINE_ADDRESS:  # a web process of `serve`: chDB is the engine's
                    _client = EngineClient(settings.CLICKHOUSE_ENGINE_ADDRESS, engine_authkey(settings.SECRET_KEY))
                else:
                    _client = ClickHouseClient(
                        settings.CLICKHOUSE,
                        settings.CLICKHOUSE_DATABASE,
                        server_config=chdb_server_config(),
                        server_config_path=Path(settings.VAR_DIR) / CONFIG_FILE,
                    )
    return _client


def chdb_server_config() -> ChdbServerConfig:
    """The chDB memory bounds the settings give (written to VAR_DIR/chdb-config.xml when chDB opens)."""
    return ChdbServerConfig(
        mark_cache_mb=settings.CHDB_MARK_CACHE_MB,
        primary_index_cache_mb=settings.CHDB_PRIMARY_INDEX_CACHE_MB,
        query_condition_cache_mb=settings.CHDB_QUERY_CONDITION_CACHE_MB,
        uncompressed_cache_mb=settings.CHDB_UNCOMPRESSED_CACHE_MB,
        max_server_memory_mb=settings.CHDB_MAX_SERVER_MEMORY_MB,
        extra=dict(settings.CHDB_SERVER_SETTINGS),
        jemalloc_conf=settings.CHDB_JEMALLOC_CONF,
        query_external_group_by_mb=settings.CHDB_QUERY_EXTERNAL_GROUP_BY_MB,
        query_join_algorithm=settings.CHDB_QUERY_JOIN_ALGORITHM,
    )


def query_bounds() -> dict[str, int | str]:
    """Settings that bound one query's memory, for the callers' query settings: chDB's (docs/operations.md
    "Memory") in the embedded default; none with a ClickHouse server, which is sized for its own machine."""
    if settings.CLICKHOUSE.backend is not ClickHouseBackend.EMBEDDED:
        return {}
    return chdb_server_config().query_settings()


def reset_client() -> None:
    """Forget the client (after fork, or when a test points CLICKHOUSE at another directory)."""
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None


def table(name: str) -> str:
    """Fully qualified name of one of our tables."""
    return f"`{settings.CLICKHOUSE_DATABASE}`.`{name}`"
