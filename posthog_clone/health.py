"""Liveness (/_health) and readiness (/_readyz): every dependency checked, reported truthfully, JSON detail."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse


def check_database() -> dict:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    plan = MigrationExecutor(connection).migration_plan(MigrationExecutor(connection).loader.graph.leaf_nodes())
    return {"ok": not plan, "pending_migrations": len(plan), "vendor": connection.vendor}


def check_clickhouse() -> dict:
    from posthog_clone.clickhouse.migrations import pending_migrations

    pending = pending_migrations()
    return {"ok": not pending, "pending_migrations": len(pending), "backend": settings.CLICKHOUSE.backend.value}


def check_broker() -> dict:
    if not settings.CELERY_BROKER_URL:
        from ingestion.queue import get_spool

        return {"ok": True, "kind": "spool", "depth": get_spool().depth()}
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return {"ok": True, "kind": "celery"}


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "clickhouse": check_clickhouse,
    "queue": check_broker,
}


def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported as such
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    ready = all(r["ok"] for r in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)
