"""What bounds embedded chDB's memory: a ClickHouse server config file and jemalloc's options.

chDB starts with a server's defaults sized for a dedicated machine (mark and primary-index caches of 5 GiB
each, a 100 MiB query-condition cache, a memory limit of 90% of RAM) and removes outdated parts with up to
128 threads once 100 of them wait. Under a steady load on a small machine those caches and that thread pool
only grow. The process that opens chDB writes ``VAR_DIR/chdb-config.xml`` from these settings and passes it
to chDB (``--config-file``); jemalloc (chDB's own, read from ``JE_MALLOC_CONF`` when chDB loads) returns freed
pages after ``dirty_decay_ms``. docs/operations.md ("Memory") gives the defaults and what each one saved.

Each query is bounded too (``query_settings``, added to the settings of every HogQL query on chDB): its GROUP BY
spills to disk beyond ``query_external_group_by_mb`` and its JOINs use the partial merge join where it applies
(the right side sorted in blocks, not one hash table of it). Queries are one at a time in the engine already
(clickhouse_connect's chDB backend holds a lock per client for each call), so a query's working set is what the
engine holds on top of its caches, and without these bounds it grew with the data: the persons join reads every
person of the project, the breakdown states every user of the window.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

MB = 2**20
# Outdated parts are removed by one thread below this many: concurrent removal grew chDB's global thread pool by
# ~125 threads (+40–50 MiB) two minutes into a steady load of two inserts a second.
PART_REMOVAL_THRESHOLD = 1_000_000
CONFIG_FILE = "chdb-config.xml"  # in VAR_DIR
JEMALLOC_ENV = "JE_MALLOC_CONF"  # chDB's jemalloc is built with the je_ prefix: MALLOC_CONF is Python's malloc's


@dataclass(frozen=True)
class ChdbServerConfig:
    mark_cache_mb: int = 64
    primary_index_cache_mb: int = 64
    query_condition_cache_mb: int = 16
    uncompressed_cache_mb: int = 0
    max_server_memory_mb: int = 0  # 0: chDB's own limit (90% of the machine's memory)
    extra: dict[str, str] = field(default_factory=dict)  # CHDB_SERVER_SETTINGS: dotted name → value
    jemalloc_conf: str = "dirty_decay_ms:1000,muzzy_decay_ms:1000"
    query_external_group_by_mb: int = 16  # 0: a query's GROUP BY stays in memory (ClickHouse's own)
    query_join_algorithm: str = "prefer_partial_merge"  # "default": ClickHouse's own (hash joins)

    def query_settings(self) -> dict[str, int | str]:
        """The per-query bounds, as ClickHouse query settings (added to each HogQL query's settings)."""
        out: dict[str, int | str] = {
            "max_bytes_before_external_group_by": self.query_external_group_by_mb * MB,
        }
        if self.query_join_algorithm != "default":
            out["join_algorithm"] = self.query_join_algorithm
        return out

    def settings(self) -> dict[str, str]:
        """Every server setting the file holds (dotted names for nested sections), the operator's last."""
        values = {
            "mark_cache_size": str(self.mark_cache_mb * MB),
            "primary_index_cache_size": str(self.primary_index_cache_mb * MB),
            "query_condition_cache_size": str(self.query_condition_cache_mb * MB),
            "uncompressed_cache_size": str(self.uncompressed_cache_mb * MB),
            "merge_tree.concurrent_part_removal_threshold": str(PART_REMOVAL_THRESHOLD),
        }
        if self.max_server_memory_mb:
            values["max_server_memory_usage"] = str(self.max_server_memory_mb * MB)
        return {**values, **self.extra}

    def xml(self) -> str:
        tree: dict = {}
        for name, value in self.settings().items():
            *sections, leaf = name.split(".")
            node = tree
            for section in sections:
                node = node.setdefault(section, {})
            node[leaf] = value
        return "<clickhouse>\n" + _render(tree, "  ") + "</clickhouse>\n"

    def write(self, path: Path) -> Path:
        """Write the file atomically (a process opening chDB may read the previous one meanwhile)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(self.xml())
        tmp.replace(path)
        return path

    def apply_jemalloc(self) -> bool:
        """Set chDB's jemalloc options in this process's environment; True if chDB will read them (it is not
        loaded yet: jemalloc reads them once, when the library loads)."""
        if not self.jemalloc_conf:
            return "chdb" not in sys.modules
        os.environ[JEMALLOC_ENV] = self.jemalloc_conf
        return "chdb" not in sys.modules


def _render(tree: dict, indent: str) -> str:
    out = []
    for name, value in tree.items():
        if isinstance(value, dict):
            out.append(f"{indent}<{name}>\n{_render(value, indent + '  ')}{indent}</{name}>\n")
        else:
            out.append(f"{indent}<{name}>{escape(value)}</{name}>\n")
    return "".join(out)
