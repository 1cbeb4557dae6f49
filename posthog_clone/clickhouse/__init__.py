"""The only package that talks to ClickHouse (embedded chDB or a server).

``get_client()`` builds the client lazily, once per process, from ``settings.CLICKHOUSE``.
"""

from __future__ import annotations

import threading

from django.conf import settings

from posthog_clone.clickhouse.client import ClickHouseClient, Result
from posthog_clone.clickhouse.errors import ClickHouseError

__all__ = ["ClickHouseClient", "ClickHouseError", "Result", "get_client", "reset_client", "table"]

_client: ClickHouseClient | None = None
_lock = threading.Lock()


def get_client() -> ClickHouseClient:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
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
