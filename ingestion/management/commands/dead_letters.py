from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from ingestion.envelope import CapturedEvent
from ingestion.models import DeadLetter
from ingestion.queue import enqueue, get_spool


class Command(BaseCommand):
    help = (
        "List events that could not be written to ClickHouse, and spool rows quarantined as corrupt; "
        "--replay puts the events back on the queue."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", type=int, default=None, help="only this project (team) id")
        parser.add_argument("--replay", action="store_true", help="re-enqueue the pending dead letters")

    def handle(self, *args: Any, **options: Any) -> None:
        letters = DeadLetter.objects.filter(replayed_at__isnull=True).order_by("id")
        if options["project"] is not None:
            letters = letters.filter(team_id=options["project"])
        for letter in letters:
            self.stdout.write(f"{letter.id}\t{letter.team_id}\t{letter.created_at.isoformat()}\t{letter.error[:200]}")
        if settings.INGEST_QUEUE == "spool":  # spool rows that no longer decoded: kept as found, never replayed
            for row in get_spool().quarantined():
                at = datetime.fromtimestamp(row.at, UTC).isoformat()
                self.stdout.write(f"spool-row-{row.id}\t{row.n} events\t{at}\tquarantined: {row.error[:200]}")
        if options["replay"]:
            pending = list(letters)
            enqueue([CapturedEvent.from_dict(letter.payload) for letter in pending])
            DeadLetter.objects.filter(pk__in=[d.pk for d in pending]).update(replayed_at=timezone.now())
            self.stdout.write(f"{len(pending)} events re-enqueued")
