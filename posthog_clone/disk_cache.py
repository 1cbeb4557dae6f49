"""The embedded default's shared cache: diskcache's Django backend, keeping its SQLite connections open.

Django closes every cache at the end of each request (`request_finished`); for diskcache that drops the
thread's SQLite connection, and the next request reopens it with eight PRAGMAs: ~1.5 ms a request, measured
on /query/. diskcache's connections are per thread and per process (it reopens after a fork), so keeping them
is safe; they close when the process ends.
"""

from __future__ import annotations

from typing import Any

from diskcache import DjangoCache


class PersistentDiskCache(DjangoCache):
    def close(self, **kwargs: Any) -> None:
        """Kept open between requests (see the module docstring)."""
