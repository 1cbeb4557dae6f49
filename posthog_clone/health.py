"""Liveness (/_health) and readiness (/_readyz): every dependency checked, reported truthfully, JSON detail.

The database and ClickHouse are checked here; apps add theirs (the ingestion queue, …) through
``posthog_clone.registry.readiness_check``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse

from posthog_clone import registry
from posthog_clone.clickhouse.migrations import pending_migrations


def check_database() -> dict:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    plan = MigrationExecutor(connection).migration_plan(MigrationExecutor(connection).loader.graph.leaf_nodes())
    return {"ok": not plan, "pending_migrations": len(plan), "vendor": connection.vendor}


def check_clickhouse() -> dict:
    pending = pending_migrations()
    return {"ok": not pending, "pending_migrations": len(pending), "backend": settings.CLICKHOUSE.backend.value}


CHECKS = {"database": check_database, "clickhouse": check_clickhouse}


def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Readiness (dependencies) is /_readyz."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict] = {}
    for name, check in {**CHECKS, **registry.READINESS_CHECKS}.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported as such
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    ready = all(r["ok"] for r in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)
