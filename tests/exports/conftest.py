"""Helpers for export tests: URLs, a create call, events inserted into ClickHouse, waiting for a file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache

from exports.models import ExportedAsset
from tests.query.conftest import insert_events
from tests.queues import celery_worker

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

__all__ = ["CSV", "XLSX", "insert_events", "exports_url", "create", "hogql", "wait_for_content"]


@pytest.fixture(scope="session", autouse=True)
def _exports_worker(django_db_setup: None) -> None:
    """Scale mode: the process's Celery test worker consumes the `exports` queue of the real broker. The
    embedded default needs nothing: its export pool runs in this process already."""
    if settings.CELERY_BROKER_URL:
        celery_worker()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()  # property types and compiled queries are cached per project id, which tests reuse
    yield
    cache.clear()


def exports_url(project: Any, suffix: str = "", *, base: str = "projects") -> str:
    return f"/api/{base}/{project.team.pk}/exports/{suffix}"


def hogql(sql: str, **extra: Any) -> dict[str, Any]:
    return {"source": {"kind": "HogQLQuery", "query": sql}, **extra}


def create(project: Any, body: dict[str, Any], client: Any = None) -> Any:
    return (client or project.client()).post(exports_url(project), body, format="json")


def wait_for_content(project: Any, export_id: int, timeout: float = 30) -> dict[str, Any]:
    """Poll the detail endpoint like PostHog's frontend until the file is there (or an exception)."""
    deadline = time.monotonic() + timeout
    while True:
        body = project.client().get(exports_url(project, f"{export_id}/")).json()
        if body["has_content"] or body["exception"] or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def make_asset(project: Any, **fields: Any) -> ExportedAsset:
    """A row as the create endpoint would leave it, for read-side tests."""
    values = {"team": project.team, "created_by": project.user, "export_format": CSV, **fields}
    return ExportedAsset.objects.create(**values)
