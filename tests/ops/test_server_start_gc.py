"""What every web process does before serving (posthog_clone.server.startup.on_server_start): GC tuned like the
ingestion worker's, also in scale mode where no worker runs in the web process."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from posthog_clone.server.startup import GC_THRESHOLDS, on_server_start


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def test_a_web_process_without_a_worker_gets_the_ingestion_gc_thresholds(settings, restored_gc):
    settings.CLICKHOUSE_MIGRATE_ON_START = False
    settings.INGEST_WORKER_IN_PROCESS = False
    settings.CELERY_BROKER_URL = "redis://localhost:6379/0"  # scale mode: no in-process scheduler either
    gc.set_threshold(700, 10, 10)
    on_server_start()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() > 0
