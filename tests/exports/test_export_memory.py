"""A 300,000-row CSV export over events completes in constant memory: pages of 10,000 from the runner,
spilled to disk, written row by row. Peak growth is measured both ways: Python allocations (tracemalloc)
and the process's resident set (sampled), and must stay under 150 MB."""

from __future__ import annotations

import datetime as dt
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from exports.jobs import exported_asset_generate
from exports.models import ExportedAsset
from tests.exports.conftest import CSV, hogql, insert_events

pytestmark = [pytest.mark.slow, pytest.mark.clickhouse]
ROWS = 300_000
LIMIT_MB = 150


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssPeak:
    def __init__(self) -> None:
        self.baseline = _rss_mb()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss_mb())

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_three_hundred_thousand_row_csv_in_constant_memory(project: Any) -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for chunk in range(0, ROWS, 50_000):
        insert_events(
            project.team.pk,
            [{"event": "bulk", "distinct_id": f"user-{i % 977}", "timestamp": start + dt.timedelta(seconds=i),
              "properties": {"$browser": "Firefox", "n": i}} for i in range(chunk, chunk + 50_000)],
        )  # fmt: skip
    query = "SELECT uuid, event, distinct_id, timestamp, properties.$browser, properties.n FROM events"
    asset = ExportedAsset.objects.create(
        team=project.team, created_by=project.user, export_format=CSV, export_context=hogql(query)
    )

    tracemalloc.start()
    started = time.monotonic()
    with RssPeak() as rss:
        assert exported_asset_generate(asset.pk) is True  # the task's body (its wrapper closes connections)
    seconds = time.monotonic() - started
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    asset.refresh_from_db()
    data = bytes(asset.content)
    lines = data.split(b"\r\n")
    assert len(lines) == ROWS + 2 and lines[-1] == b""
    assert lines[0] == b"uuid,event,distinct_id,timestamp,properties.$browser,properties.n"
    assert {int(line.rsplit(b",", 1)[1]) for line in lines[1:-1]} == set(range(ROWS))  # each event once
    traced_mb, rss_mb = traced_peak / 2**20, rss.peak - rss.baseline
    print(f"\n300k-row CSV: {seconds:.1f} s, {len(data) / 2**20:.1f} MB file, "
          f"tracemalloc peak {traced_mb:.1f} MB, RSS growth {rss_mb:.1f} MB")  # fmt: skip
    assert traced_mb < LIMIT_MB and rss_mb < LIMIT_MB
