"""Capture tests: each test gets its own empty spool file and an empty token cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from capture.tokens import token_cache_clear
from ingestion.envelope import CapturedEvent
from ingestion.queue import get_spool
from ingestion.spool import Spool


@pytest.fixture(autouse=True)
def spool(settings, tmp_path: Path) -> Iterator[Spool]:
    settings.SPOOL_PATH = tmp_path / "spool.sqlite3"
    settings.INGEST_QUEUE = "spool"
    token_cache_clear()
    yield get_spool()
    token_cache_clear()


@pytest.fixture
def capture_client() -> Client:
    return Client(REMOTE_ADDR="127.0.0.1")


def queued(spool: Spool) -> list[CapturedEvent]:
    return spool.all_events()
