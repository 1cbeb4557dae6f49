from tests.insights.conftest import _fresh_cache, clock  # noqa: F401  (the same fixtures)
