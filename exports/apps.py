from django.apps import AppConfig
from django.conf import settings

from posthog_clone import registry


class ExportsConfig(AppConfig):
    name = "exports"

    def ready(self) -> None:
        from exports import worker

        # scale mode runs the expiry job on Celery beat instead
        registry.background_worker(
            "exports_expiry",
            start=worker.start_scheduler,
            stop=worker.stop_scheduler,
            enabled=lambda: not settings.CELERY_BROKER_URL,
        )
