from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"

    def ready(self) -> None:
        from flags import openapi, signals  # noqa: F401  (cache invalidation receivers, spec extension)
        from posthog_clone import registry

        # The cohorts API refuses to delete a cohort an active flag uses.
        registry.reference_users("cohort", "flags.selectors.active_flags_using_cohort")
