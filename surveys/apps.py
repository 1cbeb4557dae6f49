from django.apps import AppConfig
from django.conf import settings


class SurveysConfig(AppConfig):
    name = "surveys"

    def ready(self) -> None:
        from posthog_clone import registry
        from surveys import signals  # noqa: F401  (the served-surveys cache is cleared on every survey write)

        # The `surveys` value of posthog-js's remote config (/flags, /decide, /array/<token>/config(.js)).
        registry.remote_config_part("surveys", "surveys.selectors.surveys_remote_config")
        # Surveys that reached their responses limit stop: embedded here, on Celery beat in scale mode.
        registry.background_worker(
            "surveys",
            start="surveys.worker.start_background_worker",
            stop="surveys.worker.stop_background_worker",
            enabled=lambda: not settings.CELERY_BROKER_URL,
        )
