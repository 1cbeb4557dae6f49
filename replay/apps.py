from django.apps import AppConfig
from django.conf import settings


class ReplayConfig(AppConfig):
    name = "replay"

    def ready(self) -> None:
        from posthog_clone import registry

        # `/s/` (capture) queues `$snapshot_items` messages; the ingestion pipeline hands them here.
        registry.event_handler("$snapshot_items", "replay.ingestion.snapshots_ingest")
        # Retention: hourly in the embedded default (this thread); scale mode runs replay.tasks on Celery beat.
        registry.background_worker(
            "replay_retention",
            start="replay.worker.start_background_worker",
            stop="replay.worker.stop_background_worker",
            enabled=lambda: not settings.CELERY_BROKER_URL,
        )
