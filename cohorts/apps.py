from django.apps import AppConfig
from django.conf import settings


class CohortsConfig(AppConfig):
    name = "cohorts"

    def ready(self) -> None:
        from posthog_clone import registry

        # Queries name cohorts (IN COHORT, cohort property filters, cohort breakdowns) by id or name.
        registry.query_reference("cohort", "cohorts.selectors.cohort_for_query")
        # Calculations in the embedded default; scale mode runs cohorts.tasks on Celery (worker + beat).
        registry.background_worker(
            "cohorts",
            start="cohorts.worker.start_background_worker",
            stop="cohorts.worker.stop_background_worker",
            enabled=lambda: not settings.CELERY_BROKER_URL,
        )
