"""The time a request spent in ClickHouse queries, for the `Server-Timing` header.

`RequestMetricsMiddleware` opens a measurement around each request; every query the request's thread runs
adds the time it took: measured around the chDB or HTTP call and the conversion of its rows (by the engine
process when the query went through its socket, so the hop is not counted). Outside a request (workers, the
engine itself, the async query pool) nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Spent:
    seconds: float = 0.0
    queries: int = 0


_spent: ContextVar[Spent | None] = ContextVar("clickhouse_spent", default=None)


def record(seconds: float) -> None:
    spent = _spent.get()
    if spent is not None:
        spent.seconds += seconds
        spent.queries += 1


@contextmanager
def measuring() -> Iterator[Spent]:
    spent = Spent()
    token = _spent.set(spent)
    try:
        yield spent
    finally:
        _spent.reset(token)
