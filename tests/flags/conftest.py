"""Flag tests start with empty in-process caches (team ids are reused between tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flags.cache import caches_clear
from posthog_clone.sdk.tokens import token_cache_clear


@pytest.fixture(autouse=True)
def _empty_flag_caches() -> Iterator[None]:
    caches_clear()
    token_cache_clear()
    yield
    caches_clear()
    token_cache_clear()
