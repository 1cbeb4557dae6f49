"""`manage.py backup --out DIR`: the embedded default's data (SQLite, spool, chDB), taken while serving."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ingestion.backup import BackupError, backup
from ingestion.management.progress import StepProgress
from posthog_clone.clickhouse.errors import ClickHouseError


class Command(BaseCommand):
    help = (
        "Back up the embedded default (the SQLite database, the spool and chDB) into a new directory, while "
        "the server runs: ingestion pauses for the copy, capture and queries go on."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", required=True, help="directory to create (or an empty one)")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        progress = StepProgress(sys.stderr)
        try:
            manifest = backup(out, progress)
        except (BackupError, ClickHouseError) as error:
            raise CommandError(str(error)) from error
        finally:
            progress.close()
        rows = ", ".join(f"{name} {count:,}" for name, count in manifest["clickhouse_rows"].items()) or "none"
        self.stdout.write(
            f"backup written to {out} in {manifest['seconds']:.1f} s: ClickHouse rows {rows}; "
            f"{manifest['spool_events']:,} events queued in the spool"
        )
