"""Experiment tests start with an empty query cache and empty flag caches (ids are reused between tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from flags.cache import caches_clear
from posthog_clone.sdk.tokens import token_cache_clear


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    cache.clear()
    caches_clear()
    token_cache_clear()
    yield
    cache.clear()
    caches_clear()
    token_cache_clear()
