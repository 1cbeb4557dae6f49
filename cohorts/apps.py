from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"

    def ready(self) -> None:
        from posthog_clone import registry

        # Queries name cohorts (IN COHORT, cohort property filters, cohort breakdowns) by id or name.
        registry.query_reference("cohort", "cohorts.selectors.cohort_for_query")
