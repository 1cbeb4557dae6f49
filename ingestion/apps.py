from django.apps import AppConfig
from django.conf import settings

from posthog_clone import registry


class IngestionConfig(AppConfig):
    name = "ingestion"

    def ready(self) -> None:
        registry.readiness_check("queue", "ingestion.monitoring.queue_ready")
        registry.scrape_hook("ingestion_queue", "ingestion.monitoring.queue_depth_refresh")
        registry.background_worker(
            "ingestion",
            start="ingestion.worker.start_background_worker",
            stop="ingestion.worker.stop_background_worker",
            enabled=lambda: settings.INGEST_WORKER_IN_PROCESS,
        )
