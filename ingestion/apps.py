from django.apps import AppConfig
from django.conf import settings

from posthog_clone import registry


class IngestionConfig(AppConfig):
    name = "ingestion"

    def ready(self) -> None:
        from ingestion import monitoring, worker

        registry.readiness_check("queue", monitoring.queue_ready)
        registry.scrape_hook("ingestion_queue", monitoring.queue_depth_refresh)
        registry.background_worker(
            "ingestion",
            start=worker.start_background_worker,
            stop=worker.stop_background_worker,
            enabled=lambda: settings.INGEST_WORKER_IN_PROCESS,
        )
