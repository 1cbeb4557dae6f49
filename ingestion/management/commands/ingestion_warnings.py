from typing import Any

import orjson
from django.core.management.base import BaseCommand

from ingestion.models import IngestionWarning


class Command(BaseCommand):
    help = "List ingestion warnings of a project (newest first)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", type=int, required=True, help="project (team) id")
        parser.add_argument("--type", default=None, help="only warnings of this type")
        parser.add_argument("--limit", type=int, default=100)

    def handle(self, *args: Any, **options: Any) -> None:
        warnings = IngestionWarning.objects.filter(team_id=options["project"]).order_by("-timestamp")
        if options["type"]:
            warnings = warnings.filter(type=options["type"])
        for warning in warnings[: options["limit"]]:
            self.stdout.write(
                f"{warning.timestamp.isoformat()}\t{warning.type}\t{orjson.dumps(warning.details).decode()}"
            )
