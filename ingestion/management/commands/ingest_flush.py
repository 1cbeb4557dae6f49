from django.core.management.base import BaseCommand

from ingestion.worker import flush


class Command(BaseCommand):
    help = "Write everything queued in the spool to ClickHouse now."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"{flush()} events ingested")
