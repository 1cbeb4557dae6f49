from django.apps import AppConfig
from django.conf import settings

from posthog_clone import registry


class ExportsConfig(AppConfig):
    name = "exports"

    def ready(self) -> None:
        registry.background_worker(
            "exports_expiry",
            start="exports.worker.start_scheduler",
            stop="exports.worker.stop_scheduler",
            enabled=lambda: not settings.CELERY_BROKER_URL,  # scale mode runs the expiry job on Celery beat
        )
