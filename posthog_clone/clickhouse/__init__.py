"""The only package that talks to ClickHouse (embedded chDB or a server).

``get_client()`` builds the client lazily, once per process, from ``settings.CLICKHOUSE`` (or, in a web
process of `serve` on chDB, a client of the engine process that owns the chDB directory).
"""

from __future__ import annotations

import threading

from django.conf import settings

from posthog_clone.clickhouse.client import ClickHouseClient, Result
from posthog_clone.clickhouse.engine import EngineClient, engine_authkey
from posthog_clone.clickhouse.errors import ClickHouseError

__all__ = ["ClickHouseClient", "ClickHouseError", "Result", "get_client", "reset_client", "table"]

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
                    _client = ClickHouseClient(settings.CLICKHOUSE, settings.CLICKHOUSE_DATABASE)
    return _client


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
