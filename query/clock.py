"""The one clock of the query layer: relative dates (`-7d`, today's bucket) resolve against it, and the result
cache stamps and ages results by it, so the two always agree. Tests move it (it is the edge); nothing else
should read the wall clock for a query."""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
