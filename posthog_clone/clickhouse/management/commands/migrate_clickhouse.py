"""Apply pending ClickHouse migrations (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from posthog_clone.clickhouse.migrations import migrate


class Command(BaseCommand):
    help = "Create or upgrade the ClickHouse tables."

    def handle(self, *args: Any, **options: Any) -> None:
        applied = migrate()
        for m in applied:
            self.stdout.write(f"applied {m.version:04d}_{m.name}")
        self.stdout.write(f"{len(applied)} migration(s) applied")
