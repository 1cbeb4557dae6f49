"""`manage.py export_query --format csv --out FILE "SELECT …"`: an operator's export of a HogQL query, paged
through the query runner like the API's exports, with a progress bar on stderr."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from exports.models import ExportFormat
from exports.sources import EXPORT_ROW_LIMIT, ExportError, query_row_pages
from exports.tabular import write_export
from posthog_clone.accounts.models import Team
from query.exceptions import ExposedHogQLError

FORMATS = {"csv": ExportFormat.CSV, "xlsx": ExportFormat.XLSX, "json": ExportFormat.JSON}
BAR_WIDTH = 30


class ProgressBar:
    """`[#####·····]  120,000 rows  3.2 s` against the 300,000-row cap, redrawn in place."""

    def __init__(self, stream: Any, total: int) -> None:
        self.stream, self.total, self.started = stream, total, time.monotonic()

    def __call__(self, rows: int) -> None:
        filled = min(BAR_WIDTH, rows * BAR_WIDTH // self.total)
        bar = "#" * filled + "·" * (BAR_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {rows:>9,} rows  {time.monotonic() - self.started:5.1f} s")
        self.stream.flush()


class Command(BaseCommand):
    help = "Export the rows of a HogQL query to a CSV, XLSX or JSON file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("query", help='HogQL, e.g. "SELECT event, count() FROM events GROUP BY event"')
        parser.add_argument("--format", choices=sorted(FORMATS), default="csv")
        parser.add_argument("--out", required=True, help="File to write")
        parser.add_argument("--project", type=int, help="Project id (default: the only project)")
        parser.add_argument("--columns", help="Comma-separated columns, in order (CSV/XLSX)")

    def handle(self, *args: Any, **options: Any) -> None:
        team = self._team(options["project"])
        source = {"kind": "HogQLQuery", "query": options["query"]}
        columns = [c.strip() for c in options["columns"].split(",")] if options["columns"] else None
        progress = ProgressBar(sys.stderr, EXPORT_ROW_LIMIT)
        out = Path(options["out"])
        try:
            count = write_export(
                query_row_pages(team=team, source=source),
                export_format=FORMATS[options["format"]],
                out=out,
                columns=columns,
                progress=progress,
            )
        except (ExportError, ExposedHogQLError) as error:
            raise CommandError(str(error)) from error
        sys.stderr.write("\n")
        self.stdout.write(f"{count} rows written to {out}")

    def _team(self, project_id: int | None) -> Team:
        if project_id is not None:
            team = Team.objects.filter(pk=project_id).first()
            if team is None:
                raise CommandError(f"No project with id {project_id}.")
            return team
        teams = list(Team.objects.order_by("pk")[:2])
        if len(teams) != 1:
            raise CommandError("Pass --project: there is not exactly one project.")
        return teams[0]
