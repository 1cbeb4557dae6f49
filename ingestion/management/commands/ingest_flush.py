from django.core.management.base import BaseCommand

from ingestion.worker import flush


class Command(BaseCommand):
    help = "Write everything queued now (the spool, or the broker's ingestion queue in scale mode) to ClickHouse."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"{flush()} events ingested")
