"""`manage.py restore DIR`: a `manage.py backup` into this (fresh) VAR_DIR."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ingestion.backup import BackupError, restore
from ingestion.management.progress import StepProgress
from posthog_clone.clickhouse.errors import ClickHouseError


class Command(BaseCommand):
    help = "Restore a `manage.py backup` directory into a fresh VAR_DIR (no server running on it)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("backup", help="the directory `manage.py backup --out` wrote")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = StepProgress(sys.stderr)
        try:
            result = restore(Path(options["backup"]), progress)
        except (BackupError, ClickHouseError) as error:
            raise CommandError(str(error)) from error
        finally:
            progress.close()
        rows = ", ".join(f"{name} {count:,}" for name, count in result["clickhouse_rows"].items()) or "none"
        self.stdout.write(
            f"restored: ClickHouse rows {rows}; {result['spool_events']:,} events queued in the spool "
            "(the next `serve` writes them)"
        )
