"""Replay tests: blobs in a fresh directory each (the embedded default's storage), an empty token cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from posthog_clone.sdk.tokens import token_cache_clear


@pytest.fixture(autouse=True)
def _replay_storage(settings, tmp_path: Path) -> Path:
    settings.REPLAY_STORAGE_URL = f"file://{tmp_path / 'replay'}"
    return tmp_path / "replay"


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    token_cache_clear()
    yield
    token_cache_clear()
