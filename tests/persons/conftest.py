"""Persons tests that ingest events start from the same empty caches as the ingestion tests."""

from tests.ingestion.conftest import _fresh_caches  # noqa: F401  (an autouse fixture)
