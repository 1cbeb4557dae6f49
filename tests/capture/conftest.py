"""Capture tests: an empty token cache each; ``queue`` reads what was queued on the configured queue,
``spool`` is for the tests of the embedded spool itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from ingestion.envelope import CapturedEvent
from ingestion.queue import get_spool
from ingestion.spool import Spool
from posthog_clone.sdk.tokens import token_cache_clear
from tests.queues import QueueProbe


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    token_cache_clear()
    yield
    token_cache_clear()


@pytest.fixture
def spool(settings, tmp_path: Path) -> Spool:
    settings.SPOOL_PATH = tmp_path / "spool.sqlite3"
    settings.INGEST_QUEUE = "spool"
    return get_spool()


@pytest.fixture
def capture_client() -> Client:
    return Client(REMOTE_ADDR="127.0.0.1")


def queued(queue: QueueProbe) -> list[CapturedEvent]:
    return queue.all_events()
